/*
 * nn_norm.c - BatchNormalization (inference), InstanceNormalization,
 * LayerNormalization, MeanVarianceNormalization and LRN (f32, f64).
 *
 * Statistics are accumulated in double.
 */
#include "ops/nn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const pare_dtype float_types[] = {PARE_F32, PARE_F64, 0};

static inline double load(const pare_tensor *t, int64_t i) {
  return t->dtype == PARE_F32 ? ((const float *)t->data)[i] : ((const double *)t->data)[i];
}

static inline void store(pare_tensor *t, int64_t i, double v) {
  if (t->dtype == PARE_F32)
    ((float *)t->data)[i] = (float)v;
  else
    ((double *)t->data)[i] = v;
}

/* Requires in[i] to be a float tensor of X's dtype with shape [c] (if c and its dim are known). */
static int need_channel_vector(const char *op, const char *what, const pare_tensor *const *in,
                               int n_in, int i, int64_t c, pare_err *err) {
  if (pare_nn_need_dtype(op, in, n_in, i, float_types, err)) return PARE_ERR;
  const pare_shape *s = &in[i]->shape;
  if (s->rank < 0) return PARE_OK;
  if (s->rank != 1 || (c >= 0 && s->dims[0] >= 0 && s->dims[0] != c)) {
    char buf[128];
    pare_shape_str(s, buf, sizeof buf);
    return pare_errf(err, "%s: %s has shape %s, expected [%lld]", op, what, buf, (long long)c);
  }
  return PARE_OK;
}

/* Checks X (rank >= 2 unless min_rank says otherwise) and sets out[0] like X. */
static int infer_like_x(const char *op, const pare_tensor *const *in, int n_in, int min_rank,
                        pare_tensor *out, pare_err *err) {
  if (pare_nn_need_dtype(op, in, n_in, 0, float_types, err)) return PARE_ERR;
  out[0].dtype = in[0]->dtype;
  out[0].shape = in[0]->shape;
  if (in[0]->shape.rank >= 0 && in[0]->shape.rank < min_rank)
    return pare_errf(err, "%s: X has rank %d, expected at least %d", op, in[0]->shape.rank,
                     min_rank);
  return PARE_OK;
}

/* ---------------------------------------------------- BatchNormalization */

int pare_nn_infer_BatchNormalization(const pare_node *node, const pare_tensor *const *in, int n_in,
                                     pare_tensor *out, int n_out, pare_err *err) {
  const char *op = "BatchNormalization";
  if (pare_attr_int(node, "training_mode", 0) != 0)
    return pare_errf(err, "%s: training mode unsupported", op);
  if (infer_like_x(op, in, n_in, 2, out, err)) return PARE_ERR;
  int64_t c = in[0]->shape.rank >= 2 ? in[0]->shape.dims[1] : -1;
  static const char *names[] = {"", "scale", "B", "input_mean", "input_var"};
  for (int i = 1; i <= 4; i++)
    if (need_channel_vector(op, names[i], in, n_in, i, c, err)) return PARE_ERR;
  /* Legacy running-stat outputs, if present, pass the statistics through. */
  for (int i = 1; i < n_out && i < 3; i++) {
    out[i].dtype = in[i + 2]->dtype;
    out[i].shape = in[i + 2]->shape;
  }
  return pare_nn_result(out, n_out < 3 ? n_out : 3);
}

int pare_nn_eval_BatchNormalization(const pare_node *node, const pare_tensor *const *in, int n_in,
                                    pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in;
  if (pare_attr_int(node, "training_mode", 0) != 0)
    return pare_errf(err, "BatchNormalization: training mode unsupported");
  const pare_tensor *x = in[0];
  double eps = pare_attr_float(node, "epsilon", 1e-5f);
  int64_t n = x->shape.dims[0], c = x->shape.dims[1];
  int64_t inner = n * c > 0 ? pare_tensor_numel(x) / (n * c) : 0;
  for (int64_t ch = 0; ch < c; ch++) {
    double a = load(in[1], ch) / sqrt(load(in[4], ch) + eps);
    double b = load(in[2], ch) - load(in[3], ch) * a;
    for (int64_t b0 = 0; b0 < n; b0++) {
      int64_t base = (b0 * c + ch) * inner;
      if (x->dtype == PARE_F32) {
        const float *xs = (const float *)x->data + base;
        float *ys = (float *)out[0].data + base, fa = (float)a, fb = (float)b;
        for (int64_t i = 0; i < inner; i++) ys[i] = xs[i] * fa + fb;
      } else {
        for (int64_t i = 0; i < inner; i++) store(&out[0], base + i, load(x, base + i) * a + b);
      }
    }
  }
  for (int i = 1; i < n_out && i < 3; i++)
    if (out[i].nbytes) memcpy(out[i].data, in[i + 2]->data, out[i].nbytes);
  return PARE_OK;
}

/* ------------------------------------------------- InstanceNormalization */

int pare_nn_infer_InstanceNormalization(const pare_node *node, const pare_tensor *const *in,
                                        int n_in, pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_out;
  const char *op = "InstanceNormalization";
  if (infer_like_x(op, in, n_in, 3, out, err)) return PARE_ERR;
  int64_t c = in[0]->shape.rank >= 2 ? in[0]->shape.dims[1] : -1;
  if (need_channel_vector(op, "scale", in, n_in, 1, c, err) ||
      need_channel_vector(op, "B", in, n_in, 2, c, err))
    return PARE_ERR;
  return pare_nn_result(out, 1);
}

int pare_nn_eval_InstanceNormalization(const pare_node *node, const pare_tensor *const *in,
                                       int n_in, pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out, (void)err;
  const pare_tensor *x = in[0];
  double eps = pare_attr_float(node, "epsilon", 1e-5f);
  int64_t n = x->shape.dims[0], c = x->shape.dims[1];
  int64_t inner = n * c > 0 ? pare_tensor_numel(x) / (n * c) : 0;
  for (int64_t plane = 0; plane < n * c; plane++) {
    int64_t ch = plane % c, base = plane * inner;
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < inner; i++) sum += load(x, base + i);
    double mean = inner ? sum / (double)inner : 0;
    for (int64_t i = 0; i < inner; i++) {
      double d = load(x, base + i) - mean;
      sq += d * d;
    }
    double var = inner ? sq / (double)inner : 0;
    double a = load(in[1], ch) / sqrt(var + eps), b = load(in[2], ch);
    for (int64_t i = 0; i < inner; i++)
      store(&out[0], base + i, (load(x, base + i) - mean) * a + b);
  }
  return PARE_OK;
}

/* ---------------------------------------------------- LayerNormalization */

static int layernorm_prepare(const pare_node *node, const pare_tensor *const *in, int n_in,
                             int *axis, pare_dtype *stash, pare_err *err) {
  const char *op = "LayerNormalization";
  if (pare_nn_need_dtype(op, in, n_in, 0, float_types, err) ||
      pare_nn_need_dtype(op, in, n_in, 1, float_types, err))
    return PARE_ERR;
  if (n_in > 2 && in[2] && pare_nn_need_dtype(op, in, n_in, 2, float_types, err)) return PARE_ERR;
  int64_t st = pare_attr_int(node, "stash_type", 1);
  if (st != PARE_F32 && st != PARE_F64)
    return pare_errf(err, "%s: stash_type %lld unsupported", op, (long long)st);
  *stash = (pare_dtype)st;
  const pare_shape *xs = &in[0]->shape;
  if (xs->rank < 0) return PARE_UNKNOWN;
  if (xs->rank == 0) return pare_errf(err, "%s: X must have rank >= 1", op);
  if (pare_norm_axis(pare_attr_int(node, "axis", -1), xs->rank, axis, err))
    return pare_err_prefix(err, "%s", op);
  /* Scale and B broadcast unidirectionally to the normalized shape X[axis:]. */
  pare_shape norm = pare_shape_make(xs->rank - *axis, xs->dims + *axis);
  for (int i = 1; i <= 2; i++) {
    if (i >= n_in || !in[i] || in[i]->shape.rank < 0) continue;
    const pare_shape *s = &in[i]->shape;
    int ok = s->rank <= norm.rank;
    for (int d = 0; ok && d < s->rank; d++) {
      int64_t a = s->dims[d], b = norm.dims[norm.rank - s->rank + d];
      if (a >= 0 && b >= 0 && a != 1 && a != b) ok = 0;
    }
    if (!ok) {
      char a[128], b[128];
      pare_shape_str(s, a, sizeof a);
      pare_shape_str(&norm, b, sizeof b);
      return pare_errf(err, "%s: %s of shape %s does not broadcast to %s", op,
                       i == 1 ? "Scale" : "B", a, b);
    }
  }
  return PARE_OK;
}

int pare_nn_infer_LayerNormalization(const pare_node *node, const pare_tensor *const *in, int n_in,
                                     pare_tensor *out, int n_out, pare_err *err) {
  int axis = 0;
  pare_dtype stash = PARE_F32;
  int rc = layernorm_prepare(node, in, n_in, &axis, &stash, err);
  if (rc == PARE_ERR) return rc;
  out[0].dtype = in[0]->dtype;
  out[0].shape = in[0]->shape;
  for (int i = 1; i < n_out && i < 3; i++) {
    out[i].dtype = stash;
    out[i].shape = in[0]->shape;
    if (rc == PARE_OK)
      for (int d = axis; d < in[0]->shape.rank; d++) out[i].shape.dims[d] = 1;
  }
  if (rc == PARE_UNKNOWN) return rc;
  return pare_nn_result(out, n_out < 3 ? n_out : 3);
}

/* Index into a tensor of shape s broadcast to the trailing shape norm, for element i of norm. */
static int64_t broadcast_index(const pare_shape *s, const pare_shape *norm, int64_t i) {
  int64_t idx = 0, stride = 1;
  for (int d = norm->rank - 1, sd = s->rank - 1; sd >= 0; d--, sd--) {
    int64_t coord = i % norm->dims[d];
    i /= norm->dims[d];
    if (s->dims[sd] != 1) idx += coord * stride;
    stride *= s->dims[sd];
  }
  return idx;
}

int pare_nn_eval_LayerNormalization(const pare_node *node, const pare_tensor *const *in, int n_in,
                                    pare_tensor *out, int n_out, pare_err *err) {
  int axis = 0;
  pare_dtype stash = PARE_F32;
  if (layernorm_prepare(node, in, n_in, &axis, &stash, err)) return PARE_ERR;
  const pare_tensor *x = in[0], *scale = in[1], *bias = n_in > 2 ? in[2] : NULL;
  double eps = pare_attr_float(node, "epsilon", 1e-5f);
  pare_shape norm = pare_shape_make(x->shape.rank - axis, x->shape.dims + axis);
  int64_t inner = 1;
  for (int d = 0; d < norm.rank; d++) inner *= norm.dims[d];
  int64_t outer = inner ? pare_tensor_numel(x) / inner : 0;
  /* Materialize scale and bias over the normalized shape once. */
  double *sb = malloc(sizeof(double) * (size_t)(2 * inner + 1));
  if (!sb) return pare_errf(err, "LayerNormalization: out of memory");
  for (int64_t i = 0; i < inner; i++) {
    sb[i] = load(scale, broadcast_index(&scale->shape, &norm, i));
    sb[inner + i] = bias ? load(bias, broadcast_index(&bias->shape, &norm, i)) : 0;
  }
  for (int64_t o = 0; o < outer; o++) {
    int64_t base = o * inner;
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < inner; i++) sum += load(x, base + i);
    double mean = sum / (double)inner;
    for (int64_t i = 0; i < inner; i++) {
      double d = load(x, base + i) - mean;
      sq += d * d;
    }
    double inv_std = 1.0 / sqrt(sq / (double)inner + eps);
    for (int64_t i = 0; i < inner; i++)
      store(&out[0], base + i, (load(x, base + i) - mean) * inv_std * sb[i] + sb[inner + i]);
    if (n_out > 1) store(&out[1], o, mean);
    if (n_out > 2) store(&out[2], o, inv_std);
  }
  free(sb);
  return PARE_OK;
}

/* --------------------------------------------- MeanVarianceNormalization */

static int mvn_axes(const pare_node *node, int rank, int *reduced, pare_err *err) {
  static const int64_t def_axes[] = {0, 2, 3};
  const int64_t *axes;
  int64_t n = pare_attr_ints(node, "axes", &axes);
  if (n < 0) {
    axes = def_axes;
    n = 3;
  }
  memset(reduced, 0, sizeof(int) * PARE_MAX_RANK);
  for (int64_t i = 0; i < n; i++) {
    int a;
    if (pare_norm_axis(axes[i], rank, &a, err))
      return pare_err_prefix(err, "MeanVarianceNormalization");
    reduced[a] = 1;
  }
  return PARE_OK;
}

int pare_nn_infer_MeanVarianceNormalization(const pare_node *node, const pare_tensor *const *in,
                                            int n_in, pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  if (infer_like_x("MeanVarianceNormalization", in, n_in, 0, out, err)) return PARE_ERR;
  if (in[0]->shape.rank < 0) return PARE_UNKNOWN;
  int reduced[PARE_MAX_RANK];
  if (mvn_axes(node, in[0]->shape.rank, reduced, err)) return PARE_ERR;
  return pare_nn_result(out, 1);
}

/* Y = (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9), the ONNX function body. */
int pare_nn_eval_MeanVarianceNormalization(const pare_node *node, const pare_tensor *const *in,
                                           int n_in, pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  int rank = x->shape.rank, reduced[PARE_MAX_RANK];
  if (mvn_axes(node, rank, reduced, err)) return PARE_ERR;
  /* kstride: stride of each dim in the (kept-dims) statistics array, 0 if reduced. */
  int64_t kstride[PARE_MAX_RANK], nstat = 1;
  for (int d = rank - 1; d >= 0; d--) {
    kstride[d] = reduced[d] ? 0 : nstat;
    if (!reduced[d]) nstat *= x->shape.dims[d];
  }
  int64_t total = pare_tensor_numel(x);
  if (total == 0) return PARE_OK;
  int64_t count = total / nstat;
  double *st = calloc((size_t)(2 * nstat), sizeof(double));
  int64_t *sidx = malloc(sizeof(int64_t) * (size_t)total);
  if (!st || !sidx) {
    free(st);
    free(sidx);
    return pare_errf(err, "MeanVarianceNormalization: out of memory");
  }
  int64_t idx[PARE_MAX_RANK] = {0};
  for (int64_t i = 0; i < total; i++) {
    int64_t s = 0;
    for (int d = 0; d < rank; d++) s += idx[d] * kstride[d];
    sidx[i] = s;
    double v = load(x, i);
    st[s] += v;
    st[nstat + s] += v * v;
    for (int d = rank - 1; d >= 0; d--) {
      if (++idx[d] < x->shape.dims[d]) break;
      idx[d] = 0;
    }
  }
  for (int64_t s = 0; s < nstat; s++) {
    double mean = st[s] / (double)count, var = st[nstat + s] / (double)count - mean * mean;
    st[s] = mean;
    st[nstat + s] = sqrt(var > 0 ? var : 0) + 1e-9;
  }
  for (int64_t i = 0; i < total; i++)
    store(&out[0], i, (load(x, i) - st[sidx[i]]) / st[nstat + sidx[i]]);
  free(st);
  free(sidx);
  return PARE_OK;
}

/* ------------------------------------------------------------------ LRN */

int pare_nn_infer_LRN(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  if (pare_attr_int(node, "size", 0) < 1)
    return pare_errf(err, "LRN: attribute size is required and must be >= 1");
  if (infer_like_x("LRN", in, n_in, 2, out, err)) return PARE_ERR;
  return pare_nn_result(out, 1);
}

/* y = x / (bias + alpha / size * sum of x^2 over a window of channels)^beta. */
int pare_nn_eval_LRN(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  int64_t size = pare_attr_int(node, "size", 0);
  if (size < 1) return pare_errf(err, "LRN: attribute size is required and must be >= 1");
  double alpha = pare_attr_float(node, "alpha", 1e-4f), beta = pare_attr_float(node, "beta", 0.75f);
  double bias = pare_attr_float(node, "bias", 1.0f);
  int64_t n = x->shape.dims[0], c = x->shape.dims[1];
  int64_t inner = n * c > 0 ? pare_tensor_numel(x) / (n * c) : 0;
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  double *sq = malloc(sizeof(double) * (size_t)(inner + 1));
  if (!sq) return pare_errf(err, "LRN: out of memory");
  for (int64_t b = 0; b < n; b++)
    for (int64_t ch = 0; ch < c; ch++) {
      memset(sq, 0, sizeof(double) * (size_t)inner);
      int64_t lo = ch - before < 0 ? 0 : ch - before, hi = ch + after >= c ? c - 1 : ch + after;
      for (int64_t k = lo; k <= hi; k++) {
        int64_t base = (b * c + k) * inner;
        for (int64_t i = 0; i < inner; i++) {
          double v = load(x, base + i);
          sq[i] += v * v;
        }
      }
      int64_t base = (b * c + ch) * inner;
      for (int64_t i = 0; i < inner; i++)
        store(&out[0], base + i,
              load(x, base + i) / pow(bias + alpha / (double)size * sq[i], beta));
    }
  free(sq);
  return PARE_OK;
}
