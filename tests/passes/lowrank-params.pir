# PASSES: lowrank<energy=1;params=0.5;whiten=auto>
# energy=1 keeps the full rank 8 of this diagonal [8,8] weight, but
# params=0.5 caps the factors at half its 64 parameters: r (8 + 8) <= 32,
# rank 2, the two largest diagonal entries. whiten=auto without --calib is
# the plain SVD.
# CHECK-DAG: const %w.u : f32[8,2] = dense<0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2.6457512, 2.828427, 0>
# CHECK-DAG: const %w.v : f32[2,8] = dense<0, 0, 0, 0, 0, 0, 0, 2.828427, 0, 0, 0, 0, 0, 0, 2.6457512, 0>
# CHECK: %mm.lr1 : f32[3,2] = MatMul(%a, %w.u) @mm.lr1
# CHECK-NEXT: %y : f32[3,8] = MatMul(%mm.lr1, %w.v) @mm
graph @o opset 17 {
  input %a : f32[3,8]
  const %w : f32[8,8] = dense<1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 8>
  %y : f32[3,8] = MatMul(%a, %w) @mm
  output %y
}
