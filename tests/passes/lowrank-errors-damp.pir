# PASSES: lowrank<damp=0>
# EXPECT-ERROR: pass 'lowrank': option 'damp' must be in (0, 1)
graph @e opset 17 {
  input %x : f32[2,3]
  const %w : f32[3,4] = dense<1>
  %y : f32[2,4] = MatMul(%x, %w)
  output %y
}
