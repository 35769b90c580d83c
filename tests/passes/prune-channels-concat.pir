# PASSES: prune-channels<ratio=0.5;round=1;min-channels=1;score-consumers=0>
# Two conv producers -> Concat on the channel axis -> 1x1 conv. Each input
# group keeps its own channels: %w1's norms 1, 3, 0.5, 2 keep 1 and 3,
# %w2's 5, 7 keep 1. The Concat output keeps the union shifted by each
# input's offset (0 and 4): channels 1, 3 and 5 of 6, so the consumer
# keeps columns 1, 3 and 5 of each of its rows. The Relu before the
# Concat passes %c1's group along.
# CHECK-DAG: const %w1.pruned : f32[2,1,1,1] = dense<3, 2>
# CHECK-DAG: const %b1.pruned : f32[2] = dense<0.2, 0.4>
# CHECK-DAG: const %w2.pruned : f32[1,1,1,1] = dense<7>
# CHECK-DAG: const %w3.pruned : f32[2,3,1,1] = dense<2, 4, 6, 8, 10, 12>
# CHECK-NOT: const %w1 :
# CHECK-NOT: const %w3 :
# CHECK: %c1 : f32[1,2,2,2] = Conv(%x, %w1.pruned, %b1.pruned) {kernel_shape = [1, 1] : ints} @p1
# CHECK-NEXT: %r1 : f32[1,2,2,2] = Relu(%c1)
# CHECK-NEXT: %c2 : f32[1,1,2,2] = Conv(%x, %w2.pruned) {kernel_shape = [1, 1] : ints} @p2
# CHECK-NEXT: %k : f32[1,3,2,2] = Concat(%r1, %c2) {axis = 1 : int}
# CHECK-NEXT: %y : f32[1,2,2,2] = Conv(%k, %w3.pruned, %b3) {kernel_shape = [1, 1] : ints} @c3
graph @concat opset 17 {
  input %x : f32[1,1,2,2]
  const %w1 : f32[4,1,1,1] = dense<1, 3, 0.5, 2>
  const %b1 : f32[4] = dense<0.1, 0.2, 0.3, 0.4>
  const %w2 : f32[2,1,1,1] = dense<5, 7>
  const %w3 : f32[2,6,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>
  const %b3 : f32[2] = dense<1, 2>
  %c1 : f32[1,4,2,2] = Conv(%x, %w1, %b1) {kernel_shape = [1, 1]} @p1
  %r1 : f32[1,4,2,2] = Relu(%c1)
  %c2 : f32[1,2,2,2] = Conv(%x, %w2) {kernel_shape = [1, 1]} @p2
  %k : f32[1,6,2,2] = Concat(%r1, %c2) {axis = 1}
  %y : f32[1,2,2,2] = Conv(%k, %w3, %b3) {kernel_shape = [1, 1]} @c3
  output %y
}
