/*
 * nn_conv.c - Conv and ConvTranspose (f32, any number of spatial dims).
 *
 * Both lower to the blocked GEMM of nn.c per (batch, group):
 *   Conv:          Y_g[Mg][P] = W_g[Mg][Cg*K] x im2col(X_g)[Cg*K][P]
 *   ConvTranspose: col[Mg*K][Pin] = W_g^T x X_g[Cg][Pin], scattered into Y_g
 * where K is the kernel volume. The column buffer covers a band of whole
 * rows (all spatial dims but the last) so its size stays bounded.
 */
#include "ops/nn_internal.h"

#include <stdlib.h>
#include <string.h>

static const pare_dtype f32_only[] = {PARE_F32, 0};

/* Column-buffer budget in floats (4 MiB): large enough for long GEMM rows. */
enum { COL_BUDGET = 1 << 20 };

typedef struct conv_plan {
  nn_window w;
  int64_t N, C, M, group, Cg, Mg;
  int64_t kvol;    /* product of kernel dims */
  int64_t in_vol;  /* product of input spatial dims */
  int64_t out_vol; /* product of output spatial dims */
} conv_plan;

static int64_t prod(const int64_t *d, int n) {
  int64_t p = 1;
  for (int i = 0; i < n; i++) p *= d[i];
  return p;
}

/* Shared checks of X, W, B and group. transpose: W is [C, M/group, k...]. */
static int check_operands(const char *op, const pare_node *node, const pare_tensor *const *in,
                          int n_in, int transpose, conv_plan *p, pare_err *err) {
  if (pare_nn_need_dtype(op, in, n_in, 0, f32_only, err) ||
      pare_nn_need_dtype(op, in, n_in, 1, f32_only, err))
    return PARE_ERR;
  const pare_shape *xs = &in[0]->shape, *ws = &in[1]->shape;
  if (xs->rank < 0 || ws->rank < 0) return PARE_UNKNOWN;
  if (xs->rank < 3)
    return pare_errf(err, "%s: X has rank %d, expected at least 3 (N, C, spatial...)", op,
                     xs->rank);
  if (ws->rank != xs->rank)
    return pare_errf(err, "%s: W has rank %d, X has rank %d", op, ws->rank, xs->rank);
  p->group = pare_attr_int(node, "group", 1);
  if (p->group < 1) return pare_errf(err, "%s: group %lld must be >= 1", op, (long long)p->group);
  p->N = xs->dims[0];
  p->C = xs->dims[1];
  int64_t w0 = ws->dims[0], w1 = ws->dims[1];
  if (!transpose) {
    p->M = w0;
    if (w0 >= 0 && w0 % p->group)
      return pare_errf(err, "%s: W has %lld output channels, not divisible by group %lld", op,
                       (long long)w0, (long long)p->group);
    if (p->C >= 0 && w1 >= 0 && w1 * p->group != p->C)
      return pare_errf(err, "%s: W has %lld input channels, X has %lld with group %lld", op,
                       (long long)(w1 * p->group), (long long)p->C, (long long)p->group);
  } else {
    p->M = w1 < 0 ? -1 : w1 * p->group;
    if (p->C >= 0 && w0 >= 0 && w0 != p->C)
      return pare_errf(err, "%s: W has %lld input channels, X has %lld", op, (long long)w0,
                       (long long)p->C);
    if (p->C >= 0 && p->C % p->group)
      return pare_errf(err, "%s: X has %lld channels, not divisible by group %lld", op,
                       (long long)p->C, (long long)p->group);
  }
  p->Cg = p->C < 0 ? -1 : p->C / p->group;
  p->Mg = p->M < 0 ? -1 : p->M / p->group;
  int nsp = xs->rank - 2;
  const int64_t *ks;
  int64_t nk = pare_attr_ints(node, "kernel_shape", &ks);
  if (nk >= 0) {
    if (nk != nsp)
      return pare_errf(err, "%s: kernel_shape has %lld values, expected %d", op, (long long)nk,
                       nsp);
    for (int i = 0; i < nsp; i++)
      if (ws->dims[2 + i] >= 0 && ks[i] != ws->dims[2 + i]) {
        char a[96], b[96];
        pare_nn_dims_str(ks, nsp, a, sizeof a);
        pare_nn_dims_str(ws->dims + 2, nsp, b, sizeof b);
        return pare_errf(err, "%s: kernel_shape %s does not match W kernel %s", op, a, b);
      }
  }
  if (n_in > 2 && in[2]) {
    if (pare_nn_need_dtype(op, in, n_in, 2, f32_only, err)) return PARE_ERR;
    const pare_shape *bs = &in[2]->shape;
    if (bs->rank >= 0 &&
        (bs->rank != 1 || (p->M >= 0 && bs->dims[0] >= 0 && bs->dims[0] != p->M))) {
      char s[128];
      pare_shape_str(bs, s, sizeof s);
      return pare_errf(err, "%s: B has shape %s, expected [%lld]", op, s, (long long)p->M);
    }
  }
  return PARE_OK;
}

/* Fills each of the m rows of y (row length len) with bias[row], or zero. */
static void fill_bias(float *y, const float *bias, int64_t m, int64_t len) {
  for (int64_t r = 0; r < m; r++) {
    float b = bias ? bias[r] : 0.0f;
    for (int64_t i = 0; i < len; i++) y[r * len + i] = b;
  }
}

/* ---------------------------------------------------------------- Conv */

static int conv_prepare(const pare_node *node, const pare_tensor *const *in, int n_in, conv_plan *p,
                        pare_shape *y, pare_err *err) {
  memset(p, 0, sizeof *p);
  int rc = check_operands("Conv", node, in, n_in, 0, p, err);
  if (rc == PARE_UNKNOWN) {
    *y = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  if (rc) return rc;
  const pare_shape *xs = &in[0]->shape;
  int nsp = xs->rank - 2;
  /* W's kernel dims, or kernel_shape where W's are unknown (shape inference). */
  int64_t kernel[PARE_MAX_RANK];
  const int64_t *ks;
  int64_t nk = pare_attr_ints(node, "kernel_shape", &ks);
  for (int i = 0; i < nsp; i++) {
    kernel[i] = in[1]->shape.dims[2 + i];
    if (kernel[i] < 0 && nk == nsp) kernel[i] = ks[i];
  }
  if (pare_nn_window(node, "Conv", xs, kernel, 0, &p->w, err)) return PARE_ERR;
  *y = pare_shape_make(xs->rank, NULL);
  y->dims[0] = p->N;
  y->dims[1] = p->M;
  for (int i = 0; i < nsp; i++) y->dims[2 + i] = p->w.out[i];
  p->kvol = prod(p->w.kernel, nsp);
  p->in_vol = prod(p->w.in, nsp);
  p->out_vol = prod(p->w.out, nsp);
  return pare_shape_is_static(y) ? PARE_OK : PARE_UNKNOWN;
}

int pare_nn_infer_Conv(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  conv_plan p;
  out[0].dtype = PARE_F32;
  return conv_prepare(node, in, n_in, &p, &out[0].shape, err);
}

/* Next index of an odometer over dims[0..n). */
static void odometer_next(int64_t *idx, const int64_t *dims, int n) {
  for (int d = n - 1; d >= 0; d--) {
    if (++idx[d] < dims[d]) return;
    idx[d] = 0;
  }
}

/* Range [*lo, *hi) of i in [0, n) with 0 <= i * s + off < limit. */
static void valid_range(int64_t n, int64_t s, int64_t off, int64_t limit, int64_t *lo,
                        int64_t *hi) {
  int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t b = limit - off > 0 ? (limit - off + s - 1) / s : 0;
  if (a > n) a = n;
  if (b > n) b = n;
  if (b < a) b = a;
  *lo = a;
  *hi = b;
}

/*
 * im2col for output rows [r0, r0 + nrows) (a row spans the last spatial dim)
 * of one group: col[(c * kvol + kk)][t], t over the band's output positions.
 */
static void im2col(const conv_plan *p, const float *xg, int64_t r0, int64_t nrows, float *col) {
  const nn_window *w = &p->w;
  int last = w->nsp - 1;
  int64_t wout = w->out[last], win = w->in[last], s = w->stride[last];
  int64_t band = nrows * wout;
  int64_t istr[PARE_MAX_RANK];
  istr[last] = 1;
  for (int d = last - 1; d >= 0; d--) istr[d] = istr[d + 1] * w->in[d + 1];
  for (int64_t c = 0; c < p->Cg; c++) {
    const float *xc = xg + c * p->in_vol;
    int64_t kidx[PARE_MAX_RANK] = {0};
    for (int64_t kk = 0; kk < p->kvol; kk++, odometer_next(kidx, w->kernel, w->nsp)) {
      float *dst = col + (c * p->kvol + kk) * band;
      int64_t off = kidx[last] * w->dil[last] - w->pad_lo[last];
      int64_t lo, hi;
      valid_range(wout, s, off, win, &lo, &hi);
      for (int64_t r = r0; r < r0 + nrows; r++, dst += wout) {
        int64_t rem = r, base = 0;
        int inside = 1;
        for (int d = last - 1; d >= 0; d--) {
          int64_t o = rem % w->out[d];
          rem /= w->out[d];
          int64_t i = o * w->stride[d] + kidx[d] * w->dil[d] - w->pad_lo[d];
          if (i < 0 || i >= w->in[d]) {
            inside = 0;
            break;
          }
          base += i * istr[d];
        }
        if (!inside || lo == hi) {
          memset(dst, 0, sizeof(float) * (size_t)wout);
          continue;
        }
        for (int64_t ox = 0; ox < lo; ox++) dst[ox] = 0;
        const float *src = xc + base;
        if (s == 1)
          memcpy(dst + lo, src + lo + off, sizeof(float) * (size_t)(hi - lo));
        else
          for (int64_t ox = lo; ox < hi; ox++) dst[ox] = src[ox * s + off];
        for (int64_t ox = hi; ox < wout; ox++) dst[ox] = 0;
      }
    }
  }
}

/*
 * Depthwise conv (one input channel per group): each kernel tap adds a scaled,
 * strided input row to an output row, so no im2col and no GEMM with M = 1.
 */
static void conv_depthwise(const conv_plan *p, const float *xc, const float *wm, float *ym) {
  const nn_window *w = &p->w;
  int last = w->nsp - 1;
  int64_t wout = w->out[last], win = w->in[last], s = w->stride[last];
  int64_t rows = p->out_vol / wout;
  int64_t istr[PARE_MAX_RANK];
  istr[last] = 1;
  for (int d = last - 1; d >= 0; d--) istr[d] = istr[d + 1] * w->in[d + 1];
  int64_t kidx[PARE_MAX_RANK] = {0};
  for (int64_t kk = 0; kk < p->kvol; kk++, odometer_next(kidx, w->kernel, w->nsp)) {
    float wv = wm[kk];
    int64_t off = kidx[last] * w->dil[last] - w->pad_lo[last];
    int64_t lo, hi;
    valid_range(wout, s, off, win, &lo, &hi);
    if (lo == hi) continue;
    for (int64_t r = 0; r < rows; r++) {
      int64_t rem = r, base = 0;
      int inside = 1;
      for (int d = last - 1; d >= 0; d--) {
        int64_t o = rem % w->out[d];
        rem /= w->out[d];
        int64_t i = o * w->stride[d] + kidx[d] * w->dil[d] - w->pad_lo[d];
        if (i < 0 || i >= w->in[d]) {
          inside = 0;
          break;
        }
        base += i * istr[d];
      }
      if (!inside) continue;
      const float *src = xc + base + lo * s + off;
      float *dst = ym + r * wout;
      if (s == 1)
        for (int64_t ox = lo; ox < hi; ox++) dst[ox] += wv * src[ox - lo];
      else
        for (int64_t ox = lo; ox < hi; ox++) dst[ox] += wv * src[(ox - lo) * s];
    }
  }
}

int pare_nn_eval_Conv(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  conv_plan p;
  pare_shape ys;
  int rc = conv_prepare(node, in, n_in, &p, &ys, err);
  if (rc) return rc == PARE_UNKNOWN ? pare_errf(err, "Conv: input shapes not static") : rc;
  const float *x = in[0]->data, *wt = in[1]->data;
  const float *bias = n_in > 2 && in[2] ? in[2]->data : NULL;
  float *y = out[0].data;
  if (p.N == 0 || p.M == 0 || p.out_vol == 0) return PARE_OK;
  const nn_window *w = &p.w;
  int nsp = w->nsp;
  int64_t kdim = p.Cg * p.kvol;
  int pointwise = 1;
  for (int i = 0; i < nsp; i++)
    if (w->kernel[i] != 1 || w->stride[i] != 1 || w->pad_lo[i] || w->pad_hi[i]) pointwise = 0;
  int64_t wout = w->out[nsp - 1], rows = p.out_vol / wout;
  int64_t band_rows = kdim > 0 ? COL_BUDGET / (kdim * wout) : rows;
  if (band_rows < 1) band_rows = 1;
  if (band_rows > rows) band_rows = rows;
  float *col = NULL;
  if (!pointwise && p.Cg > 1) {
    col = malloc(sizeof(float) * (size_t)(kdim * band_rows * wout));
    if (!col) return pare_errf(err, "Conv: out of memory");
  }
  for (int64_t n = 0; n < p.N; n++) {
    for (int64_t g = 0; g < p.group; g++) {
      const float *xg = x + (n * p.C + g * p.Cg) * p.in_vol;
      const float *wg = wt + g * p.Mg * kdim;
      float *yg = y + (n * p.M + g * p.Mg) * p.out_vol;
      fill_bias(yg, bias ? bias + g * p.Mg : NULL, p.Mg, p.out_vol);
      if (kdim == 0) continue;
      if (p.Cg == 1 && !pointwise) {
        for (int64_t m = 0; m < p.Mg; m++)
          conv_depthwise(&p, xg, wg + m * kdim, yg + m * p.out_vol);
        continue;
      }
      if (pointwise) {
        pare_nn_sgemm(p.Mg, p.out_vol, p.Cg, wg, kdim, xg, p.in_vol, yg, p.out_vol);
        continue;
      }
      for (int64_t r0 = 0; r0 < rows; r0 += band_rows) {
        int64_t nr = rows - r0 < band_rows ? rows - r0 : band_rows;
        im2col(&p, xg, r0, nr, col);
        pare_nn_sgemm(p.Mg, nr * wout, kdim, wg, kdim, col, nr * wout, yg + r0 * wout, p.out_vol);
      }
    }
  }
  free(col);
  return PARE_OK;
}

/* ------------------------------------------------------- ConvTranspose */

static int convt_prepare(const pare_node *node, const pare_tensor *const *in, int n_in,
                         conv_plan *p, pare_shape *y, pare_err *err) {
  const char *op = "ConvTranspose";
  memset(p, 0, sizeof *p);
  int rc = check_operands(op, node, in, n_in, 1, p, err);
  if (rc == PARE_UNKNOWN) {
    *y = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  if (rc) return rc;
  const pare_shape *xs = &in[0]->shape;
  nn_window *w = &p->w;
  int nsp = xs->rank - 2;
  w->nsp = nsp;
  int64_t pads[2 * PARE_MAX_RANK], opad[PARE_MAX_RANK];
  if (pare_nn_ints_attr(node, op, "strides", nsp, 1, 1, w->stride, err) ||
      pare_nn_ints_attr(node, op, "dilations", nsp, 1, 1, w->dil, err) ||
      pare_nn_ints_attr(node, op, "pads", 2 * nsp, 0, 0, pads, err) ||
      pare_nn_ints_attr(node, op, "output_padding", nsp, 0, 0, opad, err))
    return PARE_ERR;
  const int64_t *oshape;
  int64_t n_os = pare_attr_ints(node, "output_shape", &oshape);
  if (n_os == nsp + 2) {
    oshape += 2; /* some exporters give the full [N, M, spatial...] */
    n_os = nsp;
  }
  if (n_os >= 0 && n_os != nsp)
    return pare_errf(err, "%s: output_shape has %lld values, expected %d", op, (long long)n_os,
                     nsp);
  const char *auto_pad = pare_attr_string(node, "auto_pad", "NOTSET");
  int same_upper = strcmp(auto_pad, "SAME_UPPER") == 0;
  int same = same_upper || strcmp(auto_pad, "SAME_LOWER") == 0;
  int valid = strcmp(auto_pad, "VALID") == 0;
  if (!same && !valid && strcmp(auto_pad, "NOTSET") != 0)
    return pare_errf(err, "%s: unknown auto_pad '%s'", op, auto_pad);
  *y = pare_shape_make(xs->rank, NULL);
  y->dims[0] = p->N;
  y->dims[1] = p->M;
  for (int i = 0; i < nsp; i++) {
    int64_t in_d = xs->dims[2 + i], k = in[1]->shape.dims[2 + i], s = w->stride[i];
    w->in[i] = in_d;
    w->kernel[i] = k;
    if (in_d < 0 || k < 0) {
      w->out[i] = y->dims[2 + i] = -1;
      continue;
    }
    if (k == 0) return pare_errf(err, "%s: kernel dim 0", op);
    int64_t full = s * (in_d - 1) + opad[i] + (k - 1) * w->dil[i] + 1;
    if (n_os >= 0 || same) {
      int64_t target = n_os >= 0 ? oshape[i] : in_d * s;
      int64_t total = full - target;
      int64_t half = total >= 0 ? total / 2 : -((1 - total) / 2); /* floor(total / 2) */
      w->pad_lo[i] = same_upper ? half : total - half;
      w->pad_hi[i] = total - w->pad_lo[i];
      w->out[i] = target;
    } else {
      if (!valid) {
        w->pad_lo[i] = pads[i];
        w->pad_hi[i] = pads[nsp + i];
      }
      w->out[i] = full - w->pad_lo[i] - w->pad_hi[i];
    }
    if (w->out[i] < 1)
      return pare_errf(err, "%s: output dim %d would be %lld", op, i, (long long)w->out[i]);
    y->dims[2 + i] = w->out[i];
  }
  p->kvol = prod(w->kernel, nsp);
  p->in_vol = prod(w->in, nsp);
  p->out_vol = prod(w->out, nsp);
  return pare_shape_is_static(y) ? PARE_OK : PARE_UNKNOWN;
}

int pare_nn_infer_ConvTranspose(const pare_node *node, const pare_tensor *const *in, int n_in,
                                pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  conv_plan p;
  out[0].dtype = PARE_F32;
  return convt_prepare(node, in, n_in, &p, &out[0].shape, err);
}

/* Scatter-adds col[(m * kvol + kk)][t] (t over input rows [r0, r0 + nrows)) into yg. */
static void col2im(const conv_plan *p, const float *col, int64_t r0, int64_t nrows, float *yg) {
  const nn_window *w = &p->w;
  int last = w->nsp - 1;
  int64_t win = w->in[last], wout = w->out[last], s = w->stride[last];
  int64_t band = nrows * win;
  int64_t ostr[PARE_MAX_RANK];
  ostr[last] = 1;
  for (int d = last - 1; d >= 0; d--) ostr[d] = ostr[d + 1] * w->out[d + 1];
  for (int64_t m = 0; m < p->Mg; m++) {
    float *ym = yg + m * p->out_vol;
    int64_t kidx[PARE_MAX_RANK] = {0};
    for (int64_t kk = 0; kk < p->kvol; kk++, odometer_next(kidx, w->kernel, w->nsp)) {
      const float *src = col + (m * p->kvol + kk) * band;
      int64_t off = kidx[last] * w->dil[last] - w->pad_lo[last];
      int64_t lo, hi;
      valid_range(win, s, off, wout, &lo, &hi);
      if (lo == hi) continue;
      for (int64_t r = r0; r < r0 + nrows; r++, src += win) {
        int64_t rem = r, base = 0;
        int inside = 1;
        for (int d = last - 1; d >= 0; d--) {
          int64_t i = rem % w->in[d];
          rem /= w->in[d];
          int64_t o = i * w->stride[d] + kidx[d] * w->dil[d] - w->pad_lo[d];
          if (o < 0 || o >= w->out[d]) {
            inside = 0;
            break;
          }
          base += o * ostr[d];
        }
        if (!inside) continue;
        float *dst = ym + base;
        for (int64_t ix = lo; ix < hi; ix++) dst[ix * s + off] += src[ix];
      }
    }
  }
}

int pare_nn_eval_ConvTranspose(const pare_node *node, const pare_tensor *const *in, int n_in,
                               pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  conv_plan p;
  pare_shape ys;
  int rc = convt_prepare(node, in, n_in, &p, &ys, err);
  if (rc) return rc == PARE_UNKNOWN ? pare_errf(err, "ConvTranspose: input shapes not static") : rc;
  const float *x = in[0]->data, *wt = in[1]->data;
  const float *bias = n_in > 2 && in[2] ? in[2]->data : NULL;
  float *y = out[0].data;
  if (p.N == 0 || p.M == 0) return PARE_OK;
  const nn_window *w = &p.w;
  int nsp = w->nsp;
  int64_t kdim = p.Mg * p.kvol; /* rows of col */
  int64_t win = w->in[nsp - 1], rows = win ? p.in_vol / win : 0;
  int64_t band_rows = kdim > 0 && win > 0 ? COL_BUDGET / (kdim * win) : rows;
  if (band_rows < 1) band_rows = 1;
  if (band_rows > rows) band_rows = rows;
  /* wt_t[g][kdim][Cg]: W_g transposed so the GEMM reads rows of it. */
  float *wt_t = malloc(sizeof(float) * (size_t)(p.C * kdim + 1));
  float *col = malloc(sizeof(float) * (size_t)(kdim * band_rows * win + 1));
  if (!wt_t || !col) {
    free(wt_t);
    free(col);
    return pare_errf(err, "ConvTranspose: out of memory");
  }
  for (int64_t g = 0; g < p.group; g++)
    for (int64_t c = 0; c < p.Cg; c++)
      for (int64_t j = 0; j < kdim; j++)
        wt_t[g * kdim * p.Cg + j * p.Cg + c] = wt[(g * p.Cg + c) * kdim + j];
  for (int64_t n = 0; n < p.N; n++) {
    for (int64_t g = 0; g < p.group; g++) {
      const float *xg = x + (n * p.C + g * p.Cg) * p.in_vol;
      float *yg = y + (n * p.M + g * p.Mg) * p.out_vol;
      fill_bias(yg, bias ? bias + g * p.Mg : NULL, p.Mg, p.out_vol);
      if (p.Cg == 0) continue;
      for (int64_t r0 = 0; r0 < rows; r0 += band_rows) {
        int64_t nr = rows - r0 < band_rows ? rows - r0 : band_rows;
        memset(col, 0, sizeof(float) * (size_t)(kdim * nr * win));
        pare_nn_sgemm(kdim, nr * win, p.Cg, wt_t + g * kdim * p.Cg, p.Cg, xg + r0 * win, p.in_vol,
                      col, nr * win);
        col2im(&p, col, r0, nr, yg);
      }
    }
  }
  free(wt_t);
  free(col);
  return PARE_OK;
}
