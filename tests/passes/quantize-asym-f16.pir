# PASSES: quantize<bits=2;clip=0;method=rtn>
# Asymmetric 2-bit, per output channel, scales and zero points in f16 (the
# default). The range always holds 0 (so zeros stay exact): row 0 spans
# [-0.8, 0.3], s = 1.1/3 = 0.36667 -> f16 0.3667, zero = rint(0.8/s) = 2;
# codes 2, 0, 3, 2 -> 2 | 0<<2 | 3<<4 | 2<<6 = 178. Row 1 spans [-0.2, 2]:
# s = 2.2/3 -> f16 0.7334, zero 0, codes 3, 0, 1, 0 -> 19. Decoded
# s * (code - zero) with the f16 scale: 3 * 0.73339844 = 2.2001953.
# CHECK: const %w : f32[2,4] = dense<0, -0.73339844, 0.36669922, 0, 2.2001953, 0, 0.73339844, 0> quant<bits=2, symmetric=0, axis=0, group_size=0> {packed = u8[2] dense<178, 19>, scales = f16[2] dense<0.3667, 0.7334>, zeros = f16[2] dense<2, 0>}
graph @q opset 17 {
  input %x : f32[3,4]
  const %w : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>
  %y : f32[3,2] = Gemm(%x, %w) {transB = 1 : int}
  output %y
}
