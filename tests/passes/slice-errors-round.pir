# PASSES: slice<round=0>
# EXPECT-ERROR: pass 'slice': option 'round' must be >= 1, not 0
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
