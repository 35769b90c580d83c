# PASSES: fold-batchnorm
# s = gamma / sqrt(var + eps) = [2/2, 3/1] = [1, 3]; t = beta - mean * s =
# [0.5 - 1, 0] = [-0.5, 0]. W' = W * s per output channel; the conv had no
# bias, so it gets b' = t. The BN's output keeps its name, now the conv's.
# CHECK-DAG: const %y.w : f32[2,1,1,1] = dense<1, 3>
# CHECK-DAG: const %y.b : f32[2] = dense<-0.5, 0>
# CHECK: %y : f32[1,2,2,2] = Conv(%x, %y.w, %y.b) {kernel_shape = [1, 1] : ints} @conv
# CHECK-NOT: BatchNormalization
graph @bn opset 17 {
  input %x : f32[1,1,2,2]
  const %w : f32[2,1,1,1] = dense<1>
  const %gamma : f32[2] = dense<2, 3>
  const %beta : f32[2] = dense<0.5, 0>
  const %mean : f32[2] = dense<1, 0>
  const %var : f32[2] = dense<3, 0>
  %c : f32[1,2,2,2] = Conv(%x, %w) {kernel_shape = [1, 1]} @conv
  %y : f32[1,2,2,2] = BatchNormalization(%c, %gamma, %beta, %mean, %var) {epsilon = 1.0} @bn
  output %y
}
