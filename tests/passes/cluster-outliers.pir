# PASSES: cluster<bits=1;normalize=none;per-channel=0;outliers=0.0834>
# One of the twelve weights (100, the largest) is kept out of the k-means
# and exact: its residual against its centroid (100 - 1.5) goes in the
# sparse outliers; the other eleven cluster into {-1.6, 1.5} (f16: -1.6 is
# stored as -1.5996094).
# CHECK: const %w : f32[2,6] = dense<1.5, 1.5, 1.5, -1.5996094, -1.5996094, 100, 1.5, 1.5, 1.5, -1.5996094, -1.5996094, -1.5996094> codebook<bits=1, axis=-1> {packed = u8[2] dense<231, 1>, codebook = f16[1,2] dense<-1.6, 1.5>, outliers = sparse<nm_n=0, nm_m=0> {row_ptr = i64[3] dense<0, 1, 1>, col_idx = i32[1] dense<5>, values = f32[1] dense<98.5>}}
graph @c opset 17 {
  input %x : f32[1,6]
  const %w : f32[2,6] = dense<1, 1, 1, -1, -1, 100, 2, 2, 2, -2, -2, -2>
  %y : f32[1,2] = Gemm(%x, %w) {transB = 1 : int}
  output %y
}
