# PASSES: fold-constants<max-mib=lots>
# EXPECT-ERROR: pass 'fold-constants': option 'max-mib' expects an integer, not 'lots'
graph @e opset 17 {
  input %x : f32[2]
  %y : f32[2] = Relu(%x)
  output %y
}
