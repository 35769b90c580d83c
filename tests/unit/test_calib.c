/*
 * test_calib.c - input statistics of layers (passes/gram.c) against sums
 * written out the obvious way, and OBS pruning (passes/obs.c): exact zero
 * counts and less output error than magnitude pruning of the same count.
 *
 * The calibration "run" here is a stand-in that hands fixed tensors to the
 * visitor, so the statistics are checked apart from any engine.
 */
#include "check.h"

#include "ir/text.h"
#include "passes/gram.h"
#include "passes/obs.h"

#include <stdint.h>

static uint64_t rng_state = 88172645463325252ull;

static double uniform(void) { /* [-1, 1) */
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / (double)(1ull << 52) - 1.0;
}

/* A fake calibration source: n_samples random tensors for every wanted
 * value, kept so the test can recompute the sums. */
typedef struct fake_calib {
  pare_calib base;
  pare_tensor *seen[8][4]; /* [sample][k] */
} fake_calib;

static int fake_run(const pare_calib *self, pare_graph *g, const int *values, int n,
                    pare_calib_visit visit, void *user, pare_err *err) {
  fake_calib *f = self->impl;
  for (int s = 0; s < self->n_samples; s++)
    for (int k = 0; k < n && k < 4; k++) {
      pare_tensor *t = pare_tensor_new(PARE_F32, &g->values[values[k]]->shape, err);
      if (!t) return PARE_ERR;
      float *d = t->data;
      for (int64_t i = 0; i < pare_tensor_numel(t); i++) d[i] = (float)uniform();
      f->seen[s][k] = t;
      if (visit(user, s, k, t, err)) return PARE_ERR;
    }
  return PARE_OK;
}

static void fake_free(fake_calib *f) {
  for (int s = 0; s < 8; s++)
    for (int k = 0; k < 4; k++) pare_tensor_free(f->seen[s][k]);
}

static pare_graph *parse(const char *text) {
  pare_err err;
  pare_graph *g = pare_graph_parse(text, "test", NULL, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  return g;
}

static int node_named(const pare_graph *g, const char *name) {
  for (int k = 0; k < g->n_nodes; k++)
    if (g->nodes[k]->name && strcmp(g->nodes[k]->name, name) == 0) return k;
  return -1;
}

/* Conv with groups, stride, padding and dilation: every block of H equals
 * the sum over samples, batch and output positions of patch patch^T. */
static void test_gram_conv(void) {
  pare_graph *g = parse("graph @c opset 17 {\n"
                        "  input %x : f32[2,4,6,5]\n"
                        "  const %w : f32[6,2,3,2] = dense<0>\n"
                        "  %y : f32[2,6,3,5] = Conv(%x, %w) {group = 2 : int, strides = [2, 1] "
                        ": ints, pads = [1, 1, 1, 1] : ints, dilations = [1, 2] : ints} @conv\n"
                        "  output %y\n"
                        "}\n");
  if (!g) return;
  fake_calib f = {.base = {.n_samples = 3, .run = fake_run}};
  f.base.impl = &f;
  int node = node_named(g, "conv");
  pare_gram gr;
  pare_err err;
  int rc = pare_gram_collect(&f.base, g, &node, 1, &gr, &err);
  CHECK_MSG(rc == PARE_OK, "%s", err.msg);
  if (rc == PARE_OK) {
    CHECK(gr.groups == 2 && gr.k == 2 * 3 * 2);
    CHECK(gr.count == 3 * 2 * 3 * 5);
    double worst = 0;
    for (int grp = 0; grp < 2; grp++) {
      double want[144] = {0};
      for (int s = 0; s < 3; s++) {
        const float *x = f.seen[s][0]->data;
        for (int b = 0; b < 2; b++)
          for (int oy = 0; oy < 3; oy++)
            for (int ox = 0; ox < 5; ox++) {
              double p[12];
              int at = 0;
              for (int c = 0; c < 2; c++)
                for (int ky = 0; ky < 3; ky++)
                  for (int kx = 0; kx < 2; kx++) {
                    int iy = oy * 2 - 1 + ky, ix = ox - 1 + kx * 2;
                    int ch = grp * 2 + c;
                    p[at++] = iy >= 0 && iy < 6 && ix >= 0 && ix < 5
                                  ? x[((b * 4 + ch) * 6 + iy) * 5 + ix]
                                  : 0.0;
                  }
              for (int i = 0; i < 12; i++)
                for (int j = 0; j < 12; j++) want[i * 12 + j] += p[i] * p[j];
            }
      }
      const double *h = pare_gram_block(&gr, grp);
      for (int i = 0; i < 144; i++) worst = fmax(worst, fabs(h[i] - want[i]));
    }
    CHECK_MSG(worst < 1e-9, "max |H - sum p p^T| = %g", worst);
  }
  pare_gram_free(&gr, 1);
  fake_free(&f);
  pare_graph_free(g);
}

/* Gemm with transA (vectors are A's columns) and a batched MatMul (rows of
 * the last two dims), collected in one run. */
static void test_gram_linear(void) {
  pare_graph *g = parse("graph @l opset 17 {\n"
                        "  input %a : f32[3,4]\n"
                        "  input %m : f32[2,3,5]\n"
                        "  const %b : f32[3,2] = dense<0>\n"
                        "  const %w : f32[5,2] = dense<0>\n"
                        "  %y : f32[4,2] = Gemm(%a, %b) {transA = 1 : int} @gemm\n"
                        "  %z : f32[2,3,2] = MatMul(%m, %w) @matmul\n"
                        "  output %y\n"
                        "  output %z\n"
                        "}\n");
  if (!g) return;
  fake_calib f = {.base = {.n_samples = 2, .run = fake_run}};
  f.base.impl = &f;
  int nodes[2] = {node_named(g, "gemm"), node_named(g, "matmul")};
  pare_gram gr[2];
  pare_err err;
  int rc = pare_gram_collect(&f.base, g, nodes, 2, gr, &err);
  CHECK_MSG(rc == PARE_OK, "%s", err.msg);
  if (rc == PARE_OK) {
    CHECK(gr[0].k == 3 && gr[0].count == 2 * 4);
    CHECK(gr[1].k == 5 && gr[1].count == 2 * 6);
    double worst = 0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        double want = 0;
        for (int s = 0; s < 2; s++) {
          const float *a = f.seen[s][0]->data; /* [3,4]: vector m is column m */
          for (int m = 0; m < 4; m++) want += (double)a[i * 4 + m] * a[j * 4 + m];
        }
        worst = fmax(worst, fabs(gr[0].h[i * 3 + j] - want));
      }
    for (int i = 0; i < 5; i++)
      for (int j = 0; j < 5; j++) {
        double want = 0;
        for (int s = 0; s < 2; s++) {
          const float *m = f.seen[s][1]->data; /* [2,3,5]: 6 rows of 5 */
          for (int r = 0; r < 6; r++) want += (double)m[r * 5 + i] * m[r * 5 + j];
        }
        worst = fmax(worst, fabs(gr[1].h[i * 5 + j] - want));
      }
    CHECK_MSG(worst < 1e-9, "max deviation %g", worst);
  }
  pare_gram_free(gr, 2);
  fake_free(&f);
  pare_graph_free(g);
}

/* A layer whose inputs are correlated (x = mixing * noise), so OBS has
 * something to exploit over magnitude. */
enum { ROWS = 8, K = 40, SAMPLES = 300 };

typedef struct obs_case {
  double w[ROWS * K];
  double x[SAMPLES * K];
  double h[K * K];
} obs_case;

static void make_case(obs_case *c) {
  rng_state = 88172645463325252ull; /* the same case whatever ran before */
  /* x_j = z_j + 0.8 z_{j+1} + noise: neighbours correlate, so a removed
   * input's contribution can move to the next one */
  double mix[K * K];
  for (int i = 0; i < K * K; i++) {
    int r = i / K, col = i % K;
    mix[i] = uniform() * 0.1 + (col == r ? 1.0 : col == (r + 1) % K ? 0.8 : 0.0);
  }
  for (int s = 0; s < SAMPLES; s++) {
    double z[K];
    for (int j = 0; j < K; j++) z[j] = uniform();
    for (int j = 0; j < K; j++) {
      double v = 0;
      for (int i = 0; i < K; i++) v += mix[j * K + i] * z[i];
      c->x[s * K + j] = v;
    }
  }
  for (int i = 0; i < K; i++)
    for (int j = 0; j < K; j++) {
      double v = 0;
      for (int s = 0; s < SAMPLES; s++) v += c->x[s * K + i] * c->x[s * K + j];
      c->h[i * K + j] = v;
    }
  for (int i = 0; i < ROWS * K; i++) c->w[i] = uniform() * (1 + i / K); /* rows of growing scale */
}

/* sum over samples of ||(W - V) x||^2 */
static double output_error(const obs_case *c, const double *v) {
  double e = 0;
  for (int s = 0; s < SAMPLES; s++)
    for (int r = 0; r < ROWS; r++) {
      double d = 0;
      for (int j = 0; j < K; j++) d += (c->w[r * K + j] - v[r * K + j]) * c->x[s * K + j];
      e += d * d;
    }
  return e;
}

/* The same number of zeros per row by magnitude, no update. */
static void magnitude_per_row(const obs_case *c, int per_row, double *v) {
  memcpy(v, c->w, sizeof c->w);
  for (int r = 0; r < ROWS; r++)
    for (int n = 0; n < per_row; n++) {
      int best = -1;
      for (int j = 0; j < K; j++)
        if (v[r * K + j] != 0 && (best < 0 || fabs(v[r * K + j]) < fabs(v[r * K + best]))) best = j;
      v[r * K + best] = 0;
    }
}

static void test_obs_unstructured(void) {
  static obs_case c;
  make_case(&c);
  for (int per_row = 0; per_row <= 1; per_row++) {
    double v[ROWS * K], m[ROWS * K];
    unsigned char zero[ROWS * K];
    memcpy(v, c.w, sizeof v);
    pare_obs_opts o = {.sparsity = 0.5, .damp = 0.01, .per_row = per_row};
    pare_err err;
    int rc = pare_obs_prune(v, ROWS, K, c.h, &o, zero, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    int total = 0;
    for (int r = 0; r < ROWS; r++) {
      int zr = 0;
      for (int j = 0; j < K; j++) {
        zr += v[r * K + j] == 0;
        CHECK(zero[r * K + j] == (v[r * K + j] == 0));
      }
      if (per_row) CHECK_MSG(zr == K / 2, "row %d has %d zeros", r, zr);
      total += zr;
    }
    CHECK_MSG(total == ROWS * K / 2, "%d zeros", total);
    magnitude_per_row(&c, K / 2, m);
    double e_obs = output_error(&c, v), e_mag = output_error(&c, m);
    CHECK_MSG(e_obs < 0.85 * e_mag, "balance=%s: OBS error %g, magnitude %g",
              per_row ? "row" : "layer", e_obs, e_mag);
  }
}

static void test_obs_nm(void) {
  static obs_case c;
  make_case(&c);
  double v[ROWS * K], m[ROWS * K];
  unsigned char zero[ROWS * K];
  memcpy(v, c.w, sizeof v);
  pare_obs_opts o = {.nm_n = 2, .nm_m = 4, .damp = 0.01};
  pare_err err;
  CHECK(pare_obs_prune(v, ROWS, K, c.h, &o, zero, &err) == 0);
  for (int r = 0; r < ROWS; r++)
    for (int g0 = 0; g0 < K; g0 += 4) {
      int nz = 0;
      for (int j = g0; j < g0 + 4; j++) nz += v[r * K + j] != 0;
      CHECK_MSG(nz <= 2, "row %d group %d keeps %d", r, g0 / 4, nz);
    }
  magnitude_per_row(&c, K / 2, m); /* not 2:4, but the same count: a weaker bound */
  CHECK(output_error(&c, v) < output_error(&c, m));
}

/* A node the statistics do not cover is an error that names it. */
static void test_gram_errors(void) {
  pare_graph *g = parse("graph @e opset 17 {\n"
                        "  input %x : f32[1,4]\n"
                        "  %y : f32[1,4] = Relu(%x) @act\n"
                        "  output %y\n"
                        "}\n");
  if (!g) return;
  fake_calib f = {.base = {.n_samples = 1, .run = fake_run}};
  f.base.impl = &f;
  int node = node_named(g, "act");
  pare_gram gr;
  pare_err err;
  CHECK(pare_gram_collect(&f.base, g, &node, 1, &gr, &err) != PARE_OK);
  CHECK_STR_CONTAINS(err.msg, "act");
  pare_gram_free(&gr, 1);
  CHECK(pare_gram_collect(NULL, g, &node, 1, &gr, &err) != PARE_OK);
  CHECK_STR_CONTAINS(err.msg, "--calib");
  fake_free(&f);
  pare_graph_free(g);
}

/* A calibration source whose every observed [R, 4] value has channel 1 =
 * channel 0 and channel 3 = 0: prune-channels with score=activation must
 * drop channels 3 and 1, and re-fit the consumer so that the output is
 * unchanged on such data (row 0 of W2 absorbs row 1). */
static int dup_run(const pare_calib *self, pare_graph *g, const int *values, int n,
                   pare_calib_visit visit, void *user, pare_err *err) {
  for (int s = 0; s < self->n_samples; s++)
    for (int k = 0; k < n; k++) {
      pare_tensor *t = pare_tensor_new(PARE_F32, &g->values[values[k]]->shape, err);
      if (!t) return PARE_ERR;
      float *d = t->data;
      for (int64_t r = 0; r < pare_tensor_numel(t) / 4; r++) {
        d[r * 4 + 0] = (float)uniform();
        d[r * 4 + 1] = d[r * 4 + 0];
        d[r * 4 + 2] = (float)uniform();
        d[r * 4 + 3] = 0;
      }
      int rc = visit(user, s, k, t, err);
      pare_tensor_free(t);
      if (rc) return PARE_ERR;
    }
  return PARE_OK;
}

/* Parses and runs `text` on g with pm; checks both succeed. */
static int run_pipeline(pare_graph *g, const char *text, const pare_pm_opts *pm) {
  pare_pipeline p;
  pare_err err;
  int rc = pare_pipeline_parse(text, &p, &err);
  if (rc == PARE_OK) rc = pare_pipeline_run(&p, g, pm, &err);
  CHECK_MSG(rc == PARE_OK, "%s: %s", text, err.msg);
  pare_pipeline_free(&p);
  return rc;
}

static void test_prune_channels_activation(void) {
  pare_graph *g = parse("graph @mlp opset 17 {\n"
                        "  input %x : f32[16,3]\n"
                        "  const %w1 : f32[3,4] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>\n"
                        "  const %w2 : f32[4,2] = dense<1, -1, 2, 0.5, -3, 1, 7, 7>\n"
                        "  %h : f32[16,4] = MatMul(%x, %w1) @fc1\n"
                        "  %r : f32[16,4] = Relu(%h)\n"
                        "  %y : f32[16,2] = MatMul(%r, %w2) @fc2\n"
                        "  output %y\n"
                        "}\n");
  if (!g) return;
  pare_calib calib = {.n_samples = 3, .run = dup_run};
  pare_pm_opts pm = {.calib = &calib};
  int rc =
      run_pipeline(g, "prune-channels<ratio=0.5;round=1;min-channels=1;score=activation>", &pm);
  int fc2 = node_named(g, "fc2"), fc1 = node_named(g, "fc1");
  if (rc == PARE_OK && fc1 >= 0 && fc2 >= 0) {
    const pare_tensor *w1 = g->values[g->nodes[fc1]->inputs[1]]->init;
    const pare_tensor *w2 = g->values[g->nodes[fc2]->inputs[1]]->init;
    CHECK(w1->shape.dims[1] == 2 && w2->shape.dims[0] == 2);
    const float *a = w1->data, *b = w2->data;
    /* kept: channel 2 and one of the twins 0 and 1 (fc1 columns {1, 5, 9}
     * or {2, 6, 10}, and {3, 7, 11}) */
    CHECK_MSG((a[0] == 1 && a[2] == 5) || (a[0] == 2 && a[2] == 6), "fc1 row 0: %g %g", a[0], a[1]);
    CHECK(a[1] == 3 && a[3] == 7);
    /* W2' row 0 = rows 0 + 1 = (3, -0.5); row 1 = row 2 = (-3, 1), up to
     * the damping's small bias */
    CHECK_NEAR(b[0], 3, 0.05);
    CHECK_NEAR(b[1], -0.5, 0.05);
    CHECK_NEAR(b[2], -3, 0.05);
    CHECK_NEAR(b[3], 1, 0.05);
  }
  pare_graph_free(g);
}

/* A Concat along the channels of two groups read by one MatMul: dup_run
 * makes each 4-column block of the [16, 8] concatenation a twin pair, a
 * free column and a zero one, so each group drops its channel 3 and one
 * twin. The consumer is shared by the two groups: its OBS state carries
 * over, so the rows it ends with are both groups' re-fits together (the
 * twins' rows summed, per segment). */
static void test_prune_channels_concat(void) {
  pare_graph *g = parse("graph @cat opset 17 {\n"
                        "  input %x : f32[16,3]\n"
                        "  const %w1 : f32[3,4] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>\n"
                        "  const %w2 : f32[3,4] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>\n"
                        "  const %w3 : f32[8,2] = dense<1, -1, 2, 0.5, -3, 1, 7, 7, 0.5, 2, 1, 1, "
                        "4, -2, 9, 9>\n"
                        "  %h1 : f32[16,4] = MatMul(%x, %w1) @fc1\n"
                        "  %h2 : f32[16,4] = MatMul(%x, %w2) @fc2\n"
                        "  %k : f32[16,8] = Concat(%h1, %h2) {axis = -1 : int} @cat\n"
                        "  %y : f32[16,2] = MatMul(%k, %w3) @fc3\n"
                        "  output %y\n"
                        "}\n");
  if (!g) return;
  pare_calib calib = {.n_samples = 3, .run = dup_run};
  pare_pm_opts pm = {.calib = &calib};
  int rc =
      run_pipeline(g, "prune-channels<ratio=0.5;round=1;min-channels=1;score=activation>", &pm);
  int fc1 = node_named(g, "fc1"), fc2 = node_named(g, "fc2"), fc3 = node_named(g, "fc3");
  if (rc == PARE_OK && fc1 >= 0 && fc2 >= 0 && fc3 >= 0) {
    const pare_tensor *w1 = g->values[g->nodes[fc1]->inputs[1]]->init;
    const pare_tensor *w2 = g->values[g->nodes[fc2]->inputs[1]]->init;
    const pare_tensor *w3 = g->values[g->nodes[fc3]->inputs[1]]->init;
    CHECK(w1->shape.dims[1] == 2 && w2->shape.dims[1] == 2 && w3->shape.dims[0] == 4);
    const float *b = w3->data;
    const float want[8] = {3, -0.5, -3, 1, 1.5, 3, 4, -2};
    for (int i = 0; i < 8; i++) CHECK_NEAR(b[i], want[i], 0.05);
  }
  pare_graph_free(g);
}

/* Collects the "skipped" reasons of a pipeline run. */
typedef struct reasons {
  char text[4][200];
  int n;
} reasons;

static void on_decision(void *user, const char *pass, const char *layer, const char *key,
                        double number, const char *value) {
  reasons *r = user;
  (void)pass, (void)layer, (void)number;
  if (value && strcmp(key, "skipped") == 0 && r->n < 4)
    snprintf(r->text[r->n++], sizeof r->text[0], "%s", value);
}

/* A Concat along the rows of two groups' [16, 4] values (not their
 * channels) keeps both whole, and says why (the reason
 * tests/passes/prune-channels-concat-skip.pir can only cite). */
static void test_prune_channels_concat_skip(void) {
  pare_graph *g = parse("graph @cat opset 17 {\n"
                        "  input %x : f32[16,3]\n"
                        "  const %w1 : f32[3,4] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>\n"
                        "  const %w2 : f32[3,4] = dense<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>\n"
                        "  const %w3 : f32[4,2] = dense<1, -1, 2, 0.5, -3, 1, 7, 7>\n"
                        "  %h1 : f32[16,4] = MatMul(%x, %w1) @fc1\n"
                        "  %h2 : f32[16,4] = MatMul(%x, %w2) @fc2\n"
                        "  %k : f32[32,4] = Concat(%h1, %h2) {axis = 0 : int} @cat\n"
                        "  %y : f32[32,2] = MatMul(%k, %w3) @fc3\n"
                        "  output %y\n"
                        "}\n");
  if (!g) return;
  reasons r = {.n = 0};
  pare_pm_opts pm = {.on_decision = on_decision, .user = &r};
  run_pipeline(g, "prune-channels<ratio=0.5;round=1;min-channels=1>", &pm);
  /* fc1 and fc2 for the Concat; fc3 produces the graph output */
  int n_cat = 0;
  for (int i = 0; i < r.n; i++)
    n_cat +=
        strcmp(r.text[i], "Concat 'cat' concatenates along another axis than the channels") == 0;
  CHECK(r.n == 3 && n_cat == 2);
  int fc1 = node_named(g, "fc1");
  if (fc1 >= 0) CHECK(g->values[g->nodes[fc1]->inputs[1]]->init->shape.dims[1] == 4);
  pare_graph_free(g);
}

int main(void) {
  RUN(test_prune_channels_activation);
  RUN(test_prune_channels_concat);
  RUN(test_prune_channels_concat_skip);
  RUN(test_gram_conv);
  RUN(test_gram_linear);
  RUN(test_gram_errors);
  RUN(test_obs_unstructured);
  RUN(test_obs_nm);
  return check_summary();
}
