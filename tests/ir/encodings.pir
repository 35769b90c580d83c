# Compressed weights: each encoding kind, outliers, and an encoded-only constant.
graph @encodings opset 17 {
  input %x : f32[1,4]

  # 4-bit asymmetric per-channel quantization, groups of 2 along the last axis.
  const %w.q : f32[2,4] = quant<bits=4, symmetric=0, axis=0, group_size=2> {
      packed = u8[4] dense<18, 52, 86, 120>,
      scales = f32[4] dense<0.5, 0.25, 1, 2>,
      zeros = f32[4] dense<8>}

  # 3-bit symmetric per-tensor quantization plus sparse outliers (SpQR-style).
  const %w.o : f32[2,4] = quant<bits=3, symmetric=1, axis=-1> {
      packed = u8[3] dense<1, 2, 3>,
      scales = f32[1] dense<0.125>,
      outliers = sparse<> {row_ptr = i64[3] dense<0, 1, 2>, col_idx = i32[2] dense<0, 3>,
                           values = f32[2] dense<10, -10>}}

  # 2-bit codebook, one codebook per output channel.
  const %w.c : f32[2,4] = codebook<bits=2, axis=0> {
      packed = u8[2] dense<27, 228>,
      codebook = f32[2,4] dense<-1, -0.5, 0.5, 1, -2, -1, 1, 2>}

  # 2-bit codebook shared by both rows, each row scaled (f16 scales).
  const %w.n : f32[2,4] = codebook<bits=2, axis=0> {
      packed = u8[2] dense<27, 228>,
      scales = f16[2] dense<0.5, 2>,
      codebook = f32[4] dense<-1, -0.5, 0.5, 1>}

  # 4-bit symmetric per-channel quantization with f16 scales.
  const %w.h : f32[2,4] = quant<bits=4, symmetric=1, axis=0> {
      packed = u8[4] dense<33, 67, 255, 8>,
      scales = f16[2] dense<0.25, 0.125>}

  # 2:4 structured sparsity, with the dense copy kept as well.
  const %w.s : f32[2,4] = dense<1, 0, 2, 0, 0, 3, 0, 4> sparse<nm_n=2, nm_m=4> {
      row_ptr = i64[3] dense<0, 2, 4>, col_idx = i32[4] dense<0, 2, 1, 3>,
      values = f32[4] dense<1, 2, 3, 4>}

  %a : f32[1,2] = Gemm(%x, %w.q) {transB = 1}
  %b : f32[1,2] = Gemm(%x, %w.o) {transB = 1}
  %c : f32[1,2] = Gemm(%x, %w.c) {transB = 1}
  %d : f32[1,2] = Gemm(%x, %w.s) {transB = 1}
  %ab : f32[1,2] = Add(%a, %b)
  %cd : f32[1,2] = Add(%c, %d)
  %n : f32[1,2] = Gemm(%x, %w.n) {transB = 1}
  %h : f32[1,2] = Gemm(%x, %w.h) {transB = 1}
  %nh : f32[1,2] = Add(%n, %h)
  %abcd : f32[1,2] = Add(%ab, %cd)
  %y : f32[1,2] = Add(%abcd, %nh)
  output %y
}
