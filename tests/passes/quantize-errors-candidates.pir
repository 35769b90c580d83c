# PASSES: quantize<bits=auto;budget=4;candidates=2+9>
# EXPECT-ERROR: pass 'quantize': option 'candidates': '2+9' is not a list of integers in [1, 8] joined by +
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
