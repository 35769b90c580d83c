/*
 * signal.c - ops of the signal family (infer + reference eval): DFT, STFT,
 * HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix.
 *
 * Complex tensors are real tensors with a trailing dim of 2 (re, im); a
 * trailing dim of 1 is a real signal. Transforms are direct O(n^2) sums in
 * double: this is the reference kernel, not a fast one. Semantics follow the
 * ONNX reference implementation where the spec is silent: onesided keeps bins
 * [0, n/2] of the full (forward or inverse) transform, and STFT's frame
 * length defaults to the window's length, then to the whole signal.
 */
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ------------------------------------------------------------- utilities */

static int is_float(pare_dtype dt) {
  return dt == PARE_F32 || dt == PARE_F64;
}

/* Reads a scalar (or one-element) integer input. PARE_UNKNOWN if its value
 * is not known yet. */
static int read_int_scalar(const pare_tensor *t, const char *what, int64_t *out, pare_err *err) {
  if (!pare_dtype_is_int(t->dtype))
    return pare_errf(err, "%s must be an integer, got %s", what, pare_dtype_name(t->dtype));
  if (t->shape.rank > 1) return pare_errf(err, "%s must be a scalar", what);
  if (t->shape.rank == 1 && t->shape.dims[0] >= 0 && t->shape.dims[0] != 1)
    return pare_errf(err, "%s must hold one value", what);
  if (!t->data) return PARE_UNKNOWN;
  *out = pare_tensor_get_i64(t, 0);
  return PARE_OK;
}

static int read_float_scalar(const pare_tensor *t, const char *what, double *out, pare_err *err) {
  if (!is_float(t->dtype) && !pare_dtype_is_int(t->dtype))
    return pare_errf(err, "%s must be numeric, got %s", what, pare_dtype_name(t->dtype));
  if (t->shape.rank > 1 || (t->shape.rank == 1 && t->shape.dims[0] >= 0 && t->shape.dims[0] != 1))
    return pare_errf(err, "%s must be a scalar", what);
  if (!t->data) return PARE_UNKNOWN;
  *out = pare_tensor_get_f64(t, 0);
  return PARE_OK;
}

/* Output dtype from an output_datatype attribute: any dtype the kernels can
 * store into (floats and integers). */
static int output_dtype(const pare_node *node, const char *op, pare_dtype *out, pare_err *err) {
  int64_t v = pare_attr_int(node, "output_datatype", PARE_F32);
  pare_dtype dt = (pare_dtype)v;
  if (v < 0 || v > PARE_U64 || !(is_float(dt) || pare_dtype_is_int(dt)))
    return pare_errf(err, "%s: unsupported output_datatype %lld", op, (long long)v);
  *out = dt;
  return PARE_OK;
}

/*
 * out[k] = sum_{m < n_in} x[m] * e^(sign * 2 pi i k m / n) for k < n_out,
 * x and out interleaved (re, im). Inverse transforms pass sign = +1 and scale
 * by 1/n. The angle uses (k m) mod n so it stays exact for long signals.
 */
static void dft_direct(const double *x, int64_t n_in, int64_t n, int64_t n_out, int inverse,
                       double *out) {
  double sign = inverse ? 1.0 : -1.0, scale = inverse ? 1.0 / (double)n : 1.0;
  for (int64_t k = 0; k < n_out; k++) {
    double re = 0, im = 0;
    for (int64_t m = 0; m < n_in; m++) {
      double ang = sign * 2.0 * M_PI * (double)((k * m) % n) / (double)n;
      double c = cos(ang), s = sin(ang);
      re += x[2 * m] * c - x[2 * m + 1] * s;
      im += x[2 * m] * s + x[2 * m + 1] * c;
    }
    out[2 * k] = re * scale;
    out[2 * k + 1] = im * scale;
  }
}

/* ------------------------------------------------------------------- DFT */

typedef struct dft_plan {
  int axis;
  int64_t n;     /* transform length (dft_length), -1 if unknown */
  int64_t n_out; /* bins written along axis */
  int inverse;
} dft_plan;

static int dft_plan_make(const pare_node *node, const pare_tensor *const *in, int n_in, dft_plan *p,
                         pare_err *err) {
  if (pare_need_input(in, n_in, 0, err)) return pare_err_prefix(err, "DFT");
  const pare_tensor *x = in[0], *len = n_in > 1 ? in[1] : NULL;
  if (!is_float(x->dtype))
    return pare_errf(err, "DFT: unsupported dtype %s", pare_dtype_name(x->dtype));
  int r = x->shape.rank;
  if (r < 0) return PARE_UNKNOWN;
  if (r < 2) return pare_errf(err, "DFT: input has rank %d, expected at least 2", r);
  int64_t last = x->shape.dims[r - 1];
  if (last >= 0 && last != 1 && last != 2)
    return pare_errf(err, "DFT: last dim is %lld, expected 1 (real) or 2 (complex)",
                     (long long)last);
  int64_t axis = pare_attr_int(node, "axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r - 2)
    return pare_errf(err, "DFT: axis %lld out of range for rank %d",
                     (long long)pare_attr_int(node, "axis", 1), r);
  p->axis = (int)axis;
  p->inverse = pare_attr_int(node, "inverse", 0) != 0;
  int onesided = pare_attr_int(node, "onesided", 0) != 0;
  p->n = x->shape.dims[axis];
  int status = PARE_OK;
  if (len) {
    int rc = read_int_scalar(len, "DFT: dft_length", &p->n, err);
    if (rc == PARE_ERR) return PARE_ERR;
    if (rc == PARE_UNKNOWN)
      p->n = -1, status = PARE_UNKNOWN;
    else if (p->n < 1)
      return pare_errf(err, "DFT: dft_length must be positive, got %lld", (long long)p->n);
  }
  p->n_out = p->n < 0 ? -1 : onesided ? p->n / 2 + 1 : p->n;
  return status;
}

static int infer_dft(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  dft_plan p;
  int rc = dft_plan_make(node, in, n_in, &p, err);
  if (rc == PARE_ERR) return rc;
  out[0].dtype = in[0]->dtype;
  if (in[0]->shape.rank < 0) {
    out[0].shape = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  out[0].shape = in[0]->shape;
  out[0].shape.dims[p.axis] = p.n_out;
  out[0].shape.dims[out[0].shape.rank - 1] = 2;
  return pare_shape_is_static(&out[0].shape) ? PARE_OK : PARE_UNKNOWN;
}

static int eval_dft(const pare_node *node, const pare_tensor *const *in, int n_in, pare_tensor *out,
                    int n_out, pare_err *err) {
  (void)n_out;
  dft_plan p;
  int rc = dft_plan_make(node, in, n_in, &p, err);
  if (rc != PARE_OK) return rc == PARE_ERR ? rc : pare_errf(err, "DFT: dft_length unknown");
  const pare_tensor *x = in[0];
  const pare_shape *s = &x->shape;
  int r = s->rank;
  int64_t comps = s->dims[r - 1], len = s->dims[p.axis], outer = 1, inner = 1;
  for (int i = 0; i < p.axis; i++) outer *= s->dims[i];
  for (int i = p.axis + 1; i < r - 1; i++) inner *= s->dims[i];
  int64_t used = len < p.n ? len : p.n; /* truncate or zero-pad to n */
  double *buf = calloc((size_t)(2 * used + 2 * p.n_out + 2), sizeof(double));
  if (!buf) return pare_errf(err, "DFT: out of memory");
  double *res = buf + 2 * used;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      for (int64_t m = 0; m < used; m++) {
        int64_t at = ((o * len + m) * inner + i) * comps;
        buf[2 * m] = pare_tensor_get_f64(x, at);
        buf[2 * m + 1] = comps == 2 ? pare_tensor_get_f64(x, at + 1) : 0.0;
      }
      dft_direct(buf, used, p.n, p.n_out, p.inverse, res);
      for (int64_t k = 0; k < p.n_out; k++) {
        int64_t at = ((o * p.n_out + k) * inner + i) * 2;
        pare_tensor_set_f64(&out[0], at, res[2 * k]);
        pare_tensor_set_f64(&out[0], at + 1, res[2 * k + 1]);
      }
    }
  free(buf);
  return PARE_OK;
}

/* ------------------------------------------------------------------ STFT */

typedef struct stft_plan {
  int64_t batch, len, comps; /* signal [batch][len][comps] */
  int64_t step, frame, frames, bins;
} stft_plan;

static int stft_plan_make(const pare_node *node, const pare_tensor *const *in, int n_in,
                          stft_plan *p, pare_err *err) {
  if (pare_need_input(in, n_in, 0, err) || pare_need_input(in, n_in, 1, err))
    return pare_err_prefix(err, "STFT");
  const pare_tensor *x = in[0], *step = in[1];
  const pare_tensor *win = n_in > 2 ? in[2] : NULL, *flen = n_in > 3 ? in[3] : NULL;
  if (!is_float(x->dtype))
    return pare_errf(err, "STFT: unsupported dtype %s", pare_dtype_name(x->dtype));
  int r = x->shape.rank;
  if (r >= 0 && r != 2 && r != 3)
    return pare_errf(err, "STFT: signal has rank %d, expected 3 ([batch, length, 1 or 2])", r);
  p->batch = r >= 1 ? x->shape.dims[0] : -1;
  p->len = r >= 2 ? x->shape.dims[1] : -1;
  p->comps = r == 3 ? x->shape.dims[2] : r == 2 ? 1 : -1;
  if (p->comps >= 0 && p->comps != 1 && p->comps != 2)
    return pare_errf(err, "STFT: last dim is %lld, expected 1 (real) or 2 (complex)",
                     (long long)p->comps);
  int status = PARE_OK, rc;
  p->step = -1;
  if ((rc = read_int_scalar(step, "STFT: frame_step", &p->step, err)) == PARE_ERR) return rc;
  if (rc == PARE_UNKNOWN)
    status = PARE_UNKNOWN;
  else if (p->step < 1)
    return pare_errf(err, "STFT: frame_step must be positive, got %lld", (long long)p->step);
  int64_t win_len = -1;
  if (win) {
    if (win->dtype != x->dtype)
      return pare_errf(err, "STFT: window has dtype %s, signal has %s", pare_dtype_name(win->dtype),
                       pare_dtype_name(x->dtype));
    if (win->shape.rank >= 0 && win->shape.rank != 1)
      return pare_errf(err, "STFT: window must be 1-D, got rank %d", win->shape.rank);
    win_len = win->shape.rank == 1 ? win->shape.dims[0] : -1;
  }
  p->frame = win ? win_len : p->len;
  if (flen) {
    p->frame = -1;
    if ((rc = read_int_scalar(flen, "STFT: frame_length", &p->frame, err)) == PARE_ERR) return rc;
    if (rc == PARE_UNKNOWN)
      status = PARE_UNKNOWN;
    else if (p->frame < 1)
      return pare_errf(err, "STFT: frame_length must be positive, got %lld", (long long)p->frame);
    if (p->frame >= 0 && win_len >= 0 && win_len != p->frame)
      return pare_errf(err, "STFT: window length %lld differs from frame_length %lld",
                       (long long)win_len, (long long)p->frame);
  }
  if (p->frame == 0) return pare_errf(err, "STFT: frame length must be positive");
  if (p->frame > 0 && p->len >= 0 && p->frame > p->len)
    return pare_errf(err, "STFT: frame length %lld exceeds signal length %lld", (long long)p->frame,
                     (long long)p->len);
  p->frames = p->frame > 0 && p->len >= 0 && p->step > 0 ? (p->len - p->frame) / p->step + 1 : -1;
  int onesided = pare_attr_int(node, "onesided", 1) != 0;
  p->bins = p->frame < 0 ? -1 : onesided ? p->frame / 2 + 1 : p->frame;
  return status;
}

static int infer_stft(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  stft_plan p;
  int rc = stft_plan_make(node, in, n_in, &p, err);
  if (rc == PARE_ERR) return rc;
  int64_t dims[4] = {p.batch, p.frames, p.bins, 2};
  out[0].dtype = in[0]->dtype;
  out[0].shape = pare_shape_make(4, dims);
  return pare_shape_is_static(&out[0].shape) ? PARE_OK : PARE_UNKNOWN;
}

static int eval_stft(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  stft_plan p;
  int rc = stft_plan_make(node, in, n_in, &p, err);
  if (rc != PARE_OK) return rc == PARE_ERR ? rc : pare_errf(err, "STFT: frame sizes unknown");
  const pare_tensor *x = in[0], *win = n_in > 2 ? in[2] : NULL;
  double *buf = calloc((size_t)(2 * p.frame + 2 * p.bins), sizeof(double));
  if (!buf) return pare_errf(err, "STFT: out of memory");
  double *res = buf + 2 * p.frame;
  for (int64_t b = 0; b < p.batch; b++)
    for (int64_t f = 0; f < p.frames; f++) {
      for (int64_t m = 0; m < p.frame; m++) {
        int64_t at = (b * p.len + f * p.step + m) * p.comps;
        double w = win ? pare_tensor_get_f64(win, m) : 1.0;
        buf[2 * m] = w * pare_tensor_get_f64(x, at);
        buf[2 * m + 1] = p.comps == 2 ? w * pare_tensor_get_f64(x, at + 1) : 0.0;
      }
      dft_direct(buf, p.frame, p.frame, p.bins, 0, res);
      for (int64_t k = 0; k < 2 * p.bins; k++)
        pare_tensor_set_f64(&out[0], (b * p.frames + f) * p.bins * 2 + k, res[k]);
    }
  free(buf);
  return PARE_OK;
}

/* --------------------------------------------------------------- windows */

typedef enum window_kind { WIN_HANN, WIN_HAMMING, WIN_BLACKMAN } window_kind;

static const char *const window_ops[] = {"HannWindow", "HammingWindow", "BlackmanWindow"};

static int window_size(window_kind kind, const pare_tensor *const *in, int n_in, int64_t *size,
                       pare_err *err) {
  const char *op = window_ops[kind];
  if (pare_need_input(in, n_in, 0, err)) return pare_err_prefix(err, "%s", op);
  int rc = read_int_scalar(in[0], "size", size, err);
  if (rc == PARE_ERR) return pare_err_prefix(err, "%s", op);
  if (rc == PARE_OK && *size < 0)
    return pare_errf(err, "%s: size must be >= 0, got %lld", op, (long long)*size);
  return rc;
}

static int window_infer(window_kind kind, const pare_node *node, const pare_tensor *const *in,
                        int n_in, pare_tensor *out, pare_err *err) {
  int64_t size = -1;
  int rc = window_size(kind, in, n_in, &size, err);
  if (rc == PARE_ERR || output_dtype(node, window_ops[kind], &out[0].dtype, err)) return PARE_ERR;
  out[0].shape = pare_shape_make(1, &size);
  return rc;
}

/* Generalized cosine windows: a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N),
 * N = size (periodic) or size - 1 (symmetric). A symmetric window of one
 * point is 1 (N = 0 would divide by zero). */
static int window_eval(window_kind kind, const pare_node *node, const pare_tensor *const *in,
                       int n_in, pare_tensor *out, pare_err *err) {
  static const double coef[3][3] = {
      {0.5, 0.5, 0.0}, {25.0 / 46.0, 21.0 / 46.0, 0.0}, {0.42, 0.5, 0.08}};
  int64_t size;
  int rc = window_size(kind, in, n_in, &size, err);
  if (rc != PARE_OK)
    return rc == PARE_ERR ? rc : pare_errf(err, "%s: size unknown", window_ops[kind]);
  int periodic = pare_attr_int(node, "periodic", 1) != 0;
  double period = (double)(periodic ? size : size - 1);
  const double *a = coef[kind];
  for (int64_t i = 0; i < size; i++) {
    double v = 1.0;
    if (period > 0) {
      double t = 2.0 * M_PI * (double)i / period;
      v = a[0] - a[1] * cos(t) + a[2] * cos(2 * t);
    }
    pare_tensor_set_f64(&out[0], i, v);
  }
  return PARE_OK;
}

#define WINDOW_OP(name, kind)                                                                      \
  static int infer_##name(const pare_node *node, const pare_tensor *const *in, int n_in,           \
                          pare_tensor *out, int n_out, pare_err *err) {                            \
    (void)n_out;                                                                                   \
    return window_infer(kind, node, in, n_in, out, err);                                           \
  }                                                                                                \
  static int eval_##name(const pare_node *node, const pare_tensor *const *in, int n_in,            \
                         pare_tensor *out, int n_out, pare_err *err) {                             \
    (void)n_out;                                                                                   \
    return window_eval(kind, node, in, n_in, out, err);                                            \
  }

WINDOW_OP(hann, WIN_HANN)
WINDOW_OP(hamming, WIN_HAMMING)
WINDOW_OP(blackman, WIN_BLACKMAN)

/* ------------------------------------------------------- MelWeightMatrix */

typedef struct mel_params {
  int64_t n_mels, dft_length, sample_rate;
  double lower, upper;
} mel_params;

static int mel_read(const pare_tensor *const *in, int n_in, mel_params *m, pare_err *err) {
  for (int i = 0; i < 5; i++)
    if (pare_need_input(in, n_in, i, err)) return pare_err_prefix(err, "MelWeightMatrix");
  int status = PARE_OK, rc;
  m->n_mels = m->dft_length = -1;
  const char *names[3] = {"num_mel_bins", "dft_length", "sample_rate"};
  int64_t *ints[3] = {&m->n_mels, &m->dft_length, &m->sample_rate};
  for (int i = 0; i < 3; i++) {
    if ((rc = read_int_scalar(in[i], names[i], ints[i], err)) == PARE_ERR)
      return pare_err_prefix(err, "MelWeightMatrix");
    if (rc == PARE_UNKNOWN)
      status = PARE_UNKNOWN;
    else if (*ints[i] < 1)
      return pare_errf(err, "MelWeightMatrix: %s must be positive, got %lld", names[i],
                       (long long)*ints[i]);
  }
  const char *fnames[2] = {"lower_edge_hertz", "upper_edge_hertz"};
  double *floats[2] = {&m->lower, &m->upper};
  for (int i = 0; i < 2; i++) {
    if ((rc = read_float_scalar(in[3 + i], fnames[i], floats[i], err)) == PARE_ERR)
      return pare_err_prefix(err, "MelWeightMatrix");
    if (rc == PARE_UNKNOWN) status = PARE_UNKNOWN;
  }
  return status;
}

static int infer_mel(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  mel_params m;
  int rc = mel_read(in, n_in, &m, err);
  if (rc == PARE_ERR || output_dtype(node, "MelWeightMatrix", &out[0].dtype, err)) return PARE_ERR;
  int64_t dims[2] = {m.dft_length < 0 ? -1 : m.dft_length / 2 + 1, m.n_mels};
  out[0].shape = pare_shape_make(2, dims);
  return pare_shape_is_static(&out[0].shape) ? PARE_OK : PARE_UNKNOWN;
}

/*
 * Triangular filters between num_mel_bins + 2 points equally spaced on the
 * mel scale mel(f) = 2595 log10(1 + f / 700). Like the ONNX reference, the
 * mel step divides the range by the number of points (num_mel_bins + 2), and
 * each point is mapped to the spectrogram bin floor((dft_length + 1) f / sr).
 */
static int eval_mel(const pare_node *node, const pare_tensor *const *in, int n_in, pare_tensor *out,
                    int n_out, pare_err *err) {
  (void)node;
  (void)n_out;
  mel_params m;
  int rc = mel_read(in, n_in, &m, err);
  if (rc != PARE_OK) return rc == PARE_ERR ? rc : pare_errf(err, "MelWeightMatrix: inputs unknown");
  int64_t n_bins = m.dft_length / 2 + 1, n_pts = m.n_mels + 2;
  int64_t *pts = malloc((size_t)n_pts * sizeof *pts);
  if (!pts) return pare_errf(err, "MelWeightMatrix: out of memory");
  double lo = 2595.0 * log10(1.0 + m.lower / 700.0), hi = 2595.0 * log10(1.0 + m.upper / 700.0);
  double step = (hi - lo) / (double)n_pts;
  for (int64_t i = 0; i < n_pts; i++) {
    double hz = 700.0 * (pow(10.0, ((double)i * step + lo) / 2595.0) - 1.0);
    pts[i] = (int64_t)floor((double)(m.dft_length + 1) * hz / (double)m.sample_rate);
    if (pts[i] < 0 || pts[i] >= n_bins || (i && pts[i] < pts[i - 1])) {
      free(pts);
      return pare_errf(err, "MelWeightMatrix: edge frequencies %g..%g Hz do not fit %lld bins",
                       m.lower, m.upper, (long long)n_bins);
    }
  }
  for (int64_t i = 0; i < m.n_mels; i++) {
    int64_t left = pts[i], center = pts[i + 1], right = pts[i + 2];
    if (center == left) pare_tensor_set_f64(&out[0], center * m.n_mels + i, 1.0);
    for (int64_t j = left; j <= center && center > left; j++)
      pare_tensor_set_f64(&out[0], j * m.n_mels + i, (double)(j - left) / (double)(center - left));
    for (int64_t j = center; j < right; j++)
      pare_tensor_set_f64(&out[0], j * m.n_mels + i,
                          (double)(right - j) / (double)(right - center));
  }
  free(pts);
  return PARE_OK;
}

const pare_op_def pare_ops_signal[] = {
    {"DFT", infer_dft, eval_dft},
    {"STFT", infer_stft, eval_stft},
    {"HannWindow", infer_hann, eval_hann},
    {"HammingWindow", infer_hamming, eval_hamming},
    {"BlackmanWindow", infer_blackman, eval_blackman},
    {"MelWeightMatrix", infer_mel, eval_mel},
    {0, 0, 0},
};
