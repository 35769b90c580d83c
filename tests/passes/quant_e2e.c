/*
 * quant_e2e.c - QUANT and CODEBOOK weights through the generated code's
 * low-bit kernels (backend/emit_quant.c, the JIT) against the reference
 * interpreter on the same encoded graph.
 *
 *   pare_quant_e2e --synthetic
 *   pare_quant_e2e --model M.onnx --data DIR [--sets N] [--bits B] [--group G]
 *                  [--codebook layer|channel|scaled] [--time REPEAT] [--save OUT.pir]
 *
 * --synthetic builds small Conv (1x1 direct, 3x3 padded whole im2col,
 * implicit-im2col panels, strided, grouped, depthwise with and without a
 * multiplier, 1-D), Gemm (transB 0/1, transA, general and per-row C) and
 * MatMul (2-D, batched A with one and two batch dims) graphs, encodes the
 * weight with the tiny round-to-nearest and uniform-codebook encoders
 * below (test code only: the real passes live in passes/), and checks
 * (1) that the JIT's outputs agree with the interpreter's within 1e-4 of
 * the output's magnitude and (2) that the object's weight bytes are
 * exactly those of the kernels' form: the unencoded graph's bytes minus
 * the dense kernel's fp32 array, plus pare_encoding_bytes of the encoding
 * plus the padding emit_quant.c documents (chunks of 16 fields, B-side
 * parameters per 16-lane panel, i32 outlier runs). Encodings: every bit
 * width 1..8 asymmetric per channel and symmetric 2/3/4/8 (the widths
 * other than 4 on one layer of each kernel path: conv, depthwise, Gemm,
 * batched MatMul), groups of 16/32/64/128 along K (K not a multiple),
 * f16 scales and zero points, per tensor, outliers, and codebooks per
 * layer, per channel, scaled shared, per input row (Gemm/MatMul), and
 * with f16 entries. --bench REPEAT prints CPU-time medians of larger
 * layers, fp32 against encodings.
 * With --model, every constant Conv/Gemm/MatMul weight of the model is
 * RTN-encoded (default 4 bits, symmetric per channel), the first N sets
 * of DIR run through both engines, and the object's weight bytes must
 * stay within the encoded form plus the other constants (a dense copy of
 * any weight would exceed it); a missing model prints SKIP and passes.
 */
#include "driver/engine.h"
#include "frontend/onnx.h"
#include "ir/text.h"
#include "ops/ops.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* This test's random sequence (its weights and inputs). */
#define E2E_RNG_SEED 4242u
#include "e2e_util.h"

#define RTOL 1e-4

static int failed, passed;
/* -O level of the JIT: 2 for the synthetic sweep (its ~200 modules take
 * a third of the -O3 time; the kernels are explicit vector code either
 * way), 3 for models. */
static int jit_opt = 3;

/* -------------------------------------------------------------- encoders */

/* What to encode a weight as. */
/* CB_ROW: one codebook per reduction index of a 2-D Gemm/MatMul weight. */
typedef enum { CB_NONE = 0, CB_LAYER, CB_CHANNEL, CB_SCALED, CB_ROW } cb_form;

typedef struct qspec {
  const char *name;
  int bits, sym;
  int per_tensor;
  int64_t group; /* along K, 0: whole channel */
  int f16;       /* f16 scales / zero points / codebook */
  int outliers;  /* per mille of the weights kept exactly as outliers */
  cb_form cb;
  int every_layer; /* else only on the layers marked `sweep` */
} qspec;

static void put_bits(uint8_t *p, int64_t k, int bits, uint32_t v) {
  uint64_t pos = (uint64_t)k * (uint64_t)bits;
  for (int b = 0; b < bits; b++, pos++)
    if (v >> b & 1u) p[pos >> 3] |= (uint8_t)(1u << (pos & 7));
}

static pare_tensor *new_1d(pare_dtype dt, int64_t n) {
  pare_err err;
  pare_shape s = {.rank = 1, .dims = {n}};
  pare_tensor *t = pare_tensor_new(dt, &s, &err);
  if (!t) abort();
  return t;
}

/* ir.h's parameter group of element i (channel axis `axis`, groups of gs). */
static int64_t group_of(const pare_shape *s, int axis, int64_t gs, int64_t i) {
  int64_t numel = 1;
  for (int d = 0; d < s->rank; d++) numel *= s->dims[d];
  if (axis < 0) return gs > 0 ? i / gs : 0;
  int64_t inner = 1, outer = 1;
  for (int d = axis + 1; d < s->rank; d++) inner *= s->dims[d];
  for (int d = 0; d < axis; d++) outer *= s->dims[d];
  int64_t dim = s->dims[axis], ch = (i / inner) % dim;
  if (gs <= 0) return ch;
  int64_t pos = (i / (inner * dim)) * inner + i % inner;
  return ch * ((outer * inner + gs - 1) / gs) + pos / gs;
}

static float to_param(float v, int f16) {
  return f16 ? pare_f16_to_f32(pare_f32_to_f16(v)) : v;
}

static pare_tensor *param_tensor(const float *v, int64_t n, int f16) {
  pare_tensor *t = new_1d(f16 ? PARE_F16 : PARE_F32, n);
  for (int64_t i = 0; i < n; i++) pare_tensor_set_f64(t, i, v[i]);
  return t;
}

/* Round-to-nearest QUANT of w (shape s) along channel axis `axis`. */
static pare_encoding *encode_quant(const float *w, const pare_shape *s, int axis, const qspec *q) {
  int64_t numel = 1;
  for (int d = 0; d < s->rank; d++) numel *= s->dims[d];
  pare_encoding *e = calloc(1, sizeof *e);
  e->kind = PARE_ENC_QUANT, e->bits = q->bits, e->symmetric = q->sym;
  e->axis = q->per_tensor ? -1 : axis, e->group_size = q->group;
  int64_t ng = group_of(s, e->axis, e->group_size, numel - 1) + 1;
  float *mn = malloc((size_t)ng * 4), *mx = malloc((size_t)ng * 4);
  float *sc = malloc((size_t)ng * 4), *zp = malloc((size_t)ng * 4);
  for (int64_t g = 0; g < ng; g++) mn[g] = INFINITY, mx[g] = -INFINITY;
  for (int64_t i = 0; i < numel; i++) {
    int64_t g = group_of(s, e->axis, e->group_size, i);
    if (w[i] < mn[g]) mn[g] = w[i];
    if (w[i] > mx[g]) mx[g] = w[i];
  }
  int b = q->bits;
  int32_t qmin = q->sym ? -(1 << (b - 1)) : 0, qmax = q->sym ? (1 << (b - 1)) - 1 : (1 << b) - 1;
  for (int64_t g = 0; g < ng; g++) {
    if (q->sym) {
      float m = fmaxf(fabsf(mn[g]), fabsf(mx[g]));
      sc[g] = m / (float)(qmax > 0 ? qmax : 1), zp[g] = 0;
    } else {
      sc[g] = (mx[g] - mn[g]) / (float)qmax;
      if (!(sc[g] > 0)) sc[g] = 1;
      zp[g] = fminf(fmaxf(roundf(-mn[g] / sc[g]), 0), (float)qmax);
    }
    if (!(sc[g] > 0)) sc[g] = 1;
    sc[g] = to_param(sc[g], q->f16);
  }
  e->packed = new_1d(PARE_U8, (numel * b + 7) / 8);
  for (int64_t i = 0; i < numel; i++) {
    int64_t g = group_of(s, e->axis, e->group_size, i);
    float x = roundf(w[i] / sc[g]) + zp[g];
    int32_t v = (int32_t)fminf(fmaxf(x, (float)qmin), (float)qmax);
    put_bits(e->packed->data, i, b, (uint32_t)v & ((1u << b) - 1));
  }
  e->scales = param_tensor(sc, ng, q->f16);
  if (!q->sym) e->zeros = param_tensor(zp, ng, q->f16);
  free(mn), free(mx), free(sc), free(zp);
  return e;
}

/* Uniform (per layer, per channel) or scaled shared nonuniform codebooks. */
static pare_encoding *encode_codebook(const float *w, const pare_shape *s, int axis,
                                      const qspec *q) {
  int64_t numel = 1;
  for (int d = 0; d < s->rank; d++) numel *= s->dims[d];
  int64_t E = (int64_t)1 << q->bits, R = s->dims[axis];
  pare_encoding *e = calloc(1, sizeof *e);
  e->kind = PARE_ENC_CODEBOOK, e->bits = q->bits, e->axis = q->cb == CB_LAYER ? -1 : axis;
  int64_t tables = q->cb == CB_CHANNEL ? R : 1;
  float *cb = calloc((size_t)(tables * E), 4), *sc = calloc((size_t)R, 4);
  float *mn = malloc((size_t)R * 4), *mx = malloc((size_t)R * 4);
  for (int64_t r = 0; r < R; r++) mn[r] = INFINITY, mx[r] = -INFINITY;
  for (int64_t i = 0; i < numel; i++) {
    int64_t r = q->cb == CB_LAYER ? 0 : group_of(s, axis, 0, i);
    if (w[i] < mn[r]) mn[r] = w[i];
    if (w[i] > mx[r]) mx[r] = w[i];
  }
  for (int64_t t = 0; t < tables; t++)
    for (int64_t j = 0; j < E; j++) {
      float u = E > 1 ? (float)j / (float)(E - 1) : 0.5f;
      if (q->cb == CB_SCALED) {
        float x = 2 * u - 1;
        cb[j] = to_param(x * fabsf(x), q->f16); /* denser near zero */
      } else {
        cb[t * E + j] = to_param(mn[t] + (mx[t] - mn[t]) * u, q->f16);
      }
    }
  if (q->cb == CB_SCALED)
    for (int64_t r = 0; r < R; r++) {
      float m = fmaxf(fabsf(mn[r]), fabsf(mx[r]));
      sc[r] = to_param(m > 0 ? m : 1, q->f16);
    }
  e->packed = new_1d(PARE_U8, (numel * q->bits + 7) / 8);
  for (int64_t i = 0; i < numel; i++) {
    int64_t r = group_of(s, axis, 0, i), t = q->cb == CB_CHANNEL ? r : 0;
    float x = q->cb == CB_SCALED ? w[i] / sc[r] : w[i];
    int64_t best = 0;
    for (int64_t j = 1; j < E; j++)
      if (fabsf(cb[t * E + j] - x) < fabsf(cb[t * E + best] - x)) best = j;
    put_bits(e->packed->data, i, q->bits, (uint32_t)best);
  }
  e->codebook = param_tensor(cb, tables * E, q->f16);
  if (q->cb == CB_SCALED) e->scales = param_tensor(sc, R, q->f16);
  free(cb), free(sc), free(mn), free(mx);
  return e;
}

static int cmp_desc(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Encodes value v as q says (init becomes the decoded weights). */
static int encode_value(pare_value *val, int axis, const qspec *q, pare_err *err) {
  const float *w = val->init->data;
  int64_t numel = pare_tensor_numel(val->init);
  qspec rq = *q;
  if (q->cb == CB_ROW) rq.cb = CB_CHANNEL, axis = 1 - axis; /* the other axis of [K, N] / [N, K] */
  pare_encoding *e =
      q->cb ? encode_codebook(w, &val->shape, axis, &rq) : encode_quant(w, &val->shape, axis, q);
  pare_tensor *dec = pare_weight_decode(e, &val->shape, err);
  if (!dec) {
    pare_encoding_free(e);
    return PARE_ERR;
  }
  if (q->outliers) {
    /* The largest residuals, kept exactly (CSR over [dim0, rest]). */
    float *res = malloc((size_t)numel * 4), *sorted = malloc((size_t)numel * 4);
    const float *d = dec->data;
    for (int64_t i = 0; i < numel; i++) res[i] = w[i] - d[i], sorted[i] = fabsf(res[i]);
    qsort(sorted, (size_t)numel, 4, cmp_desc);
    int64_t n = numel * q->outliers / 1000 + 1;
    float thr = sorted[n - 1];
    int64_t rows = val->shape.dims[0], cols = numel / rows, nnz = 0;
    for (int64_t i = 0; i < numel; i++) nnz += fabsf(res[i]) >= thr && nnz < n;
    pare_encoding *o = calloc(1, sizeof *o);
    o->kind = PARE_ENC_SPARSE;
    o->row_ptr = new_1d(PARE_I64, rows + 1);
    o->col_idx = new_1d(PARE_I32, nnz);
    o->values = new_1d(PARE_F32, nnz);
    int64_t at = 0;
    for (int64_t r = 0; r < rows; r++) {
      ((int64_t *)o->row_ptr->data)[r] = at;
      for (int64_t k = 0; k < cols; k++)
        if (at < nnz && fabsf(res[r * cols + k]) >= thr) {
          ((int32_t *)o->col_idx->data)[at] = (int32_t)k;
          ((float *)o->values->data)[at++] = res[r * cols + k];
        }
    }
    ((int64_t *)o->row_ptr->data)[rows] = at;
    e->outliers = o;
    free(res), free(sorted);
    pare_tensor_free(dec);
    dec = pare_weight_decode(e, &val->shape, err);
    if (!dec) {
      pare_encoding_free(e);
      return PARE_ERR;
    }
  }
  pare_tensor_free(val->init);
  val->init = dec;
  pare_encoding_free(val->enc);
  val->enc = e;
  return PARE_OK;
}

/* -------------------------------------------------- the kernels' bytes */

/* How a layer's kernel holds its weight (emit_quant.c): the A side as
 * rows of R channels over K, the B side as 16-channel panels. */
typedef struct layer_form {
  int b_side;
  int kn; /* stored [K][R] */
  int64_t R, K;
  int64_t dense; /* bytes of the fp32 array the dense kernel emits */
} layer_form;

static int64_t esize(const pare_tensor *t) {
  return (int64_t)pare_dtype_size(t->dtype);
}

/* Bytes of e in the kernels' layout, and their padding over
 * pare_encoding_bytes(e). */
static int64_t form_bytes(const pare_encoding *e, const layer_form *f, int64_t *padding) {
  int64_t kp = (f->K + 15) / 16 * 16, panels = (f->R + 15) / 16, b = e->bits;
  /* B-side per-channel codebooks keep channel rows, padded to panels. */
  int b_rows = f->b_side && e->kind == PARE_ENC_CODEBOOK && !e->scales && e->axis == f->kn;
  int64_t total = b_rows      ? panels * kp * 2 * b
                  : f->b_side ? panels * f->K * 2 * b
                              : f->R * kp / 16 * 2 * b;
  int lanes = f->b_side && !(e->kind == PARE_ENC_QUANT && e->axis < 0);
  if (e->kind == PARE_ENC_QUANT) {
    const pare_tensor *ps[2] = {e->scales, e->symmetric ? NULL : e->zeros};
    for (int i = 0; i < 2; i++) {
      if (!ps[i]) continue;
      int64_t groups = pare_tensor_numel(ps[i]) / f->R;
      total += lanes ? panels * 16 * groups * esize(ps[i]) : (int64_t)ps[i]->nbytes;
    }
  } else {
    total += (int64_t)e->codebook->nbytes;
    if (e->scales) total += lanes ? panels * 16 * esize(e->scales) : (int64_t)e->scales->nbytes;
  }
  if (e->outliers) {
    int64_t nnz = pare_tensor_numel(e->outliers->values);
    total += 4 * ((f->b_side ? panels : f->R) + 1) + 8 * nnz;
  }
  *padding = total - (int64_t)pare_encoding_bytes(e);
  return total;
}

/* ------------------------------------------------------------- checking */

/* max |a - b| / max(1, max |a|). */
static double rel_diff(const pare_tensor *a, const pare_tensor *b) {
  if (pare_tensor_numel(a) != pare_tensor_numel(b)) return INFINITY;
  double worst = 0, mag = 1;
  for (int64_t i = 0; i < pare_tensor_numel(a); i++) {
    double x = pare_tensor_get_f64(a, i), d = fabs(x - pare_tensor_get_f64(b, i));
    if (!(d <= worst)) worst = d;
    if (fabs(x) > mag) mag = fabs(x);
  }
  return worst / mag;
}

/* Interpreter against JIT on g over n_sets input sets (random if NULL);
 * the JIT engine stays open in *ej for the caller's byte checks. */
static int agree(const char *label, const pare_graph *g, pare_tensor **inputs, int n_sets,
                 engine *ej) {
  pare_err err;
  engine ei;
  if (engine_open(&ei, ENGINE_INTERP, g, 3, &err)) {
    printf("FAIL %s: %s\n", label, err.msg);
    return 0;
  }
  if (engine_open(ej, ENGINE_JIT, g, jit_opt, &err)) {
    printf("FAIL %s: %s\n", label, err.msg);
    engine_close(&ei);
    return 0;
  }
  int ok = 1;
  double worst = 0;
  for (int s = 0; s < n_sets && ok; s++) {
    pare_tensor *in[16] = {0}, *oi[16] = {0}, *oj[16] = {0};
    for (int i = 0; i < g->n_inputs && i < 16; i++)
      in[i] = inputs ? inputs[s * g->n_inputs + i]
                     : random_input(&g->values[g->inputs[i]]->shape, &err);
    if (engine_run(&ei, in, oi, &err) || engine_run(ej, in, oj, &err)) {
      printf("FAIL %s: %s\n", label, err.msg);
      ok = 0;
    }
    for (int j = 0; ok && j < g->n_outputs; j++) {
      double d = rel_diff(oi[j], oj[j]);
      if (!(d <= worst)) worst = d;
    }
    for (int j = 0; j < 16; j++) pare_tensor_free(oi[j]), pare_tensor_free(oj[j]);
    if (!inputs)
      for (int i = 0; i < g->n_inputs && i < 16; i++) pare_tensor_free(in[i]);
  }
  engine_close(&ei);
  if (ok && !(worst <= RTOL)) {
    printf("FAIL %s: max |jit - interp| / max(1, |interp|) = %.3g > %g\n", label, worst, RTOL);
    ok = 0;
  }
  if (ok) printf("ok   %s: relative difference %.2g", label, worst);
  if (!ok) engine_close(ej);
  return ok;
}

/* -------------------------------------------------------------- synthetic */

typedef struct layer_case {
  const char *name;
  void (*build)(sbuf *b);
  int b_side, kn;   /* kn: the weight is stored [K][R] (axis 1) */
  int dense_panels; /* the dense kernel emits MR-row panels (groups: see G) */
  int64_t G;
  int sweep; /* gets every encoding, not only those marked every_layer */
} layer_case;

static void conv_graph(sbuf *b, const char *in, int64_t co, int64_t cig, int64_t k,
                       const char *attrs, const char *out) {
  int64_t wd[4] = {co, cig, k, k}, bd[1] = {co};
  sb_const(b, "w", wd, 4, 0.5f);
  sb_const(b, "b", bd, 1, 0.5f);
  sb_printf(b, "  input %%x : f32%s\n", in);
  sb_printf(b, "  %%c : f32%s = Conv(%%x, %%w, %%b) {%s}\n", out, attrs);
  sb_printf(b, "  %%y : f32%s = Relu(%%c)\n  output %%y\n", out);
}
static void c_direct(sbuf *b) {
  conv_graph(b, "[2,40,9,9]", 10, 40, 1, "group = 1 : int", "[2,10,9,9]");
}
static void c_whole(sbuf *b) {
  conv_graph(b, "[2,8,10,10]", 20, 8, 3, "pads = [1, 1, 1, 1] : ints", "[2,20,10,10]");
}
static void c_panels(sbuf *b) {
  conv_graph(b, "[1,16,40,40]", 14, 16, 3, "pads = [1, 1, 1, 1] : ints", "[1,14,40,40]");
}
static void c_strided(sbuf *b) {
  conv_graph(b, "[1,8,35,35]", 8, 8, 3, "pads = [1, 1, 1, 1] : ints, strides = [2, 2] : ints",
             "[1,8,18,18]");
}
static void c_grouped(sbuf *b) {
  conv_graph(b, "[1,24,12,12]", 12, 12, 3, "group = 2 : int", "[1,12,10,10]");
}
static void c_depthwise(sbuf *b) {
  conv_graph(b, "[1,8,12,12]", 8, 1, 3, "group = 8 : int, pads = [1, 1, 1, 1] : ints",
             "[1,8,12,12]");
}
static void c_1d(sbuf *b) {
  int64_t wd[3] = {6, 8, 5}, bd[1] = {6};
  sb_const(b, "w", wd, 3, 0.5f);
  sb_const(b, "b", bd, 1, 0.5f);
  sb_printf(b, "  input %%x : f32[2,8,30]\n"
               "  %%y : f32[2,6,15] = Conv(%%x, %%w, %%b) {pads = [2, 2] : ints, strides = [2] : "
               "ints}\n  output %%y\n");
}
static void m_batched4(sbuf *b) {
  int64_t wd[2] = {100, 24}, bd[1] = {24};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_const(b, "b", bd, 1, 1.0f);
  sb_printf(b, "  input %%x : f32[2,3,5,100]\n"
               "  %%m : f32[2,3,5,24] = MatMul(%%x, %%w)\n"
               "  %%y : f32[2,3,5,24] = Add(%%m, %%b)\n  output %%y\n");
}
static void c_depthwise_mult(sbuf *b) {
  conv_graph(b, "[1,4,11,11]", 8, 1, 3, "group = 4 : int, strides = [2, 2] : ints", "[1,8,5,5]");
}
static void g_transb(sbuf *b) {
  int64_t wd[2] = {40, 200}, bd[1] = {40};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_const(b, "b", bd, 1, 0.5f);
  sb_printf(b, "  input %%x : f32[10,200]\n"
               "  %%g : f32[10,40] = Gemm(%%x, %%w, %%b) {transB = 1 : int}\n"
               "  %%y : f32[10,40] = Relu(%%g)\n  output %%y\n");
}
static void g_plain(sbuf *b) {
  int64_t wd[2] = {200, 40};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_printf(b, "  input %%x : f32[9,200]\n  input %%cc : f32[9,40]\n"
               "  %%y : f32[9,40] = Gemm(%%x, %%w, %%cc) {alpha = 0.5 : float, beta = 2.0 : "
               "float}\n  output %%y\n");
}
static void g_transa(sbuf *b) {
  int64_t wd[2] = {20, 50}, cd[2] = {17, 1};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_const(b, "cc", cd, 2, 1.0f);
  sb_printf(b, "  input %%x : f32[50,17]\n"
               "  %%y : f32[17,20] = Gemm(%%x, %%w, %%cc) {transA = 1 : int, transB = 1 : int}\n"
               "  output %%y\n");
}
static void m_plain(sbuf *b) {
  int64_t wd[2] = {100, 24};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_printf(b, "  input %%x : f32[7,100]\n  %%y : f32[7,24] = MatMul(%%x, %%w)\n  output %%y\n");
}
static void m_batched(sbuf *b) {
  int64_t wd[2] = {100, 24}, bd[1] = {24};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_const(b, "b", bd, 1, 1.0f);
  sb_printf(b, "  input %%x : f32[3,5,100]\n"
               "  %%m : f32[3,5,24] = MatMul(%%x, %%w)\n"
               "  %%y : f32[3,5,24] = Add(%%m, %%b)\n  output %%y\n");
}

static const layer_case layers[] = {
    {"conv 1x1 direct", c_direct, 0, 0, 1, 1, 0},
    {"conv 3x3 pad whole", c_whole, 0, 0, 1, 1, 1},
    {"conv 3x3 panels", c_panels, 0, 0, 1, 1, 0},
    {"conv stride 2", c_strided, 0, 0, 1, 1, 0},
    {"conv group 2", c_grouped, 0, 0, 1, 2, 0},
    {"conv depthwise", c_depthwise, 0, 0, 0, 8, 1},
    {"conv depthwise x2 stride 2", c_depthwise_mult, 0, 0, 0, 4, 0},
    {"conv 1-D stride 2 pad 2", c_1d, 0, 0, 1, 1, 0},
    {"gemm transB=1", g_transb, 1, 0, 0, 1, 1},
    {"gemm transB=0 alpha beta C", g_plain, 1, 1, 0, 1, 0},
    {"gemm transA=1, C per row", g_transa, 1, 0, 0, 1, 0},
    {"matmul 2-D", m_plain, 1, 1, 0, 1, 0},
    {"matmul batched A + add", m_batched, 1, 1, 0, 1, 1},
    {"matmul two batch dims + add", m_batched4, 1, 1, 0, 1, 0},
};

static const qspec specs[] = {
    {"quant 1-bit asym", 1, 0, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 2-bit asym", 2, 0, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 3-bit asym", 3, 0, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 4-bit asym", 4, 0, 0, 0, 0, 0, CB_NONE, 1},
    {"quant 5-bit asym", 5, 0, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 6-bit asym", 6, 0, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 7-bit asym", 7, 0, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 8-bit asym", 8, 0, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 2-bit sym", 2, 1, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 3-bit sym", 3, 1, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 4-bit sym", 4, 1, 0, 0, 0, 0, CB_NONE, 1},
    {"quant 8-bit sym", 8, 1, 0, 0, 0, 0, CB_NONE, 0},
    {"quant 4-bit sym per tensor", 4, 1, 1, 0, 0, 0, CB_NONE, 1},
    {"quant 4-bit asym group 16", 4, 0, 0, 16, 0, 0, CB_NONE, 1},
    {"quant 3-bit asym group 32 f16", 3, 0, 0, 32, 1, 0, CB_NONE, 1},
    {"quant 4-bit sym group 64", 4, 1, 0, 64, 0, 0, CB_NONE, 1},
    {"quant 2-bit asym group 128 f16", 2, 0, 0, 128, 1, 0, CB_NONE, 1},
    {"quant 5-bit asym f16", 5, 0, 0, 0, 1, 0, CB_NONE, 1},
    {"quant 3-bit sym + outliers", 3, 1, 0, 0, 0, 10, CB_NONE, 1},
    {"quant 4-bit asym group 32 + outliers", 4, 0, 0, 32, 1, 20, CB_NONE, 1},
    {"codebook 4-bit per layer", 4, 0, 0, 0, 0, 0, CB_LAYER, 1},
    {"codebook 3-bit per channel", 3, 0, 0, 0, 0, 0, CB_CHANNEL, 1},
    {"codebook 4-bit scaled shared f16", 4, 0, 0, 0, 1, 0, CB_SCALED, 1},
    {"codebook 2-bit per channel f16", 2, 0, 0, 0, 1, 0, CB_CHANNEL, 1},
    {"codebook 5-bit scaled + outliers", 5, 0, 0, 0, 0, 10, CB_SCALED, 1},
    {"codebook 4-bit per input row", 4, 0, 0, 0, 0, 0, CB_ROW, 1},
    {"codebook 6-bit per input row f16", 6, 0, 0, 0, 1, 0, CB_ROW, 1},
};

static pare_graph *build(const layer_case *lc, pare_err *err) {
  sbuf b = {0};
  rng = 4242; /* the same weights for every encoding */
  sb_printf(&b, "graph @t opset 17 {\n");
  lc->build(&b);
  sb_printf(&b, "}\n");
  pare_graph *g = pare_graph_parse(b.p, lc->name, NULL, err);
  free(b.p);
  if (g && pare_infer_shapes(g, err)) {
    pare_graph_free(g);
    return NULL;
  }
  return g;
}

static int find_value(const pare_graph *g, const char *name) {
  for (int v = 0; v < g->n_values; v++)
    if (strcmp(g->values[v]->name, name) == 0) return v;
  return -1;
}

static void run_synthetic(void) {
  for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++) {
    const layer_case *lc = &layers[l];
    pare_err err;
    /* The unencoded graph's object bytes. */
    pare_graph *g0 = build(lc, &err);
    engine e0;
    if (!g0 || engine_open(&e0, ENGINE_JIT, g0, 3, &err)) {
      printf("FAIL %s (dense): %s\n", lc->name, err.msg);
      failed++;
      pare_graph_free(g0);
      continue;
    }
    int64_t base = e0.stats.weight_bytes;
    engine_close(&e0);
    pare_graph_free(g0);
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
      if (!specs[s].every_layer && !lc->sweep) continue;
      if (specs[s].cb == CB_ROW && !lc->b_side) continue; /* Gemm/MatMul only */
      char label[256];
      snprintf(label, sizeof label, "%s, %s", lc->name, specs[s].name);
      pare_graph *g = build(lc, &err);
      int v = g ? find_value(g, "w") : -1;
      if (!g || v < 0 || encode_value(g->values[v], lc->kn, &specs[s], &err)) {
        printf("FAIL %s: %s\n", label, g ? err.msg : "no graph");
        failed++;
        pare_graph_free(g);
        continue;
      }
      const pare_value *val = g->values[v];
      layer_form f = {.b_side = lc->b_side, .kn = lc->kn};
      int64_t numel = pare_tensor_numel(val->init);
      f.R = lc->kn ? val->shape.dims[1] : val->shape.dims[0];
      f.K = numel / f.R;
      int64_t cog = f.R / lc->G;
      f.dense = lc->dense_panels ? lc->G * ((cog + 5) / 6 * 6) * f.K * 4 : numel * 4;
      engine ej;
      if (!agree(label, g, NULL, 2, &ej)) {
        failed++;
        pare_graph_free(g);
        continue;
      }
      int64_t pad, form = form_bytes(val->enc, &f, &pad);
      int64_t expect = base - f.dense + form, got = ej.stats.weight_bytes;
      if (got != expect) {
        printf("\nFAIL %s: object weights %lld bytes, expected %lld (encoding %lld + padding "
               "%lld, fp32 %lld)\n",
               label, (long long)got, (long long)expect, (long long)pare_encoding_bytes(val->enc),
               (long long)pad, (long long)f.dense);
        failed++;
      } else {
        printf(", weight %lld bytes (encoding %lld + padding %lld; fp32 %lld)\n", (long long)form,
               (long long)pare_encoding_bytes(val->enc), (long long)pad, (long long)numel * 4);
        passed++;
      }
      engine_close(&ej);
      pare_graph_free(g);
    }
  }
}

/* ------------------------------------------------------------ benchmark */

static double time_jit(const pare_graph *g, pare_tensor *in, int repeat);

static void b_gemv(sbuf *b) {
  int64_t wd[2] = {1024, 1024};
  sb_const(b, "w", wd, 2, 0.05f);
  sb_printf(b, "  input %%x : f32[1,1024]\n  %%y : f32[1,1024] = MatMul(%%x, %%w)\n  output %%y\n");
}
static void b_gemm(sbuf *b) {
  int64_t wd[2] = {1024, 1024};
  sb_const(b, "w", wd, 2, 0.05f);
  sb_printf(b,
            "  input %%x : f32[64,1024]\n  %%y : f32[64,1024] = MatMul(%%x, %%w)\n  output %%y\n");
}
static void b_conv3(sbuf *b) {
  conv_graph(b, "[1,64,56,56]", 64, 64, 3, "pads = [1, 1, 1, 1] : ints", "[1,64,56,56]");
}
static void b_conv1(sbuf *b) {
  conv_graph(b, "[1,128,28,28]", 128, 128, 1, "group = 1 : int", "[1,128,28,28]");
}

/* Median JIT run times of a few larger layers, fp32 against encodings (not
 * a test: prints numbers). */
static void run_bench(int repeat) {
  static const layer_case bl[] = {
      {"matmul 1x1024x1024", b_gemv, 1, 1, 0, 1, 0},
      {"matmul 64x1024x1024", b_gemm, 1, 1, 0, 1, 0},
      {"conv 3x3 64->64 56x56", b_conv3, 0, 0, 1, 1, 0},
      {"conv 1x1 128->128 28x28", b_conv1, 0, 0, 1, 1, 0},
  };
  static const qspec bs[] = {
      {"fp32", 0, 0, 0, 0, 0, 0, CB_NONE, 1},
      {"quant 8-bit sym", 8, 1, 0, 0, 0, 0, CB_NONE, 1},
      {"quant 4-bit sym", 4, 1, 0, 0, 0, 0, CB_NONE, 1},
      {"quant 4-bit asym g32 f16", 4, 0, 0, 32, 1, 0, CB_NONE, 1},
      {"quant 3-bit sym", 3, 1, 0, 0, 0, 0, CB_NONE, 1},
      {"quant 2-bit sym", 2, 1, 0, 0, 0, 0, CB_NONE, 1},
      {"codebook 4-bit per channel", 4, 0, 0, 0, 0, 0, CB_CHANNEL, 1},
      {"codebook 4-bit scaled", 4, 0, 0, 0, 0, 0, CB_SCALED, 1},
  };
  for (size_t l = 0; l < sizeof bl / sizeof bl[0]; l++)
    for (size_t s = 0; s < sizeof bs / sizeof bs[0]; s++) {
      pare_err err;
      pare_graph *g = build(&bl[l], &err);
      int v = g ? find_value(g, "w") : -1;
      if (!g || v < 0 || (bs[s].bits && encode_value(g->values[v], bl[l].kn, &bs[s], &err))) {
        printf("FAIL %s: %s\n", bl[l].name, err.msg);
        pare_graph_free(g);
        continue;
      }
      pare_tensor *in = random_input(&g->values[g->inputs[0]]->shape, &err);
      printf("bench %-26s %-28s %8.3f ms\n", bl[l].name, bs[s].name, time_jit(g, in, repeat));
      pare_tensor_free(in);
      pare_graph_free(g);
    }
}

/* ------------------------------------------------------------------ model */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median CPU time of `repeat` JIT runs of g on one input (ms; the code is
 * single-threaded, and CPU time is what a shared machine measures
 * reliably); -1 on error. */
static double time_jit(const pare_graph *g, pare_tensor *in, int repeat) {
  pare_err err;
  engine ej;
  if (engine_open(&ej, ENGINE_JIT, g, 3, &err)) return -1;
  pare_tensor *out[16] = {0};
  double *t = calloc((size_t)repeat, sizeof *t);
  for (int r = 0; r < repeat; r++) {
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    if (engine_run(&ej, &in, out, &err)) break;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    t[r] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  }
  qsort(t, (size_t)repeat, sizeof *t, cmp_double);
  double med = t[repeat / 2];
  free(t);
  for (int j = 0; j < 16; j++) pare_tensor_free(out[j]);
  engine_close(&ej);
  return med;
}

static int run_model(const char *model, const char *data, int sets, int bits, int64_t group,
                     cb_form cb, int repeat, const char *save) {
  struct stat st;
  if (stat(model, &st) != 0 || stat(data, &st) != 0) {
    printf("SKIP: %s or %s not found\n", model, data);
    return 0;
  }
  pare_err err;
  pare_tensor **inputs = calloc((size_t)sets, sizeof *inputs);
  for (int s = 0; s < sets; s++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/test_data_set_%d/input_0.pb", data, s);
    if (!(inputs[s] = pare_tensor_read_pb(path, &err))) {
      printf("FAIL: %s\n", err.msg);
      return 1;
    }
  }
  pare_graph *g = pare_onnx_load(model, &err);
  int rc = g ? PARE_OK : PARE_ERR;
  if (!rc && g->n_inputs != 1) rc = pare_errf(&err, "the model needs one input");
  if (!rc) rc = pare_bind_input_shape(g, g->values[g->inputs[0]]->name, &inputs[0]->shape, &err);
  if (!rc) rc = pare_infer_shapes(g, &err);
  if (!rc) rc = pare_fold_constants(g, (size_t)256 << 20, NULL, &err);
  qspec q = {"rtn", bits, 1, 0, group, 0, 0, cb, 1};
  double t_fp32 = !rc && repeat > 0 ? time_jit(g, inputs[0], repeat) : 0;
  int64_t fp32 = 0, encoded = 0, form = 0, n_enc = 0;
  char *done = g ? calloc((size_t)g->n_values, 1) : NULL;
  for (int k = 0; !rc && k < g->n_nodes; k++) {
    const pare_node *nd = g->nodes[k];
    int conv = strcmp(nd->op, "Conv") == 0, gemm = strcmp(nd->op, "Gemm") == 0;
    int mm = strcmp(nd->op, "MatMul") == 0;
    if ((!conv && !gemm && !mm) || nd->n_inputs < 2) continue;
    int v = nd->inputs[1];
    pare_value *val = g->values[v];
    if (v < 0 || done[v] || !val->init || val->enc || val->dtype != PARE_F32 ||
        val->shape.rank < 2 || (mm && val->shape.rank != 2))
      continue;
    int kn = mm || (gemm && !pare_attr_int(nd, "transB", 0));
    layer_form f = {.b_side = !conv, .kn = kn};
    int64_t numel = pare_tensor_numel(val->init);
    f.R = kn ? val->shape.dims[1] : val->shape.dims[0], f.K = numel / f.R;
    q.group = group > 0 && f.K > group ? group : 0;
    rc = encode_value(val, kn, &q, &err);
    if (rc) break;
    int64_t pad;
    fp32 += numel * 4;
    encoded += (int64_t)pare_encoding_bytes(val->enc);
    form += form_bytes(val->enc, &f, &pad);
    done[v] = 1, n_enc++;
  }
  free(done);
  if (!rc && save) {
    /* The encoded graph as text, for pare compile --stats and pare run. */
    char *text = pare_graph_to_text(g, NULL, &err);
    FILE *f = text ? fopen(save, "w") : NULL;
    if (f) fputs(text, f), fclose(f);
    if (!f) printf("FAIL: cannot write %s\n", save), failed++;
    free(text);
  }
  char label[512];
  snprintf(label, sizeof label, "%s, %d-bit %s of %lld weights", model, bits,
           cb ? "codebook" : "RTN", (long long)n_enc);
  if (!rc && repeat > 0)
    printf("time %s: fp32 %.3f ms, encoded %.3f ms (CPU time, medians of %d JIT runs)\n", label,
           t_fp32, time_jit(g, inputs[0], repeat), repeat);
  engine ej;
  if (rc) {
    printf("FAIL %s: %s\n", label, err.msg);
    failed++;
  } else if (agree(label, g, inputs, sets, &ej)) {
    /* Everything else the object holds: the graph's other constants. */
    int64_t other = 0;
    for (int v = 0; v < g->n_values; v++)
      if (g->values[v]->init && !g->values[v]->enc) other += (int64_t)g->values[v]->init->nbytes;
    int64_t got = ej.stats.weight_bytes;
    printf(", object weights %lld bytes: encoded weights %lld (kernel form %lld) vs fp32 %lld "
           "(%.2f bits/weight), other constants %lld\n",
           (long long)got, (long long)encoded, (long long)form, (long long)fp32,
           32.0 * (double)form / (double)fp32, (long long)other);
    if (got > other + form + 4096) {
      printf("FAIL %s: object weights %lld > other constants + kernel form %lld\n", label,
             (long long)got, (long long)(other + form + 4096));
      failed++;
    } else {
      passed++;
    }
    engine_close(&ej);
  } else {
    failed++;
  }
  pare_graph_free(g);
  for (int s = 0; s < sets; s++) pare_tensor_free(inputs[s]);
  free(inputs);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--synthetic") == 0) {
    jit_opt = 2;
    run_synthetic();
  } else if (argc == 3 && strcmp(argv[1], "--bench") == 0) {
    run_bench(atoi(argv[2]) > 0 ? atoi(argv[2]) : 20);
    return 0;
  } else if (argc >= 5 && strcmp(argv[1], "--model") == 0 && strcmp(argv[3], "--data") == 0) {
    int sets = 2, bits = 4, repeat = 0;
    const char *save = NULL;
    int64_t group = 0;
    cb_form cb = CB_NONE;
    for (int i = 5; i + 1 < argc; i += 2) {
      if (strcmp(argv[i], "--sets") == 0)
        sets = atoi(argv[i + 1]);
      else if (strcmp(argv[i], "--bits") == 0)
        bits = atoi(argv[i + 1]);
      else if (strcmp(argv[i], "--group") == 0)
        group = atoll(argv[i + 1]);
      else if (strcmp(argv[i], "--save") == 0)
        save = argv[i + 1];
      else if (strcmp(argv[i], "--time") == 0)
        repeat = atoi(argv[i + 1]);
      else if (strcmp(argv[i], "--codebook") == 0)
        cb = strcmp(argv[i + 1], "layer") == 0    ? CB_LAYER
             : strcmp(argv[i + 1], "scaled") == 0 ? CB_SCALED
                                                  : CB_CHANNEL;
    }
    if (sets < 1 || bits < 1 || bits > 8) {
      fprintf(stderr, "pare_quant_e2e: bad arguments\n");
      return 2;
    }
    run_model(argv[2], argv[4], sets, bits, group, cb, repeat, save);
  } else {
    fprintf(stderr,
            "usage: pare_quant_e2e --synthetic\n"
            "       pare_quant_e2e --model M.onnx --data DIR [--sets N] [--bits B] "
            "[--group G]\n"
            "              [--codebook layer|channel|scaled] [--time REPEAT] [--save OUT.pir]\n");
    return 2;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
