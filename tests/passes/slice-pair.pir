# PASSES: slice<ratio=0.5;round=1;pca=weights>
# A linear pair, MatMul (+ bias) then MatMul, nothing between: the middle
# (width 4) is rotated by the PCA of W1^T W1 = diag(9, 0, 1, 0) (pca=weights,
# no calibration data, uncentered: nothing normalizes it) and its weakest 2
# directions go. The eigenvectors are e0 and e2, so the kept coordinates are
# middle channels 0 and 2: W1's columns, b1's entries and W2's rows.
# CHECK-DAG: const %w1.sliced : f32[2,2] = dense<3, 0, 0, 1>
# CHECK-DAG: const %b1.sliced : f32[2] = dense<0.5, 0.7>
# CHECK-DAG: const %w2.sliced : f32[2,3] = dense<1, 2, 3, 7, 8, 9>
# CHECK: %m : f32[5,2] = MatMul(%x, %w1.sliced) @mm1
# CHECK-NEXT: %a : f32[5,2] = Add(%m, %b1.sliced)
# CHECK-NEXT: %y : f32[5,3] = MatMul(%a, %w2.sliced) @mm2
graph @pair opset 17 {
  input %x : f32[5,2]
  const %w1 : f32[2,4] = dense<3, 0, 0, 0, 0, 0, 1, 0>
  const %b1 : f32[4] = dense<0.5, 0.6, 0.7, 0.8>
  const %w2 : f32[4,3] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>
  %m : f32[5,4] = MatMul(%x, %w1) @mm1
  %a : f32[5,4] = Add(%m, %b1)
  %y : f32[5,3] = MatMul(%a, %w2) @mm2
  output %y
}
