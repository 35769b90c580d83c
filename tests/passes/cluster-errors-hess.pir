# PASSES: cluster<weighting=hessian>
# EXPECT-ERROR: pass 'cluster': weighting=hessian needs calibration data
graph @c opset 17 {
  input %x : f32[1,4]
  const %w : f32[4,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5, -1, -1, 0.5>
  %y : f32[1,3] = MatMul(%x, %w)
  output %y
}
