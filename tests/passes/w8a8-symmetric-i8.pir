# PASSES: w8a8<min-size=1;activations=i8;symmetric=1;reduce-range=1>
# CALIB: data/w8a8-calib-1x2x2x2
# Symmetric i8 activations: scale absmax/127 = 3/127, zero point 0.
# reduce-range: 7-bit weights, channel scales absmax/63 (1/63, 2/63) in
# f32, so -0.5 -> -31.4999 -> -31 and 0.25 -> 7.875 -> 8.
# CHECK-DAG: const %conv.x_scale : f32[] = dense<0.023622047>
# CHECK-DAG: const %conv.x_zero_point : i8[] = dense<0>
# CHECK-DAG: const %w.q : i8[2,2,1,1] = dense<63, -31, 8, 63>
# CHECK-DAG: const %w.scale : f32[2] = dense<0.015873017, 0.031746034>
# CHECK: %conv.x_q : i8[1,2,2,2] = QuantizeLinear(%x, %conv.x_scale, %conv.x_zero_point)
graph @c opset 17 {
  input %x : f32[1,2,2,2]
  const %w : f32[2,2,1,1] = dense<1, -0.5, 0.25, 2>
  %y : f32[1,2,2,2] = Conv(%x, %w) {kernel_shape = [1, 1]} @conv
  output %y
}
