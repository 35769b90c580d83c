# PASSES: slice<heads=-1>
# EXPECT-ERROR: pass 'slice': option 'heads' must be >= 0, not -1
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
