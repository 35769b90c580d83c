# PASSES: slice<ratio=0.5;round=1;pca=weights>
# A pre-LN residual block of width 4 (decomposed layer norms, an MLP added
# to the stream, a last LN read by the head) sliced to width 2: the entry
# map's output and the MLP's out-projection (the writers) get C Q_k [4, 2],
# with their biases; the LNs lose the mean subtraction (the stream is zero
# mean now) and keep an RMS norm over the 2 kept coordinates with eps
# scaled by 4/2; gamma and beta move into the readers (fc1's bias takes
# beta W1: b1 + beta W1 = -0.2, 0.4, 0.7); the head has no bias and the
# last LN no beta, so none is added. The head's two columns differ by a
# multiple of the ones vector, which the zero-mean stream cannot see: its
# sliced columns are equal.
# CHECK-NOT: %gamma
# CHECK-NOT: %beta
# CHECK-DAG: const %w1.sliced : f32[2,3] = dense<{{.*}}>
# CHECK-DAG: const %b1.sliced : f32[3] = dense<-0.2{{0*[0-9]?}}, 0.4{{0*[0-9]?}}, 0.7{{0*[0-9]?}}>
# CHECK-DAG: const %w_out.sliced : f32[2,2] = dense<[[A:[-0-9.e]+]], [[A]], [[B:[-0-9.e]+]], [[B]]>
# CHECK-DAG: const %w_in.sliced : f32[3,2] = dense<{{.*}}>
# CHECK-DAG: const %b_in.sliced : f32[2] = dense<{{.*}}>
# CHECK-DAG: const %w2.sliced : f32[3,2] = dense<{{.*}}>
# CHECK-DAG: const %b2.sliced : f32[2] = dense<{{.*}}>
# CHECK-DAG: const %eps.sliced : f32[] = dense<0.00002>
# CHECK-NOT: %eps.sliced.2
# CHECK: %pre : f32[2,2] = MatMul(%x, %w_in.sliced) @entry
# CHECK-NEXT: %s0 : f32[2,2] = Add(%pre, %b_in.sliced)
# CHECK-NEXT: %p : f32[2,2] = Pow(%s0, %two)
# CHECK-NEXT: %v : f32[2,1] = ReduceMean(%p, %axes)
# CHECK-NEXT: %e : f32[2,1] = Add(%v, %eps.sliced)
# CHECK-NEXT: %sd : f32[2,1] = Sqrt(%e)
# CHECK-NEXT: %n : f32[2,2] = Div(%s0, %sd)
# CHECK-NEXT: %h : f32[2,3] = MatMul(%n, %w1.sliced) @fc1
# CHECK-NEXT: %hb : f32[2,3] = Add(%h, %b1.sliced)
# CHECK-NEXT: %r : f32[2,3] = Relu(%hb)
# CHECK-NEXT: %o : f32[2,2] = MatMul(%r, %w2.sliced) @fc2
# CHECK-NEXT: %ob : f32[2,2] = Add(%o, %b2.sliced)
# CHECK-NEXT: %s1 : f32[2,2] = Add(%s0, %ob)
# CHECK-NEXT: %fp : f32[2,2] = Pow(%s1, %two)
# CHECK: %fe : f32[2,1] = Add(%fv, %eps.sliced)
# CHECK: %fn : f32[2,2] = Div(%s1, %fs)
# CHECK-NEXT: %out : f32[2,2] = MatMul(%fn, %w_out.sliced) @head
graph @block opset 17 {
  input %x : f32[2,3]
  const %axes : i64[1] = dense<-1>
  const %two : f32[] = dense<2>
  const %eps : f32[] = dense<0.00001>
  const %w_in : f32[3,4] = dense<1, -0.5, 0.25, 0, 0.5, 1, -1, 0.5, 0, 0.25, 0.5, -1>
  const %b_in : f32[4] = dense<0.1, 0.2, -0.1, 0>
  const %gamma : f32[4] = dense<1, 1.5, 0.5, 2>
  const %beta : f32[4] = dense<0.1, 0, -0.2, 0.3>
  const %w1 : f32[4,3] = dense<1, 0, 2, 0, 1, -1, 0.5, 0.5, 0, -1, 2, 1>
  const %b1 : f32[3] = dense<0.1, -0.1, 0.2>
  const %w2 : f32[3,4] = dense<0.5, -1, 0, 1, 1, 0.5, -0.5, 0, 0, 1, 1, -1>
  const %b2 : f32[4] = dense<0, 0.1, 0, -0.1>
  const %w_out : f32[4,2] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  %pre : f32[2,4] = MatMul(%x, %w_in) @entry
  %s0 : f32[2,4] = Add(%pre, %b_in)
  %m : f32[2,1] = ReduceMean(%s0, %axes) @ln.mean
  %c : f32[2,4] = Sub(%s0, %m)
  %p : f32[2,4] = Pow(%c, %two)
  %v : f32[2,1] = ReduceMean(%p, %axes)
  %e : f32[2,1] = Add(%v, %eps)
  %sd : f32[2,1] = Sqrt(%e)
  %n : f32[2,4] = Div(%c, %sd)
  %ng : f32[2,4] = Mul(%n, %gamma)
  %y : f32[2,4] = Add(%ng, %beta)
  %h : f32[2,3] = MatMul(%y, %w1) @fc1
  %hb : f32[2,3] = Add(%h, %b1)
  %r : f32[2,3] = Relu(%hb)
  %o : f32[2,4] = MatMul(%r, %w2) @fc2
  %ob : f32[2,4] = Add(%o, %b2)
  %s1 : f32[2,4] = Add(%s0, %ob)
  %fm : f32[2,1] = ReduceMean(%s1, %axes) @lnf.mean
  %fc : f32[2,4] = Sub(%s1, %fm)
  %fp : f32[2,4] = Pow(%fc, %two)
  %fv : f32[2,1] = ReduceMean(%fp, %axes)
  %fe : f32[2,1] = Add(%fv, %eps)
  %fs : f32[2,1] = Sqrt(%fe)
  %fn : f32[2,4] = Div(%fc, %fs)
  %out : f32[2,2] = MatMul(%fn, %w_out) @head
  output %out
}
