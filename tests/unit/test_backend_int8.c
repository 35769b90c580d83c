/*
 * test_backend_int8.c - the int8 kernels of backend/emit_int8.c against the
 * interpreter on the same QDQ graphs.
 *
 * Each case is a Conv, Gemm or MatMul in QDQ form (u8 activations with a
 * zero point, or i8 ones, which run shifted by 128; per-channel i8 weights) with shapes that reach
 * the kernels' edges: K not a multiple of 4, output channels not a multiple of the 6-row block,
 * pixel / column counts not a multiple of 16 or 8, padding, strides 1-4, dilation, 1-D convs, a
 * batch of 2, packed images split in chunks of rows or pixels with a tail, fused Relu and residual
 * Add epilogues. Inputs reach past the quantized range, so saturation is exercised. Every case is
 * compiled for the host CPU (VNNI where it has it), for x86-64 with AVX2 (vpmaddubsw with 7-bit
 * weights, vpmaddwd on i16 with 8-bit) and for plain x86-64 (generic IR), and must agree with the
 * interpreter within 1e-4 relative; the object's weight bytes must be exactly the int8 form's
 * (packed weights plus three f32/i32 per-channel arrays), so the f32
 * weight was not emitted.
 */
#include "backend/backend.h"
#include "check.h"
#include "interp/interp.h"
#include "ir/text.h"
#include "ops/ops.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 777;

static float frand(void) {
  rng = rng * 1664525u + 1013904223u;
  return (float)((rng >> 8) & 0xffffff) / (float)0x800000 - 1.0f; /* [-1, 1) */
}

typedef struct sbuf {
  char buf[1 << 20];
  size_t len;
} sbuf;

static void sb(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, fmt, ap);
  va_end(ap);
  if (n > 0) b->len += (size_t)n;
}

static void dims_str(sbuf *b, const int64_t *d, int rank) {
  sb(b, "[");
  for (int i = 0; i < rank; i++) sb(b, "%s%lld", i ? "," : "", (long long)d[i]);
  sb(b, "]");
}

static int64_t numel(const int64_t *d, int rank) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= d[i];
  return n;
}

/* The QDQ prologue for input %x: %xq, %xdq; weights %wq [dims] with qmax,
 * scales %ws [ch] along axis. */
static int act_i8; /* i8 activations (zero point -28) instead of u8 (100) */

static void qdq(sbuf *b, const int64_t *xd, int xr, const int64_t *wd, int wr, int axis, int qmax) {
  const char *at = act_i8 ? "i8" : "u8";
  sb(b, "  const %%xs : f32[] = dense<0.02>\n  const %%xz : %s[] = dense<%d>\n", at,
     act_i8 ? -28 : 100);
  sb(b, "  const %%wq : i8");
  dims_str(b, wd, wr);
  sb(b, " = dense<");
  int64_t n = numel(wd, wr);
  for (int64_t i = 0; i < n; i++) {
    int v = (int)lrintf(frand() * (float)qmax);
    /* Both extremes appear: the worst case of the pair sums. */
    if (i == 0) v = qmax == 64 ? 64 : -128;
    if (i == 1) v = qmax;
    sb(b, "%s%d", i ? ", " : "", v);
  }
  sb(b, ">\n  const %%ws : f32[%lld] = dense<", (long long)wd[axis]);
  for (int64_t i = 0; i < wd[axis]; i++) sb(b, "%s%.6g", i ? ", " : "", 0.006 + 0.005 * frand());
  sb(b, ">\n");
  sb(b, "  %%xq : %s", at);
  dims_str(b, xd, xr);
  sb(b, " = QuantizeLinear(%%x, %%xs, %%xz)\n  %%xdq : f32");
  dims_str(b, xd, xr);
  sb(b, " = DequantizeLinear(%%xq, %%xs, %%xz)\n  %%wdq : f32");
  dims_str(b, wd, wr);
  sb(b, " = DequantizeLinear(%%wq, %%ws) {axis = %d}\n", axis);
}

typedef struct tcase {
  const char *name;
  int kind; /* 0 conv, 1 gemm, 2 matmul */
  int64_t xd[4];
  int xr;
  int64_t wd[4];
  int wr;
  const char *attrs; /* conv / gemm attributes */
  int bias, relu, residual;
  int64_t yd[4];
} tcase;

static const tcase cases[] = {
    {"conv3x3-pad",
     0,
     {1, 5, 9, 9},
     4,
     {7, 5, 3, 3},
     4,
     "pads = [1, 1, 1, 1]",
     1,
     1,
     0,
     {1, 7, 9, 9}},
    {"conv3x3-stride2",
     0,
     {1, 3, 17, 17},
     4,
     {16, 3, 3, 3},
     4,
     "pads = [1, 1, 1, 1], strides = [2, 2]",
     1,
     0,
     0,
     {1, 16, 9, 9}},
    {"conv1x1-flat-residual", 0, {2, 6, 5, 7}, 4, {13, 6, 1, 1}, 4, "", 1, 0, 1, {2, 13, 5, 7}},
    {"conv-dilated-stride3",
     0,
     {1, 4, 13, 20},
     4,
     {5, 4, 3, 3},
     4,
     "pads = [2, 1, 2, 0], strides = [1, 3], dilations = [2, 2]",
     0,
     1,
     0,
     {1, 5, 13, 6}},
    {"conv5x5-stride4",
     0,
     {1, 2, 23, 29},
     4,
     {3, 2, 5, 5},
     4,
     "strides = [4, 4]",
     1,
     0,
     0,
     {1, 3, 5, 7}},
    {"conv1d", 0, {1, 4, 20}, 3, {6, 4, 3}, 3, "pads = [1, 1]", 1, 0, 0, {1, 6, 20}},
    /* Packed images over the chunk size: row chunks and a tail chunk. */
    {"conv3x3-chunked-rows",
     0,
     {1, 64, 24, 23},
     4,
     {10, 64, 3, 3},
     4,
     "pads = [1, 1, 1, 1]",
     1,
     1,
     0,
     {1, 10, 24, 23}},
    {"conv1x1-chunked-pixels",
     0,
     {1, 256, 30, 31},
     4,
     {8, 256, 1, 1},
     4,
     "",
     1,
     0,
     1,
     {1, 8, 30, 31}},
    {"gemm-transb-bias", 1, {3, 37}, 2, {21, 37}, 2, "transB = 1", 1, 1, 0, {3, 21}},
    {"gemm-plain", 1, {8, 16}, 2, {16, 16}, 2, "", 0, 0, 0, {8, 16}},
    {"matmul-batched-add", 2, {2, 5, 19}, 3, {19, 10}, 2, "", 0, 0, 1, {2, 5, 10}},
    {"matmul-2d", 2, {1, 64}, 2, {64, 33}, 2, "", 0, 0, 0, {1, 33}},
};

static char *build(const tcase *t, int qmax) {
  static sbuf b;
  b.len = 0;
  int axis = t->kind == 0 ? 0 : (t->kind == 1 && strstr(t->attrs, "transB")) ? 0 : 1;
  int64_t ch = t->wd[axis];
  sb(&b, "graph @t opset 17 {\n  input %%x : f32");
  dims_str(&b, t->xd, t->xr);
  sb(&b, "\n");
  if (t->residual) {
    sb(&b, "  input %%r : f32");
    dims_str(&b, t->yd, t->xr);
    sb(&b, "\n");
  }
  qdq(&b, t->xd, t->xr, t->wd, t->wr, axis, qmax);
  if (t->bias) {
    sb(&b, "  const %%b : f32[%lld] = dense<", (long long)ch);
    for (int64_t i = 0; i < ch; i++) sb(&b, "%s%.6g", i ? ", " : "", frand());
    sb(&b, ">\n");
  }
  static const char *const ops[] = {"Conv", "Gemm", "MatMul"};
  sb(&b, "  %%y0 : f32");
  dims_str(&b, t->yd, t->xr);
  sb(&b, " = %s(%%xdq, %%wdq%s)", ops[t->kind], t->bias ? ", %b" : "");
  if (t->kind == 0) {
    sb(&b, " {kernel_shape = ");
    dims_str(&b, t->wd + 2, t->wr - 2);
    sb(&b, "%s%s}\n", t->attrs[0] ? ", " : "", t->attrs);
  } else {
    sb(&b, t->attrs[0] ? " {%s}\n" : "%s\n", t->attrs);
  }
  const char *last = "%y0";
  if (t->relu || t->residual) {
    sb(&b, "  %%y : f32");
    dims_str(&b, t->yd, t->xr);
    sb(&b, t->relu ? " = Relu(%%y0)\n" : " = Add(%%y0, %%r)\n");
    last = "%y";
  }
  sb(&b, "  output %s\n}\n", last);
  return b.buf;
}

/* Expected object bytes: packed weights + corr + scale (+ bias). */
static int64_t int8_bytes(const tcase *t) {
  if (t->kind == 0) {
    int64_t K = numel(t->wd + 1, t->wr - 1), K4 = (K + 3) / 4, CO = t->wd[0];
    return CO * K4 * 4 + CO * 4 * (2 + t->bias);
  }
  int tb = t->kind == 1 && strstr(t->attrs, "transB");
  int64_t K = tb ? t->wd[1] : t->wd[0], N = tb ? t->wd[0] : t->wd[1];
  int64_t K4 = (K + 3) / 4, ldb = (N + 15) / 16 * 16;
  return K4 * ldb * 4 + ldb * 4 * (2 + t->bias);
}

static pare_tensor *random_tensor(const pare_shape *s) {
  pare_err err;
  pare_tensor *t = pare_tensor_new(PARE_F32, s, &err);
  float *d = t->data;
  for (int64_t i = 0; i < pare_tensor_numel(t); i++) d[i] = 2.5f * frand() + 0.3f;
  return t;
}

static void run_case(const tcase *t, int qmax, const char *cpu, const char *features) {
  pare_err err;
  const char *text = build(t, qmax);
  pare_graph *g = pare_graph_parse(text, t->name, NULL, &err);
  CHECK_MSG(g != NULL, "%s: %s\n%s", t->name, err.msg, text);
  if (!g) return;
  CHECK_MSG(pare_infer_shapes(g, &err) == PARE_OK, "%s: %s", t->name, err.msg);
  pare_cg_opts o = {.name = "t", .opt_level = 2, .cpu = cpu, .features = features};
  pare_module *m = pare_codegen(g, &o, &err);
  CHECK_MSG(m != NULL, "%s (%s): %s", t->name, cpu, err.msg);
  if (!m) {
    pare_graph_free(g);
    return;
  }
  CHECK_MSG(pare_module_stats(m)->n_int8 == 1, "%s (%s): not on the int8 kernel", t->name, cpu);
  int64_t wbytes = pare_module_stats(m)->weight_bytes;
  CHECK_MSG(wbytes == int8_bytes(t), "%s (%s): object weights %lld bytes, int8 form %lld", t->name,
            cpu, (long long)wbytes, (long long)int8_bytes(t));
  pare_jit *j = NULL;
  if (pare_module_optimize(m, &err) == PARE_OK)
    j = pare_jit_create(m, &err);
  else
    pare_module_free(m);
  CHECK_MSG(j != NULL, "%s (%s): %s", t->name, cpu, err.msg);
  if (!j) {
    pare_graph_free(g);
    return;
  }
  pare_tensor *in[2] = {0}, *ref[1] = {0};
  for (int i = 0; i < g->n_inputs; i++) in[i] = random_tensor(&g->values[g->inputs[i]]->shape);
  CHECK_MSG(pare_interp_run(g, in, ref, &err) == PARE_OK, "%s: %s", t->name, err.msg);
  pare_tensor *out = pare_tensor_new(PARE_F32, &g->values[g->outputs[0]]->shape, &err);
  void *ws = pare_aligned_alloc(pare_jit_ws_fn(j)() + 64);
  const void *ins[2] = {in[0]->data, in[1] ? in[1]->data : NULL};
  void *outs[1] = {out->data};
  CHECK(pare_jit_run_fn(j)(ins, outs, ws) == 0);
  double worst = 0;
  for (int64_t i = 0; ref[0] && i < pare_tensor_numel(out); i++) {
    double r = ((float *)ref[0]->data)[i], v = ((float *)out->data)[i];
    double d = fabs(v - r) / (1 + fabs(r));
    if (!(d <= worst)) worst = d;
  }
  CHECK_MSG(worst <= 1e-4, "%s (%s, |w| <= %d): max relative |jit - interp| %.3g", t->name, cpu,
            qmax, worst);
  pare_aligned_free(ws);
  pare_tensor_free(out);
  pare_tensor_free(ref[0]);
  for (int i = 0; i < 2; i++) pare_tensor_free(in[i]);
  pare_jit_free(j);
  pare_graph_free(g);
}

static void run_all(const char *cpu, const char *features) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    run_case(&cases[i], 127, cpu, features);
    run_case(&cases[i], 64, cpu, features);
  }
}

static void test_i8_activations(void) {
  act_i8 = 1;
  run_all("native", NULL);
  act_i8 = 0;
}

static void test_native(void) {
  run_all("native", NULL);
}

static void test_avx2(void) {
  run_all("x86-64", "+avx2,+fma");
}

static void test_x86_64(void) {
  run_all("x86-64", NULL);
}

static void test_not_qdq_stays_f32(void) {
  /* Weight zero points other than 0 are not the kernels' form: the Q/DQ
   * nodes run on their own and the conv in f32 (its weight dequantized at
   * run time). */
  pare_err err;
  const char *text = "graph @t opset 17 {\n"
                     "  input %x : f32[1,2,2,2]\n"
                     "  const %s : f32[] = dense<0.1>\n"
                     "  const %z : i8[] = dense<3>\n"
                     "  const %wq : i8[1,2,1,1] = dense<10, -20>\n"
                     "  const %ws : f32[1] = dense<0.5>\n"
                     "  %xq : i8[1,2,2,2] = QuantizeLinear(%x, %s, %z)\n"
                     "  %xdq : f32[1,2,2,2] = DequantizeLinear(%xq, %s, %z)\n"
                     "  const %wz : i8[1] = dense<2>\n"
                     "  %wdq : f32[1,2,1,1] = DequantizeLinear(%wq, %ws, %wz) {axis = 0}\n"
                     "  %y : f32[1,1,2,2] = Conv(%xdq, %wdq) {kernel_shape = [1, 1]}\n"
                     "  output %y\n}\n";
  pare_graph *g = pare_graph_parse(text, "i8", NULL, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (!g) return;
  pare_cg_opts o = {.name = "t", .opt_level = 2};
  pare_module *m = pare_codegen(g, &o, &err);
  CHECK_MSG(m != NULL, "%s", err.msg);
  if (m) {
    CHECK(pare_module_stats(m)->n_kernels == 4);
    CHECK(pare_module_stats(m)->n_int8 == 0);
    pare_jit *j = pare_module_optimize(m, &err) == PARE_OK ? pare_jit_create(m, &err) : NULL;
    CHECK_MSG(j != NULL, "%s", err.msg);
    if (j) {
      float x[8] = {0.1f, -0.25f, 1, 30, -30, 0.05f, 0.15f, 2}, y[4];
      pare_shape xs = pare_shape_make(4, (int64_t[]){1, 2, 2, 2});
      pare_tensor *in = pare_tensor_new(PARE_F32, &xs, &err), *ref[1] = {0};
      memcpy(in->data, x, sizeof x);
      CHECK(pare_interp_run(g, &in, ref, &err) == PARE_OK);
      const void *ins[1] = {x};
      void *outs[1] = {y};
      void *ws = pare_aligned_alloc(pare_jit_ws_fn(j)() + 64);
      CHECK(pare_jit_run_fn(j)(ins, outs, ws) == 0);
      for (int i = 0; i < 4 && ref[0]; i++) CHECK_NEAR(y[i], ((float *)ref[0]->data)[i], 1e-6);
      pare_aligned_free(ws);
      pare_tensor_free(in);
      pare_tensor_free(ref[0]);
      pare_jit_free(j);
    }
  }
  pare_graph_free(g);
}

static void test_shared_qdq(void) {
  /* One Q/DQ pair feeding two convs and a Relu, as ONNX Runtime writes
   * QDQ models (with an i32 bias through DequantizeLinear, computed at run
   * time): both convs run int8 and the pair stays for the Relu. */
  pare_err err;
  const char *text = "graph @t opset 17 {\n"
                     "  input %x : f32[1,2,3,3]\n"
                     "  const %s : f32[] = dense<0.01>\n"
                     "  const %z : u8[] = dense<128>\n"
                     "  const %w1 : i8[3,2,1,1] = dense<10, -20, 127, -128, 5, 6>\n"
                     "  const %w2 : i8[1,2,3,3] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -2, -3, "
                     "-4, -5, -6, -7, -8, -9>\n"
                     "  const %s1 : f32[3] = dense<0.5, 0.25, 0.125>\n"
                     "  const %s2 : f32[] = dense<0.05>\n"
                     "  %xq : u8[1,2,3,3] = QuantizeLinear(%x, %s, %z)\n"
                     "  %xdq : f32[1,2,3,3] = DequantizeLinear(%xq, %s, %z)\n"
                     "  %d1 : f32[3,2,1,1] = DequantizeLinear(%w1, %s1) {axis = 0}\n"
                     "  %d2 : f32[1,2,3,3] = DequantizeLinear(%w2, %s2)\n"
                     "  const %bq : i32[3] = dense<100, -200, 300>\n"
                     "  const %bs : f32[] = dense<0.005>\n"
                     "  %bd : f32[3] = DequantizeLinear(%bq, %bs)\n"
                     "  %a : f32[1,3,3,3] = Conv(%xdq, %d1, %bd) {kernel_shape = [1, 1]}\n"
                     "  %b : f32[1,1,3,3] = Conv(%xdq, %d2) {kernel_shape = [3, 3], pads = [1, "
                     "1, 1, 1]}\n"
                     "  %r : f32[1,2,3,3] = Relu(%xdq)\n"
                     "  output %a\n  output %b\n  output %r\n}\n";
  pare_graph *g = pare_graph_parse(text, "shared", NULL, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (!g) return;
  pare_cg_opts o = {.name = "t", .opt_level = 2};
  pare_module *m = pare_codegen(g, &o, &err);
  CHECK_MSG(m != NULL, "%s", err.msg);
  pare_jit *j = NULL;
  if (m) {
    CHECK(pare_module_stats(m)->n_int8 == 2);
    j = pare_module_optimize(m, &err) == PARE_OK ? pare_jit_create(m, &err) : NULL;
    CHECK_MSG(j != NULL, "%s", err.msg);
  }
  if (j) {
    pare_tensor *in = random_tensor(&g->values[g->inputs[0]]->shape), *ref[3] = {0};
    CHECK(pare_interp_run(g, &in, ref, &err) == PARE_OK);
    pare_tensor *out[3];
    void *outs[3];
    for (int i = 0; i < 3; i++) {
      out[i] = pare_tensor_new(PARE_F32, &g->values[g->outputs[i]]->shape, &err);
      outs[i] = out[i]->data;
    }
    const void *ins[1] = {in->data};
    void *ws = pare_aligned_alloc(pare_jit_ws_fn(j)() + 64);
    CHECK(pare_jit_run_fn(j)(ins, outs, ws) == 0);
    for (int i = 0; i < 3; i++) {
      for (int64_t e = 0; ref[i] && e < pare_tensor_numel(out[i]); e++)
        CHECK_NEAR(((float *)out[i]->data)[e], ((float *)ref[i]->data)[e], 1e-4);
      pare_tensor_free(out[i]);
      pare_tensor_free(ref[i]);
    }
    pare_aligned_free(ws);
    pare_tensor_free(in);
    pare_jit_free(j);
  }
  pare_graph_free(g);
}

int main(void) {
  RUN(test_native);
  RUN(test_avx2);
  RUN(test_x86_64);
  RUN(test_i8_activations);
  RUN(test_shared_qdq);
  RUN(test_not_qdq_stays_f32);
  return check_summary();
}
