# PASSES: quantize<bits=9>
# EXPECT-ERROR: pass 'quantize': option 'bits': '9' is not 1..8 or auto
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
