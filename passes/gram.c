/*
 * gram.c - see gram.h.
 */
#include "passes/gram.h"

#include "ops/ops.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* Input vectors are gathered into row blocks of this many before each
 * rank-CHUNK update (dsyrk), which keeps BLAS at matrix-matrix speed. */
enum { CHUNK = 256 };

enum { L_CONV, L_GEMM, L_MATMUL };

typedef struct layer_geom {
  int kind;
  int input;     /* the observed value */
  pare_window w; /* Conv */
  int64_t batch, channels, in_h, in_w, out_h, out_w, kh, kw, sh, sw, dh, dw, ph, pw;
  int trans_a;  /* Gemm */
  int64_t rows; /* Gemm/MatMul: vectors per sample */
} layer_geom;

typedef struct collect_state {
  pare_graph *g;
  const int *nodes;
  int n;
  pare_gram *out;
  layer_geom *geom;
  int *values; /* distinct observed values */
  int n_values;
  double *buf; /* CHUNK x max k */
} collect_state;

static int is_op(const pare_node *n, const char *op) {
  return n->op && (!n->domain || !n->domain[0]) && strcmp(n->op, op) == 0;
}

static int conv_geom(const pare_graph *g, const pare_node *nd, layer_geom *ge, pare_gram *gr,
                     pare_err *err) {
  const pare_shape *x = &g->values[nd->inputs[0]]->shape;
  const pare_shape *ws = &g->values[nd->inputs[1]]->shape;
  if (x->rank != 3 && x->rank != 4)
    return pare_errf(err, "a Conv over %d spatial dims (1 or 2 are supported)", x->rank - 2);
  int64_t kernel[2] = {ws->dims[2], x->rank == 4 ? ws->dims[3] : 1};
  if (pare_nn_window(nd, "Conv", x, kernel, 0, &ge->w, err)) return PARE_ERR;
  int64_t groups = pare_attr_int(nd, "group", 1);
  if (groups < 1 || x->dims[1] % groups)
    return pare_errf(err, "bad group count %lld", (long long)groups);
  int two = x->rank == 4;
  ge->kind = L_CONV;
  ge->batch = x->dims[0], ge->channels = x->dims[1];
  ge->in_h = x->dims[2], ge->in_w = two ? x->dims[3] : 1;
  ge->out_h = ge->w.out[0], ge->out_w = two ? ge->w.out[1] : 1;
  ge->kh = kernel[0], ge->kw = kernel[1];
  ge->sh = ge->w.stride[0], ge->sw = two ? ge->w.stride[1] : 1;
  ge->dh = ge->w.dil[0], ge->dw = two ? ge->w.dil[1] : 1;
  ge->ph = ge->w.pad_lo[0], ge->pw = two ? ge->w.pad_lo[1] : 0;
  gr->groups = (int)groups;
  gr->k = ge->channels / groups * ge->kh * ge->kw;
  return PARE_OK;
}

static int linear_geom(const pare_graph *g, const pare_node *nd, int gemm, layer_geom *ge,
                       pare_gram *gr, pare_err *err) {
  const pare_shape *a = &g->values[nd->inputs[0]]->shape;
  if (a->rank < 1 || (gemm && a->rank != 2)) return pare_errf(err, "input A has rank %d", a->rank);
  ge->kind = gemm ? L_GEMM : L_MATMUL;
  ge->trans_a = gemm && pare_attr_int(nd, "transA", 0) != 0;
  int64_t numel = 1;
  for (int d = 0; d < a->rank; d++) numel *= a->dims[d];
  gr->groups = 1;
  gr->k = ge->trans_a ? a->dims[0] : a->dims[a->rank - 1];
  ge->rows = gr->k ? numel / gr->k : 0;
  return PARE_OK;
}

static int layer_setup(const pare_graph *g, int node, layer_geom *ge, pare_gram *gr,
                       pare_err *err) {
  const pare_node *nd = g->nodes[node];
  gr->node = node;
  if (nd->n_inputs < 2 || nd->inputs[0] < 0 || nd->inputs[1] < 0)
    return pare_errf(err, "node '%s' has no input and weight", nd->name ? nd->name : "?");
  const pare_value *x = g->values[nd->inputs[0]];
  if (x->dtype != PARE_F32 || !pare_shape_is_static(&x->shape))
    return pare_errf(err, "node '%s': the input is not f32 with a static shape", nd->name);
  ge->input = nd->inputs[0];
  int rc;
  if (is_op(nd, "Conv"))
    rc = conv_geom(g, nd, ge, gr, err);
  else if (is_op(nd, "Gemm") || is_op(nd, "MatMul"))
    rc = linear_geom(g, nd, is_op(nd, "Gemm"), ge, gr, err);
  else
    rc = pare_errf(err, "a %s has no input statistics (Conv, Gemm, MatMul only)", nd->op);
  if (rc) return pare_err_prefix(err, "node '%s'", nd->name ? nd->name : "?");
  if (gr->k <= 0 || gr->k > 16384)
    return pare_errf(err, "node '%s': input vectors of length %lld (at most 16384)", nd->name,
                     (long long)gr->k);
  size_t bytes = (size_t)gr->groups * (size_t)gr->k * (size_t)gr->k * sizeof(double);
  gr->h = calloc(1, bytes);
  if (!gr->h) return pare_errf(err, "out of memory (%zu bytes for node '%s')", bytes, nd->name);
  return PARE_OK;
}

/* H += B^T B for the `rows` vectors in buf (upper triangle only). */
static void flush(pare_gram *gr, int group, double *buf, int rows) {
  if (rows == 0) return;
  int k = (int)gr->k;
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, k, rows, 1.0, buf, k, 1.0,
              pare_gram_block(gr, group), k);
  gr->count += group == 0 ? rows : 0;
}

static void conv_accumulate(pare_gram *gr, const layer_geom *ge, const float *x, double *buf) {
  int64_t cg = ge->channels / gr->groups, plane = ge->in_h * ge->in_w;
  for (int64_t b = 0; b < ge->batch; b++)
    for (int grp = 0; grp < gr->groups; grp++) {
      const float *xg = x + (b * ge->channels + (int64_t)grp * cg) * plane;
      int rows = 0;
      for (int64_t oy = 0; oy < ge->out_h; oy++)
        for (int64_t ox = 0; ox < ge->out_w; ox++) {
          double *row = buf + (size_t)rows * (size_t)gr->k;
          int64_t at = 0;
          for (int64_t c = 0; c < cg; c++)
            for (int64_t ky = 0; ky < ge->kh; ky++) {
              int64_t iy = oy * ge->sh - ge->ph + ky * ge->dh;
              for (int64_t kx = 0; kx < ge->kw; kx++) {
                int64_t ix = ox * ge->sw - ge->pw + kx * ge->dw;
                int inside = iy >= 0 && iy < ge->in_h && ix >= 0 && ix < ge->in_w;
                row[at++] = inside ? xg[c * plane + iy * ge->in_w + ix] : 0.0;
              }
            }
          if (++rows == CHUNK) {
            flush(gr, grp, buf, rows);
            rows = 0;
          }
        }
      flush(gr, grp, buf, rows);
    }
}

static void linear_accumulate(pare_gram *gr, const layer_geom *ge, const float *a, double *buf) {
  int64_t k = gr->k;
  int rows = 0;
  for (int64_t r = 0; r < ge->rows; r++) {
    double *row = buf + (size_t)rows * (size_t)k;
    for (int64_t j = 0; j < k; j++) row[j] = ge->trans_a ? a[j * ge->rows + r] : a[r * k + j];
    if (++rows == CHUNK) {
      flush(gr, 0, buf, rows);
      rows = 0;
    }
  }
  flush(gr, 0, buf, rows);
}

static int visit(void *user, int sample, int k, const pare_tensor *t, pare_err *err) {
  (void)sample;
  collect_state *s = user;
  if (t->dtype != PARE_F32) return pare_errf(err, "calibration value is not f32");
  int value = s->values[k];
  for (int i = 0; i < s->n; i++) {
    const layer_geom *ge = &s->geom[i];
    if (ge->input != value) continue;
    if (!pare_shape_equal(&t->shape, &s->g->values[value]->shape))
      return pare_errf(err, "calibration value '%s' has an unexpected shape",
                       s->g->values[value]->name);
    if (ge->kind == L_CONV)
      conv_accumulate(&s->out[i], ge, t->data, s->buf);
    else
      linear_accumulate(&s->out[i], ge, t->data, s->buf);
  }
  return PARE_OK;
}

static void symmetrize(pare_gram *gr) {
  int64_t k = gr->k;
  for (int grp = 0; grp < gr->groups; grp++) {
    double *h = pare_gram_block(gr, grp);
    for (int64_t i = 0; i < k; i++)
      for (int64_t j = 0; j < i; j++) h[i * k + j] = h[j * k + i];
  }
}

int pare_gram_collect(const pare_calib *c, pare_graph *g, const int *nodes, int n, pare_gram *out,
                      pare_err *err) {
  memset(out, 0, (size_t)n * sizeof *out);
  if (!c) return pare_errf(err, "no calibration data (--calib DIR)");
  collect_state s = {.g = g, .nodes = nodes, .n = n, .out = out};
  s.geom = calloc((size_t)n + 1, sizeof *s.geom);
  s.values = calloc((size_t)n + 1, sizeof *s.values);
  int rc = s.geom && s.values ? PARE_OK : pare_errf(err, "out of memory");
  int64_t max_k = 1;
  for (int i = 0; rc == PARE_OK && i < n; i++) {
    rc = layer_setup(g, nodes[i], &s.geom[i], &out[i], err);
    if (rc) break;
    if (out[i].k > max_k) max_k = out[i].k;
    int seen = 0;
    for (int j = 0; j < s.n_values && !seen; j++) seen = s.values[j] == s.geom[i].input;
    if (!seen) s.values[s.n_values++] = s.geom[i].input;
  }
  if (rc == PARE_OK) {
    s.buf = malloc((size_t)CHUNK * (size_t)max_k * sizeof *s.buf);
    if (!s.buf) rc = pare_errf(err, "out of memory");
  }
  if (rc == PARE_OK && n > 0) rc = c->run(c, g, s.values, s.n_values, visit, &s, err);
  for (int i = 0; rc == PARE_OK && i < n; i++) symmetrize(&out[i]);
  free(s.buf);
  free(s.geom);
  free(s.values);
  return rc;
}

void pare_gram_damped(const double *h, int64_t k, double damp, int attempt, double *out) {
  double mean = 0;
  for (int64_t j = 0; j < k; j++) mean += h[j * k + j];
  mean = mean > 0 ? mean / (double)k : 1.0;
  double lambda = damp * mean;
  for (int i = 0; i < attempt; i++) lambda *= 10;
  memcpy(out, h, (size_t)(k * k) * sizeof *out);
  for (int64_t j = 0; j < k; j++) {
    if (out[j * k + j] == 0) out[j * k + j] = mean;
    out[j * k + j] += lambda;
  }
}

void pare_gram_free(pare_gram *grams, int n) {
  for (int i = 0; grams && i < n; i++) {
    free(grams[i].h);
    grams[i].h = NULL;
  }
}
