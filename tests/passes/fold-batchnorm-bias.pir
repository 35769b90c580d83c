# PASSES: fold-batchnorm
# With a conv bias b = [1, -1]: b' = b * s + t = [1 * 1 - 0.5, -1 * 3 + 0] = [0.5, -3].
# A Gemm (transB) folds along its output features the same way.
# CHECK-DAG: const %y.b : f32[2] = dense<0.5, -3>
# CHECK-DAG: const %z.w : f32[2,3] = dense<2, 2, 2, 3, 3, 3>
# CHECK-DAG: const %z.b : f32[2] = dense<-0.5, 0>
# CHECK: Conv(%x, %y.w, %y.b)
# CHECK: Gemm(%f, %z.w, %z.b)
# CHECK-NOT: BatchNormalization
graph @bn opset 17 {
  input %x : f32[1,1,2,2]
  input %f : f32[4,3]
  const %w : f32[2,1,1,1] = dense<1>
  const %b : f32[2] = dense<1, -1>
  const %gw : f32[2,3] = dense<2, 2, 2, 1, 1, 1>
  const %gamma : f32[2] = dense<2, 3>
  const %beta : f32[2] = dense<0.5, 0>
  const %mean : f32[2] = dense<1, 0>
  const %var : f32[2] = dense<3, 0>
  %c : f32[1,2,2,2] = Conv(%x, %w, %b) {kernel_shape = [1, 1]}
  %y : f32[1,2,2,2] = BatchNormalization(%c, %gamma, %beta, %mean, %var) {epsilon = 1.0}
  %g : f32[4,2] = Gemm(%f, %gw) {transB = 1}
  %z : f32[4,2] = BatchNormalization(%g, %gamma, %beta, %mean, %var) {epsilon = 1.0}
  output %y
  output %z
}
