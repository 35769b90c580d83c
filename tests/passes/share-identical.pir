# PASSES: share<min-size=4>
# %b equals %a bit for bit: the second Gemm reads %a and %b is gone. %c
# differs (and %s is too small for min-size), so both stay.
# CHECK: const %a : f32[2,2] = dense<1, 2, 3, 4>
# CHECK-NEXT: const %c : f32[2,2] = dense<1, 2, 3, 5>
# CHECK-NEXT: const %s : f32[2] = dense<1, 2>
# CHECK-NOT: const %b
# CHECK: %y : f32[1,2] = Gemm(%x, %a)
# CHECK-NEXT: %z : f32[1,2] = Gemm(%y, %a)
# CHECK-NEXT: %q : f32[1,2] = Gemm(%z, %c)
graph @s opset 17 {
  input %x : f32[1,2]
  const %a : f32[2,2] = dense<1, 2, 3, 4>
  const %b : f32[2,2] = dense<1, 2, 3, 4>
  const %c : f32[2,2] = dense<1, 2, 3, 5>
  const %s : f32[2] = dense<1, 2>
  %y : f32[1,2] = Gemm(%x, %a)
  %z : f32[1,2] = Gemm(%y, %b)
  %q : f32[1,2] = Gemm(%z, %c)
  %r : f32[1,2] = Add(%q, %s)
  output %r
}
