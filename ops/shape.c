/*
 * shape.c - ops of the shape family (infer + reference eval): Identity,
 * Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split, Slice,
 * Expand, Tile, Pad, Shape, Size, ConstantOfShape, Range, DepthToSpace,
 * SpaceToDepth, and the family's shared helpers. The indexing ops live in
 * shape_index.c, Resize in shape_resize.c.
 *
 * These kernels move bytes: every op works for every dtype with an element
 * size. Output shapes that depend on an input's value (Reshape's shape,
 * Slice's starts, ...) are computed when that value is known; otherwise infer
 * sets the dtype (and the rank where it can) and returns PARE_UNKNOWN.
 */
#include "ops/shape_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_LIMIT (INT64_MAX / 16)

/* ---------------------------------------------------------------- helpers */

int pare_shapeop_result(const pare_tensor *out, int n_out) {
  for (int i = 0; i < n_out; i++)
    if (!pare_shape_is_static(&out[i].shape)) return PARE_UNKNOWN;
  return PARE_OK;
}

int pare_shapeop_elem_size(const pare_tensor *t, size_t *es, pare_err *err) {
  *es = pare_dtype_size(t->dtype);
  if (*es == 0) return pare_errf(err, "unsupported dtype %s", pare_dtype_name(t->dtype));
  return PARE_OK;
}

int pare_shapeop_read_ints(const pare_tensor *t, const char *what, int64_t *v, int cap, int *n,
                           pare_err *err) {
  if (!t->data && t->dtype == PARE_UNDEFINED) return PARE_UNKNOWN;
  if (!pare_dtype_is_int(t->dtype))
    return pare_errf(err, "%s must be an integer tensor, got %s", what, pare_dtype_name(t->dtype));
  if (t->shape.rank > 1)
    return pare_errf(err, "%s must be a scalar or 1-D tensor, got rank %d", what, t->shape.rank);
  if (!t->data) return PARE_UNKNOWN;
  int64_t count = pare_tensor_numel(t);
  if (count > cap)
    return pare_errf(err, "%s has %lld values, at most %d supported", what, (long long)count, cap);
  for (int64_t i = 0; i < count; i++) v[i] = pare_tensor_get_i64(t, i);
  *n = (int)count;
  return PARE_OK;
}

int pare_shapeop_has_input(const pare_tensor *const *in, int n_in, int i) {
  if (i >= n_in || !in[i]) return 0;
  const pare_shape *s = &in[i]->shape;
  if (pare_shape_is_static(s)) {
    for (int k = 0; k < s->rank; k++)
      if (s->dims[k] == 0) return 0;
  }
  return 1;
}

/* Copies n elements of es bytes, src elements `stride` apart, into contiguous dst. */
static void copy_strided_row(char *dst, const char *src, int64_t n, int64_t stride, size_t es) {
  if (stride == 1) {
    memcpy(dst, src, (size_t)n * es);
    return;
  }
  switch (es) {
  case 1:
    for (int64_t j = 0; j < n; j++) dst[j] = src[j * stride];
    break;
  case 2:
    for (int64_t j = 0; j < n; j++) memcpy(dst + 2 * j, src + 2 * j * stride, 2);
    break;
  case 4:
    for (int64_t j = 0; j < n; j++) memcpy(dst + 4 * j, src + 4 * j * stride, 4);
    break;
  case 8:
    for (int64_t j = 0; j < n; j++) memcpy(dst + 8 * j, src + 8 * j * stride, 8);
    break;
  default:
    for (int64_t j = 0; j < n; j++)
      memcpy(dst + (size_t)j * es, src + j * stride * (int64_t)es, es);
    break;
  }
}

void pare_shapeop_copy_view(void *dst, const void *src, size_t es, int rank, const int64_t *dims,
                            const int64_t *strides, int64_t offset) {
  int64_t total = 1;
  for (int i = 0; i < rank; i++) total *= dims[i];
  if (total == 0) return;
  char *d = dst;
  const char *s = src;
  if (rank == 0) {
    memcpy(d, s + offset * (int64_t)es, es);
    return;
  }
  int64_t idx[PARE_SHAPE_VIEW_RANK] = {0};
  int64_t last = dims[rank - 1], rows = total / last;
  int64_t off = offset;
  for (int64_t r = 0; r < rows; r++) {
    copy_strided_row(d, s + off * (int64_t)es, last, strides[rank - 1], es);
    d += (size_t)last * es;
    for (int k = rank - 2; k >= 0; k--) {
      off += strides[k];
      if (++idx[k] < dims[k]) break;
      off -= strides[k] * dims[k];
      idx[k] = 0;
    }
  }
}

int pare_shapeop_mul(int64_t a, int64_t b, int64_t *out, pare_err *err) {
  if (a != 0 && b > COUNT_LIMIT / a) return pare_errf(err, "element count overflows");
  *out = a * b;
  return PARE_OK;
}

int pare_shapeop_add(int64_t a, int64_t b, int64_t *out, pare_err *err) {
  if (a > COUNT_LIMIT - b) return pare_errf(err, "element count overflows");
  *out = a + b;
  return PARE_OK;
}

int pare_shapeop_prod(const int64_t *dims, int n, int64_t *out, pare_err *err) {
  int unknown = 0;
  for (int i = 0; i < n; i++) {
    if (dims[i] == 0) {
      *out = 0;
      return PARE_OK;
    }
    if (dims[i] < 0) unknown = 1;
  }
  if (unknown) {
    *out = -1;
    return PARE_OK;
  }
  int64_t p = 1;
  for (int i = 0; i < n; i++)
    if (pare_shapeop_mul(p, dims[i], &p, err)) return PARE_ERR;
  *out = p;
  return PARE_OK;
}

void pare_shapeop_ints_str(const int64_t *v, int n, char *buf, size_t len) {
  size_t used = 0;
  used += (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < n && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "", (long long)v[i]);
  if (used < len) snprintf(buf + used, len - used, "]");
}

int pare_shapeop_elem_nonzero(pare_dtype dt, const void *p) {
  switch (dt) {
  case PARE_F32: {
    float v;
    memcpy(&v, p, sizeof v);
    return v != 0;
  }
  case PARE_F64: {
    double v;
    memcpy(&v, p, sizeof v);
    return v != 0;
  }
  case PARE_F16: {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return (v & 0x7fff) != 0;
  }
  default: {
    const unsigned char *b = p;
    for (size_t i = 0; i < pare_dtype_size(dt); i++)
      if (b[i]) return 1;
    return 0;
  }
  }
}

/* Inputs 0..n_req-1 present and at least one output. */
static int begin(const pare_tensor *const *in, int n_in, int n_req, int n_out, pare_err *err) {
  for (int i = 0; i < n_req; i++)
    if (pare_need_input(in, n_in, i, err)) return PARE_ERR;
  if (n_out < 1) return pare_errf(err, "expected an output");
  return PARE_OK;
}

static int norm_axis(int64_t axis, int rank, int *out, pare_err *err) {
  if (pare_norm_axis(axis, rank, out, err)) return PARE_ERR;
  return PARE_OK;
}

/* Marks the axes in v[0..n) (normalized against rank) in mark[]; repeats are errors. */
static int mark_axes(const int64_t *v, int n, int rank, int *mark, pare_err *err) {
  for (int i = 0; i < rank; i++) mark[i] = 0;
  for (int i = 0; i < n; i++) {
    int a;
    if (norm_axis(v[i], rank, &a, err)) return PARE_ERR;
    if (mark[a]) return pare_errf(err, "axis %lld repeated in axes", (long long)v[i]);
    mark[a] = 1;
  }
  return PARE_OK;
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

/* Fails when a static shape's element count overflows (absurd dims from data). */
static int check_count(const pare_shape *s, pare_err *err) {
  int64_t n;
  if (pare_shape_is_static(s) && pare_shape_numel(s, &n, err)) {
    char b[160];
    pare_shape_str(s, b, sizeof b);
    return pare_errf(err, "output shape %s has too many elements", b);
  }
  return PARE_OK;
}

/* Eval of the ops whose output holds the input's bytes unchanged. */
static int copy_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_in, (void)n_out;
  if (out[0].nbytes != in[0]->nbytes)
    return pare_errf(err, "output holds %zu bytes, input %zu", out[0].nbytes, in[0]->nbytes);
  if (out[0].nbytes) memcpy(out[0].data, in[0]->data, out[0].nbytes);
  return PARE_OK;
}

/* --------------------------------------------------------------- Identity */

static int identity_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                          pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  out[0].dtype = in[0]->dtype;
  out[0].shape = in[0]->shape;
  return pare_shapeop_result(out, 1);
}

/* ---------------------------------------------------------------- Reshape */

static int reshape_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                         pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 2, n_out, err)) return PARE_ERR;
  const pare_tensor *x = in[0], *s = in[1];
  out[0].dtype = x->dtype;
  int64_t want[PARE_MAX_RANK];
  int n = 0;
  int rc = pare_shapeop_read_ints(s, "shape", want, PARE_MAX_RANK, &n, err);
  if (rc == PARE_ERR) return PARE_ERR;
  if (rc == PARE_UNKNOWN) {
    if (s->shape.rank == 1 && s->shape.dims[0] >= 0 && s->shape.dims[0] <= PARE_MAX_RANK)
      out[0].shape = pare_shape_make((int)s->shape.dims[0], NULL);
    return PARE_UNKNOWN;
  }
  char ws[256], xs[160];
  pare_shapeop_ints_str(want, n, ws, sizeof ws);
  pare_shape_str(&x->shape, xs, sizeof xs);
  int allowzero = pare_attr_int(node, "allowzero", 0) != 0;
  pare_shape o = pare_shape_make(n, NULL);
  int infer_at = -1, has_zero = 0;
  for (int i = 0; i < n; i++) {
    int64_t v = want[i];
    if (v == -1) {
      if (infer_at >= 0) return pare_errf(err, "shape %s has more than one -1", ws);
      infer_at = i;
    } else if (v < -1) {
      return pare_errf(err, "shape %s has a negative dim", ws);
    } else if (v == 0 && !allowzero) {
      if (x->shape.rank >= 0 && i >= x->shape.rank)
        return pare_errf(err, "shape %s copies dim %d (0) but the input %s has rank %d", ws, i, xs,
                         x->shape.rank);
      o.dims[i] = x->shape.rank >= 0 ? x->shape.dims[i] : -1;
    } else {
      has_zero |= v == 0;
      o.dims[i] = v;
    }
  }
  if (allowzero && has_zero && infer_at >= 0)
    return pare_errf(err, "shape %s has both 0 and -1 with allowzero=1", ws);

  int64_t in_n = -1, rest;
  if (x->shape.rank >= 0 && pare_shapeop_prod(x->shape.dims, x->shape.rank, &in_n, err))
    return PARE_ERR;
  int64_t others[PARE_MAX_RANK] = {0};
  int m = 0;
  for (int i = 0; i < n; i++)
    if (i != infer_at) others[m++] = o.dims[i];
  if (pare_shapeop_prod(others, m, &rest, err)) return PARE_ERR;
  if (infer_at >= 0 && in_n >= 0 && rest >= 0) {
    if (rest == 0)
      return pare_errf(err, "cannot reshape %s (%lld elements) to %s: -1 is ambiguous", xs,
                       (long long)in_n, ws);
    if (in_n % rest != 0)
      return pare_errf(err, "cannot reshape %s (%lld elements) to %s", xs, (long long)in_n, ws);
    o.dims[infer_at] = in_n / rest;
  } else if (infer_at < 0 && in_n >= 0 && rest >= 0 && in_n != rest) {
    return pare_errf(err, "cannot reshape %s (%lld elements) to %s", xs, (long long)in_n, ws);
  }
  out[0].shape = o;
  return pare_shapeop_result(out, 1);
}

/* ---------------------------------------------------------------- Flatten */

static int flatten_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                         pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  out[0].shape = pare_shape_make(2, NULL);
  if (xs->rank < 0) return PARE_UNKNOWN;
  int64_t axis = pare_attr_int(node, "axis", 1);
  if (axis < -xs->rank || axis > xs->rank)
    return pare_errf(err, "axis %lld out of range for rank %d", (long long)axis, xs->rank);
  if (axis < 0) axis += xs->rank;
  if (pare_shapeop_prod(xs->dims, (int)axis, &out[0].shape.dims[0], err) ||
      pare_shapeop_prod(xs->dims + axis, xs->rank - (int)axis, &out[0].shape.dims[1], err))
    return PARE_ERR;
  return pare_shapeop_result(out, 1);
}

/* -------------------------------------------------------------- Transpose */

/* The permutation of a Transpose node for an input of rank r. */
static int transpose_perm(const pare_node *node, int r, int *perm, pare_err *err) {
  const int64_t *p;
  int64_t np = pare_attr_ints(node, "perm", &p);
  if (np < 0) {
    for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
    return PARE_OK;
  }
  if (np != r)
    return pare_errf(err, "perm has %lld entries for an input of rank %d", (long long)np, r);
  int seen[PARE_MAX_RANK] = {0};
  for (int i = 0; i < r; i++) {
    if (p[i] < 0 || p[i] >= r || seen[p[i]])
      return pare_errf(err, "perm is not a permutation of 0..%d", r - 1);
    seen[p[i]] = 1;
    perm[i] = (int)p[i];
  }
  return PARE_OK;
}

static int transpose_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                           pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  if (xs->rank < 0) {
    const int64_t *p;
    int64_t np = pare_attr_ints(node, "perm", &p);
    if (np >= 0 && np <= PARE_MAX_RANK) out[0].shape = pare_shape_make((int)np, NULL);
    return PARE_UNKNOWN;
  }
  int perm[PARE_MAX_RANK];
  if (transpose_perm(node, xs->rank, perm, err)) return PARE_ERR;
  out[0].shape = pare_shape_make(xs->rank, NULL);
  for (int i = 0; i < xs->rank; i++) out[0].shape.dims[i] = xs->dims[perm[i]];
  return pare_shapeop_result(out, 1);
}

static int transpose_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                          pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  int perm[PARE_MAX_RANK];
  if (pare_shapeop_elem_size(x, &es, err) || transpose_perm(node, x->shape.rank, perm, err))
    return PARE_ERR;
  int64_t st[PARE_MAX_RANK], vs[PARE_MAX_RANK];
  pare_strides(&x->shape, st);
  for (int i = 0; i < x->shape.rank; i++) vs[i] = st[perm[i]];
  pare_shapeop_copy_view(out[0].data, x->data, es, x->shape.rank, out[0].shape.dims, vs, 0);
  return PARE_OK;
}

/* ---------------------------------------------------------------- Squeeze */

static int squeeze_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                         pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  pare_shape o = pare_shape_make(0, NULL);
  if (pare_shapeop_has_input(in, n_in, 1)) {
    int64_t axes[PARE_MAX_RANK];
    int n = 0, mark[PARE_MAX_RANK];
    int rc = pare_shapeop_read_ints(in[1], "axes", axes, PARE_MAX_RANK, &n, err);
    if (rc == PARE_ERR) return PARE_ERR;
    if (rc == PARE_UNKNOWN) {
      const pare_shape *as = &in[1]->shape;
      if (xs->rank >= 0 && as->rank == 1 && as->dims[0] >= 0 && as->dims[0] <= xs->rank)
        out[0].shape = pare_shape_make(xs->rank - (int)as->dims[0], NULL);
      return PARE_UNKNOWN;
    }
    if (xs->rank < 0) return PARE_UNKNOWN;
    if (mark_axes(axes, n, xs->rank, mark, err)) return PARE_ERR;
    for (int i = 0; i < xs->rank; i++) {
      if (!mark[i]) {
        o.dims[o.rank++] = xs->dims[i];
      } else if (xs->dims[i] >= 0 && xs->dims[i] != 1) {
        return pare_errf(err, "cannot squeeze axis %d of size %lld", i, (long long)xs->dims[i]);
      }
    }
  } else {
    if (xs->rank < 0) return PARE_UNKNOWN;
    for (int i = 0; i < xs->rank; i++) {
      if (xs->dims[i] < 0) return PARE_UNKNOWN; /* the rank depends on that dim */
      if (xs->dims[i] != 1) o.dims[o.rank++] = xs->dims[i];
    }
  }
  out[0].shape = o;
  return pare_shapeop_result(out, 1);
}

/* -------------------------------------------------------------- Unsqueeze */

static int unsqueeze_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                           pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 2, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  int64_t axes[PARE_MAX_RANK];
  int n = 0, mark[PARE_MAX_RANK];
  int rc = pare_shapeop_read_ints(in[1], "axes", axes, PARE_MAX_RANK, &n, err);
  if (rc == PARE_ERR) return PARE_ERR;
  if (rc == PARE_UNKNOWN) {
    const pare_shape *as = &in[1]->shape;
    if (xs->rank >= 0 && as->rank == 1 && as->dims[0] >= 0 &&
        xs->rank + as->dims[0] <= PARE_MAX_RANK)
      out[0].shape = pare_shape_make(xs->rank + (int)as->dims[0], NULL);
    return PARE_UNKNOWN;
  }
  if (xs->rank < 0) return PARE_UNKNOWN;
  int r = xs->rank + n;
  if (r > PARE_MAX_RANK)
    return pare_errf(err, "output rank %d exceeds the supported %d", r, PARE_MAX_RANK);
  if (mark_axes(axes, n, r, mark, err)) return PARE_ERR;
  pare_shape o = pare_shape_make(r, NULL);
  for (int i = 0, j = 0; i < r; i++) o.dims[i] = mark[i] ? 1 : xs->dims[j++];
  out[0].shape = o;
  return pare_shapeop_result(out, 1);
}

/* ----------------------------------------------------------------- Concat */

static int concat_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  if (n_in < 1) return pare_errf(err, "expected at least one input");
  if (begin(in, n_in, n_in, n_out, err)) return PARE_ERR;
  if (!pare_node_attr(node, "axis")) return pare_errf(err, "attribute 'axis' is required");
  out[0].dtype = in[0]->dtype;
  int first = -1;
  for (int i = 0; i < n_in; i++) {
    if (in[i]->dtype != in[0]->dtype)
      return pare_errf(err, "input %d has dtype %s, input 0 has %s", i,
                       pare_dtype_name(in[i]->dtype), pare_dtype_name(in[0]->dtype));
    if (first < 0 && in[i]->shape.rank >= 0) first = i;
  }
  if (first < 0) return PARE_UNKNOWN;
  int r = in[first]->shape.rank, axis;
  if (norm_axis(pare_attr_int(node, "axis", 0), r, &axis, err)) return PARE_ERR;
  pare_shape o = in[first]->shape;
  o.dims[axis] = 0;
  for (int i = 0; i < n_in; i++) {
    const pare_shape *s = &in[i]->shape;
    if (s->rank < 0) {
      o.dims[axis] = -1;
      continue;
    }
    if (s->rank != r)
      return pare_errf(err, "input %d has rank %d, input %d has rank %d", i, s->rank, first, r);
    for (int k = 0; k < r; k++) {
      if (k == axis) continue;
      if (o.dims[k] < 0)
        o.dims[k] = s->dims[k];
      else if (s->dims[k] >= 0 && s->dims[k] != o.dims[k]) {
        char a[160], b[160];
        pare_shape_str(s, a, sizeof a);
        pare_shape_str(&in[first]->shape, b, sizeof b);
        return pare_errf(err,
                         "input %d of shape %s does not match input %d of shape %s off axis %d", i,
                         a, first, b, axis);
      }
    }
    if (o.dims[axis] >= 0) {
      if (s->dims[axis] < 0)
        o.dims[axis] = -1;
      else if (pare_shapeop_add(o.dims[axis], s->dims[axis], &o.dims[axis], err))
        return PARE_ERR;
    }
  }
  out[0].shape = o;
  return pare_shapeop_result(out, 1);
}

static int concat_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  size_t es;
  if (pare_shapeop_elem_size(&out[0], &es, err)) return PARE_ERR;
  int r = out[0].shape.rank, axis;
  if (norm_axis(pare_attr_int(node, "axis", 0), r, &axis, err)) return PARE_ERR;
  int64_t outer = 1, out_inner = 1;
  for (int k = 0; k < axis; k++) outer *= out[0].shape.dims[k];
  for (int k = axis; k < r; k++) out_inner *= out[0].shape.dims[k];
  int64_t off = 0; /* elements into each outer row of the output */
  for (int i = 0; i < n_in; i++) {
    int64_t inner = 1;
    for (int k = axis; k < r; k++) inner *= in[i]->shape.dims[k];
    if (inner == 0) continue;
    char *dst = (char *)out[0].data + (size_t)off * es;
    const char *src = in[i]->data;
    for (int64_t o = 0; o < outer; o++)
      memcpy(dst + (size_t)(o * out_inner) * es, src + (size_t)(o * inner) * es,
             (size_t)inner * es);
    off += inner;
  }
  return PARE_OK;
}

/* ------------------------------------------------------------------ Split */

/* Sizes of the n_out parts along the axis of size dim (-1 = unknown).
 * PARE_UNKNOWN if the split input's value is unknown. */
static int split_sizes(const pare_node *node, const pare_tensor *const *in, int n_in, int n_out,
                       int64_t dim, int64_t *sizes, pare_err *err) {
  if (pare_shapeop_has_input(in, n_in, 1)) {
    const pare_tensor *t = in[1];
    if (!pare_dtype_is_int(t->dtype))
      return pare_errf(err, "split must be an integer tensor, got %s", pare_dtype_name(t->dtype));
    if (!t->data) return PARE_UNKNOWN;
    int64_t count = pare_tensor_numel(t), sum = 0;
    if (count != n_out)
      return pare_errf(err, "split has %lld entries for %d outputs", (long long)count, n_out);
    for (int k = 0; k < n_out; k++) {
      sizes[k] = pare_tensor_get_i64(t, k);
      if (sizes[k] < 0) return pare_errf(err, "split has a negative size");
      if (pare_shapeop_add(sum, sizes[k], &sum, err)) return PARE_ERR;
    }
    if (dim >= 0 && sum != dim)
      return pare_errf(err, "split sizes sum to %lld but the axis has size %lld", (long long)sum,
                       (long long)dim);
    return PARE_OK;
  }
  const pare_attr *num = pare_node_attr(node, "num_outputs");
  if (num && num->i != n_out)
    return pare_errf(err, "num_outputs is %lld but the node has %d outputs", (long long)num->i,
                     n_out);
  for (int k = 0; k < n_out; k++) sizes[k] = -1;
  if (dim < 0) return PARE_OK;
  if (num) {
    /* opset 18: parts of ceil(dim / n), the last one smaller. */
    int64_t chunk = dim / n_out + (dim % n_out != 0);
    for (int k = 0; k < n_out; k++) sizes[k] = chunk;
    sizes[n_out - 1] = dim - chunk * (n_out - 1);
    if (sizes[n_out - 1] < 0)
      return pare_errf(err, "cannot split an axis of size %lld into %d outputs", (long long)dim,
                       n_out);
    return PARE_OK;
  }
  if (dim % n_out != 0)
    return pare_errf(err, "axis of size %lld does not split evenly into %d outputs", (long long)dim,
                     n_out);
  for (int k = 0; k < n_out; k++) sizes[k] = dim / n_out;
  return PARE_OK;
}

static int split_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  for (int k = 0; k < n_out; k++) out[k].dtype = in[0]->dtype;
  if (xs->rank < 0) return PARE_UNKNOWN;
  int axis;
  if (norm_axis(pare_attr_int(node, "axis", 0), xs->rank, &axis, err)) return PARE_ERR;
  int64_t *sizes = malloc((size_t)n_out * sizeof *sizes);
  if (!sizes) return pare_errf(err, "out of memory");
  int rc = split_sizes(node, in, n_in, n_out, xs->dims[axis], sizes, err);
  if (rc != PARE_ERR) {
    for (int k = 0; k < n_out; k++) {
      out[k].shape = *xs;
      out[k].shape.dims[axis] = rc == PARE_UNKNOWN ? -1 : sizes[k];
    }
    if (rc == PARE_OK) rc = pare_shapeop_result(out, n_out);
  }
  free(sizes);
  return rc;
}

static int split_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in;
  const pare_tensor *x = in[0];
  size_t es;
  int axis;
  if (pare_shapeop_elem_size(x, &es, err) ||
      norm_axis(pare_attr_int(node, "axis", 0), x->shape.rank, &axis, err))
    return PARE_ERR;
  int64_t outer = 1, inner = 1, dim = x->shape.dims[axis];
  for (int k = 0; k < axis; k++) outer *= x->shape.dims[k];
  for (int k = axis + 1; k < x->shape.rank; k++) inner *= x->shape.dims[k];
  int64_t off = 0;
  for (int k = 0; k < n_out; k++) {
    int64_t part = out[k].shape.dims[axis];
    size_t row = (size_t)(part * inner) * es;
    for (int64_t o = 0; o < outer && row; o++)
      memcpy((char *)out[k].data + o * row,
             (const char *)x->data + (size_t)((o * dim + off) * inner) * es, row);
    off += part;
  }
  return PARE_OK;
}

/* ------------------------------------------------------------------ Slice */

typedef struct slice_plan {
  int64_t start[PARE_MAX_RANK];
  int64_t step[PARE_MAX_RANK];
  int64_t count[PARE_MAX_RANK]; /* -1 if the dim is unknown */
} slice_plan;

/* Reads one of Slice's integer inputs; PARE_UNKNOWN if its value is unknown. */
static int slice_input(const pare_tensor *const *in, int n_in, int i, const char *what, int64_t *v,
                       int *n, int *present, pare_err *err) {
  *present = i < n_in && in[i];
  if (!*present) return PARE_OK;
  return pare_shapeop_read_ints(in[i], what, v, PARE_MAX_RANK, n, err);
}

/* Start, step and element count per axis, clamped the way ONNX specifies. */
static int slice_plan_make(const pare_tensor *const *in, int n_in, const pare_shape *xs,
                           slice_plan *p, pare_err *err) {
  int64_t starts[PARE_MAX_RANK], ends[PARE_MAX_RANK], axes[PARE_MAX_RANK], steps[PARE_MAX_RANK];
  int ns = 0, ne = 0, na = 0, nst = 0, has_s, has_e, has_a, has_st, unknown = 0;
  int rcs[4] = {slice_input(in, n_in, 1, "starts", starts, &ns, &has_s, err),
                slice_input(in, n_in, 2, "ends", ends, &ne, &has_e, err),
                slice_input(in, n_in, 3, "axes", axes, &na, &has_a, err),
                slice_input(in, n_in, 4, "steps", steps, &nst, &has_st, err)};
  for (int i = 0; i < 4; i++) {
    if (rcs[i] == PARE_ERR) return PARE_ERR;
    unknown |= rcs[i] == PARE_UNKNOWN;
  }
  if (!has_s || !has_e) return pare_errf(err, "inputs starts and ends are required");
  if (unknown) return PARE_UNKNOWN;
  int r = xs->rank;
  if (ne != ns) return pare_errf(err, "starts has %d values but ends has %d", ns, ne);
  if (has_a && na != ns) return pare_errf(err, "starts has %d values but axes has %d", ns, na);
  if (has_st && nst != ns) return pare_errf(err, "starts has %d values but steps has %d", ns, nst);
  if (!has_a && ns > r)
    return pare_errf(err, "starts has %d values for an input of rank %d", ns, r);
  for (int a = 0; a < r; a++) {
    p->start[a] = 0;
    p->step[a] = 1;
    p->count[a] = xs->dims[a];
  }
  int seen[PARE_MAX_RANK] = {0};
  for (int i = 0; i < ns; i++) {
    int a = i;
    if (has_a && norm_axis(axes[i], r, &a, err)) return PARE_ERR;
    if (seen[a]) return pare_errf(err, "axis %d repeated in axes", a);
    seen[a] = 1;
    int64_t step = has_st ? steps[i] : 1, dim = xs->dims[a];
    if (step == 0) return pare_errf(err, "step of axis %d is 0", a);
    p->step[a] = step;
    if (dim < 0) continue; /* count stays unknown */
    int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    uint64_t diff, mag;
    if (step > 0) {
      s = s < 0 ? 0 : s > dim ? dim : s;
      e = e < 0 ? 0 : e > dim ? dim : e;
      diff = e > s ? (uint64_t)(e - s) : 0;
      mag = (uint64_t)step;
    } else {
      s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
      e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
      diff = s > e ? (uint64_t)(s - e) : 0;
      mag = (uint64_t)(-(step + 1)) + 1;
    }
    p->start[a] = s;
    p->count[a] = dim == 0 ? 0 : (int64_t)(diff / mag + (diff % mag != 0));
  }
  return PARE_OK;
}

static int slice_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  if (xs->rank < 0) return PARE_UNKNOWN;
  slice_plan p;
  int rc = slice_plan_make(in, n_in, xs, &p, err);
  if (rc == PARE_ERR) return PARE_ERR;
  out[0].shape = pare_shape_make(xs->rank, rc == PARE_UNKNOWN ? NULL : p.count);
  return rc == PARE_UNKNOWN ? PARE_UNKNOWN : pare_shapeop_result(out, 1);
}

static int slice_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  slice_plan p;
  if (pare_shapeop_elem_size(x, &es, err)) return PARE_ERR;
  int rc = slice_plan_make(in, n_in, &x->shape, &p, err);
  if (rc != PARE_OK) return rc == PARE_ERR ? PARE_ERR : pare_errf(err, "slice bounds unknown");
  int r = x->shape.rank;
  int64_t st[PARE_MAX_RANK], vs[PARE_MAX_RANK], offset = 0;
  pare_strides(&x->shape, st);
  for (int a = 0; a < r; a++) {
    if (p.count[a] == 0) return PARE_OK;
    offset += p.start[a] * st[a];
    vs[a] = p.count[a] > 1 ? st[a] * p.step[a] : 0;
  }
  pare_shapeop_copy_view(out[0].data, x->data, es, r, p.count, vs, offset);
  return PARE_OK;
}

/* ----------------------------------------------------------------- Expand */

static int expand_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 2, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  int64_t want[PARE_MAX_RANK];
  int n = 0;
  int rc = pare_shapeop_read_ints(in[1], "shape", want, PARE_MAX_RANK, &n, err);
  if (rc == PARE_ERR) return PARE_ERR;
  if (rc == PARE_UNKNOWN) {
    const pare_shape *ss = &in[1]->shape;
    if (xs->rank >= 0 && ss->rank == 1 && ss->dims[0] >= 0 && ss->dims[0] <= PARE_MAX_RANK)
      out[0].shape = pare_shape_make(xs->rank > ss->dims[0] ? xs->rank : (int)ss->dims[0], NULL);
    return PARE_UNKNOWN;
  }
  char ws[256];
  pare_shapeop_ints_str(want, n, ws, sizeof ws);
  for (int i = 0; i < n; i++)
    if (want[i] < 0) return pare_errf(err, "shape %s has a negative dim", ws);
  pare_shape ts = pare_shape_make(n, want);
  if (pare_broadcast_shape(xs, &ts, &out[0].shape, err))
    return pare_err_prefix(err, "cannot expand to %s", ws);
  if (check_count(&out[0].shape, err)) return PARE_ERR;
  return pare_shapeop_result(out, 1);
}

static int expand_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  if (pare_shapeop_elem_size(x, &es, err)) return PARE_ERR;
  int r = out[0].shape.rank, shift = r - x->shape.rank;
  int64_t st[PARE_MAX_RANK], vs[PARE_MAX_RANK];
  pare_strides(&x->shape, st);
  for (int i = 0; i < r; i++) {
    int j = i - shift;
    vs[i] = j >= 0 && x->shape.dims[j] != 1 ? st[j] : 0;
  }
  pare_shapeop_copy_view(out[0].data, x->data, es, r, out[0].shape.dims, vs, 0);
  return PARE_OK;
}

/* ------------------------------------------------------------------- Tile */

static int tile_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 2, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  int64_t rep[PARE_MAX_RANK];
  int n = 0;
  int rc = pare_shapeop_read_ints(in[1], "repeats", rep, PARE_MAX_RANK, &n, err);
  if (rc == PARE_ERR) return PARE_ERR;
  if (xs->rank < 0) return PARE_UNKNOWN;
  out[0].shape = pare_shape_make(xs->rank, NULL);
  if (rc == PARE_UNKNOWN) return PARE_UNKNOWN;
  if (n != xs->rank)
    return pare_errf(err, "repeats has %d values for an input of rank %d", n, xs->rank);
  for (int i = 0; i < n; i++) {
    if (rep[i] < 0) return pare_errf(err, "repeats has a negative value %lld", (long long)rep[i]);
    if (xs->dims[i] >= 0 && pare_shapeop_mul(xs->dims[i], rep[i], &out[0].shape.dims[i], err))
      return PARE_ERR;
  }
  if (check_count(&out[0].shape, err)) return PARE_ERR;
  return pare_shapeop_result(out, 1);
}

static int tile_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  if (pare_shapeop_elem_size(x, &es, err)) return PARE_ERR;
  /* The output viewed as [rep0, d0, rep1, d1, ...] reads x with stride 0 on repeats. */
  int r = x->shape.rank;
  int64_t st[PARE_MAX_RANK], dims[PARE_SHAPE_VIEW_RANK], vs[PARE_SHAPE_VIEW_RANK];
  pare_strides(&x->shape, st);
  for (int i = 0; i < r; i++) {
    int64_t d = x->shape.dims[i];
    dims[2 * i] = d ? out[0].shape.dims[i] / d : 0;
    dims[2 * i + 1] = d;
    vs[2 * i] = 0;
    vs[2 * i + 1] = st[i];
  }
  pare_shapeop_copy_view(out[0].data, x->data, es, 2 * r, dims, vs, 0);
  return PARE_OK;
}

/* -------------------------------------------------------------------- Pad */

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

typedef struct pad_plan {
  pad_mode mode;
  int64_t before[PARE_MAX_RANK], after[PARE_MAX_RANK];
} pad_plan;

static int pad_plan_make(const pare_node *node, const pare_tensor *const *in, int n_in, int r,
                         pad_plan *p, pare_err *err) {
  const char *mode = pare_attr_string(node, "mode", "constant");
  if (strcmp(mode, "constant") == 0)
    p->mode = PAD_CONSTANT;
  else if (strcmp(mode, "reflect") == 0)
    p->mode = PAD_REFLECT;
  else if (strcmp(mode, "edge") == 0)
    p->mode = PAD_EDGE;
  else if (strcmp(mode, "wrap") == 0)
    p->mode = PAD_WRAP;
  else
    return pare_errf(err, "unknown mode '%s'", mode);
  int64_t pads[2 * PARE_MAX_RANK], axes[PARE_MAX_RANK];
  int np = 0, na = r;
  int rc = pare_shapeop_read_ints(in[1], "pads", pads, 2 * PARE_MAX_RANK, &np, err);
  if (rc == PARE_ERR) return PARE_ERR;
  int rca = PARE_OK;
  if (pare_shapeop_has_input(in, n_in, 3))
    rca = pare_shapeop_read_ints(in[3], "axes", axes, PARE_MAX_RANK, &na, err);
  else
    for (int i = 0; i < r; i++) axes[i] = i;
  if (rca == PARE_ERR) return PARE_ERR;
  if (rc == PARE_UNKNOWN || rca == PARE_UNKNOWN) return PARE_UNKNOWN;
  if (np != 2 * na)
    return pare_errf(err, "pads has %d values, expected %d (2 per padded axis)", np, 2 * na);
  int mark[PARE_MAX_RANK];
  if (mark_axes(axes, na, r, mark, err)) return PARE_ERR;
  for (int a = 0; a < r; a++) p->before[a] = p->after[a] = 0;
  for (int i = 0; i < na; i++) {
    int a;
    norm_axis(axes[i], r, &a, NULL);
    p->before[a] = pads[i];
    p->after[a] = pads[na + i];
  }
  return PARE_OK;
}

static int pad_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 2, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  if (pare_shapeop_has_input(in, n_in, 2) && in[2]->dtype != in[0]->dtype)
    return pare_errf(err, "constant_value has dtype %s, data has %s", pare_dtype_name(in[2]->dtype),
                     pare_dtype_name(in[0]->dtype));
  if (xs->rank < 0) return PARE_UNKNOWN;
  pad_plan p;
  int rc = pad_plan_make(node, in, n_in, xs->rank, &p, err);
  if (rc == PARE_ERR) return PARE_ERR;
  out[0].shape = pare_shape_make(xs->rank, NULL);
  if (rc == PARE_UNKNOWN) return PARE_UNKNOWN;
  for (int a = 0; a < xs->rank; a++) {
    int64_t d = xs->dims[a], b = p.before[a], e = p.after[a], o;
    if (d < 0) continue;
    if (b > COUNT_LIMIT || e > COUNT_LIMIT || b < -COUNT_LIMIT || e < -COUNT_LIMIT)
      return pare_errf(err, "pads of axis %d are out of range", a);
    o = d + b + e;
    if (o < 0)
      return pare_errf(err, "pads %lld,%lld make axis %d of size %lld negative", (long long)b,
                       (long long)e, a, (long long)d);
    int64_t kept = d - (b < 0 ? -b : 0) - (e < 0 ? -e : 0);
    if (p.mode != PAD_CONSTANT && kept <= 0 && (b > 0 || e > 0))
      return pare_errf(err, "mode '%s' cannot pad axis %d with no elements",
                       pare_attr_string(node, "mode", ""), a);
    out[0].shape.dims[a] = o;
  }
  if (check_count(&out[0].shape, err)) return PARE_ERR;
  return pare_shapeop_result(out, 1);
}

/* Source index along one axis for output index o, or -1 for the constant. */
static int64_t pad_source(const pad_plan *p, int a, int64_t d, int64_t o) {
  int64_t b = p->before[a], e = p->after[a];
  int64_t lo = b < 0 ? -b : 0, hi = d - (e < 0 ? -e : 0), len = hi - lo;
  int64_t i = o - b;
  if (i >= lo && i < hi) return i;
  if (p->mode == PAD_CONSTANT || len <= 0) return -1;
  int64_t j = i - lo;
  switch (p->mode) {
  case PAD_EDGE:
    j = j < 0 ? 0 : len - 1;
    break;
  case PAD_WRAP:
    j = ((j % len) + len) % len;
    break;
  default: { /* reflect, without repeating the edge element */
    int64_t period = 2 * (len - 1);
    if (period == 0) {
      j = 0;
      break;
    }
    j = ((j % period) + period) % period;
    if (j >= len) j = period - j;
    break;
  }
  }
  return lo + j;
}

static int pad_eval(const pare_node *node, const pare_tensor *const *in, int n_in, pare_tensor *out,
                    int n_out, pare_err *err) {
  (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  pad_plan p;
  if (pare_shapeop_elem_size(x, &es, err)) return PARE_ERR;
  int r = x->shape.rank;
  if (pad_plan_make(node, in, n_in, r, &p, err) != PARE_OK) return PARE_ERR;
  unsigned char value[16] = {0};
  if (pare_shapeop_has_input(in, n_in, 2)) {
    if (in[2]->dtype != x->dtype) return pare_errf(err, "constant_value dtype differs from data");
    memcpy(value, in[2]->data, es);
  }
  const int64_t *od = out[0].shape.dims;
  int64_t total = pare_tensor_numel(&out[0]);
  if (total == 0) return PARE_OK;
  if (r == 0) {
    memcpy(out[0].data, x->data, es);
    return PARE_OK;
  }
  /* Per-axis source index of every output index. */
  int64_t sum = 0, *map[PARE_MAX_RANK];
  for (int a = 0; a < r; a++) sum += od[a];
  int64_t *buf = malloc((size_t)sum * sizeof *buf);
  if (!buf) return pare_errf(err, "out of memory");
  int64_t at = 0;
  for (int a = 0; a < r; at += od[a], a++) {
    map[a] = buf + at;
    for (int64_t o = 0; o < od[a]; o++) map[a][o] = pad_source(&p, a, x->shape.dims[a], o);
  }
  int64_t st[PARE_MAX_RANK], idx[PARE_MAX_RANK] = {0};
  pare_strides(&x->shape, st);
  int64_t last = od[r - 1], rows = total / last;
  char *dst = out[0].data;
  const char *src = x->data;
  for (int64_t row = 0; row < rows; row++) {
    int64_t base = 0, inside = 1;
    for (int a = 0; a < r - 1; a++) {
      int64_t s = map[a][idx[a]];
      if (s < 0)
        inside = 0;
      else
        base += s * st[a];
    }
    for (int64_t j = 0; j < last; j++, dst += es) {
      int64_t s = map[r - 1][j];
      if (inside && s >= 0)
        memcpy(dst, src + (size_t)(base + s) * es, es);
      else
        memcpy(dst, value, es);
    }
    for (int a = r - 2; a >= 0; a--) {
      if (++idx[a] < od[a]) break;
      idx[a] = 0;
    }
  }
  free(buf);
  return PARE_OK;
}

/* ------------------------------------------------------------ Shape, Size */

/* [start, end) of the dims Shape reports, clamped to [0, r]. */
static void shape_range(const pare_node *node, int r, int64_t *start, int64_t *end) {
  int64_t s = pare_attr_int(node, "start", 0), e = pare_attr_int(node, "end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  *start = s < 0 ? 0 : s > r ? r : s;
  *end = e < 0 ? 0 : e > r ? r : e;
  if (*end < *start) *end = *start;
}

static int shape_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  out[0].dtype = PARE_I64;
  out[0].shape = pare_shape_make(1, NULL);
  if (in[0]->shape.rank < 0) return PARE_UNKNOWN;
  int64_t s, e;
  shape_range(node, in[0]->shape.rank, &s, &e);
  out[0].shape.dims[0] = e - s;
  return PARE_OK;
}

static int shape_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_shape *xs = &in[0]->shape;
  int64_t s, e;
  shape_range(node, xs->rank, &s, &e);
  for (int64_t i = s; i < e; i++) {
    if (xs->dims[i] < 0) return pare_errf(err, "input dim %lld is unknown", (long long)i);
    ((int64_t *)out[0].data)[i - s] = xs->dims[i];
  }
  return PARE_OK;
}

static int size_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  out[0].dtype = PARE_I64;
  out[0].shape = pare_shape_make(0, NULL);
  return PARE_OK;
}

static int size_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_in, (void)n_out;
  int64_t n;
  if (pare_shape_numel(&in[0]->shape, &n, err)) return PARE_ERR;
  *(int64_t *)out[0].data = n;
  return PARE_OK;
}

/* -------------------------------------------------------- ConstantOfShape */

/* The fill value attribute (one element), or NULL for the default f32 0. */
static int fill_value(const pare_node *node, const pare_tensor **value, pare_err *err) {
  const pare_attr *a = pare_node_attr(node, "value");
  *value = NULL;
  if (!a) return PARE_OK;
  if (a->type != PARE_ATTR_TENSOR || !a->t || !a->t->data || pare_tensor_numel(a->t) != 1)
    return pare_errf(err, "attribute 'value' must be a one-element tensor");
  if (pare_dtype_size(a->t->dtype) == 0)
    return pare_errf(err, "unsupported value dtype %s", pare_dtype_name(a->t->dtype));
  *value = a->t;
  return PARE_OK;
}

static int constant_of_shape_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                                   pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  const pare_tensor *value;
  if (fill_value(node, &value, err)) return PARE_ERR;
  out[0].dtype = value ? value->dtype : PARE_F32;
  int64_t dims[PARE_MAX_RANK];
  int n = 0;
  int rc = pare_shapeop_read_ints(in[0], "shape", dims, PARE_MAX_RANK, &n, err);
  if (rc == PARE_ERR) return PARE_ERR;
  if (rc == PARE_UNKNOWN) {
    const pare_shape *ss = &in[0]->shape;
    if (ss->rank == 1 && ss->dims[0] >= 0 && ss->dims[0] <= PARE_MAX_RANK)
      out[0].shape = pare_shape_make((int)ss->dims[0], NULL);
    return PARE_UNKNOWN;
  }
  for (int i = 0; i < n; i++)
    if (dims[i] < 0) return pare_errf(err, "shape has a negative dim %lld", (long long)dims[i]);
  out[0].shape = pare_shape_make(n, dims);
  if (check_count(&out[0].shape, err)) return PARE_ERR;
  return PARE_OK;
}

static int constant_of_shape_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                                  pare_tensor *out, int n_out, pare_err *err) {
  (void)in, (void)n_in, (void)n_out;
  const pare_tensor *value;
  if (fill_value(node, &value, err)) return PARE_ERR;
  if (!value) return PARE_OK; /* f32 zeros: the output comes zeroed */
  size_t es = pare_dtype_size(value->dtype);
  int64_t n = pare_tensor_numel(&out[0]);
  for (int64_t i = 0; i < n; i++) memcpy((char *)out[0].data + (size_t)i * es, value->data, es);
  return PARE_OK;
}

/* ------------------------------------------------------------------ Range */

/* Element count of Range(start, limit, delta) of dtype dt. */
static int range_count(const pare_tensor *const *in, pare_dtype dt, int64_t *count, pare_err *err) {
  if (pare_dtype_is_float(dt)) {
    double s = pare_tensor_get_f64(in[0], 0), l = pare_tensor_get_f64(in[1], 0),
           d = pare_tensor_get_f64(in[2], 0);
    if (d == 0) return pare_errf(err, "delta is 0");
    double c = ceil((l - s) / d);
    if (!(c > 0)) c = 0; /* also NaN */
    if (c > (double)COUNT_LIMIT)
      return pare_errf(err, "range from %g to %g by %g has too many elements", s, l, d);
    *count = (int64_t)c;
    return PARE_OK;
  }
  int64_t s = pare_tensor_get_i64(in[0], 0), l = pare_tensor_get_i64(in[1], 0),
          d = pare_tensor_get_i64(in[2], 0), diff;
  if (d == 0) return pare_errf(err, "delta is 0");
  if (__builtin_sub_overflow(l, s, &diff) || diff == INT64_MIN)
    return pare_errf(err, "range from %lld to %lld overflows", (long long)s, (long long)l);
  if ((diff > 0 && d > 0) || (diff < 0 && d < 0)) {
    int64_t q = diff / d;
    *count = q + (diff % d != 0);
  } else {
    *count = 0;
  }
  return PARE_OK;
}

static int range_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)node;
  if (begin(in, n_in, 3, n_out, err)) return PARE_ERR;
  pare_dtype dt = in[0]->dtype;
  if (dt != PARE_F32 && dt != PARE_F64 && !pare_dtype_is_int(dt))
    return pare_errf(err, "unsupported dtype %s", pare_dtype_name(dt));
  static const char *names[3] = {"start", "limit", "delta"};
  for (int i = 0; i < 3; i++) {
    if (in[i]->dtype != dt)
      return pare_errf(err, "%s has dtype %s, start has %s", names[i],
                       pare_dtype_name(in[i]->dtype), pare_dtype_name(dt));
    if (pare_shape_is_static(&in[i]->shape) && pare_tensor_numel(in[i]) != 1)
      return pare_errf(err, "%s must be a scalar", names[i]);
  }
  out[0].dtype = dt;
  out[0].shape = pare_shape_make(1, NULL);
  if (!in[0]->data || !in[1]->data || !in[2]->data) return PARE_UNKNOWN;
  return range_count(in, dt, &out[0].shape.dims[0], err);
}

static int range_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_in, (void)n_out, (void)err;
  int64_t n = out[0].shape.dims[0];
  if (pare_dtype_is_float(out[0].dtype)) {
    double s = pare_tensor_get_f64(in[0], 0), d = pare_tensor_get_f64(in[2], 0);
    for (int64_t i = 0; i < n; i++) pare_tensor_set_f64(&out[0], i, s + (double)i * d);
  } else {
    int64_t s = pare_tensor_get_i64(in[0], 0), d = pare_tensor_get_i64(in[2], 0);
    for (int64_t i = 0; i < n; i++) set_i64(&out[0], i, s + i * d);
  }
  return PARE_OK;
}

/* ------------------------------------------------ DepthToSpace, SpaceToDepth */

static int blocksize(const pare_node *node, int64_t *b, pare_err *err) {
  if (!pare_node_attr(node, "blocksize"))
    return pare_errf(err, "attribute 'blocksize' is required");
  *b = pare_attr_int(node, "blocksize", 0);
  if (*b <= 0 || *b > 1 << 20)
    return pare_errf(err, "blocksize %lld is out of range", (long long)*b);
  return PARE_OK;
}

/* Is DepthToSpace in CRD mode? */
static int depth_crd(const pare_node *node, int *crd, pare_err *err) {
  const char *mode = pare_attr_string(node, "mode", "DCR");
  if (strcmp(mode, "DCR") != 0 && strcmp(mode, "CRD") != 0)
    return pare_errf(err, "unknown mode '%s'", mode);
  *crd = strcmp(mode, "CRD") == 0;
  return PARE_OK;
}

static int depth_to_space_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                                pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  int64_t b;
  int crd;
  if (blocksize(node, &b, err) || depth_crd(node, &crd, err)) return PARE_ERR;
  out[0].dtype = in[0]->dtype;
  out[0].shape = pare_shape_make(4, NULL);
  if (xs->rank < 0) return PARE_UNKNOWN;
  if (xs->rank != 4) return pare_errf(err, "input must have rank 4, got %d", xs->rank);
  int64_t c = xs->dims[1];
  if (c >= 0 && c % (b * b) != 0)
    return pare_errf(err, "channels %lld are not a multiple of blocksize^2 = %lld", (long long)c,
                     (long long)(b * b));
  out[0].shape.dims[0] = xs->dims[0];
  out[0].shape.dims[1] = c < 0 ? -1 : c / (b * b);
  for (int i = 2; i < 4; i++)
    if (xs->dims[i] >= 0 && pare_shapeop_mul(xs->dims[i], b, &out[0].shape.dims[i], err))
      return PARE_ERR;
  return pare_shapeop_result(out, 1);
}

static int depth_to_space_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                               pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  int64_t b;
  int crd;
  if (pare_shapeop_elem_size(x, &es, err) || blocksize(node, &b, err) || depth_crd(node, &crd, err))
    return PARE_ERR;
  int64_t st[4];
  pare_strides(&x->shape, st);
  int64_t c2 = out[0].shape.dims[1];
  /* Output as [N, C', H, b, W, b]: out[n, c, h*b+i, w*b+j]. */
  int64_t dims[6] = {x->shape.dims[0], c2, x->shape.dims[2], b, x->shape.dims[3], b};
  int64_t vs[6];
  vs[0] = st[0];
  vs[2] = st[2];
  vs[4] = st[3];
  if (crd) { /* channel c*b*b + i*b + j */
    vs[1] = b * b * st[1];
    vs[3] = b * st[1];
    vs[5] = st[1];
  } else { /* DCR: channel (i*b + j)*C' + c */
    vs[1] = st[1];
    vs[3] = b * c2 * st[1];
    vs[5] = c2 * st[1];
  }
  pare_shapeop_copy_view(out[0].data, x->data, es, 6, dims, vs, 0);
  return PARE_OK;
}

static int space_to_depth_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                                pare_tensor *out, int n_out, pare_err *err) {
  if (begin(in, n_in, 1, n_out, err)) return PARE_ERR;
  const pare_shape *xs = &in[0]->shape;
  int64_t b;
  if (blocksize(node, &b, err)) return PARE_ERR;
  out[0].dtype = in[0]->dtype;
  out[0].shape = pare_shape_make(4, NULL);
  if (xs->rank < 0) return PARE_UNKNOWN;
  if (xs->rank != 4) return pare_errf(err, "input must have rank 4, got %d", xs->rank);
  out[0].shape.dims[0] = xs->dims[0];
  if (xs->dims[1] >= 0 && pare_shapeop_mul(xs->dims[1], b * b, &out[0].shape.dims[1], err))
    return PARE_ERR;
  for (int i = 2; i < 4; i++) {
    int64_t d = xs->dims[i];
    if (d >= 0 && d % b != 0)
      return pare_errf(err, "dim %d of size %lld is not a multiple of blocksize %lld", i,
                       (long long)d, (long long)b);
    out[0].shape.dims[i] = d < 0 ? -1 : d / b;
  }
  return pare_shapeop_result(out, 1);
}

static int space_to_depth_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                               pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  size_t es;
  int64_t b;
  if (pare_shapeop_elem_size(x, &es, err) || blocksize(node, &b, err)) return PARE_ERR;
  int64_t st[4];
  pare_strides(&x->shape, st);
  /* Output as [N, b(i), b(j), C, H', W']: out[n, (i*b+j)*C + c, h, w] = x[n, c, h*b+i, w*b+j]. */
  int64_t dims[6] = {x->shape.dims[0],    b, b, x->shape.dims[1], out[0].shape.dims[2],
                     out[0].shape.dims[3]};
  int64_t vs[6] = {st[0], st[2], st[3], st[1], b * st[2], b * st[3]};
  pare_shapeop_copy_view(out[0].data, x->data, es, 6, dims, vs, 0);
  return PARE_OK;
}

/* ------------------------------------------------------------------ table */

#define SHAPE_OP(name, fn)                                                                         \
  { name, pare_shapeop_infer_##fn, pare_shapeop_eval_##fn }

const pare_op_def pare_ops_shape[] = {
    {"Identity", identity_infer, copy_eval},
    {"Reshape", reshape_infer, copy_eval},
    {"Flatten", flatten_infer, copy_eval},
    {"Squeeze", squeeze_infer, copy_eval},
    {"Unsqueeze", unsqueeze_infer, copy_eval},
    {"Transpose", transpose_infer, transpose_eval},
    {"Concat", concat_infer, concat_eval},
    {"Split", split_infer, split_eval},
    {"Slice", slice_infer, slice_eval},
    {"Expand", expand_infer, expand_eval},
    {"Tile", tile_infer, tile_eval},
    {"Pad", pad_infer, pad_eval},
    {"Shape", shape_infer, shape_eval},
    {"Size", size_infer, size_eval},
    {"ConstantOfShape", constant_of_shape_infer, constant_of_shape_eval},
    {"Range", range_infer, range_eval},
    {"DepthToSpace", depth_to_space_infer, depth_to_space_eval},
    {"SpaceToDepth", space_to_depth_infer, space_to_depth_eval},
    SHAPE_OP("Gather", gather),
    SHAPE_OP("GatherElements", gather_elements),
    SHAPE_OP("GatherND", gather_nd),
    SHAPE_OP("ScatterElements", scatter_elements),
    SHAPE_OP("Scatter", scatter_elements), /* deprecated (opset 9-10) alias, same semantics */
    SHAPE_OP("ScatterND", scatter_nd),
    SHAPE_OP("OneHot", onehot),
    SHAPE_OP("NonZero", nonzero),
    SHAPE_OP("Compress", compress),
    SHAPE_OP("ReverseSequence", reverse_sequence),
    SHAPE_OP("Trilu", trilu),
    SHAPE_OP("EyeLike", eyelike),
    SHAPE_OP("Resize", resize),
    {0, 0, 0},
};
