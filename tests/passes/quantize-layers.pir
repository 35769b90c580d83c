# PASSES: quantize<bits=4;symmetric=1;clip=0;scale-dtype=f32;method=rtn;layers=second>
# layers= names the layers a pass may touch: only the MatMul @second is
# quantized (the values of quantize-rtn-sym.pir's %w2); the Gemm @first
# keeps its f32 weight, unencoded.
# CHECK: const %w1 : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>{{$}}
# CHECK: const %w2 : f32[2,4] = dense<10, -21.428572, 34.285713, 0, 1.4285715, 50, 60, -80> quant<bits=4, symmetric=1, axis=1, group_size=0> {packed = u8[4] dense<215, 4, 113, 151>, scales = f32[4] dense<1.4285715, 7.142857, 8.571428, 11.428572>}
graph @q opset 17 {
  input %x : f32[3,4]
  const %w1 : f32[2,4] = dense<0.1, -0.8, 0.3, -0.05, 2, -0.2, 0.7, 0.01>
  const %b : f32[2] = dense<0.5, -0.5>
  const %w2 : f32[2,4] = dense<10, -20, 30, 5, 1, 50, 60, -80>
  %g : f32[3,2] = Gemm(%x, %w1, %b) {transB = 1 : int} @first
  %y : f32[3,4] = MatMul(%g, %w2) @second
  output %y
}
