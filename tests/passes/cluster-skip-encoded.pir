# PASSES: prune<sparsity=0.5;ops=gemm>,cluster<bits=1;normalize=none;per-channel=0>
# A weight that already has an encoding (here %a, sparse after prune) is
# left as it is; the MatMul's %b is clustered.
# CHECK: const %a : f32[2,2] = dense<0, 2, 0, -4> sparse<nm_n=0, nm_m=0>
# CHECK-NEXT: const %b : f32[2,2] = dense<1, 1, 3, 3> codebook<bits=1, axis=-1>
graph @c opset 17 {
  input %x : f32[1,2]
  const %a : f32[2,2] = dense<1, 2, -1, -4>
  const %b : f32[2,2] = dense<1, 1, 3, 3>
  %y : f32[1,2] = Gemm(%x, %a)
  %z : f32[1,2] = MatMul(%y, %b)
  output %z
}
