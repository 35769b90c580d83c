# PASSES: share<tolerance=0.01;min-size=4>
# tolerance is the largest absolute element difference: %b is within 0.01
# of %a (0.005) and merged into it; %c differs by 0.02 and stays, and so
# does %d (shape [4], not [2,2]).
# CHECK: const %a : f32[2,2] = dense<1, 2, 3, 4>
# CHECK-NEXT: const %c : f32[2,2] = dense<1, 2, 3, 4.02>
# CHECK-NEXT: const %d : f32[4] = dense<1, 2, 3, 4>
# CHECK-NOT: const %b
# CHECK: %z : f32[1,2] = Gemm(%y, %a)
graph @s opset 17 {
  input %x : f32[1,2]
  input %v : f32[4]
  const %a : f32[2,2] = dense<1, 2, 3, 4>
  const %b : f32[2,2] = dense<1.005, 2, 3, 4>
  const %c : f32[2,2] = dense<1, 2, 3, 4.02>
  const %d : f32[4] = dense<1, 2, 3, 4>
  %y : f32[1,2] = Gemm(%x, %a)
  %z : f32[1,2] = Gemm(%y, %b)
  %q : f32[1,2] = Gemm(%z, %c)
  %g : f32[4] = Add(%v, %d)
  output %q
  output %g
}
