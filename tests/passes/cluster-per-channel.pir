# PASSES: cluster<bits=1;normalize=none;per-channel=1>
# One 2-entry codebook per output channel: the columns of a [K, N] MatMul
# weight (axis 1). Column 0 {0.5, 0.5, 2, -1} clusters into {0, 2} (the
# mean of 0.5, 0.5, -1 and 2), column 1 into {-1, 1.25}, column 2 into
# {0, 2}; the dense value becomes the decoded one.
# CHECK: const %w : f32[4,3] = dense<0, -1, 2, 0, 1.25, 0, 2, 1.25, 0, 0, -1, 0> codebook<bits=1, axis=1> {packed = u8[2] dense<212, 0>, codebook = f16[3,2] dense<0, 2, -1, 1.25, 0, 2>}
graph @c opset 17 {
  input %x : f32[1,4]
  const %w : f32[4,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5, -1, -1, 0.5>
  %y : f32[1,3] = MatMul(%x, %w)
  output %y
}
