# PASSES: quantize<bits=auto;target-size=lots>
# EXPECT-ERROR: pass 'quantize': option 'target-size': 'lots' is not a byte count or N%
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
