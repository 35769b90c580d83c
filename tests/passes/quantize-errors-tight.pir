# PASSES: quantize<bits=auto;budget=2;keep-fp32=0;candidates=2>
# EXPECT-ERROR: pass 'quantize': the budget (1 bytes for the weights it may change) is below the smallest the candidates reach (9 bytes)
graph @e opset 17 {
  input %x : f32[1,2]
  const %w : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = MatMul(%x, %w)
  output %y
}
