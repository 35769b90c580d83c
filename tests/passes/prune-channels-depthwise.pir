# PASSES: prune-channels<ratio=0.5;round=2;min-channels=2;score-consumers=0>
# pointwise conv -> per-channel Mul and scalar Add -> BatchNormalization ->
# depthwise 3x3 conv (group 4) -> hardswish as Add/Clip/Mul/Div with scalars
# -> pointwise conv. Row norms 2, 1, 4, 3: channels 2 and 3 stay. The
# per-channel constants ([1,4,1,1], [4] BN params), the depthwise weight and
# bias are sliced; the scalars and the Clip bounds are not. The depthwise
# conv's group becomes 2.
# CHECK-DAG: const %w1.pruned : f32[2,1,1,1] = dense<4, 3>
# CHECK-DAG: const %s.pruned : f32[1,2,1,1] = dense<30, 40>
# CHECK-DAG: const %gamma.pruned : f32[2] = dense<1.3, 1.4>
# CHECK-DAG: const %beta.pruned : f32[2] = dense<0.3, 0.4>
# CHECK-DAG: const %mean.pruned : f32[2] = dense<0.03, 0.04>
# CHECK-DAG: const %var.pruned : f32[2] = dense<3, 4>
# CHECK-DAG: const %dw.pruned : f32[2,1,3,3] = dense<3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4>
# CHECK-DAG: const %dwb.pruned : f32[2] = dense<-3, -4>
# CHECK-DAG: const %w2.pruned : f32[2,2,1,1] = dense<3, 4, 7, 8>
# CHECK-DAG: const %three : f32[] = dense<3>
# CHECK: %c1 : f32[1,2,4,4] = Conv(%x, %w1.pruned) {kernel_shape = [1, 1] : ints} @pw1
# CHECK-NEXT: %m : f32[1,2,4,4] = Mul(%s.pruned, %c1)
# CHECK-NEXT: %a : f32[1,2,4,4] = Add(%m, %three)
# CHECK-NEXT: %bn : f32[1,2,4,4] = BatchNormalization(%a, %gamma.pruned, %beta.pruned, %mean.pruned, %var.pruned)
# CHECK-NEXT: %d : f32[1,2,4,4] = Conv(%bn, %dw.pruned, %dwb.pruned) {kernel_shape = [3, 3] : ints, pads = [1, 1, 1, 1] : ints, group = 2 : int} @dw
# CHECK-NEXT: %h1 : f32[1,2,4,4] = Add(%d, %three)
# CHECK-NEXT: %h2 : f32[1,2,4,4] = Clip(%h1, %zero, %six)
# CHECK-NEXT: %h3 : f32[1,2,4,4] = Mul(%d, %h2)
# CHECK-NEXT: %h : f32[1,2,4,4] = Div(%h3, %six)
# CHECK-NEXT: %y : f32[1,2,4,4] = Conv(%h, %w2.pruned) {kernel_shape = [1, 1] : ints} @pw2
graph @dw opset 17 {
  input %x : f32[1,1,4,4]
  const %w1 : f32[4,1,1,1] = dense<2, 1, 4, 3>
  const %s : f32[1,4,1,1] = dense<10, 20, 30, 40>
  const %three : f32[] = dense<3>
  const %zero : f32[] = dense<0>
  const %six : f32[] = dense<6>
  const %gamma : f32[4] = dense<1.1, 1.2, 1.3, 1.4>
  const %beta : f32[4] = dense<0.1, 0.2, 0.3, 0.4>
  const %mean : f32[4] = dense<0.01, 0.02, 0.03, 0.04>
  const %var : f32[4] = dense<1, 2, 3, 4>
  const %dw : f32[4,1,3,3] = dense<1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4>
  const %dwb : f32[4] = dense<-1, -2, -3, -4>
  const %w2 : f32[2,4,1,1] = dense<1, 2, 3, 4, 5, 6, 7, 8>
  %c1 : f32[1,4,4,4] = Conv(%x, %w1) {kernel_shape = [1, 1]} @pw1
  %m : f32[1,4,4,4] = Mul(%s, %c1)
  %a : f32[1,4,4,4] = Add(%m, %three)
  %bn : f32[1,4,4,4] = BatchNormalization(%a, %gamma, %beta, %mean, %var)
  %d : f32[1,4,4,4] = Conv(%bn, %dw, %dwb) {group = 4, kernel_shape = [3, 3], pads = [1, 1, 1, 1]} @dw
  %h1 : f32[1,4,4,4] = Add(%d, %three)
  %h2 : f32[1,4,4,4] = Clip(%h1, %zero, %six)
  %h3 : f32[1,4,4,4] = Mul(%d, %h2)
  %h : f32[1,4,4,4] = Div(%h3, %six)
  %y : f32[1,2,4,4] = Conv(%h, %w2) {kernel_shape = [1, 1]} @pw2
  output %y
}
