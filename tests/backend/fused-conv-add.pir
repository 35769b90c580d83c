# Regression: a bias-less Conv whose store epilogue fuses an Add of a run-time
# tensor used to read that tensor as its bias ("bias must be f32 ...").
graph @fused opset 17 {
  input %x : f32[1,2,4,4]
  input %r : f32[1,2,4,4]
  const %w : f32[2,2,1,1] = dense<1, 2, 3, 4>
  %c : f32[1,2,4,4] = Conv(%x, %w) {kernel_shape = [1, 1]}
  %y : f32[1,2,4,4] = Add(%c, %r)
  output %y
}
