# PASSES: quantize<bits=2;clip=0;method=rtn>
# Asymmetric 2-bit, per output channel, scales and zero points in f16 (the
# default). Two grids are tried and the one of least squared error kept.
# Row 0, the grid over a range holding 0 (0 stays exact): [-0.8, 0.3],
# s = 1.1/3 = 0.36667 -> f16 0.3667, zero = rint(0.8/s) = 2; codes 2, 0,
# 3, 2 -> 2 | 0<<2 | 3<<4 | 2<<6 = 178 (error 0.0215; the [min, max] grid
# with zero 2.18 has 0.028). Row 1, the [min, max] grid: [-0.2, 2], s =
# 2.2/3 -> 0.7334, fractional zero 0.2/s -> 0.2727, levels -0.2, 0.533,
# 1.267, 2; codes 3, 0, 1, 0 -> 19 (error 0.072; with zero 0: 0.081).
# Decoded s * (code - zero) with the f16 parameters.
# CHECK: const %w : f32[2,4] = dense<0, -0.73339844, 0.36669922, 0, 2.0001938, -0.20000148, 0.53339696, -0.20000148> quant<bits=2, symmetric=0, axis=0, group_size=0> {packed = u8[2] dense<178, 19>, scales = f16[2] dense<0.3667, 0.7334>, zeros = f16[2] dense<2, 0.2727>}
# constants: 1
graph @q opset 17 {
  input %x : f32[3,4]
  const %w : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>
  %y : f32[3,2] = Gemm(%x, %w) {transB = 1 : int}
  output %y
}
