# PASSES: quantize<method=gptq>
# EXPECT-ERROR: pass 'quantize': method=gptq needs calibration data (--calib DIR)
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
