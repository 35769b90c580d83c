# PASSES: quantize<bits=4;symmetric=1;clip=0;scale-dtype=f32;method=rtn>
# Symmetric 4-bit round to nearest, one f32 scale per output channel
# (max |w| / 7), codes two's complement, two per byte, low nibble first.
# %w1 (Gemm transB=1, [N, K]): channels are rows (axis 0). Row 0: s = 0.8/7,
# codes 1, -7, 3, 0 -> nibbles 1, 9, 3, 0 -> bytes 0x91 = 145, 3. Row 1:
# s = 2/7, codes 7, -1, 2, 0 -> 247, 2.
# %w2 (MatMul, [K, N]): channels are columns (axis 1), s = max |column| / 7:
# column 2 {30, 60}: 30 / (60/7) = 3.5 rounds to even, 4. Row 0 codes 7, -3,
# 4, 0 -> 215, 4; row 1: 1, 7, 7, -7 -> 113, 151.
# The dense values are what the codes decode to.
# CHECK: const %w1 : f32[2,4] = dense<0.114285715, -0.8, 0.34285715, 0, 2, -0.2857143, 0.5714286, 0> quant<bits=4, symmetric=1, axis=0, group_size=0> {packed = u8[4] dense<145, 3, 247, 2>, scales = f32[2] dense<0.114285715, 0.2857143>}
# CHECK: const %w2 : f32[2,4] = dense<10, -21.428572, 34.285713, 0, 1.4285715, 50, 60, -80> quant<bits=4, symmetric=1, axis=1, group_size=0> {packed = u8[4] dense<215, 4, 113, 151>, scales = f32[4] dense<1.4285715, 7.142857, 8.571428, 11.428572>}
graph @q opset 17 {
  input %x : f32[3,4]
  const %w1 : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>
  const %b : f32[2] = dense<0.5, -0.5>
  const %w2 : f32[2,4] = dense<10, -20, 30, 5, 1, 50, 60, -80>
  %g : f32[3,2] = Gemm(%x, %w1, %b) {transB = 1 : int}
  %y : f32[3,4] = MatMul(%g, %w2)
  output %y
}
