# PASSES: prune-channels<ratio=0.5;round=1;min-channels=1;score-consumers=0>
# Concats the pass cannot follow keep their groups whole (decision
# "skipped" with the reason): %cat on another axis than the channels
# (axis 2, the height: "Concat 'cat' concatenates along another axis than
# the channels"), %cat4 of one group twice (%c4 and its Relu: "Concat
# 'cat4' concatenates its channels twice") and %cat8, a channel
# concatenation read by a Softmax ("Softmax 's8' reads a concatenation of
# channels"), as --report shows (tests/unit/test_calib.c checks the first
# text). Their consumers are not sliced, while %c5 -> %c6 beside them is
# pruned.
# CHECK-DAG: const %w1 : f32[4,1,1,1] = dense<1, 3, 0.5, 2>
# CHECK-DAG: const %w2 : f32[4,1,1,1] = dense<5, 7, 1, 2>
# CHECK-DAG: const %w3 : f32[2,4,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8>
# CHECK-DAG: const %w4 : f32[4,1,1,1] = dense<1, 3, 0.5, 2>
# CHECK-DAG: const %w7 : f32[1,8,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8>
# CHECK-DAG: const %w8 : f32[4,1,1,1] = dense<1, 3, 0.5, 2>
# CHECK-DAG: const %w9 : f32[4,1,1,1] = dense<5, 7, 1, 2>
# CHECK-DAG: const %w5.pruned : f32[2,1,1,1] = dense<3, 2>
# CHECK-DAG: const %w6.pruned : f32[2,2,1,1] = dense<2, 4, 6, 8>
# CHECK: %k : f32[1,4,4,2] = Concat(%c1, %c2) {axis = 2 : int} @cat
# CHECK-NEXT: %y : f32[1,2,4,2] = Conv(%k, %w3) {kernel_shape = [1, 1] : ints} @c3
# CHECK: %k4 : f32[1,8,2,2] = Concat(%c4, %r4) {axis = 1 : int} @cat4
# CHECK-NEXT: %y4 : f32[1,1,2,2] = Conv(%k4, %w7) {kernel_shape = [1, 1] : ints} @c7
# CHECK: %c5 : f32[1,2,2,2] = Conv(%x, %w5.pruned) {kernel_shape = [1, 1] : ints} @p5
# CHECK-NEXT: %y6 : f32[1,2,2,2] = Conv(%c5, %w6.pruned) {kernel_shape = [1, 1] : ints} @p6
# CHECK: %k8 : f32[1,8,2,2] = Concat(%c8, %c9) {axis = 1 : int} @cat8
# CHECK-NEXT: %s8 : f32[1,8,2,2] = Softmax(%k8) {axis = 1 : int} @s8
graph @concat_skip opset 17 {
  input %x : f32[1,1,2,2]
  const %w1 : f32[4,1,1,1] = dense<1, 3, 0.5, 2>
  const %w2 : f32[4,1,1,1] = dense<5, 7, 1, 2>
  const %w3 : f32[2,4,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  const %w4 : f32[4,1,1,1] = dense<1, 3, 0.5, 2>
  const %w7 : f32[1,8,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  const %w5 : f32[4,1,1,1] = dense<1, 3, 0.5, 2>
  const %w6 : f32[2,4,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  const %w8 : f32[4,1,1,1] = dense<1, 3, 0.5, 2>
  const %w9 : f32[4,1,1,1] = dense<5, 7, 1, 2>
  %c1 : f32[1,4,2,2] = Conv(%x, %w1) {kernel_shape = [1, 1]} @p1
  %c2 : f32[1,4,2,2] = Conv(%x, %w2) {kernel_shape = [1, 1]} @p2
  %k : f32[1,4,4,2] = Concat(%c1, %c2) {axis = 2} @cat
  %y : f32[1,2,4,2] = Conv(%k, %w3) {kernel_shape = [1, 1]} @c3
  %c4 : f32[1,4,2,2] = Conv(%x, %w4) {kernel_shape = [1, 1]} @p4
  %r4 : f32[1,4,2,2] = Relu(%c4)
  %k4 : f32[1,8,2,2] = Concat(%c4, %r4) {axis = 1} @cat4
  %y4 : f32[1,1,2,2] = Conv(%k4, %w7) {kernel_shape = [1, 1]} @c7
  %c5 : f32[1,4,2,2] = Conv(%x, %w5) {kernel_shape = [1, 1]} @p5
  %y6 : f32[1,2,2,2] = Conv(%c5, %w6) {kernel_shape = [1, 1]} @p6
  %c8 : f32[1,4,2,2] = Conv(%x, %w8) {kernel_shape = [1, 1]} @p8
  %c9 : f32[1,4,2,2] = Conv(%x, %w9) {kernel_shape = [1, 1]} @p9
  %k8 : f32[1,8,2,2] = Concat(%c8, %c9) {axis = 1} @cat8
  %s8 : f32[1,8,2,2] = Softmax(%k8) {axis = 1} @s8
  output %y
  output %y4
  output %y6
  output %s8
}
