# PASSES: lowrank<min-saving=0>
# The rank-3 conv of lowrank-conv.pir saves 8% of its parameters and FLOPs:
# with min-saving=0 it is factorized (3x3 conv to 3 channels, 1x1 back to 4).
# The full-rank one (4 orthogonal rows) would grow, 4 * (4 + 18) > 72, and is
# never factorized, whatever min-saving says.
# CHECK-DAG: const %wb.u : f32[4,3,1,1] =
# CHECK-DAG: const %wb.v : f32[3,2,3,3] =
# CHECK: %cb.lr1 : f32[1,3,3,3] = Conv(%x, %wb.v) {kernel_shape = [3, 3] : ints} @cb.lr1
# CHECK-NEXT: %yb : f32[1,4,3,3] = Conv(%cb.lr1, %wb.u) {kernel_shape = [1, 1] : ints} @cb
# CHECK-NEXT: %yc : f32[1,4,3,3] = Conv(%x, %wc) {kernel_shape = [3, 3] : ints} @cc
# CHECK-NOT: cc.lr1
graph @conv opset 17 {
  input %x : f32[1,2,5,5]
  const %wb : f32[4,2,3,3] = dense<1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>
  const %wc : f32[4,2,3,3] = dense<1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.5>
  %yb : f32[1,4,3,3] = Conv(%x, %wb) {kernel_shape = [3, 3]} @cb
  %yc : f32[1,4,3,3] = Conv(%x, %wc) {kernel_shape = [3, 3]} @cc
  output %yb
  output %yc
}
