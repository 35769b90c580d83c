# PASSES: cluster<bits=9>
# EXPECT-ERROR: pass 'cluster': option 'bits' must be in 1..8, not 9
graph @c opset 17 {
  input %x : f32[1,4]
  const %w : f32[4,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5, -1, -1, 0.5>
  %y : f32[1,3] = MatMul(%x, %w)
  output %y
}
