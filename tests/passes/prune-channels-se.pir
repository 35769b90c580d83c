# PASSES: prune-channels<ratio=0.5;round=1;min-channels=2;score-consumers=0>
# A squeeze-excitation block: conv %p -> Relu %a -> GlobalAveragePool ->
# conv %se1 -> Relu -> conv %se2 -> HardSigmoid -> Mul with %a -> conv %c2.
# %se1 consumes the main group (its input channels are sliced) and starts
# its own group of 2, which min-channels keeps whole; %se2 produces into the
# main group through the Mul, so it loses the same channels as %p. Scores
# add each producer's row norms divided by its mean: %p [1,1,4,8]/3.5 +
# %se2 [4,1,2,1]/2 = [2.29, 0.79, 2.14, 2.79]: channels 0 and 3 stay.
# CHECK-DAG: const %wp.pruned : f32[2,1,1,1] = dense<1, 8>
# CHECK-DAG: const %wse1.pruned : f32[2,2,1,1] = dense<1, 4, 5, 8>
# CHECK-DAG: const %wse2.pruned : f32[2,2,1,1] = dense<4, 0, 0, 1>
# CHECK-DAG: const %bse2.pruned : f32[2] = dense<0.1, 0.4>
# CHECK-DAG: const %wc2.pruned : f32[2,2,1,1] = dense<10, 40, 50, 80>
# CHECK: %c : f32[1,2,3,3] = Conv(%x, %wp.pruned) {kernel_shape = [1, 1] : ints} @p
# CHECK-NEXT: %a : f32[1,2,3,3] = Relu(%c)
# CHECK-NEXT: %g : f32[1,2,1,1] = GlobalAveragePool(%a)
# CHECK-NEXT: %s1 : f32[1,2,1,1] = Conv(%g, %wse1.pruned) {kernel_shape = [1, 1] : ints} @se1
# CHECK-NEXT: %r1 : f32[1,2,1,1] = Relu(%s1)
# CHECK-NEXT: %s2 : f32[1,2,1,1] = Conv(%r1, %wse2.pruned, %bse2.pruned) {kernel_shape = [1, 1] : ints} @se2
# CHECK-NEXT: %hs : f32[1,2,1,1] = HardSigmoid(%s2)
# CHECK-NEXT: %m : f32[1,2,3,3] = Mul(%a, %hs)
# CHECK-NEXT: %y : f32[1,2,3,3] = Conv(%m, %wc2.pruned) {kernel_shape = [1, 1] : ints} @c2
graph @se opset 17 {
  input %x : f32[1,1,3,3]
  const %wp : f32[4,1,1,1] = dense<1, 1, 4, 8>
  const %wse1 : f32[2,4,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  const %wse2 : f32[4,2,1,1] = dense<4, 0, 0, 1, 2, 0, 0, 1>
  const %bse2 : f32[4] = dense<0.1, 0.2, 0.3, 0.4>
  const %wc2 : f32[2,4,1,1] = dense<10, 20, 30, 40, 50, 60, 70, 80>
  %c : f32[1,4,3,3] = Conv(%x, %wp) {kernel_shape = [1, 1]} @p
  %a : f32[1,4,3,3] = Relu(%c)
  %g : f32[1,4,1,1] = GlobalAveragePool(%a)
  %s1 : f32[1,2,1,1] = Conv(%g, %wse1) {kernel_shape = [1, 1]} @se1
  %r1 : f32[1,2,1,1] = Relu(%s1)
  %s2 : f32[1,4,1,1] = Conv(%r1, %wse2, %bse2) {kernel_shape = [1, 1]} @se2
  %hs : f32[1,4,1,1] = HardSigmoid(%s2)
  %m : f32[1,4,3,3] = Mul(%a, %hs)
  %y : f32[1,2,3,3] = Conv(%m, %wc2) {kernel_shape = [1, 1]} @c2
  output %y
}
