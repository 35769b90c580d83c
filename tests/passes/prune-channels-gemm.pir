# PASSES: prune-channels<ratio=0.5;round=1;min-channels=1;score-consumers=0>
# An MLP: Gemm (transB: W1 [N, K]) -> Relu -> MatMul (W2 [K, N]) -> Add
# bias -> Gemm (transB). Two groups: Gemm %g1's rows of W1 (norms 1, 5, 2,
# 3: rows 1 and 3 stay) with the MatMul's rows of W2 along K; and the
# MatMul's columns of W2 (norms 1, 2, 3, 4: columns 2 and 3 stay) with the
# bias and the last Gemm's columns of W3 along K. W2 loses both.
# CHECK-DAG: const %w1.pruned : f32[2,3] = dense<0, 5, 0, 3, 0, 0>
# CHECK-DAG: const %w2.pruned : f32[2,2] = dense<3, 0, 0, 4>
# CHECK-DAG: const %b.pruned : f32[2] = dense<0.3, 0.4>
# CHECK-DAG: const %w3.pruned : f32[2,2] = dense<3, 4, 7, 8>
# CHECK: %h : f32[2,2] = Gemm(%x, %w1.pruned) {transB = 1 : int} @g1
# CHECK-NEXT: %r : f32[2,2] = Relu(%h)
# CHECK-NEXT: %m : f32[2,2] = MatMul(%r, %w2.pruned) @mm
# CHECK-NEXT: %a : f32[2,2] = Add(%m, %b.pruned)
# CHECK-NEXT: %y : f32[2,2] = Gemm(%a, %w3.pruned) {transB = 1 : int} @g3
graph @mlp opset 17 {
  input %x : f32[2,3]
  const %w1 : f32[4,3] = dense<1, 0, 0, 0, 5, 0, 0, 0, 2, 3, 0, 0>
  const %w2 : f32[4,4] = dense<1, 0, 0, 0, 0, 0, 3, 0, 0, 2, 0, 0, 0, 0, 0, 4>
  const %b : f32[4] = dense<0.1, 0.2, 0.3, 0.4>
  const %w3 : f32[2,4] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  %h : f32[2,4] = Gemm(%x, %w1) {transB = 1} @g1
  %r : f32[2,4] = Relu(%h)
  %m : f32[2,4] = MatMul(%r, %w2) @mm
  %a : f32[2,4] = Add(%m, %b)
  %y : f32[2,2] = Gemm(%a, %w3) {transB = 1} @g3
  output %y
}
