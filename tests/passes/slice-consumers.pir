# PASSES: slice<ratio=0.5;round=1;pca=weights>
# The LN's output reaches its reader through layout ops, as in PP-OCRv4's
# neck: Reshape to [1, 1, T, d], Transpose to [1, d, 1, T], a 1x1 Conv. The
# Reshape's target shape gets the kept width 2 where it had 4, the Conv
# weight [5, 4, 1, 1] becomes [5, 2, 1, 1] and, since it had no bias, gets
# one holding beta W (beta = e0: W's column 0, 1 5 9 13 17). The LN's gamma
# and beta go.
# CHECK-NOT: %gamma
# CHECK-DAG: const %shape.sliced : i64[4] = dense<1, 1, 2, 2>
# CHECK-DAG: const %wc.sliced : f32[5,2,1,1] = dense<{{.*}}>
# CHECK-DAG: const %wc.bias : f32[5] = dense<1, 5, 9, 13, 17>
# CHECK: %s0 : f32[2,2] = Add(%pre, %b_in.sliced)
# CHECK: %n : f32[2,2] = Div(%s0, %sd)
# CHECK-NEXT: %r4 : f32[1,1,2,2] = Reshape(%n, %shape.sliced)
# CHECK-NEXT: %t4 : f32[1,2,1,2] = Transpose(%r4) {perm = [0, 3, 1, 2] : ints}
# CHECK-NEXT: %out : f32[1,5,1,2] = Conv(%t4, %wc.sliced, %wc.bias) @conv
graph @neck opset 17 {
  input %x : f32[2,3]
  const %axes : i64[1] = dense<-1>
  const %two : f32[] = dense<2>
  const %eps : f32[] = dense<0.00001>
  const %w_in : f32[3,4] = dense<1, -0.5, 0.25, 0, 0.5, 1, -1, 0.5, 0, 0.25, 0.5, -1>
  const %b_in : f32[4] = dense<0.1, 0.2, -0.1, 0>
  const %gamma : f32[4] = dense<1, 1.5, 0.5, 2>
  const %beta : f32[4] = dense<1, 0, 0, 0>
  const %shape : i64[4] = dense<1, 1, 2, 4>
  const %wc : f32[5,4,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20>
  %pre : f32[2,4] = MatMul(%x, %w_in) @entry
  %s0 : f32[2,4] = Add(%pre, %b_in)
  %m : f32[2,1] = ReduceMean(%s0, %axes)
  %c : f32[2,4] = Sub(%s0, %m)
  %p : f32[2,4] = Pow(%c, %two)
  %v : f32[2,1] = ReduceMean(%p, %axes)
  %e : f32[2,1] = Add(%v, %eps)
  %sd : f32[2,1] = Sqrt(%e)
  %n : f32[2,4] = Div(%c, %sd)
  %ng : f32[2,4] = Mul(%n, %gamma)
  %y : f32[2,4] = Add(%ng, %beta)
  %r4 : f32[1,1,2,4] = Reshape(%y, %shape)
  %t4 : f32[1,4,1,2] = Transpose(%r4) {perm = [0, 3, 1, 2]}
  %out : f32[1,5,1,2] = Conv(%t4, %wc) @conv
  output %out
}
