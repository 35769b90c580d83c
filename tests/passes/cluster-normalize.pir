# PASSES: cluster<bits=1;per-channel=0>
# normalize=row: each output channel of the conv is divided by its RMS
# (1 and 4), so both rows share the codebook {-1, 1} exactly and the
# scales carry the rows' magnitudes: w = scales[c] * codebook[idx].
# CHECK: const %w : f32[2,1,2,2] = dense<1, -1, 1, -1, 4, -4, 4, -4> codebook<bits=1, axis=0> {packed = u8[1] dense<85>, scales = f16[2] dense<1, 4>, codebook = f16[1,2] dense<-1, 1>}
graph @c opset 17 {
  input %x : f32[1,1,3,3]
  const %w : f32[2,1,2,2] = dense<1, -1, 1, -1, 4, -4, 4, -4>
  %y : f32[1,2,2,2] = Conv(%x, %w)
  output %y
}
