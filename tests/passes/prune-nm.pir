# PASSES: prune<pattern=2:4>
# 2:4 along the reduction dim: a conv's weight [CO, C*KH*KW] in groups of 4
# consecutive elements of a row (ties go to the first: row 1's second group
# is all |1|); a Gemm's B without transB ([K, N]) in groups of 4 down each
# column. nm_n/nm_m record the pattern; sparsity is then ignored.
# CHECK: const %w : f32[2,1,2,4] = dense<0, -0.5, 0.3, 0, 0, 2, -3, 0, 4, 3, 0, 0, -1, 1, 0, 0> sparse<nm_n=2, nm_m=4> {row_ptr = i64[3] dense<0, 4, 8>, col_idx = i32[8] dense<1, 2, 5, 6, 0, 1, 4, 5>, values = f32[8] dense<-0.5, 0.3, 2, -3, 4, 3, -1, 1>}
# CHECK-NEXT: const %v : f32[4,2] = dense<0, 0, -3, 0, 2, 0.3, 0, 0.4> sparse<nm_n=2, nm_m=4> {row_ptr = i64[5] dense<0, 0, 1, 3, 4>, col_idx = i32[4] dense<0, 0, 1, 1>, values = f32[4] dense<-3, 2, 0.3, 0.4>}
graph @nm opset 17 {
  input %x : f32[1,1,3,5]
  input %f : f32[3,4]
  const %w : f32[2,1,2,4] = dense<0.1, -0.5, 0.3, 0.2, 1, 2, -3, 0.5, 4, 3, 2, 1, -1, 1, -1, 1>
  const %v : f32[4,2] = dense<1, 0.1, -3, 0.2, 2, 0.3, 0.5, 0.4>
  %c : f32[1,2,2,2] = Conv(%x, %w) {kernel_shape = [2, 4] : ints}
  %g : f32[3,2] = Gemm(%f, %v)
  output %c
  output %g
}
