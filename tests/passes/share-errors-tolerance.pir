# PASSES: share<tolerance=-1>
# EXPECT-ERROR: pass 'share': option 'tolerance' must be a finite number >= 0, not -1
graph @s opset 17 {
  input %x : f32[1,2]
  const %a : f32[2,2] = dense<1, 2, 3, 4>
  %y : f32[1,2] = Gemm(%x, %a)
  output %y
}
