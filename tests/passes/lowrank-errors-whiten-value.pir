# PASSES: lowrank<whiten=svd>
# EXPECT-ERROR: pass 'lowrank': option 'whiten' must be one of auto|none|cholesky, not 'svd'
graph @e opset 17 {
  input %x : f32[2,3]
  const %w : f32[3,4] = dense<1>
  %y : f32[2,4] = MatMul(%x, %w)
  output %y
}
