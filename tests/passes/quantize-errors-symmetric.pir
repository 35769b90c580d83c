# PASSES: quantize<bits=1;symmetric=1>
# EXPECT-ERROR: pass 'quantize': option 'bits': symmetric quantization needs at least 2 bits
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
