# PASSES: w8a8<ops=conv+lstm>
# CALIB: data/w8a8-calib-1x2x2x2
# EXPECT-ERROR: lstm
graph @c opset 17 {
  input %x : f32[1,2,2,2]
  const %w : f32[2,2,1,1] = dense<1, -0.5, 0.25, 2>
  %y : f32[1,2,2,2] = Conv(%x, %w) {kernel_shape = [1, 1]} @conv
  output %y
}
