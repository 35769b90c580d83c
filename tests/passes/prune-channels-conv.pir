# PASSES: prune-channels<ratio=0.5;round=1;min-channels=1;score-consumers=0>
# conv -> relu -> conv. %w1's output channels have L2 norms 1, 3, 0.5, 2:
# half of the 4 go, so channels 1 and 3 stay (in order). The producer keeps
# rows 1 and 3 of its weight and bias, the consumer columns 1 and 3 of each
# of its rows; the values between get 2 channels and the consumer's output
# keeps its shape.
# CHECK-DAG: const %w1.pruned : f32[2,2,1,1] = dense<3, 0, 0, 2>
# CHECK-DAG: const %b1.pruned : f32[2] = dense<0.2, 0.4>
# CHECK-DAG: const %w2.pruned : f32[3,2,1,1] = dense<2, 4, 6, 8, 10, 12>
# CHECK-NOT: const %w1 :
# CHECK: %c1 : f32[1,2,2,2] = Conv(%x, %w1.pruned, %b1.pruned) {kernel_shape = [1, 1] : ints} @conv1
# CHECK-NEXT: %r : f32[1,2,2,2] = Relu(%c1)
# CHECK-NEXT: %y : f32[1,3,2,2] = Conv(%r, %w2.pruned, %b2) {kernel_shape = [1, 1] : ints} @conv2
graph @chain opset 17 {
  input %x : f32[1,2,2,2]
  const %w1 : f32[4,2,1,1] = dense<1, 0, 3, 0, 0, 0.5, 0, 2>
  const %b1 : f32[4] = dense<0.1, 0.2, 0.3, 0.4>
  const %w2 : f32[3,4,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>
  const %b2 : f32[3] = dense<1, 2, 3>
  %c1 : f32[1,4,2,2] = Conv(%x, %w1, %b1) {kernel_shape = [1, 1]} @conv1
  %r : f32[1,4,2,2] = Relu(%c1)
  %y : f32[1,3,2,2] = Conv(%r, %w2, %b2) {kernel_shape = [1, 1]} @conv2
  output %y
}
