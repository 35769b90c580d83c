# PASSES: lowrank<rank=2;ops=gemm+matmul>
# A fixed rank: 2 for every layer that still saves at 2, here a MatMul
# [4,6] (2 * 10 < 24) and a Gemm with transB (same weight, so the factors
# of the second get a suffix). ops lists the ops with '+'.
# CHECK-DAG: const %w.u : f32[4,2] =
# CHECK-DAG: const %w.v : f32[2,6] =
# CHECK-DAG: const %w.u.2 : f32[6,2] =
# CHECK-DAG: const %w.v.2 : f32[2,4] =
# CHECK: %mm.lr1 : f32[3,2] = MatMul(%a, %w.u) @mm.lr1
# CHECK-NEXT: %y : f32[3,6] = MatMul(%mm.lr1, %w.v) @mm
# CHECK-NEXT: %fc.lr1 : f32[3,2] = Gemm(%b, %w.u.2) @fc.lr1
# CHECK-NEXT: %z : f32[3,4] = Gemm(%fc.lr1, %w.v.2) @fc
graph @o opset 17 {
  input %a : f32[3,4]
  input %b : f32[3,6]
  const %w : f32[4,6] = dense<1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 4, 0, 0>
  %y : f32[3,6] = MatMul(%a, %w) @mm
  %z : f32[3,4] = Gemm(%b, %w) {transB = 1} @fc
  output %y
  output %z
}
