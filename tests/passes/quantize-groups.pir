# PASSES: quantize<bits=4;group=16;clip=0;method=rtn>
# Groups of 16 inputs per scale. %w (Gemm transB=1, [1, 32]) groups along
# its row (axis 0); %m (MatMul, [32, 1]) down its column along K (axis 1,
# ir.h): the same 32 numbers get the same encoding. Group 0 = 1..16: range
# [0, 16], s = 16/15 -> f16 1.066, zero 0, codes 1..8, 8 (9 * 15/16 =
# 8.44), 9..15 (7.5 rounds to even 8) -> bytes 1 | 2<<4 = 33, ...; group 1 =
# -1..-16: the same scale, zero 15.
# CHECK: const %w : f32[1,32] = dense<1.0664063, 2.1328125, {{.*}}, 15.996094, -1.0664063, {{.*}}, -15.996094> quant<bits=4, symmetric=0, axis=0, group_size=16> {packed = u8[16] dense<33, 67, 101, 135, 152, 186, 220, 254, 222, 188, 154, 120, 103, 69, 35, 1>, scales = f16[2] dense<1.066>, zeros = f16[2] dense<0, 15>}
# CHECK: const %m : f32[32,1] = dense<1.0664063, 2.1328125, {{.*}}, 15.996094, -1.0664063, {{.*}}, -15.996094> quant<bits=4, symmetric=0, axis=1, group_size=16> {packed = u8[16] dense<33, 67, 101, 135, 152, 186, 220, 254, 222, 188, 154, 120, 103, 69, 35, 1>, scales = f16[2] dense<1.066>, zeros = f16[2] dense<0, 15>}
graph @q opset 17 {
  input %x : f32[1,32]
  const %w : f32[1,32] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16>
  const %m : f32[32,1] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16>
  %a : f32[1,1] = Gemm(%x, %w) {transB = 1 : int}
  %b : f32[1,1] = MatMul(%x, %m)
  %y : f32[1,1] = Add(%a, %b)
  output %y
}
