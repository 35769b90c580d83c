/*
 * w8a8.c - static 8-bit quantization of activations and weights in ONNX
 * QDQ form (what ONNX Runtime's quantize_static writes).
 *
 * For each chosen Conv, Gemm or MatMul with a constant f32 weight, the
 * layer's input range is observed on the calibration data (--calib, which
 * is required) and the layer is rewritten as
 *
 *   x -> QuantizeLinear(x_scale, x_zp) -> DequantizeLinear(x_scale, x_zp) -+
 *   w_q (i8 constant) -> DequantizeLinear(w_scale, axis = out channel) ---+-> Conv
 *
 * Activations are u8 (asymmetric: the observed [min, max] widened to hold 0
 * maps onto [0, 255]) or i8; symmetric makes the zero point 0 (i8) or 128
 * (u8). Weights are symmetric per output channel, int8 ([-127, 127]) or with
 * reduce-range 7-bit ([-64, 63]), the range ONNX Runtime uses on AVX2 so
 * that u8 x s8 pair sums (vpmaddubsw) cannot saturate. The weight is stored
 * as the i8 constant: one byte per weight. The interpreter runs the graph as
 * written (the reference); the backend recognises the pattern and runs the
 * layer on integer kernels (backend/emit_int8.c).
 *
 * Calibration: minmax takes the extreme values over all samples;
 * percentile takes, per sample, the given upper percentile (and the lower
 * complement) of the layer's input, averaged over samples, which ignores
 * rare outliers.
 *
 * Layers where 8-bit arithmetic does not pay stay f32: depthwise convs
 * (unless depthwise=1), weights with fewer than min-size elements unless
 * the layer does at least min-macs multiply-adds (a small weight at high
 * resolution), and the nodes named in skip.
 */
#include "passes/pass_util.h"
#include "passes/passes.h"

#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct target {
  int node;
  int x;    /* the observed input value */
  int w;    /* the weight value */
  int axis; /* the weight's output-channel axis */
  double lo, hi;
  double lo_sum, hi_sum; /* percentile: sums of per-sample bounds */
  int samples;
} target;

typedef struct observe_state {
  target *ts;
  int n;
  const int *values; /* distinct observed values */
  int n_values;
  int percentile;
  double pct;
  float *buf;
  int64_t buf_n;
} observe_state;

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* The q-th quantile (0..1) of buf[0..n), which is sorted in place. */
static double quantile(float *buf, int64_t n, double q) {
  qsort(buf, (size_t)n, sizeof *buf, cmp_float);
  double at = q * (double)(n - 1);
  int64_t i = (int64_t)floor(at);
  if (i >= n - 1) return buf[n - 1];
  double f = at - (double)i;
  return buf[i] * (1 - f) + buf[i + 1] * f;
}

static int observe(void *user, int sample, int k, const pare_tensor *t, pare_err *err) {
  (void)sample;
  observe_state *s = user;
  if (t->dtype != PARE_F32) return pare_errf(err, "calibration value is not f32");
  int64_t n = pare_tensor_numel(t);
  if (n == 0) return PARE_OK;
  const float *x = t->data;
  double lo = x[0], hi = x[0];
  if (s->percentile) {
    if (n > s->buf_n) {
      float *nb = realloc(s->buf, (size_t)n * sizeof *nb);
      if (!nb) return pare_errf(err, "out of memory");
      s->buf = nb, s->buf_n = n;
    }
    memcpy(s->buf, x, (size_t)n * sizeof *x);
    hi = quantile(s->buf, n, s->pct / 100);
    lo = quantile(s->buf, n, 1 - s->pct / 100);
  } else {
    for (int64_t i = 1; i < n; i++) {
      if (x[i] < lo) lo = x[i];
      if (x[i] > hi) hi = x[i];
    }
  }
  int v = s->values[k];
  for (int i = 0; i < s->n; i++) {
    target *tg = &s->ts[i];
    if (tg->x != v) continue;
    if (tg->samples == 0 || lo < tg->lo) tg->lo = lo;
    if (tg->samples == 0 || hi > tg->hi) tg->hi = hi;
    tg->lo_sum += lo, tg->hi_sum += hi;
    tg->samples++;
  }
  return PARE_OK;
}

typedef struct w8a8_opts {
  unsigned mask;
  int64_t min_size, min_macs;
  const char *skip;
  int depthwise;
} w8a8_opts;

/* Whether node n is a layer to quantize; fills t. */
static int choose(const pare_graph *g, int k, const w8a8_opts *o, target *t) {
  const pare_node *n = g->nodes[k];
  int conv = pare_pass_is_op(n, "Conv"), gemm = pare_pass_is_op(n, "Gemm");
  int mm = pare_pass_is_op(n, "MatMul");
  if (!((conv && (o->mask & PARE_OP_CONV)) || (gemm && (o->mask & PARE_OP_GEMM)) ||
        (mm && (o->mask & PARE_OP_MATMUL))))
    return 0;
  if (n->n_inputs < 2 || n->inputs[0] < 0 || n->inputs[1] < 0) return 0;
  if (n->name && pare_pass_name_in_list(o->skip, n->name)) return 0;
  const pare_value *x = g->values[n->inputs[0]], *w = g->values[n->inputs[1]];
  if (x->init || x->dtype != PARE_F32 || !pare_shape_is_static(&x->shape)) return 0;
  if (!w->init || w->enc || w->dtype != PARE_F32) return 0;
  int64_t numel = pare_tensor_numel(w->init);
  if (numel == 0 || n->n_outputs < 1 || n->outputs[0] < 0) return 0;
  const pare_value *y = g->values[n->outputs[0]];
  if (!pare_shape_is_static(&y->shape)) return 0;
  memset(t, 0, sizeof *t);
  t->node = k, t->x = n->inputs[0], t->w = n->inputs[1];
  if (conv) {
    if (w->shape.rank < 3) return 0;
    int64_t group = pare_attr_int(n, "group", 1);
    if (group > 1 && group == x->shape.dims[1] && !o->depthwise) return 0;
    t->axis = 0;
  } else if (gemm) {
    if (w->shape.rank != 2 || pare_attr_float(n, "alpha", 1.0f) != 1.0f) return 0;
    t->axis = pare_attr_int(n, "transB", 0) ? 0 : 1;
  } else {
    if (w->shape.rank != 2) return 0;
    t->axis = 1;
  }
  /* Few weights but many MACs (a layer at high resolution) pays too. */
  int64_t macs = numel / w->shape.dims[t->axis];
  for (int d = 0; d < y->shape.rank; d++) macs *= y->shape.dims[d];
  return numel >= o->min_size || (o->min_macs > 0 && macs >= o->min_macs);
}

/* Adds a constant scalar (rank 0) of dtype dt holding v. */
static int add_scalar(pare_graph *g, const char *base, const char *suffix, pare_dtype dt, double v,
                      pare_err *err) {
  pare_shape s = pare_shape_make(0, NULL);
  pare_tensor *t = pare_tensor_new(dt, &s, err);
  if (!t) return PARE_ERR;
  pare_tensor_set_f64(t, 0, v);
  char *name = pare_pass_unique_name(g, base, suffix);
  if (!name) {
    pare_tensor_free(t);
    return pare_errf(err, "out of memory");
  }
  int id = pare_graph_add_const(g, name, t, err);
  free(name);
  return id;
}

static int add_value(pare_graph *g, const char *base, const char *suffix, pare_dtype dt,
                     const pare_shape *s, pare_err *err) {
  char *name = pare_pass_unique_name(g, base, suffix);
  if (!name) return pare_errf(err, "out of memory");
  int id = pare_graph_add_value(g, name, dt, s, err);
  free(name);
  return id;
}

typedef struct act_params {
  pare_dtype dt;
  double scale;
  int zp;
} act_params;

/* Scale and zero point for the range [lo, hi] (widened to hold 0). */
static act_params act_quant(double lo, double hi, int u8, int symmetric) {
  act_params a;
  lo = lo < 0 ? lo : 0;
  hi = hi > 0 ? hi : 0;
  a.dt = u8 ? PARE_U8 : PARE_I8;
  if (symmetric) {
    double m = fmax(-lo, hi);
    a.scale = m > 0 ? m / 127.0 : 1.0;
    a.zp = u8 ? 128 : 0;
  } else {
    double qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
    a.scale = hi > lo ? (hi - lo) / (qmax - qmin) : 1.0;
    double z = qmin - lo / a.scale;
    z = rint(z);
    a.zp = (int)(z < qmin ? qmin : z > qmax ? qmax : z);
  }
  a.scale = (float)a.scale;
  return a;
}

/* Rewrites one layer into QDQ form (see the file comment). */
static int rewrite(pare_graph *g, const target *t, act_params a, int qmax_w, pare_pass_ctx *ctx,
                   pare_err *err) {
  pare_node *n = g->nodes[t->node];
  const char *base = n->name && n->name[0] ? n->name : g->values[t->x]->name;
  pare_value *xv = g->values[t->x];
  pare_shape xs = xv->shape;
  int s = add_scalar(g, base, ".x_scale", PARE_F32, a.scale, err);
  int z = s < 0 ? -1 : add_scalar(g, base, ".x_zero_point", a.dt, a.zp, err);
  if (s < 0 || z < 0) return PARE_ERR;
  int xq = add_value(g, base, ".x_q", a.dt, &xs, err);
  int xdq = xq < 0 ? -1 : add_value(g, base, ".x_dq", PARE_F32, &xs, err);
  if (xq < 0 || xdq < 0) return PARE_ERR;

  /* Per-channel symmetric weights. */
  const pare_tensor *w = g->values[t->w]->init;
  pare_shape ws = w->shape;
  int64_t C = ws.dims[t->axis], inner = 1, numel = pare_tensor_numel(w);
  for (int d = t->axis + 1; d < ws.rank; d++) inner *= ws.dims[d];
  pare_shape cs = pare_shape_make(1, &C);
  pare_tensor *sc = pare_tensor_new(PARE_F32, &cs, err);
  pare_tensor *q = sc ? pare_tensor_new(PARE_I8, &ws, err) : NULL;
  if (!q) {
    pare_tensor_free(sc);
    return PARE_ERR;
  }
  const float *wd = w->data;
  float *scale = sc->data;
  double *amax = calloc((size_t)C, sizeof *amax);
  if (!amax) {
    pare_tensor_free(sc);
    pare_tensor_free(q);
    return pare_errf(err, "out of memory");
  }
  for (int64_t i = 0; i < numel; i++) {
    int64_t c = (i / inner) % C;
    amax[c] = fmax(amax[c], fabs(wd[i]));
  }
  for (int64_t c = 0; c < C; c++) scale[c] = amax[c] > 0 ? (float)(amax[c] / qmax_w) : 1.0f;
  free(amax);
  int8_t *qd = q->data;
  int qmin_w = qmax_w == 63 ? -64 : -qmax_w;
  for (int64_t i = 0; i < numel; i++) {
    float r = rintf(wd[i] / scale[(i / inner) % C]);
    qd[i] = (int8_t)(r < qmin_w ? qmin_w : r > qmax_w ? qmax_w : r);
  }
  const char *wname = g->values[t->w]->name;
  char *nm = pare_pass_unique_name(g, wname, ".q");
  int wq = nm ? pare_graph_add_const(g, nm, q, err) : -1;
  free(nm);
  if (wq < 0) {
    pare_tensor_free(sc);
    if (!nm) pare_tensor_free(q);
    return nm ? PARE_ERR : pare_errf(err, "out of memory");
  }
  nm = pare_pass_unique_name(g, wname, ".scale");
  int wsc = nm ? pare_graph_add_const(g, nm, sc, err) : -1;
  free(nm);
  if (wsc < 0) {
    if (!nm) pare_tensor_free(sc);
    return nm ? PARE_ERR : pare_errf(err, "out of memory");
  }
  int wdq = add_value(g, wname, ".dq", PARE_F32, &ws, err);
  if (wdq < 0) return PARE_ERR;

  char *qn = pare_pass_unique_name(g, base, ".quant");
  char *dqn = pare_pass_unique_name(g, base, ".dequant");
  char *wdn = pare_pass_unique_name(g, wname, ".dequant");
  int rc = qn && dqn && wdn ? PARE_OK : pare_errf(err, "out of memory");
  int ins[3];
  if (rc == PARE_OK) {
    ins[0] = t->x, ins[1] = s, ins[2] = z;
    rc = pare_graph_add_node(g, "QuantizeLinear", qn, ins, 3, &xq, 1, err) < 0 ? PARE_ERR : PARE_OK;
  }
  if (rc == PARE_OK) {
    ins[0] = xq;
    rc = pare_graph_add_node(g, "DequantizeLinear", dqn, ins, 3, &xdq, 1, err) < 0 ? PARE_ERR
                                                                                   : PARE_OK;
  }
  if (rc == PARE_OK) {
    ins[0] = wq, ins[1] = wsc;
    int id = pare_graph_add_node(g, "DequantizeLinear", wdn, ins, 2, &wdq, 1, err);
    rc = id < 0 ? PARE_ERR : pare_node_set_int(g->nodes[id], "axis", t->axis, err);
  }
  free(qn);
  free(dqn);
  free(wdn);
  if (rc) return PARE_ERR;
  n = g->nodes[t->node];
  n->inputs[0] = xdq;
  n->inputs[1] = wdq;
  pare_pass_decide(ctx, base, "x_scale", a.scale);
  pare_pass_decide(ctx, base, "x_zero_point", a.zp);
  pare_pass_decide(ctx, base, "weight_bits", qmax_w == 63 ? 7 : 8);
  return PARE_OK;
}

static int run_w8a8(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx, int *changed,
                    pare_err *err) {
  const pare_calib *calib = pare_pass_calib(ctx);
  int percentile = strcmp(args[0].s, "percentile") == 0;
  double pct = args[1].f;
  int u8 = strcmp(args[2].s, "u8") == 0;
  int symmetric = (int)args[3].i;
  int reduce_range = (int)args[4].i;
  w8a8_opts o = {
      .min_size = args[6].i, .skip = args[7].s, .depthwise = (int)args[8].i, .min_macs = args[9].i};
  if (pare_pass_parse_ops(args[5].s, &o.mask, err)) return PARE_ERR;
  if (!(pct > 50 && pct <= 100))
    return pare_errf(err, "option 'percentile' must be in (50, 100], not %g", pct);
  if (o.min_size < 0) return pare_errf(err, "option 'min-size' must be >= 0");
  if (o.min_macs < 0) return pare_errf(err, "option 'min-macs' must be >= 0");
  if (!calib)
    return pare_errf(err, "static activation quantization needs calibration data (--calib DIR)");

  target *ts = calloc((size_t)g->n_nodes + 1, sizeof *ts);
  int *values = calloc((size_t)g->n_nodes + 1, sizeof *values);
  if (!ts || !values) {
    free(ts);
    free(values);
    return pare_errf(err, "out of memory");
  }
  int n = 0, nv = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    if (!choose(g, k, &o, &ts[n])) continue;
    int seen = 0;
    for (int i = 0; i < nv && !seen; i++) seen = values[i] == ts[n].x;
    if (!seen) values[nv++] = ts[n].x;
    n++;
  }
  observe_state st = {
      .ts = ts, .n = n, .values = values, .n_values = nv, .percentile = percentile, .pct = pct};
  int rc = nv ? calib->run(calib, g, values, nv, observe, &st, err) : PARE_OK;
  free(st.buf);
  for (int i = 0; i < n && rc == PARE_OK; i++) {
    target *t = &ts[i];
    if (t->samples == 0) continue;
    double lo = percentile ? t->lo_sum / t->samples : t->lo;
    double hi = percentile ? t->hi_sum / t->samples : t->hi;
    act_params a = act_quant(lo, hi, u8, symmetric);
    rc = rewrite(g, t, a, reduce_range ? 63 : 127, ctx, err);
    if (rc) pare_err_prefix(err, "node '%s'", g->nodes[t->node]->name);
  }
  free(values);
  if (rc == PARE_OK && n > 0) {
    rc = pare_graph_toposort(g, err);
    if (rc == PARE_OK) rc = pare_graph_compact(g, err);
    *changed = 1;
  }
  free(ts);
  if (rc) return PARE_ERR;
  pare_pass_stat(ctx, "layers quantized", n);
  pare_pass_stat(ctx, "calibration samples", calib->n_samples);
  return PARE_OK;
}

static const pare_pass_option w8a8_options[] = {
    {"calib", PARE_OPT_STRING, "minmax", "minmax|percentile",
     "activation range: extremes over all samples, or the averaged per-sample percentile"},
    {"percentile", PARE_OPT_FLOAT, "99.999", NULL,
     "calib=percentile: upper percentile (the lower bound uses 100 minus it), in (50, 100]"},
    {"activations", PARE_OPT_STRING, "u8", "u8|i8", "activation type"},
    {"symmetric", PARE_OPT_BOOL, "0", NULL,
     "symmetric activations (zero point 0 for i8, 128 for u8)"},
    {"reduce-range", PARE_OPT_BOOL, "0", NULL,
     "7-bit weights [-64, 63], as ONNX Runtime on AVX2 without VNNI, where they run on "
     "vpmaddubsw (about 1.4x the speed of 8-bit ones there)"},
    {"ops", PARE_OPT_STRING, "conv+gemm+matmul", NULL,
     "which layers: conv, gemm, matmul, joined by +"},
    {"min-size", PARE_OPT_INT, "1024", NULL,
     "leave layers with fewer weights than this f32 (unless they reach min-macs)"},
    {"skip", PARE_OPT_STRING, "", NULL, "node names to leave f32, joined by +"},
    {"depthwise", PARE_OPT_BOOL, "0", NULL,
     "also quantize depthwise convs (the backend runs them f32 anyway)"},
    {"min-macs", PARE_OPT_INT, "0", NULL,
     "quantize layers under min-size that do at least this many multiply-adds (0: none; on "
     "the PP-OCRv4 detector 4000000 takes the first convs: about 1.1x faster, mask IoU 0.98 -> "
     "0.96)"},
    {NULL, 0, NULL, NULL, NULL},
};

const pare_pass_info pare_passes_w8a8[] = {
    {"w8a8",
     "static 8-bit activations and per-channel int8 weights for conv/gemm/matmul, in ONNX "
     "QDQ form (needs --calib)",
     w8a8_options, run_w8a8},
    {NULL, NULL, NULL, NULL},
};
