# PASSES: w8a8<min-size=1;calib=minmax>
# CALIB: data/w8a8-calib-2x4
# Two samples: the range is [0, 4] over both (scale 4/255, zero point 0).
# Gemm with transB holds B as [N][K]: per-channel scales along axis 0;
# MatMul's B is [K][N]: along axis 1. Both read the same input, each
# through its own Q/DQ pair.
# CHECK-DAG: const %gemm.x_scale : f32[] = dense<0.015686275>
# CHECK-DAG: const %gemm.x_zero_point : u8[] = dense<0>
# CHECK-DAG: const %wg.q : i8[2,4] = dense<127, 0, 0, -127, 32, 64, 127, 0>
# CHECK-DAG: const %wg.scale : f32[2] = dense<0.007874016, 0.031496063>
# CHECK-DAG: const %wm.q : i8[4,2] = dense<127, 0, 0, 127, -127, 0, 64, -64>
# CHECK-DAG: const %wm.scale : f32[2] = dense<0.015748031, 0.023622047>
# CHECK-DAG: %wg.dq : f32[2,4] = DequantizeLinear(%wg.q, %wg.scale) {axis = 0 : int}
# CHECK-DAG: %wm.dq : f32[4,2] = DequantizeLinear(%wm.q, %wm.scale) {axis = 1 : int}
# CHECK-DAG: %g : f32[2,2] = Gemm(%gemm.x_dq, %wg.dq) {transB = 1 : int} @gemm
# CHECK-DAG: %m : f32[2,2] = MatMul(%mm.x_dq, %wm.dq) @mm
graph @l opset 17 {
  input %a : f32[2,4]
  const %wg : f32[2,4] = dense<1, 0, 0, -1, 1, 2, 4, 0>
  const %wm : f32[4,2] = dense<2, 0, 0, 3, -2, 0, 1, -1.5>
  %g : f32[2,2] = Gemm(%a, %wg) {transB = 1} @gemm
  %m : f32[2,2] = MatMul(%a, %wm) @mm
  output %g
  output %m
}
