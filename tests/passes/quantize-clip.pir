# PASSES: quantize<bits=2;method=rtn>
# With the clipping search (clip=1, the default) row 1 of
# quantize-asym-f16.pir clips its range to 0.9 x [-0.2, 2] (s = 0.66): 2
# decodes to 1.98 and 0.7 to 0.66, a smaller summed squared error than the
# full range's 2.2 and 0.733. Row 0 keeps its full range.
# CHECK: const %w : f32[2,4] = dense<0, -0.73339844, 0.36669922, 0, 1.9804688, 0, 0.66015625, 0> quant<bits=2, symmetric=0, axis=0, group_size=0> {packed = u8[2] dense<178, 19>, scales = f16[2] dense<0.3667, 0.66>, zeros = f16[2] dense<2, 0>}
graph @q opset 17 {
  input %x : f32[3,4]
  const %w : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>
  %y : f32[3,2] = Gemm(%x, %w) {transB = 1 : int}
  output %y
}
