# PASSES: w8a8<min-size=1>
# CALIB: data/w8a8-calib-1x2x2x2
# The calibration input spans [-1, 3]: u8 scale 4/255, zero point
# round(1/scale) = round(63.75) = 64. Weight channel 0 has absmax 1 (scale
# 1/127: -0.5 -> -63.5 rounds to even, -64), channel 1 absmax 2 (scale
# 2/127: 0.25 -> 15.875 -> 16). The original f32 weight is gone.
# CHECK-DAG: const %conv.x_scale : f32[] = dense<0.015686275>
# CHECK-DAG: const %conv.x_zero_point : u8[] = dense<64>
# CHECK-DAG: const %w.q : i8[2,2,1,1] = dense<127, -64, 16, 127>
# CHECK-DAG: const %w.scale : f32[2] = dense<0.007874016, 0.015748031>
# CHECK-NOT: const %w :
# CHECK: %conv.x_q : u8[1,2,2,2] = QuantizeLinear(%x, %conv.x_scale, %conv.x_zero_point) @conv.quant
# CHECK-NEXT: %conv.x_dq : f32[1,2,2,2] = DequantizeLinear(%conv.x_q, %conv.x_scale, %conv.x_zero_point) @conv.dequant
# CHECK-NEXT: %w.dq : f32[2,2,1,1] = DequantizeLinear(%w.q, %w.scale) {axis = 0 : int} @w.dequant
# CHECK-NEXT: %y : f32[1,2,2,2] = Conv(%conv.x_dq, %w.dq, %b) {kernel_shape = [1, 1] : ints} @conv
# CHECK: # weight bytes: 25
graph @c opset 17 {
  input %x : f32[1,2,2,2]
  const %w : f32[2,2,1,1] = dense<1, -0.5, 0.25, 2>
  const %b : f32[2] = dense<0.1, 0.2>
  %y : f32[1,2,2,2] = Conv(%x, %w, %b) {kernel_shape = [1, 1]} @conv
  output %y
}
