/*
 * test_ops_shape.c - hand-computed cases for the shape op family (Reshape,
 * Slice, Gather, Pad, Resize, ...), run through pare_op_find: infer,
 * allocate, eval. Also checks PARE_UNKNOWN for value-dependent shapes and
 * the validation messages.
 */
#include "check.h"
#include "ops/ops.h"

#include <stdint.h>

#define MAX_IO 5

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

/* A tensor of dtype dt filled from vals (NULL: zeros). */
static pare_tensor *tensor(pare_dtype dt, int rank, const int64_t *dims, const double *vals) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_err err;
  pare_tensor *t = pare_tensor_new(dt, &s, &err);
  if (t && vals)
    for (int64_t i = 0; i < pare_tensor_numel(t); i++) pare_tensor_set_f64(t, i, vals[i]);
  return t;
}

/* A 1-D i64 tensor holding v[0..n) exactly. */
static pare_tensor *ints(int n, const int64_t *v) {
  int64_t d = n;
  pare_shape s = pare_shape_make(1, &d);
  pare_err err;
  pare_tensor *t = pare_tensor_new(PARE_I64, &s, &err);
  if (t && n) memcpy(t->data, v, (size_t)n * sizeof *v);
  return t;
}

/* An input whose dtype/shape are known but whose value is not (data NULL). */
static pare_tensor *unknown(pare_dtype dt, int rank, const int64_t *dims) {
  pare_tensor *t = calloc(1, sizeof *t);
  t->dtype = dt;
  t->shape = rank < 0 ? pare_shape_unknown() : pare_shape_make(rank, dims);
  return t;
}

static int case_infer(op_case *c) {
  const pare_op_def *def = pare_op_find(c->node->op);
  if (!def) {
    snprintf(c->err.msg, sizeof c->err.msg, "op %s not registered", c->node->op);
    return PARE_ERR;
  }
  c->err.msg[0] = 0;
  for (int i = 0; i < c->n_out; i++) {
    memset(&c->out[i], 0, sizeof c->out[i]);
    c->out[i].shape = pare_shape_unknown();
  }
  return def->infer(c->node, (const pare_tensor *const *)c->in, c->n_in, c->out, c->n_out, &c->err);
}

/* infer, allocate outputs, eval. Returns infer's status if not PARE_OK. */
static int case_run(op_case *c) {
  int rc = case_infer(c);
  if (rc != PARE_OK) return rc;
  for (int i = 0; i < c->n_out; i++)
    if (pare_tensor_alloc(&c->out[i], &c->err)) return PARE_ERR;
  const pare_op_def *def = pare_op_find(c->node->op);
  return def->eval(c->node, (const pare_tensor *const *)c->in, c->n_in, c->out, c->n_out, &c->err);
}

#define RUN_OK(c) CHECK_MSG(case_run(c) == PARE_OK, "%s", (c)->err.msg)

static void check_shape(const pare_tensor *t, int rank, const int64_t *dims) {
  CHECK_MSG(t->shape.rank == rank, "rank %d vs %d", t->shape.rank, rank);
  for (int i = 0; i < rank && i < t->shape.rank; i++)
    CHECK_MSG(t->shape.dims[i] == dims[i], "dim %d: %lld vs %lld", i, (long long)t->shape.dims[i],
              (long long)dims[i]);
}

static void check_vals(const pare_tensor *t, const double *want, int64_t n, double tol) {
  CHECK_MSG(pare_tensor_numel(t) == n, "numel %lld vs %lld", (long long)pare_tensor_numel(t),
            (long long)n);
  if (!t->data) return;
  for (int64_t i = 0; i < n && i < pare_tensor_numel(t); i++) {
    double got = pare_tensor_get_f64(t, i);
    CHECK_MSG(fabs(got - want[i]) <= tol, "[%lld] %.9g vs %.9g", (long long)i, got, want[i]);
  }
}

static const double iota[64] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
                                48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

/* ------------------------------------------------------------- reshaping */

static void test_reshape(void) {
  op_case c;
  case_init(&c, "Reshape", 2, 1);
  c.in[0] = tensor(PARE_I64, 3, (int64_t[]){2, 3, 4}, iota);
  c.in[1] = ints(3, (int64_t[]){0, -1, 2});
  RUN_OK(&c);
  check_shape(&c.out[0], 3, (int64_t[]){2, 6, 2});
  check_vals(&c.out[0], iota, 24, 0);
  case_free(&c);

  /* Element counts that disagree: a clear message. */
  case_init(&c, "Reshape", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 3}, iota);
  c.in[1] = ints(2, (int64_t[]){4, 2});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "cannot reshape [2,3] (6 elements) to [4,2]");
  case_free(&c);

  /* Two -1s. */
  case_init(&c, "Reshape", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 3}, iota);
  c.in[1] = ints(2, (int64_t[]){-1, -1});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "more than one -1");
  case_free(&c);

  /* allowzero=1 keeps a literal 0 (zero-size tensors). */
  case_init(&c, "Reshape", 2, 1);
  c.in[0] = tensor(PARE_F32, 3, (int64_t[]){0, 3, 4}, NULL);
  c.in[1] = ints(3, (int64_t[]){3, 4, 0});
  pare_node_set_int(c.node, "allowzero", 1, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 3, (int64_t[]){3, 4, 0});
  case_free(&c);

  /* Shape value unknown: rank from the shape input's length. */
  case_init(&c, "Reshape", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 3}, iota);
  c.in[1] = unknown(PARE_I64, 1, (int64_t[]){3});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[0].dtype == PARE_F32);
  CHECK(c.out[0].shape.rank == 3);
  case_free(&c);
}

static void test_flatten_squeeze_unsqueeze(void) {
  op_case c;
  case_init(&c, "Flatten", 1, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){2, 3, 4, 5}, NULL);
  pare_node_set_int(c.node, "axis", -1, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){24, 5});
  case_free(&c);

  case_init(&c, "Flatten", 1, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 3}, NULL);
  pare_node_set_int(c.node, "axis", 0, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){1, 6});
  case_free(&c);

  case_init(&c, "Squeeze", 1, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 3, 1, 2}, iota);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){3, 2});
  check_vals(&c.out[0], iota, 6, 0);
  case_free(&c);

  case_init(&c, "Squeeze", 2, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 3, 1, 2}, iota);
  c.in[1] = ints(1, (int64_t[]){-2});
  RUN_OK(&c);
  check_shape(&c.out[0], 3, (int64_t[]){1, 3, 2});
  case_free(&c);

  case_init(&c, "Squeeze", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 3}, NULL);
  c.in[1] = ints(1, (int64_t[]){0});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "cannot squeeze axis 0 of size 2");
  case_free(&c);

  case_init(&c, "Unsqueeze", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 4}, NULL);
  c.in[1] = ints(3, (int64_t[]){-1, 0, 2});
  RUN_OK(&c);
  check_shape(&c.out[0], 5, (int64_t[]){1, 3, 1, 4, 1});
  case_free(&c);

  case_init(&c, "Unsqueeze", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 4}, NULL);
  c.in[1] = ints(2, (int64_t[]){1, -3});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "repeated");
  case_free(&c);
}

static void test_transpose(void) {
  op_case c;
  case_init(&c, "Transpose", 1, 1);
  c.in[0] = tensor(PARE_I16, 3, (int64_t[]){2, 3, 4}, iota);
  pare_node_set_ints(c.node, "perm", (int64_t[]){1, 2, 0}, 3, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 3, (int64_t[]){3, 4, 2});
  /* out[j][k][i] = x[i][j][k] = 12i + 4j + k */
  double want[24];
  for (int j = 0; j < 3; j++)
    for (int k = 0; k < 4; k++)
      for (int i = 0; i < 2; i++) want[(j * 4 + k) * 2 + i] = 12 * i + 4 * j + k;
  check_vals(&c.out[0], want, 24, 0);
  CHECK(c.out[0].dtype == PARE_I16);
  case_free(&c);

  case_init(&c, "Transpose", 1, 1);
  c.in[0] = tensor(PARE_F64, 2, (int64_t[]){2, 3}, iota);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){3, 2});
  check_vals(&c.out[0], (double[]){0, 3, 1, 4, 2, 5}, 6, 0);
  case_free(&c);

  case_init(&c, "Transpose", 1, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 3}, iota);
  pare_node_set_ints(c.node, "perm", (int64_t[]){0, 0}, 2, &c.err);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "perm");
  case_free(&c);
}

static void test_concat_split(void) {
  op_case c;
  case_init(&c, "Concat", 3, 1);
  c.in[0] = tensor(PARE_U8, 2, (int64_t[]){2, 1}, (double[]){1, 2});
  c.in[1] = tensor(PARE_U8, 2, (int64_t[]){2, 0}, NULL);
  c.in[2] = tensor(PARE_U8, 2, (int64_t[]){2, 2}, (double[]){3, 4, 5, 6});
  pare_node_set_int(c.node, "axis", -1, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){2, 3});
  check_vals(&c.out[0], (double[]){1, 3, 4, 2, 5, 6}, 6, 0);
  case_free(&c);

  case_init(&c, "Concat", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 1}, NULL);
  c.in[1] = tensor(PARE_F32, 2, (int64_t[]){3, 1}, NULL);
  pare_node_set_int(c.node, "axis", 1, &c.err);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "does not match");
  case_free(&c);

  /* Equal split of 6 into 3. */
  case_init(&c, "Split", 1, 3);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){6}, iota);
  RUN_OK(&c);
  for (int k = 0; k < 3; k++) {
    check_shape(&c.out[k], 1, (int64_t[]){2});
    check_vals(&c.out[k], iota + 2 * k, 2, 0);
  }
  case_free(&c);

  /* num_outputs (opset 18): 5 into 3 -> 2, 2, 1. */
  case_init(&c, "Split", 1, 3);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 5}, iota);
  pare_node_set_int(c.node, "axis", 1, &c.err);
  pare_node_set_int(c.node, "num_outputs", 3, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){2, 2});
  check_shape(&c.out[2], 2, (int64_t[]){2, 1});
  check_vals(&c.out[1], (double[]){2, 3, 7, 8}, 4, 0);
  check_vals(&c.out[2], (double[]){4, 9}, 2, 0);
  case_free(&c);

  /* split input, including a zero-size part. */
  case_init(&c, "Split", 2, 3);
  c.in[0] = tensor(PARE_I32, 1, (int64_t[]){5}, iota);
  c.in[1] = ints(3, (int64_t[]){1, 0, 4});
  RUN_OK(&c);
  check_shape(&c.out[1], 1, (int64_t[]){0});
  check_vals(&c.out[2], iota + 1, 4, 0);
  case_free(&c);

  /* Zero-size input split into zero-size parts. */
  case_init(&c, "Split", 2, 3);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){0}, NULL);
  c.in[1] = ints(3, (int64_t[]){0, 0, 0});
  RUN_OK(&c);
  check_shape(&c.out[2], 1, (int64_t[]){0});
  case_free(&c);

  case_init(&c, "Split", 1, 2);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){5}, iota);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "evenly");
  case_free(&c);

  /* Unknown split value: dtype and rank, PARE_UNKNOWN. */
  case_init(&c, "Split", 2, 2);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){4, 5}, NULL);
  c.in[1] = unknown(PARE_I64, 1, (int64_t[]){2});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[1].shape.rank == 2 && c.out[1].shape.dims[0] == -1 && c.out[1].shape.dims[1] == 5);
  case_free(&c);
}

static void test_slice(void) {
  op_case c;
  /* Negative step from 8 down past the start, clamped. */
  case_init(&c, "Slice", 5, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){10}, iota);
  c.in[1] = ints(1, (int64_t[]){8});
  c.in[2] = ints(1, (int64_t[]){INT64_MIN});
  c.in[4] = ints(1, (int64_t[]){-3});
  RUN_OK(&c);
  check_shape(&c.out[0], 1, (int64_t[]){3});
  check_vals(&c.out[0], (double[]){8, 5, 2}, 3, 0);
  case_free(&c);

  /* Out-of-range bounds clamp. */
  case_init(&c, "Slice", 5, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){10}, iota);
  c.in[1] = ints(1, (int64_t[]){-100});
  c.in[2] = ints(1, (int64_t[]){INT64_MAX});
  c.in[4] = ints(1, (int64_t[]){4});
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){0, 4, 8}, 3, 0);
  case_free(&c);

  /* 2-D with negative axes and steps. */
  case_init(&c, "Slice", 5, 1);
  c.in[0] = tensor(PARE_I64, 2, (int64_t[]){3, 4}, iota);
  c.in[1] = ints(2, (int64_t[]){1, -1});
  c.in[2] = ints(2, (int64_t[]){1000, -1000});
  c.in[3] = ints(2, (int64_t[]){0, -1});
  c.in[4] = ints(2, (int64_t[]){1, -2});
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){2, 2});
  check_vals(&c.out[0], (double[]){7, 5, 11, 9}, 4, 0);
  case_free(&c);

  /* Empty result. */
  case_init(&c, "Slice", 3, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){10}, iota);
  c.in[1] = ints(1, (int64_t[]){5});
  c.in[2] = ints(1, (int64_t[]){2});
  RUN_OK(&c);
  check_shape(&c.out[0], 1, (int64_t[]){0});
  case_free(&c);

  case_init(&c, "Slice", 5, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){10}, iota);
  c.in[1] = ints(1, (int64_t[]){0});
  c.in[2] = ints(1, (int64_t[]){5});
  c.in[4] = ints(1, (int64_t[]){0});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "step");
  case_free(&c);

  case_init(&c, "Slice", 3, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 4}, NULL);
  c.in[1] = unknown(PARE_I64, 1, (int64_t[]){1});
  c.in[2] = ints(1, (int64_t[]){2});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[0].shape.rank == 2);
  case_free(&c);
}

static void test_expand_tile(void) {
  op_case c;
  case_init(&c, "Expand", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 1}, (double[]){1, 2, 3});
  c.in[1] = ints(3, (int64_t[]){2, 1, 4});
  RUN_OK(&c);
  check_shape(&c.out[0], 3, (int64_t[]){2, 3, 4});
  double want[24];
  for (int i = 0; i < 24; i++) want[i] = (i / 4) % 3 + 1;
  check_vals(&c.out[0], want, 24, 0);
  case_free(&c);

  case_init(&c, "Expand", 2, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, NULL);
  c.in[1] = ints(1, (int64_t[]){4});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "broadcast");
  case_free(&c);

  /* Absurd target shape: refused before any allocation. */
  case_init(&c, "Expand", 2, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){1}, NULL);
  c.in[1] = ints(3, (int64_t[]){1LL << 30, 1LL << 30, 1LL << 30});
  CHECK(case_run(&c) == PARE_ERR);
  case_free(&c);

  case_init(&c, "Expand", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 1}, NULL);
  c.in[1] = unknown(PARE_I64, 1, (int64_t[]){3});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[0].shape.rank == 3);
  case_free(&c);

  case_init(&c, "Tile", 2, 1);
  c.in[0] = tensor(PARE_I8, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4});
  c.in[1] = ints(2, (int64_t[]){2, 2});
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){4, 4});
  check_vals(&c.out[0], (double[]){1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4}, 16, 0);
  case_free(&c);

  case_init(&c, "Tile", 2, 1);
  c.in[0] = tensor(PARE_I8, 2, (int64_t[]){2, 2}, NULL);
  c.in[1] = ints(1, (int64_t[]){2});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "repeats");
  case_free(&c);
}

/* Pads [1,2,3] by (2, 2) in `mode`. */
static void pad_1d(const char *mode, const double *want) {
  op_case c;
  case_init(&c, "Pad", 3, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){1, 2, 3});
  c.in[1] = ints(2, (int64_t[]){2, 2});
  c.in[2] = tensor(PARE_F32, 0, NULL, (double[]){9});
  pare_node_set_string(c.node, "mode", mode, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 1, (int64_t[]){7});
  check_vals(&c.out[0], want, 7, 0);
  case_free(&c);
}

static void test_pad(void) {
  pad_1d("constant", (double[]){9, 9, 1, 2, 3, 9, 9});
  pad_1d("reflect", (double[]){3, 2, 1, 2, 3, 2, 1});
  pad_1d("edge", (double[]){1, 1, 1, 2, 3, 3, 3});
  pad_1d("wrap", (double[]){2, 3, 1, 2, 3, 1, 2});

  op_case c;
  /* Negative pads crop. */
  case_init(&c, "Pad", 2, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){1, 2, 3});
  c.in[1] = ints(2, (int64_t[]){-1, 1});
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){2, 3, 0}, 3, 0);
  case_free(&c);

  /* axes input (opset 18), edge mode on the last axis only. */
  case_init(&c, "Pad", 4, 1);
  c.in[0] = tensor(PARE_I64, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4});
  c.in[1] = ints(2, (int64_t[]){1, 1});
  c.in[3] = ints(1, (int64_t[]){-1});
  pare_node_set_string(c.node, "mode", "edge", &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){2, 4});
  check_vals(&c.out[0], (double[]){1, 1, 2, 2, 3, 3, 4, 4}, 8, 0);
  case_free(&c);

  /* 2-D constant padding on both axes. */
  case_init(&c, "Pad", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){1, 2}, (double[]){1, 2});
  c.in[1] = ints(4, (int64_t[]){1, 0, 0, 1});
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){2, 3});
  check_vals(&c.out[0], (double[]){0, 0, 0, 1, 2, 0}, 6, 0);
  case_free(&c);

  case_init(&c, "Pad", 2, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, NULL);
  c.in[1] = ints(2, (int64_t[]){-2, -2});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "negative");
  case_free(&c);
}

static void test_shape_size_constant(void) {
  op_case c;
  case_init(&c, "Shape", 1, 1);
  c.in[0] = tensor(PARE_F32, 3, (int64_t[]){2, 3, 4}, NULL);
  pare_node_set_int(c.node, "start", 1, &c.err);
  RUN_OK(&c);
  CHECK(c.out[0].dtype == PARE_I64);
  check_vals(&c.out[0], (double[]){3, 4}, 2, 0);
  case_free(&c);

  case_init(&c, "Shape", 1, 1);
  c.in[0] = tensor(PARE_F32, 3, (int64_t[]){2, 3, 4}, NULL);
  pare_node_set_int(c.node, "end", -1, &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){2, 3}, 2, 0);
  case_free(&c);

  /* Shape needs only the input's shape, not its value. */
  case_init(&c, "Shape", 1, 1);
  c.in[0] = unknown(PARE_F32, 2, (int64_t[]){5, 7});
  CHECK(case_run(&c) == PARE_OK);
  check_vals(&c.out[0], (double[]){5, 7}, 2, 0);
  case_free(&c);

  case_init(&c, "Size", 1, 1);
  c.in[0] = unknown(PARE_F32, 2, (int64_t[]){5, 7});
  CHECK(case_run(&c) == PARE_OK);
  check_shape(&c.out[0], 0, NULL);
  check_vals(&c.out[0], (double[]){35}, 1, 0);
  case_free(&c);

  case_init(&c, "ConstantOfShape", 1, 1);
  c.in[0] = ints(2, (int64_t[]){2, 3});
  pare_node_set_tensor(c.node, "value", tensor(PARE_I32, 1, (int64_t[]){1}, (double[]){7}), &c.err);
  RUN_OK(&c);
  CHECK(c.out[0].dtype == PARE_I32);
  check_vals(&c.out[0], (double[]){7, 7, 7, 7, 7, 7}, 6, 0);
  case_free(&c);

  case_init(&c, "ConstantOfShape", 1, 1);
  c.in[0] = ints(0, NULL);
  RUN_OK(&c);
  CHECK(c.out[0].dtype == PARE_F32);
  check_shape(&c.out[0], 0, NULL);
  case_free(&c);

  case_init(&c, "ConstantOfShape", 1, 1);
  c.in[0] = ints(2, (int64_t[]){1LL << 40, 1LL << 40});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "too many elements");
  case_free(&c);

  case_init(&c, "ConstantOfShape", 1, 1);
  c.in[0] = unknown(PARE_I64, 1, (int64_t[]){3});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[0].shape.rank == 3);
  case_free(&c);
}

static void test_range(void) {
  op_case c;
  case_init(&c, "Range", 3, 1);
  c.in[0] = tensor(PARE_F32, 0, NULL, (double[]){1});
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){5});
  c.in[2] = tensor(PARE_F32, 0, NULL, (double[]){1.5});
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){1, 2.5, 4}, 3, 0);
  case_free(&c);

  case_init(&c, "Range", 3, 1);
  c.in[0] = tensor(PARE_I32, 0, NULL, (double[]){10});
  c.in[1] = tensor(PARE_I32, 0, NULL, (double[]){4});
  c.in[2] = tensor(PARE_I32, 0, NULL, (double[]){-3});
  RUN_OK(&c);
  CHECK(c.out[0].dtype == PARE_I32);
  check_vals(&c.out[0], (double[]){10, 7}, 2, 0);
  case_free(&c);

  /* Huge count: the allocation limit refuses it. */
  case_init(&c, "Range", 3, 1);
  c.in[0] = tensor(PARE_I64, 0, NULL, (double[]){0});
  c.in[1] = tensor(PARE_I64, 0, NULL, (double[]){1e18});
  c.in[2] = tensor(PARE_I64, 0, NULL, (double[]){1});
  CHECK(case_run(&c) == PARE_ERR);
  case_free(&c);

  case_init(&c, "Range", 3, 1);
  c.in[0] = tensor(PARE_I64, 0, NULL, (double[]){0});
  c.in[1] = tensor(PARE_I64, 0, NULL, (double[]){5});
  c.in[2] = tensor(PARE_I64, 0, NULL, (double[]){0});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "delta");
  case_free(&c);

  case_init(&c, "Range", 3, 1);
  c.in[0] = tensor(PARE_I64, 0, NULL, (double[]){0});
  c.in[1] = unknown(PARE_I64, 0, NULL);
  c.in[2] = tensor(PARE_I64, 0, NULL, (double[]){1});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[0].shape.rank == 1 && c.out[0].dtype == PARE_I64);
  case_free(&c);
}

static void test_depth_space(void) {
  op_case c;
  case_init(&c, "DepthToSpace", 1, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 8, 1, 1}, iota);
  pare_node_set_int(c.node, "blocksize", 2, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 4, (int64_t[]){1, 2, 2, 2});
  check_vals(&c.out[0], (double[]){0, 2, 4, 6, 1, 3, 5, 7}, 8, 0);
  case_free(&c);

  case_init(&c, "DepthToSpace", 1, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 8, 1, 1}, iota);
  pare_node_set_int(c.node, "blocksize", 2, &c.err);
  pare_node_set_string(c.node, "mode", "CRD", &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], iota, 8, 0);
  case_free(&c);

  case_init(&c, "SpaceToDepth", 1, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 2, 2, 2}, iota);
  pare_node_set_int(c.node, "blocksize", 2, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 4, (int64_t[]){1, 8, 1, 1});
  check_vals(&c.out[0], (double[]){0, 4, 1, 5, 2, 6, 3, 7}, 8, 0);
  case_free(&c);

  case_init(&c, "DepthToSpace", 1, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 6, 1, 1}, NULL);
  pare_node_set_int(c.node, "blocksize", 2, &c.err);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "multiple");
  case_free(&c);
}

/* ---------------------------------------------------------------- indexing */

static void test_gather(void) {
  op_case c;
  static const double d32[6] = {1, 2, 3, 4, 5, 6};
  case_init(&c, "Gather", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 2}, d32);
  c.in[1] = tensor(PARE_I32, 2, (int64_t[]){1, 2}, (double[]){0, -1});
  RUN_OK(&c);
  check_shape(&c.out[0], 3, (int64_t[]){1, 2, 2});
  check_vals(&c.out[0], (double[]){1, 2, 5, 6}, 4, 0);
  case_free(&c);

  case_init(&c, "Gather", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 2}, d32);
  c.in[1] = ints(1, (int64_t[]){-1});
  pare_node_set_int(c.node, "axis", 1, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){3, 1});
  check_vals(&c.out[0], (double[]){2, 4, 6}, 3, 0);
  case_free(&c);

  /* Scalar index drops the axis. */
  case_init(&c, "Gather", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 2}, d32);
  c.in[1] = tensor(PARE_I64, 0, NULL, (double[]){1});
  RUN_OK(&c);
  check_shape(&c.out[0], 1, (int64_t[]){2});
  check_vals(&c.out[0], (double[]){3, 4}, 2, 0);
  case_free(&c);

  case_init(&c, "Gather", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 2}, d32);
  c.in[1] = ints(1, (int64_t[]){3});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "index 3 out of range for axis 0 of size 3");
  case_free(&c);

  case_init(&c, "GatherElements", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4});
  c.in[1] = ints(4, (int64_t[]){0, 0, 1, 0});
  c.in[1]->shape = pare_shape_make(2, (int64_t[]){2, 2});
  pare_node_set_int(c.node, "axis", 1, &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){1, 1, 4, 3}, 4, 0);
  case_free(&c);

  case_init(&c, "GatherND", 2, 1);
  c.in[0] = tensor(PARE_F32, 3, (int64_t[]){2, 2, 2}, iota);
  c.in[1] = ints(2, (int64_t[]){1, 0});
  c.in[1]->shape = pare_shape_make(2, (int64_t[]){2, 1});
  pare_node_set_int(c.node, "batch_dims", 1, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){2, 2});
  check_vals(&c.out[0], (double[]){2, 3, 4, 5}, 4, 0);
  case_free(&c);

  case_init(&c, "GatherND", 2, 1);
  c.in[0] = tensor(PARE_I32, 2, (int64_t[]){2, 2}, iota);
  c.in[1] = ints(4, (int64_t[]){0, 0, -1, -1});
  c.in[1]->shape = pare_shape_make(2, (int64_t[]){2, 2});
  RUN_OK(&c);
  check_shape(&c.out[0], 1, (int64_t[]){2});
  check_vals(&c.out[0], (double[]){0, 3}, 2, 0);
  case_free(&c);
}

static void test_scatter(void) {
  op_case c;
  case_init(&c, "ScatterElements", 3, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){1, 5}, (double[]){1, 2, 3, 4, 5});
  c.in[1] = ints(2, (int64_t[]){1, 1});
  c.in[1]->shape = pare_shape_make(2, (int64_t[]){1, 2});
  c.in[2] = tensor(PARE_F32, 2, (int64_t[]){1, 2}, (double[]){1.25, 2.5});
  pare_node_set_int(c.node, "axis", 1, &c.err);
  pare_node_set_string(c.node, "reduction", "add", &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){1, 5.75, 3, 4, 5}, 5, 0);
  case_free(&c);

  case_init(&c, "ScatterElements", 3, 1);
  c.in[0] = tensor(PARE_I32, 1, (int64_t[]){3}, (double[]){1, 2, 3});
  c.in[1] = ints(3, (int64_t[]){0, 0, -1});
  c.in[2] = tensor(PARE_I32, 1, (int64_t[]){3}, (double[]){5, -1, 1});
  pare_node_set_string(c.node, "reduction", "max", &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){5, 2, 3}, 3, 0);
  case_free(&c);

  case_init(&c, "ScatterND", 3, 1);
  c.in[0] = tensor(PARE_I64, 1, (int64_t[]){4}, (double[]){1, 2, 3, 4});
  c.in[1] = ints(3, (int64_t[]){1, 1, 3});
  c.in[1]->shape = pare_shape_make(2, (int64_t[]){3, 1});
  c.in[2] = tensor(PARE_I64, 1, (int64_t[]){3}, (double[]){2, 3, 10});
  pare_node_set_string(c.node, "reduction", "mul", &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){1, 12, 3, 40}, 4, 0);
  case_free(&c);

  /* Row update of a matrix. */
  case_init(&c, "ScatterND", 3, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4});
  c.in[1] = ints(1, (int64_t[]){1});
  c.in[1]->shape = pare_shape_make(2, (int64_t[]){1, 1});
  c.in[2] = tensor(PARE_F32, 2, (int64_t[]){1, 2}, (double[]){8, 9});
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){1, 2, 8, 9}, 4, 0);
  case_free(&c);

  case_init(&c, "ScatterND", 3, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){4}, NULL);
  c.in[1] = ints(1, (int64_t[]){7});
  c.in[1]->shape = pare_shape_make(2, (int64_t[]){1, 1});
  c.in[2] = tensor(PARE_F32, 1, (int64_t[]){1}, NULL);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "out of range");
  case_free(&c);
}

static void test_onehot_nonzero(void) {
  op_case c;
  case_init(&c, "OneHot", 3, 1);
  c.in[0] = ints(3, (int64_t[]){1, -1, 5});
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){3});
  c.in[2] = tensor(PARE_F32, 1, (int64_t[]){2}, (double[]){0, 1});
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){3, 3});
  check_vals(&c.out[0], (double[]){0, 1, 0, 0, 0, 1, 0, 0, 0}, 9, 0);
  case_free(&c);

  case_init(&c, "OneHot", 3, 1);
  c.in[0] = ints(3, (int64_t[]){1, -1, 5});
  c.in[1] = tensor(PARE_I64, 0, NULL, (double[]){3});
  c.in[2] = tensor(PARE_I32, 1, (int64_t[]){2}, (double[]){2, 7});
  pare_node_set_int(c.node, "axis", 0, &c.err);
  RUN_OK(&c);
  CHECK(c.out[0].dtype == PARE_I32);
  check_vals(&c.out[0], (double[]){2, 2, 2, 7, 2, 2, 2, 7, 2}, 9, 0);
  case_free(&c);

  case_init(&c, "OneHot", 3, 1);
  c.in[0] = ints(3, (int64_t[]){1, -1, 5});
  c.in[1] = unknown(PARE_I64, 0, NULL);
  c.in[2] = tensor(PARE_I32, 1, (int64_t[]){2}, (double[]){2, 7});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[0].shape.rank == 2 && c.out[0].shape.dims[0] == 3);
  case_free(&c);

  case_init(&c, "NonZero", 1, 1);
  c.in[0] = tensor(PARE_BOOL, 2, (int64_t[]){2, 2}, (double[]){1, 0, 1, 1});
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){2, 3});
  check_vals(&c.out[0], (double[]){0, 1, 1, 0, 0, 1}, 6, 0);
  case_free(&c);

  /* -0.0 is zero, NaN is not. */
  case_init(&c, "NonZero", 1, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){-0.0, NAN, 0});
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){1, 1});
  check_vals(&c.out[0], (double[]){1}, 1, 0);
  case_free(&c);

  case_init(&c, "NonZero", 1, 1);
  c.in[0] = unknown(PARE_F32, 3, (int64_t[]){2, 3, 4});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[0].shape.rank == 2 && c.out[0].shape.dims[0] == 3 && c.out[0].shape.dims[1] == -1);
  case_free(&c);
}

static void test_trilu_eyelike(void) {
  static const double m33[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  op_case c;
  case_init(&c, "Trilu", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 3}, m33);
  c.in[1] = tensor(PARE_I64, 0, NULL, (double[]){1});
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){0, 2, 3, 0, 0, 6, 0, 0, 0}, 9, 0);
  case_free(&c);

  case_init(&c, "Trilu", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 3}, m33);
  c.in[1] = tensor(PARE_I64, 0, NULL, (double[]){-1});
  pare_node_set_int(c.node, "upper", 0, &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){0, 0, 0, 4, 0, 0, 7, 8, 0}, 9, 0);
  case_free(&c);

  case_init(&c, "Trilu", 1, 1);
  c.in[0] = tensor(PARE_F32, 3, (int64_t[]){3, 0, 5}, NULL);
  RUN_OK(&c);
  check_shape(&c.out[0], 3, (int64_t[]){3, 0, 5});
  case_free(&c);

  case_init(&c, "EyeLike", 1, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 4}, NULL);
  pare_node_set_int(c.node, "k", 1, &c.err);
  pare_node_set_int(c.node, "dtype", PARE_I32, &c.err);
  RUN_OK(&c);
  CHECK(c.out[0].dtype == PARE_I32);
  check_vals(&c.out[0], (double[]){0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, 12, 0);
  case_free(&c);
}

static void test_compress_reverse(void) {
  op_case c;
  case_init(&c, "Compress", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 2}, (double[]){1, 2, 3, 4, 5, 6});
  c.in[1] = tensor(PARE_BOOL, 1, (int64_t[]){3}, (double[]){0, 1, 1});
  pare_node_set_int(c.node, "axis", 0, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 2, (int64_t[]){2, 2});
  check_vals(&c.out[0], (double[]){3, 4, 5, 6}, 4, 0);
  case_free(&c);

  case_init(&c, "Compress", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 2}, (double[]){1, 2, 3, 4, 5, 6});
  c.in[1] = tensor(PARE_BOOL, 1, (int64_t[]){5}, (double[]){0, 1, 0, 0, 1});
  RUN_OK(&c);
  check_shape(&c.out[0], 1, (int64_t[]){2});
  check_vals(&c.out[0], (double[]){2, 5}, 2, 0);
  case_free(&c);

  case_init(&c, "ReverseSequence", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){4, 4}, iota);
  c.in[1] = ints(4, (int64_t[]){4, 3, 2, 1});
  pare_node_set_int(c.node, "time_axis", 0, &c.err);
  pare_node_set_int(c.node, "batch_axis", 1, &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15}, 16, 0);
  case_free(&c);
}

/* ------------------------------------------------------------------ Resize */

/* Resize of x [1,1,2,2] = [[1,2],[3,4]] by scales (1,1,2,2); roi given empty
 * as opset-11 models do, sizes omitted. */
static int resize_2x2(op_case *c, const char *mode, const char *coord, const char *nearest,
                      pare_dtype dt) {
  case_init(c, "Resize", 3, 1);
  c->in[0] = tensor(dt, 4, (int64_t[]){1, 1, 2, 2}, (double[]){1, 2, 3, 4});
  c->in[1] = tensor(PARE_F32, 1, (int64_t[]){0}, NULL);
  c->in[2] = tensor(PARE_F32, 1, (int64_t[]){4}, (double[]){1, 1, 2, 2});
  pare_node_set_string(c->node, "mode", mode, &c->err);
  pare_node_set_string(c->node, "coordinate_transformation_mode", coord, &c->err);
  if (nearest) pare_node_set_string(c->node, "nearest_mode", nearest, &c->err);
  return case_run(c);
}

static void test_resize(void) {
  op_case c;
  /* PP-OCR's form: nearest, asymmetric, floor. */
  CHECK_MSG(resize_2x2(&c, "nearest", "asymmetric", "floor", PARE_F32) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 4, (int64_t[]){1, 1, 4, 4});
  check_vals(&c.out[0], (double[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 16, 0);
  case_free(&c);

  CHECK(resize_2x2(&c, "linear", "half_pixel", NULL, PARE_F32) == PARE_OK);
  check_vals(
      &c.out[0],
      (double[]){1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4},
      16, 1e-6);
  case_free(&c);

  CHECK(resize_2x2(&c, "linear", "align_corners", NULL, PARE_F64) == PARE_OK);
  check_vals(&c.out[0],
             (double[]){1, 4 / 3., 5 / 3., 2, 5 / 3., 2, 7 / 3., 8 / 3., 7 / 3., 8 / 3., 3, 10 / 3.,
                        3, 10 / 3., 11 / 3., 4},
             16, 1e-12);
  case_free(&c);

  /* Nearest moves bytes: exact for i64 beyond double precision. */
  case_init(&c, "Resize", 3, 1);
  c.in[0] = ints(2, (int64_t[]){(1LL << 60) + 1, 5});
  c.in[0]->shape = pare_shape_make(4, (int64_t[]){1, 1, 1, 2});
  c.in[2] = tensor(PARE_F32, 1, (int64_t[]){4}, (double[]){1, 1, 1, 2});
  RUN_OK(&c);
  {
    const int64_t *o = c.out[0].data;
    CHECK(o[0] == (1LL << 60) + 1 && o[1] == (1LL << 60) + 1 && o[2] == 5 && o[3] == 5);
  }
  case_free(&c);

  /* sizes with axes (opset 18): only the width. */
  case_init(&c, "Resize", 4, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 1, 2, 2}, (double[]){1, 2, 3, 4});
  c.in[3] = ints(1, (int64_t[]){4});
  pare_node_set_string(c.node, "mode", "linear", &c.err);
  pare_node_set_ints(c.node, "axes", (int64_t[]){-1}, 1, &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 4, (int64_t[]){1, 1, 2, 4});
  check_vals(&c.out[0], (double[]){1, 1.25, 1.75, 2, 3, 3.25, 3.75, 4}, 8, 1e-6);
  case_free(&c);

  /* keep_aspect_ratio_policy not_larger: scale min(1.5, 0.75). */
  case_init(&c, "Resize", 4, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 1, 2, 4}, iota);
  c.in[3] = ints(2, (int64_t[]){3, 3});
  pare_node_set_ints(c.node, "axes", (int64_t[]){2, 3}, 2, &c.err);
  pare_node_set_string(c.node, "keep_aspect_ratio_policy", "not_larger", &c.err);
  RUN_OK(&c);
  check_shape(&c.out[0], 4, (int64_t[]){1, 1, 2, 3});
  case_free(&c);

  /* Cubic at scale 1 is the identity. */
  case_init(&c, "Resize", 3, 1);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){3, 3}, iota);
  c.in[2] = tensor(PARE_F32, 1, (int64_t[]){2}, (double[]){1, 1});
  pare_node_set_string(c.node, "mode", "cubic", &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], iota, 9, 1e-6);
  case_free(&c);

  /* tf_crop_and_resize: outside the roi gives extrapolation_value. */
  case_init(&c, "Resize", 4, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){10, 20, 30});
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){2}, (double[]){0.5, 1.5});
  c.in[3] = ints(1, (int64_t[]){3});
  pare_node_set_string(c.node, "mode", "linear", &c.err);
  pare_node_set_string(c.node, "coordinate_transformation_mode", "tf_crop_and_resize", &c.err);
  pare_node_set_float(c.node, "extrapolation_value", -1, &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){20, 30, -1}, 3, 1e-6);
  case_free(&c);

  /* antialias (opset 18) linear downsampling by 2: a 4-tap triangle of
   * width 2 / scale, normalized: weights 1/8, 3/8, 3/8, 1/8. */
  case_init(&c, "Resize", 3, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){4}, iota);
  c.in[2] = tensor(PARE_F32, 1, (int64_t[]){1}, (double[]){0.5});
  pare_node_set_string(c.node, "mode", "linear", &c.err);
  pare_node_set_int(c.node, "antialias", 1, &c.err);
  RUN_OK(&c);
  check_vals(&c.out[0], (double[]){0.625, 2.375}, 2, 1e-6);
  case_free(&c);

  /* Both scales and sizes. */
  case_init(&c, "Resize", 4, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, NULL);
  c.in[2] = tensor(PARE_F32, 1, (int64_t[]){1}, (double[]){2});
  c.in[3] = ints(1, (int64_t[]){3});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "exactly one");
  case_free(&c);

  /* Unknown scales value: rank kept, PARE_UNKNOWN. */
  case_init(&c, "Resize", 3, 1);
  c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 3, 8, 8}, NULL);
  c.in[2] = unknown(PARE_F32, 1, (int64_t[]){4});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[0].shape.rank == 4 && c.out[0].dtype == PARE_F32);
  case_free(&c);
}

int main(void) {
  RUN(test_reshape);
  RUN(test_flatten_squeeze_unsqueeze);
  RUN(test_transpose);
  RUN(test_concat_split);
  RUN(test_slice);
  RUN(test_expand_tile);
  RUN(test_pad);
  RUN(test_shape_size_constant);
  RUN(test_range);
  RUN(test_depth_space);
  RUN(test_gather);
  RUN(test_scatter);
  RUN(test_onehot_nonzero);
  RUN(test_trilu_eyelike);
  RUN(test_compress_reverse);
  RUN(test_resize);
  return check_summary();
}
