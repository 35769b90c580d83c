# PASSES: cluster<bits=1;normalize=none;per-channel=0;min-size=10;ops=gemm>
# Only Gemm weights of at least 10 elements: %a (12, Gemm) is clustered,
# %b (4 elements) and the MatMul's %m (ops) stay dense.
# CHECK: const %a : f32[2,6] = {{.*}} codebook<bits=1, axis=-1>
# CHECK-NEXT: const %b : f32[2,2] = dense<1, 2, 3, 4>{{$}}
# CHECK-NEXT: const %m : f32[6,2] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>{{$}}
graph @c opset 17 {
  input %x : f32[1,6]
  const %a : f32[2,6] = dense<1, 1, 1, -1, -1, 3, 2, 2, 2, -2, -2, -2>
  const %b : f32[2,2] = dense<1, 2, 3, 4>
  const %m : f32[6,2] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>
  %y : f32[1,2] = Gemm(%x, %a) {transB = 1 : int}
  %z : f32[1,2] = Gemm(%y, %b)
  %q : f32[1,2] = MatMul(%x, %m)
  output %z
  output %q
}
