# PASSES: quantize<bits=auto;budget=7;candidates=2+8;keep-fp32=0;clip=0>
# Bit allocation without calibration data: each layer's cost at a width is
# its relative weight error ||dW||^2 / ||W||^2 (H = I). The budget, 7 bits
# per weight over the 64 weights, is 56 bytes: one layer at 8 bits (32 code
# bytes + 4 scale + 4 zero-point bytes) and one at 2 (8 + 4 + 4). %w2 (1s
# and a 2: at 2 bits every 1 is off by a third, relative error 0.32) gets
# the 8 bits, %w1 (1..16: relative error 0.17 at 2 bits) the 2.
# CHECK: const %w1 : f32[2,16] = dense<0, 0, 5.3320313, 5.3320313, 5.3320313, 5.3320313, 5.3320313, 10.6640625, 10.6640625, 10.6640625, 10.6640625, 10.6640625, 10.6640625, 15.996094, 15.996094, 15.996094, 0, 0, 5.3320313, 5.3320313, 5.3320313, 5.3320313, 5.3320313, 10.6640625, 10.6640625, 10.6640625, 10.6640625, 10.6640625, 10.6640625, 15.996094, 15.996094, 15.996094> quant<bits=2, symmetric=0, axis=0, group_size=0> {packed = u8[8] dense<80, 149, 170, 254, 80, 149, 170, 254>, scales = f16[2] dense<5.332>, zeros = f16[2] dense<0>}
# CHECK: const %w2 : f32[2,16] = dense<1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.9999695, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.0039063, 1.9999695> quant<bits=8, symmetric=0, axis=0, group_size=0> {packed = u8[32] dense<128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 255, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 255>, scales = f16[2] dense<0.00784>, zeros = f16[2] dense<0>}
graph @q opset 17 {
  input %x : f32[1,16]
  const %w1 : f32[2,16] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16>
  const %w2 : f32[2,16] = dense<1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2>
  %a : f32[1,2] = Gemm(%x, %w1) {transB = 1 : int}
  %b : f32[1,2] = Gemm(%x, %w2) {transB = 1 : int}
  %y : f32[1,2] = Add(%a, %b)
  output %y
}
