# PASSES: lowrank
# MatMul with a constant 2-D right operand, here with a 3-D left one:
# W = u v^T, u = (3,-1,4,2), v = (2,-1,4,1,-2,2), |u| = |v| = sqrt(30), so
# U = u and V = v exactly (4, the largest entry of u, is positive). The
# intermediate has r = 1 features; the output keeps its name.
# CHECK: const %w : f32[4,6]
# CHECK-NEXT: const %w.u : f32[4,1] = dense<3, -1, 4, 2>
# CHECK-NEXT: const %w.v : f32[1,6] = dense<2, -1, 4, 1, -2, 2>
# CHECK: %mm.lr1 : f32[2,3,1] = MatMul(%a, %w.u) @mm.lr1
# CHECK-NEXT: %y : f32[2,3,6] = MatMul(%mm.lr1, %w.v) @mm
# A constant left operand is not a layer this pass factorizes (and keeps %w).
# CHECK-NEXT: %y2 : f32[4,3] = MatMul(%w, %b)
graph @mm opset 17 {
  input %a : f32[2,3,4]
  input %b : f32[6,3]
  const %w : f32[4,6] = dense<6, -3, 12, 3, -6, 6, -2, 1, -4, -1, 2, -2, 8, -4, 16, 4, -8, 8, 4, -2, 8, 2, -4, 4>
  %y : f32[2,3,6] = MatMul(%a, %w) @mm
  %y2 : f32[4,3] = MatMul(%w, %b)
  output %y
  output %y2
}
