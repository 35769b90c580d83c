# PASSES: prune-channels<ratio=0.5;round=1;min-channels=1>
# Groups whose values reach something the pass cannot follow are left
# alone: %c1 reaches a Reshape, %c2 is a graph output, %c3 is read by a
# Concat, and %c4 is added to a graph input (a value from outside the
# group). Only %c5 -> Relu -> %w6 is pruned (its output, a graph output,
# is not).
# CHECK-DAG: const %w1 : f32[4,1,1,1] = dense<1, 2, 3, 4>
# CHECK-DAG: const %w2 : f32[4,1,1,1] = dense<1, 2, 3, 4>
# CHECK-DAG: const %w3 : f32[4,1,1,1] = dense<1, 2, 3, 4>
# CHECK-DAG: const %w4 : f32[4,1,1,1] = dense<1, 2, 3, 4>
# CHECK-DAG: const %w5.pruned : f32[2,1,1,1] = dense<3, 4>
# CHECK-DAG: const %w6.pruned : f32[4,2,1,1] = dense<3, 4, 7, 8, 11, 12, 15, 16>
# CHECK: %r1 : f32[1,4,2,2] = Relu(%c1)
# CHECK: %k : f32[1,8,2,2] = Concat(%c3, %c3) {axis = 1 : int}
# CHECK: %s4 : f32[1,4,2,2] = Add(%c4, %z)
# CHECK: %c5 : f32[1,2,2,2] = Conv(%x, %w5.pruned) {kernel_shape = [1, 1] : ints} @p5
# CHECK-NEXT: %r5 : f32[1,2,2,2] = Relu(%c5)
# CHECK-NEXT: %y6 : f32[1,4,2,2] = Conv(%r5, %w6.pruned) {kernel_shape = [1, 1] : ints} @p6
graph @skip opset 17 {
  input %x : f32[1,1,2,2]
  input %z : f32[1,4,2,2]
  const %w1 : f32[4,1,1,1] = dense<1, 2, 3, 4>
  const %w2 : f32[4,1,1,1] = dense<1, 2, 3, 4>
  const %w3 : f32[4,1,1,1] = dense<1, 2, 3, 4>
  const %w4 : f32[4,1,1,1] = dense<1, 2, 3, 4>
  const %w5 : f32[4,1,1,1] = dense<1, 2, 3, 4>
  const %w6 : f32[4,4,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16>
  const %shape : i64[2] = dense<1, 16>
  %c1 : f32[1,4,2,2] = Conv(%x, %w1) {kernel_shape = [1, 1]} @p1
  %r1 : f32[1,4,2,2] = Relu(%c1)
  %f : f32[1,16] = Reshape(%r1, %shape)
  %c2 : f32[1,4,2,2] = Conv(%x, %w2) {kernel_shape = [1, 1]} @p2
  %c3 : f32[1,4,2,2] = Conv(%x, %w3) {kernel_shape = [1, 1]} @p3
  %k : f32[1,8,2,2] = Concat(%c3, %c3) {axis = 1}
  %c4 : f32[1,4,2,2] = Conv(%x, %w4) {kernel_shape = [1, 1]} @p4
  %s4 : f32[1,4,2,2] = Add(%c4, %z)
  %c5 : f32[1,4,2,2] = Conv(%x, %w5) {kernel_shape = [1, 1]} @p5
  %r5 : f32[1,4,2,2] = Relu(%c5)
  %y6 : f32[1,4,2,2] = Conv(%r5, %w6) {kernel_shape = [1, 1]} @p6
  output %f
  output %c2
  output %k
  output %s4
  output %y6
}
