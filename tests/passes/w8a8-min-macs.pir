# PASSES: w8a8<min-size=100;min-macs=16>
# CALIB: data/w8a8-calib-1x2x2x2
# Both weights are under min-size, but @big does 8 outputs x 2 = 16
# multiply-adds (min-macs): quantized. @tiny does 4 x 2 = 8: stays f32.
# CHECK: QuantizeLinear(%x, %big.x_scale, %big.x_zero_point) @big.quant
# CHECK-NOT: QuantizeLinear
# CHECK: %a : f32[1,2,2,2] = Conv(%big.x_dq, %w1.dq) {kernel_shape = [1, 1] : ints} @big
# CHECK-NEXT: %y : f32[1,1,2,2] = Conv(%a, %w2) {kernel_shape = [1, 1] : ints} @tiny
graph @m opset 17 {
  input %x : f32[1,2,2,2]
  const %w1 : f32[2,2,1,1] = dense<1, 2, 3, 4>
  const %w2 : f32[1,2,1,1] = dense<1, 2>
  %a : f32[1,2,2,2] = Conv(%x, %w1) {kernel_shape = [1, 1]} @big
  %y : f32[1,1,2,2] = Conv(%a, %w2) {kernel_shape = [1, 1]} @tiny
  output %y
}
