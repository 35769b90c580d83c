# PASSES: lowrank<ops=conv+lstm>
# EXPECT-ERROR: pass 'lowrank': option 'ops': 'lstm' is not conv, gemm, matmul or all (join with +)
graph @e opset 17 {
  input %x : f32[2,3]
  const %w : f32[3,4] = dense<1>
  %y : f32[2,4] = MatMul(%x, %w)
  output %y
}
