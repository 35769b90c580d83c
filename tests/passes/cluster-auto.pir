# PASSES: cluster<bits=1;shared-bits=2>
# per-channel=auto with 1-bit indices: a channel's own codebook costs 32
# bits (two f16 entries). %m's output columns hold 2 weights each (16
# bits per weight, above max-overhead 1.1), but its 2 input rows hold 40
# each (0.8 bits per weight): one codebook per row of axis 0. The conv's
# channels hold 4 weights: one shared codebook over RMS-normalized
# channels, with shared-bits=2 index bits.
# CHECK: const %m : f32[2,40] = {{.*}} codebook<bits=1, axis=0> {packed = u8[10] {{.*}}, codebook = f16[2,2] dense<-1, 1, 3, 5>}
# CHECK: const %w : f32[2,1,2,2] = {{.*}} codebook<bits=2, axis=0> {packed = u8[2] {{.*}}, scales = f16[2] {{.*}}, codebook = f16[1,4] {{.*}}}
graph @c opset 17 {
  input %x : f32[1,2]
  input %i : f32[1,1,3,3]
  const %m : f32[2,40] = dense<1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5, 3, 5>
  const %w : f32[2,1,2,2] = dense<1, -1, 2, -2, 4, -4, 8, -8>
  %y : f32[1,40] = MatMul(%x, %m)
  %c : f32[1,2,2,2] = Conv(%i, %w)
  output %y
  output %c
}
