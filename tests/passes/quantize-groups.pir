# PASSES: quantize<bits=4;group=16;clip=0;method=rtn;grid=both>
# Groups of 16 inputs per scale (grid=both: the [min, max] grid at 4 bits too). %w (Gemm transB=1, [1, 32]) groups along
# its row (axis 0); %m (MatMul, [32, 1]) down its column along K (axis 1,
# ir.h): the same 32 numbers get the same encoding. Group 0 = 1..16: its
# [min, max] grid, s = 15/15 = 1 with zero point -1, has a level at every
# value (exact; the grid holding 0 would need s = 16/15 and round): codes
# 0..15 -> bytes 0 | 1<<4 = 16, 2 | 3<<4 = 50, ...; group 1 = -1..-16: s =
# 1, zero 16, codes 15, 14, ... -> 15 | 14<<4 = 239, ...
# CHECK: const %w : f32[1,32] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16> quant<bits=4, symmetric=0, axis=0, group_size=16> {packed = u8[16] dense<16, 50, 84, 118, 152, 186, 220, 254, 239, 205, 171, 137, 103, 69, 35, 1>, scales = f16[2] dense<1>, zeros = f16[2] dense<-1, 16>}
# CHECK: const %m : f32[32,1] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16> quant<bits=4, symmetric=0, axis=1, group_size=16> {packed = u8[16] dense<16, 50, 84, 118, 152, 186, 220, 254, 239, 205, 171, 137, 103, 69, 35, 1>, scales = f16[2] dense<1>, zeros = f16[2] dense<-1, 16>}
graph @q opset 17 {
  input %x : f32[1,32]
  const %w : f32[1,32] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16>
  const %m : f32[32,1] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16>
  %a : f32[1,1] = Gemm(%x, %w) {transB = 1 : int}
  %b : f32[1,1] = MatMul(%x, %m)
  %y : f32[1,1] = Add(%a, %b)
  output %y
}
