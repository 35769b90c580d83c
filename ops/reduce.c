/*
 * reduce.c - ops of the reduce family (infer + reference eval):
 *   Reduce{Sum,Mean,Max,Min,Prod,L1,L2,LogSum,LogSumExp,SumSquare},
 *   ArgMax, ArgMin, TopK, CumSum, LpNormalization; Einsum lives in
 *   reduce_einsum.c.
 *
 * Float reductions accumulate in double; integer ones in 64-bit two's
 * complement (wrapping like the narrower dtype would after the final cast).
 */
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Defined in reduce_einsum.c. */
int pare_einsum_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err);
int pare_einsum_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err);

/* ------------------------------------------------------------- utilities */

/* Dtypes the kernels of this file compute on. */
static int numeric_dtype(pare_dtype dt) {
  return dt == PARE_F32 || dt == PARE_F64 || pare_dtype_is_int(dt);
}

static int check_numeric(const pare_tensor *t, const char *what, pare_err *err) {
  if (!numeric_dtype(t->dtype))
    return pare_errf(err, "%s: unsupported dtype %s", what, pare_dtype_name(t->dtype));
  return PARE_OK;
}

/* Element count of a shape, -1 if the rank or any dim is unknown. */
static int64_t shape_count(const pare_shape *s) {
  if (s->rank < 0) return -1;
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) {
    if (s->dims[i] < 0) return -1;
    n *= s->dims[i];
  }
  return n;
}

/* PARE_UNKNOWN if any output dim is unknown, PARE_OK otherwise. */
static int shape_status(const pare_shape *s) {
  return shape_count(s) < 0 ? PARE_UNKNOWN : PARE_OK;
}

/* Exact store of an integer into any numeric dtype (truncating like a C cast). */
static void set_i64(pare_tensor *t, int64_t i, int64_t v) {
  void *d = t->data;
  switch (t->dtype) {
  case PARE_I8:
    ((int8_t *)d)[i] = (int8_t)v;
    break;
  case PARE_U8:
    ((uint8_t *)d)[i] = (uint8_t)v;
    break;
  case PARE_BOOL:
    ((uint8_t *)d)[i] = v != 0;
    break;
  case PARE_I16:
    ((int16_t *)d)[i] = (int16_t)v;
    break;
  case PARE_U16:
    ((uint16_t *)d)[i] = (uint16_t)v;
    break;
  case PARE_I32:
    ((int32_t *)d)[i] = (int32_t)v;
    break;
  case PARE_U32:
    ((uint32_t *)d)[i] = (uint32_t)v;
    break;
  case PARE_I64:
    ((int64_t *)d)[i] = v;
    break;
  case PARE_U64:
    ((uint64_t *)d)[i] = (uint64_t)v;
    break;
  default:
    pare_tensor_set_f64(t, i, (double)v);
    break;
  }
}

/* double -> int64 without undefined behaviour (NaN -> 0, saturating). */
static int64_t f64_to_i64(double v) {
  if (isnan(v)) return 0;
  if (v >= 9.2e18) return INT64_MAX;
  if (v <= -9.2e18) return INT64_MIN;
  return (int64_t)v;
}

/* Three-way compare of two integers read with pare_tensor_get_i64. */
static int cmp_int(pare_dtype dt, int64_t a, int64_t b) {
  if (dt == PARE_U64) return ((uint64_t)a > (uint64_t)b) - ((uint64_t)a < (uint64_t)b);
  return (a > b) - (a < b);
}

/* Three-way compare of elements i and j of t. NaN compares greater than any
 * number and equal to NaN (numpy's sort order). */
static int cmp_elems(const pare_tensor *t, int64_t i, int64_t j) {
  if (pare_dtype_is_float(t->dtype)) {
    double a = pare_tensor_get_f64(t, i), b = pare_tensor_get_f64(t, j);
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
    return (a > b) - (a < b);
  }
  return cmp_int(t->dtype, pare_tensor_get_i64(t, i), pare_tensor_get_i64(t, j));
}

static int64_t dtype_min_i(pare_dtype dt) {
  switch (dt) {
  case PARE_I8:
    return INT8_MIN;
  case PARE_I16:
    return INT16_MIN;
  case PARE_I32:
    return INT32_MIN;
  case PARE_I64:
    return INT64_MIN;
  default:
    return 0; /* unsigned and bool */
  }
}

static int64_t dtype_max_i(pare_dtype dt) {
  switch (dt) {
  case PARE_I8:
    return INT8_MAX;
  case PARE_U8:
    return UINT8_MAX;
  case PARE_BOOL:
    return 1;
  case PARE_I16:
    return INT16_MAX;
  case PARE_U16:
    return UINT16_MAX;
  case PARE_I32:
    return INT32_MAX;
  case PARE_U32:
    return UINT32_MAX;
  case PARE_U64:
    return -1; /* all bits set */
  default:
    return INT64_MAX;
  }
}

/* Splits a static shape at `axis` into outer * dims[axis] * inner. */
static void split_at_axis(const pare_shape *s, int axis, int64_t *outer, int64_t *n,
                          int64_t *inner) {
  *outer = 1;
  *inner = 1;
  for (int i = 0; i < axis; i++) *outer *= s->dims[i];
  for (int i = axis + 1; i < s->rank; i++) *inner *= s->dims[i];
  *n = s->dims[axis];
}

/* ---------------------------------------------------------- Reduce* ops */

typedef enum reduce_kind {
  R_SUM,
  R_MEAN,
  R_MAX,
  R_MIN,
  R_PROD,
  R_L1,
  R_L2,
  R_LOGSUM,
  R_LOGSUMEXP,
  R_SUMSQUARE,
} reduce_kind;

/* Which axes a Reduce node reduces. noop: identity (empty axes with
 * noop_with_empty_axes=1). */
typedef struct reduce_plan {
  int noop;
  int rank;
  int reduced[PARE_MAX_RANK];
} reduce_plan;

/* PARE_OK, PARE_UNKNOWN (axes or rank not known yet) or PARE_ERR. */
static int reduce_plan_make(const pare_node *node, const pare_tensor *const *in, int n_in,
                            reduce_plan *p, pare_err *err) {
  memset(p, 0, sizeof *p);
  const pare_tensor *x = in[0], *axes = n_in > 1 ? in[1] : NULL;
  p->rank = x->shape.rank;
  int64_t noop_empty = pare_attr_int(node, "noop_with_empty_axes", 0);
  if (noop_empty != 0 && noop_empty != 1)
    return pare_errf(err, "noop_with_empty_axes must be 0 or 1, got %lld", (long long)noop_empty);
  int64_t n_axes = 0;
  if (axes) {
    if (axes->shape.rank > 1) return pare_errf(err, "axes must be a 1-D tensor");
    if (!pare_dtype_is_int(axes->dtype))
      return pare_errf(err, "axes must be an integer tensor, got %s", pare_dtype_name(axes->dtype));
    n_axes = shape_count(&axes->shape);
    if (n_axes != 0 && !axes->data) return PARE_UNKNOWN;
  }
  if (n_axes == 0 && noop_empty) {
    p->noop = 1;
    return p->rank < 0 ? PARE_UNKNOWN : PARE_OK;
  }
  if (p->rank < 0) return PARE_UNKNOWN;
  if (n_axes == 0) {
    for (int i = 0; i < p->rank; i++) p->reduced[i] = 1;
    return PARE_OK;
  }
  for (int64_t k = 0; k < n_axes; k++) {
    int a;
    if (pare_norm_axis(pare_tensor_get_i64(axes, k), p->rank, &a, err)) return PARE_ERR;
    if (p->reduced[a]) return pare_errf(err, "axis %d listed twice in axes", a);
    p->reduced[a] = 1;
  }
  return PARE_OK;
}

static int reduce_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  if (pare_need_input(in, n_in, 0, err)) return PARE_ERR;
  if (check_numeric(in[0], node->op, err)) return PARE_ERR;
  int64_t keepdims = pare_attr_int(node, "keepdims", 1);
  if (keepdims != 0 && keepdims != 1)
    return pare_errf(err, "keepdims must be 0 or 1, got %lld", (long long)keepdims);
  out[0].dtype = in[0]->dtype;
  reduce_plan p;
  int rc = reduce_plan_make(node, in, n_in, &p, err);
  if (rc == PARE_ERR) return rc;
  if (rc == PARE_UNKNOWN) {
    /* With keepdims the rank survives even when the axes are unknown. */
    out[0].shape = pare_shape_unknown();
    if (p.rank >= 0 && (keepdims || p.noop)) out[0].shape = pare_shape_make(p.rank, NULL);
    return PARE_UNKNOWN;
  }
  if (p.noop) {
    out[0].shape = in[0]->shape;
    return shape_status(&out[0].shape);
  }
  pare_shape s = pare_shape_make(0, NULL);
  for (int i = 0; i < p.rank; i++) {
    if (!p.reduced[i])
      s.dims[s.rank++] = in[0]->shape.dims[i];
    else if (keepdims)
      s.dims[s.rank++] = 1;
  }
  out[0].shape = s;
  return shape_status(&s);
}

/* Offsets (elements) of every index combination of the `pick` axes of shape
 * s, in row-major order over those axes. Caller frees. */
static int64_t *axes_offsets(const pare_shape *s, const int *pick, int npick, int64_t *count,
                             pare_err *err) {
  int64_t strides[PARE_MAX_RANK], n = 1;
  pare_strides(s, strides);
  for (int k = 0; k < npick; k++) n *= s->dims[pick[k]];
  int64_t *offs = malloc((size_t)(n > 0 ? n : 1) * sizeof *offs);
  if (!offs) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  int64_t idx[PARE_MAX_RANK] = {0}, off = 0;
  for (int64_t j = 0; j < n; j++) {
    offs[j] = off;
    for (int k = npick - 1; k >= 0; k--) {
      int a = pick[k];
      off += strides[a];
      if (++idx[k] < s->dims[a]) break;
      off -= idx[k] * strides[a];
      idx[k] = 0;
    }
  }
  *count = n;
  return offs;
}

/* One reduction of x[base + offs[0..r)] in double. */
static double reduce_f(reduce_kind kind, const pare_tensor *x, int64_t base, const int64_t *offs,
                       int64_t r) {
  double acc = 0;
  switch (kind) {
  case R_SUM:
  case R_MEAN:
  case R_LOGSUM:
    for (int64_t j = 0; j < r; j++) acc += pare_tensor_get_f64(x, base + offs[j]);
    if (kind == R_MEAN) return r ? acc / (double)r : NAN;
    return kind == R_LOGSUM ? log(acc) : acc;
  case R_PROD:
    acc = 1;
    for (int64_t j = 0; j < r; j++) acc *= pare_tensor_get_f64(x, base + offs[j]);
    return acc;
  case R_L1:
    for (int64_t j = 0; j < r; j++) acc += fabs(pare_tensor_get_f64(x, base + offs[j]));
    return acc;
  case R_L2:
  case R_SUMSQUARE:
    for (int64_t j = 0; j < r; j++) {
      double v = pare_tensor_get_f64(x, base + offs[j]);
      acc += v * v;
    }
    return kind == R_L2 ? sqrt(acc) : acc;
  case R_MAX:
  case R_MIN: {
    /* Empty: -inf / +inf. NaN propagates (numpy). */
    int is_max = kind == R_MAX;
    acc = is_max ? -INFINITY : INFINITY;
    for (int64_t j = 0; j < r; j++) {
      double v = pare_tensor_get_f64(x, base + offs[j]);
      if (isnan(v) || (is_max ? v > acc : v < acc)) acc = v;
      if (isnan(acc)) break;
    }
    return acc;
  }
  case R_LOGSUMEXP: {
    double m = reduce_f(R_MAX, x, base, offs, r);
    if (!isfinite(m)) m = 0; /* empty, all -inf, +inf or NaN: the direct form is exact */
    for (int64_t j = 0; j < r; j++) acc += exp(pare_tensor_get_f64(x, base + offs[j]) - m);
    return m + log(acc);
  }
  }
  return 0;
}

/* One reduction of integer x[base + offs[0..r)] in wrapping 64-bit arithmetic. */
static int64_t reduce_i(reduce_kind kind, const pare_tensor *x, int64_t base, const int64_t *offs,
                        int64_t r) {
  pare_dtype dt = x->dtype;
  uint64_t acc = 0;
  switch (kind) {
  case R_SUM:
  case R_MEAN:
    for (int64_t j = 0; j < r; j++) acc += (uint64_t)pare_tensor_get_i64(x, base + offs[j]);
    if (kind == R_MEAN) {
      if (r == 0) return 0;
      if (dt == PARE_U64) return (int64_t)(acc / (uint64_t)r);
      return (int64_t)acc / r;
    }
    return (int64_t)acc;
  case R_PROD:
    acc = 1;
    for (int64_t j = 0; j < r; j++) acc *= (uint64_t)pare_tensor_get_i64(x, base + offs[j]);
    return (int64_t)acc;
  case R_L1:
    for (int64_t j = 0; j < r; j++) {
      int64_t v = pare_tensor_get_i64(x, base + offs[j]);
      acc += (v < 0 && dt != PARE_U64) ? 0 - (uint64_t)v : (uint64_t)v;
    }
    return (int64_t)acc;
  case R_SUMSQUARE:
    for (int64_t j = 0; j < r; j++) {
      uint64_t v = (uint64_t)pare_tensor_get_i64(x, base + offs[j]);
      acc += v * v;
    }
    return (int64_t)acc;
  case R_MAX:
  case R_MIN: {
    int sign = kind == R_MAX ? 1 : -1;
    int64_t best = kind == R_MAX ? dtype_min_i(dt) : dtype_max_i(dt);
    for (int64_t j = 0; j < r; j++) {
      int64_t v = pare_tensor_get_i64(x, base + offs[j]);
      if (cmp_int(dt, v, best) * sign > 0) best = v;
    }
    return best;
  }
  case R_L2:
  case R_LOGSUM:
  case R_LOGSUMEXP:
    return f64_to_i64(reduce_f(kind, x, base, offs, r));
  }
  return 0;
}

static int reduce_eval(reduce_kind kind, const pare_node *node, const pare_tensor *const *in,
                       int n_in, pare_tensor *out, pare_err *err) {
  const pare_tensor *x = in[0];
  reduce_plan p;
  int rc = reduce_plan_make(node, in, n_in, &p, err);
  if (rc == PARE_UNKNOWN) return pare_errf(err, "axes value unknown at evaluation");
  if (rc) return rc;
  if (p.noop) {
    if (out->nbytes) memcpy(out->data, x->data, out->nbytes);
    return PARE_OK;
  }
  int kept[PARE_MAX_RANK], red[PARE_MAX_RANK], nk = 0, nr = 0;
  for (int i = 0; i < p.rank; i++) {
    if (p.reduced[i])
      red[nr++] = i;
    else
      kept[nk++] = i;
  }
  int64_t n_out, r;
  int64_t *outer = axes_offsets(&x->shape, kept, nk, &n_out, err);
  if (!outer) return PARE_ERR;
  int64_t *inner = axes_offsets(&x->shape, red, nr, &r, err);
  if (!inner) {
    free(outer);
    return PARE_ERR;
  }
  if (n_out != pare_tensor_numel(out)) {
    free(outer);
    free(inner);
    return pare_errf(err, "output has %lld elements, expected %lld",
                     (long long)pare_tensor_numel(out), (long long)n_out);
  }
  int is_float = pare_dtype_is_float(x->dtype);
  for (int64_t o = 0; o < n_out; o++) {
    if (is_float)
      pare_tensor_set_f64(out, o, reduce_f(kind, x, outer[o], inner, r));
    else
      set_i64(out, o, reduce_i(kind, x, outer[o], inner, r));
  }
  free(outer);
  free(inner);
  return PARE_OK;
}

#define REDUCE_EVAL(fn, kind)                                                                      \
  static int fn(const pare_node *node, const pare_tensor *const *in, int n_in, pare_tensor *out,   \
                int n_out, pare_err *err) {                                                        \
    (void)n_out;                                                                                   \
    return reduce_eval(kind, node, in, n_in, out, err);                                            \
  }

REDUCE_EVAL(reduce_sum_eval, R_SUM)
REDUCE_EVAL(reduce_mean_eval, R_MEAN)
REDUCE_EVAL(reduce_max_eval, R_MAX)
REDUCE_EVAL(reduce_min_eval, R_MIN)
REDUCE_EVAL(reduce_prod_eval, R_PROD)
REDUCE_EVAL(reduce_l1_eval, R_L1)
REDUCE_EVAL(reduce_l2_eval, R_L2)
REDUCE_EVAL(reduce_logsum_eval, R_LOGSUM)
REDUCE_EVAL(reduce_logsumexp_eval, R_LOGSUMEXP)
REDUCE_EVAL(reduce_sumsquare_eval, R_SUMSQUARE)

/* -------------------------------------------------------- ArgMax/ArgMin */

static int arg_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  if (pare_need_input(in, n_in, 0, err)) return PARE_ERR;
  if (check_numeric(in[0], node->op, err)) return PARE_ERR;
  int64_t keepdims = pare_attr_int(node, "keepdims", 1);
  int64_t last = pare_attr_int(node, "select_last_index", 0);
  if (keepdims != 0 && keepdims != 1)
    return pare_errf(err, "keepdims must be 0 or 1, got %lld", (long long)keepdims);
  if (last != 0 && last != 1)
    return pare_errf(err, "select_last_index must be 0 or 1, got %lld", (long long)last);
  out[0].dtype = PARE_I64;
  const pare_shape *xs = &in[0]->shape;
  if (xs->rank < 0) {
    out[0].shape = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  int axis;
  if (pare_norm_axis(pare_attr_int(node, "axis", 0), xs->rank, &axis, err)) return PARE_ERR;
  if (xs->dims[axis] == 0) return pare_errf(err, "%s over an empty axis %d", node->op, axis);
  pare_shape s = pare_shape_make(0, NULL);
  for (int i = 0; i < xs->rank; i++) {
    if (i != axis)
      s.dims[s.rank++] = xs->dims[i];
    else if (keepdims)
      s.dims[s.rank++] = 1;
  }
  out[0].shape = s;
  return shape_status(&s);
}

static int arg_eval(int want_max, const pare_node *node, const pare_tensor *const *in,
                    pare_tensor *out, pare_err *err) {
  const pare_tensor *x = in[0];
  int axis;
  if (pare_norm_axis(pare_attr_int(node, "axis", 0), x->shape.rank, &axis, err)) return PARE_ERR;
  int last = pare_attr_int(node, "select_last_index", 0) != 0;
  int64_t outer, n, inner;
  split_at_axis(&x->shape, axis, &outer, &n, &inner);
  if (n == 0 && outer * inner > 0)
    return pare_errf(err, "%s over an empty axis %d", node->op, axis);
  int64_t *res = out->data;
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * n * inner + i, best = 0;
      for (int64_t k = 1; k < n; k++) {
        int c = cmp_elems(x, base + k * inner, base + best * inner);
        if (!want_max) c = -c;
        if (c > 0 || (c == 0 && last)) best = k;
      }
      res[o * inner + i] = best;
    }
  }
  return PARE_OK;
}

static int argmax_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in;
  (void)n_out;
  return arg_eval(1, node, in, out, err);
}

static int argmin_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in;
  (void)n_out;
  return arg_eval(0, node, in, out, err);
}

/* ----------------------------------------------------------------- TopK */

/* Reads TopK's K input; PARE_UNKNOWN if its value is not known. */
static int topk_read_k(const pare_tensor *k, int64_t *out, pare_err *err) {
  if (!pare_dtype_is_int(k->dtype))
    return pare_errf(err, "K must be an integer tensor, got %s", pare_dtype_name(k->dtype));
  int64_t count = shape_count(&k->shape);
  if (count >= 0 && count != 1)
    return pare_errf(err, "K must hold one element, has %lld", (long long)count);
  if (!k->data || count < 0) return PARE_UNKNOWN;
  *out = pare_tensor_get_i64(k, 0);
  if (*out < 0) return pare_errf(err, "K must be non-negative, got %lld", (long long)*out);
  return PARE_OK;
}

static int topk_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  if (pare_need_input(in, n_in, 0, err) || pare_need_input(in, n_in, 1, err)) return PARE_ERR;
  if (check_numeric(in[0], "TopK", err)) return PARE_ERR;
  if (n_out != 2) return pare_errf(err, "TopK has 2 outputs, node has %d", n_out);
  int64_t largest = pare_attr_int(node, "largest", 1), sorted = pare_attr_int(node, "sorted", 1);
  if ((largest != 0 && largest != 1) || (sorted != 0 && sorted != 1))
    return pare_errf(err, "largest and sorted must be 0 or 1");
  out[0].dtype = in[0]->dtype;
  out[1].dtype = PARE_I64;
  const pare_shape *xs = &in[0]->shape;
  int64_t k = -1;
  int rc = topk_read_k(in[1], &k, err);
  if (rc == PARE_ERR) return rc;
  if (xs->rank < 0) {
    out[0].shape = out[1].shape = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  int axis;
  if (pare_norm_axis(pare_attr_int(node, "axis", -1), xs->rank, &axis, err)) return PARE_ERR;
  if (k >= 0 && xs->dims[axis] >= 0 && k > xs->dims[axis])
    return pare_errf(err, "K = %lld exceeds axis %d of size %lld", (long long)k, axis,
                     (long long)xs->dims[axis]);
  pare_shape s = *xs;
  s.dims[axis] = k;
  out[0].shape = out[1].shape = s;
  return shape_status(&s);
}

/* Sort key of one TopK candidate; ties order by index ascending. */
typedef struct topk_item {
  double f;
  int64_t i; /* integer value (integer dtypes) */
  int64_t idx;
} topk_item;

/* Comparators giving "best first" order; NaN counts as the largest value. */
static int topk_cmp_f(const topk_item *a, const topk_item *b) {
  if (isnan(a->f) || isnan(b->f)) return isnan(a->f) - isnan(b->f);
  return (a->f > b->f) - (a->f < b->f);
}
static int topk_tie(const topk_item *a, const topk_item *b) {
  return (a->idx > b->idx) - (a->idx < b->idx);
}
static int topk_f_largest(const void *pa, const void *pb) {
  int c = topk_cmp_f(pb, pa);
  return c ? c : topk_tie(pa, pb);
}
static int topk_f_smallest(const void *pa, const void *pb) {
  int c = topk_cmp_f(pa, pb);
  return c ? c : topk_tie(pa, pb);
}
static int topk_i_largest(const void *pa, const void *pb) {
  const topk_item *a = pa, *b = pb;
  int c = (b->i > a->i) - (b->i < a->i);
  return c ? c : topk_tie(a, b);
}
static int topk_i_smallest(const void *pa, const void *pb) {
  const topk_item *a = pa, *b = pb;
  int c = (a->i > b->i) - (a->i < b->i);
  return c ? c : topk_tie(a, b);
}
static int topk_u_largest(const void *pa, const void *pb) {
  const topk_item *a = pa, *b = pb;
  int c = cmp_int(PARE_U64, b->i, a->i);
  return c ? c : topk_tie(a, b);
}
static int topk_u_smallest(const void *pa, const void *pb) {
  const topk_item *a = pa, *b = pb;
  int c = cmp_int(PARE_U64, a->i, b->i);
  return c ? c : topk_tie(a, b);
}

static int topk_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in;
  (void)n_out;
  const pare_tensor *x = in[0];
  int64_t k;
  int rc = topk_read_k(in[1], &k, err);
  if (rc == PARE_UNKNOWN) return pare_errf(err, "K value unknown at evaluation");
  if (rc) return rc;
  int axis;
  if (pare_norm_axis(pare_attr_int(node, "axis", -1), x->shape.rank, &axis, err)) return PARE_ERR;
  int64_t outer, n, inner;
  split_at_axis(&x->shape, axis, &outer, &n, &inner);
  if (k > n)
    return pare_errf(err, "K = %lld exceeds axis %d of size %lld", (long long)k, axis,
                     (long long)n);
  int largest = pare_attr_int(node, "largest", 1) != 0;
  int (*cmp)(const void *, const void *);
  if (pare_dtype_is_float(x->dtype))
    cmp = largest ? topk_f_largest : topk_f_smallest;
  else if (x->dtype == PARE_U64)
    cmp = largest ? topk_u_largest : topk_u_smallest;
  else
    cmp = largest ? topk_i_largest : topk_i_smallest;
  size_t esize = pare_dtype_size(x->dtype);
  topk_item *items = malloc((size_t)(n > 0 ? n : 1) * sizeof *items);
  if (!items) return pare_errf(err, "out of memory");
  const char *src = x->data;
  char *vals = out[0].data;
  int64_t *idxs = out[1].data;
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * n * inner + i;
      for (int64_t j = 0; j < n; j++) {
        int64_t at = base + j * inner;
        items[j].idx = j;
        if (pare_dtype_is_float(x->dtype))
          items[j].f = pare_tensor_get_f64(x, at);
        else
          items[j].i = pare_tensor_get_i64(x, at);
      }
      qsort(items, (size_t)n, sizeof *items, cmp);
      int64_t obase = o * k * inner + i;
      for (int64_t j = 0; j < k; j++) {
        int64_t at = obase + j * inner;
        memcpy(vals + (size_t)at * esize, src + (size_t)(base + items[j].idx * inner) * esize,
               esize);
        idxs[at] = items[j].idx;
      }
    }
  }
  free(items);
  return PARE_OK;
}

/* --------------------------------------------------------------- CumSum */

static int cumsum_axis(const pare_tensor *x, const pare_tensor *a, int *axis, pare_err *err) {
  if (!pare_dtype_is_int(a->dtype))
    return pare_errf(err, "CumSum axis must be an integer tensor, got %s",
                     pare_dtype_name(a->dtype));
  if (a->shape.rank > 1 || shape_count(&a->shape) != 1)
    return pare_errf(err, "CumSum axis must be a scalar");
  if (!a->data) return PARE_UNKNOWN;
  return pare_norm_axis(pare_tensor_get_i64(a, 0), x->shape.rank, axis, err);
}

static int cumsum_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  if (pare_need_input(in, n_in, 0, err) || pare_need_input(in, n_in, 1, err)) return PARE_ERR;
  if (check_numeric(in[0], "CumSum", err)) return PARE_ERR;
  if (in[0]->dtype == PARE_BOOL) return pare_errf(err, "CumSum: unsupported dtype bool");
  int64_t excl = pare_attr_int(node, "exclusive", 0), rev = pare_attr_int(node, "reverse", 0);
  if ((excl != 0 && excl != 1) || (rev != 0 && rev != 1))
    return pare_errf(err, "exclusive and reverse must be 0 or 1");
  out[0].dtype = in[0]->dtype;
  out[0].shape = in[0]->shape;
  if (in[0]->shape.rank >= 0) {
    int axis;
    if (cumsum_axis(in[0], in[1], &axis, err) == PARE_ERR) return PARE_ERR;
  }
  return shape_status(&out[0].shape);
}

static int cumsum_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in;
  (void)n_out;
  const pare_tensor *x = in[0];
  int axis;
  int rc = cumsum_axis(x, in[1], &axis, err);
  if (rc == PARE_UNKNOWN) return pare_errf(err, "CumSum axis value unknown at evaluation");
  if (rc) return rc;
  int excl = pare_attr_int(node, "exclusive", 0) != 0;
  int rev = pare_attr_int(node, "reverse", 0) != 0;
  int is_float = pare_dtype_is_float(x->dtype);
  int64_t outer, n, inner;
  split_at_axis(&x->shape, axis, &outer, &n, &inner);
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) {
      double fsum = 0;
      uint64_t isum = 0;
      for (int64_t j = 0; j < n; j++) {
        int64_t at = o * n * inner + (rev ? n - 1 - j : j) * inner + i;
        if (is_float) {
          double v = pare_tensor_get_f64(x, at);
          if (!excl) fsum += v;
          pare_tensor_set_f64(out, at, fsum);
          if (excl) fsum += v;
        } else {
          uint64_t v = (uint64_t)pare_tensor_get_i64(x, at);
          if (!excl) isum += v;
          set_i64(out, at, (int64_t)isum);
          if (excl) isum += v;
        }
      }
    }
  }
  return PARE_OK;
}

/* ------------------------------------------------------ LpNormalization */

static int lpnorm_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  if (pare_need_input(in, n_in, 0, err)) return PARE_ERR;
  if (!pare_dtype_is_float(in[0]->dtype) || in[0]->dtype == PARE_F16)
    return pare_errf(err, "LpNormalization: unsupported dtype %s", pare_dtype_name(in[0]->dtype));
  int64_t p = pare_attr_int(node, "p", 2);
  if (p != 1 && p != 2)
    return pare_errf(err, "LpNormalization: p must be 1 or 2, got %lld", (long long)p);
  out[0].dtype = in[0]->dtype;
  out[0].shape = in[0]->shape;
  if (in[0]->shape.rank >= 0) {
    int axis;
    if (pare_norm_axis(pare_attr_int(node, "axis", -1), in[0]->shape.rank, &axis, err))
      return PARE_ERR;
  }
  return shape_status(&out[0].shape);
}

static int lpnorm_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in;
  (void)n_out;
  const pare_tensor *x = in[0];
  int axis;
  if (pare_norm_axis(pare_attr_int(node, "axis", -1), x->shape.rank, &axis, err)) return PARE_ERR;
  int p = (int)pare_attr_int(node, "p", 2);
  int64_t outer, n, inner;
  split_at_axis(&x->shape, axis, &outer, &n, &inner);
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * n * inner + i;
      double norm = 0;
      for (int64_t j = 0; j < n; j++) {
        double v = pare_tensor_get_f64(x, base + j * inner);
        norm += p == 1 ? fabs(v) : v * v;
      }
      if (p == 2) norm = sqrt(norm);
      /* A zero vector stays zero instead of becoming NaN. */
      for (int64_t j = 0; j < n; j++) {
        double v = pare_tensor_get_f64(x, base + j * inner);
        pare_tensor_set_f64(out, base + j * inner, norm != 0 ? v / norm : 0);
      }
    }
  }
  return PARE_OK;
}

/* ---------------------------------------------------------------- table */

const pare_op_def pare_ops_reduce[] = {
    {"ReduceSum", reduce_infer, reduce_sum_eval},
    {"ReduceMean", reduce_infer, reduce_mean_eval},
    {"ReduceMax", reduce_infer, reduce_max_eval},
    {"ReduceMin", reduce_infer, reduce_min_eval},
    {"ReduceProd", reduce_infer, reduce_prod_eval},
    {"ReduceL1", reduce_infer, reduce_l1_eval},
    {"ReduceL2", reduce_infer, reduce_l2_eval},
    {"ReduceLogSum", reduce_infer, reduce_logsum_eval},
    {"ReduceLogSumExp", reduce_infer, reduce_logsumexp_eval},
    {"ReduceSumSquare", reduce_infer, reduce_sumsquare_eval},
    {"ArgMax", arg_infer, argmax_eval},
    {"ArgMin", arg_infer, argmin_eval},
    {"TopK", topk_infer, topk_eval},
    {"CumSum", cumsum_infer, cumsum_eval},
    {"LpNormalization", lpnorm_infer, lpnorm_eval},
    {"Einsum", pare_einsum_infer, pare_einsum_eval},
    {0, 0, 0},
};
