# PASSES: prune<sparsity=0.5>
# Layer-wise magnitude pruning: each weight loses its 4 smallest |w| of 8,
# whatever the other layer's scale. %w1 (Gemm, transB: [N, K]) keeps -0.8,
# 0.3, 2 and 0.7; %w2 (MatMul: [K, N], 100x larger) keeps 30, 50, 60 and
# -80. Both become CSR over [dim0, rest] (row_ptr, col_idx, values; zeros
# not stored) and the dense value keeps the zeros. The bias is not a weight.
# CHECK: const %w1 : f32[2,4] = dense<0, -0.8, 0.3, 0, 2, 0, 0.7, 0> sparse<nm_n=0, nm_m=0> {row_ptr = i64[3] dense<0, 2, 4>, col_idx = i32[4] dense<1, 2, 0, 2>, values = f32[4] dense<-0.8, 0.3, 2, 0.7>}
# CHECK-NEXT: const %b : f32[2] = dense<0.5, -0.5>
# CHECK-NEXT: const %w2 : f32[2,4] = dense<0, 0, 30, 0, 0, 50, 60, -80> sparse<nm_n=0, nm_m=0> {row_ptr = i64[3] dense<0, 1, 4>, col_idx = i32[4] dense<2, 1, 2, 3>, values = f32[4] dense<30, 50, 60, -80>}
# CHECK: Gemm(%x, %w1, %b)
# CHECK: MatMul(%g, %w2)
graph @prune opset 17 {
  input %x : f32[3,4]
  const %w1 : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>
  const %b : f32[2] = dense<0.5, -0.5>
  const %w2 : f32[2,4] = dense<10, -20, 30, 5, 1, 50, 60, -80>
  %g : f32[3,2] = Gemm(%x, %w1, %b) {transB = 1 : int}
  %y : f32[3,4] = MatMul(%g, %w2)
  output %y
}
