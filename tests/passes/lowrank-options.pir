# PASSES: lowrank<ops=matmul;energy=1;ratio=0.25>
# ops=matmul leaves the Gemm alone; energy=1 would keep the full rank 4 of
# this [4,6] weight (no saving), but ratio=0.25 caps it at 1.
# CHECK-DAG: const %w.u : f32[4,1] =
# CHECK-DAG: const %w.v : f32[1,6] =
# CHECK: %mm.lr1 : f32[3,1] = MatMul(%a, %w.u) @mm.lr1
# CHECK-NEXT: %y : f32[3,6] = MatMul(%mm.lr1, %w.v) @mm
# CHECK-NEXT: %z : f32[3,6] = Gemm(%a, %w) @fc
graph @o opset 17 {
  input %a : f32[3,4]
  const %w : f32[4,6] = dense<1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 4, 0, 0>
  %y : f32[3,6] = MatMul(%a, %w) @mm
  %z : f32[3,6] = Gemm(%a, %w) @fc
  output %y
  output %z
}
