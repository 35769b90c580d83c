/*
 * test_ops_nn.c - the nn op family (ops/nn*.c) on small hand-computed cases,
 * plus Conv/ConvTranspose/Gemm against naive loops on odd sizes that cross
 * the GEMM blocking edges.
 */
#include "check.h"
#include "ops/ops.h"

#include <stdint.h>

/* ------------------------------------------------------------ fixtures */

typedef struct op_case {
  pare_graph *g;
  pare_node *node;
  const pare_tensor *in[6];
  int n_in;
  pare_tensor out[3];
  int n_out;
  pare_err err;
} op_case;

static pare_tensor *tens(pare_dtype dt, int rank, const int64_t *dims, const double *vals) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_err err;
  pare_tensor *t = pare_tensor_new(dt, &s, &err);
  if (!t) {
    fprintf(stderr, "tens: %s\n", err.msg);
    exit(1);
  }
  if (vals)
    for (int64_t i = 0; i < pare_tensor_numel(t); i++) pare_tensor_set_f64(t, i, vals[i]);
  return t;
}

/* 0, 1, 2, ... */
static pare_tensor *iota(pare_dtype dt, int rank, const int64_t *dims) {
  pare_tensor *t = tens(dt, rank, dims, NULL);
  for (int64_t i = 0; i < pare_tensor_numel(t); i++) pare_tensor_set_f64(t, i, (double)i);
  return t;
}

static pare_tensor *filled(int rank, const int64_t *dims, double v) {
  pare_tensor *t = tens(PARE_F32, rank, dims, NULL);
  for (int64_t i = 0; i < pare_tensor_numel(t); i++) pare_tensor_set_f64(t, i, v);
  return t;
}

/* Deterministic pseudo-random values in [-1, 1). */
static pare_tensor *noise(int rank, const int64_t *dims, uint32_t seed) {
  pare_tensor *t = tens(PARE_F32, rank, dims, NULL);
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < pare_tensor_numel(t); i++) {
    s = s * 1664525u + 1013904223u;
    ((float *)t->data)[i] = (float)((s >> 8) / 8388608.0 - 1.0);
  }
  return t;
}

/* A node `op` with inputs ins (NULL = omitted) and n_out outputs. */
static void case_init(op_case *c, const char *op, pare_tensor **ins, int n_in, int n_out) {
  memset(c, 0, sizeof *c);
  c->g = pare_graph_new("t");
  int vin[6], vout[3];
  for (int i = 0; i < n_in; i++) {
    vin[i] = -1;
    c->in[i] = ins[i];
    if (!ins[i]) continue;
    vin[i] = pare_graph_add_value(c->g, NULL, ins[i]->dtype, &ins[i]->shape, &c->err);
  }
  for (int i = 0; i < n_out; i++) {
    pare_shape u = pare_shape_unknown();
    vout[i] = pare_graph_add_value(c->g, NULL, PARE_F32, &u, &c->err);
  }
  int n = pare_graph_add_node(c->g, op, "n0", vin, n_in, vout, n_out, &c->err);
  CHECK(n >= 0);
  c->node = c->g->nodes[n];
  c->n_in = n_in;
  c->n_out = n_out;
}

static void set_ints(op_case *c, const char *name, const int64_t *v, int64_t n) {
  CHECK(pare_node_set_ints(c->node, name, v, n, &c->err) == PARE_OK);
}
static void set_int(op_case *c, const char *name, int64_t v) {
  CHECK(pare_node_set_int(c->node, name, v, &c->err) == PARE_OK);
}
static void set_float(op_case *c, const char *name, float v) {
  CHECK(pare_node_set_float(c->node, name, v, &c->err) == PARE_OK);
}
static void set_string(op_case *c, const char *name, const char *v) {
  CHECK(pare_node_set_string(c->node, name, v, &c->err) == PARE_OK);
}

/* Runs infer, allocates outputs, runs eval. Returns the first non-OK code. */
static int case_run(op_case *c) {
  const pare_op_def *def = pare_op_find(c->node->op);
  if (!def) return pare_errf(&c->err, "op %s not registered", c->node->op);
  int rc = def->infer(c->node, c->in, c->n_in, c->out, c->n_out, &c->err);
  if (rc != PARE_OK) return rc;
  for (int i = 0; i < c->n_out; i++)
    if (pare_tensor_alloc(&c->out[i], &c->err)) return PARE_ERR;
  return def->eval(c->node, c->in, c->n_in, c->out, c->n_out, &c->err);
}

static void case_free(op_case *c) {
  for (int i = 0; i < c->n_in; i++) pare_tensor_free((pare_tensor *)c->in[i]);
  for (int i = 0; i < c->n_out; i++) pare_tensor_release(&c->out[i]);
  pare_graph_free(c->g);
}

static void check_shape(const pare_tensor *t, int rank, const int64_t *dims) {
  pare_shape want = pare_shape_make(rank, dims);
  char a[128], b[128];
  pare_shape_str(&t->shape, a, sizeof a);
  pare_shape_str(&want, b, sizeof b);
  CHECK_MSG(pare_shape_equal(&t->shape, &want), "shape %s, want %s", a, b);
}

static void check_values(const pare_tensor *t, const double *want, int64_t n, double tol) {
  CHECK_MSG(pare_tensor_numel(t) == n, "numel %lld, want %lld", (long long)pare_tensor_numel(t),
            (long long)n);
  if (pare_tensor_numel(t) != n) return;
  for (int64_t i = 0; i < n; i++) {
    double v = pare_tensor_get_f64(t, i);
    CHECK_MSG(fabs(v - want[i]) <= tol, "element %lld: %.9g, want %.9g", (long long)i, v, want[i]);
  }
}

#define N_OF(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------- Conv */

static const int64_t d1155[] = {1, 1, 5, 5}, d1133[] = {1, 1, 3, 3};

static void test_conv_basic(void) {
  op_case c;
  pare_tensor *in[] = {iota(PARE_F32, 4, d1155), filled(4, d1133, 1)};
  case_init(&c, "Conv", in, 2, 1);
  const int64_t pads[] = {1, 1, 1, 1};
  set_ints(&c, "pads", pads, 4);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  const double want[] = {12,  21, 27, 33,  24,  33,  54,  63, 72,  51,  63,  99, 108,
                         117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
  check_shape(&c.out[0], 4, d1155);
  check_values(&c.out[0], want, N_OF(want), 1e-5);
  case_free(&c);

  pare_tensor *in2[] = {iota(PARE_F32, 4, d1155), filled(4, d1133, 1)};
  case_init(&c, "Conv", in2, 2, 1);
  set_ints(&c, "kernel_shape", (const int64_t[]){3, 3}, 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  const double want2[] = {54, 63, 72, 99, 108, 117, 144, 153, 162};
  check_shape(&c.out[0], 4, d1133);
  check_values(&c.out[0], want2, N_OF(want2), 1e-5);
  case_free(&c);
}

static void test_conv_strides(void) {
  static const int64_t dx[] = {1, 1, 7, 5};
  struct {
    int64_t pads[4];
    int64_t out[4];
    double want[12];
  } cases[] = {
      {{1, 1, 1, 1}, {1, 1, 4, 3}, {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124}},
      {{0, 0, 0, 0}, {1, 1, 3, 2}, {54, 72, 144, 162, 234, 252}},
      {{1, 0, 1, 0}, {1, 1, 4, 2}, {21, 33, 99, 117, 189, 207, 171, 183}},
  };
  for (int k = 0; k < 3; k++) {
    op_case c;
    pare_tensor *in[] = {iota(PARE_F32, 4, dx), filled(4, d1133, 1)};
    case_init(&c, "Conv", in, 2, 1);
    set_ints(&c, "pads", cases[k].pads, 4);
    set_ints(&c, "strides", (const int64_t[]){2, 2}, 2);
    CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
    check_shape(&c.out[0], 4, cases[k].out);
    check_values(&c.out[0], cases[k].want, cases[k].out[2] * cases[k].out[3], 1e-5);
    case_free(&c);
  }
}

static void test_conv_group_bias_dilation(void) {
  op_case c;
  static const int64_t dx[] = {1, 2, 3, 3}, dw[] = {2, 1, 2, 2}, db[] = {2};
  pare_tensor *x = iota(PARE_F32, 4, dx);
  for (int i = 9; i < 18; i++) ((float *)x->data)[i] = 1;
  const double wv[] = {1, 0, 0, 1, 1, 1, 1, 1}, bv[] = {10, 20};
  pare_tensor *in[] = {x, tens(PARE_F32, 4, dw, wv), tens(PARE_F32, 1, db, bv)};
  case_init(&c, "Conv", in, 3, 1);
  set_int(&c, "group", 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  const double want[] = {14, 16, 20, 22, 24, 24, 24, 24};
  check_shape(&c.out[0], 4, (const int64_t[]){1, 2, 2, 2});
  check_values(&c.out[0], want, N_OF(want), 1e-5);
  case_free(&c);

  static const int64_t dw2[] = {1, 1, 2, 2};
  pare_tensor *in2[] = {iota(PARE_F32, 4, d1133), filled(4, dw2, 1)};
  case_init(&c, "Conv", in2, 2, 1);
  set_ints(&c, "dilations", (const int64_t[]){2, 2}, 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){16}, 1, 1e-5);
  case_free(&c);
}

static void test_conv_1d_3d_autopad(void) {
  op_case c;
  pare_tensor *in[] = {
      tens(PARE_F32, 3, (const int64_t[]){1, 1, 5}, (const double[]){1, 2, 3, 4, 5}),
      tens(PARE_F32, 3, (const int64_t[]){1, 1, 2}, (const double[]){1, -1})};
  case_init(&c, "Conv", in, 2, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){-1, -1, -1, -1}, 4, 1e-6);
  case_free(&c);

  static const int64_t d3[] = {1, 1, 2, 2, 2};
  pare_tensor *in3[] = {iota(PARE_F32, 5, d3), filled(5, d3, 1)};
  case_init(&c, "Conv", in3, 2, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 5, (const int64_t[]){1, 1, 1, 1, 1});
  check_values(&c.out[0], (const double[]){28}, 1, 1e-5);
  case_free(&c);

  /* SAME_UPPER 2x2 kernel on 3x3: padding 1 at the end. */
  pare_tensor *in4[] = {iota(PARE_F32, 4, d1133), filled(4, (const int64_t[]){1, 1, 2, 2}, 1)};
  case_init(&c, "Conv", in4, 2, 1);
  set_string(&c, "auto_pad", "SAME_UPPER");
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){8, 12, 7, 20, 24, 13, 13, 15, 8}, 9, 1e-5);
  case_free(&c);

  pare_tensor *in5[] = {iota(PARE_F32, 4, d1133), filled(4, (const int64_t[]){1, 1, 2, 2}, 1)};
  case_init(&c, "Conv", in5, 2, 1);
  set_string(&c, "auto_pad", "SAME_LOWER");
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){0, 1, 3, 3, 8, 12, 9, 20, 24}, 9, 1e-5);
  case_free(&c);
}

static void test_conv_errors(void) {
  op_case c;
  static const int64_t dx[] = {1, 8, 2, 2}, dw[] = {4, 16, 3, 3};
  pare_tensor *in[] = {filled(4, dx, 1), filled(4, dw, 1)};
  case_init(&c, "Conv", in, 2, 1);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "Conv: W has 16 input channels, X has 8 with group 1");
  case_free(&c);

  static const int64_t dw2[] = {4, 8, 3, 3};
  pare_tensor *in2[] = {filled(4, dx, 1), filled(4, dw2, 1)};
  case_init(&c, "Conv", in2, 2, 1);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "Conv: kernel 3x3 larger than padded input 2x2");
  case_free(&c);

  pare_tensor *in3[] = {filled(4, dx, 1), filled(4, dw2, 1)};
  case_init(&c, "Conv", in3, 2, 1);
  set_ints(&c, "strides", (const int64_t[]){1}, 1);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "strides has 1 values, expected 2");
  case_free(&c);

  /* Unknown batch dim: infer reports PARE_UNKNOWN with the rest filled in. */
  pare_tensor *x = filled(4, (const int64_t[]){1, 8, 5, 5}, 1);
  x->shape.dims[0] = -1;
  pare_tensor *in4[] = {x, filled(4, dw2, 1)};
  case_init(&c, "Conv", in4, 2, 1);
  CHECK(pare_op_find("Conv")->infer(c.node, c.in, 2, c.out, 1, &c.err) == PARE_UNKNOWN);
  check_shape(&c.out[0], 4, (const int64_t[]){-1, 4, 3, 3});
  x->shape.dims[0] = 1;
  case_free(&c);
}

/* Naive N-C-H-W 2-D convolution. */
static void naive_conv2d(const pare_tensor *x, const pare_tensor *w, const float *bias,
                         int64_t group, const int64_t *stride, const int64_t *pads,
                         const int64_t *dil, float *y, int64_t oh, int64_t ow) {
  int64_t N = x->shape.dims[0], C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
  int64_t M = w->shape.dims[0], Cg = w->shape.dims[1], KH = w->shape.dims[2], KW = w->shape.dims[3];
  const float *xd = x->data, *wd = w->data;
  (void)C;
  for (int64_t n = 0; n < N; n++)
    for (int64_t m = 0; m < M; m++) {
      int64_t g = m / (M / group);
      for (int64_t i = 0; i < oh; i++)
        for (int64_t j = 0; j < ow; j++) {
          double acc = bias ? bias[m] : 0;
          for (int64_t c = 0; c < Cg; c++)
            for (int64_t ki = 0; ki < KH; ki++)
              for (int64_t kj = 0; kj < KW; kj++) {
                int64_t ii = i * stride[0] + ki * dil[0] - pads[0];
                int64_t jj = j * stride[1] + kj * dil[1] - pads[1];
                if (ii < 0 || ii >= H || jj < 0 || jj >= W) continue;
                acc += xd[((n * C + g * Cg + c) * H + ii) * W + jj] *
                       wd[((m * Cg + c) * KH + ki) * KW + kj];
              }
          y[((n * M + m) * oh + i) * ow + j] = (float)acc;
        }
    }
}

static void conv_vs_naive(const int64_t *dx, const int64_t *dw, int64_t group,
                          const int64_t *stride, const int64_t *pads, const int64_t *dil) {
  op_case c;
  pare_tensor *bias = noise(1, (const int64_t[]){dw[0]}, 3);
  pare_tensor *in[] = {noise(4, dx, 1), noise(4, dw, 2), bias};
  case_init(&c, "Conv", in, 3, 1);
  set_int(&c, "group", group);
  set_ints(&c, "strides", stride, 2);
  set_ints(&c, "pads", pads, 4);
  set_ints(&c, "dilations", dil, 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  int64_t oh = (dx[2] + pads[0] + pads[2] - (dw[2] - 1) * dil[0] - 1) / stride[0] + 1;
  int64_t ow = (dx[3] + pads[1] + pads[3] - (dw[3] - 1) * dil[1] - 1) / stride[1] + 1;
  check_shape(&c.out[0], 4, (const int64_t[]){dx[0], dw[0], oh, ow});
  int64_t n = pare_tensor_numel(&c.out[0]);
  float *ref = calloc((size_t)n, sizeof(float));
  naive_conv2d(in[0], in[1], bias->data, group, stride, pads, dil, ref, oh, ow);
  int bad = 0;
  for (int64_t i = 0; i < n && bad < 5; i++) {
    double v = ((float *)c.out[0].data)[i];
    if (fabs(v - ref[i]) > 1e-3 * (1 + fabs(ref[i]))) {
      CHECK_MSG(0, "element %lld: %.7g, want %.7g", (long long)i, v, ref[i]);
      bad++;
    }
  }
  free(ref);
  case_free(&c);
}

static void test_conv_vs_naive(void) {
  const int64_t s1[] = {1, 1}, s2[] = {2, 2}, s21[] = {2, 1}, d1[] = {1, 1}, d2[] = {2, 1};
  const int64_t p0[] = {0, 0, 0, 0}, p1[] = {1, 1, 1, 1}, pa[] = {1, 0, 2, 1};
  conv_vs_naive((const int64_t[]){2, 6, 9, 11}, (const int64_t[]){10, 3, 3, 3}, 2, s2, pa, d2);
  conv_vs_naive((const int64_t[]){1, 5, 7, 6}, (const int64_t[]){7, 5, 1, 1}, 1, s1, p0, d1);
  conv_vs_naive((const int64_t[]){1, 4, 7, 6}, (const int64_t[]){8, 4, 1, 1}, 1, s21, p1, d1);
  conv_vs_naive((const int64_t[]){1, 6, 8, 8}, (const int64_t[]){6, 1, 3, 3}, 6, s1, p1, d1);
  conv_vs_naive((const int64_t[]){1, 6, 8, 8}, (const int64_t[]){12, 1, 5, 5}, 6, s2, pa, d1);
  /* Large K (several GEMM K blocks) and a row band smaller than the output. */
  conv_vs_naive((const int64_t[]){1, 64, 5, 1900}, (const int64_t[]){5, 64, 3, 3}, 1, s1, p0, d1);
}

/* ------------------------------------------------------- ConvTranspose */

static void test_convtranspose(void) {
  op_case c;
  pare_tensor *in[] = {iota(PARE_F32, 4, d1133), filled(4, (const int64_t[]){1, 2, 3, 3}, 1)};
  case_init(&c, "ConvTranspose", in, 2, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  const double plane[] = {0,  1,  3, 3,  2,  3,  8,  15, 12, 7,  9,  21, 36,
                          27, 15, 9, 20, 33, 24, 13, 6,  13, 21, 15, 8};
  double want[50];
  for (int i = 0; i < 50; i++) want[i] = plane[i % 25];
  check_shape(&c.out[0], 4, (const int64_t[]){1, 2, 5, 5});
  check_values(&c.out[0], want, 50, 1e-5);
  case_free(&c);

  pare_tensor *in1[] = {tens(PARE_F32, 3, (const int64_t[]){1, 1, 3}, (const double[]){0, 1, 2}),
                        filled(3, (const int64_t[]){1, 1, 3}, 1),
                        tens(PARE_F32, 1, (const int64_t[]){1}, (const double[]){0.5})};
  case_init(&c, "ConvTranspose", in1, 3, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){0.5, 1.5, 3.5, 3.5, 2.5}, 5, 1e-6);
  case_free(&c);

  /* output_shape [10, 8] with strides [3, 2]: pads are derived. */
  pare_tensor *in2[] = {iota(PARE_F32, 4, d1133), filled(4, (const int64_t[]){1, 2, 3, 3}, 1)};
  case_init(&c, "ConvTranspose", in2, 2, 1);
  set_ints(&c, "strides", (const int64_t[]){3, 2}, 2);
  set_ints(&c, "output_shape", (const int64_t[]){10, 8}, 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 4, (const int64_t[]){1, 2, 10, 8});
  const double row0[] = {0, 0, 1, 1, 3, 2, 2, 0};
  for (int i = 0; i < 8; i++) CHECK_NEAR(((float *)c.out[0].data)[i], row0[i], 0);
  for (int i = 72; i < 80; i++) CHECK_NEAR(((float *)c.out[0].data)[i], 0, 0); /* last row */
  case_free(&c);
}

/* ConvTranspose is the adjoint of Conv: <conv(x), y> == <x, convT(y)>. */
static void test_convtranspose_adjoint(void) {
  const int64_t dx[] = {1, 4, 9, 8}, dw[] = {6, 2, 3, 2};
  const int64_t stride[] = {2, 3}, pads[] = {1, 0, 0, 1}, dil[] = {1, 2};
  op_case cf, ct;
  pare_tensor *x = noise(4, dx, 5), *w = noise(4, dw, 6);
  pare_tensor *in[] = {x, w};
  case_init(&cf, "Conv", in, 2, 1);
  set_int(&cf, "group", 2);
  set_ints(&cf, "strides", stride, 2);
  set_ints(&cf, "pads", pads, 4);
  set_ints(&cf, "dilations", dil, 2);
  CHECK_MSG(case_run(&cf) == PARE_OK, "%s", cf.err.msg);
  pare_tensor *y = noise(cf.out[0].shape.rank, cf.out[0].shape.dims, 7);
  pare_tensor *in2[] = {y, pare_tensor_clone(w, &ct.err)};
  case_init(&ct, "ConvTranspose", in2, 2, 1);
  set_int(&ct, "group", 2);
  set_ints(&ct, "strides", stride, 2);
  set_ints(&ct, "pads", pads, 4);
  set_ints(&ct, "dilations", dil, 2);
  /* The forward conv dropped trailing input rows/cols; output_padding restores them. */
  int64_t oh = cf.out[0].shape.dims[2], ow = cf.out[0].shape.dims[3];
  int64_t full_h = stride[0] * (oh - 1) + (dw[2] - 1) * dil[0] + 1 - pads[0] - pads[2];
  int64_t full_w = stride[1] * (ow - 1) + (dw[3] - 1) * dil[1] + 1 - pads[1] - pads[3];
  set_ints(&ct, "output_padding", (const int64_t[]){dx[2] - full_h, dx[3] - full_w}, 2);
  CHECK_MSG(case_run(&ct) == PARE_OK, "%s", ct.err.msg);
  check_shape(&ct.out[0], 4, dx);
  double lhs = 0, rhs = 0;
  for (int64_t i = 0; i < pare_tensor_numel(y); i++)
    lhs += (double)((float *)cf.out[0].data)[i] * ((float *)y->data)[i];
  for (int64_t i = 0; i < pare_tensor_numel(x); i++)
    rhs += (double)((float *)x->data)[i] * ((float *)ct.out[0].data)[i];
  CHECK_NEAR(lhs, rhs, 1e-3 * (1 + fabs(lhs)));
  case_free(&cf);
  case_free(&ct);
}

/* ------------------------------------------------------ Gemm, MatMul */

static void test_gemm(void) {
  op_case c;
  /* A^T = [[1,2],[3,4]] given as [[1,3],[2,4]]; B^T = [[1,0],[1,1]] -> B = [[1,1],[0,1]]. */
  static const int64_t d22[] = {2, 2}, d2[] = {2};
  pare_tensor *in[] = {tens(PARE_F32, 2, d22, (const double[]){1, 3, 2, 4}),
                       tens(PARE_F32, 2, d22, (const double[]){1, 0, 1, 1}),
                       tens(PARE_F32, 1, d2, (const double[]){10, 20})};
  case_init(&c, "Gemm", in, 3, 1);
  set_int(&c, "transA", 1);
  set_int(&c, "transB", 1);
  set_float(&c, "alpha", 2);
  set_float(&c, "beta", 0.5f);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  /* A B = [[1,3],[3,7]]; 2 A B + 0.5 C = [[7,16],[11,24]]. */
  check_values(&c.out[0], (const double[]){7, 16, 11, 24}, 4, 1e-5);
  case_free(&c);

  /* Odd sizes across the GEMM blocking (K > one K block, M and N not multiples). */
  const int64_t M = 7, K = 300, N = 37;
  pare_tensor *a = noise(2, (const int64_t[]){M, K}, 11),
              *b = noise(2, (const int64_t[]){K, N}, 12);
  pare_tensor *cc = noise(2, (const int64_t[]){M, 1}, 13);
  pare_tensor *in2[] = {a, b, cc};
  case_init(&c, "Gemm", in2, 3, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double acc = ((float *)cc->data)[i];
      for (int64_t k = 0; k < K; k++)
        acc += (double)((float *)a->data)[i * K + k] * ((float *)b->data)[k * N + j];
      CHECK_NEAR(((float *)c.out[0].data)[i * N + j], acc, 1e-4);
    }
  case_free(&c);

  pare_tensor *in3[] = {filled(2, (const int64_t[]){2, 3}, 1),
                        filled(2, (const int64_t[]){2, 3}, 1)};
  case_init(&c, "Gemm", in3, 2, 1);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "inner dims differ");
  case_free(&c);
}

static void test_matmul(void) {
  op_case c;
  /* [3] x [3,2] -> [2] */
  pare_tensor *in[] = {tens(PARE_F32, 1, (const int64_t[]){3}, (const double[]){1, 2, 3}),
                       iota(PARE_F32, 2, (const int64_t[]){3, 2})};
  case_init(&c, "MatMul", in, 2, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 1, (const int64_t[]){2});
  check_values(&c.out[0], (const double[]){16, 22}, 2, 1e-5);
  case_free(&c);

  /* [2,1,2,3] x [3,3,1] -> [2,3,2,1], batch broadcast; i64. */
  pare_tensor *a = iota(PARE_I64, 4, (const int64_t[]){2, 1, 2, 3});
  pare_tensor *b = iota(PARE_I64, 3, (const int64_t[]){3, 3, 1});
  pare_tensor *in2[] = {a, b};
  case_init(&c, "MatMul", in2, 2, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 4, (const int64_t[]){2, 3, 2, 1});
  CHECK(c.out[0].dtype == PARE_I64);
  double want[12];
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int r = 0; r < 2; r++) {
        double acc = 0;
        for (int k = 0; k < 3; k++) acc += (double)(i * 6 + r * 3 + k) * (j * 3 + k);
        want[(i * 3 + j) * 2 + r] = acc;
      }
  check_values(&c.out[0], want, 12, 0);
  case_free(&c);

  /* [2,3] x [3] -> [2], f64 */
  pare_tensor *in3[] = {iota(PARE_F64, 2, (const int64_t[]){2, 3}),
                        tens(PARE_F64, 1, (const int64_t[]){3}, (const double[]){1, 1, 1})};
  case_init(&c, "MatMul", in3, 2, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 1, (const int64_t[]){2});
  check_values(&c.out[0], (const double[]){3, 12}, 2, 0);
  case_free(&c);

  pare_tensor *in4[] = {filled(2, (const int64_t[]){2, 3}, 1),
                        filled(2, (const int64_t[]){2, 3}, 1)};
  case_init(&c, "MatMul", in4, 2, 1);
  CHECK(case_run(&c) == PARE_ERR);
  case_free(&c);
}

/* --------------------------------------------------------------- pools */

static void test_maxpool(void) {
  op_case c;
  static const int64_t d44[] = {1, 1, 4, 4};
  pare_tensor *in[] = {iota(PARE_F32, 4, d44)};
  case_init(&c, "MaxPool", in, 1, 2);
  set_ints(&c, "kernel_shape", (const int64_t[]){2, 2}, 2);
  set_ints(&c, "strides", (const int64_t[]){2, 2}, 2);
  set_int(&c, "storage_order", 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){5, 7, 13, 15}, 4, 0);
  CHECK(c.out[1].dtype == PARE_I64);
  check_values(&c.out[1], (const double[]){5, 13, 7, 15}, 4, 0);
  case_free(&c);

  pare_tensor *in2[] = {iota(PARE_F32, 4, d44)};
  case_init(&c, "MaxPool", in2, 1, 1);
  set_ints(&c, "kernel_shape", (const int64_t[]){3, 3}, 2);
  set_ints(&c, "strides", (const int64_t[]){2, 2}, 2);
  set_int(&c, "ceil_mode", 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 4, (const int64_t[]){1, 1, 2, 2});
  check_values(&c.out[0], (const double[]){10, 11, 14, 15}, 4, 0);
  case_free(&c);

  pare_tensor *in3[] = {iota(PARE_U8, 4, d1133)};
  case_init(&c, "MaxPool", in3, 1, 1);
  set_ints(&c, "kernel_shape", (const int64_t[]){2, 2}, 2);
  set_string(&c, "auto_pad", "SAME_UPPER");
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  CHECK(c.out[0].dtype == PARE_U8);
  check_values(&c.out[0], (const double[]){4, 5, 5, 7, 8, 8, 7, 8, 8}, 9, 0);
  case_free(&c);

  /* dilations 2: taps {0,2} x {0,2} */
  pare_tensor *in4[] = {iota(PARE_F32, 4, d44)};
  case_init(&c, "MaxPool", in4, 1, 2);
  set_ints(&c, "kernel_shape", (const int64_t[]){2, 2}, 2);
  set_ints(&c, "dilations", (const int64_t[]){2, 2}, 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){10, 11, 14, 15}, 4, 0);
  check_values(&c.out[1], (const double[]){10, 11, 14, 15}, 4, 0);
  case_free(&c);
}

static void test_avgpool_lppool(void) {
  op_case c;
  for (int include = 0; include < 2; include++) {
    pare_tensor *in[] = {filled(4, d1133, 1)};
    case_init(&c, "AveragePool", in, 1, 1);
    set_ints(&c, "kernel_shape", (const int64_t[]){3, 3}, 2);
    set_ints(&c, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
    set_int(&c, "count_include_pad", include);
    CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
    double a = 4 / 9.0, b = 6 / 9.0;
    const double with[] = {a, b, a, b, 1, b, a, b, a}, without[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    check_values(&c.out[0], include ? with : without, 9, 1e-6);
    case_free(&c);
  }

  pare_tensor *in2[] = {tens(PARE_F32, 4, (const int64_t[]){1, 1, 1, 2}, (const double[]){3, -4})};
  case_init(&c, "LpPool", in2, 1, 1);
  set_ints(&c, "kernel_shape", (const int64_t[]){1, 2}, 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){5}, 1, 1e-6);
  case_free(&c);

  pare_tensor *in3[] = {filled(4, d1133, 1)};
  case_init(&c, "AveragePool", in3, 1, 1);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "kernel_shape is required");
  case_free(&c);
}

static void test_global_pools(void) {
  static const int64_t dx[] = {1, 2, 2, 2};
  const char *ops[] = {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"};
  const double want[3][2] = {{1.5, 5.5}, {3, 7}, {sqrt(14.0), sqrt(16 + 25 + 36 + 49.0)}};
  for (int k = 0; k < 3; k++) {
    op_case c;
    pare_tensor *in[] = {iota(PARE_F32, 4, dx)};
    case_init(&c, ops[k], in, 1, 1);
    CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
    check_shape(&c.out[0], 4, (const int64_t[]){1, 2, 1, 1});
    check_values(&c.out[0], want[k], 2, 1e-5);
    case_free(&c);
  }
}

static void test_maxunpool(void) {
  op_case c;
  static const int64_t d22[] = {1, 1, 2, 2};
  pare_tensor *in[] = {tens(PARE_F32, 4, d22, (const double[]){5, 6, 7, 8}),
                       tens(PARE_I64, 4, d22, (const double[]){5, 7, 13, 15}),
                       tens(PARE_I64, 1, (const int64_t[]){4}, (const double[]){1, 1, 5, 5})};
  case_init(&c, "MaxUnpool", in, 3, 1);
  set_ints(&c, "kernel_shape", (const int64_t[]){2, 2}, 2);
  set_ints(&c, "strides", (const int64_t[]){2, 2}, 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 4, (const int64_t[]){1, 1, 5, 5});
  double want[25] = {0};
  want[6] = 5, want[8] = 6, want[16] = 7, want[18] = 8;
  check_values(&c.out[0], want, 25, 0);
  case_free(&c);
}

/* ------------------------------------------------------ normalizations */

static void test_batchnorm(void) {
  op_case c;
  static const int64_t d2[] = {2};
  pare_tensor *in[] = {
      iota(PARE_F32, 4, (const int64_t[]){1, 2, 1, 2}),
      tens(PARE_F32, 1, d2, (const double[]){1, 2}), tens(PARE_F32, 1, d2, (const double[]){0, 1}),
      tens(PARE_F32, 1, d2, (const double[]){0, 2}), tens(PARE_F32, 1, d2, (const double[]){1, 4})};
  case_init(&c, "BatchNormalization", in, 5, 1);
  set_float(&c, "epsilon", 0);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){0, 1, 1, 2}, 4, 1e-6);
  set_int(&c, "training_mode", 1);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "training mode unsupported");
  case_free(&c);
}

static void test_instance_layer_mvn(void) {
  op_case c;
  static const int64_t d1[] = {1};
  pare_tensor *in[] = {tens(PARE_F32, 4, (const int64_t[]){1, 1, 1, 2}, (const double[]){1, 3}),
                       tens(PARE_F32, 1, d1, (const double[]){2}),
                       tens(PARE_F32, 1, d1, (const double[]){1})};
  case_init(&c, "InstanceNormalization", in, 3, 1);
  set_float(&c, "epsilon", 0);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){-1, 3}, 2, 1e-6);
  case_free(&c);

  static const int64_t d22[] = {2, 2};
  pare_tensor *in2[] = {tens(PARE_F32, 2, d22, (const double[]){1, 3, 2, 2}),
                        tens(PARE_F32, 1, (const int64_t[]){2}, (const double[]){1, 2}),
                        tens(PARE_F32, 1, (const int64_t[]){1}, (const double[]){0.5})};
  case_init(&c, "LayerNormalization", in2, 3, 3);
  set_float(&c, "epsilon", 0.25f);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  double s = 1 / sqrt(1.25);
  check_values(&c.out[0], (const double[]){-s + 0.5, 2 * s + 0.5, 0.5, 0.5}, 4, 1e-6);
  check_shape(&c.out[1], 2, (const int64_t[]){2, 1});
  check_values(&c.out[1], (const double[]){2, 2}, 2, 1e-6);
  check_values(&c.out[2], (const double[]){s, 2}, 2, 1e-6);
  case_free(&c);

  pare_tensor *in3[] = {
      tens(PARE_F32, 4, (const int64_t[]){1, 2, 1, 2}, (const double[]){1, 3, 5, 5})};
  case_init(&c, "MeanVarianceNormalization", in3, 1, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){-1, 1, 0, 0}, 4, 1e-6);
  case_free(&c);
}

static void test_lrn(void) {
  op_case c;
  pare_tensor *in[] = {tens(PARE_F32, 4, (const int64_t[]){1, 3, 1, 1}, (const double[]){1, 2, 3})};
  case_init(&c, "LRN", in, 1, 1);
  set_int(&c, "size", 3);
  set_float(&c, "alpha", 3);
  set_float(&c, "beta", 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){1 / 6.0, 2 / 15.0, 3 / 14.0}, 3, 1e-6);
  case_free(&c);
}

/* ------------------------------------------------- softmax, dropout */

static void test_softmax_family(void) {
  op_case c;
  static const int64_t d23[] = {2, 3};
  const double xv[] = {1, 3, 3, 2, 1, 0};
  pare_tensor *in[] = {tens(PARE_F32, 2, d23, xv)};
  case_init(&c, "Softmax", in, 1, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  double want[6];
  for (int r = 0; r < 2; r++) {
    double sum = 0;
    for (int j = 0; j < 3; j++) sum += exp(xv[r * 3 + j]);
    for (int j = 0; j < 3; j++) want[r * 3 + j] = exp(xv[r * 3 + j]) / sum;
  }
  check_values(&c.out[0], want, 6, 1e-6);
  case_free(&c);

  pare_tensor *in2[] = {tens(PARE_F64, 2, d23, xv)};
  case_init(&c, "LogSoftmax", in2, 1, 1);
  set_int(&c, "axis", 0);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  for (int j = 0; j < 3; j++) {
    double l = log(exp(xv[j]) + exp(xv[3 + j]));
    want[j] = xv[j] - l;
    want[3 + j] = xv[3 + j] - l;
  }
  check_values(&c.out[0], want, 6, 1e-12);
  case_free(&c);

  pare_tensor *in3[] = {tens(PARE_F32, 2, d23, xv)};
  case_init(&c, "Hardmax", in3, 1, 1);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){0, 1, 0, 1, 0, 0}, 6, 0);
  set_int(&c, "axis", 2);
  CHECK(case_run(&c) == PARE_ERR);
  case_free(&c);
}

static void test_dropout(void) {
  op_case c;
  static const int64_t d3[] = {3};
  pare_tensor *in[] = {tens(PARE_F32, 1, d3, (const double[]){1, 2, 3}), NULL,
                       tens(PARE_BOOL, 0, NULL, (const double[]){0})};
  case_init(&c, "Dropout", in, 3, 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_values(&c.out[0], (const double[]){1, 2, 3}, 3, 0);
  CHECK(c.out[1].dtype == PARE_BOOL);
  check_values(&c.out[1], (const double[]){1, 1, 1}, 3, 0);
  for (int i = 0; i < 2; i++) pare_tensor_release(&c.out[i]);
  ((uint8_t *)in[2]->data)[0] = 1;
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "training mode unsupported");
  case_free(&c);
}

int main(void) {
  RUN(test_conv_basic);
  RUN(test_conv_strides);
  RUN(test_conv_group_bias_dilation);
  RUN(test_conv_1d_3d_autopad);
  RUN(test_conv_errors);
  RUN(test_conv_vs_naive);
  RUN(test_convtranspose);
  RUN(test_convtranspose_adjoint);
  RUN(test_gemm);
  RUN(test_matmul);
  RUN(test_maxpool);
  RUN(test_avgpool_lppool);
  RUN(test_global_pools);
  RUN(test_maxunpool);
  RUN(test_batchnorm);
  RUN(test_instance_layer_mvn);
  RUN(test_lrn);
  RUN(test_softmax_family);
  RUN(test_dropout);
  return check_summary();
}
