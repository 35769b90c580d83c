# PASSES: cluster<bits=2;normalize=none;per-channel=0>
# A MatMul weight with three distinct values and 2-bit indices: one plain
# codebook holds exactly those values (the fourth entry repeats the
# largest), the indices pick them, and the dense value is unchanged.
# Indices packed little-endian, 2 bits each: 1,0,2,1 | 1,0,2,2 | 1,0,0,1.
# CHECK: const %w : f32[4,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5, -1, -1, 0.5> codebook<bits=2, axis=-1> {packed = u8[3] dense<97, 161, 65>, codebook = f16[1,4] dense<-1, 0.5, 2, 2>}
graph @c opset 17 {
  input %x : f32[1,4]
  const %w : f32[4,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5, -1, -1, 0.5>
  %y : f32[1,3] = MatMul(%x, %w)
  output %y
}
