# PASSES: slice<ratio=0;heads=1>
# Attention with 2 heads of 3 (qkv [2, 18] reshaped to [4, 3, 2, 3], the
# heads through Slice/Squeeze/Transpose/MatMul/Softmax, back to [4, 6], the
# projection [6, 6]) whose projection ignores head 1 (its rows are zero):
# heads=1 deletes it (without --calib by the projection's row norms, no
# re-fit): q, k and v keep columns 0-2, 6-8 and 12-14 of the qkv weight and
# bias, both Reshapes count 1 head, the projection keeps rows 0-2. With
# ratio=0 and no layer norm there is no stream to rotate.
# CHECK-DAG: const %wqkv.heads : f32[2,9] = dense<0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20, 24, 25, 26, 30, 31, 32>
# CHECK-DAG: const %bqkv.heads : f32[9] = dense<0, 0.1, 0.2, 0.6, 0.7, 0.8, 1.2, 1.3, 1.4>
# CHECK-DAG: const %wp.heads : f32[3,6] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18>
# CHECK-DAG: const %s1.heads : i64[4] = dense<4, 3, 1, 3>
# CHECK-DAG: const %s2.heads : i64[2] = dense<4, 3>
# CHECK: %qkv : f32[4,9] = MatMul(%x, %wqkv.heads) @qkv
# CHECK: %r : f32[4,3,1,3] = Reshape(%qkvb, %s1.heads)
# CHECK: %att : f32[1,4,4] = MatMul(%qs, %kt)
# CHECK: %o2 : f32[4,3] = Reshape(%ot, %s2.heads)
# CHECK-NEXT: %y : f32[4,6] = MatMul(%o2, %wp.heads) @proj
graph @attn opset 17 {
  input %x : f32[4,2]
  const %wqkv : f32[2,18] = dense<0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35>
  const %bqkv : f32[18] = dense<0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7>
  const %wp : f32[6,6] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>
  const %s1 : i64[4] = dense<4, 3, 2, 3>
  const %s2 : i64[2] = dense<4, 6>
  const %st0 : i64[1] = dense<0>
  const %en0 : i64[1] = dense<1>
  const %st1 : i64[1] = dense<1>
  const %en1 : i64[1] = dense<2>
  const %st2 : i64[1] = dense<2>
  const %en2 : i64[1] = dense<3>
  const %ax0 : i64[1] = dense<0>
  const %scale : f32[] = dense<0.5>
  %qkv : f32[4,18] = MatMul(%x, %wqkv) @qkv
  %qkvb : f32[4,18] = Add(%qkv, %bqkv)
  %r : f32[4,3,2,3] = Reshape(%qkvb, %s1)
  %t : f32[3,2,4,3] = Transpose(%r) {perm = [1, 2, 0, 3]}
  %q1 : f32[1,2,4,3] = Slice(%t, %st0, %en0, %ax0)
  %k1 : f32[1,2,4,3] = Slice(%t, %st1, %en1, %ax0)
  %v1 : f32[1,2,4,3] = Slice(%t, %st2, %en2, %ax0)
  %q : f32[2,4,3] = Squeeze(%q1, %ax0)
  %k : f32[2,4,3] = Squeeze(%k1, %ax0)
  %v : f32[2,4,3] = Squeeze(%v1, %ax0)
  %qs : f32[2,4,3] = Mul(%q, %scale)
  %kt : f32[2,3,4] = Transpose(%k) {perm = [0, 2, 1]}
  %att : f32[2,4,4] = MatMul(%qs, %kt)
  %sm : f32[2,4,4] = Softmax(%att) {axis = -1}
  %o : f32[2,4,3] = MatMul(%sm, %v)
  %ot : f32[4,2,3] = Transpose(%o) {perm = [1, 0, 2]}
  %o2 : f32[4,6] = Reshape(%ot, %s2)
  %y : f32[4,6] = MatMul(%o2, %wp) @proj
  output %y
}
