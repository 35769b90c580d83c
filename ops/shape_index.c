/*
 * shape_index.c - indexing ops of the shape family: Gather, GatherElements,
 * GatherND, ScatterElements (and the deprecated Scatter), ScatterND, OneHot,
 * NonZero, Compress, ReverseSequence, Trilu, EyeLike.
 *
 * Indices may be negative (counted from the end of their axis); an index out
 * of range is an error naming it, never an out-of-bounds access.
 */
#include "ops/shape_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_LIMIT (INT64_MAX / 16)

/* Inputs 0..n_req-1 present and at least one output. */
static int begin(const pare_tensor *const *in, int n_in, int n_req, int n_out, pare_err *err) {
  for (int i = 0; i < n_req; i++)
    if (pare_need_input(in, n_in, i, err)) return PARE_ERR;
  if (n_out < 1) return pare_errf(err, "expected an output");
  return PARE_OK;
}

static int need_index_dtype(const pare_tensor *t, const char *what, pare_err *err) {
  if (!pare_dtype_is_int(t->dtype))
    return pare_errf(err, "%s must be an integer tensor, got %s", what, pare_dtype_name(t->dtype));
  return PARE_OK;
}

/* Normalizes index v against an axis of size dim; PARE_ERR when out of range. */
static int norm_index(int64_t v, int64_t dim, int axis, int64_t *out, pare_err *err) {
  int64_t i = v < 0 ? v + dim : v;
  if (i < 0 || i >= dim)
    return pare_errf(err, "index %lld out of range for axis %d of size %lld", (long long)v, axis,
                     (long long)dim);
  *out = i;
  return PARE_OK;
}

static int64_t prod_dims(const int64_t *d, int n) {
  int64_t p = 1;
  for (int i = 0; i < n; i++) p *= d[i];
  return p;
}

/* ----------------------------------------------------------------- Gather */

int pare_shapeop_infer_gather(const pare_node *node, const pare_tensor *const *in, int n_in,
                              pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 2, n_out, err) || need_index_dtype(in[1], "indices", err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape, *is = &in[1]->shape;
  out[0].dtype = in[0]->dtype;
  if (xs->rank < 0 || is->rank < 0) return PARE_UNKNOWN;
  if (xs->rank < 1) return pare_errf(err, "data must have rank >= 1");
  int axis, r = xs->rank - 1 + is->rank;
  if (pare_norm_axis(pare_attr_int(node, "axis", 0), xs->rank, &axis, err)) return PARE_ERR;
  if (r > PARE_MAX_RANK)
    return pare_errf(err, "output rank %d exceeds the supported %d", r, PARE_MAX_RANK);
  pare_shape o = pare_shape_make(r, NULL);
  int k = 0;
  for (int i = 0; i < axis; i++) o.dims[k++] = xs->dims[i];
  for (int i = 0; i < is->rank; i++) o.dims[k++] = is->dims[i];
  for (int i = axis + 1; i < xs->rank; i++) o.dims[k++] = xs->dims[i];
  out[0].shape = o;
  return pare_shapeop_result(out, 1);
}

int pare_shapeop_eval_gather(const pare_node *node, const pare_tensor *const *in, int n_in,
                             pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0], *ind = in[1];
  size_t es;
  int axis;
  if (pare_shapeop_elem_size(x, &es, err) ||
      pare_norm_axis(pare_attr_int(node, "axis", 0), x->shape.rank, &axis, err))
    return PARE_ERR;
  int64_t outer = prod_dims(x->shape.dims, axis), dim = x->shape.dims[axis];
  int64_t inner = prod_dims(x->shape.dims + axis + 1, x->shape.rank - axis - 1);
  int64_t n = pare_tensor_numel(ind);
  size_t block = (size_t)inner * es;
  char *dst = out[0].data;
  const char *src = x->data;
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t k = 0; k < n; k++, dst += block) {
      int64_t i = 0;
      if (norm_index(pare_tensor_get_i64(ind, k), dim, axis, &i, err)) return PARE_ERR;
      memcpy(dst, src + (size_t)(o * dim + i) * block, block);
    }
  }
  return PARE_OK;
}

/* --------------------------------------------------------- GatherElements */

/* Checks data/indices ranks and that indices fit data off the axis. */
static int elements_shapes(const pare_shape *xs, const pare_shape *is, int axis, pare_err *err) {
  if (is->rank != xs->rank)
    return pare_errf(err, "indices have rank %d, data has rank %d", is->rank, xs->rank);
  for (int d = 0; d < xs->rank; d++)
    if (d != axis && is->dims[d] >= 0 && xs->dims[d] >= 0 && is->dims[d] > xs->dims[d])
      return pare_errf(err, "indices dim %d (%lld) exceeds data dim (%lld)", d,
                       (long long)is->dims[d], (long long)xs->dims[d]);
  return PARE_OK;
}

int pare_shapeop_infer_gather_elements(const pare_node *node, const pare_tensor *const *in,
                                       int n_in, pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 2, n_out, err) || need_index_dtype(in[1], "indices", err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape, *is = &in[1]->shape;
  out[0].dtype = in[0]->dtype;
  out[0].shape = *is;
  if (xs->rank < 0 || is->rank < 0) return PARE_UNKNOWN;
  int axis;
  if (pare_norm_axis(pare_attr_int(node, "axis", 0), xs->rank, &axis, err) ||
      elements_shapes(xs, is, axis, err))
    return PARE_ERR;
  return pare_shapeop_result(out, 1);
}

/*
 * Visits every position of indices (shape is) and yields the element offset
 * into data (strides st) it addresses along axis; calls fn(ctx, pos, offset).
 */
typedef int (*elements_fn)(void *ctx, int64_t pos, int64_t offset, pare_err *err);

static int for_each_element(const pare_tensor *ind, const pare_shape *xs, int axis, elements_fn fn,
                            void *ctx, pare_err *err) {
  const pare_shape *is = &ind->shape;
  int r = is->rank;
  int64_t st[PARE_MAX_RANK], c[PARE_MAX_RANK] = {0};
  pare_strides(xs, st);
  int64_t n = pare_tensor_numel(ind);
  for (int64_t pos = 0; pos < n; pos++) {
    int64_t i = 0, off = 0;
    if (norm_index(pare_tensor_get_i64(ind, pos), xs->dims[axis], axis, &i, err)) return PARE_ERR;
    for (int d = 0; d < r; d++) off += (d == axis ? i : c[d]) * st[d];
    if (fn(ctx, pos, off, err)) return PARE_ERR;
    for (int d = r - 1; d >= 0; d--) {
      if (++c[d] < is->dims[d]) break;
      c[d] = 0;
    }
  }
  return PARE_OK;
}

typedef struct copy_ctx {
  char *dst;
  const char *src;
  size_t es;
} copy_ctx;

static int gather_element(void *ctx, int64_t pos, int64_t offset, pare_err *err) {
  (void)err;
  copy_ctx *c = ctx;
  memcpy(c->dst + (size_t)pos * c->es, c->src + (size_t)offset * c->es, c->es);
  return PARE_OK;
}

int pare_shapeop_eval_gather_elements(const pare_node *node, const pare_tensor *const *in, int n_in,
                                      pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  int axis;
  if (pare_shapeop_elem_size(x, &es, err) ||
      pare_norm_axis(pare_attr_int(node, "axis", 0), x->shape.rank, &axis, err) ||
      elements_shapes(&x->shape, &in[1]->shape, axis, err))
    return PARE_ERR;
  copy_ctx c = {out[0].data, x->data, es};
  return for_each_element(in[1], &x->shape, axis, gather_element, &c, err);
}

/* --------------------------------------------------------------- GatherND */

int pare_shapeop_infer_gather_nd(const pare_node *node, const pare_tensor *const *in, int n_in,
                                 pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 2, n_out, err) || need_index_dtype(in[1], "indices", err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape, *is = &in[1]->shape;
  out[0].dtype = in[0]->dtype;
  if (xs->rank < 0 || is->rank < 0) return PARE_UNKNOWN;
  int64_t b = pare_attr_int(node, "batch_dims", 0);
  int r = xs->rank, q = is->rank;
  if (r < 1 || q < 1) return pare_errf(err, "data and indices must have rank >= 1");
  if (b < 0 || b >= q || b >= r)
    return pare_errf(err, "batch_dims %lld must be below the ranks of data (%d) and indices (%d)",
                     (long long)b, r, q);
  for (int i = 0; i < b; i++)
    if (xs->dims[i] >= 0 && is->dims[i] >= 0 && xs->dims[i] != is->dims[i])
      return pare_errf(err, "batch dim %d differs: data %lld, indices %lld", i,
                       (long long)xs->dims[i], (long long)is->dims[i]);
  int64_t k = is->dims[q - 1];
  if (k < 0) return PARE_UNKNOWN;
  if (k < 1 || k > r - b)
    return pare_errf(err, "indices' last dim %lld must be in [1, %lld]", (long long)k,
                     (long long)(r - b));
  int orank = q - 1 + r - (int)b - (int)k;
  pare_shape o = pare_shape_make(orank, NULL);
  int at = 0;
  for (int i = 0; i < q - 1; i++) o.dims[at++] = is->dims[i];
  for (int i = (int)(b + k); i < r; i++) o.dims[at++] = xs->dims[i];
  out[0].shape = o;
  return pare_shapeop_result(out, 1);
}

/*
 * Element offset into data (strides st, dims xd) of the k-tuple of indices
 * starting at element `at` of ind, for the axes first..first+k-1.
 */
static int tuple_offset(const pare_tensor *ind, int64_t at, int64_t k, int first, const int64_t *xd,
                        const int64_t *st, int64_t *off, pare_err *err) {
  int64_t o = 0;
  for (int64_t j = 0; j < k; j++) {
    int64_t i = 0;
    int a = first + (int)j;
    if (norm_index(pare_tensor_get_i64(ind, at + j), xd[a], a, &i, err)) return PARE_ERR;
    o += i * st[a];
  }
  *off = o;
  return PARE_OK;
}

int pare_shapeop_eval_gather_nd(const pare_node *node, const pare_tensor *const *in, int n_in,
                                pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0], *ind = in[1];
  size_t es;
  if (pare_shapeop_elem_size(x, &es, err)) return PARE_ERR;
  int b = (int)pare_attr_int(node, "batch_dims", 0);
  int r = x->shape.rank, q = ind->shape.rank;
  int64_t k = ind->shape.dims[q - 1];
  int64_t st[PARE_MAX_RANK];
  pare_strides(&x->shape, st);
  int64_t batches = prod_dims(ind->shape.dims, b);
  int64_t tuples = prod_dims(ind->shape.dims + b, q - 1 - b);
  int64_t slice = prod_dims(x->shape.dims + b + k, r - b - (int)k);
  int64_t xbatch = prod_dims(x->shape.dims + b, r - b);
  size_t block = (size_t)slice * es;
  char *dst = out[0].data;
  const char *src = x->data;
  for (int64_t bi = 0; bi < batches; bi++) {
    for (int64_t t = 0; t < tuples; t++, dst += block) {
      int64_t off;
      if (tuple_offset(ind, (bi * tuples + t) * k, k, b, x->shape.dims, st, &off, err))
        return PARE_ERR;
      memcpy(dst, src + (size_t)(bi * xbatch + off) * es, block);
    }
  }
  return PARE_OK;
}

/* ---------------------------------------------------------------- Scatter */

typedef enum scatter_red { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } scatter_red;

static int scatter_reduction(const pare_node *node, pare_dtype dt, scatter_red *red,
                             pare_err *err) {
  const char *s = pare_attr_string(node, "reduction", "none");
  if (strcmp(s, "none") == 0)
    *red = RED_NONE;
  else if (strcmp(s, "add") == 0)
    *red = RED_ADD;
  else if (strcmp(s, "mul") == 0)
    *red = RED_MUL;
  else if (strcmp(s, "max") == 0)
    *red = RED_MAX;
  else if (strcmp(s, "min") == 0)
    *red = RED_MIN;
  else
    return pare_errf(err, "unknown reduction '%s'", s);
  if (*red != RED_NONE && dt != PARE_F32 && dt != PARE_F64 && !pare_dtype_is_int(dt) &&
      dt != PARE_BOOL)
    return pare_errf(err, "reduction '%s' is not supported for dtype %s", s, pare_dtype_name(dt));
  return PARE_OK;
}

#define REDUCE_FLOAT(T)                                                                            \
  do {                                                                                             \
    T a, b;                                                                                        \
    memcpy(&a, dst, sizeof a);                                                                     \
    memcpy(&b, src, sizeof b);                                                                     \
    switch (red) {                                                                                 \
    case RED_ADD:                                                                                  \
      a = a + b;                                                                                   \
      break;                                                                                       \
    case RED_MUL:                                                                                  \
      a = a * b;                                                                                   \
      break;                                                                                       \
    case RED_MAX:                                                                                  \
      a = b > a || isnan(b) ? b : a;                                                               \
      break;                                                                                       \
    case RED_MIN:                                                                                  \
      a = b < a || isnan(b) ? b : a;                                                               \
      break;                                                                                       \
    default:                                                                                       \
      a = b;                                                                                       \
      break;                                                                                       \
    }                                                                                              \
    memcpy(dst, &a, sizeof a);                                                                     \
  } while (0)

/* dst = dst (red) src for one element of dtype dt. Integers wrap like the dtype. */
static void reduce_elem(pare_dtype dt, scatter_red red, size_t es, void *dst, const void *src) {
  if (red == RED_NONE) {
    memcpy(dst, src, es);
    return;
  }
  if (dt == PARE_F32) {
    REDUCE_FLOAT(float);
    return;
  }
  if (dt == PARE_F64) {
    REDUCE_FLOAT(double);
    return;
  }
  pare_tensor ta = {.dtype = dt, .data = dst}, tb = {.dtype = dt, .data = (void *)src};
  int64_t a = pare_tensor_get_i64(&ta, 0), b = pare_tensor_get_i64(&tb, 0);
  int unsigned64 = dt == PARE_U64;
  int b_greater = unsigned64 ? (uint64_t)b > (uint64_t)a : b > a;
  switch (red) {
  case RED_ADD:
    a = (int64_t)((uint64_t)a + (uint64_t)b);
    break;
  case RED_MUL:
    a = (int64_t)((uint64_t)a * (uint64_t)b);
    break;
  case RED_MAX:
    a = b_greater ? b : a;
    break;
  default:
    a = b_greater || a == b ? a : b;
    break;
  }
  /* Store back exactly (truncating to the dtype's width). */
  switch (dt) {
  case PARE_I8:
  case PARE_U8: {
    uint8_t v = (uint8_t)a;
    memcpy(dst, &v, 1);
    break;
  }
  case PARE_BOOL: {
    uint8_t v = a != 0;
    memcpy(dst, &v, 1);
    break;
  }
  case PARE_I16:
  case PARE_U16: {
    uint16_t v = (uint16_t)a;
    memcpy(dst, &v, 2);
    break;
  }
  case PARE_I32:
  case PARE_U32: {
    uint32_t v = (uint32_t)a;
    memcpy(dst, &v, 4);
    break;
  }
  default:
    memcpy(dst, &a, 8);
    break;
  }
}

typedef struct scatter_ctx {
  char *dst;
  const char *upd;
  size_t es;
  pare_dtype dt;
  scatter_red red;
} scatter_ctx;

static int scatter_element(void *ctx, int64_t pos, int64_t offset, pare_err *err) {
  (void)err;
  scatter_ctx *c = ctx;
  reduce_elem(c->dt, c->red, c->es, c->dst + (size_t)offset * c->es, c->upd + (size_t)pos * c->es);
  return PARE_OK;
}

int pare_shapeop_infer_scatter_elements(const pare_node *node, const pare_tensor *const *in,
                                        int n_in, pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 3, n_out, err) || need_index_dtype(in[1], "indices", err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape, *is = &in[1]->shape, *us = &in[2]->shape;
  scatter_red red;
  if (scatter_reduction(node, in[0]->dtype, &red, err)) return PARE_ERR;
  if (in[2]->dtype != in[0]->dtype)
    return pare_errf(err, "updates have dtype %s, data has %s", pare_dtype_name(in[2]->dtype),
                     pare_dtype_name(in[0]->dtype));
  out[0].dtype = in[0]->dtype;
  out[0].shape = *xs;
  if (xs->rank < 0 || is->rank < 0) return PARE_UNKNOWN;
  int axis;
  if (pare_norm_axis(pare_attr_int(node, "axis", 0), xs->rank, &axis, err) ||
      elements_shapes(xs, is, axis, err))
    return PARE_ERR;
  if (us->rank >= 0) {
    int same = us->rank == is->rank;
    for (int d = 0; same && d < us->rank; d++)
      same = us->dims[d] < 0 || is->dims[d] < 0 || us->dims[d] == is->dims[d];
    if (!same) {
      char a[160], b[160];
      pare_shape_str(us, a, sizeof a);
      pare_shape_str(is, b, sizeof b);
      return pare_errf(err, "updates %s and indices %s differ in shape", a, b);
    }
  }
  return pare_shapeop_result(out, 1);
}

int pare_shapeop_eval_scatter_elements(const pare_node *node, const pare_tensor *const *in,
                                       int n_in, pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  int axis;
  scatter_red red;
  if (pare_shapeop_elem_size(x, &es, err) ||
      pare_norm_axis(pare_attr_int(node, "axis", 0), x->shape.rank, &axis, err) ||
      scatter_reduction(node, x->dtype, &red, err) ||
      elements_shapes(&x->shape, &in[1]->shape, axis, err))
    return PARE_ERR;
  if (pare_tensor_numel(in[2]) != pare_tensor_numel(in[1]))
    return pare_errf(err, "updates and indices differ in shape");
  memcpy(out[0].data, x->data, out[0].nbytes);
  scatter_ctx c = {out[0].data, in[2]->data, es, x->dtype, red};
  return for_each_element(in[1], &x->shape, axis, scatter_element, &c, err);
}

/* -------------------------------------------------------------- ScatterND */

int pare_shapeop_infer_scatter_nd(const pare_node *node, const pare_tensor *const *in, int n_in,
                                  pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 3, n_out, err) || need_index_dtype(in[1], "indices", err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape, *is = &in[1]->shape, *us = &in[2]->shape;
  scatter_red red;
  if (scatter_reduction(node, in[0]->dtype, &red, err)) return PARE_ERR;
  if (in[2]->dtype != in[0]->dtype)
    return pare_errf(err, "updates have dtype %s, data has %s", pare_dtype_name(in[2]->dtype),
                     pare_dtype_name(in[0]->dtype));
  out[0].dtype = in[0]->dtype;
  out[0].shape = *xs;
  if (xs->rank < 0 || is->rank < 0) return PARE_UNKNOWN;
  int r = xs->rank, q = is->rank;
  if (q < 1) return pare_errf(err, "indices must have rank >= 1");
  int64_t k = is->dims[q - 1];
  if (k < 0) return pare_shapeop_result(out, 1);
  if (k > r) return pare_errf(err, "indices' last dim %lld exceeds data rank %d", (long long)k, r);
  if (us->rank >= 0) {
    pare_shape want = pare_shape_make(q - 1 + r - (int)k, NULL);
    int at = 0, same;
    if (want.rank > PARE_MAX_RANK) return pare_errf(err, "updates rank is too large");
    for (int i = 0; i < q - 1; i++) want.dims[at++] = is->dims[i];
    for (int i = (int)k; i < r; i++) want.dims[at++] = xs->dims[i];
    same = us->rank == want.rank;
    for (int d = 0; same && d < us->rank; d++)
      same = us->dims[d] < 0 || want.dims[d] < 0 || us->dims[d] == want.dims[d];
    if (!same) {
      char a[160], b[160];
      pare_shape_str(us, a, sizeof a);
      pare_shape_str(&want, b, sizeof b);
      return pare_errf(err, "updates have shape %s, expected %s", a, b);
    }
  }
  return pare_shapeop_result(out, 1);
}

int pare_shapeop_eval_scatter_nd(const pare_node *node, const pare_tensor *const *in, int n_in,
                                 pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0], *ind = in[1];
  size_t es;
  scatter_red red;
  if (pare_shapeop_elem_size(x, &es, err) || scatter_reduction(node, x->dtype, &red, err))
    return PARE_ERR;
  int r = x->shape.rank, q = ind->shape.rank;
  int64_t k = ind->shape.dims[q - 1];
  int64_t tuples = prod_dims(ind->shape.dims, q - 1);
  int64_t slice = prod_dims(x->shape.dims + k, r - (int)k);
  if (pare_tensor_numel(in[2]) != tuples * slice)
    return pare_errf(err, "updates do not match indices and data");
  int64_t st[PARE_MAX_RANK];
  pare_strides(&x->shape, st);
  memcpy(out[0].data, x->data, out[0].nbytes);
  char *dst = out[0].data;
  const char *upd = in[2]->data;
  for (int64_t t = 0; t < tuples; t++) {
    int64_t off;
    if (tuple_offset(ind, t * k, k, 0, x->shape.dims, st, &off, err)) return PARE_ERR;
    for (int64_t e = 0; e < slice; e++)
      reduce_elem(x->dtype, red, es, dst + (size_t)(off + e) * es,
                  upd + (size_t)(t * slice + e) * es);
  }
  return PARE_OK;
}

/* ----------------------------------------------------------------- OneHot */

int pare_shapeop_infer_onehot(const pare_node *node, const pare_tensor *const *in, int n_in,
                              pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 3, n_out, err)) return PARE_ERR;
  const pare_shape *is = &in[0]->shape;
  if (pare_shape_is_static(&in[2]->shape) && pare_tensor_numel(in[2]) != 2)
    return pare_errf(err, "values must hold 2 elements [off, on]");
  if (pare_shape_is_static(&in[1]->shape) && pare_tensor_numel(in[1]) != 1)
    return pare_errf(err, "depth must hold one element");
  if (pare_dtype_size(in[0]->dtype) == 0 || pare_dtype_size(in[1]->dtype) == 0 ||
      in[1]->dtype == PARE_F16 || in[0]->dtype == PARE_F16)
    return pare_errf(err, "unsupported indices or depth dtype");
  out[0].dtype = in[2]->dtype;
  if (is->rank < 0) return PARE_UNKNOWN;
  int r = is->rank + 1, axis;
  if (r > PARE_MAX_RANK)
    return pare_errf(err, "output rank %d exceeds the supported %d", r, PARE_MAX_RANK);
  if (pare_norm_axis(pare_attr_int(node, "axis", -1), r, &axis, err)) return PARE_ERR;
  int64_t depth = -1;
  if (in[1]->data) {
    double d = pare_tensor_get_f64(in[1], 0);
    if (!(d >= 0) || d > (double)COUNT_LIMIT) return pare_errf(err, "depth %g is invalid", d);
    depth = (int64_t)d;
  }
  pare_shape o = pare_shape_make(r, NULL);
  for (int i = 0, j = 0; i < r; i++) o.dims[i] = i == axis ? depth : is->dims[j++];
  out[0].shape = o;
  if (depth < 0) return PARE_UNKNOWN;
  if (pare_shape_is_static(&o)) {
    int64_t n;
    if (pare_shape_numel(&o, &n, err)) return PARE_ERR;
  }
  return pare_shapeop_result(out, 1);
}

int pare_shapeop_eval_onehot(const pare_node *node, const pare_tensor *const *in, int n_in,
                             pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  size_t es;
  int r = out[0].shape.rank, axis;
  if (pare_shapeop_elem_size(&out[0], &es, err) ||
      pare_norm_axis(pare_attr_int(node, "axis", -1), r, &axis, err))
    return PARE_ERR;
  int64_t depth = out[0].shape.dims[axis];
  int64_t outer = prod_dims(out[0].shape.dims, axis);
  int64_t inner = prod_dims(out[0].shape.dims + axis + 1, r - axis - 1);
  const char *off = in[2]->data, *on = off + es;
  char *dst = out[0].data;
  int64_t n = pare_tensor_numel(&out[0]);
  for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * es, off, es);
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < inner; i++) {
      int64_t v = pare_tensor_get_i64(in[0], o * inner + i);
      if (v < 0) v += depth;
      if (v < 0 || v >= depth) continue; /* out of range: all "off" */
      memcpy(dst + (size_t)((o * depth + v) * inner + i) * es, on, es);
    }
  }
  return PARE_OK;
}

/* ---------------------------------------------------------------- NonZero */

static int64_t count_nonzero(const pare_tensor *x) {
  size_t es = pare_dtype_size(x->dtype);
  int64_t n = pare_tensor_numel(x), count = 0;
  for (int64_t i = 0; i < n; i++)
    count += pare_shapeop_elem_nonzero(x->dtype, (const char *)x->data + (size_t)i * es);
  return count;
}

int pare_shapeop_infer_nonzero(const pare_node *node, const pare_tensor *const *in, int n_in,
                               pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  if (pare_dtype_size(in[0]->dtype) == 0)
    return pare_errf(err, "unsupported dtype %s", pare_dtype_name(in[0]->dtype));
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = PARE_I64;
  out[0].shape = pare_shape_make(2, NULL);
  /* A scalar counts as a 1-D tensor of one element (numpy's behaviour). */
  if (xs->rank >= 0) out[0].shape.dims[0] = xs->rank == 0 ? 1 : xs->rank;
  if (!in[0]->data) return PARE_UNKNOWN;
  out[0].shape.dims[1] = count_nonzero(in[0]);
  return pare_shapeop_result(out, 1);
}

int pare_shapeop_eval_nonzero(const pare_node *node, const pare_tensor *const *in, int n_in,
                              pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_in, (void)n_out, (void)err;
  const pare_tensor *x = in[0];
  size_t es = pare_dtype_size(x->dtype);
  int r = x->shape.rank;
  int64_t nnz = out[0].shape.dims[1], n = pare_tensor_numel(x), col = 0;
  int64_t c[PARE_MAX_RANK] = {0};
  int64_t *dst = out[0].data;
  for (int64_t i = 0; i < n; i++) {
    if (pare_shapeop_elem_nonzero(x->dtype, (const char *)x->data + (size_t)i * es)) {
      for (int d = 0; d < r; d++) dst[d * nnz + col] = c[d];
      col++; /* a scalar's coordinate row stays 0 */
    }
    for (int d = r - 1; d >= 0; d--) {
      if (++c[d] < x->shape.dims[d]) break;
      c[d] = 0;
    }
  }
  return PARE_OK;
}

/* --------------------------------------------------------------- Compress */

/* Kept-element count of condition, checking no kept entry lies past limit (-1: unknown). */
static int compress_count(const pare_tensor *cond, int64_t limit, int64_t *count, pare_err *err) {
  size_t es = pare_dtype_size(cond->dtype);
  int64_t n = pare_tensor_numel(cond), k = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!pare_shapeop_elem_nonzero(cond->dtype, (const char *)cond->data + (size_t)i * es))
      continue;
    if (limit >= 0 && i >= limit)
      return pare_errf(err, "condition selects index %lld past the axis size %lld", (long long)i,
                       (long long)limit);
    k++;
  }
  *count = k;
  return PARE_OK;
}

int pare_shapeop_infer_compress(const pare_node *node, const pare_tensor *const *in, int n_in,
                                pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 2, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  if (in[1]->shape.rank > 1) return pare_errf(err, "condition must be 1-D");
  if (pare_dtype_size(in[1]->dtype) == 0)
    return pare_errf(err, "unsupported condition dtype %s", pare_dtype_name(in[1]->dtype));
  out[0].dtype = in[0]->dtype;
  int has_axis = pare_node_attr(node, "axis") != NULL, axis = 0;
  int64_t limit = -1;
  if (has_axis) {
    if (xs->rank < 0) return PARE_UNKNOWN;
    if (pare_norm_axis(pare_attr_int(node, "axis", 0), xs->rank, &axis, err)) return PARE_ERR;
    out[0].shape = *xs;
    limit = xs->dims[axis];
  } else {
    out[0].shape = pare_shape_make(1, NULL);
    if (xs->rank >= 0 && pare_shapeop_prod(xs->dims, xs->rank, &limit, err)) return PARE_ERR;
  }
  if (!in[1]->data) {
    out[0].shape.dims[has_axis ? axis : 0] = -1;
    return PARE_UNKNOWN;
  }
  if (compress_count(in[1], limit, &out[0].shape.dims[has_axis ? axis : 0], err)) return PARE_ERR;
  return pare_shapeop_result(out, 1);
}

int pare_shapeop_eval_compress(const pare_node *node, const pare_tensor *const *in, int n_in,
                               pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0], *cond = in[1];
  size_t es, ces = pare_dtype_size(cond->dtype);
  if (pare_shapeop_elem_size(x, &es, err)) return PARE_ERR;
  int64_t outer = 1, dim = pare_tensor_numel(x), inner = 1;
  if (pare_node_attr(node, "axis")) {
    int axis;
    if (pare_norm_axis(pare_attr_int(node, "axis", 0), x->shape.rank, &axis, err)) return PARE_ERR;
    outer = prod_dims(x->shape.dims, axis);
    dim = x->shape.dims[axis];
    inner = prod_dims(x->shape.dims + axis + 1, x->shape.rank - axis - 1);
  }
  int64_t n = pare_tensor_numel(cond);
  if (n > dim) n = dim;
  size_t block = (size_t)inner * es;
  char *dst = out[0].data;
  const char *src = x->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < n; i++)
      if (pare_shapeop_elem_nonzero(cond->dtype, (const char *)cond->data + (size_t)i * ces)) {
        memcpy(dst, src + (size_t)(o * dim + i) * block, block);
        dst += block;
      }
  return PARE_OK;
}

/* -------------------------------------------------------- ReverseSequence */

static int reverse_axes(const pare_node *node, int *batch, int *time, pare_err *err) {
  int64_t b = pare_attr_int(node, "batch_axis", 1), t = pare_attr_int(node, "time_axis", 0);
  if ((b != 0 && b != 1) || (t != 0 && t != 1) || b == t)
    return pare_errf(err, "batch_axis %lld and time_axis %lld must be 0 and 1 in some order",
                     (long long)b, (long long)t);
  *batch = (int)b;
  *time = (int)t;
  return PARE_OK;
}

int pare_shapeop_infer_reverse_sequence(const pare_node *node, const pare_tensor *const *in,
                                        int n_in, pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 2, n_out, err) || need_index_dtype(in[1], "sequence_lens", err))
    return PARE_ERR;
  const pare_shape *xs = &in[0]->shape, *ls = &in[1]->shape;
  int batch, time;
  if (reverse_axes(node, &batch, &time, err)) return PARE_ERR;
  out[0].dtype = in[0]->dtype;
  out[0].shape = *xs;
  if (xs->rank < 0) return PARE_UNKNOWN;
  if (xs->rank < 2) return pare_errf(err, "input must have rank >= 2");
  if (ls->rank >= 0 && (ls->rank != 1 || (ls->dims[0] >= 0 && xs->dims[batch] >= 0 &&
                                          ls->dims[0] != xs->dims[batch])))
    return pare_errf(err, "sequence_lens must be 1-D with one entry per batch element");
  return pare_shapeop_result(out, 1);
}

int pare_shapeop_eval_reverse_sequence(const pare_node *node, const pare_tensor *const *in,
                                       int n_in, pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0], *lens = in[1];
  size_t es;
  int batch, time;
  if (pare_shapeop_elem_size(x, &es, err) || reverse_axes(node, &batch, &time, err))
    return PARE_ERR;
  int64_t B = x->shape.dims[batch], T = x->shape.dims[time];
  int64_t inner = prod_dims(x->shape.dims + 2, x->shape.rank - 2);
  if (pare_tensor_numel(lens) != B)
    return pare_errf(err, "sequence_lens has %lld entries for a batch of %lld",
                     (long long)pare_tensor_numel(lens), (long long)B);
  memcpy(out[0].data, x->data, out[0].nbytes);
  size_t block = (size_t)inner * es;
  for (int64_t b = 0; b < B; b++) {
    int64_t len = pare_tensor_get_i64(lens, b);
    if (len < 0 || len > T)
      return pare_errf(err, "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)b,
                       (long long)len, (long long)T);
    for (int64_t t = 0; t < len; t++) {
      int64_t s = len - 1 - t;
      int64_t dpos = time == 0 ? t * B + b : b * T + t, spos = time == 0 ? s * B + b : b * T + s;
      memcpy((char *)out[0].data + (size_t)dpos * block,
             (const char *)x->data + (size_t)spos * block, block);
    }
  }
  return PARE_OK;
}

/* ------------------------------------------------------------------ Trilu */

int pare_shapeop_infer_trilu(const pare_node *node, const pare_tensor *const *in, int n_in,
                             pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  if (pare_shapeop_has_input(in, n_in, 1)) {
    if (need_index_dtype(in[1], "k", err)) return PARE_ERR;
    if (pare_shape_is_static(&in[1]->shape) && pare_tensor_numel(in[1]) != 1)
      return pare_errf(err, "k must be a scalar");
  }
  out[0].dtype = in[0]->dtype;
  out[0].shape = *xs;
  if (xs->rank >= 0 && xs->rank < 2) return pare_errf(err, "input must have rank >= 2");
  return pare_shapeop_result(out, 1);
}

int pare_shapeop_eval_trilu(const pare_node *node, const pare_tensor *const *in, int n_in,
                            pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  if (pare_shapeop_elem_size(x, &es, err)) return PARE_ERR;
  int64_t k = pare_shapeop_has_input(in, n_in, 1) ? pare_tensor_get_i64(in[1], 0) : 0;
  int upper = pare_attr_int(node, "upper", 1) != 0;
  int r = x->shape.rank;
  int64_t rows = x->shape.dims[r - 2], cols = x->shape.dims[r - 1];
  int64_t mats = prod_dims(x->shape.dims, r - 2);
  memcpy(out[0].data, x->data, out[0].nbytes);
  char *p = out[0].data;
  for (int64_t m = 0; m < mats; m++)
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++, p += es) {
        int keep = upper ? j - i >= k : j - i <= k;
        if (!keep) memset(p, 0, es);
      }
  return PARE_OK;
}

/* ---------------------------------------------------------------- EyeLike */

static int eyelike_dtype(const pare_node *node, pare_dtype in_dt, pare_dtype *dt, pare_err *err) {
  int64_t v = pare_attr_int(node, "dtype", 0);
  *dt = v ? (pare_dtype)v : in_dt;
  if (v < 0 || v > PARE_U64 || pare_dtype_size(*dt) == 0 || *dt == PARE_STRING)
    return pare_errf(err, "unsupported dtype %lld", (long long)v);
  return PARE_OK;
}

int pare_shapeop_infer_eyelike(const pare_node *node, const pare_tensor *const *in, int n_in,
                               pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  if (eyelike_dtype(node, in[0]->dtype, &out[0].dtype, err)) return PARE_ERR;
  out[0].shape = in[0]->shape;
  if (in[0]->shape.rank >= 0 && in[0]->shape.rank != 2)
    return pare_errf(err, "input must have rank 2, got %d", in[0]->shape.rank);
  return pare_shapeop_result(out, 1);
}

int pare_shapeop_eval_eyelike(const pare_node *node, const pare_tensor *const *in, int n_in,
                              pare_tensor *out, int n_out, pare_err *err) {
  (void)in, (void)n_in, (void)n_out, (void)err;
  int64_t k = pare_attr_int(node, "k", 0);
  int64_t rows = out[0].shape.dims[0], cols = out[0].shape.dims[1];
  for (int64_t i = 0; i < rows; i++) {
    if (k > cols || k < -rows) break;
    int64_t j = i + k;
    if (j < 0 || j >= cols) continue;
    if (out[0].dtype == PARE_F16)
      ((uint16_t *)out[0].data)[i * cols + j] = 0x3C00;
    else
      pare_tensor_set_f64(&out[0], i * cols + j, 1.0);
  }
  return PARE_OK;
}
