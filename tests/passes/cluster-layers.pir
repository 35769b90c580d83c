# PASSES: cluster<bits=2;normalize=none;per-channel=0;layers=b+c>
# layers= joined by +: @b and @c get codebooks (the three distinct values
# of cluster-layer.pir, exactly), @a, not in the list, stays f32.
# CHECK: const %wa : f32[4,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5, -1, -1, 0.5>{{$}}
# CHECK: const %wb : f32[3,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5> codebook<bits=2, axis=-1>
# CHECK: const %wc : f32[3,3] = dense<2, 2, 0.5, -1, -1, 0.5, 0.5, -1, 2> codebook<bits=2, axis=-1>
graph @c opset 17 {
  input %x : f32[1,4]
  const %wa : f32[4,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5, -1, -1, 0.5>
  const %wb : f32[3,3] = dense<0.5, -1, 2, 0.5, 0.5, -1, 2, 2, 0.5>
  const %wc : f32[3,3] = dense<2, 2, 0.5, -1, -1, 0.5, 0.5, -1, 2>
  %y : f32[1,3] = MatMul(%x, %wa) @a
  %z : f32[1,3] = MatMul(%y, %wb) @b
  %u : f32[1,3] = MatMul(%z, %wc) @c
  output %u
}
