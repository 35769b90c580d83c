# PASSES: quantize<outliers=0.5>
# EXPECT-ERROR: pass 'quantize': option 'outliers' must be a fraction in [0, 0.1], not 0.5
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
