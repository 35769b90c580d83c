# PASSES: quantize<bits=4;symmetric=1;clip=0;outliers=0.0625;method=rtn>
# One of the 16 weights (1/16) is an outlier: 100, far outside row 0. It is
# kept exactly in a sparse f32 part (CSR over [dim0, rest]: row 0, column
# 4), its code is 0, and row 0's scale comes from the rest: 0.2/7 -> f16
# 0.02856 instead of 100/7. 8 + 4 + 24 + 4 + 4 = 44 bytes.
# CHECK: const %w : f32[2,8] = dense<0.11425781, 0.19995117, -0.11425781, 0.057128906, 100, -0.19995117, 0.14282227, 0, 0.29992676, -0.29992676, 0.2142334, 0.08569336, 0, -0.08569336, 0.2142334, 0.29992676> quant<bits=4, symmetric=1, axis=0, group_size=0> {packed = u8[8] dense<116, 44, 144, 5, 151, 37, 224, 117>, scales = f16[2] dense<0.02856, 0.04285>, outliers = sparse<nm_n=0, nm_m=0> {row_ptr = i64[3] dense<0, 1, 1>, col_idx = i32[1] dense<4>, values = f32[1] dense<100>}}
graph @q opset 17 {
  input %x : f32[1,8]
  const %w : f32[2,8] = dense<0.1, 0.2, -0.1, 0.05, 100, -0.2, 0.15, 0, 0.3, -0.3, 0.2, 0.1, 0, -0.1, 0.2, 0.3>
  %y : f32[1,2] = Gemm(%x, %w) {transB = 1 : int}
  output %y
}
