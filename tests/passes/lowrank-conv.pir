# PASSES: lowrank
# A 3x3 conv (4 <- 2 channels) with W[co] = u[co] * v, u = (2,-1,4,3) and v
# of 18 elements, |u| = |v| = sqrt(30): exactly rank 1, so U = u, V = v.
# It becomes a 3x3 conv to 1 channel with the original strides, pads and
# dilations, then a 1x1 conv to 4 channels with the bias, which keeps the
# node's name and output.
# CHECK-NOT: const %wa :
# CHECK: const %wa.u : f32[4,1,1,1] = dense<2, -1, 4, 3>
# CHECK-NEXT: const %wa.v : f32[1,2,3,3] = dense<1, -1, 2, 1, 1, -1, 1, 2, 1, -1, 1, 1, 2, 1, -1, 1, 1, -2>
# CHECK: %ca.lr1 : f32[1,1,3,3] = Conv(%x, %wa.v) {dilations = [1, 1] : ints, group = 1 : int, kernel_shape = [3, 3] : ints, pads = [1, 1, 1, 1] : ints, strides = [2, 2] : ints} @ca.lr1
# CHECK-NEXT: %ya : f32[1,4,3,3] = Conv(%ca.lr1, %wa.u, %ba) {group = 1 : int, kernel_shape = [1, 1] : ints} @ca
# Rank 3 of [4, 2*3*3] keeps 3 * (4 + 18) = 66 of 72 weights (plus 4 bias):
# an 8% saving, under the default min-saving of 10%: left alone.
# CHECK-NEXT: %yb : f32[1,4,3,3] = Conv(%x, %wb, %ba) {kernel_shape = [3, 3] : ints} @cb
# CHECK-NOT: cb.lr1
graph @conv opset 17 {
  input %x : f32[1,2,5,5]
  const %wa : f32[4,2,3,3] = dense<2, -2, 4, 2, 2, -2, 2, 4, 2, -2, 2, 2, 4, 2, -2, 2, 2, -4, -1, 1, -2, -1, -1, 1, -1, -2, -1, 1, -1, -1, -2, -1, 1, -1, -1, 2, 4, -4, 8, 4, 4, -4, 4, 8, 4, -4, 4, 4, 8, 4, -4, 4, 4, -8, 3, -3, 6, 3, 3, -3, 3, 6, 3, -3, 3, 3, 6, 3, -3, 3, 3, -6>
  const %wb : f32[4,2,3,3] = dense<1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>
  const %ba : f32[4] = dense<0.5, -0.5, 1, 0>
  %ya : f32[1,4,3,3] = Conv(%x, %wa, %ba) {dilations = [1, 1], group = 1, kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]} @ca
  %yb : f32[1,4,3,3] = Conv(%x, %wb, %ba) {kernel_shape = [3, 3]} @cb
  output %ya
  output %yb
}
