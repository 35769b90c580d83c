/*
 * shape_resize.c - Resize (opset 11-18 form: inputs X, roi, scales, sizes).
 *
 * Semantics follow the ONNX reference implementation: each resized axis maps
 * output coordinate x to an input coordinate x_orig through the coordinate
 * transformation mode, then combines a few neighbouring input elements:
 *   nearest: one element picked by nearest_mode (exact byte copy, any dtype);
 *   linear:  2 taps (1 - r, r);   cubic: 4 taps (Keys kernel, cubic_coeff_a);
 *   antialias (linear/cubic, downsampling): the kernel widened by 1 / scale.
 * Neighbours past the edges repeat the edge element. Interpolation is
 * separable and runs in double, last axis first like the reference, then
 * rounds once into the output dtype (integers truncate toward zero,
 * saturating).
 */
#include "ops/shape_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_LIMIT (INT64_MAX / 16)

typedef enum rs_mode { RS_NEAREST, RS_LINEAR, RS_CUBIC } rs_mode;
typedef enum rs_coord {
  RS_HALF_PIXEL,
  RS_HALF_PIXEL_SYMMETRIC,
  RS_PYTORCH_HALF_PIXEL,
  RS_ALIGN_CORNERS,
  RS_ASYMMETRIC,
  RS_TF_HALF_PIXEL_FOR_NN,
  RS_TF_CROP_AND_RESIZE,
} rs_coord;
typedef enum rs_round { RS_PREFER_FLOOR, RS_PREFER_CEIL, RS_FLOOR, RS_CEIL } rs_round;

typedef struct rs_plan {
  rs_mode mode;
  rs_coord coord;
  rs_round round;
  double cubic_a, extrapolation;
  int exclude_outside, antialias;
  int rank;
  int64_t in[PARE_MAX_RANK], out[PARE_MAX_RANK]; /* out: -1 if unknown */
  double scale[PARE_MAX_RANK];
  double roi_start[PARE_MAX_RANK], roi_end[PARE_MAX_RANK];
} rs_plan;

static int pick(const char *value, const char *const *names, int n, int *out) {
  for (int i = 0; i < n; i++)
    if (strcmp(value, names[i]) == 0) {
      *out = i;
      return 1;
    }
  return 0;
}

static int read_attrs(const pare_node *node, rs_plan *p, pare_err *err) {
  static const char *const modes[] = {"nearest", "linear", "cubic"};
  static const char *const coords[] = {
      "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
      "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  static const char *const rounds[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  const char *m = pare_attr_string(node, "mode", "nearest");
  const char *c = pare_attr_string(node, "coordinate_transformation_mode", "half_pixel");
  const char *n = pare_attr_string(node, "nearest_mode", "round_prefer_floor");
  int v;
  if (!pick(m, modes, 3, &v)) return pare_errf(err, "unknown mode '%s'", m);
  p->mode = (rs_mode)v;
  if (!pick(c, coords, 7, &v))
    return pare_errf(err, "unknown coordinate_transformation_mode '%s'", c);
  p->coord = (rs_coord)v;
  if (!pick(n, rounds, 4, &v)) return pare_errf(err, "unknown nearest_mode '%s'", n);
  p->round = (rs_round)v;
  p->cubic_a = pare_attr_float(node, "cubic_coeff_a", -0.75f);
  p->extrapolation = pare_attr_float(node, "extrapolation_value", 0.0f);
  p->exclude_outside = pare_attr_int(node, "exclude_outside", 0) != 0;
  p->antialias = pare_attr_int(node, "antialias", 0) != 0;
  if (p->antialias && p->mode == RS_NEAREST)
    return pare_errf(err, "antialias is not supported with mode 'nearest'");
  return PARE_OK;
}

/* Reads a float tensor of exactly n values (roi, scales). */
static int read_floats(const pare_tensor *t, const char *what, int n, double *v, pare_err *err) {
  if (!pare_dtype_is_float(t->dtype) || t->dtype == PARE_F16)
    return pare_errf(err, "%s must be f32 or f64, got %s", what, pare_dtype_name(t->dtype));
  if (pare_tensor_numel(t) != n)
    return pare_errf(err, "%s has %lld values, expected %d", what, (long long)pare_tensor_numel(t),
                     n);
  for (int i = 0; i < n; i++) v[i] = pare_tensor_get_f64(t, i);
  return PARE_OK;
}

/*
 * Output sizes, scales and roi for input shape xs. PARE_UNKNOWN when the
 * scales/sizes value is unknown (p->out then holds -1 for resized axes).
 */
static int make_plan(const pare_node *node, const pare_tensor *const *in, int n_in,
                     const pare_shape *xs, int need_roi, rs_plan *p, pare_err *err) {
  if (read_attrs(node, p, err)) return PARE_ERR;
  int r = xs->rank;
  p->rank = r;
  int axes[PARE_MAX_RANK], naxes = r, resized[PARE_MAX_RANK] = {0};
  const int64_t *av;
  int64_t na = pare_attr_ints(node, "axes", &av);
  if (na >= 0) {
    if (na > r) return pare_errf(err, "axes has %lld entries for rank %d", (long long)na, r);
    naxes = (int)na;
    for (int i = 0; i < naxes; i++) {
      if (pare_norm_axis(av[i], r, &axes[i], err)) return pare_err_prefix(err, "axes");
      if (resized[axes[i]]) return pare_errf(err, "axis %lld repeated in axes", (long long)av[i]);
      resized[axes[i]] = 1;
    }
  } else {
    for (int i = 0; i < r; i++) {
      axes[i] = i;
      resized[i] = 1;
    }
  }
  for (int a = 0; a < r; a++) {
    p->in[a] = p->out[a] = xs->dims[a];
    p->scale[a] = 1.0;
    p->roi_start[a] = 0.0;
    p->roi_end[a] = 1.0;
  }
  int has_scales = pare_shapeop_has_input(in, n_in, 2);
  int has_sizes = pare_shapeop_has_input(in, n_in, 3);
  if (has_scales == has_sizes)
    return pare_errf(err, "exactly one of the inputs scales and sizes must be given");

  if (p->coord == RS_TF_CROP_AND_RESIZE && need_roi && pare_shapeop_has_input(in, n_in, 1)) {
    double roi[2 * PARE_MAX_RANK];
    if (read_floats(in[1], "roi", 2 * naxes, roi, err)) return PARE_ERR;
    for (int i = 0; i < naxes; i++) {
      p->roi_start[axes[i]] = roi[i];
      p->roi_end[axes[i]] = roi[naxes + i];
    }
  }

  const pare_tensor *t = in[has_scales ? 2 : 3];
  if (!t->data) {
    for (int i = 0; i < naxes; i++) p->out[axes[i]] = -1;
    return PARE_UNKNOWN;
  }
  if (has_scales) {
    double s[PARE_MAX_RANK];
    if (read_floats(t, "scales", naxes, s, err)) return PARE_ERR;
    for (int i = 0; i < naxes; i++) {
      int a = axes[i];
      if (!(s[i] > 0) || !isfinite(s[i])) return pare_errf(err, "scale %g is not positive", s[i]);
      p->scale[a] = s[i];
      if (p->in[a] < 0) {
        p->out[a] = -1;
        continue;
      }
      double o = floor((double)p->in[a] * s[i]);
      if (o > (double)COUNT_LIMIT)
        return pare_errf(err, "scale %g makes axis %d too large", s[i], a);
      p->out[a] = (int64_t)o;
    }
    return PARE_OK;
  }
  if (!pare_dtype_is_int(t->dtype))
    return pare_errf(err, "sizes must be an integer tensor, got %s", pare_dtype_name(t->dtype));
  if (pare_tensor_numel(t) != naxes)
    return pare_errf(err, "sizes has %lld values, expected %d", (long long)pare_tensor_numel(t),
                     naxes);
  const char *policy = pare_attr_string(node, "keep_aspect_ratio_policy", "stretch");
  int stretch = strcmp(policy, "stretch") == 0, not_larger = strcmp(policy, "not_larger") == 0;
  if (!stretch && !not_larger && strcmp(policy, "not_smaller") != 0)
    return pare_errf(err, "unknown keep_aspect_ratio_policy '%s'", policy);
  double common = not_larger ? INFINITY : 0;
  int known = 1;
  for (int i = 0; i < naxes; i++) {
    int a = axes[i];
    int64_t size = pare_tensor_get_i64(t, i);
    if (size < 0) return pare_errf(err, "sizes has a negative value %lld", (long long)size);
    p->out[a] = size;
    if (p->in[a] < 0) {
      known = 0;
      continue;
    }
    if (p->in[a] == 0) {
      if (size != 0)
        return pare_errf(err, "cannot resize axis %d of size 0 to %lld", a, (long long)size);
      continue;
    }
    p->scale[a] = (double)size / (double)p->in[a];
    if (not_larger ? p->scale[a] < common : p->scale[a] > common) common = p->scale[a];
  }
  if (!stretch) {
    for (int i = 0; i < naxes; i++) {
      int a = axes[i];
      if (!known) {
        p->out[a] = -1;
        continue;
      }
      if (p->in[a] == 0) continue;
      p->scale[a] = common;
      p->out[a] = (int64_t)(common * (double)p->in[a] + 0.5);
    }
  }
  return PARE_OK;
}

int pare_shapeop_infer_resize(const pare_node *node, const pare_tensor *const *in, int n_in,
                              pare_tensor *out, int n_out, pare_err *err) {
  if (pare_need_input(in, n_in, 0, err)) return PARE_ERR;
  if (n_out < 1) return pare_errf(err, "expected an output");
  const pare_shape *xs = &in[0]->shape;
  out[0].dtype = in[0]->dtype;
  if (pare_dtype_size(in[0]->dtype) == 0)
    return pare_errf(err, "unsupported dtype %s", pare_dtype_name(in[0]->dtype));
  if (xs->rank < 0) return PARE_UNKNOWN;
  rs_plan p;
  int rc = make_plan(node, in, n_in, xs, 0, &p, err);
  if (rc == PARE_ERR) return PARE_ERR;
  out[0].shape = pare_shape_make(xs->rank, p.out);
  if (rc == PARE_UNKNOWN) return PARE_UNKNOWN;
  if (pare_shape_is_static(&out[0].shape)) {
    int64_t n;
    if (pare_shape_numel(&out[0].shape, &n, err)) return PARE_ERR;
  }
  return pare_shapeop_result(out, 1);
}

/* ------------------------------------------------------------ coordinates */

/* Input coordinate of output coordinate x along axis a. */
static double original_coord(const rs_plan *p, int a, int64_t x) {
  double s = p->scale[a], in = (double)p->in[a], outf = s * in, xr = (double)x;
  switch (p->coord) {
  case RS_HALF_PIXEL:
    return (xr + 0.5) / s - 0.5;
  case RS_HALF_PIXEL_SYMMETRIC: {
    double adjustment = (double)p->out[a] / outf, center = in / 2;
    return center * (1 - adjustment) + (xr + 0.5) / s - 0.5;
  }
  case RS_PYTORCH_HALF_PIXEL:
    return p->out[a] > 1 ? (xr + 0.5) / s - 0.5 : 0.0;
  case RS_ALIGN_CORNERS:
    return p->out[a] <= 1 || outf == 1 ? 0.0 : xr * (in - 1) / (outf - 1);
  case RS_ASYMMETRIC:
    return xr / s;
  case RS_TF_HALF_PIXEL_FOR_NN:
    return (xr + 0.5) / s;
  case RS_TF_CROP_AND_RESIZE: {
    double lo = p->roi_start[a], hi = p->roi_end[a];
    if (p->out[a] <= 1 || outf == 1) return (hi - lo) * (in - 1) / 2 + lo * (in - 1);
    return xr * (hi - lo) * (in - 1) / (outf - 1) + lo * (in - 1);
  }
  }
  return 0;
}

static int extrapolates(const rs_plan *p, int a, double xo) {
  return p->coord == RS_TF_CROP_AND_RESIZE && (xo < 0 || xo > (double)(p->in[a] - 1));
}

/* Base tap: the input element at or left of xo, strictly left when xo is
 * integral (the reference keeps the ratio in (0, 1]). */
static void split_coord(double xo, int64_t *base, double *ratio) {
  /* Coordinates come from user scales and roi: keep them (and NaN) castable. */
  if (!(xo > -1e15)) xo = -1e15;
  if (xo > 1e15) xo = 1e15;
  double f = floor(xo);
  if (f == xo) f -= 1;
  *base = (int64_t)f;
  *ratio = xo - f;
}

static int64_t clamp_index(int64_t i, int64_t n) {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Input index nearest_mode picks for coordinate xo on an axis of n elements. */
static int64_t nearest_index(const rs_plan *p, double xo, int64_t n) {
  int64_t base;
  double r;
  split_coord(xo, &base, &r);
  int up;
  if (r == 1)
    up = 1;
  else if (p->round == RS_PREFER_FLOOR)
    up = r > 0.5;
  else if (p->round == RS_PREFER_CEIL)
    up = r >= 0.5;
  else
    up = p->round == RS_CEIL;
  return clamp_index(base + up, n);
}

/* Input index output y of axis a copies in mode nearest, -1 for the
 * extrapolation value. */
static int64_t nearest_source(const rs_plan *p, int a, int64_t y) {
  double xo = original_coord(p, a, y);
  return extrapolates(p, a, xo) ? -1 : nearest_index(p, xo, p->in[a]);
}

/* ------------------------------------------------------------------- taps */

typedef pare_resize_taps rs_taps;

void pare_resize_taps_free(pare_resize_taps *t) {
  free(t->idx);
  free(t->w);
  free(t->ex);
  t->idx = NULL;
  t->w = NULL;
  t->ex = NULL;
}

static double cubic_kernel(double x, double A) {
  x = fabs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

/* Number of taps and the offset of the first one from the base tap. */
static int tap_span(const rs_plan *p, double scale, int *n, int64_t *first, pare_err *err) {
  if (!p->antialias || scale >= 1) {
    *n = p->mode == RS_CUBIC ? 4 : 2;
    *first = p->mode == RS_CUBIC ? -1 : 0;
    return PARE_OK;
  }
  double reach = p->mode == RS_CUBIC ? 2 : 1;
  if (reach / scale > (double)(1 << 19))
    return pare_errf(err, "antialias kernel for scale %g is too wide", scale);
  int64_t start = (int64_t)floor(-reach / scale) + 1;
  *first = start;
  *n = (int)(2 - 2 * start);
  return PARE_OK;
}

/* Weights of the taps base+first .. base+first+n-1 for ratio r. */
static void tap_weights(const rs_plan *p, double scale, int n, int64_t first, double r, double *w) {
  if (!p->antialias || scale >= 1) {
    if (p->mode == RS_LINEAR) {
      w[0] = 1 - r;
      w[1] = r;
      return;
    }
    double A = p->cubic_a;
    w[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
    w[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
    w[2] = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1;
    w[3] = ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A;
    return;
  }
  double sum = 0;
  for (int k = 0; k < n; k++) {
    double x = ((double)(first + k) - r) * scale;
    w[k] = p->mode == RS_CUBIC ? cubic_kernel(x, p->cubic_a) : fmax(0, fmin(1, 1 - fabs(x)));
    sum += w[k];
  }
  for (int k = 0; k < n; k++) w[k] /= sum;
}

/* Allocates t's tables for t->n taps on each of the nout outputs of axis a. */
static int taps_alloc(rs_taps *t, int a, int64_t nout, pare_err *err) {
  if ((uint64_t)nout > pare_max_tensor_bytes / sizeof(double) / (uint64_t)t->n)
    return pare_errf(err, "resize of axis %d needs too many interpolation taps", a);
  size_t cells = (size_t)nout * (size_t)t->n;
  t->n_out = nout;
  t->idx = malloc((cells ? cells : 1) * sizeof *t->idx);
  t->w = malloc((cells ? cells : 1) * sizeof *t->w);
  t->ex = calloc(nout ? (size_t)nout : 1, 1);
  if (!t->idx || !t->w || !t->ex) {
    pare_resize_taps_free(t);
    return pare_errf(err, "out of memory");
  }
  return PARE_OK;
}

static int make_taps(const rs_plan *p, int a, rs_taps *t, pare_err *err) {
  int64_t first = 0, nin = p->in[a], nout = p->out[a];
  if (tap_span(p, p->scale[a], &t->n, &first, err) || taps_alloc(t, a, nout, err)) return PARE_ERR;
  for (int64_t y = 0; y < nout; y++) {
    int64_t *idx = t->idx + y * t->n;
    double *w = t->w + y * t->n, xo = original_coord(p, a, y), r;
    int64_t base;
    if (extrapolates(p, a, xo)) {
      t->ex[y] = 1;
      for (int k = 0; k < t->n; k++) idx[k] = 0, w[k] = 0;
      continue;
    }
    split_coord(xo, &base, &r);
    tap_weights(p, p->scale[a], t->n, first, r, w);
    if (p->exclude_outside) {
      double sum = 0;
      for (int k = 0; k < t->n; k++) {
        int64_t i = base + first + k;
        if (i < 0 || i >= nin) w[k] = 0;
        sum += w[k];
      }
      if (sum != 0)
        for (int k = 0; k < t->n; k++) w[k] /= sum;
    }
    for (int k = 0; k < t->n; k++) idx[k] = clamp_index(base + first + k, nin);
  }
  return PARE_OK;
}

/* True when the taps reproduce the input unchanged. */
static int taps_identity(const rs_taps *t, int64_t nin, int64_t nout) {
  if (nin != nout) return 0;
  for (int64_t y = 0; y < nout; y++) {
    if (t->ex[y]) return 0;
    double on = 0;
    for (int k = 0; k < t->n; k++) {
      double w = t->w[y * t->n + k];
      if (t->idx[y * t->n + k] == y)
        on += w;
      else if (w != 0)
        return 0;
    }
    if (on != 1) return 0;
  }
  return 1;
}

/* Nearest as taps: one of weight 1 per output. */
static int make_nearest_taps(const rs_plan *p, int a, rs_taps *t, pare_err *err) {
  t->n = 1;
  if (taps_alloc(t, a, p->out[a], err)) return PARE_ERR;
  for (int64_t y = 0; y < p->out[a]; y++) {
    int64_t i = nearest_source(p, a, y);
    t->ex[y] = i < 0;
    t->idx[y] = i < 0 ? 0 : i;
    t->w[y] = i < 0 ? 0 : 1;
  }
  return PARE_OK;
}

int pare_resize_axis_taps(const pare_node *node, const pare_tensor *const *in, int n_in, int axis,
                          pare_resize_taps *t, pare_err *err) {
  memset(t, 0, sizeof *t);
  if (pare_need_input(in, n_in, 0, err)) return PARE_ERR;
  rs_plan p;
  int rc = make_plan(node, in, n_in, &in[0]->shape, 1, &p, err);
  if (rc != PARE_OK) return rc == PARE_ERR ? PARE_ERR : pare_errf(err, "output size unknown");
  if (axis < 0 || axis >= p.rank) return pare_errf(err, "axis %d out of range", axis);
  t->nearest = p.mode == RS_NEAREST;
  t->extrapolation = p.extrapolation;
  rc = t->nearest ? make_nearest_taps(&p, axis, t, err) : make_taps(&p, axis, t, err);
  if (rc == PARE_OK) t->identity = taps_identity(t, p.in[axis], p.out[axis]);
  return rc;
}

/* --------------------------------------------------------- element access */

static double load_elem(const pare_tensor *t, int64_t i) {
  return pare_tensor_get_f64(t, i);
}

/* Stores v into element i: floats round, integers truncate toward zero and
 * saturate to the dtype's range (NaN -> 0). */
static void store_elem(pare_tensor *t, int64_t i, double v) {
  double lo = 0, hi = 0;
  switch (t->dtype) {
  case PARE_F32:
    ((float *)t->data)[i] = (float)v;
    return;
  case PARE_F64:
    ((double *)t->data)[i] = v;
    return;
  case PARE_F16:
    ((uint16_t *)t->data)[i] = pare_f32_to_f16((float)v);
    return;
  case PARE_BOOL:
    ((uint8_t *)t->data)[i] = v != 0;
    return;
  case PARE_I8:
    lo = -128, hi = 127;
    break;
  case PARE_U8:
    lo = 0, hi = 255;
    break;
  case PARE_I16:
    lo = -32768, hi = 32767;
    break;
  case PARE_U16:
    lo = 0, hi = 65535;
    break;
  case PARE_I32:
    lo = -2147483648.0, hi = 2147483647.0;
    break;
  case PARE_U32:
    lo = 0, hi = 4294967295.0;
    break;
  case PARE_I64:
    lo = -9223372036854775808.0, hi = 9223372036854774784.0;
    break;
  case PARE_U64:
    lo = 0, hi = 18446744073709549568.0;
    break;
  default:
    return;
  }
  if (isnan(v)) v = 0;
  v = trunc(v);
  v = v < lo ? lo : v > hi ? hi : v;
  if (t->dtype == PARE_U64)
    ((uint64_t *)t->data)[i] = (uint64_t)v;
  else
    pare_tensor_set_f64(t, i, v);
}

/* ------------------------------------------------------------------- eval */

/* Nearest: every output element copies one input element (or the
 * extrapolation value), so it is exact for any dtype. */
static int eval_nearest(const rs_plan *p, const pare_tensor *x, pare_tensor *out, pare_err *err) {
  size_t es = pare_dtype_size(x->dtype);
  int r = p->rank;
  int64_t total = pare_tensor_numel(out);
  if (total == 0) return PARE_OK;
  unsigned char fill[16] = {0};
  pare_tensor ft = {.dtype = x->dtype, .data = fill};
  store_elem(&ft, 0, p->extrapolation);
  if (r == 0) {
    memcpy(out->data, x->data, es);
    return PARE_OK;
  }
  int64_t sum = 0, *map[PARE_MAX_RANK];
  for (int a = 0; a < r; a++) sum += p->out[a];
  int64_t *buf = malloc((size_t)sum * sizeof *buf);
  if (!buf) return pare_errf(err, "out of memory");
  int64_t at = 0;
  for (int a = 0; a < r; at += p->out[a], a++) {
    map[a] = buf + at;
    for (int64_t y = 0; y < p->out[a]; y++) map[a][y] = nearest_source(p, a, y);
  }
  int64_t st[PARE_MAX_RANK], idx[PARE_MAX_RANK] = {0};
  pare_strides(&x->shape, st);
  int64_t last = p->out[r - 1], rows = total / last;
  char *dst = out->data;
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
        memcpy(dst, fill, es);
    }
    for (int a = r - 2; a >= 0; a--) {
      if (++idx[a] < p->out[a]) break;
      idx[a] = 0;
    }
  }
  free(buf);
  return PARE_OK;
}

/* One separable pass: resizes axis a of src (shape cur) into dst. */
static void resize_axis(const rs_plan *p, const rs_taps *t, const double *src, double *dst,
                        const int64_t *cur, int a) {
  int64_t outer = 1, inner = 1, nin = cur[a], nout = p->out[a];
  for (int i = 0; i < a; i++) outer *= cur[i];
  for (int i = a + 1; i < p->rank; i++) inner *= cur[i];
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t y = 0; y < nout; y++) {
      double *d = dst + (o * nout + y) * inner;
      if (t->ex[y]) {
        for (int64_t i = 0; i < inner; i++) d[i] = p->extrapolation;
        continue;
      }
      for (int64_t i = 0; i < inner; i++) d[i] = 0;
      for (int k = 0; k < t->n; k++) {
        double w = t->w[y * t->n + k];
        const double *s = src + (o * nin + t->idx[y * t->n + k]) * inner;
        for (int64_t i = 0; i < inner; i++) d[i] += w * s[i];
      }
    }
  }
}

static int eval_interpolate(const rs_plan *p, const pare_tensor *x, pare_tensor *out,
                            pare_err *err) {
  int r = p->rank;
  int64_t total = pare_tensor_numel(out), n = pare_tensor_numel(x);
  if (total == 0) return PARE_OK;
  int64_t cur[PARE_MAX_RANK];
  for (int a = 0; a < r; a++) cur[a] = p->in[a];
  if ((uint64_t)n > pare_max_tensor_bytes / sizeof(double))
    return pare_errf(err, "input too large to interpolate");
  double *buf = malloc((size_t)(n ? n : 1) * sizeof *buf);
  if (!buf) return pare_errf(err, "out of memory");
  for (int64_t i = 0; i < n; i++) buf[i] = load_elem(x, i);
  int rc = PARE_OK;
  for (int a = r - 1; a >= 0 && rc == PARE_OK; a--) {
    rs_taps t = {0};
    if (make_taps(p, a, &t, err)) {
      rc = PARE_ERR;
      break;
    }
    if (taps_identity(&t, p->in[a], p->out[a])) {
      pare_resize_taps_free(&t);
      continue;
    }
    int64_t m = 1;
    cur[a] = p->out[a];
    for (int i = 0; i < r && rc == PARE_OK; i++) rc = pare_shapeop_mul(m, cur[i], &m, err);
    double *next = NULL;
    if (rc == PARE_OK && (uint64_t)m > pare_max_tensor_bytes / sizeof(double))
      rc = pare_errf(err, "intermediate too large to interpolate");
    if (rc == PARE_OK && !(next = malloc((size_t)(m ? m : 1) * sizeof *next)))
      rc = pare_errf(err, "out of memory");
    if (rc == PARE_OK) {
      cur[a] = p->in[a];
      resize_axis(p, &t, buf, next, cur, a);
      cur[a] = p->out[a];
      free(buf);
      buf = next;
    }
    pare_resize_taps_free(&t);
  }
  if (rc == PARE_OK)
    for (int64_t i = 0; i < total; i++) store_elem(out, i, buf[i]);
  free(buf);
  return rc;
}

int pare_shapeop_eval_resize(const pare_node *node, const pare_tensor *const *in, int n_in,
                             pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  const pare_tensor *x = in[0];
  rs_plan p;
  int rc = make_plan(node, in, n_in, &x->shape, 1, &p, err);
  if (rc != PARE_OK) return rc == PARE_ERR ? PARE_ERR : pare_errf(err, "output size unknown");
  for (int a = 0; a < p.rank; a++)
    if (p.out[a] != out[0].shape.dims[a]) return pare_errf(err, "output shape mismatch");
  if (p.mode == RS_NEAREST) return eval_nearest(&p, x, &out[0], err);
  return eval_interpolate(&p, x, &out[0], err);
}
