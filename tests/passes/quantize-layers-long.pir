# PASSES: quantize<bits=4;symmetric=1;clip=0;scale-dtype=f32;method=rtn;layers=unused.layer.000+unused.layer.001+unused.layer.002+unused.layer.003+unused.layer.004+unused.layer.005+unused.layer.006+unused.layer.007+unused.layer.008+unused.layer.009+unused.layer.010+unused.layer.011+unused.layer.012+unused.layer.013+unused.layer.014+unused.layer.015+unused.layer.016+unused.layer.017+unused.layer.018+unused.layer.019+unused.layer.020+unused.layer.021+unused.layer.022+unused.layer.023+unused.layer.024+unused.layer.025+unused.layer.026+unused.layer.027+unused.layer.028+unused.layer.029+unused.layer.030+unused.layer.031+unused.layer.032+unused.layer.033+unused.layer.034+unused.layer.035+unused.layer.036+unused.layer.037+unused.layer.038+unused.layer.039+second>
# An option value has no length limit (a search's layers= lists run to
# kilobytes): forty names that match no layer, then @second, which is
# quantized as in quantize-layers.pir; @first is not.
# CHECK: const %w1 : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>{{$}}
# CHECK: const %w2 : f32[2,4] = dense<10, -21.428572, 34.285713, 0, 1.4285715, 50, 60, -80> quant<bits=4, symmetric=1, axis=1, group_size=0>
graph @q opset 17 {
  input %x : f32[3,4]
  const %w1 : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>
  const %b : f32[2] = dense<0.5, -0.5>
  const %w2 : f32[2,4] = dense<10, -20, 30, 5, 1, 50, 60, -80>
  %g : f32[3,2] = Gemm(%x, %w1, %b) {transB = 1 : int} @first
  %y : f32[3,4] = MatMul(%g, %w2) @second
  output %y
}
