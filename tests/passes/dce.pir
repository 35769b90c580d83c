# PASSES: dce
# Dead chains go in one run; what the outputs need stays, and constants only
# the dead nodes read go with them.
# CHECK: graph @dce
# CHECK-NOT: const %unused
# CHECK-NOT: Neg
# CHECK: %used : f32[2,3] = Relu(%x)
# CHECK-NOT: Neg
# CHECK: output %used
graph @dce opset 17 {
  input %x : f32[2,3]
  const %unused : f32[2,3] = dense<1>
  %dead : f32[2,3] = Neg(%x)
  %dead2 : f32[2,3] = Add(%dead, %unused)
  %used : f32[2,3] = Relu(%x)
  output %used
}
