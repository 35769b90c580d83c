# PASSES: prune<pattern=3:2>
# EXPECT-ERROR: pass 'prune': option 'pattern' expects an N:M pattern (e.g. 2:4) or none, not '3:2'
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
