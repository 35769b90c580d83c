# PASSES: prune<sparsity=0.5;scope=global>
# One threshold over both weights: the 4 smallest |w| of all 8 are all in
# %small, which loses every weight (the caveat of plain global magnitude:
# a layer of small-scale weights dies whole), while %large keeps all four
# and so keeps no encoding. An empty CSR still has its row pointers.
# CHECK: const %small : f32[2,2] = dense<0> sparse<nm_n=0, nm_m=0> {row_ptr = i64[3] dense<0>, col_idx = i32[0] dense<>, values = f32[0] dense<>}
# CHECK-NEXT: const %large : f32[2,2] = dense<1, -2, 3, 4>{{$}}
graph @global opset 17 {
  input %x : f32[1,2]
  const %small : f32[2,2] = dense<0.01, 0.02, -0.03, 0.04>
  const %large : f32[2,2] = dense<1, -2, 3, 4>
  %a : f32[1,2] = Gemm(%x, %small) {transB = 1 : int}
  %y : f32[1,2] = MatMul(%a, %large)
  output %y
}
