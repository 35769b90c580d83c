/*
 * test_slice.c - the slice pass (passes/slice.c) numerically: a small
 * pre-LN transformer-like graph and a linear pair run through the
 * reference interpreter before and after the pass on random inputs.
 *
 *   - ratio=0 only rotates: the outputs agree (the rotation is orthogonal
 *     and the LN becomes an RMS norm of a zero-mean stream), with the PCA
 *     of the writers' weights and with the PCA of calibration data (here
 *     the graph itself run by the interpreter);
 *   - a stream that spans only r directions sliced to width r: the outputs
 *     still agree, and the weights lost exactly the expected parameters;
 *   - heads=1 on a block whose second head the projection ignores: that
 *     head goes and the outputs agree.
 */
#include "check.h"

#include "interp/interp.h"
#include "ir/text.h"
#include "passes/passes.h"

#include <stdarg.h>
#include <stdint.h>

static uint64_t rng_state = 88172645463325252ull;

static double uniform(void) { /* [-1, 1) */
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / (double)(1ull << 52) - 1.0;
}

/* ------------------------------------------------------------ graph text */

typedef struct sbuf {
  char p[1 << 16];
  size_t len;
} sbuf;

static void sb(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->p + b->len, sizeof b->p - b->len, fmt, ap);
  va_end(ap);
  if (n > 0) b->len += (size_t)n;
}

/* A constant [r, c] (c == 0: [r]) of uniform values times scale, or of
 * the given values. */
static void sb_const(sbuf *b, const char *name, int r, int c, double scale, const float *vals) {
  int n = r * (c ? c : 1);
  if (c)
    sb(b, "  const %%%s : f32[%d,%d] = dense<", name, r, c);
  else
    sb(b, "  const %%%s : f32[%d] = dense<", name, r);
  for (int i = 0; i < n; i++)
    sb(b, "%s%.7g", i ? ", " : "", vals ? (double)vals[i] : scale * uniform());
  sb(b, ">\n");
}

/* A decomposed LN of %x into %y (rows of width d) named by prefix p. */
static void sb_ln(sbuf *b, const char *p, const char *x, const char *y, int t, int d) {
  char gname[32], bname[32];
  snprintf(gname, sizeof gname, "%s_gamma", p);
  snprintf(bname, sizeof bname, "%s_beta", p);
  float gam[64], bet[64];
  for (int i = 0; i < d; i++)
    gam[i] = (float)(1 + 0.5 * uniform()), bet[i] = (float)(0.3 * uniform());
  sb_const(b, gname, d, 0, 0, gam);
  sb_const(b, bname, d, 0, 0, bet);
  sb(b,
     "  %%%s_m : f32[%d,1] = ReduceMean(%%%s, %%axes)\n"
     "  %%%s_c : f32[%d,%d] = Sub(%%%s, %%%s_m)\n"
     "  %%%s_p : f32[%d,%d] = Pow(%%%s_c, %%two)\n"
     "  %%%s_v : f32[%d,1] = ReduceMean(%%%s_p, %%axes)\n"
     "  %%%s_e : f32[%d,1] = Add(%%%s_v, %%eps)\n"
     "  %%%s_s : f32[%d,1] = Sqrt(%%%s_e)\n"
     "  %%%s_n : f32[%d,%d] = Div(%%%s_c, %%%s_s)\n"
     "  %%%s_g : f32[%d,%d] = Mul(%%%s_n, %%%s)\n"
     "  %%%s : f32[%d,%d] = Add(%%%s_g, %%%s)\n",
     p, t, x, p, t, d, x, p, p, t, d, p, p, t, p, p, t, p, p, t, p, p, t, d, p, p, p, t, d, p,
     gname, y, t, d, p, bname);
}

static pare_graph *parse(const char *text) {
  pare_err err;
  pare_graph *g = pare_graph_parse(text, "test", NULL, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  return g;
}

/* Two blocks of width d on t tokens: an entry (Relu of x W_in when
 * relu_entry, else x W_in + b), LN -> MLP (d -> 2d -> d, Relu) added to the
 * stream, twice, a last LN and a head MatMul (no bias) to 3 outputs. With
 * rank r > 0 every writer writes only into the span of r fixed directions
 * (rows of a [r, d] basis), so the stream spans at most r + 1 of them. */
static pare_graph *transformer(int t, int d, int r, int relu_entry) {
  static sbuf b;
  b.len = 0;
  float basis[8 * 64], w[64 * 64];
  for (int i = 0; i < (r ? r : 1) * d; i++) basis[i] = (float)uniform();
  sb(&b, "graph @tr opset 17 {\n  input %%x : f32[%d,%d]\n", t, d);
  sb(&b, "  const %%axes : i64[1] = dense<-1>\n  const %%two : f32[] = dense<2>\n");
  sb(&b, "  const %%eps : f32[] = dense<0.00001>\n");
  /* A writer [m, d]: random, or random [m, r] times the basis. */
#define WRITER(name, m)                                                                            \
  do {                                                                                             \
    for (int i_ = 0; i_ < (m); i_++) {                                                             \
      double c_[8];                                                                                \
      for (int q_ = 0; q_ < r; q_++) c_[q_] = uniform();                                           \
      for (int j_ = 0; j_ < d; j_++) {                                                             \
        double s_ = 0;                                                                             \
        if (!r) s_ = uniform();                                                                    \
        for (int q_ = 0; q_ < r; q_++) s_ += c_[q_] * basis[q_ * d + j_];                          \
        w[i_ * d + j_] = (float)(s_ / sqrt((double)d));                                            \
      }                                                                                            \
    }                                                                                              \
    sb_const(&b, name, m, d, 0, w);                                                                \
  } while (0)
  WRITER("w_in", d);
  if (relu_entry) {
    sb(&b, "  %%pre : f32[%d,%d] = MatMul(%%x, %%w_in)\n  %%s0 : f32[%d,%d] = Relu(%%pre)\n", t, d,
       t, d);
  } else {
    float bias[64];
    double co[8];
    for (int q = 0; q < r; q++) co[q] = uniform();
    for (int j = 0; j < d; j++) {
      double s = 0;
      for (int q = 0; q < r; q++) s += co[q] * basis[q * d + j];
      bias[j] = (float)(r ? s : uniform());
    }
    sb_const(&b, "b_in", d, 0, 0, bias);
    sb(&b, "  %%pre : f32[%d,%d] = MatMul(%%x, %%w_in)\n  %%s0 : f32[%d,%d] = Add(%%pre, %%b_in)\n",
       t, d, t, d);
  }
  for (int k = 0; k < 2; k++) {
    char p[16], x[16], y[16], n1[16], n2[16], b1[16], b2[16];
    snprintf(p, sizeof p, "ln%d", k);
    snprintf(x, sizeof x, "s%d", k);
    snprintf(y, sizeof y, "y%d", k);
    snprintf(n1, sizeof n1, "w%d_1", k);
    snprintf(n2, sizeof n2, "w%d_2", k);
    snprintf(b1, sizeof b1, "b%d_1", k);
    snprintf(b2, sizeof b2, "b%d_2", k);
    sb_ln(&b, p, x, y, t, d);
    sb_const(&b, n1, d, 2 * d, 1 / sqrt((double)d), NULL);
    sb_const(&b, b1, 2 * d, 0, 0.1, NULL);
    WRITER(n2, 2 * d);
    float bias[64];
    double co[8];
    for (int q = 0; q < r; q++) co[q] = 0.1 * uniform();
    for (int j = 0; j < d; j++) {
      double s = 0;
      for (int q = 0; q < r; q++) s += co[q] * basis[q * d + j];
      bias[j] = (float)(r ? s : 0.1 * uniform());
    }
    sb_const(&b, b2, d, 0, 0, bias);
    sb(&b,
       "  %%h%d_m : f32[%d,%d] = MatMul(%%%s, %%%s)\n"
       "  %%h%d_a : f32[%d,%d] = Add(%%h%d_m, %%%s)\n"
       "  %%h%d_r : f32[%d,%d] = Relu(%%h%d_a)\n"
       "  %%h%d_o : f32[%d,%d] = MatMul(%%h%d_r, %%%s)\n"
       "  %%h%d_b : f32[%d,%d] = Add(%%h%d_o, %%%s)\n"
       "  %%s%d : f32[%d,%d] = Add(%%%s, %%h%d_b)\n",
       k, t, 2 * d, y, n1, k, t, 2 * d, k, b1, k, t, 2 * d, k, k, t, d, k, n2, k, t, d, k, b2,
       k + 1, t, d, x, k);
  }
  sb_ln(&b, "lnf", "s2", "yf", t, d);
  sb_const(&b, "w_head", d, 3, 1, NULL);
  sb(&b, "  %%out : f32[%d,3] = MatMul(%%yf, %%w_head)\n  output %%out\n}\n", t);
#undef WRITER
  return parse(b.p);
}

/* A calibration source that runs the graph through the interpreter on
 * random inputs (uniform, a fixed sequence per sample). */
typedef struct interp_calib {
  pare_calib base;
  uint64_t seed;
} interp_calib;

static pare_tensor *random_input(const pare_graph *g, pare_err *err) {
  pare_tensor *t = pare_tensor_new(PARE_F32, &g->values[g->inputs[0]]->shape, err);
  for (int64_t i = 0; t && i < pare_tensor_numel(t); i++) ((float *)t->data)[i] = (float)uniform();
  return t;
}

static int interp_run(const pare_calib *self, pare_graph *g, const int *values, int n,
                      pare_calib_visit visit, void *user, pare_err *err) {
  const interp_calib *c = self->impl;
  uint64_t saved = rng_state;
  rng_state = c->seed;
  int n_out = g->n_outputs, rc = PARE_OK;
  int was[64];
  for (int k = 0; k < n && rc == PARE_OK; k++) {
    was[k] = g->values[values[k]]->is_graph_output;
    rc = pare_graph_add_output(g, values[k], err);
  }
  for (int s = 0; rc == PARE_OK && s < self->n_samples; s++) {
    pare_tensor *in = random_input(g, err);
    pare_tensor *out[80] = {0};
    rc = in ? pare_interp_run(g, &in, out, err) : PARE_ERR;
    for (int k = 0; rc == PARE_OK && k < n; k++) rc = visit(user, s, k, out[n_out + k], err);
    for (int j = 0; j < g->n_outputs; j++) pare_tensor_free(out[j]);
    pare_tensor_free(in);
  }
  g->n_outputs = n_out;
  for (int k = 0; k < n; k++) g->values[values[k]]->is_graph_output = was[k];
  rng_state = saved;
  return rc;
}

/* Largest |a - b| over outputs of g0 and g1 on n random inputs. */
static double max_diff(const pare_graph *g0, const pare_graph *g1, int n) {
  double worst = 0;
  for (int s = 0; s < n; s++) {
    pare_err err;
    pare_tensor *in = random_input(g0, &err), *o0 = NULL, *o1 = NULL;
    int rc = pare_interp_run(g0, &in, &o0, &err);
    CHECK_MSG(rc == PARE_OK, "%s", err.msg);
    rc = rc ? rc : pare_interp_run(g1, &in, &o1, &err);
    CHECK_MSG(rc == PARE_OK, "%s", err.msg);
    if (rc == PARE_OK) {
      CHECK(pare_tensor_numel(o0) == pare_tensor_numel(o1));
      for (int64_t i = 0; i < pare_tensor_numel(o0); i++) {
        double dv = fabs(((float *)o0->data)[i] - ((float *)o1->data)[i]);
        if (!(dv <= worst)) worst = dv;
      }
    }
    pare_tensor_free(in), pare_tensor_free(o0), pare_tensor_free(o1);
  }
  return worst;
}

static int64_t params(const pare_graph *g) {
  int64_t n = 0;
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v]->init && g->values[v]->dtype == PARE_F32 &&
        g->values[v]->init->shape.rank >= 1)
      n += pare_tensor_numel(g->values[v]->init);
  return n;
}

/* g through pipeline (with calib if non-NULL); 0 on success. */
static int run(pare_graph *g, const char *pipeline, const pare_calib *calib) {
  pare_pipeline p;
  pare_err err;
  int rc = pare_pipeline_parse(pipeline, &p, &err);
  pare_pm_opts opts = {.calib = calib, .verify_each = 1};
  if (rc == PARE_OK) rc = pare_pipeline_run(&p, g, &opts, &err);
  CHECK_MSG(rc == PARE_OK, "%s: %s", pipeline, err.msg);
  pare_pipeline_free(&p);
  return rc;
}

static int count_op(const pare_graph *g, const char *op) {
  int n = 0;
  for (int k = 0; k < g->n_nodes; k++) n += g->nodes[k]->op && strcmp(g->nodes[k]->op, op) == 0;
  return n;
}

static pare_graph *copy(const pare_graph *g) {
  pare_err err;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  pare_print_opts po = {0};
  int rc = pare_graph_print(f, g, &po, &err);
  fclose(f);
  CHECK_MSG(rc == PARE_OK, "%s", err.msg);
  pare_graph *c = rc == PARE_OK ? parse(text) : NULL;
  free(text);
  return c;
}

/* Rotation only: the same outputs, the LN's mean and Sub gone. */
static void test_rotate_exact(void) {
  for (int calib = 0; calib < 2; calib++)
    for (int relu = 0; relu < 2; relu++) {
      pare_graph *g0 = transformer(5, 8, 0, relu);
      pare_graph *g1 = g0 ? copy(g0) : NULL;
      if (!g1) return;
      interp_calib c = {.base = {.n_samples = 4, .run = interp_run}, .seed = 7};
      c.base.impl = &c;
      if (run(g1, calib ? "slice<ratio=0>" : "slice<ratio=0;pca=weights>",
              calib ? &c.base : NULL) == PARE_OK) {
        CHECK(count_op(g1, "Sub") == 0);
        CHECK(count_op(g1, "ReduceMean") == 3);
        CHECK(count_op(g1, "MatMul") == count_op(g0, "MatMul") + relu);
        double dv = max_diff(g0, g1, 3);
        CHECK_MSG(dv < 1e-4, "calib %d relu %d: outputs differ by %g", calib, relu, dv);
      }
      pare_graph_free(g0), pare_graph_free(g1);
    }
}

/* A stream in the span of 3 directions (the entry, the writers and their
 * biases all in it) sliced from 8 to 3 coordinates: exact up to eps (the
 * centered span has at most 3 dimensions), and 5 of 8 of every stream
 * weight's rows or columns gone. */
static void test_slice_low_rank(void) {
  for (int calib = 0; calib < 2; calib++) {
    pare_graph *g0 = transformer(6, 8, 3, 0);
    pare_graph *g1 = g0 ? copy(g0) : NULL;
    if (!g1) return;
    interp_calib c = {.base = {.n_samples = 4, .run = interp_run}, .seed = 11};
    c.base.impl = &c;
    int64_t before = params(g0);
    if (run(g1, calib ? "slice<ratio=0.625;round=1>" : "slice<ratio=0.625;round=1;pca=weights>",
            calib ? &c.base : NULL) == PARE_OK) {
      /* w_in 8x8 -> 8x3, b_in 8 -> 3; per block w_1 8x16 -> 3x16, w_2 16x8
       * -> 16x3, b_2 8 -> 3; head 8x3 -> 3x3 and a bias [3] for the last
       * LN's beta; the 3 LNs' gamma and beta (48) go into the readers. */
      int64_t removed = (64 - 24) + 5 + 2 * (5 * 16 + 16 * 5 + 5) + 5 * 3 - 3 + 48;
      CHECK_MSG(params(g1) == before - removed, "%lld parameters, expected %lld",
                (long long)params(g1), (long long)(before - removed));
      double dv = max_diff(g0, g1, 3);
      CHECK_MSG(dv < 1e-3, "calib %d: outputs differ by %g", calib, dv);
    }
    pare_graph_free(g0), pare_graph_free(g1);
  }
}

/* A linear pair x W1 (+ b1) W2 whose middle lies in 2 directions: sliced
 * from 6 to 2, exact (W1 4x6 -> 4x2, b1, W2 6x5 -> 2x5); a Relu between
 * them leaves it alone. */
static void test_pair(void) {
  for (int relu = 0; relu < 2; relu++) {
    static sbuf b;
    b.len = 0;
    float w1[4 * 6], bias[6], basis[2 * 6];
    for (int i = 0; i < 12; i++) basis[i] = (float)uniform();
    for (int i = 0; i < 4; i++) {
      double c0 = uniform(), c1 = uniform();
      for (int j = 0; j < 6; j++) w1[i * 6 + j] = (float)(c0 * basis[j] + c1 * basis[6 + j]);
    }
    for (int j = 0; j < 6; j++) bias[j] = (float)(0.5 * basis[j] - 0.2 * basis[6 + j]);
    sb(&b, "graph @pair opset 17 {\n  input %%x : f32[3,4]\n");
    sb_const(&b, "w1", 4, 6, 0, w1);
    sb_const(&b, "b1", 6, 0, 0, bias);
    sb_const(&b, "w2", 6, 5, 1, NULL);
    sb(&b, "  %%m : f32[3,6] = MatMul(%%x, %%w1) @mm1\n  %%a : f32[3,6] = Add(%%m, %%b1)\n");
    if (relu) sb(&b, "  %%a2 : f32[3,6] = Relu(%%a)\n");
    sb(&b, "  %%y : f32[3,5] = MatMul(%%%s, %%w2) @mm2\n  output %%y\n}\n", relu ? "a2" : "a");
    pare_graph *g0 = parse(b.p), *g1 = g0 ? copy(g0) : NULL;
    if (!g1) return;
    int64_t before = params(g0);
    if (run(g1, "slice<ratio=0.67;round=1;pca=weights>", NULL) == PARE_OK) {
      CHECK(params(g1) == (relu ? before : before - (4 * 4 + 4 + 4 * 5)));
      double dv = max_diff(g0, g1, 3);
      CHECK_MSG(dv < 1e-4, "relu %d: outputs differ by %g", relu, dv);
    }
    pare_graph_free(g0), pare_graph_free(g1);
  }
}

/* Attention with 2 heads of 3 on width 6 whose projection reads nothing
 * of head 1: heads=1 deletes head 1 (by weight norms, no --calib), the
 * outputs agree and q, k, v lose 3 columns each, the projection 3 rows. */
static void test_heads(void) {
  static sbuf b;
  b.len = 0;
  float wp[6 * 6];
  for (int i = 0; i < 36; i++) wp[i] = i / 6 >= 3 ? 0.0f : (float)uniform();
  sb(&b, "graph @attn opset 17 {\n  input %%x : f32[4,6]\n");
  sb_const(&b, "wqkv", 6, 18, 1, NULL);
  sb_const(&b, "bqkv", 18, 0, 0.1, NULL);
  sb_const(&b, "wp", 6, 6, 0, wp);
  sb(&b, "  const %%s1 : i64[4] = dense<4, 3, 2, 3>\n  const %%s2 : i64[2] = dense<4, 6>\n"
         "  const %%st0 : i64[1] = dense<0>\n  const %%en0 : i64[1] = dense<1>\n"
         "  const %%st1 : i64[1] = dense<1>\n  const %%en1 : i64[1] = dense<2>\n"
         "  const %%st2 : i64[1] = dense<2>\n  const %%en2 : i64[1] = dense<3>\n"
         "  const %%ax0 : i64[1] = dense<0>\n  const %%scale : f32[] = dense<0.5>\n");
  sb(&b, "  %%qkv : f32[4,18] = MatMul(%%x, %%wqkv) @qkv\n"
         "  %%qkvb : f32[4,18] = Add(%%qkv, %%bqkv)\n"
         "  %%r : f32[4,3,2,3] = Reshape(%%qkvb, %%s1)\n"
         "  %%t : f32[3,2,4,3] = Transpose(%%r) {perm = [1, 2, 0, 3] : ints}\n"
         "  %%q1 : f32[1,2,4,3] = Slice(%%t, %%st0, %%en0, %%ax0)\n"
         "  %%k1 : f32[1,2,4,3] = Slice(%%t, %%st1, %%en1, %%ax0)\n"
         "  %%v1 : f32[1,2,4,3] = Slice(%%t, %%st2, %%en2, %%ax0)\n"
         "  %%q : f32[2,4,3] = Squeeze(%%q1, %%ax0)\n"
         "  %%k : f32[2,4,3] = Squeeze(%%k1, %%ax0)\n"
         "  %%v : f32[2,4,3] = Squeeze(%%v1, %%ax0)\n"
         "  %%qs : f32[2,4,3] = Mul(%%q, %%scale)\n"
         "  %%kt : f32[2,3,4] = Transpose(%%k) {perm = [0, 2, 1] : ints}\n"
         "  %%att : f32[2,4,4] = MatMul(%%qs, %%kt)\n"
         "  %%sm : f32[2,4,4] = Softmax(%%att) {axis = -1 : int}\n"
         "  %%o : f32[2,4,3] = MatMul(%%sm, %%v)\n"
         "  %%ot : f32[4,2,3] = Transpose(%%o) {perm = [1, 0, 2] : ints}\n"
         "  %%o2 : f32[4,6] = Reshape(%%ot, %%s2)\n"
         "  %%y : f32[4,6] = MatMul(%%o2, %%wp) @proj\n"
         "  output %%y\n}\n");
  pare_graph *g0 = parse(b.p), *g1 = g0 ? copy(g0) : NULL;
  if (!g1) return;
  int64_t before = params(g0);
  if (run(g1, "slice<ratio=0;heads=1;pca=weights>", NULL) == PARE_OK) {
    CHECK_MSG(params(g1) == before - (6 * 9 + 9 + 3 * 6), "%lld parameters, %lld before",
              (long long)params(g1), (long long)before);
    double dv = max_diff(g0, g1, 3);
    CHECK_MSG(dv < 1e-5, "outputs differ by %g", dv);
  }
  pare_graph_free(g0), pare_graph_free(g1);
}

/* An attention block of width 6 on 4 tokens with h heads (of 6 / h) named
 * by prefix p, from %x to %y; the projection's rows of the heads in `dead`
 * (a bit mask) are zero. */
static void attn_block(sbuf *b, const char *p, const char *x, const char *y, int h, unsigned dead) {
  int hd = 6 / h;
  char n[64];
  float wp[36];
  for (int i = 0; i < 36; i++) wp[i] = dead >> (i / 6 / hd) & 1 ? 0.0f : (float)uniform();
  snprintf(n, sizeof n, "%s_wqkv", p);
  sb_const(b, n, 6, 18, 1, NULL);
  snprintf(n, sizeof n, "%s_bqkv", p);
  sb_const(b, n, 18, 0, 0.1, NULL);
  snprintf(n, sizeof n, "%s_wp", p);
  sb_const(b, n, 6, 6, 0, wp);
  sb(b, "  const %%%s_s1 : i64[4] = dense<4, 3, %d, %d>\n", p, h, hd);
  sb(b,
     "  %%%s_qkv : f32[4,18] = MatMul(%%%s, %%%s_wqkv) @%s_qkv\n"
     "  %%%s_qkvb : f32[4,18] = Add(%%%s_qkv, %%%s_bqkv)\n"
     "  %%%s_r : f32[4,3,%d,%d] = Reshape(%%%s_qkvb, %%%s_s1)\n"
     "  %%%s_t : f32[3,%d,4,%d] = Transpose(%%%s_r) {perm = [1, 2, 0, 3] : ints}\n",
     p, x, p, p, p, p, p, p, h, hd, p, p, p, h, hd, p);
  const char *qkv[3] = {"q", "k", "v"};
  for (int i = 0; i < 3; i++)
    sb(b,
       "  %%%s_%s1 : f32[1,%d,4,%d] = Slice(%%%s_t, %%st%d, %%en%d, %%ax0)\n"
       "  %%%s_%s : f32[%d,4,%d] = Squeeze(%%%s_%s1, %%ax0)\n",
       p, qkv[i], h, hd, p, i, i, p, qkv[i], h, hd, p, qkv[i]);
  sb(b, "  %%%s_qs : f32[%d,4,%d] = Mul(%%%s_q, %%scale)\n", p, h, hd, p);
  sb(b, "  %%%s_kt : f32[%d,%d,4] = Transpose(%%%s_k) {perm = [0, 2, 1] : ints}\n", p, h, hd, p);
  sb(b, "  %%%s_att : f32[%d,4,4] = MatMul(%%%s_qs, %%%s_kt)\n", p, h, p, p);
  sb(b, "  %%%s_sm : f32[%d,4,4] = Softmax(%%%s_att) {axis = -1 : int}\n", p, h, p);
  sb(b, "  %%%s_o : f32[%d,4,%d] = MatMul(%%%s_sm, %%%s_v)\n", p, h, hd, p, p);
  sb(b, "  %%%s_ot : f32[4,%d,%d] = Transpose(%%%s_o) {perm = [1, 0, 2] : ints}\n", p, h, hd, p);
  sb(b, "  %%%s_o2 : f32[4,6] = Reshape(%%%s_ot, %%s2)\n", p, p);
  sb(b, "  %%%s : f32[4,6] = MatMul(%%%s_o2, %%%s_wp) @%s_proj\n", y, p, p, p);
}

/* Two blocks of 3 heads, the first with 2 dead heads: heads=1 with
 * scope=global deletes 2 heads in all, the weakest relative to their
 * block, both from the first block (outputs unchanged, its q/k/v lose 2 x
 * 2 columns each and its projection 4 rows); scope=layer deletes one head
 * of each block, a live one of the second (outputs change). */
static void test_heads_global(void) {
  for (int global = 0; global < 2; global++) {
    static sbuf b;
    b.len = 0;
    sb(&b, "graph @attn2 opset 17 {\n  input %%x : f32[4,6]\n"
           "  const %%s2 : i64[2] = dense<4, 6>\n"
           "  const %%st0 : i64[1] = dense<0>\n  const %%en0 : i64[1] = dense<1>\n"
           "  const %%st1 : i64[1] = dense<1>\n  const %%en1 : i64[1] = dense<2>\n"
           "  const %%st2 : i64[1] = dense<2>\n  const %%en2 : i64[1] = dense<3>\n"
           "  const %%ax0 : i64[1] = dense<0>\n  const %%scale : f32[] = dense<0.5>\n");
    attn_block(&b, "a", "x", "ya", 3, 6);
    attn_block(&b, "b", "ya", "yb", 3, 0);
    sb(&b, "  output %%yb\n}\n");
    pare_graph *g0 = parse(b.p), *g1 = g0 ? copy(g0) : NULL;
    if (!g1) return;
    int64_t before = params(g0);
    if (run(g1,
            global ? "slice<ratio=0;heads=1;scope=global;pca=weights>"
                   : "slice<ratio=0;heads=1;pca=weights>",
            NULL) == PARE_OK) {
      int64_t per_head = 6 * 6 + 6 + 2 * 6;
      CHECK_MSG(params(g1) == before - 2 * per_head, "global %d: %lld parameters, %lld before",
                global, (long long)params(g1), (long long)before);
      double dv = max_diff(g0, g1, 3);
      if (global)
        CHECK_MSG(dv < 1e-5, "outputs differ by %g", dv);
      else
        CHECK_MSG(dv > 1e-3, "outputs differ by only %g", dv);
    }
    pare_graph_free(g0), pare_graph_free(g1);
  }
}

/* Two LN streams of width 8 in a row: x -> [x W_a + b_a] -> LN -> W_ra ->
 * Relu -> [. W_b + b_b] -> LN -> W_rb -> y, where stream a spans 2
 * directions (W_a's rows and b_a in the span of 2 vectors) and b all 8.
 * ratio=0.5 with scope=layer keeps 4 of each; with scope=global 8 in all,
 * by eigenvalue relative to the stream's mean: a's 2 and b's 6. */
static void test_global_streams(void) {
  for (int global = 0; global < 2; global++) {
    static sbuf b;
    b.len = 0;
    float basis[16], w[64], bias[8];
    rng_state = 4242;
    for (int i = 0; i < 16; i++) basis[i] = (float)uniform();
    sb(&b, "graph @two opset 17 {\n  input %%x : f32[5,8]\n"
           "  const %%axes : i64[1] = dense<-1>\n  const %%two : f32[] = dense<2>\n"
           "  const %%eps : f32[] = dense<0.00001>\n");
    for (int i = 0; i < 8; i++) {
      double c0 = uniform(), c1 = uniform();
      for (int j = 0; j < 8; j++) w[i * 8 + j] = (float)(c0 * basis[j] + c1 * basis[8 + j]);
    }
    for (int j = 0; j < 8; j++) bias[j] = (float)(0.3 * basis[j] - 0.2 * basis[8 + j]);
    sb_const(&b, "w_a", 8, 8, 0, w);
    sb_const(&b, "b_a", 8, 0, 0, bias);
    sb_const(&b, "w_ra", 8, 8, 0.5, NULL);
    sb_const(&b, "w_b", 8, 8, 0.5, NULL);
    sb_const(&b, "b_b", 8, 0, 0.1, NULL);
    sb_const(&b, "w_rb", 8, 3, 0.5, NULL);
    sb(&b, "  %%ma : f32[5,8] = MatMul(%%x, %%w_a) @wa\n  %%sa : f32[5,8] = Add(%%ma, %%b_a)\n");
    sb_ln(&b, "la", "sa", "ya", 5, 8);
    sb(&b, "  %%ra : f32[5,8] = MatMul(%%ya, %%w_ra) @ra\n  %%rr : f32[5,8] = Relu(%%ra)\n");
    sb(&b, "  %%mb : f32[5,8] = MatMul(%%rr, %%w_b) @wb\n  %%sb : f32[5,8] = Add(%%mb, %%b_b)\n");
    sb_ln(&b, "lb", "sb", "yb", 5, 8);
    sb(&b, "  %%y : f32[5,3] = MatMul(%%yb, %%w_rb) @rb\n  output %%y\n}\n");
    pare_graph *g0 = parse(b.p), *g1 = g0 ? copy(g0) : NULL;
    if (!g1) return;
    if (run(g1,
            global ? "slice<ratio=0.5;round=1;pca=weights;scope=global>"
                   : "slice<ratio=0.5;round=1;pca=weights>",
            NULL) == PARE_OK) {
      int ka = global ? 2 : 4, kb = global ? 6 : 4;
      int64_t want = 8 * ka + ka + ka * 8 + 8 /* ra's new bias */ + 8 * kb + kb + kb * 3 + 3;
      CHECK_MSG(params(g1) == want, "global %d: %lld parameters, %lld expected", global,
                (long long)params(g1), (long long)want);
    }
    pare_graph_free(g0), pare_graph_free(g1);
  }
}

int main(void) {
  RUN(test_rotate_exact);
  RUN(test_slice_low_rank);
  RUN(test_pair);
  RUN(test_heads);
  RUN(test_heads_global);
  RUN(test_global_streams);
  return check_summary();
}
