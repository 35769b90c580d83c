# PASSES: quantize<bits=auto>
# EXPECT-ERROR: pass 'quantize': bits=auto needs budget=AVG_BITS or target-size=BYTES|N%
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
