/*
 * nn.c - ops of the nn family: the table, the helpers the family shares
 * (window geometry, the f32 GEMM), and the small ops Softmax, LogSoftmax,
 * Hardmax and Dropout. Conv, Gemm/MatMul, pools and normalizations live in
 * ops/nn_conv.c, ops/nn_linear.c, ops/nn_pool.c and ops/nn_norm.c.
 */
#include "ops/nn_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

void pare_nn_dims_str(const int64_t *dims, int n, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < n && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "x" : "", (long long)dims[i]);
}

int pare_nn_result(const pare_tensor *out, int n_out) {
  for (int i = 0; i < n_out; i++)
    if (!pare_shape_is_static(&out[i].shape)) return PARE_UNKNOWN;
  return PARE_OK;
}

int pare_nn_need_dtype(const char *op, const pare_tensor *const *in, int n_in, int i,
                       const pare_dtype *allowed, pare_err *err) {
  if (i >= n_in || !in[i]) return pare_errf(err, "%s: input %d is required", op, i);
  for (const pare_dtype *d = allowed; *d; d++)
    if (in[i]->dtype == *d) return PARE_OK;
  char names[128];
  size_t used = 0;
  names[0] = '\0';
  for (const pare_dtype *d = allowed; *d && used < sizeof names; d++)
    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", d == allowed ? "" : ", ",
                             pare_dtype_name(*d));
  return pare_errf(err, "%s: input %d has dtype %s, expected one of %s", op, i,
                   pare_dtype_name(in[i]->dtype), names);
}

int pare_nn_ints_attr(const pare_node *node, const char *op, const char *name, int count,
                      int64_t min, int64_t def, int64_t *out, pare_err *err) {
  const int64_t *v;
  int64_t n = pare_attr_ints(node, name, &v);
  if (n < 0) {
    for (int i = 0; i < count; i++) out[i] = def;
    return PARE_OK;
  }
  if (n != count)
    return pare_errf(err, "%s: attribute %s has %lld values, expected %d", op, name, (long long)n,
                     count);
  for (int i = 0; i < count; i++) {
    if (v[i] < min)
      return pare_errf(err, "%s: attribute %s value %lld must be >= %lld", op, name,
                       (long long)v[i], (long long)min);
    out[i] = v[i];
  }
  return PARE_OK;
}

int pare_nn_window(const pare_node *node, const char *op, const pare_shape *x,
                   const int64_t *kernel, int ceil_mode, nn_window *w, pare_err *err) {
  int nsp = x->rank - 2;
  if (nsp < 1) return pare_errf(err, "%s: input rank %d, expected at least 3", op, x->rank);
  memset(w, 0, sizeof *w);
  w->nsp = nsp;
  int64_t pads[2 * PARE_MAX_RANK];
  if (pare_nn_ints_attr(node, op, "strides", nsp, 1, 1, w->stride, err) ||
      pare_nn_ints_attr(node, op, "dilations", nsp, 1, 1, w->dil, err) ||
      pare_nn_ints_attr(node, op, "pads", 2 * nsp, 0, 0, pads, err))
    return PARE_ERR;
  const char *auto_pad = pare_attr_string(node, "auto_pad", "NOTSET");
  enum { NOTSET, VALID, SAME_UPPER, SAME_LOWER } mode;
  if (strcmp(auto_pad, "NOTSET") == 0)
    mode = NOTSET;
  else if (strcmp(auto_pad, "VALID") == 0)
    mode = VALID;
  else if (strcmp(auto_pad, "SAME_UPPER") == 0)
    mode = SAME_UPPER;
  else if (strcmp(auto_pad, "SAME_LOWER") == 0)
    mode = SAME_LOWER;
  else
    return pare_errf(err, "%s: unknown auto_pad '%s'", op, auto_pad);

  int too_small = 0;
  int64_t eff[PARE_MAX_RANK], padded[PARE_MAX_RANK];
  for (int i = 0; i < nsp; i++) {
    int64_t k = kernel[i], in = x->dims[2 + i], s = w->stride[i];
    if (k == 0 || k < -1) return pare_errf(err, "%s: kernel dim %lld invalid", op, (long long)k);
    w->kernel[i] = k;
    w->in[i] = in;
    eff[i] = k < 0 ? -1 : (k - 1) * w->dil[i] + 1;
    if (mode == NOTSET) {
      w->pad_lo[i] = pads[i];
      w->pad_hi[i] = pads[nsp + i];
    }
    padded[i] = in < 0 ? -1 : in + w->pad_lo[i] + w->pad_hi[i];
    if (in < 0 || k < 0) {
      w->out[i] = -1;
      continue;
    }
    if (mode == SAME_UPPER || mode == SAME_LOWER) {
      int64_t out = (in + s - 1) / s;
      int64_t need = (out - 1) * s + eff[i] - in;
      if (need < 0) need = 0;
      w->pad_lo[i] = mode == SAME_UPPER ? need / 2 : need - need / 2;
      w->pad_hi[i] = need - w->pad_lo[i];
      w->out[i] = out;
      continue;
    }
    if (padded[i] < eff[i]) {
      too_small = 1;
      continue;
    }
    int64_t span = padded[i] - eff[i];
    int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    /* ceil_mode: a window starting in the end padding would see only padding. */
    if (ceil_mode && (out - 1) * s >= in + w->pad_lo[i]) out--;
    w->out[i] = out;
  }
  if (too_small) {
    char ks[96], ps[96];
    pare_nn_dims_str(eff, nsp, ks, sizeof ks);
    pare_nn_dims_str(padded, nsp, ps, sizeof ps);
    return pare_errf(err, "%s: kernel %s larger than %sinput %s", op, ks,
                     mode == NOTSET ? "padded " : "", ps);
  }
  return PARE_OK;
}

/* --------------------------------------------------------------- GEMM */

/*
 * Goto-style blocking: a KC-deep slice of A is packed into MR-row panels and
 * a KC x NC block of B into NR-column panels, so the micro-kernel streams
 * both from contiguous memory and keeps an MR x NR block of C in registers.
 */
enum { GEMM_MR = 6, GEMM_NR = 8, GEMM_KC = 256, GEMM_NC = 512 };

static void pack_a(const float *A, int64_t lda, int64_t m, int64_t kc, float *ap) {
  for (int64_t i0 = 0; i0 < m; i0 += GEMM_MR) {
    int64_t mr = m - i0 < GEMM_MR ? m - i0 : GEMM_MR;
    for (int64_t k = 0; k < kc; k++) {
      for (int64_t r = 0; r < mr; r++) ap[r] = A[(i0 + r) * lda + k];
      for (int64_t r = mr; r < GEMM_MR; r++) ap[r] = 0;
      ap += GEMM_MR;
    }
  }
}

static void pack_b(const float *B, int64_t ldb, int64_t kc, int64_t n, float *bp) {
  for (int64_t j0 = 0; j0 < n; j0 += GEMM_NR) {
    int64_t nr = n - j0 < GEMM_NR ? n - j0 : GEMM_NR;
    for (int64_t k = 0; k < kc; k++) {
      const float *src = B + k * ldb + j0;
      if (nr == GEMM_NR) {
        memcpy(bp, src, sizeof(float) * GEMM_NR);
      } else {
        for (int64_t c = 0; c < nr; c++) bp[c] = src[c];
        for (int64_t c = nr; c < GEMM_NR; c++) bp[c] = 0;
      }
      bp += GEMM_NR;
    }
  }
}

/* C[mr][nr] += ap (kc x MR panel) * bp (kc x NR panel). */
#if defined(__GNUC__)
/* GCC/Clang vector extension: the MR x NR accumulator block lives in
 * registers (6 x 2 SSE vectors), which plain C loops do not achieve. */
typedef float gemm_v4 __attribute__((vector_size(16)));

static void gemm_micro(int64_t kc, const float *restrict ap, const float *restrict bp,
                       float *restrict C, int64_t ldc, int64_t mr, int64_t nr) {
  gemm_v4 acc[GEMM_MR][GEMM_NR / 4];
  memset(acc, 0, sizeof acc);
  for (int64_t k = 0; k < kc; k++) {
    const float *a = ap + k * GEMM_MR;
    gemm_v4 b[GEMM_NR / 4];
    memcpy(b, bp + k * GEMM_NR, sizeof b);
    for (int r = 0; r < GEMM_MR; r++) {
      gemm_v4 av = {a[r], a[r], a[r], a[r]};
      for (int c = 0; c < GEMM_NR / 4; c++) acc[r][c] += av * b[c];
    }
  }
  float out[GEMM_MR][GEMM_NR];
  memcpy(out, acc, sizeof out);
  for (int64_t r = 0; r < mr; r++)
    for (int64_t c = 0; c < nr; c++) C[r * ldc + c] += out[r][c];
}
#else
static void gemm_micro(int64_t kc, const float *restrict ap, const float *restrict bp,
                       float *restrict C, int64_t ldc, int64_t mr, int64_t nr) {
  float acc[GEMM_MR][GEMM_NR];
  memset(acc, 0, sizeof acc);
  for (int64_t k = 0; k < kc; k++) {
    const float *a = ap + k * GEMM_MR, *b = bp + k * GEMM_NR;
    for (int r = 0; r < GEMM_MR; r++)
      for (int c = 0; c < GEMM_NR; c++) acc[r][c] += a[r] * b[c];
  }
  for (int64_t r = 0; r < mr; r++)
    for (int64_t c = 0; c < nr; c++) C[r * ldc + c] += acc[r][c];
}
#endif

void pare_nn_sgemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,
                   int64_t ldb, float *C, int64_t ldc) {
  if (M <= 0 || N <= 0 || K <= 0) return;
  int64_t mpad = (M + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
  int64_t kcap = K < GEMM_KC ? K : GEMM_KC;
  int64_t ncap = N < GEMM_NC ? (N + GEMM_NR - 1) / GEMM_NR * GEMM_NR : GEMM_NC;
  float *ap = malloc(sizeof(float) * (size_t)(mpad * kcap));
  float *bp = malloc(sizeof(float) * (size_t)(ncap * kcap));
  if (!ap || !bp) {
    /* Out of memory for the packing buffers: fall back to the plain loop. */
    free(ap);
    free(bp);
    for (int64_t i = 0; i < M; i++)
      for (int64_t k = 0; k < K; k++) {
        float a = A[i * lda + k];
        for (int64_t j = 0; j < N; j++) C[i * ldc + j] += a * B[k * ldb + j];
      }
    return;
  }
  for (int64_t k0 = 0; k0 < K; k0 += GEMM_KC) {
    int64_t kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
    pack_a(A + k0, lda, M, kc, ap);
    for (int64_t j0 = 0; j0 < N; j0 += GEMM_NC) {
      int64_t nc = N - j0 < GEMM_NC ? N - j0 : GEMM_NC;
      pack_b(B + k0 * ldb + j0, ldb, kc, nc, bp);
      for (int64_t i = 0; i < M; i += GEMM_MR) {
        int64_t mr = M - i < GEMM_MR ? M - i : GEMM_MR;
        for (int64_t j = 0; j < nc; j += GEMM_NR) {
          int64_t nr = nc - j < GEMM_NR ? nc - j : GEMM_NR;
          gemm_micro(kc, ap + i * kc, bp + j * kc, C + i * ldc + j0 + j, ldc, mr, nr);
        }
      }
    }
  }
  free(ap);
  free(bp);
}

/* ------------------------------------------- Softmax, LogSoftmax, Hardmax */

static const pare_dtype float_types[] = {PARE_F32, PARE_F64, 0};

static int infer_softmax_like(const char *op, const pare_node *node, const pare_tensor *const *in,
                              int n_in, pare_tensor *out, pare_err *err) {
  if (pare_nn_need_dtype(op, in, n_in, 0, float_types, err)) return PARE_ERR;
  out[0].dtype = in[0]->dtype;
  out[0].shape = in[0]->shape;
  if (in[0]->shape.rank < 0) return PARE_UNKNOWN;
  int axis;
  if (in[0]->shape.rank == 0) return pare_errf(err, "%s: input must have rank >= 1", op);
  if (pare_norm_axis(pare_attr_int(node, "axis", -1), in[0]->shape.rank, &axis, err))
    return pare_err_prefix(err, "%s", op);
  return pare_nn_result(out, 1);
}

static int infer_softmax(const pare_node *node, const pare_tensor *const *in, int n_in,
                         pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  return infer_softmax_like("Softmax", node, in, n_in, out, err);
}
static int infer_logsoftmax(const pare_node *node, const pare_tensor *const *in, int n_in,
                            pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  return infer_softmax_like("LogSoftmax", node, in, n_in, out, err);
}
static int infer_hardmax(const pare_node *node, const pare_tensor *const *in, int n_in,
                         pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  return infer_softmax_like("Hardmax", node, in, n_in, out, err);
}

enum { SOFTMAX, LOGSOFTMAX, HARDMAX };

/*
 * Works on one [n, inner] slab at a time (n = the axis length) with row
 * operations over the contiguous inner dim, in double.
 */
static int eval_softmax_like(int kind, const pare_node *node, const pare_tensor *x, pare_tensor *y,
                             pare_err *err) {
  int axis;
  if (pare_norm_axis(pare_attr_int(node, "axis", -1), x->shape.rank, &axis, err)) return PARE_ERR;
  int64_t outer = 1, n = x->shape.dims[axis], inner = 1;
  for (int i = 0; i < axis; i++) outer *= x->shape.dims[i];
  for (int i = axis + 1; i < x->shape.rank; i++) inner *= x->shape.dims[i];
  if (outer * n * inner == 0) return PARE_OK;
  double *mx = malloc(sizeof(double) * (size_t)inner * 2);
  int64_t *arg = malloc(sizeof(int64_t) * (size_t)inner);
  double *buf = malloc(sizeof(double) * (size_t)(n * inner));
  if (!mx || !arg || !buf) {
    free(mx);
    free(arg);
    free(buf);
    return pare_errf(err, "out of memory");
  }
  double *sum = mx + inner;
  int is64 = x->dtype == PARE_F64;
  for (int64_t o = 0; o < outer; o++) {
    int64_t base = o * n * inner;
    if (is64)
      memcpy(buf, (const double *)x->data + base, sizeof(double) * (size_t)(n * inner));
    else
      for (int64_t i = 0; i < n * inner; i++) buf[i] = ((const float *)x->data)[base + i];
    for (int64_t i = 0; i < inner; i++) {
      mx[i] = buf[i];
      arg[i] = 0;
      sum[i] = 0;
    }
    for (int64_t j = 1; j < n; j++) {
      const double *row = buf + j * inner;
      for (int64_t i = 0; i < inner; i++)
        if (row[i] > mx[i]) {
          mx[i] = row[i];
          arg[i] = j;
        }
    }
    if (kind == HARDMAX) {
      memset(buf, 0, sizeof(double) * (size_t)(n * inner));
      for (int64_t i = 0; i < inner; i++) buf[arg[i] * inner + i] = 1;
    } else {
      for (int64_t j = 0; j < n; j++) {
        double *row = buf + j * inner;
        for (int64_t i = 0; i < inner; i++) {
          double e = exp(row[i] - mx[i]);
          sum[i] += e;
          row[i] = kind == SOFTMAX ? e : row[i] - mx[i];
        }
      }
      for (int64_t j = 0; j < n; j++) {
        double *row = buf + j * inner;
        if (kind == SOFTMAX)
          for (int64_t i = 0; i < inner; i++) row[i] /= sum[i];
        else
          for (int64_t i = 0; i < inner; i++) row[i] -= log(sum[i]);
      }
    }
    if (is64)
      memcpy((double *)y->data + base, buf, sizeof(double) * (size_t)(n * inner));
    else
      for (int64_t i = 0; i < n * inner; i++) ((float *)y->data)[base + i] = (float)buf[i];
  }
  free(mx);
  free(arg);
  free(buf);
  return PARE_OK;
}

static int eval_softmax(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  return eval_softmax_like(SOFTMAX, node, in[0], &out[0], err);
}
static int eval_logsoftmax(const pare_node *node, const pare_tensor *const *in, int n_in,
                           pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  return eval_softmax_like(LOGSOFTMAX, node, in[0], &out[0], err);
}
static int eval_hardmax(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  return eval_softmax_like(HARDMAX, node, in[0], &out[0], err);
}

/* ------------------------------------------------------------- Dropout */

/* Inference only. Training with ratio 0 is the identity too, so it is allowed. */
static int dropout_check_training(const pare_tensor *const *in, int n_in, pare_err *err) {
  if (n_in < 3 || !in[2] || !in[2]->data || pare_tensor_numel(in[2]) < 1) return PARE_OK;
  if (pare_tensor_get_i64(in[2], 0) == 0) return PARE_OK;
  double ratio = 0.5;
  if (in[1]) {
    if (!in[1]->data) return pare_errf(err, "Dropout: training mode unsupported");
    if (pare_tensor_numel(in[1]) >= 1) ratio = pare_tensor_get_f64(in[1], 0);
  }
  if (ratio != 0) return pare_errf(err, "Dropout: training mode unsupported");
  return PARE_OK;
}

static int infer_dropout(const pare_node *node, const pare_tensor *const *in, int n_in,
                         pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (pare_need_input(in, n_in, 0, err)) return pare_err_prefix(err, "Dropout");
  if (dropout_check_training(in, n_in, err)) return PARE_ERR;
  out[0].dtype = in[0]->dtype;
  out[0].shape = in[0]->shape;
  if (n_out > 1) {
    out[1].dtype = PARE_BOOL;
    out[1].shape = in[0]->shape;
  }
  return pare_nn_result(out, n_out > 2 ? 2 : n_out);
}

static int eval_dropout(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (dropout_check_training(in, n_in, err)) return PARE_ERR;
  if (in[0]->nbytes) memcpy(out[0].data, in[0]->data, in[0]->nbytes);
  if (n_out > 1 && out[1].nbytes) memset(out[1].data, 1, out[1].nbytes);
  return PARE_OK;
}

/* --------------------------------------------------------------- table */

#define NN_OP(name)                                                                                \
  { #name, pare_nn_infer_##name, pare_nn_eval_##name }

const pare_op_def pare_ops_nn[] = {
    NN_OP(Conv),
    NN_OP(ConvTranspose),
    NN_OP(Gemm),
    NN_OP(MatMul),
    NN_OP(MaxPool),
    NN_OP(AveragePool),
    NN_OP(LpPool),
    NN_OP(MaxUnpool),
    NN_OP(GlobalAveragePool),
    NN_OP(GlobalMaxPool),
    NN_OP(GlobalLpPool),
    NN_OP(BatchNormalization),
    NN_OP(InstanceNormalization),
    NN_OP(LayerNormalization),
    NN_OP(MeanVarianceNormalization),
    NN_OP(LRN),
    {"Softmax", infer_softmax, eval_softmax},
    {"LogSoftmax", infer_logsoftmax, eval_logsoftmax},
    {"Hardmax", infer_hardmax, eval_hardmax},
    {"Dropout", infer_dropout, eval_dropout},
    {0, 0, 0},
};
