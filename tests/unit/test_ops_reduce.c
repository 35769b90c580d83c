/*
 * test_ops_reduce.c - hand-computed cases for the reduce op family
 * (Reduce*, ArgMax/ArgMin, TopK, CumSum, LpNormalization, Einsum).
 */
#include "check.h"
#include "ops/ops.h"

#include <stdint.h>

#define MAX_IO 4

/* One node under test plus the tensors fed to / produced by it. */
typedef struct op_case {
  pare_graph *g;
  pare_node *node;
  pare_tensor *in[MAX_IO];
  int n_in;
  pare_tensor out[MAX_IO];
  int n_out;
  pare_err err;
} op_case;

static void case_init(op_case *c, const char *op, int n_in, int n_out) {
  memset(c, 0, sizeof *c);
  c->g = pare_graph_new("t");
  int ins[MAX_IO], outs[MAX_IO];
  pare_shape s = pare_shape_make(0, NULL);
  for (int i = 0; i < n_in; i++) ins[i] = pare_graph_add_value(c->g, NULL, PARE_F32, &s, &c->err);
  for (int i = 0; i < n_out; i++) outs[i] = pare_graph_add_value(c->g, NULL, PARE_F32, &s, &c->err);
  int n = pare_graph_add_node(c->g, op, NULL, ins, n_in, outs, n_out, &c->err);
  c->node = c->g->nodes[n];
  c->n_in = n_in;
  c->n_out = n_out;
}

static void case_free(op_case *c) {
  for (int i = 0; i < MAX_IO; i++) {
    pare_tensor_free(c->in[i]);
    pare_tensor_release(&c->out[i]);
  }
  pare_graph_free(c->g);
}

static pare_tensor *tensor(pare_dtype dt, int rank, const int64_t *dims, const double *vals) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_err err;
  pare_tensor *t = pare_tensor_new(dt, &s, &err);
  if (t && vals)
    for (int64_t i = 0; i < pare_tensor_numel(t); i++) pare_tensor_set_f64(t, i, vals[i]);
  return t;
}

static pare_tensor *axes_tensor(int n, const int64_t *axes) {
  int64_t d = n;
  pare_shape s = pare_shape_make(1, &d);
  pare_err err;
  pare_tensor *t = pare_tensor_new(PARE_I64, &s, &err);
  if (t && n) memcpy(t->data, axes, (size_t)n * sizeof *axes);
  return t;
}

/* infer, allocate outputs, eval. Returns infer's status if not PARE_OK. */
static int case_run(op_case *c) {
  const pare_op_def *def = pare_op_find(c->node->op);
  if (!def) {
    snprintf(c->err.msg, sizeof c->err.msg, "op %s not registered", c->node->op);
    return PARE_ERR;
  }
  c->err.msg[0] = 0;
  int rc =
      def->infer(c->node, (const pare_tensor *const *)c->in, c->n_in, c->out, c->n_out, &c->err);
  if (rc != PARE_OK) return rc;
  for (int i = 0; i < c->n_out; i++)
    if (pare_tensor_alloc(&c->out[i], &c->err)) return PARE_ERR;
  return def->eval(c->node, (const pare_tensor *const *)c->in, c->n_in, c->out, c->n_out, &c->err);
}

static void check_shape(const pare_tensor *t, int rank, const int64_t *dims) {
  CHECK_MSG(t->shape.rank == rank, "rank %d vs %d", t->shape.rank, rank);
  for (int i = 0; i < rank && i < t->shape.rank; i++)
    CHECK_MSG(t->shape.dims[i] == dims[i], "dim %d: %lld vs %lld", i, (long long)t->shape.dims[i],
              (long long)dims[i]);
}

static void check_vals(const pare_tensor *t, const double *want, int64_t n, double tol) {
  CHECK_MSG(pare_tensor_numel(t) == n, "numel %lld vs %lld", (long long)pare_tensor_numel(t),
            (long long)n);
  for (int64_t i = 0; i < n && i < pare_tensor_numel(t); i++) {
    double got = pare_tensor_get_f64(t, i);
    if (isinf(want[i]) || isnan(want[i]))
      CHECK_MSG((isnan(got) && isnan(want[i])) || got == want[i], "[%lld] %g vs %g", (long long)i,
                got, want[i]);
    else
      CHECK_MSG(fabs(got - want[i]) <= tol, "[%lld] %.9g vs %.9g", (long long)i, got, want[i]);
  }
}

/* Reduce `op` over x[2,3] = [[1,2,3],[4,5,6]] (or the given data). */
static int reduce_2x3(op_case *c, const char *op, const double *x, int n_axes, const int64_t *axes,
                      int keepdims) {
  static const double def[6] = {1, 2, 3, 4, 5, 6};
  int64_t dims[2] = {2, 3};
  case_init(c, op, n_axes >= 0 ? 2 : 1, 1);
  c->in[0] = tensor(PARE_F32, 2, dims, x ? x : def);
  if (n_axes >= 0) c->in[1] = axes_tensor(n_axes, axes);
  if (keepdims >= 0) pare_node_set_int(c->node, "keepdims", keepdims, &c->err);
  return case_run(c);
}

static void test_reduce_sum(void) {
  op_case c;
  int64_t ax1[1] = {1}, d21[2] = {2, 1};
  CHECK(reduce_2x3(&c, "ReduceSum", NULL, 1, ax1, -1) == PARE_OK);
  check_shape(&c.out[0], 2, d21);
  check_vals(&c.out[0], (double[]){6, 15}, 2, 0);
  case_free(&c);

  /* No axes input: all axes; keepdims=0 gives a scalar. */
  CHECK(reduce_2x3(&c, "ReduceSum", NULL, -1, NULL, 0) == PARE_OK);
  check_shape(&c.out[0], 0, NULL);
  check_vals(&c.out[0], (double[]){21}, 1, 0);
  case_free(&c);

  /* Empty axes input: all axes too, keepdims default 1. */
  int64_t d11[2] = {1, 1};
  CHECK(reduce_2x3(&c, "ReduceSum", NULL, 0, NULL, -1) == PARE_OK);
  check_shape(&c.out[0], 2, d11);
  check_vals(&c.out[0], (double[]){21}, 1, 0);
  case_free(&c);

  /* Empty axes with noop_with_empty_axes: identity. */
  case_init(&c, "ReduceSum", 2, 1);
  int64_t d23[2] = {2, 3};
  c.in[0] = tensor(PARE_F32, 2, d23, (double[]){1, 2, 3, 4, 5, 6});
  c.in[1] = axes_tensor(0, NULL);
  pare_node_set_int(c.node, "noop_with_empty_axes", 1, &c.err);
  CHECK(case_run(&c) == PARE_OK);
  check_shape(&c.out[0], 2, d23);
  check_vals(&c.out[0], (double[]){1, 2, 3, 4, 5, 6}, 6, 0);
  case_free(&c);

  /* Negative axes and both axes given explicitly. */
  int64_t both[2] = {-1, 0};
  CHECK(reduce_2x3(&c, "ReduceSum", NULL, 2, both, 0) == PARE_OK);
  check_shape(&c.out[0], 0, NULL);
  check_vals(&c.out[0], (double[]){21}, 1, 0);
  case_free(&c);
}

static void test_reduce_kinds(void) {
  op_case c;
  int64_t ax0[1] = {0}, axm1[1] = {-1}, d3[1] = {3}, d2[1] = {2};
  static const double x[6] = {1, -2, 3, 4, 5, -6};
  struct {
    const char *op;
    const int64_t *axes;
    double want[3];
  } cases[] = {
      {"ReduceMean", axm1, {2.0 / 3, 1}},
      {"ReduceMax", ax0, {4, 5, 3}},
      {"ReduceMin", ax0, {1, -2, -6}},
      {"ReduceProd", ax0, {4, -10, -18}},
      {"ReduceL1", axm1, {6, 15}},
      {"ReduceL2", axm1, {sqrt(14), sqrt(77)}},
      {"ReduceSumSquare", axm1, {14, 77}},
      {"ReduceLogSum", ax0, {log(5), log(3), log(-3)}},
      {"ReduceLogSumExp", axm1, {log(exp(1) + exp(-2) + exp(3)), log(exp(4) + exp(5) + exp(-6))}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = reduce_2x3(&c, cases[i].op, x, 1, cases[i].axes, 0);
    CHECK_MSG(rc == PARE_OK, "%s: %s", cases[i].op, c.err.msg);
    int along0 = cases[i].axes == ax0;
    check_shape(&c.out[0], 1, along0 ? d3 : d2);
    check_vals(&c.out[0], cases[i].want, along0 ? 3 : 2, 1e-5);
    case_free(&c);
  }
  /* LogSumExp stays finite for large inputs. */
  static const double big[6] = {1000, 1000, 1000, -1000, -1000, -1000};
  CHECK(reduce_2x3(&c, "ReduceLogSumExp", big, 1, axm1, 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){1000 + log(3), -1000 + log(3)}, 2, 1e-3);
  case_free(&c);
}

/* Reductions over a zero-size dim give the identity of the reduction. */
static void test_reduce_empty(void) {
  struct {
    const char *op;
    pare_dtype dt;
    double want;
  } cases[] = {
      {"ReduceSum", PARE_F32, 0},
      {"ReduceProd", PARE_F32, 1},
      {"ReduceMax", PARE_F32, -INFINITY},
      {"ReduceMin", PARE_F64, INFINITY},
      {"ReduceL2", PARE_F32, 0},
      {"ReduceLogSum", PARE_F32, -INFINITY},
      {"ReduceLogSumExp", PARE_F32, -INFINITY},
      {"ReduceSumSquare", PARE_I64, 0},
      {"ReduceMax", PARE_I32, INT32_MIN},
      {"ReduceMin", PARE_I32, INT32_MAX},
      {"ReduceProd", PARE_I64, 1},
      {"ReduceMax", PARE_U8, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    op_case c;
    int64_t dims[2] = {2, 0}, ax[1] = {1}, d21[2] = {2, 1};
    case_init(&c, cases[i].op, 2, 1);
    c.in[0] = tensor(cases[i].dt, 2, dims, NULL);
    c.in[1] = axes_tensor(1, ax);
    CHECK_MSG(case_run(&c) == PARE_OK, "%s: %s", cases[i].op, c.err.msg);
    check_shape(&c.out[0], 2, d21);
    check_vals(&c.out[0], (double[]){cases[i].want, cases[i].want}, 2, 0);
    case_free(&c);
  }
}

static void test_reduce_int(void) {
  op_case c;
  int64_t d2[1] = {2}, ax[1] = {0};
  case_init(&c, "ReduceSum", 2, 1);
  c.in[0] = tensor(PARE_I64, 1, d2, NULL);
  ((int64_t *)c.in[0]->data)[0] = (int64_t)1 << 60;
  ((int64_t *)c.in[0]->data)[1] = 1;
  c.in[1] = axes_tensor(1, ax);
  CHECK(case_run(&c) == PARE_OK);
  CHECK(c.out[0].dtype == PARE_I64);
  CHECK(((int64_t *)c.out[0].data)[0] == ((int64_t)1 << 60) + 1); /* exact, no double rounding */
  case_free(&c);

  int64_t d3[1] = {3};
  case_init(&c, "ReduceMean", 1, 1);
  c.in[0] = tensor(PARE_I32, 1, d3, (double[]){1, 2, 4});
  CHECK(case_run(&c) == PARE_OK);
  CHECK(c.out[0].dtype == PARE_I32 && ((int32_t *)c.out[0].data)[0] == 2);
  case_free(&c);

  case_init(&c, "ReduceMax", 1, 1);
  c.in[0] = tensor(PARE_I8, 1, d3, (double[]){-5, -3, -100});
  CHECK(case_run(&c) == PARE_OK);
  CHECK(((int8_t *)c.out[0].data)[0] == -3);
  case_free(&c);
}

static void test_reduce_errors(void) {
  op_case c;
  int64_t dup[2] = {1, -1}, bad[1] = {2};
  CHECK(reduce_2x3(&c, "ReduceSum", NULL, 2, dup, -1) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "twice");
  case_free(&c);
  CHECK(reduce_2x3(&c, "ReduceSum", NULL, 1, bad, -1) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "out of range");
  case_free(&c);

  /* Axes known by shape only: PARE_UNKNOWN, keepdims keeps the rank. */
  int64_t d23[2] = {2, 3}, d1[1] = {1};
  case_init(&c, "ReduceMean", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, d23, NULL);
  c.in[1] = tensor(PARE_I64, 1, d1, NULL);
  pare_aligned_free(c.in[1]->data);
  c.in[1]->data = NULL;
  const pare_op_def *def = pare_op_find("ReduceMean");
  CHECK(def &&
        def->infer(c.node, (const pare_tensor *const *)c.in, 2, c.out, 1, &c.err) == PARE_UNKNOWN);
  CHECK(c.out[0].dtype == PARE_F32 && c.out[0].shape.rank == 2);
  case_free(&c);

  case_init(&c, "ReduceSum", 1, 1);
  c.in[0] = tensor(PARE_F32, 1, d1, NULL);
  c.in[0]->dtype = PARE_STRING;
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "unsupported dtype");
  case_free(&c);
}

static void test_argmax(void) {
  op_case c;
  int64_t d23[2] = {2, 3}, d21[2] = {2, 1}, d3[1] = {3};
  static const double x[6] = {2, 7, 7, 5, 1, 5};
  /* axis 1, keepdims; ties: first, or last with select_last_index. */
  for (int last = 0; last <= 1; last++) {
    case_init(&c, "ArgMax", 1, 1);
    c.in[0] = tensor(PARE_F32, 2, d23, x);
    pare_node_set_int(c.node, "axis", -1, &c.err);
    pare_node_set_int(c.node, "select_last_index", last, &c.err);
    CHECK(case_run(&c) == PARE_OK);
    CHECK(c.out[0].dtype == PARE_I64);
    check_shape(&c.out[0], 2, d21);
    check_vals(&c.out[0], last ? (double[]){2, 2} : (double[]){1, 0}, 2, 0);
    case_free(&c);
  }
  case_init(&c, "ArgMin", 1, 1);
  c.in[0] = tensor(PARE_I32, 2, d23, x);
  pare_node_set_int(c.node, "keepdims", 0, &c.err);
  CHECK(case_run(&c) == PARE_OK);
  check_shape(&c.out[0], 1, d3);
  check_vals(&c.out[0], (double[]){0, 1, 1}, 3, 0);
  case_free(&c);
}

static void test_topk(void) {
  op_case c;
  int64_t d23[2] = {2, 3}, d22[2] = {2, 2}, one[1] = {1}, k2[1] = {2};
  static const double x[6] = {3, 1, 3, 0, 9, -1};
  case_init(&c, "TopK", 2, 2);
  c.in[0] = tensor(PARE_F32, 2, d23, x);
  c.in[1] = tensor(PARE_I64, 1, one, NULL);
  memcpy(c.in[1]->data, k2, sizeof k2);
  CHECK(case_run(&c) == PARE_OK);
  check_shape(&c.out[0], 2, d22);
  check_vals(&c.out[0], (double[]){3, 3, 9, 0}, 4, 0);
  CHECK(c.out[1].dtype == PARE_I64);
  check_vals(&c.out[1], (double[]){0, 2, 1, 0}, 4, 0); /* tie: smaller index first */
  case_free(&c);

  /* Smallest along axis 0 of i64. */
  int64_t d13[2] = {1, 3};
  case_init(&c, "TopK", 2, 2);
  c.in[0] = tensor(PARE_I64, 2, d23, x);
  c.in[1] = tensor(PARE_I64, 1, one, (double[]){1});
  pare_node_set_int(c.node, "axis", 0, &c.err);
  pare_node_set_int(c.node, "largest", 0, &c.err);
  CHECK(case_run(&c) == PARE_OK);
  check_shape(&c.out[0], 2, d13);
  check_vals(&c.out[0], (double[]){0, 1, -1}, 3, 0);
  check_vals(&c.out[1], (double[]){1, 0, 1}, 3, 0);
  case_free(&c);

  case_init(&c, "TopK", 2, 2);
  c.in[0] = tensor(PARE_F32, 2, d23, x);
  c.in[1] = tensor(PARE_I64, 1, one, (double[]){4});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "exceeds");
  case_free(&c);
}

static void test_cumsum(void) {
  static const double x[6] = {1, 2, 3, 4, 5, 6};
  struct {
    int axis, excl, rev;
    double want[6];
  } cases[] = {
      {1, 0, 0, {1, 3, 6, 4, 9, 15}},  {-1, 1, 0, {0, 1, 3, 0, 4, 9}},
      {1, 0, 1, {6, 5, 3, 15, 11, 6}}, {1, 1, 1, {5, 3, 0, 11, 6, 0}},
      {0, 0, 0, {1, 2, 3, 5, 7, 9}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (int as_int = 0; as_int <= 1; as_int++) {
      op_case c;
      int64_t d23[2] = {2, 3};
      case_init(&c, "CumSum", 2, 1);
      c.in[0] = tensor(as_int ? PARE_I32 : PARE_F64, 2, d23, x);
      c.in[1] = tensor(PARE_I32, 0, NULL, (double[]){cases[i].axis});
      pare_node_set_int(c.node, "exclusive", cases[i].excl, &c.err);
      pare_node_set_int(c.node, "reverse", cases[i].rev, &c.err);
      CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
      check_shape(&c.out[0], 2, d23);
      check_vals(&c.out[0], cases[i].want, 6, 0);
      case_free(&c);
    }
  }
}

static void test_lpnorm(void) {
  op_case c;
  int64_t d22[2] = {2, 2};
  case_init(&c, "LpNormalization", 1, 1);
  c.in[0] = tensor(PARE_F32, 2, d22, (double[]){3, 4, 0, 0});
  CHECK(case_run(&c) == PARE_OK);
  check_vals(&c.out[0], (double[]){0.6, 0.8, 0, 0}, 4, 1e-6);
  case_free(&c);
  case_init(&c, "LpNormalization", 1, 1);
  c.in[0] = tensor(PARE_F32, 2, d22, (double[]){3, 4, 1, -4});
  pare_node_set_int(c.node, "p", 1, &c.err);
  pare_node_set_int(c.node, "axis", 0, &c.err);
  CHECK(case_run(&c) == PARE_OK);
  check_vals(&c.out[0], (double[]){0.75, 0.5, 0.25, -0.5}, 4, 1e-6);
  case_free(&c);
}

/* Runs Einsum on up to 3 inputs and checks the output. */
static void einsum_case(const char *eq, int n_in, const pare_tensor *const *ins, int rank,
                        const int64_t *dims, const double *want) {
  op_case c;
  case_init(&c, "Einsum", n_in, 1);
  for (int i = 0; i < n_in; i++) {
    pare_err err;
    c.in[i] = pare_tensor_clone(ins[i], &err);
  }
  pare_node_set_string(c.node, "equation", eq, &c.err);
  int rc = case_run(&c);
  CHECK_MSG(rc == PARE_OK, "%s: %s", eq, c.err.msg);
  if (rc == PARE_OK) {
    check_shape(&c.out[0], rank, dims);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    check_vals(&c.out[0], want, n, 1e-9);
  }
  case_free(&c);
}

static void test_einsum(void) {
  int64_t d23[2] = {2, 3}, d32[2] = {3, 2}, d22[2] = {2, 2}, d33[2] = {3, 3}, d3[1] = {3};
  pare_tensor *a = tensor(PARE_F64, 2, d23, (double[]){1, 2, 3, 4, 5, 6});
  pare_tensor *b = tensor(PARE_F64, 2, d32, (double[]){1, 0, 0, 1, 2, 2});
  pare_tensor *sq = tensor(PARE_F64, 2, d33, (double[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
  pare_tensor *v = tensor(PARE_F64, 1, d3, (double[]){1, 2, 3});
  const pare_tensor *ab[2] = {a, b};
  double mm[4] = {7, 8, 16, 17};
  einsum_case("ij,jk->ik", 2, ab, 2, d22, mm);
  einsum_case("ij, jk", 2, ab, 2, d22, mm); /* implicit output, spaces */
  einsum_case("ij,jk->ki", 2, ab, 2, d22, (double[]){7, 16, 8, 17});
  einsum_case("ji", 1, ab, 2, d32, (double[]){1, 4, 2, 5, 3, 6}); /* implicit: transpose */
  einsum_case("ij->", 1, ab, 0, NULL, (double[]){21});
  einsum_case("ij->j", 1, ab, 1, d3, (double[]){5, 7, 9});
  const pare_tensor *s1[1] = {sq};
  einsum_case("ii", 1, s1, 0, NULL, (double[]){15});             /* trace */
  einsum_case("ii->i", 1, s1, 1, d3, (double[]){1, 5, 9});       /* diagonal */
  einsum_case("...ii->...i", 1, s1, 1, d3, (double[]){1, 5, 9}); /* empty ellipsis */
  const pare_tensor *vv[2] = {v, v};
  einsum_case("i,i", 2, vv, 0, NULL, (double[]){14}); /* inner product */
  einsum_case("i,j->ij", 2, vv, 2, d33, (double[]){1, 2, 3, 2, 4, 6, 3, 6, 9});
  const pare_tensor *three[3] = {v, sq, v};
  einsum_case("i,ij,j->", 3, three, 0, NULL, (double[]){228}); /* v^T M v */

  /* Batched matmul with a broadcast ellipsis: [2,1,2,3] x [3,3,2] -> [2,3,2,2]. */
  int64_t da[4] = {2, 1, 2, 3}, db[3] = {3, 3, 2}, dout[4] = {2, 3, 2, 2};
  double xa[12], xb[18], want[24];
  for (int i = 0; i < 12; i++) xa[i] = i + 1;
  for (int i = 0; i < 18; i++) xb[i] = (i % 5) - 2;
  for (int p = 0; p < 2; p++)
    for (int q = 0; q < 3; q++)
      for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
          double s = 0;
          for (int j = 0; j < 3; j++) s += xa[p * 6 + i * 3 + j] * xb[q * 6 + j * 2 + k];
          want[((p * 3 + q) * 2 + i) * 2 + k] = s;
        }
  pare_tensor *ta = tensor(PARE_F32, 4, da, xa), *tb = tensor(PARE_F32, 3, db, xb);
  const pare_tensor *tab[2] = {ta, tb};
  einsum_case("...ij,...jk->...ik", 2, tab, 4, dout, want);
  einsum_case("...ij,...jk", 2, tab, 4, dout, want);

  /* Integer einsum. */
  pare_tensor *ia = tensor(PARE_I64, 2, d23, (double[]){1, 2, 3, 4, 5, 6});
  pare_tensor *ib = tensor(PARE_I64, 2, d32, (double[]){1, 0, 0, 1, 2, 2});
  const pare_tensor *iab[2] = {ia, ib};
  einsum_case("ij,jk->ik", 2, iab, 2, d22, mm);

  /* Errors. */
  op_case c;
  const char *bad[] = {"ij,ij->ij", "ij,jk->il", "ij,jk->ii", "ijk,jk->ik", "i.j,jk", "ij"};
  const char *msg[] = {"sizes", "does not appear", "repeated", "rank", "ellipsis", "terms"};
  for (int i = 0; i < 6; i++) {
    case_init(&c, "Einsum", 2, 1);
    pare_err err;
    c.in[0] = pare_tensor_clone(a, &err);
    c.in[1] = pare_tensor_clone(b, &err);
    pare_node_set_string(c.node, "equation", bad[i], &c.err);
    CHECK_MSG(case_run(&c) == PARE_ERR, "%s accepted", bad[i]);
    CHECK_STR_CONTAINS(c.err.msg, msg[i]);
    case_free(&c);
  }
  pare_tensor_free(a);
  pare_tensor_free(b);
  pare_tensor_free(sq);
  pare_tensor_free(v);
  pare_tensor_free(ta);
  pare_tensor_free(tb);
  pare_tensor_free(ia);
  pare_tensor_free(ib);
}

int main(void) {
  RUN(test_reduce_sum);
  RUN(test_reduce_kinds);
  RUN(test_reduce_empty);
  RUN(test_reduce_int);
  RUN(test_reduce_errors);
  RUN(test_argmax);
  RUN(test_topk);
  RUN(test_cumsum);
  RUN(test_lpnorm);
  RUN(test_einsum);
  return check_summary();
}
