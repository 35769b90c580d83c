/*
 * misc_sample.c - the misc ops that sample an image at fractional
 * coordinates: GridSample (opset 16, 4-D) and RoiAlign (opset 16).
 *
 * Both follow ONNX Runtime's kernels (which ONNX's reference mirrors), down
 * to their quirks: GridSample clamps or reflects out-of-range coordinates
 * before interpolating in every mode, and RoiAlign's "max" mode takes the
 * largest weighted corner of each sample rather than the interpolated value.
 * Sample coordinates are computed in float like those kernels, so rounding
 * decisions (nearest mode) agree; interpolation accumulates in double.
 */
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pare_misc_gridsample_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                               pare_tensor *out, int n_out, pare_err *err);
int pare_misc_gridsample_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                              pare_tensor *out, int n_out, pare_err *err);
int pare_misc_roialign_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                             pare_tensor *out, int n_out, pare_err *err);
int pare_misc_roialign_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                            pare_tensor *out, int n_out, pare_err *err);

static int is_f32_or_f64(pare_dtype dt) {
  return dt == PARE_F32 || dt == PARE_F64;
}

/* ----------------------------------------------------------- GridSample */

typedef enum gs_mode { GS_LINEAR, GS_NEAREST, GS_CUBIC } gs_mode;
typedef enum gs_pad { GS_ZEROS, GS_BORDER, GS_REFLECTION } gs_pad;

typedef struct gs_plan {
  gs_mode mode;
  gs_pad pad;
  int align_corners;
} gs_plan;

static int gs_plan_make(const pare_node *node, gs_plan *p, pare_err *err) {
  const char *mode = pare_attr_string(node, "mode", "bilinear");
  const char *pad = pare_attr_string(node, "padding_mode", "zeros");
  /* Opset 20 renamed bilinear/bicubic to linear/cubic; accept both. */
  if (strcmp(mode, "bilinear") == 0 || strcmp(mode, "linear") == 0)
    p->mode = GS_LINEAR;
  else if (strcmp(mode, "nearest") == 0)
    p->mode = GS_NEAREST;
  else if (strcmp(mode, "bicubic") == 0 || strcmp(mode, "cubic") == 0)
    p->mode = GS_CUBIC;
  else
    return pare_errf(err, "GridSample: unknown mode '%s'", mode);
  if (strcmp(pad, "zeros") == 0)
    p->pad = GS_ZEROS;
  else if (strcmp(pad, "border") == 0)
    p->pad = GS_BORDER;
  else if (strcmp(pad, "reflection") == 0)
    p->pad = GS_REFLECTION;
  else
    return pare_errf(err, "GridSample: unknown padding_mode '%s'", pad);
  int64_t ac = pare_attr_int(node, "align_corners", 0);
  if (ac != 0 && ac != 1)
    return pare_errf(err, "GridSample: align_corners must be 0 or 1, got %lld", (long long)ac);
  p->align_corners = (int)ac;
  return PARE_OK;
}

int pare_misc_gridsample_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                               pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  gs_plan p;
  if (gs_plan_make(node, &p, err)) return PARE_ERR;
  if (pare_need_input(in, n_in, 0, err) || pare_need_input(in, n_in, 1, err))
    return pare_err_prefix(err, "GridSample");
  const pare_tensor *x = in[0], *grid = in[1];
  if (!is_f32_or_f64(x->dtype) || !is_f32_or_f64(grid->dtype))
    return pare_errf(err, "GridSample: unsupported dtypes %s, %s", pare_dtype_name(x->dtype),
                     pare_dtype_name(grid->dtype));
  const pare_shape *xs = &x->shape, *gs = &grid->shape;
  if (xs->rank >= 0 && xs->rank != 4)
    return pare_errf(err, "GridSample: X has rank %d, only 4-D [N, C, H, W] is supported",
                     xs->rank);
  if (gs->rank >= 0 && (gs->rank != 4 || (gs->dims[3] >= 0 && gs->dims[3] != 2)))
    return pare_errf(err, "GridSample: grid must be [N, H_out, W_out, 2]");
  if (xs->rank >= 0 && gs->rank >= 0 && xs->dims[0] >= 0 && gs->dims[0] >= 0 &&
      xs->dims[0] != gs->dims[0])
    return pare_errf(err, "GridSample: X and grid disagree on the batch size");
  int64_t dims[4] = {-1, -1, -1, -1};
  if (xs->rank == 4) {
    dims[0] = xs->dims[0];
    dims[1] = xs->dims[1];
  }
  if (gs->rank == 4) {
    if (dims[0] < 0) dims[0] = gs->dims[0];
    dims[2] = gs->dims[1];
    dims[3] = gs->dims[2];
  }
  out[0].dtype = x->dtype;
  out[0].shape = pare_shape_make(4, dims);
  return pare_shape_is_static(&out[0].shape) ? PARE_OK : PARE_UNKNOWN;
}

/* Grid value in [-1, 1] to a pixel coordinate along a dim of `size`. */
static float gs_denormalize(float v, int64_t size, int align_corners) {
  if (align_corners) return (v + 1) / 2.0f * (float)(size - 1);
  return ((v + 1) * (float)size - 1) / 2.0f;
}

/* Reflects x by the nearer border until it lies in [lo, hi]. The number of
 * reflections stays a double so huge coordinates cannot overflow a cast. */
static float gs_reflect(float x, float lo, float hi) {
  float range = hi - lo;
  if (range <= 0 || !isfinite(x)) return lo;
  if (x < lo || x > hi) {
    float dx = x < lo ? lo - x : x - hi;
    double n = floor((double)dx / range);
    float r = (float)(dx - n * range);
    int even = fmod(n, 2.0) == 0;
    if (x < lo) return even ? lo + r : hi - r;
    return even ? hi - r : lo + r;
  }
  return x;
}

/* One image plane [h, w] with its padding rule. */
typedef struct gs_plane {
  const pare_tensor *x;
  int64_t base, h, w;
  gs_pad pad;
  float lo[2], hi[2]; /* reflection borders per dim (0: y, 1: x) */
} gs_plane;

/* Index i of a dim of `size` under the padding rule; -1 means "zero". */
static int64_t gs_index(const gs_plane *pl, int64_t i, int64_t size, int dim) {
  switch (pl->pad) {
  case GS_ZEROS:
    return i >= 0 && i < size ? i : -1;
  case GS_BORDER:
    return i < 0 ? 0 : i >= size ? size - 1 : i;
  case GS_REFLECTION: {
    int64_t r = (int64_t)gs_reflect((float)i, pl->lo[dim], pl->hi[dim]);
    return r < 0 ? 0 : r >= size ? size - 1 : r;
  }
  }
  return -1;
}

static double gs_pixel(const gs_plane *pl, int64_t y, int64_t x) {
  int64_t yi = gs_index(pl, y, pl->h, 0), xi = gs_index(pl, x, pl->w, 1);
  if (yi < 0 || xi < 0) return 0;
  return pare_tensor_get_f64(pl->x, pl->base + yi * pl->w + xi);
}

/* Keys cubic convolution weights (A = -0.75) for the taps at t+1, t, 1-t, 2-t. */
static void gs_cubic_coeffs(double t, double *c) {
  const double a = -0.75;
  double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
  c[0] = ((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a;
  c[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  c[2] = ((a + 2) * t2 - (a + 3)) * t2 * t2 + 1;
  c[3] = ((a * t3 - 5 * a) * t3 + 8 * a) * t3 - 4 * a;
}

static double gs_sample(const gs_plane *pl, gs_mode mode, float y, float x) {
  if (mode == GS_NEAREST) return gs_pixel(pl, (int64_t)y, (int64_t)x);
  double fy = floor(y), fx = floor(x);
  int64_t y0 = (int64_t)fy, x0 = (int64_t)fx;
  double ty = y - fy, tx = x - fx;
  if (mode == GS_LINEAR)
    return (1 - ty) * ((1 - tx) * gs_pixel(pl, y0, x0) + tx * gs_pixel(pl, y0, x0 + 1)) +
           ty * ((1 - tx) * gs_pixel(pl, y0 + 1, x0) + tx * gs_pixel(pl, y0 + 1, x0 + 1));
  double cy[4], cx[4], v = 0;
  gs_cubic_coeffs(ty, cy);
  gs_cubic_coeffs(tx, cx);
  for (int i = 0; i < 4; i++) {
    double row = 0;
    for (int j = 0; j < 4; j++) row += cx[j] * gs_pixel(pl, y0 - 1 + i, x0 - 1 + j);
    v += cy[i] * row;
  }
  return v;
}

/* A sample coordinate along a dim of `size`: denormalized, rounded for
 * nearest mode, then clamped or reflected when it falls outside. NaN reads
 * as far outside; what stays outside (zeros padding) is pulled in to a few
 * pixels beyond the border, which samples the same zeros and keeps the
 * integer conversions defined. */
static float gs_coord(const gs_plan *p, const gs_plane *pl, float g, int64_t size, int dim) {
  float lo = pl->lo[dim], hi = pl->hi[dim];
  float v = gs_denormalize(g, size, p->align_corners);
  if (isnan(v)) v = lo - 8;
  if (p->mode == GS_NEAREST) v = nearbyintf(v);
  if (v < lo || v > hi) {
    if (p->pad == GS_BORDER) v = v < 0 ? 0 : v > (float)(size - 1) ? (float)(size - 1) : v;
    if (p->pad == GS_REFLECTION) v = gs_reflect(v, lo, hi);
  }
  return v < lo - 8 ? lo - 8 : v > hi + 8 ? hi + 8 : v;
}

int pare_misc_gridsample_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                              pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  gs_plan p;
  if (gs_plan_make(node, &p, err)) return PARE_ERR;
  const pare_tensor *x = in[0], *grid = in[1];
  int64_t n = x->shape.dims[0], c = x->shape.dims[1], h = x->shape.dims[2], w = x->shape.dims[3];
  int64_t ho = grid->shape.dims[1], wo = grid->shape.dims[2];
  gs_plane pl = {.x = x, .h = h, .w = w, .pad = p.pad};
  int64_t sizes[2] = {h, w};
  for (int d = 0; d < 2; d++) {
    pl.lo[d] = p.align_corners ? 0.0f : -0.5f;
    pl.hi[d] = p.align_corners ? (float)(sizes[d] - 1) : (float)sizes[d] - 0.5f;
  }
  for (int64_t b = 0; b < n; b++) {
    for (int64_t i = 0; i < ho * wo; i++) {
      int64_t g = (b * ho * wo + i) * 2;
      float sx = gs_coord(&p, &pl, (float)pare_tensor_get_f64(grid, g), w, 1);
      float sy = gs_coord(&p, &pl, (float)pare_tensor_get_f64(grid, g + 1), h, 0);
      for (int64_t ch = 0; ch < c; ch++) {
        pl.base = (b * c + ch) * h * w;
        pare_tensor_set_f64(&out[0], (b * c + ch) * ho * wo + i, gs_sample(&pl, p.mode, sy, sx));
      }
    }
  }
  return PARE_OK;
}

/* ------------------------------------------------------------- RoiAlign */

/* Bound on samples per output bin: a corrupt ROI must not ask for an
 * unbounded allocation (a real bin of 4096x4096 input pixels fits). */
#define ROI_MAX_SAMPLES (1 << 24)

typedef struct roi_plan {
  int max_mode;
  int half_pixel;
  int64_t out_h, out_w, sampling_ratio;
  double spatial_scale;
} roi_plan;

static int roi_plan_make(const pare_node *node, roi_plan *p, pare_err *err) {
  const char *mode = pare_attr_string(node, "mode", "avg");
  const char *ctm = pare_attr_string(node, "coordinate_transformation_mode", "half_pixel");
  if (strcmp(mode, "avg") != 0 && strcmp(mode, "max") != 0)
    return pare_errf(err, "RoiAlign: unknown mode '%s'", mode);
  if (strcmp(ctm, "half_pixel") != 0 && strcmp(ctm, "output_half_pixel") != 0)
    return pare_errf(err, "RoiAlign: unknown coordinate_transformation_mode '%s'", ctm);
  p->max_mode = strcmp(mode, "max") == 0;
  p->half_pixel = strcmp(ctm, "half_pixel") == 0;
  p->out_h = pare_attr_int(node, "output_height", 1);
  p->out_w = pare_attr_int(node, "output_width", 1);
  p->sampling_ratio = pare_attr_int(node, "sampling_ratio", 0);
  p->spatial_scale = pare_attr_float(node, "spatial_scale", 1.0f);
  if (p->out_h < 1 || p->out_w < 1)
    return pare_errf(err, "RoiAlign: output_height and output_width must be >= 1");
  if (p->sampling_ratio < 0) return pare_errf(err, "RoiAlign: sampling_ratio must be >= 0");
  return PARE_OK;
}

int pare_misc_roialign_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                             pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  roi_plan p;
  if (roi_plan_make(node, &p, err)) return PARE_ERR;
  for (int i = 0; i < 3; i++)
    if (pare_need_input(in, n_in, i, err)) return pare_err_prefix(err, "RoiAlign");
  const pare_tensor *x = in[0], *rois = in[1], *bi = in[2];
  if (!is_f32_or_f64(x->dtype) || rois->dtype != x->dtype)
    return pare_errf(err, "RoiAlign: X and rois must share a float dtype, got %s and %s",
                     pare_dtype_name(x->dtype), pare_dtype_name(rois->dtype));
  if (!pare_dtype_is_int(bi->dtype))
    return pare_errf(err, "RoiAlign: batch_indices must be an integer tensor");
  if (x->shape.rank >= 0 && x->shape.rank != 4)
    return pare_errf(err, "RoiAlign: X has rank %d, expected 4", x->shape.rank);
  if (rois->shape.rank >= 0 &&
      (rois->shape.rank != 2 || (rois->shape.dims[1] >= 0 && rois->shape.dims[1] != 4)))
    return pare_errf(err, "RoiAlign: rois must be [num_rois, 4]");
  if (bi->shape.rank >= 0 && bi->shape.rank != 1)
    return pare_errf(err, "RoiAlign: batch_indices must be 1-D");
  int64_t r = rois->shape.rank == 2 ? rois->shape.dims[0] : -1;
  int64_t rb = bi->shape.rank == 1 ? bi->shape.dims[0] : -1;
  if (r >= 0 && rb >= 0 && r != rb)
    return pare_errf(err, "RoiAlign: %lld rois but %lld batch indices", (long long)r,
                     (long long)rb);
  int64_t dims[4] = {r >= 0 ? r : rb, x->shape.rank == 4 ? x->shape.dims[1] : -1, p.out_h, p.out_w};
  out[0].dtype = x->dtype;
  out[0].shape = pare_shape_make(4, dims);
  return pare_shape_is_static(&out[0].shape) ? PARE_OK : PARE_UNKNOWN;
}

/* Bilinear tap of one sample point: four flat positions and weights. */
typedef struct roi_tap {
  int64_t pos[4];
  double w[4];
} roi_tap;

/* Sample at (y, x) of an h x w plane; points beyond one pixel outside the
 * plane get zero weights. */
static roi_tap roi_tap_at(double y, double x, int64_t h, int64_t w) {
  roi_tap t;
  memset(&t, 0, sizeof t);
  /* Written so that NaN coordinates fail too. */
  if (!(y >= -1.0 && y <= (double)h && x >= -1.0 && x <= (double)w)) return t;
  if (y < 0) y = 0;
  if (x < 0) x = 0;
  int64_t y_lo = (int64_t)y, x_lo = (int64_t)x, y_hi, x_hi;
  if (y_lo >= h - 1) {
    y_hi = y_lo = h - 1;
    y = (double)y_lo;
  } else {
    y_hi = y_lo + 1;
  }
  if (x_lo >= w - 1) {
    x_hi = x_lo = w - 1;
    x = (double)x_lo;
  } else {
    x_hi = x_lo + 1;
  }
  double ly = y - (double)y_lo, lx = x - (double)x_lo, hy = 1 - ly, hx = 1 - lx;
  t.pos[0] = y_lo * w + x_lo;
  t.pos[1] = y_lo * w + x_hi;
  t.pos[2] = y_hi * w + x_lo;
  t.pos[3] = y_hi * w + x_hi;
  t.w[0] = hy * hx;
  t.w[1] = hy * lx;
  t.w[2] = ly * hx;
  t.w[3] = ly * lx;
  return t;
}

/* Pools one output bin of one channel from its sample taps. */
static double roi_pool(const roi_plan *p, const pare_tensor *x, int64_t base, const roi_tap *taps,
                       int64_t n_taps) {
  double acc = 0;
  for (int64_t s = 0; s < n_taps; s++) {
    const roi_tap *t = &taps[s];
    if (!p->max_mode) {
      for (int k = 0; k < 4; k++) acc += t->w[k] * pare_tensor_get_f64(x, base + t->pos[k]);
      continue;
    }
    double v = t->w[0] * pare_tensor_get_f64(x, base + t->pos[0]);
    for (int k = 1; k < 4; k++) v = fmax(v, t->w[k] * pare_tensor_get_f64(x, base + t->pos[k]));
    acc = s == 0 ? v : fmax(acc, v);
  }
  if (!p->max_mode) acc /= (double)(n_taps > 0 ? n_taps : 1);
  return acc;
}

int pare_misc_roialign_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                            pare_tensor *out, int n_out, pare_err *err) {
  (void)n_in, (void)n_out;
  roi_plan p;
  if (roi_plan_make(node, &p, err)) return PARE_ERR;
  const pare_tensor *x = in[0], *rois = in[1], *bi = in[2];
  int64_t n = x->shape.dims[0], c = x->shape.dims[1], h = x->shape.dims[2], w = x->shape.dims[3];
  int64_t n_rois = out[0].shape.dims[0], ph = p.out_h, pw = p.out_w;
  double offset = p.half_pixel ? 0.5 : 0.0;
  int rc = PARE_OK;
  roi_tap *taps = NULL;
  for (int64_t r = 0; r < n_rois && rc == PARE_OK; r++) {
    int64_t b = pare_tensor_get_i64(bi, r);
    if (b < 0 || b >= n) {
      rc = pare_errf(err, "RoiAlign: batch index %lld out of range [0, %lld)", (long long)b,
                     (long long)n);
      break;
    }
    double x0 = pare_tensor_get_f64(rois, r * 4 + 0) * p.spatial_scale - offset;
    double y0 = pare_tensor_get_f64(rois, r * 4 + 1) * p.spatial_scale - offset;
    double x1 = pare_tensor_get_f64(rois, r * 4 + 2) * p.spatial_scale - offset;
    double y1 = pare_tensor_get_f64(rois, r * 4 + 3) * p.spatial_scale - offset;
    double roi_w = x1 - x0, roi_h = y1 - y0;
    if (!p.half_pixel) { /* legacy: malformed rois become 1x1 */
      roi_w = fmax(roi_w, 1.0);
      roi_h = fmax(roi_h, 1.0);
    }
    double bin_h = roi_h / (double)ph, bin_w = roi_w / (double)pw;
    /* Adaptive sampling: about one sample per input pixel of a bin. */
    double gh = p.sampling_ratio > 0 ? (double)p.sampling_ratio : ceil(roi_h / (double)ph);
    double gw = p.sampling_ratio > 0 ? (double)p.sampling_ratio : ceil(roi_w / (double)pw);
    gh = gh > 0 ? gh : 0; /* an inverted (or NaN) roi takes no samples */
    gw = gw > 0 ? gw : 0;
    if (gh > ROI_MAX_SAMPLES || gw > ROI_MAX_SAMPLES || gh * gw > ROI_MAX_SAMPLES) {
      rc = pare_errf(err, "RoiAlign: roi %lld needs more than %d samples per bin", (long long)r,
                     ROI_MAX_SAMPLES);
      break;
    }
    int64_t grid_h = (int64_t)gh, grid_w = (int64_t)gw;
    int64_t n_taps = grid_h * grid_w;
    roi_tap *grown = realloc(taps, (size_t)(n_taps > 0 ? n_taps : 1) * sizeof *taps);
    if (!grown) {
      rc = pare_errf(err, "RoiAlign: out of memory");
      break;
    }
    taps = grown;
    for (int64_t oy = 0; oy < ph; oy++) {
      for (int64_t ox = 0; ox < pw; ox++) {
        for (int64_t iy = 0; iy < grid_h; iy++) {
          double sy = y0 + (double)oy * bin_h + ((double)iy + 0.5) * bin_h / (double)grid_h;
          for (int64_t ix = 0; ix < grid_w; ix++) {
            double sx = x0 + (double)ox * bin_w + ((double)ix + 0.5) * bin_w / (double)grid_w;
            taps[iy * grid_w + ix] = roi_tap_at(sy, sx, h, w);
          }
        }
        for (int64_t ch = 0; ch < c; ch++) {
          double v = roi_pool(&p, x, (b * c + ch) * h * w, taps, n_taps);
          pare_tensor_set_f64(&out[0], ((r * c + ch) * ph + oy) * pw + ox, v);
        }
      }
    }
  }
  free(taps);
  return rc;
}
