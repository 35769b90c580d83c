# PASSES: fold-batchnorm
# The conv's output is also read by the Relu: folding would change what the
# Relu sees, so nothing happens. Statistics that are not constants: same.
# CHECK: Conv(%x, %w)
# CHECK: BatchNormalization(%c,
# CHECK: Relu(%c)
# CHECK: BatchNormalization(%c2, %gamma2,
graph @bn opset 17 {
  input %x : f32[1,1,2,2]
  input %gamma2 : f32[2]
  const %w : f32[2,1,1,1] = dense<1>
  const %gamma : f32[2] = dense<2, 3>
  const %beta : f32[2] = dense<0.5, 0>
  const %mean : f32[2] = dense<1, 0>
  const %var : f32[2] = dense<3, 0>
  %c : f32[1,2,2,2] = Conv(%x, %w) {kernel_shape = [1, 1]}
  %y : f32[1,2,2,2] = BatchNormalization(%c, %gamma, %beta, %mean, %var)
  %r : f32[1,2,2,2] = Relu(%c)
  %c2 : f32[1,2,2,2] = Conv(%x, %w) {kernel_shape = [1, 1]}
  %y2 : f32[1,2,2,2] = BatchNormalization(%c2, %gamma2, %beta, %mean, %var)
  output %y
  output %r
  output %y2
}
