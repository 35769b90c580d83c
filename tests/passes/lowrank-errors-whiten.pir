# PASSES: lowrank<whiten=cholesky>
# Whitening needs the layers' input statistics, so without --calib it is
# an error naming the option (whiten=auto falls back to the plain SVD).
# EXPECT-ERROR: pass 'lowrank': option 'whiten': cholesky needs calibration data (--calib DIR)
graph @e opset 17 {
  input %x : f32[2,3]
  const %w : f32[3,4] = dense<1>
  %y : f32[2,4] = MatMul(%x, %w)
  output %y
}
