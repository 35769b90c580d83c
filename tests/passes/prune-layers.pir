# PASSES: prune<sparsity=0.5;layers=mm>
# layers=: only the MatMul @mm is pruned (as in prune-layer.pir); the Gemm
# @gemm keeps every weight, unencoded.
# CHECK: const %w1 : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>{{$}}
# CHECK: const %w2 : f32[2,4] = dense<0, 0, 30, 0, 0, 50, 60, -80> sparse<nm_n=0, nm_m=0> {row_ptr = i64[3] dense<0, 1, 4>, col_idx = i32[4] dense<2, 1, 2, 3>, values = f32[4] dense<30, 50, 60, -80>}
graph @prune opset 17 {
  input %x : f32[3,4]
  const %w1 : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>
  const %b : f32[2] = dense<0.5, -0.5>
  const %w2 : f32[2,4] = dense<10, -20, 30, 5, 1, 50, 60, -80>
  %g : f32[3,2] = Gemm(%x, %w1, %b) {transB = 1 : int} @gemm
  %y : f32[3,4] = MatMul(%g, %w2) @mm
  output %y
}
