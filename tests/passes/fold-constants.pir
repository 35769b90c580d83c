# PASSES: fold-constants
# Add of two constants becomes a constant; the node reading the input stays.
# CHECK: const %s : f32[2] = dense<3, 5>
# CHECK-NOT: Add(%a, %b)
# CHECK: Mul(%x, %s)
graph @fold opset 17 {
  input %x : f32[2]
  const %a : f32[2] = dense<1, 2>
  const %b : f32[2] = dense<2, 3>
  %s : f32[2] = Add(%a, %b)
  %y : f32[2] = Mul(%x, %s)
  output %y
}
