/*
 * quantize.c - low-bit weight quantization with automatic bit allocation.
 *
 *   quantize<bits=4;group=32;symmetric=0;scale-dtype=f16;method=auto;outliers=0>
 *   quantize<bits=auto;budget=4.5;candidates=2+3+4+5+6+8;group=32+128>
 *
 * The weights are the constant f32 weight operands of Conv (W, any group
 * count), Gemm (B) and MatMul (a 2-D constant right operand), as for prune.
 * Each becomes a QUANT encoding (ir.h): `bits`-bit codes, one scale (and
 * zero point if asymmetric) per output channel or per group of `group`
 * consecutive inputs of an output channel. The output channel is axis 0 of
 * Conv [M, C/g, k...] and of Gemm's B with transB=1 ([N, K]); it is axis 1
 * of a [K, N] weight (MatMul, Gemm transB=0), whose groups then run down a
 * column along K. Scales and zero points are f16 by default. The dense init
 * becomes exactly pare_weight_decode of the encoding.
 *
 * Everything works on the "row view" of a weight: one row per output
 * channel, its k inputs in the order of the layer's input vectors
 * (passes/gram.h), so that rows, groups and the input Hessian H = sum x x^T
 * line up.
 *
 * Methods. rtn rounds each weight to the nearest level. gptq (with
 * --calib; method=auto picks it then) quantizes the inputs one at a time
 * and spreads each weight's rounding error over the inputs not yet
 * quantized through the Cholesky factor of H^-1 (Frantar et al., 2023),
 * in lazy blocks of 128 columns; act-order processes the inputs of largest
 * H_jj first (group parameters are then fixed up front from the original
 * weights). Both search a clipping ratio per group (clip=1), weighting each
 * weight's error by H_jj when there are statistics; asymmetric grids are
 * tried over a range holding 0 (integer zero point) and over [min, max]
 * (fractional zero point: at 1 bit the levels are {min, max}).
 *
 * Outliers (outliers=FRACTION): that fraction of each layer's weights, the
 * ones farthest from their group's mean in units of the group's RMS
 * deviation, is kept apart in f32 in a sparse part (SpQR-style; ir.h
 * `outliers`, CSR over [dim0, rest]); they are left out of their group's
 * range, and GPTQ leaves them exact.
 *
 * Bit allocation (bits=auto). Candidates are every (bits, group) of the
 * `candidates` and `group` lists, plus f32 (keep-fp32=1). The budget is
 * `budget` average bits per weight over all Conv/Gemm/MatMul weights of
 * the graph (codes, scales, zero points and outliers included; weights the
 * pass does not touch count at 32), or `target-size` bytes (or N% of the
 * f32 bytes) of the same. For every layer and candidate the layer is
 * quantized and its error measured as the output energy tr(dW H dW^T) on
 * the calibration data (||dW||^2 without). sensitivity=e2e (the default
 * with --calib) converts that to end-to-end error with one factor per
 * layer: one calibration run per layer with only that layer quantized at
 * the probe width (probe-bits; 0 = the budget rounded down) measures the
 * relative squared error of the graph's outputs (a run JIT-compiles the
 * graph: ~3.5 s CPU each on the PP-OCR recognizer, so e2e-min-size can
 * spare the small layers their run; they get their relative output error
 * times the measured layers' median ratio). sensitivity=proxy uses each
 * layer's relative output error alone, which misjudges layers whose error
 * the rest of the graph amplifies (recognizer at 5 bits: CER 1.4% with all
 * widths, 0.45% measured end to end). The multiple-choice knapsack
 * (minimum summed error within the byte budget) is solved exactly by
 * dynamic programming over the budget in 20000 steps (candidate bytes
 * rounded up, so the result never exceeds the budget). refine=N then tries
 * up to N end-to-end-measured swaps (one layer one step up, another one
 * step down, within the budget) and keeps those that lower the measured
 * error: per-layer error sums mislead (EvoPress).
 */
#include "passes/gram.h"
#include "passes/obs.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns per lazy-update block (GPTQ's choice). */
enum { BLOCK = 128 };
/* Steps of the discretized byte budget of the allocation. */
enum { DP_STEPS = 20000 };
/* Most candidates per layer (bits x groups, plus f32). */
enum { MAX_CAND = 64 };

/* One weight to quantize. */
typedef struct layer {
  int node, value;
  const char *name;
  int64_t numel, outs, k; /* row view [outs, k] */
  int64_t dim0;           /* the IR's dim 0 (CSR rows of the outliers) */
  int along_rows;         /* [K, N] weight: row r of the view is column r */
  int groups;             /* Conv groups: row r uses Gram block r / (outs / groups) */
  double *w0;             /* row view of the original weight */
  /* With statistics: per Conv group, the Cholesky factor of H^-1 (in the
   * processing order), H's diagonal (natural order) and the order. */
  double *u, *hdiag;
  int64_t *perm;
  const pare_gram *gram;
} layer;

/* How to quantize one layer. */
typedef struct qcfg {
  int bits;      /* 0 = keep f32 */
  int64_t group; /* 0 = whole channel */
} qcfg;

typedef struct qopts {
  int symmetric, f16, clip, act_order;
  int grid; /* 0: [min, max] grid tried at <= 2 bits, 1: never, 2: always */
  double outliers;
} qopts;

/* A quantized layer in the row view. */
typedef struct qres {
  int32_t *code;
  float *scale, *zero; /* outs * gpc */
  unsigned char *omask;
  double *wq; /* what decoding gives */
  float *ov;  /* outliers: the sparse part's values */
  int64_t gpc, n_out;
} qres;

static void qres_free(qres *r) {
  free(r->code);
  free(r->scale);
  free(r->zero);
  free(r->omask);
  free(r->wq);
  free(r->ov);
  memset(r, 0, sizeof *r);
}

/* --------------------------------------------------------------- layers */

static int weight_of(const pare_graph *g, const pare_node *n, unsigned mask, int64_t min_size,
                     layer *out) {
  int along_rows;
  int v = pare_pass_linear_weight(g, n, mask, &along_rows);
  if (v < 0) return 0;
  const pare_value *val = g->values[v];
  const pare_tensor *t = val->init;
  if (val->enc) return 0;
  const pare_shape *s = &t->shape;
  int groups = pare_pass_is_op(n, "Conv") ? (int)pare_attr_int(n, "group", 1) : 1;
  int64_t numel = pare_tensor_numel(t);
  if (numel == 0 || numel < min_size || s->dims[0] <= 0 || groups < 1) return 0;
  memset(out, 0, sizeof *out);
  out->value = v;
  out->name = n->name && n->name[0] ? n->name : val->name;
  out->numel = numel;
  out->dim0 = s->dims[0];
  out->along_rows = along_rows;
  out->outs = along_rows ? s->dims[1] : s->dims[0];
  out->k = numel / out->outs;
  out->groups = groups;
  if (out->outs % groups) return 0;
  return 1;
}

/* Any Conv/Gemm/MatMul weight (what the budget counts). */
static int64_t linear_weight_numel(const pare_graph *g, const pare_node *n) {
  layer l;
  if (!weight_of(g, n, PARE_OP_CONV | PARE_OP_GEMM | PARE_OP_MATMUL, 0, &l)) {
    int v = n->n_inputs > 1 ? n->inputs[1] : -1;
    if (v < 0 ||
        !(pare_pass_is_op(n, "Conv") || pare_pass_is_op(n, "Gemm") || pare_pass_is_op(n, "MatMul")))
      return 0;
    const pare_value *val = g->values[v];
    return val->init && val->init->dtype == PARE_F32 ? pare_tensor_numel(val->init) : 0;
  }
  return l.numel;
}

/* IR element index of row-view element (r, j). */
static int64_t ir_index(const layer *l, int64_t r, int64_t j) {
  return l->along_rows ? j * l->outs + r : r * l->k + j;
}

static int load_rows(const pare_graph *g, layer *l, pare_err *err) {
  const float *wf = g->values[l->value]->init->data;
  l->w0 = malloc((size_t)l->numel * sizeof *l->w0);
  if (!l->w0) return pare_errf(err, "out of memory");
  for (int64_t r = 0; r < l->outs; r++)
    for (int64_t j = 0; j < l->k; j++) l->w0[r * l->k + j] = wf[ir_index(l, r, j)];
  return PARE_OK;
}

typedef struct dsort {
  double v;
  int64_t i;
} dsort;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int cmp_desc(const void *a, const void *b) {
  const dsort *x = a, *y = b;
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

/* With statistics: H's diagonal, the processing order and U per group. */
static int prepare_stats(layer *l, const pare_gram *gr, double damp, int act_order, pare_err *err) {
  int64_t k = l->k;
  if (gr->k != k || gr->groups != l->groups)
    return pare_errf(err, "layer '%s': weight shape does not match its input statistics", l->name);
  size_t kk = (size_t)(k * k);
  l->gram = gr;
  l->u = malloc(kk * (size_t)l->groups * sizeof *l->u);
  l->hdiag = malloc((size_t)(k * l->groups) * sizeof *l->hdiag);
  l->perm = malloc((size_t)(k * l->groups) * sizeof *l->perm);
  double *hp = malloc(kk * sizeof *hp);
  dsort *ds = malloc((size_t)k * sizeof *ds);
  int rc = l->u && l->hdiag && l->perm && hp && ds ? PARE_OK : pare_errf(err, "out of memory");
  for (int grp = 0; rc == PARE_OK && grp < l->groups; grp++) {
    const double *h = pare_gram_block(gr, grp);
    int64_t *perm = l->perm + grp * k;
    for (int64_t j = 0; j < k; j++) {
      l->hdiag[grp * k + j] = h[j * k + j];
      ds[j] = (dsort){h[j * k + j], j};
    }
    if (act_order) qsort(ds, (size_t)k, sizeof *ds, cmp_desc);
    for (int64_t j = 0; j < k; j++) perm[j] = act_order ? ds[j].i : j;
    for (int64_t a = 0; a < k; a++)
      for (int64_t b = 0; b < k; b++) hp[a * k + b] = h[perm[a] * k + perm[b]];
    rc = pare_obs_inverse_cholesky(hp, k, damp, l->u + grp * kk, err);
  }
  free(hp);
  free(ds);
  return rc ? pare_err_prefix(err, "layer '%s'", l->name) : PARE_OK;
}

static void layer_free(layer *l) {
  free(l->w0);
  free(l->u);
  free(l->hdiag);
  free(l->perm);
}

/* --------------------------------------------------------- quantization */

static float round_scale(double v, int f16) {
  float f = (float)v;
  return f16 ? pare_f16_to_f32(pare_f32_to_f16(f)) : f;
}

static int32_t qmin(int bits, int sym) {
  return sym ? -((int32_t)1 << (bits - 1)) : 0;
}
static int32_t qmax(int bits, int sym) {
  return sym ? ((int32_t)1 << (bits - 1)) - 1 : ((int32_t)1 << bits) - 1;
}

/* The code nearest w and what it decodes to (as pare_weight_decode
 * computes it, in float). */
static double quant1(double w, float s, float z, int bits, int sym, int32_t *code) {
  int32_t lo = qmin(bits, sym), hi = qmax(bits, sym);
  double t = s > 0 ? w / s + z : z;
  int32_t c;
  if (!(t > lo)) /* NaN included */
    c = lo;
  else if (t >= hi)
    c = hi;
  else
    c = (int32_t)lrint(t);
  *code = c;
  return (double)(s * ((float)c - z));
}

/* The summed wt-weighted squared error of the n weights x at (s, z). */
static double group_error(const double *x, const unsigned char *skip, const double *wt, int64_t n,
                          int bits, int sym, float s, float z, double stop) {
  double e = 0;
  for (int64_t i = 0; i < n && e < stop; i++) {
    if (skip && skip[i]) continue;
    int32_t c;
    double d = quant1(x[i], s, z, bits, sym, &c) - x[i];
    e += d * d * (wt ? wt[i] : 1.0);
  }
  return e;
}

/* Scale and zero point for the n weights x (skip[i]: an outlier, not
 * counted), searching the clipping ratio that minimizes the wt-weighted
 * squared error (wt NULL: unweighted). Asymmetric grids are tried two ways:
 * over a range that holds 0 with an integer zero point (0 stays exact), and
 * over [min, max] alone with a fractional zero point, which at 1 and 2 bits
 * puts every level where the weights are (1 bit: {min, max}); the second
 * only at <= 2 bits unless grid= says otherwise (at 4 bits it measured
 * worse end to end under GPTQ on the recognizer: CER 1.17% against 0.32%
 * at group 32, though of less error per group). The first grid wins ties. */
static void group_params(const double *x, const unsigned char *skip, const double *wt, int64_t n,
                         int bits, const qopts *o, float *scale, float *zero) {
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    if (skip && skip[i]) continue;
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  *scale = 0, *zero = 0;
  if (!(lo <= hi)) return; /* nothing but outliers */
  double lo0 = fmin(lo, 0), hi0 = fmax(hi, 0), mid = 0.5 * (lo + hi);
  double best = INFINITY, levels = (double)qmax(bits, o->symmetric);
  int steps = o->clip ? 11 : 1;
  int grids = o->symmetric || o->grid == 1 ? 1 : o->grid == 2 || bits <= 2 ? 2 : 1;
  for (int grid = 0; grid < grids; grid++)
    for (int st = 0; st < steps; st++) {
      double t = 1.0 - 0.05 * st;
      float s, z = 0;
      if (o->symmetric) {
        s = round_scale(fmax(-lo0, hi0) * t / levels, o->f16);
      } else if (grid == 0) {
        double a = lo0 * t, b = hi0 * t;
        s = round_scale((b - a) / levels, o->f16);
        z = s > 0 ? (float)fmin(fmax(rint(-a / s), 0), levels) : 0;
      } else {
        double a = mid - (mid - lo) * t, b = mid + (hi - mid) * t;
        /* one value: a level at it (code 0) */
        s = round_scale(b > a ? (b - a) / levels : fabs(a), o->f16);
        z = s > 0 ? round_scale(-a / s, o->f16) : 0;
      }
      double e = group_error(x, skip, wt, n, bits, o->symmetric, s, z, best);
      if (e < best) best = e, *scale = s, *zero = z;
    }
}

/* Outliers: the n_out weights farthest from their group's mean in units of
 * the group's RMS deviation (ties in element order). */
static int pick_outliers(const layer *l, int64_t gsize, int64_t n_out, unsigned char *mask) {
  int64_t k = l->k;
  memset(mask, 0, (size_t)l->numel);
  if (n_out <= 0) return PARE_OK;
  dsort *ds = malloc((size_t)l->numel * sizeof *ds);
  if (!ds) return PARE_ERR;
  for (int64_t r = 0; r < l->outs; r++)
    for (int64_t j0 = 0; j0 < k; j0 += gsize) {
      int64_t j1 = j0 + gsize < k ? j0 + gsize : k;
      const double *x = l->w0 + r * k;
      double mean = 0, var = 0;
      for (int64_t j = j0; j < j1; j++) mean += x[j];
      mean /= (double)(j1 - j0);
      for (int64_t j = j0; j < j1; j++) var += (x[j] - mean) * (x[j] - mean);
      double rms = sqrt(var / (double)(j1 - j0)) + 1e-30;
      for (int64_t j = j0; j < j1; j++) {
        double sc = fabs(x[j] - mean) / rms;
        ds[r * k + j] = (dsort){isnan(sc) ? INFINITY : sc, r * k + j};
      }
    }
  qsort(ds, (size_t)l->numel, sizeof *ds, cmp_desc);
  for (int64_t i = 0; i < n_out && i < l->numel; i++) mask[ds[i].i] = 1;
  free(ds);
  return PARE_OK;
}

static int64_t n_outliers(const layer *l, const qopts *o) {
  return o->outliers > 0 ? llround(o->outliers * (double)l->numel) : 0;
}

static int64_t eff_group(const layer *l, int64_t group) {
  return group > 0 && group < l->k ? group : 0;
}

/* Bytes of the encoding quantize_layer builds for c (0 bits: f32). */
static int64_t cfg_bytes(const layer *l, qcfg c, const qopts *o) {
  if (c.bits == 0) return l->numel * 4;
  int64_t g = eff_group(l, c.group);
  int64_t gpc = g > 0 ? (l->k + g - 1) / g : 1;
  int64_t params = l->outs * gpc * (o->f16 ? 2 : 4) * (o->symmetric ? 1 : 2);
  int64_t nout = n_outliers(l, o);
  int64_t sparse = nout > 0 ? (l->dim0 + 1) * 8 + nout * 8 : 0;
  return (l->numel * c.bits + 7) / 8 + params + sparse;
}

/* Quantizes layer l at c into *res: GPTQ when the layer has statistics and
 * gptq is set, else round to nearest. */
static int quantize_layer(const layer *l, qcfg c, const qopts *o, int gptq, qres *res,
                          pare_err *err) {
  int64_t k = l->k, outs = l->outs, rows = outs / l->groups;
  int64_t g = eff_group(l, c.group), gs = g > 0 ? g : k;
  memset(res, 0, sizeof *res);
  res->gpc = (k + gs - 1) / gs;
  size_t n = (size_t)l->numel, np = (size_t)(outs * res->gpc);
  res->code = malloc(n * sizeof *res->code);
  res->scale = malloc(np * sizeof *res->scale);
  res->zero = malloc(np * sizeof *res->zero);
  res->omask = malloc(n);
  res->wq = malloc(n * sizeof *res->wq);
  res->ov = o->outliers > 0 ? malloc(n * sizeof *res->ov) : NULL;
  double *w = malloc((size_t)(rows * k) * sizeof *w);
  double *e = malloc((size_t)(rows * BLOCK) * sizeof *e);
  unsigned char *om = malloc((size_t)(rows * k));
  double *wt = malloc((size_t)k * sizeof *wt);
  unsigned char *skip = malloc((size_t)k);
  double *gx = malloc((size_t)k * sizeof *gx);
  int rc = res->code && res->scale && res->zero && res->omask && res->wq &&
                   (res->ov || o->outliers <= 0) && w && e && om && wt && skip && gx
               ? PARE_OK
               : pare_errf(err, "out of memory");
  res->n_out = rc == PARE_OK ? n_outliers(l, o) : 0;
  if (rc == PARE_OK && pick_outliers(l, gs, res->n_out, res->omask))
    rc = pare_errf(err, "out of memory");
  int use_u = gptq && l->u;
  /* Parameters fixed up front (from the original weights) unless GPTQ
   * processes the inputs in their natural order. */
  int fixed = !use_u || o->act_order;
  for (int grp = 0; rc == PARE_OK && grp < l->groups; grp++) {
    const int64_t *perm = l->perm ? l->perm + grp * k : NULL;
    const double *u = use_u ? l->u + (size_t)grp * (size_t)(k * k) : NULL;
    const double *hd = l->hdiag ? l->hdiag + grp * k : NULL;
    int64_t r0 = grp * rows;
    if (fixed)
      for (int64_t r = 0; r < rows; r++)
        for (int64_t jg = 0; jg < res->gpc; jg++) {
          int64_t j0 = jg * gs, len = j0 + gs < k ? gs : k - j0;
          int64_t p = (r0 + r) * res->gpc + jg;
          group_params(l->w0 + (r0 + r) * k + j0, res->omask + (r0 + r) * k + j0,
                       hd ? hd + j0 : NULL, len, c.bits, o, &res->scale[p], &res->zero[p]);
        }
    /* w: this group's rows, columns in processing order. */
    for (int64_t r = 0; r < rows; r++)
      for (int64_t i = 0; i < k; i++) {
        int64_t j = perm ? perm[i] : i;
        w[r * k + i] = l->w0[(r0 + r) * k + j];
        om[r * k + i] = res->omask[(r0 + r) * k + j];
      }
    for (int64_t i1 = 0; i1 < k; i1 += BLOCK) {
      int64_t i2 = i1 + BLOCK < k ? i1 + BLOCK : k, cnt = i2 - i1;
      for (int64_t i = i1; i < i2; i++) {
        int64_t j = perm ? perm[i] : i, jg = j / gs;
        if (!fixed && j % gs == 0) {
          /* natural order: columns [j, j + len) are this group, as updated
           * so far (a group never spans blocks: BLOCK % gs == 0 or gs = k
           * when the whole row is one group, set at i = 0) */
          int64_t len = j + gs < k ? gs : k - j;
          for (int64_t r = 0; r < rows; r++) {
            int64_t p = (r0 + r) * res->gpc + jg;
            for (int64_t t = 0; t < len; t++) {
              gx[t] = w[r * k + j + t];
              skip[t] = om[r * k + j + t];
              wt[t] = hd ? hd[j + t] : 1.0;
            }
            group_params(gx, skip, wt, len, c.bits, o, &res->scale[p], &res->zero[p]);
          }
        }
        double d = u ? u[i * k + i] : 1.0;
        for (int64_t r = 0; r < rows; r++) {
          int64_t p = (r0 + r) * res->gpc + jg, at = (r0 + r) * k + j;
          double *wr = w + r * k, q;
          if (om[r * k + i]) {
            /* the code nearest 0; the sparse part adds the rest */
            float z = o->symmetric ? 0.0f : res->zero[p];
            int32_t oc = (int32_t)fmin(fmax(rint(z), qmin(c.bits, o->symmetric)),
                                       qmax(c.bits, o->symmetric));
            float base = res->scale[p] * ((float)oc - z);
            res->code[at] = oc;
            res->ov[at] = (float)(wr[i] - base);
            q = (double)(base + res->ov[at]);
          } else {
            q = quant1(wr[i], res->scale[p], o->symmetric ? 0.0f : res->zero[p], c.bits,
                       o->symmetric, &res->code[at]);
          }
          res->wq[at] = q;
          if (!u) continue;
          double er = (wr[i] - q) / d;
          for (int64_t t = i + 1; t < i2; t++) wr[t] -= er * u[i * k + t];
          e[r * cnt + (i - i1)] = er;
        }
      }
      if (u && i2 < k)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)(k - i2), (int)cnt,
                    -1.0, e, (int)cnt, u + i1 * k + i2, (int)k, 1.0, w + i2, (int)k);
    }
  }
  free(w);
  free(e);
  free(om);
  free(wt);
  free(skip);
  free(gx);
  if (rc) qres_free(res);
  return rc;
}

/* sum over rows of d_r^T H d_r (H = I without statistics) for the change
 * d = wq - w0: the layer's squared output error over the calibration
 * vectors. *energy gets the same of w0 itself. */
static int layer_error(const layer *l, const double *wq, double *change, double *energy,
                       pare_err *err) {
  int64_t k = l->k, rows = l->outs / l->groups;
  *change = 0, *energy = 0;
  if (!l->gram) {
    for (int64_t i = 0; i < l->numel; i++) {
      double d = wq[i] - l->w0[i];
      *change += d * d;
      *energy += l->w0[i] * l->w0[i];
    }
    return PARE_OK;
  }
  size_t cells = (size_t)(rows * k);
  double *d = malloc(cells * sizeof *d), *tmp = malloc(cells * sizeof *tmp);
  if (!d || !tmp) {
    free(d);
    free(tmp);
    return pare_errf(err, "out of memory");
  }
  for (int grp = 0; grp < l->groups; grp++) {
    const double *h = pare_gram_block(l->gram, grp);
    for (int pass = 0; pass < 2; pass++) {
      const double *base = l->w0 + grp * rows * k;
      for (size_t i = 0; i < cells; i++)
        d[i] = pass ? base[i] : wq[grp * rows * k + (int64_t)i] - base[i];
      cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, (int)rows, (int)k, 1.0, h, (int)k, d,
                  (int)k, 0.0, tmp, (int)k);
      double s = 0;
      for (size_t i = 0; i < cells; i++) s += d[i] * tmp[i];
      *(pass ? energy : change) += s;
    }
  }
  free(d);
  free(tmp);
  return PARE_OK;
}

/* The QUANT encoding of res, and the dense init it decodes to. */
static int apply_encoding(pare_graph *g, const layer *l, qcfg c, const qopts *o, const qres *res,
                          pare_err *err) {
  pare_value *val = g->values[l->value];
  pare_encoding *e = calloc(1, sizeof *e);
  if (!e) return pare_errf(err, "out of memory");
  e->kind = PARE_ENC_QUANT;
  e->bits = c.bits;
  e->symmetric = o->symmetric;
  e->axis = l->along_rows ? 1 : 0;
  e->group_size = eff_group(l, c.group);
  int64_t np = l->outs * res->gpc;
  pare_shape ps = {.rank = 1, .dims = {(l->numel * c.bits + 7) / 8}};
  pare_shape ss = {.rank = 1, .dims = {np}};
  pare_dtype sd = o->f16 ? PARE_F16 : PARE_F32;
  int rc = PARE_OK;
  if (!(e->packed = pare_tensor_new(PARE_U8, &ps, err)) ||
      !(e->scales = pare_tensor_new(sd, &ss, err)) ||
      (!o->symmetric && !(e->zeros = pare_tensor_new(sd, &ss, err))))
    rc = PARE_ERR;
  if (rc == PARE_OK) {
    uint8_t *pk = e->packed->data;
    uint32_t m = ((uint32_t)1 << c.bits) - 1;
    for (int64_t r = 0; r < l->outs; r++)
      for (int64_t j = 0; j < l->k; j++) {
        uint32_t raw = (uint32_t)res->code[r * l->k + j] & m;
        uint64_t bit = (uint64_t)ir_index(l, r, j) * (uint64_t)c.bits;
        for (int b = 0; b < c.bits; b++, bit++)
          if (raw >> b & 1u) pk[bit >> 3] |= (uint8_t)(1u << (bit & 7));
      }
    for (int64_t p = 0; p < np; p++) {
      pare_tensor_set_f64(e->scales, p, res->scale[p]);
      if (e->zeros) pare_tensor_set_f64(e->zeros, p, res->zero[p]);
    }
  }
  if (rc == PARE_OK && res->n_out > 0) {
    pare_encoding *s = calloc(1, sizeof *s);
    e->outliers = s;
    int64_t cols = l->numel / l->dim0;
    pare_shape rs = {.rank = 1, .dims = {l->dim0 + 1}}, ns = {.rank = 1, .dims = {res->n_out}};
    if (!s || !(s->row_ptr = pare_tensor_new(PARE_I64, &rs, err)) ||
        !(s->col_idx = pare_tensor_new(PARE_I32, &ns, err)) ||
        !(s->values = pare_tensor_new(PARE_F32, &ns, err))) {
      rc = s ? PARE_ERR : pare_errf(err, "out of memory");
    } else {
      s->kind = PARE_ENC_SPARSE;
      s->axis = 0;
      int64_t *rp = s->row_ptr->data, at = 0;
      int32_t *ci = s->col_idx->data;
      float *vs = s->values->data;
      for (int64_t row = 0; row < l->dim0; row++) {
        rp[row] = at;
        for (int64_t col = 0; col < cols; col++) {
          int64_t i = row * cols + col;
          int64_t r = l->along_rows ? i % l->outs : i / l->k;
          int64_t j = l->along_rows ? i / l->outs : i % l->k;
          if (!res->omask[r * l->k + j] || at >= res->n_out) continue;
          ci[at] = (int32_t)col;
          vs[at++] = res->ov[r * l->k + j];
        }
      }
      rp[l->dim0] = at;
    }
  }
  pare_tensor *dense = rc == PARE_OK ? pare_weight_decode(e, &val->shape, err) : NULL;
  if (!dense) {
    pare_encoding_free(e);
    return pare_err_prefix(err, "layer '%s'", l->name);
  }
  pare_tensor_free(val->init);
  val->init = dense;
  val->enc = e;
  return PARE_OK;
}

/* ------------------------------------------------------- end to end */

/* The graph's outputs on the calibration data, and the relative squared
 * error of later runs against them. */
typedef struct e2e {
  const pare_calib *c;
  pare_graph *g;
  int n_out;
  int *outs;
  float **ref; /* [sample * n_out + k] */
  int64_t *len;
  int collecting;
  double diff, energy;
  int runs;
} e2e;

static int e2e_visit(void *user, int sample, int k, const pare_tensor *t, pare_err *err) {
  e2e *s = user;
  size_t at = (size_t)sample * (size_t)s->n_out + (size_t)k;
  int64_t n = pare_tensor_numel(t);
  if (t->dtype != PARE_F32) return PARE_OK;
  const float *y = t->data;
  if (s->collecting) {
    s->ref[at] = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!s->ref[at]) return pare_errf(err, "out of memory");
    memcpy(s->ref[at], y, (size_t)n * sizeof(float));
    s->len[at] = n;
    for (int64_t i = 0; i < n; i++) s->energy += (double)y[i] * y[i];
    return PARE_OK;
  }
  if (!s->ref[at] || s->len[at] != n) return pare_errf(err, "output %d changed size", k);
  for (int64_t i = 0; i < n; i++) {
    double d = (double)y[i] - s->ref[at][i];
    s->diff += isfinite(d) ? d * d : 1e30;
  }
  return PARE_OK;
}

static int e2e_begin(e2e *s, const pare_calib *c, pare_graph *g, pare_err *err) {
  memset(s, 0, sizeof *s);
  s->c = c, s->g = g, s->n_out = g->n_outputs;
  size_t cells = (size_t)c->n_samples * (size_t)g->n_outputs + 1;
  s->outs = malloc(((size_t)g->n_outputs + 1) * sizeof *s->outs);
  s->ref = calloc(cells, sizeof *s->ref);
  s->len = calloc(cells, sizeof *s->len);
  if (!s->outs || !s->ref || !s->len) return pare_errf(err, "out of memory");
  memcpy(s->outs, g->outputs, (size_t)g->n_outputs * sizeof *s->outs);
  s->collecting = 1;
  int rc = c->run(c, g, s->outs, s->n_out, e2e_visit, s, err);
  s->collecting = 0;
  s->runs++;
  return rc;
}

/* Relative squared output error of the graph as it is now. */
static int e2e_measure(e2e *s, double *out, pare_err *err) {
  s->diff = 0;
  s->runs++;
  if (s->c->run(s->c, s->g, s->outs, s->n_out, e2e_visit, s, err)) return PARE_ERR;
  *out = s->energy > 0 ? s->diff / s->energy : s->diff;
  return PARE_OK;
}

static void e2e_end(e2e *s) {
  size_t cells = s->c ? (size_t)s->c->n_samples * (size_t)s->n_out : 0;
  for (size_t i = 0; s->ref && i < cells; i++) free(s->ref[i]);
  free(s->ref);
  free(s->len);
  free(s->outs);
}

/* Puts a row-view weight (NULL: the original) into the layer's init. */
static void set_weight(pare_graph *g, const layer *l, const double *rows) {
  float *wf = g->values[l->value]->init->data;
  const double *src = rows ? rows : l->w0;
  for (int64_t r = 0; r < l->outs; r++)
    for (int64_t j = 0; j < l->k; j++) wf[ir_index(l, r, j)] = (float)src[r * l->k + j];
}

/* ------------------------------------------------------------ allocation */

typedef struct alloc {
  int nc;
  qcfg cand[MAX_CAND];
  int64_t *bytes; /* [layer * nc + c] */
  double *cost;   /* predicted end-to-end error */
  double *rel;    /* relative layer output error */
  int *choice;
} alloc;

/* Parses "2+3+4" into ints within [lo, hi]. */
static int parse_list(const char *s, const char *opt, int64_t lo, int64_t hi, int64_t *out, int max,
                      int *n, pare_err *err) {
  *n = 0;
  const char *p = s;
  while (*p) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p || (*end && *end != '+') || v < lo || v > hi || *n == max)
      return pare_errf(err,
                       "option '%s': '%s' is not a list of integers in [%lld, %lld] joined by +",
                       opt, s, (long long)lo, (long long)hi);
    out[(*n)++] = v;
    p = *end ? end + 1 : end;
  }
  if (*n == 0) return pare_errf(err, "option '%s' is empty", opt);
  return PARE_OK;
}

static int check_groups(const int64_t *gl, int n, pare_err *err) {
  for (int i = 0; i < n; i++)
    if (gl[i] != 0 && gl[i] != 16 && gl[i] != 32 && gl[i] != 64 && gl[i] != 128)
      return pare_errf(err, "option 'group': %lld is not 0 (whole channel), 16, 32, 64 or 128",
                       (long long)gl[i]);
  return PARE_OK;
}

/* ------------------------------------------------------------------ run */

typedef struct run_cfg {
  int auto_bits;
  int64_t bits[8];
  int n_bits;
  int64_t groups[8];
  int n_groups;
  qopts o;
  int gptq;
  double damp;
  double budget;
  const char *target;
  int e2e_sens, keep_fp32, refine, probe_bits;
  int64_t e2e_min_size;
} run_cfg;

static int parse_args(const pare_opt_value *args, const pare_calib *calib, run_cfg *rc,
                      unsigned *mask, pare_err *err) {
  memset(rc, 0, sizeof *rc);
  rc->auto_bits = strcmp(args[0].s, "auto") == 0;
  if (!rc->auto_bits) {
    if (parse_list(args[0].s, "bits", 1, 8, rc->bits, 1, &rc->n_bits, err))
      return pare_errf(err, "option 'bits': '%s' is not 1..8 or auto", args[0].s);
  } else if (parse_list(args[11].s, "candidates", 1, 8, rc->bits, 8, &rc->n_bits, err)) {
    return PARE_ERR;
  }
  if (parse_list(args[1].s, "group", 0, 1 << 20, rc->groups, rc->auto_bits ? 8 : 1, &rc->n_groups,
                 err))
    return rc->auto_bits ? PARE_ERR
                         : pare_errf(err,
                                     "option 'group': '%s' is not one of 0, 16, 32, 64, 128 "
                                     "(a + list only with bits=auto)",
                                     args[1].s);
  if (check_groups(rc->groups, rc->n_groups, err)) return PARE_ERR;
  rc->o.symmetric = (int)args[2].i;
  rc->o.f16 = strcmp(args[3].s, "f16") == 0;
  for (int i = 0; i < rc->n_bits; i++)
    if (rc->o.symmetric && rc->bits[i] < 2)
      return pare_errf(err, "option 'bits': symmetric quantization needs at least 2 bits");
  const char *method = args[4].s;
  rc->gptq = strcmp(method, "gptq") == 0 || (strcmp(method, "auto") == 0 && calib);
  if (rc->gptq && !calib) return pare_errf(err, "method=gptq needs calibration data (--calib DIR)");
  rc->damp = args[5].f;
  if (!(rc->damp > 0 && rc->damp < 1))
    return pare_errf(err, "option 'damp' must be in (0, 1), not %g", rc->damp);
  rc->o.act_order = (int)args[6].i;
  rc->o.outliers = args[7].f;
  if (!(rc->o.outliers >= 0 && rc->o.outliers <= 0.1))
    return pare_errf(err, "option 'outliers' must be a fraction in [0, 0.1], not %g",
                     rc->o.outliers);
  rc->o.clip = (int)args[8].i;
  rc->budget = args[9].f;
  rc->target = args[10].s;
  int has_target = strcmp(rc->target, "none") != 0;
  if (rc->auto_bits && !(rc->budget > 0) && !has_target)
    return pare_errf(err, "bits=auto needs budget=AVG_BITS or target-size=BYTES|N%%");
  if (!rc->auto_bits && (rc->budget != 0 || has_target))
    return pare_errf(err, "options 'budget' and 'target-size' need bits=auto");
  if (rc->budget != 0 && has_target)
    return pare_errf(err, "options 'budget' and 'target-size' exclude each other");
  if (rc->budget < 0 || rc->budget > 32)
    return pare_errf(err, "option 'budget' must be average bits per weight in (0, 32], not %g",
                     rc->budget);
  const char *sens = args[12].s;
  rc->e2e_sens = strcmp(sens, "e2e") == 0 || (strcmp(sens, "auto") == 0 && calib);
  if (rc->e2e_sens && !calib)
    return pare_errf(err, "sensitivity=e2e needs calibration data (--calib DIR)");
  rc->keep_fp32 = (int)args[13].i;
  rc->refine = (int)args[14].i;
  if (rc->refine < 0) return pare_errf(err, "option 'refine' must be >= 0");
  if (rc->refine > 0 && !calib)
    return pare_errf(err, "refine needs calibration data (--calib DIR)");
  rc->probe_bits = (int)args[17].i;
  if (rc->probe_bits < 0 || rc->probe_bits > 8)
    return pare_errf(err, "option 'probe-bits' must be 0 (auto) or 1..8");
  rc->e2e_min_size = args[18].i;
  rc->o.grid = strcmp(args[19].s, "zero") == 0 ? 1 : strcmp(args[19].s, "both") == 0 ? 2 : 0;
  if (rc->e2e_min_size < 0) return pare_errf(err, "option 'e2e-min-size' must be >= 0");
  if (pare_pass_parse_ops(args[15].s, mask, err)) return PARE_ERR;
  if (args[16].i < 0) return pare_errf(err, "option 'min-size' must be >= 0");
  return PARE_OK;
}

/* target-size: BYTES or N% of the f32 bytes of all linear weights. */
static int parse_target(const char *s, int64_t f32_bytes, int64_t *out, pare_err *err) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || !(v > 0)) goto bad;
  if (*end == '%' && end[1] == 0) {
    *out = (int64_t)floor(v / 100.0 * (double)f32_bytes);
    return PARE_OK;
  }
  if (*end) goto bad;
  *out = (int64_t)floor(v);
  return PARE_OK;
bad:
  return pare_errf(err, "option 'target-size': '%s' is not a byte count or N%%", s);
}

/* The allocation: candidates, their bytes and errors, the DP, refinement. */
static int allocate(pare_graph *g, layer *ls, int n, const run_cfg *rc, int64_t budget_bytes,
                    e2e *ee, alloc *a, pare_pass_ctx *ctx, pare_err *err) {
  a->nc = 0;
  for (int b = 0; b < rc->n_bits; b++)
    for (int gi = 0; gi < rc->n_groups && a->nc < MAX_CAND - 1; gi++)
      a->cand[a->nc++] = (qcfg){(int)rc->bits[b], rc->groups[gi]};
  if (rc->keep_fp32) a->cand[a->nc++] = (qcfg){0, 0};
  size_t cells = (size_t)n * (size_t)a->nc + 1;
  a->bytes = calloc(cells, sizeof *a->bytes);
  a->cost = calloc(cells, sizeof *a->cost);
  a->rel = calloc(cells, sizeof *a->rel);
  a->choice = calloc((size_t)n + 1, sizeof *a->choice);
  double *energy = calloc((size_t)n + 1, sizeof *energy);
  double *factor = calloc((size_t)n + 1, sizeof *factor);
  double *ratio = calloc((size_t)n + 1, sizeof *ratio);
  int n_ratio = 0;
  if (!a->bytes || !a->cost || !a->rel || !a->choice || !energy || !factor || !ratio) {
    free(energy);
    free(factor);
    free(ratio);
    return pare_errf(err, "out of memory");
  }
  /* probe: the candidate the end-to-end factor is measured at */
  int probe = -1;
  int pb = rc->probe_bits ? rc->probe_bits : (int)floor(rc->budget > 0 ? rc->budget : 4);
  for (int c = 0; c < a->nc; c++)
    if (a->cand[c].bits > 0 && a->cand[c].bits <= pb &&
        (probe < 0 || a->cand[c].bits > a->cand[probe].bits))
      probe = c;
  if (probe < 0) probe = 0;
  int status = PARE_OK;
  for (int i = 0; status == PARE_OK && i < n; i++) {
    double probe_change = 0;
    qres probe_res = {0};
    for (int c = 0; status == PARE_OK && c < a->nc; c++) {
      size_t at = (size_t)i * (size_t)a->nc + (size_t)c;
      a->bytes[at] = cfg_bytes(&ls[i], a->cand[c], &rc->o);
      if (a->cand[c].bits == 0) continue;
      qres r;
      double change, en;
      status = quantize_layer(&ls[i], a->cand[c], &rc->o, rc->gptq, &r, err);
      if (status == PARE_OK) status = layer_error(&ls[i], r.wq, &change, &en, err);
      if (status != PARE_OK) break;
      energy[i] = en;
      a->cost[at] = change;
      a->rel[at] = en > 0 ? sqrt(change / en) : 0;
      if (c == probe) {
        probe_change = change;
        probe_res = r;
      } else {
        qres_free(&r);
      }
    }
    factor[i] = energy[i] > 0 ? 1.0 / energy[i] : 0;
    if (status == PARE_OK && rc->e2e_sens && ls[i].numel >= rc->e2e_min_size) {
      /* one run with only this layer at the probe width */
      double d;
      set_weight(g, &ls[i], probe_res.wq);
      status = e2e_measure(ee, &d, err);
      set_weight(g, &ls[i], NULL);
      factor[i] = probe_change > 0 ? d / probe_change : 0;
      ratio[n_ratio++] = factor[i] * energy[i];
      pare_pass_decide(ctx, ls[i].name, "probe_e2e_error", d);
    }
    qres_free(&probe_res);
  }
  /* Layers under e2e-min-size: their relative output error times the
   * median ratio of end-to-end to relative error of the measured ones. */
  double med = 1;
  if (n_ratio > 0) {
    qsort(ratio, (size_t)n_ratio, sizeof *ratio, cmp_double);
    med = ratio[n_ratio / 2];
  }
  for (int i = 0; status == PARE_OK && i < n; i++) {
    if (rc->e2e_sens && ls[i].numel < rc->e2e_min_size) factor[i] *= med;
    for (int c = 0; c < a->nc; c++) a->cost[(size_t)i * (size_t)a->nc + (size_t)c] *= factor[i];
  }
  free(factor);
  free(ratio);
  free(energy);
  if (status != PARE_OK) return status;
  if (pare_knapsack(n, a->nc, a->bytes, a->cost, budget_bytes, DP_STEPS, a->choice, err))
    return PARE_ERR;

  /* refinement: measured swaps */
  if (rc->refine > 0) {
    double cur;
    qres r[2] = {{0}};
    int trials = 0;
    for (int i = 0; i < n; i++) {
      qcfg c = a->cand[a->choice[i]];
      if (c.bits == 0) continue;
      if (quantize_layer(&ls[i], c, &rc->o, rc->gptq, &r[0], err)) return PARE_ERR;
      set_weight(g, &ls[i], r[0].wq);
      qres_free(&r[0]);
    }
    if (e2e_measure(ee, &cur, err)) return PARE_ERR;
    pare_pass_stat(ctx, "allocation e2e error (1e-9)", llround(cur * 1e9));
    int64_t used = 0;
    for (int i = 0; i < n; i++) used += a->bytes[(size_t)i * (size_t)a->nc + (size_t)a->choice[i]];
    /* Candidates per layer ordered by bytes: the step up or down. */
    while (trials < rc->refine) {
      /* the most promising untried swap: largest predicted gain of the
       * layer raised minus the predicted loss of the layer lowered */
      int best_up = -1, best_dn = -1, cu = 0, cd = 0;
      double best_gain = -INFINITY;
      for (int up = 0; up < n; up++) {
        int cu_i = -1;
        int64_t bu = a->bytes[(size_t)up * (size_t)a->nc + (size_t)a->choice[up]];
        for (int c = 0; c < a->nc; c++) {
          int64_t b = a->bytes[(size_t)up * (size_t)a->nc + (size_t)c];
          if (b > bu && (cu_i < 0 || b < a->bytes[(size_t)up * (size_t)a->nc + (size_t)cu_i]))
            cu_i = c;
        }
        if (cu_i < 0) continue;
        double gain = a->cost[(size_t)up * (size_t)a->nc + (size_t)a->choice[up]] -
                      a->cost[(size_t)up * (size_t)a->nc + (size_t)cu_i];
        int64_t extra = a->bytes[(size_t)up * (size_t)a->nc + (size_t)cu_i] - bu;
        for (int dn = 0; dn < n; dn++) {
          if (dn == up) continue;
          int64_t bd = a->bytes[(size_t)dn * (size_t)a->nc + (size_t)a->choice[dn]];
          int cd_i = -1;
          for (int c = 0; c < a->nc; c++) {
            int64_t b = a->bytes[(size_t)dn * (size_t)a->nc + (size_t)c];
            if (b < bd && used + extra - (bd - b) <= budget_bytes &&
                (cd_i < 0 || b > a->bytes[(size_t)dn * (size_t)a->nc + (size_t)cd_i]))
              cd_i = c;
          }
          if (cd_i < 0) continue;
          double loss = a->cost[(size_t)dn * (size_t)a->nc + (size_t)cd_i] -
                        a->cost[(size_t)dn * (size_t)a->nc + (size_t)a->choice[dn]];
          if (gain - loss > best_gain)
            best_gain = gain - loss, best_up = up, best_dn = dn, cu = cu_i, cd = cd_i;
        }
      }
      if (best_up < 0) break;
      trials++;
      int pu = a->choice[best_up], pd = a->choice[best_dn];
      qcfg c2[2] = {a->cand[cu], a->cand[cd]};
      int who[2] = {best_up, best_dn};
      for (int s = 0; s < 2; s++) {
        if (c2[s].bits == 0) {
          set_weight(g, &ls[who[s]], NULL);
          continue;
        }
        if (quantize_layer(&ls[who[s]], c2[s], &rc->o, rc->gptq, &r[s], err)) return PARE_ERR;
        set_weight(g, &ls[who[s]], r[s].wq);
        qres_free(&r[s]);
      }
      double d;
      if (e2e_measure(ee, &d, err)) return PARE_ERR;
      if (d < cur) {
        cur = d;
        used += a->bytes[(size_t)best_up * (size_t)a->nc + (size_t)cu] -
                a->bytes[(size_t)best_up * (size_t)a->nc + (size_t)pu] +
                a->bytes[(size_t)best_dn * (size_t)a->nc + (size_t)cd] -
                a->bytes[(size_t)best_dn * (size_t)a->nc + (size_t)pd];
        a->choice[best_up] = cu, a->choice[best_dn] = cd;
        pare_pass_stat(ctx, "refine swaps kept", 1);
      } else {
        /* restore, and never try this pair again: mark its predicted
         * costs so the gain is not the best any more */
        int pc[2] = {pu, pd};
        for (int s = 0; s < 2; s++) {
          qcfg c = a->cand[pc[s]];
          if (c.bits == 0) {
            set_weight(g, &ls[who[s]], NULL);
            continue;
          }
          if (quantize_layer(&ls[who[s]], c, &rc->o, rc->gptq, &r[s], err)) return PARE_ERR;
          set_weight(g, &ls[who[s]], r[s].wq);
          qres_free(&r[s]);
        }
        a->cost[(size_t)best_up * (size_t)a->nc + (size_t)cu] =
            a->cost[(size_t)best_up * (size_t)a->nc + (size_t)pu];
      }
      pare_pass_stat(ctx, "refine swaps tried", 1);
    }
    pare_pass_stat(ctx, "refined e2e error (1e-9)", llround(cur * 1e9));
    for (int i = 0; i < n; i++) set_weight(g, &ls[i], NULL);
  }
  return PARE_OK;
}

static int run_quantize(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx, int *changed,
                        pare_err *err) {
  const pare_calib *calib = pare_pass_calib(ctx);
  run_cfg rc;
  unsigned mask;
  if (parse_args(args, calib, &rc, &mask, err)) return PARE_ERR;
  int64_t min_size = args[16].i;
  const char *only = args[20].s;

  layer *ls = calloc((size_t)g->n_nodes + 1, sizeof *ls);
  if (!ls) return pare_errf(err, "out of memory");
  int n = 0;
  int64_t all_numel = 0, fixed_bytes = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    layer l;
    int seen = 0;
    int v = g->nodes[k]->n_inputs > 1 ? g->nodes[k]->inputs[1] : -1;
    for (int i = 0; i < n && !seen; i++) seen = ls[i].value == v;
    for (int k2 = 0; k2 < k && !seen; k2++)
      seen = g->nodes[k2]->n_inputs > 1 && g->nodes[k2]->inputs[1] == v;
    if (seen) continue;
    int64_t numel = linear_weight_numel(g, g->nodes[k]);
    all_numel += numel;
    if (!weight_of(g, g->nodes[k], mask, min_size, &l) ||
        (only[0] && !pare_pass_name_in_list(only, l.name))) {
      fixed_bytes += numel * 4;
      continue;
    }
    l.node = k;
    ls[n++] = l;
  }

  int status = PARE_OK;
  pare_gram *grams = NULL;
  if (calib && (rc.gptq || rc.auto_bits) && n > 0) {
    grams = calloc((size_t)n + 1, sizeof *grams);
    int *nodes = malloc(((size_t)n + 1) * sizeof *nodes);
    status = grams && nodes ? PARE_OK : pare_errf(err, "out of memory");
    for (int i = 0; i < n && nodes; i++) nodes[i] = ls[i].node;
    if (status == PARE_OK) status = pare_gram_collect(calib, g, nodes, n, grams, err);
    free(nodes);
  }
  for (int i = 0; status == PARE_OK && i < n; i++) {
    status = load_rows(g, &ls[i], err);
    if (status == PARE_OK && grams)
      status = prepare_stats(&ls[i], &grams[i], rc.damp, rc.o.act_order, err);
  }

  alloc a = {0};
  e2e ee = {0};
  qcfg *chosen = calloc((size_t)n + 1, sizeof *chosen);
  if (!chosen && status == PARE_OK) status = pare_errf(err, "out of memory");
  if (status == PARE_OK && rc.auto_bits) {
    int64_t budget = 0;
    if (rc.budget > 0) {
      budget = (int64_t)floor(rc.budget * (double)all_numel / 8.0);
    } else {
      status = parse_target(rc.target, all_numel * 4, &budget, err);
    }
    budget -= fixed_bytes;
    if (status == PARE_OK && budget <= 0)
      status = pare_errf(err,
                         "the budget leaves no bytes for the weights it may quantize (the "
                         "untouched ones take %lld bytes)",
                         (long long)fixed_bytes);
    if (status == PARE_OK && (rc.e2e_sens || rc.refine)) status = e2e_begin(&ee, calib, g, err);
    if (status == PARE_OK) status = allocate(g, ls, n, &rc, budget, &ee, &a, ctx, err);
    for (int i = 0; status == PARE_OK && i < n; i++) chosen[i] = a.cand[a.choice[i]];
    if (ee.runs) pare_pass_stat(ctx, "end-to-end calibration runs", ee.runs);
  } else if (status == PARE_OK) {
    for (int i = 0; i < n; i++) chosen[i] = (qcfg){(int)rc.bits[0], rc.groups[0]};
  }

  int64_t bytes = fixed_bytes, n_q = 0, n_w = 0, n_out = 0;
  for (int i = 0; status == PARE_OK && i < n; i++) {
    qcfg c = chosen[i];
    size_t at = (size_t)i * (size_t)a.nc + (size_t)(a.choice ? a.choice[i] : 0);
    pare_pass_decide(ctx, ls[i].name, "bits", c.bits ? c.bits : 32);
    if (c.bits == 0) {
      bytes += ls[i].numel * 4;
      pare_pass_decide(ctx, ls[i].name, "bytes", (double)(ls[i].numel * 4));
      continue;
    }
    qres r;
    double change, en;
    status = quantize_layer(&ls[i], c, &rc.o, rc.gptq, &r, err);
    if (status == PARE_OK) status = layer_error(&ls[i], r.wq, &change, &en, err);
    if (status == PARE_OK) status = apply_encoding(g, &ls[i], c, &rc.o, &r, err);
    if (status == PARE_OK) {
      const pare_encoding *e = g->values[ls[i].value]->enc;
      int64_t b = (int64_t)pare_encoding_bytes(e);
      bytes += b;
      n_q++;
      n_w += ls[i].numel;
      n_out += r.n_out;
      *changed = 1;
      pare_pass_decide(ctx, ls[i].name, "group", (double)e->group_size);
      pare_pass_decide(ctx, ls[i].name, "bytes", (double)b);
      pare_pass_decide(ctx, ls[i].name, grams ? "calib_output_error" : "weight_error",
                       en > 0 ? sqrt(change / en) : 0);
      if (r.n_out) pare_pass_decide(ctx, ls[i].name, "outliers", (double)r.n_out);
      if (rc.auto_bits && rc.e2e_sens)
        pare_pass_decide(ctx, ls[i].name, "predicted_e2e_error", a.cost[at]);
    }
    qres_free(&r);
  }
  if (status == PARE_OK) {
    pare_pass_stat(ctx, "layers quantized", n_q);
    pare_pass_stat(ctx, "weights quantized", n_w);
    pare_pass_stat(ctx, "outliers", n_out);
    pare_pass_stat(ctx, "linear weight bytes", bytes);
    pare_pass_stat(ctx, "linear weights", all_numel);
    pare_pass_stat(ctx, "bits per weight (1e-3)",
                   all_numel ? llround(8000.0 * (double)bytes / (double)all_numel) : 0);
    if (calib) pare_pass_stat(ctx, "calibration samples", calib->n_samples);
  }
  if (ee.c) e2e_end(&ee);
  free(a.bytes);
  free(a.cost);
  free(a.rel);
  free(a.choice);
  free(chosen);
  for (int i = 0; i < n; i++) layer_free(&ls[i]);
  free(ls);
  if (grams) pare_gram_free(grams, n);
  free(grams);
  return status;
}

/* ------------------------------------------------------------- registry */

static const pare_pass_option quantize_options[] = {
    {"bits", PARE_OPT_STRING, "4", NULL,
     "code width 1..8, or auto: per-layer widths chosen within budget/target-size"},
    {"group", PARE_OPT_STRING, "0", NULL,
     "inputs per scale: 0 (whole output channel), 16, 32, 64 or 128; with bits=auto a + list "
     "of candidates"},
    {"symmetric", PARE_OPT_BOOL, "0", NULL, "codes centred on 0 without zero points"},
    {"scale-dtype", PARE_OPT_STRING, "f16", "f16|f32", "how scales and zero points are stored"},
    {"method", PARE_OPT_STRING, "auto", "auto|rtn|gptq",
     "rtn: round to nearest; gptq: spread rounding errors through the input Hessian "
     "(--calib); auto: gptq when --calib is given"},
    {"damp", PARE_OPT_FLOAT, "0.01", NULL,
     "gptq: added to the Hessian's diagonal, as a fraction of its mean"},
    {"act-order", PARE_OPT_BOOL, "0", NULL,
     "gptq: quantize the inputs of largest Hessian diagonal first (group scales fixed up front)"},
    {"outliers", PARE_OPT_FLOAT, "0", NULL,
     "fraction of each layer's weights (farthest from their group) kept f32 in a sparse part"},
    {"clip", PARE_OPT_BOOL, "1", NULL, "search a clipping ratio per group for the least error"},
    {"budget", PARE_OPT_FLOAT, "0", NULL,
     "bits=auto: average bits per Conv/Gemm/MatMul weight, scales, zero points and outliers "
     "included, untouched weights at 32"},
    {"target-size", PARE_OPT_STRING, "none", NULL,
     "bits=auto: bytes of all Conv/Gemm/MatMul weights, or N% of their f32 bytes"},
    {"candidates", PARE_OPT_STRING, "2+3+4+5+6+8", NULL, "bits=auto: the widths to choose from"},
    {"sensitivity", PARE_OPT_STRING, "auto", "auto|proxy|e2e",
     "bits=auto: layer output error scaled per layer by one measured end-to-end run (e2e), "
     "or relative layer output error (proxy); auto: e2e with --calib"},
    {"keep-fp32", PARE_OPT_BOOL, "1", NULL, "bits=auto: a layer may stay f32"},
    {"refine", PARE_OPT_INT, "0", NULL,
     "bits=auto: up to this many end-to-end-measured swaps after the knapsack (--calib)"},
    {"ops", PARE_OPT_STRING, "conv+gemm+matmul", NULL,
     "whose weights: conv, gemm, matmul, joined by +"},
    {"min-size", PARE_OPT_INT, "0", NULL, "leave weights with fewer elements than this f32"},
    {"probe-bits", PARE_OPT_INT, "0", NULL,
     "sensitivity=e2e: the width each layer's end-to-end run uses (0: the budget rounded down)"},
    {"e2e-min-size", PARE_OPT_INT, "0", NULL,
     "sensitivity=e2e: layers with fewer weights get no run of their own (their relative "
     "error scaled by the measured layers' median ratio)"},
    {"grid", PARE_OPT_STRING, "auto", "auto|zero|both",
     "asymmetric levels: over a range holding 0 (zero), also over [min, max] with a "
     "fractional zero point (both), or both at <= 2 bits only (auto)"},
    {"layers", PARE_OPT_STRING, "", NULL,
     "only these layers, as the report names them (node names), joined by +; empty: "
     "all); the others count at 32 bits in a budget"},
    {NULL, 0, NULL, NULL, NULL},
};

const pare_pass_info pare_passes_quantize[] = {
    {"quantize",
     "low-bit weight quantization of conv/gemm/matmul (rtn or gptq, groups, outliers), with "
     "bit allocation under a size budget",
     quantize_options, run_quantize},
    {NULL, NULL, NULL, NULL},
};
