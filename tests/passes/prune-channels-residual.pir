# PASSES: prune-channels<ratio=0.5;round=1;min-channels=1;score-consumers=0>
# A residual Add joins the outputs of two convs: they form one group and
# drop the same channels. Per producer the row norms are divided by their
# mean, so %w2, 10x larger, does not outvote %w1: [1,1,4,8]/3.5 +
# [40,10,20,10]/20 = [2.29, 0.79, 2.14, 2.79] keeps channels 0 and 3 (plain
# norms, [41, 11, 24, 18], would keep 0 and 2).
# CHECK-DAG: const %w1.pruned : f32[2,1,1,1] = dense<1, 8>
# CHECK-DAG: const %w2.pruned : f32[2,1,1,1] = dense<40, 10>
# CHECK-DAG: const %w3.pruned : f32[1,2,1,1] = dense<1, 4>
# CHECK: %c1 : f32[1,2,2,2] = Conv(%x, %w1.pruned) {kernel_shape = [1, 1] : ints} @p1
# CHECK-NEXT: %c2 : f32[1,2,2,2] = Conv(%x, %w2.pruned) {kernel_shape = [1, 1] : ints} @p2
# CHECK-NEXT: %s : f32[1,2,2,2] = Add(%c1, %c2)
# CHECK-NEXT: %r : f32[1,2,2,2] = Relu(%s)
# CHECK-NEXT: %y : f32[1,1,2,2] = Conv(%r, %w3.pruned) {kernel_shape = [1, 1] : ints} @c3
graph @res opset 17 {
  input %x : f32[1,1,2,2]
  const %w1 : f32[4,1,1,1] = dense<1, 1, 4, 8>
  const %w2 : f32[4,1,1,1] = dense<40, 10, 20, 10>
  const %w3 : f32[1,4,1,1] = dense<1, 2, 3, 4>
  %c1 : f32[1,4,2,2] = Conv(%x, %w1) {kernel_shape = [1, 1]} @p1
  %c2 : f32[1,4,2,2] = Conv(%x, %w2) {kernel_shape = [1, 1]} @p2
  %s : f32[1,4,2,2] = Add(%c1, %c2)
  %r : f32[1,4,2,2] = Relu(%s)
  %y : f32[1,1,2,2] = Conv(%r, %w3) {kernel_shape = [1, 1]} @c3
  output %y
}
