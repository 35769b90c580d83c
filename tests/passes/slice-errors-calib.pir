# PASSES: slice<ratio=0.5;round=1>
# The calibrated PCA (the default) without --calib is an error naming the option.
# EXPECT-ERROR: pass 'slice': option 'pca=calib' needs calibration data (--calib DIR), or pca=weights
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
