# A small CNN-like graph in pare's textual IR (see ir/text.h for the grammar).
graph @basic opset 17 {
  input %image : f32[N,1,28,28]

  const %conv.w : f32[4,1,3,3] = dense<0.1>          # splat: every element 0.1
  const %conv.b : f32[4] = dense<0, 0.5, -0.5, 1>
  const %shape : i64[2] = dense<-1, 784>
  const %fc.w : f32[784,10] = dense<0>
  const %k : i64[1] = dense<1>
  const %fc.b : f32[10] = dense<0, 1, 2, 3, 4, 5, 6, 7, 8, 9>

  %conv : f32[N,4,28,28] = Conv(%image, %conv.w, %conv.b) {
      kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [1, 1], group = 1} @conv1
  %relu : f32[N,4,28,28] = Relu(%conv) @relu1
  %pool : f32[N,4,14,14] = MaxPool(%relu) {kernel_shape = [2, 2], strides = [2, 2]}
  %flat : f32[N,784] = Reshape(%pool, %shape)
  %logits : f32[N,10] = Gemm(%flat, %fc.w, %fc.b) {alpha = 1.0, beta = 1.0, transB = 0}
  %probs : f32[N,10] = Softmax(%logits) {axis = -1}
  %top : f32[N,1], %idx : i64[N,1] = TopK(%probs, %k) {axis = -1 : int, largest = 1, sorted = 1}
  output %probs
  output %idx
}
