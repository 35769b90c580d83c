# PASSES: dce,no-such-pass
# EXPECT-ERROR: unknown pass 'no-such-pass'
graph @e opset 17 {
  input %x : f32[2]
  %y : f32[2] = Relu(%x)
  output %y
}
