# PASSES: cleanup
# Identity, Dropout and a Cast to the same dtype go; Reshape(Reshape(x)) is
# one Reshape; an Identity whose output is a graph output stays (its name is
# part of the model's interface), as does a Cast that changes the dtype.
# CHECK-NOT: Dropout
# CHECK: %r2 : f32[6] = Reshape(%x, %s2)
# CHECK-NEXT: %n : f32[6] = Neg(%r2)
# CHECK-NEXT: %i : i64[6] = Cast(%n) {to = 7 : int}
# CHECK-NEXT: %out : f32[6] = Identity(%n)
graph @cleanup opset 17 {
  input %x : f32[2,3]
  const %s1 : i64[2] = dense<3, 2>
  const %s2 : i64[1] = dense<6>
  %a : f32[2,3] = Identity(%x)
  %d : f32[2,3] = Dropout(%a)
  %c : f32[2,3] = Cast(%d) {to = 1 : int}
  %r1 : f32[3,2] = Reshape(%c, %s1)
  %r2 : f32[6] = Reshape(%r1, %s2)
  %n : f32[6] = Neg(%r2)
  %i : i64[6] = Cast(%n) {to = 7 : int}
  %out : f32[6] = Identity(%n)
  output %out
  output %i
}
