/*
 * nn_pool.c - MaxPool, AveragePool, LpPool and their Global forms.
 *
 * One generic N-D kernel: for each output position, the kernel taps that
 * fall inside the input form a box (a range per spatial dim), so the loop
 * visits exactly those taps; padding never contributes a value.
 */
#include "ops/nn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { POOL_MAX, POOL_AVG, POOL_LP };

static const pare_dtype float_types[] = {PARE_F32, PARE_F64, 0};
static const pare_dtype max_types[] = {PARE_F32, PARE_F64, PARE_I8, PARE_U8, PARE_I32, PARE_I64, 0};

static inline double load(pare_dtype dt, const void *p, int64_t i) {
  switch (dt) {
  case PARE_F32:
    return ((const float *)p)[i];
  case PARE_F64:
    return ((const double *)p)[i];
  case PARE_I8:
    return ((const int8_t *)p)[i];
  case PARE_U8:
    return ((const uint8_t *)p)[i];
  case PARE_I32:
    return ((const int32_t *)p)[i];
  default:
    return (double)((const int64_t *)p)[i];
  }
}

static inline void store(pare_dtype dt, void *p, int64_t i, double v) {
  switch (dt) {
  case PARE_F32:
    ((float *)p)[i] = (float)v;
    break;
  case PARE_F64:
    ((double *)p)[i] = v;
    break;
  case PARE_I8:
    ((int8_t *)p)[i] = (int8_t)v;
    break;
  case PARE_U8:
    ((uint8_t *)p)[i] = (uint8_t)v;
    break;
  case PARE_I32:
    ((int32_t *)p)[i] = (int32_t)v;
    break;
  default:
    ((int64_t *)p)[i] = (int64_t)v;
    break;
  }
}

typedef struct pool_plan {
  nn_window w;
  int mode;
  int count_include_pad;
  int storage_order;
  double p;
  int64_t N, C, in_vol, out_vol;
} pool_plan;

static int pool_prepare(const char *op, int mode, const pare_node *node,
                        const pare_tensor *const *in, int n_in, pool_plan *pp, pare_shape *y,
                        pare_err *err) {
  memset(pp, 0, sizeof *pp);
  pp->mode = mode;
  if (pare_nn_need_dtype(op, in, n_in, 0, mode == POOL_MAX ? max_types : float_types, err))
    return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  if (xs->rank < 0) {
    *y = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  if (xs->rank < 3)
    return pare_errf(err, "%s: X has rank %d, expected at least 3 (N, C, spatial...)", op,
                     xs->rank);
  int nsp = xs->rank - 2;
  const int64_t *ks;
  int64_t nk = pare_attr_ints(node, "kernel_shape", &ks);
  if (nk < 0) return pare_errf(err, "%s: attribute kernel_shape is required", op);
  int64_t kernel[PARE_MAX_RANK];
  if (pare_nn_ints_attr(node, op, "kernel_shape", nsp, 1, 1, kernel, err)) return PARE_ERR;
  int64_t ceil_mode = pare_attr_int(node, "ceil_mode", 0);
  if (pare_nn_window(node, op, xs, kernel, ceil_mode != 0, &pp->w, err)) return PARE_ERR;
  pp->count_include_pad = pare_attr_int(node, "count_include_pad", 0) != 0;
  pp->storage_order = (int)pare_attr_int(node, "storage_order", 0);
  if (pp->storage_order != 0 && pp->storage_order != 1)
    return pare_errf(err, "%s: storage_order %d must be 0 or 1", op, pp->storage_order);
  pp->p = (double)pare_attr_int(node, "p", 2);
  if (mode == POOL_LP && pp->p <= 0) return pare_errf(err, "%s: p must be positive", op);
  *y = pare_shape_make(xs->rank, NULL);
  y->dims[0] = pp->N = xs->dims[0];
  y->dims[1] = pp->C = xs->dims[1];
  pp->in_vol = pp->out_vol = 1;
  for (int i = 0; i < nsp; i++) {
    y->dims[2 + i] = pp->w.out[i];
    pp->in_vol *= pp->w.in[i];
    pp->out_vol *= pp->w.out[i];
  }
  return pare_shape_is_static(y) ? PARE_OK : PARE_UNKNOWN;
}

/* Pools one [N*C] plane; idx (MaxPool Indices) may be NULL. */
static void pool_plane(const pool_plan *pp, pare_dtype dt, const void *x, int64_t plane, void *y,
                       int64_t *idx) {
  const nn_window *w = &pp->w;
  int nsp = w->nsp;
  int64_t rstr[PARE_MAX_RANK], cstr[PARE_MAX_RANK]; /* row- and column-major input strides */
  rstr[nsp - 1] = 1;
  for (int d = nsp - 2; d >= 0; d--) rstr[d] = rstr[d + 1] * w->in[d + 1];
  cstr[0] = 1;
  for (int d = 1; d < nsp; d++) cstr[d] = cstr[d - 1] * w->in[d - 1];
  const int64_t *istr = pp->storage_order ? cstr : rstr;
  int64_t xoff = plane * pp->in_vol, yoff = plane * pp->out_vol;
  int64_t o[PARE_MAX_RANK] = {0};
  for (int64_t oi = 0; oi < pp->out_vol; oi++) {
    /* The box of taps k with 0 <= start + k * dil < in, per dim. */
    int64_t start[PARE_MAX_RANK], klo[PARE_MAX_RANK], khi[PARE_MAX_RANK], k[PARE_MAX_RANK];
    double padded_count = 1;
    int empty = 0;
    for (int d = 0; d < nsp; d++) {
      int64_t s = o[d] * w->stride[d] - w->pad_lo[d], dl = w->dil[d];
      start[d] = s;
      klo[d] = s >= 0 ? 0 : (-s + dl - 1) / dl;
      khi[d] = w->in[d] - s > 0 ? (w->in[d] - s + dl - 1) / dl : 0;
      if (khi[d] > w->kernel[d]) khi[d] = w->kernel[d];
      if (khi[d] <= klo[d]) empty = 1;
      /* Taps inside the padded input [-pad_lo, in + pad_hi). */
      int64_t plo = s >= -w->pad_lo[d] ? 0 : (-w->pad_lo[d] - s + dl - 1) / dl;
      int64_t lim = w->in[d] + w->pad_hi[d] - s;
      int64_t phi = lim > 0 ? (lim + dl - 1) / dl : 0;
      if (phi > w->kernel[d]) phi = w->kernel[d];
      padded_count *= phi > plo ? (double)(phi - plo) : 0;
      k[d] = klo[d];
    }
    double acc = pp->mode == POOL_MAX ? -INFINITY : 0;
    int64_t best = -1, count = 0;
    while (!empty) {
      int64_t pos = 0, flat = 0;
      for (int d = 0; d < nsp; d++) {
        int64_t c = start[d] + k[d] * w->dil[d];
        pos += c * rstr[d];
        flat += c * istr[d];
      }
      double v = load(dt, x, xoff + pos);
      if (pp->mode == POOL_MAX) {
        if (v > acc || best < 0) {
          acc = v;
          best = flat;
        }
      } else if (pp->mode == POOL_AVG) {
        acc += v;
      } else {
        acc += pp->p == 2 ? v * v : pow(fabs(v), pp->p);
      }
      count++;
      int d = nsp - 1;
      for (; d >= 0; d--) {
        if (++k[d] < khi[d]) break;
        k[d] = klo[d];
      }
      if (d < 0) break;
    }
    if (pp->mode == POOL_AVG) {
      double div = pp->count_include_pad ? padded_count : (double)count;
      acc = div > 0 ? acc / div : 0;
    } else if (pp->mode == POOL_LP) {
      acc = pp->p == 2 ? sqrt(acc) : pow(acc, 1.0 / pp->p);
    } else if (best < 0) {
      acc = 0; /* a window entirely in padding (only with extreme pads) */
    }
    store(dt, y, yoff + oi, acc);
    if (idx) idx[yoff + oi] = best < 0 ? 0 : plane * pp->in_vol + best;
    for (int d = nsp - 1; d >= 0; d--) {
      if (++o[d] < w->out[d]) break;
      o[d] = 0;
    }
  }
}

static int pool_infer(const char *op, int mode, const pare_node *node, const pare_tensor *const *in,
                      int n_in, pare_tensor *out, int n_out, pare_err *err) {
  pool_plan pp;
  int rc = pool_prepare(op, mode, node, in, n_in, &pp, &out[0].shape, err);
  if (rc == PARE_ERR) return rc;
  out[0].dtype = in[0]->dtype;
  if (mode == POOL_MAX && n_out > 1) {
    out[1].dtype = PARE_I64;
    out[1].shape = out[0].shape;
  }
  return rc;
}

static int pool_eval(const char *op, int mode, const pare_node *node, const pare_tensor *const *in,
                     int n_in, pare_tensor *out, int n_out, pare_err *err) {
  pool_plan pp;
  pare_shape ys;
  int rc = pool_prepare(op, mode, node, in, n_in, &pp, &ys, err);
  if (rc) return rc == PARE_UNKNOWN ? pare_errf(err, "%s: input shape not static", op) : rc;
  int64_t *idx = mode == POOL_MAX && n_out > 1 ? out[1].data : NULL;
  for (int64_t plane = 0; plane < pp.N * pp.C; plane++)
    pool_plane(&pp, in[0]->dtype, in[0]->data, plane, out[0].data, idx);
  return PARE_OK;
}

#define POOL_OP(name, mode)                                                                        \
  int pare_nn_infer_##name(const pare_node *node, const pare_tensor *const *in, int n_in,          \
                           pare_tensor *out, int n_out, pare_err *err) {                           \
    return pool_infer(#name, mode, node, in, n_in, out, n_out, err);                               \
  }                                                                                                \
  int pare_nn_eval_##name(const pare_node *node, const pare_tensor *const *in, int n_in,           \
                          pare_tensor *out, int n_out, pare_err *err) {                            \
    return pool_eval(#name, mode, node, in, n_in, out, n_out, err);                                \
  }

POOL_OP(MaxPool, POOL_MAX)
POOL_OP(AveragePool, POOL_AVG)
POOL_OP(LpPool, POOL_LP)

/* --------------------------------------------------------- Global pools */

static int global_infer(const char *op, const pare_tensor *const *in, int n_in, pare_tensor *out,
                        pare_err *err) {
  if (pare_nn_need_dtype(op, in, n_in, 0, float_types, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  if (xs->rank < 0) {
    out[0].shape = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  if (xs->rank < 3)
    return pare_errf(err, "%s: X has rank %d, expected at least 3 (N, C, spatial...)", op,
                     xs->rank);
  out[0].shape = *xs;
  for (int i = 2; i < xs->rank; i++) out[0].shape.dims[i] = 1;
  return pare_nn_result(out, 1);
}

static int global_eval(int mode, const pare_node *node, const pare_tensor *x, pare_tensor *y) {
  double p = (double)pare_attr_int(node, "p", 2);
  int64_t planes = x->shape.dims[0] * x->shape.dims[1];
  int64_t vol = planes ? pare_tensor_numel(x) / planes : 0;
  for (int64_t pl = 0; pl < planes; pl++) {
    double acc = mode == POOL_MAX ? -INFINITY : 0;
    for (int64_t i = pl * vol; i < (pl + 1) * vol; i++) {
      double v = load(x->dtype, x->data, i);
      if (mode == POOL_MAX)
        acc = v > acc ? v : acc;
      else if (mode == POOL_AVG)
        acc += v;
      else
        acc += p == 2 ? v * v : pow(fabs(v), p);
    }
    if (mode == POOL_AVG) acc = vol ? acc / (double)vol : 0;
    if (mode == POOL_LP) acc = p == 2 ? sqrt(acc) : pow(acc, 1.0 / p);
    store(x->dtype, y->data, pl, acc);
  }
  return PARE_OK;
}

#define GLOBAL_OP(name, mode)                                                                      \
  int pare_nn_infer_##name(const pare_node *node, const pare_tensor *const *in, int n_in,          \
                           pare_tensor *out, int n_out, pare_err *err) {                           \
    (void)node, (void)n_out;                                                                       \
    return global_infer(#name, in, n_in, out, err);                                                \
  }                                                                                                \
  int pare_nn_eval_##name(const pare_node *node, const pare_tensor *const *in, int n_in,           \
                          pare_tensor *out, int n_out, pare_err *err) {                            \
    (void)n_in, (void)n_out, (void)err;                                                            \
    return global_eval(mode, node, in[0], &out[0]);                                                \
  }

GLOBAL_OP(GlobalAveragePool, POOL_AVG)
GLOBAL_OP(GlobalMaxPool, POOL_MAX)
GLOBAL_OP(GlobalLpPool, POOL_LP)

/* ------------------------------------------------------------ MaxUnpool */

/*
 * The unpooled shape: the inverse of MaxPool's size formula. The indices
 * address this shape; an output_shape input, if given, only enlarges the
 * output (each element keeps its coordinates, the rest is zero).
 */
static int maxunpool_shapes(const pare_node *node, const pare_tensor *const *in, int n_in,
                            pare_shape *unpooled, pare_shape *y, pare_err *err) {
  const char *op = "MaxUnpool";
  if (pare_nn_need_dtype(op, in, n_in, 0, max_types, err)) return PARE_ERR;
  static const pare_dtype i64_only[] = {PARE_I64, 0};
  if (pare_nn_need_dtype(op, in, n_in, 1, i64_only, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  if (!pare_shape_equal(xs, &in[1]->shape) && xs->rank >= 0 && in[1]->shape.rank >= 0) {
    char a[128], b[128];
    pare_shape_str(xs, a, sizeof a);
    pare_shape_str(&in[1]->shape, b, sizeof b);
    return pare_errf(err, "%s: I has shape %s, X has %s", op, b, a);
  }
  if (xs->rank < 0) {
    *unpooled = *y = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  if (xs->rank < 3)
    return pare_errf(err, "%s: X has rank %d, expected at least 3 (N, C, spatial...)", op,
                     xs->rank);
  int nsp = xs->rank - 2;
  int64_t kernel[PARE_MAX_RANK], stride[PARE_MAX_RANK], pads[2 * PARE_MAX_RANK];
  if (pare_attr_ints(node, "kernel_shape", &(const int64_t *){0}) < 0)
    return pare_errf(err, "%s: attribute kernel_shape is required", op);
  if (pare_nn_ints_attr(node, op, "kernel_shape", nsp, 1, 1, kernel, err) ||
      pare_nn_ints_attr(node, op, "strides", nsp, 1, 1, stride, err) ||
      pare_nn_ints_attr(node, op, "pads", 2 * nsp, 0, 0, pads, err))
    return PARE_ERR;
  *unpooled = *xs;
  for (int i = 0; i < nsp; i++) {
    int64_t d = xs->dims[2 + i], u = (d - 1) * stride[i] + kernel[i] - pads[i] - pads[nsp + i];
    unpooled->dims[2 + i] = d < 0 ? -1 : u;
    if (d >= 0 && u < 1)
      return pare_errf(err, "%s: output dim %d would be %lld", op, i, (long long)u);
  }
  *y = *unpooled;
  if (n_in > 2 && in[2]) {
    const pare_tensor *os = in[2];
    if (os->shape.rank != 1 || os->shape.dims[0] != xs->rank)
      return pare_errf(err, "%s: output_shape must hold %d values", op, xs->rank);
    if (!os->data) {
      for (int i = 0; i < xs->rank; i++) y->dims[i] = -1;
      return PARE_UNKNOWN;
    }
    for (int i = 0; i < xs->rank; i++) {
      y->dims[i] = pare_tensor_get_i64(os, i);
      if (y->dims[i] < 0) return pare_errf(err, "%s: negative output_shape", op);
    }
  }
  return pare_shape_is_static(y) ? PARE_OK : PARE_UNKNOWN;
}

int pare_nn_infer_MaxUnpool(const pare_node *node, const pare_tensor *const *in, int n_in,
                            pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  pare_shape unpooled;
  int rc = maxunpool_shapes(node, in, n_in, &unpooled, &out[0].shape, err);
  if (rc != PARE_ERR) out[0].dtype = in[0]->dtype;
  return rc;
}

/* Y is zero except at the coordinates I addresses in the unpooled shape. */
int pare_nn_eval_MaxUnpool(const pare_node *node, const pare_tensor *const *in, int n_in,
                           pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  pare_shape unpooled, ys;
  int rc = maxunpool_shapes(node, in, n_in, &unpooled, &ys, err);
  if (rc) return rc == PARE_UNKNOWN ? pare_errf(err, "MaxUnpool: input shape not static") : rc;
  size_t es = pare_dtype_size(in[0]->dtype);
  int64_t n = pare_tensor_numel(in[0]), total = 1, ystr[PARE_MAX_RANK];
  for (int d = 0; d < unpooled.rank; d++) total *= unpooled.dims[d];
  pare_strides(&ys, ystr);
  const int64_t *idx = in[1]->data;
  memset(out[0].data, 0, out[0].nbytes);
  for (int64_t i = 0; i < n; i++) {
    if (idx[i] < 0 || idx[i] >= total)
      return pare_errf(err, "MaxUnpool: index %lld out of range for %lld elements",
                       (long long)idx[i], (long long)total);
    int64_t rem = idx[i], pos = 0;
    int fits = 1;
    for (int d = unpooled.rank - 1; d >= 0; d--) {
      int64_t c = rem % unpooled.dims[d];
      rem /= unpooled.dims[d];
      if (c >= ys.dims[d]) fits = 0;
      pos += c * ystr[d];
    }
    if (fits)
      memcpy((char *)out[0].data + (size_t)pos * es, (const char *)in[0]->data + (size_t)i * es,
             es);
  }
  return PARE_OK;
}
