# PASSES: quantize<group=48>
# EXPECT-ERROR: pass 'quantize': option 'group': 48 is not 0 (whole channel), 16, 32, 64 or 128
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
