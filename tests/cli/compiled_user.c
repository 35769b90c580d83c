/*
 * compiled_user.c - a program as a user writes it against models built by
 * `pare compile --name relu|gemm|conv` (ONNX test cases test_relu,
 * test_gemm_default_vector_bias, test_conv_with_strides_padding): it includes
 * the generated headers, builds its own inputs, runs the models and checks
 * every output value exactly against a hand computation (all inputs are small
 * integers or halves, so float arithmetic is exact), then the status codes
 * NAME_run documents. tests/cli/test_compile.sh links it against the
 * objects, the static archives and the shared libraries in turn.
 * Prints one line per failed check and exits 1 if any failed.
 */
#include "conv.h"
#include "gemm.h"
#include "pare_runtime.h"
#include "relu.h"

#include <stdio.h>
#include <string.h>

static int checks, failures;

static void check(int ok, const char *what) {
  checks++;
  if (!ok) {
    failures++;
    printf("FAIL %s\n", what);
  }
}

static int same_floats(const float *got, const float *want, int n, const char *what) {
  for (int i = 0; i < n; i++)
    if (!(got[i] == want[i])) {
      printf("FAIL %s: element %d is %.9g, expected %.9g\n", what, i, (double)got[i],
             (double)want[i]);
      return 0;
    }
  return 1;
}

static void test_relu(void) {
  static const long long shape[] = RELU_INPUT_0_SHAPE;
  check(RELU_NUM_INPUTS == 1 && RELU_NUM_OUTPUTS == 1, "relu: 1 input, 1 output");
  check(RELU_INPUT_0_RANK == 3 && shape[0] == 3 && shape[1] == 4 && shape[2] == 5,
        "relu: input shape {3, 4, 5}");
  check(RELU_INPUT_0_NUMEL == 60 && RELU_INPUT_0_BYTES == 240 && RELU_OUTPUT_0_NUMEL == 60,
        "relu: NUMEL and BYTES");
  check(RELU_INPUT_0_DTYPE == 1, "relu: input dtype 1 (float)");
  check(strcmp(RELU_INPUT_0_NAME, "x") == 0 && strcmp(RELU_OUTPUT_0_NAME, "y") == 0,
        "relu: value names x, y");
  check(relu_workspace_size() == RELU_WORKSPACE_SIZE, "relu: workspace_size() == WORKSPACE_SIZE");

  float x[RELU_INPUT_0_NUMEL], y[RELU_OUTPUT_0_NUMEL], want[RELU_OUTPUT_0_NUMEL];
  for (int i = 0; i < RELU_INPUT_0_NUMEL; i++) {
    x[i] = (float)(i - 30) * 0.25f;
    want[i] = x[i] > 0 ? x[i] : 0.0f;
    y[i] = -1234.0f;
  }
  const void *in[] = {x};
  void *out[] = {y};
  void *ws = pare_rt_workspace_alloc(relu_workspace_size());
  check(ws != NULL, "relu: pare_rt_workspace_alloc");
  check(relu_run(in, out, ws) == 0, "relu: run returns 0");
  check(same_floats(y, want, RELU_OUTPUT_0_NUMEL, "relu output"), "relu: output values");
  if (RELU_WORKSPACE_SIZE == 0) check(relu_run(in, out, NULL) == 0, "relu: NULL workspace is fine");
  const void *null_in[] = {NULL};
  void *null_out[] = {NULL};
  check(relu_run(null_in, out, ws) == 2, "relu: NULL input pointer returns 2");
  check(relu_run(in, null_out, ws) == 2, "relu: NULL output pointer returns 2");
  check(relu_run(NULL, out, ws) == 2, "relu: NULL inputs array returns 2");
  check(relu_run(in, NULL, ws) == 2, "relu: NULL outputs array returns 2");
  pare_rt_workspace_free(ws);
}

static void test_gemm(void) {
  enum { M = 2, K = 7, N = 4 };
  check(GEMM_NUM_INPUTS == 3 && GEMM_NUM_OUTPUTS == 1, "gemm: 3 inputs, 1 output");
  check(GEMM_INPUT_0_NUMEL == M * K && GEMM_INPUT_1_NUMEL == K * N && GEMM_INPUT_2_NUMEL == N &&
            GEMM_OUTPUT_0_NUMEL == M * N,
        "gemm: NUMEL of a [2,7], b [7,4], c [1,4], y [2,4]");
  float a[M * K], b[K * N], c[N], y[M * N], want[M * N];
  for (int i = 0; i < M * K; i++) a[i] = (float)(i % 9 - 4);
  for (int i = 0; i < K * N; i++) b[i] = (float)(i % 5 - 2);
  for (int j = 0; j < N; j++) c[j] = (float)j - 1.5f;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = c[j];
      for (int k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
      want[i * N + j] = s;
    }
  const void *in[] = {a, b, c};
  void *out[] = {y};
  void *ws = pare_rt_workspace_alloc(gemm_workspace_size());
  check(gemm_run(in, out, ws) == 0, "gemm: run returns 0");
  check(same_floats(y, want, M * N, "gemm output"), "gemm: output values");
  const void *missing_b[] = {a, NULL, c};
  check(gemm_run(missing_b, out, ws) == 2, "gemm: NULL second input returns 2");
  pare_rt_workspace_free(ws);
}

static void test_conv(void) {
  enum { H = 7, W = 5, OH = 4, OW = 3 };
  static const long long oshape[] = CONV_OUTPUT_0_SHAPE;
  check(CONV_OUTPUT_0_RANK == 4 && oshape[2] == OH && oshape[3] == OW, "conv: output [1,1,4,3]");
  check(CONV_WORKSPACE_SIZE > 0, "conv: needs a workspace (CONV_WORKSPACE_SIZE > 0)");
  check(conv_workspace_size() == CONV_WORKSPACE_SIZE, "conv: workspace_size() == WORKSPACE_SIZE");
  float x[H * W], w[9], y[OH * OW], want[OH * OW];
  for (int i = 0; i < H * W; i++) x[i] = (float)(i % 11 - 5);
  for (int k = 0; k < 9; k++) w[k] = (float)(k - 4);
  /* strides 2, pads 1 on every side, kernel 3x3 */
  for (int oh = 0; oh < OH; oh++)
    for (int ow = 0; ow < OW; ow++) {
      float s = 0;
      for (int kh = 0; kh < 3; kh++)
        for (int kw = 0; kw < 3; kw++) {
          int ih = oh * 2 - 1 + kh, iw = ow * 2 - 1 + kw;
          if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += x[ih * W + iw] * w[kh * 3 + kw];
        }
      want[oh * OW + ow] = s;
    }
  const void *in[] = {x, w};
  void *out[] = {y};
  check(conv_run(in, out, NULL) == 1, "conv: NULL workspace returns 1");
  void *ws = pare_rt_workspace_alloc(conv_workspace_size());
  check(ws != NULL && ((size_t)ws % PARE_RT_WORKSPACE_ALIGNMENT) == 0,
        "conv: workspace 64-byte aligned");
  /* The workspace holds nothing between calls: garbage in it must not matter. */
  if (ws) memset(ws, 0xff, conv_workspace_size());
  check(conv_run(in, out, ws) == 0, "conv: run returns 0");
  check(same_floats(y, want, OH * OW, "conv output"), "conv: output values");
  const void *null_in[] = {x, NULL};
  check(conv_run(null_in, out, ws) == 2, "conv: NULL input pointer returns 2");
  pare_rt_workspace_free(ws);
}

int main(void) {
  test_relu();
  test_gemm();
  test_conv();
  check(strstr(pare_rt_status_string(1), "workspace") != NULL, "runtime: status 1 message");
  printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
