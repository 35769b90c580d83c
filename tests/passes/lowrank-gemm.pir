# PASSES: lowrank
# W = u v^T with u = (1,2,2), v = (2,1,1,1,1,1) is exactly rank 1, sigma =
# |u||v| = 9: the symmetric split gives U = u/|u| * 3 = u and V = v, exact in
# f32 (the pass makes the largest entry of each U column positive, so the
# signs are fixed too). The bias, alpha and beta stay on the second Gemm,
# which keeps the node's name and output; the first is named after it.
# CHECK-LABEL: graph @g
# CHECK-NOT: const %w :
# CHECK: const %w.u : f32[3,1] = dense<1, 2, 2>
# CHECK-NEXT: const %w.v : f32[1,6] = dense<2, 1, 1, 1, 1, 1>
# With transA/transB (an unnamed node, so named after its output): U and V
# come out the same, transA moves to the first Gemm, transB goes.
# CHECK-NEXT: const %w2.u : f32[3,1] = dense<1, 2, 2>
# CHECK-NEXT: const %w2.v : f32[1,6] = dense<2, 1, 1, 1, 1, 1>
# CHECK-NOT: const %w2 :
# CHECK: %fc.lr1 : f32[2,1] = Gemm(%a, %w.u) @fc.lr1
# CHECK-NEXT: %y : f32[2,6] = Gemm(%fc.lr1, %w.v, %c) {alpha = 2 : float, beta = 0.5 : float} @fc
# CHECK-NEXT: %z.lr1 : f32[2,1] = Gemm(%at, %w2.u) {transA = 1 : int} @z.lr1
# CHECK-NEXT: %z : f32[2,6] = Gemm(%z.lr1, %w2.v)
# A full-rank weight (the identity) cannot be factorized with a saving.
# CHECK-NEXT: %k : f32[2,3] = Gemm(%a, %eye)
# CHECK-NEXT: output %y
graph @g opset 17 {
  input %a : f32[2,3]
  input %at : f32[3,2]
  const %w : f32[3,6] = dense<2, 1, 1, 1, 1, 1, 4, 2, 2, 2, 2, 2, 4, 2, 2, 2, 2, 2>
  const %w2 : f32[6,3] = dense<2, 4, 4, 1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 2, 2>
  const %c : f32[6] = dense<0.5>
  const %eye : f32[3,3] = dense<1, 0, 0, 0, 1, 0, 0, 0, 1>
  %y : f32[2,6] = Gemm(%a, %w, %c) {alpha = 2.0, beta = 0.5} @fc
  %z : f32[2,6] = Gemm(%at, %w2) {transA = 1, transB = 1}
  %k : f32[2,3] = Gemm(%a, %eye)
  output %y
  output %z
  output %k
}
