# PASSES: cluster<outliers=0.7>
# EXPECT-ERROR: pass 'cluster': option 'outliers' must be a fraction in [0, 0.5), not 0.7
graph @c opset 17 {
  input %x : f32[1,4]
  const %w : f32[4,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5, -1, -1, 0.5>
  %y : f32[1,3] = MatMul(%x, %w)
  output %y
}
