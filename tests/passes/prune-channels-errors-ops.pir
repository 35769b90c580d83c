# PASSES: prune-channels<ops=conv+dense>
# EXPECT-ERROR: pass 'prune-channels': option 'ops': 'dense' is not conv, gemm, matmul or all (join with +)
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
