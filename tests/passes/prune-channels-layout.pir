# PASSES: prune-channels<ratio=0.5;round=1;min-channels=1;score-consumers=0;layers=mm>
# A group passes through Squeeze and Transpose (the channel axis moves from
# 1 of [1, C, 1, W] to the last of [1, W, C]) to a MatMul, as the
# PP-OCRv4 recognizer's head does. layers=mm prunes only the group the
# MatMul consumes: conv2's rows (norms 1, 4, 2, 8: rows 1 and 3 stay) and
# the MatMul's rows; conv1's group (read by conv2) stays whole.
# CHECK-DAG: const %w2.pruned : f32[2,4,1,1] = dense<0, 4, 0, 0, 0, 0, 0, 8>
# CHECK-DAG: const %w3.pruned : f32[2,2] = dense<3, 4, 7, 8>
# CHECK: %h1 : f32[1,4,1,3] = Conv(%x, %w1) @conv1
# CHECK: %h2 : f32[1,2,1,3] = Conv(%r1, %w2.pruned) @conv2
# CHECK-NEXT: %sq : f32[1,2,3] = Squeeze(%h2, %ax)
# CHECK-NEXT: %tr : f32[1,3,2] = Transpose(%sq) {perm = [0, 2, 1] : ints}
# CHECK-NEXT: %y : f32[1,3,2] = MatMul(%tr, %w3.pruned) @mm
graph @head opset 17 {
  input %x : f32[1,2,1,3]
  const %w1 : f32[4,2,1,1] = dense<1, 0, 0, 1, 1, 1, 2, 0>
  const %w2 : f32[4,4,1,1] = dense<1, 0, 0, 0, 0, 4, 0, 0, 0, 0, 2, 0, 0, 0, 0, 8>
  const %w3 : f32[4,2] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  const %ax : i64[1] = dense<2>
  %h1 : f32[1,4,1,3] = Conv(%x, %w1) @conv1
  %r1 : f32[1,4,1,3] = Relu(%h1)
  %h2 : f32[1,4,1,3] = Conv(%r1, %w2) @conv2
  %sq : f32[1,4,3] = Squeeze(%h2, %ax)
  %tr : f32[1,3,4] = Transpose(%sq) {perm = [0, 2, 1]}
  %y : f32[1,3,2] = MatMul(%tr, %w3) @mm
  output %y
}
