# PASSES: w8a8<min-size=8;skip=second>
# CALIB: data/w8a8-calib-1x2x2x2
# Only @first is quantized: the depthwise conv stays f32 (int8 does not pay
# there), @second is in the skip list and @small has fewer than min-size
# weights.
# CHECK: QuantizeLinear(%x, %first.x_scale, %first.x_zero_point) @first.quant
# CHECK-NOT: QuantizeLinear
# CHECK: Conv(%first.x_dq, %w1.dq) {kernel_shape = [1, 1] : ints} @first
# CHECK-NEXT: Conv(%a, %dw) {kernel_shape = [1, 1] : ints, group = 4 : int} @depthwise
# CHECK-NEXT: Conv(%d, %w2) {kernel_shape = [1, 1] : ints} @second
# CHECK-NEXT: Conv(%e, %w3) {kernel_shape = [1, 1] : ints} @small
graph @s opset 17 {
  input %x : f32[1,2,2,2]
  const %w1 : f32[4,2,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  const %dw : f32[4,1,1,1] = dense<1, 2, 3, 4>
  const %w2 : f32[2,4,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  const %w3 : f32[1,2,1,1] = dense<1, 2>
  %a : f32[1,4,2,2] = Conv(%x, %w1) {kernel_shape = [1, 1]} @first
  %d : f32[1,4,2,2] = Conv(%a, %dw) {kernel_shape = [1, 1], group = 4} @depthwise
  %e : f32[1,2,2,2] = Conv(%d, %w2) {kernel_shape = [1, 1]} @second
  %y : f32[1,1,2,2] = Conv(%e, %w3) {kernel_shape = [1, 1]} @small
  output %y
}
