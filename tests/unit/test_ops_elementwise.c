/*
 * test_ops_elementwise.c - hand-computed cases for the elementwise op family:
 * broadcasting arithmetic, comparisons and logic, variadic ops, unary math and
 * activations, Clip, Where, Cast/CastLike, f16 promotion and shape inference.
 */
#include "check.h"
#include "ops/ops.h"

#include <stdint.h>

#define MAX_IN 4

/* One node under test, its inputs and its (single) output. */
typedef struct op_case {
  pare_graph *g;
  pare_node *node;
  pare_tensor *in[MAX_IN];
  int n_in;
  pare_tensor out;
  pare_err err;
} op_case;

static void case_init(op_case *c, const char *op, int n_in) {
  memset(c, 0, sizeof *c);
  c->g = pare_graph_new("t");
  int ins[MAX_IN], out;
  pare_shape s = pare_shape_make(0, NULL);
  for (int i = 0; i < n_in; i++) ins[i] = pare_graph_add_value(c->g, NULL, PARE_F32, &s, &c->err);
  out = pare_graph_add_value(c->g, NULL, PARE_F32, &s, &c->err);
  int n = pare_graph_add_node(c->g, op, NULL, ins, n_in, &out, 1, &c->err);
  c->node = c->g->nodes[n];
  c->n_in = n_in;
}

static void case_free(op_case *c) {
  for (int i = 0; i < MAX_IN; i++) pare_tensor_free(c->in[i]);
  pare_tensor_release(&c->out);
  pare_graph_free(c->g);
}

/* A tensor of dtype dt filled from doubles (exact for the values used here). */
static pare_tensor *tensor(pare_dtype dt, int rank, const int64_t *dims, const double *vals) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_err err;
  pare_tensor *t = pare_tensor_new(dt, &s, &err);
  if (t && vals)
    for (int64_t i = 0; i < pare_tensor_numel(t); i++) pare_tensor_set_f64(t, i, vals[i]);
  return t;
}

/* A tensor from raw element bytes. */
static pare_tensor *raw(pare_dtype dt, int rank, const int64_t *dims, const void *data) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_err err;
  pare_tensor *t = pare_tensor_new(dt, &s, &err);
  if (t && t->nbytes) memcpy(t->data, data, t->nbytes);
  return t;
}

/* infer + allocate + eval; returns the first non-OK code. */
static int run(op_case *c) {
  const pare_op_def *def = pare_op_find(c->node->op);
  if (!def) return pare_errf(&c->err, "op %s not registered", c->node->op);
  const pare_tensor *in[MAX_IN] = {0};
  for (int i = 0; i < c->n_in; i++) in[i] = c->in[i];
  memset(&c->out, 0, sizeof c->out);
  int rc = def->infer(c->node, in, c->n_in, &c->out, 1, &c->err);
  if (rc != PARE_OK) return rc;
  if (pare_tensor_alloc(&c->out, &c->err)) return PARE_ERR;
  return def->eval(c->node, in, c->n_in, &c->out, 1, &c->err);
}

static int infer_only(op_case *c) {
  const pare_op_def *def = pare_op_find(c->node->op);
  const pare_tensor *in[MAX_IN] = {0};
  for (int i = 0; i < c->n_in; i++) in[i] = c->in[i];
  memset(&c->out, 0, sizeof c->out);
  return def->infer(c->node, in, c->n_in, &c->out, 1, &c->err);
}

#define CHECK_RUN(c) CHECK_MSG(run(c) == PARE_OK, "%s", (c)->err.msg)

static void check_vals(const pare_tensor *t, const double *want, int64_t n, double tol,
                       const char *what) {
  CHECK_MSG(pare_tensor_numel(t) == n, "%s: numel %lld", what, (long long)pare_tensor_numel(t));
  if (pare_tensor_numel(t) != n) return;
  for (int64_t i = 0; i < n; i++) {
    double got = pare_tensor_get_f64(t, i);
    int ok = isnan(want[i]) ? isnan(got) : got == want[i] || fabs(got - want[i]) <= tol;
    CHECK_MSG(ok, "%s[%lld]: got %.9g want %.9g", what, (long long)i, got, want[i]);
  }
}

static void check_shape(const pare_tensor *t, int rank, const int64_t *dims) {
  pare_shape want = pare_shape_make(rank, dims);
  char a[64], b[64];
  pare_shape_str(&t->shape, a, sizeof a);
  pare_shape_str(&want, b, sizeof b);
  CHECK_MSG(pare_shape_equal(&t->shape, &want), "shape %s, want %s", a, b);
}

/* Binary op on two tensors; checks dtype and values of the result. */
static void bin(const char *op, pare_tensor *a, pare_tensor *b, pare_dtype out_dt,
                const double *want, double tol) {
  op_case c;
  case_init(&c, op, 2);
  c.in[0] = a;
  c.in[1] = b;
  CHECK_RUN(&c);
  CHECK_MSG(c.out.dtype == out_dt, "%s: dtype %s", op, pare_dtype_name(c.out.dtype));
  check_vals(&c.out, want, pare_tensor_numel(&c.out), tol, op);
  case_free(&c);
}

static void unary(const char *op, pare_dtype dt, int n, const double *x, const double *want,
                  double tol) {
  op_case c;
  case_init(&c, op, 1);
  int64_t d = n;
  c.in[0] = tensor(dt, 1, &d, x);
  CHECK_RUN(&c);
  check_vals(&c.out, want, n, tol, op);
  case_free(&c);
}

/* ------------------------------------------------------------- binary */

static void test_add_broadcast(void) {
  int64_t d23[] = {2, 3}, d3[] = {3}, d21[] = {2, 1}, d13[] = {1, 3};
  op_case c;
  case_init(&c, "Add", 2);
  c.in[0] = tensor(PARE_F32, 2, d23, (double[]){1, 2, 3, 4, 5, 6});
  c.in[1] = tensor(PARE_F32, 1, d3, (double[]){10, 20, 30});
  CHECK_RUN(&c);
  check_shape(&c.out, 2, d23);
  check_vals(&c.out, (double[]){11, 22, 33, 14, 25, 36}, 6, 0, "add [2,3]+[3]");
  case_free(&c);

  case_init(&c, "Sub", 2);
  c.in[0] = tensor(PARE_F64, 2, d21, (double[]){1, 2});
  c.in[1] = tensor(PARE_F64, 2, d13, (double[]){10, 20, 30});
  CHECK_RUN(&c);
  check_shape(&c.out, 2, d23);
  check_vals(&c.out, (double[]){-9, -19, -29, -8, -18, -28}, 6, 0, "sub [2,1]-[1,3]");
  case_free(&c);

  /* scalar on the left */
  case_init(&c, "Mul", 2);
  c.in[0] = tensor(PARE_I64, 0, NULL, (double[]){3});
  c.in[1] = tensor(PARE_I64, 2, d23, (double[]){1, 2, 3, 4, 5, 6});
  CHECK_RUN(&c);
  check_shape(&c.out, 2, d23);
  check_vals(&c.out, (double[]){3, 6, 9, 12, 15, 18}, 6, 0, "mul scalar*[2,3]");
  case_free(&c);
}

/* A rank-4 pattern no collapse can flatten, checked against a naive loop. */
static void test_broadcast_rank4(void) {
  int64_t da[] = {2, 1, 3, 1}, db[] = {4, 1, 5}, dout[] = {2, 4, 3, 5};
  double av[6], bv[20];
  for (int i = 0; i < 6; i++) av[i] = i + 1;
  for (int i = 0; i < 20; i++) bv[i] = 100 * (i + 1);
  op_case c;
  case_init(&c, "Add", 2);
  c.in[0] = tensor(PARE_F32, 4, da, av);
  c.in[1] = tensor(PARE_F32, 3, db, bv);
  CHECK_RUN(&c);
  check_shape(&c.out, 4, dout);
  double want[120];
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++)
      for (int k = 0; k < 3; k++)
        for (int l = 0; l < 5; l++)
          want[((i * 4 + j) * 3 + k) * 5 + l] = av[i * 3 + k] + bv[j * 5 + l];
  check_vals(&c.out, want, 120, 0, "add rank4");
  case_free(&c);

  /* inner dims broadcast, outer contiguous: [3,4] * [3,1] */
  int64_t d34[] = {3, 4}, d31[] = {3, 1};
  case_init(&c, "Mul", 2);
  c.in[0] = tensor(PARE_I32, 2, d34, (double[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  c.in[1] = tensor(PARE_I32, 2, d31, (double[]){1, 10, 100});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){1, 2, 3, 4, 50, 60, 70, 80, 900, 1000, 1100, 1200}, 12, 0,
             "mul [3,4]*[3,1]");
  case_free(&c);

  /* empty output */
  int64_t d0[] = {0, 3};
  case_init(&c, "Add", 2);
  c.in[0] = tensor(PARE_F32, 2, d0, NULL);
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){1, 2, 3});
  CHECK_RUN(&c);
  check_shape(&c.out, 2, d0);
  case_free(&c);
}

static void test_int_arith(void) {
  int64_t d4[] = {4};
  int32_t a32[] = {INT32_MAX, -7, 7, INT32_MIN}, b32[] = {1, 2, -2, -1};
  bin("Add", raw(PARE_I32, 1, d4, a32), raw(PARE_I32, 1, d4, b32), PARE_I32,
      (double[]){INT32_MIN, -5, 5, INT32_MAX}, 0);
  bin("Div", raw(PARE_I32, 1, d4, a32), raw(PARE_I32, 1, d4, b32), PARE_I32,
      (double[]){INT32_MAX, -3, -3, INT32_MIN}, 0);
  bin("Div", tensor(PARE_I64, 1, d4, (double[]){5, -5, 9, 0}),
      tensor(PARE_I64, 1, d4, (double[]){0, 3, 4, 7}), PARE_I64, (double[]){0, -1, 2, 0}, 0);
  bin("Sub", tensor(PARE_U8, 1, d4, (double[]){0, 5, 255, 10}),
      tensor(PARE_U8, 1, d4, (double[]){1, 5, 0, 3}), PARE_U8, (double[]){255, 0, 255, 7}, 0);
  bin("Mul", tensor(PARE_U16, 1, d4, (double[]){65535, 2, 300, 0}),
      tensor(PARE_U16, 1, d4, (double[]){65535, 3, 300, 9}), PARE_U16,
      (double[]){1, 6, 90000 % 65536, 0}, 0);
  bin("Div", tensor(PARE_U8, 1, d4, (double[]){200, 7, 9, 1}),
      tensor(PARE_U8, 1, d4, (double[]){3, 2, 0, 1}), PARE_U8, (double[]){66, 3, 0, 1}, 0);
  bin("Div", tensor(PARE_F32, 1, d4, (double[]){1, -1, 0, 3}),
      tensor(PARE_F32, 1, d4, (double[]){0, 0, 0, 2}), PARE_F32,
      (double[]){INFINITY, -INFINITY, NAN, 1.5}, 0);
}

static void test_mod(void) {
  int64_t d6[] = {6};
  double a[] = {-7, 7, -7, 7, 5, 0}, b[] = {3, -3, -3, 3, 0, 4};
  bin("Mod", tensor(PARE_I32, 1, d6, a), tensor(PARE_I32, 1, d6, b), PARE_I32,
      (double[]){2, -2, -1, 1, 0, 0}, 0);
  op_case c;
  case_init(&c, "Mod", 2);
  pare_node_set_int(c.node, "fmod", 1, &c.err);
  c.in[0] = tensor(PARE_I64, 1, d6, a);
  c.in[1] = tensor(PARE_I64, 1, d6, b);
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){-1, 1, -1, 1, 0, 0}, 6, 0, "mod fmod int");
  case_free(&c);

  case_init(&c, "Mod", 2);
  pare_node_set_int(c.node, "fmod", 1, &c.err);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){5.5, -5.5, 5.5});
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){2, 2, -2});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){1.5, -1.5, 1.5}, 3, 0, "mod fmod float");
  case_free(&c);

  bin("Mod", tensor(PARE_U8, 1, (int64_t[]){3}, (double[]){7, 200, 5}),
      tensor(PARE_U8, 1, (int64_t[]){3}, (double[]){3, 7, 0}), PARE_U8, (double[]){1, 4, 0}, 0);
}

static void test_pow(void) {
  int64_t d3[] = {3}, d1[] = {1};
  bin("Pow", tensor(PARE_F32, 1, d3, (double[]){2, 3, -2}), tensor(PARE_F32, 1, d1, (double[]){2}),
      PARE_F32, (double[]){4, 9, 4}, 0);
  bin("Pow", tensor(PARE_F32, 1, d3, (double[]){4, 9, -1}),
      tensor(PARE_F32, 0, NULL, (double[]){0.5}), PARE_F32, (double[]){2, 3, NAN}, 1e-6);
  bin("Pow", tensor(PARE_I64, 1, d3, (double[]){2, -3, 10}),
      tensor(PARE_I64, 1, d3, (double[]){10, 3, 0}), PARE_I64, (double[]){1024, -27, 1}, 0);
  bin("Pow", tensor(PARE_F32, 1, d3, (double[]){2, 3, 0.5}),
      tensor(PARE_I64, 1, d3, (double[]){3, 2, 2}), PARE_F32, (double[]){8, 9, 0.25}, 0);
  bin("Pow", tensor(PARE_I32, 1, d3, (double[]){1, 2, 3}),
      tensor(PARE_F32, 1, d3, (double[]){4, 5, 6}), PARE_I32, (double[]){1, 32, 729}, 0);
  bin("Pow", tensor(PARE_I32, 1, d3, (double[]){2, 1, -1}),
      tensor(PARE_I32, 1, d3, (double[]){-1, -5, -3}), PARE_I32, (double[]){0, 1, -1}, 0);
}

static void test_bits(void) {
  int64_t d4[] = {4};
  op_case c;
  case_init(&c, "BitShift", 2);
  pare_node_set_string(c.node, "direction", "LEFT", &c.err);
  c.in[0] = tensor(PARE_U8, 1, d4, (double[]){1, 0x80, 3, 1});
  c.in[1] = tensor(PARE_U8, 1, d4, (double[]){3, 1, 2, 8});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){8, 0, 12, 0}, 4, 0, "shl u8");
  case_free(&c);

  case_init(&c, "BitShift", 2);
  pare_node_set_string(c.node, "direction", "RIGHT", &c.err);
  uint64_t big[] = {UINT64_MAX, 16, 1, 5}, sh[] = {63, 2, 64, 0};
  c.in[0] = raw(PARE_U64, 1, d4, big);
  c.in[1] = raw(PARE_U64, 1, d4, sh);
  CHECK_RUN(&c);
  const uint64_t *o = c.out.data;
  CHECK(o[0] == 1 && o[1] == 4 && o[2] == 0 && o[3] == 5);
  case_free(&c);

  case_init(&c, "BitShift", 2);
  c.in[0] = tensor(PARE_U8, 1, d4, NULL);
  c.in[1] = tensor(PARE_U8, 1, d4, NULL);
  CHECK(infer_only(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "direction");
  case_free(&c);

  double a[] = {12, -1, 0, 5}, b[] = {10, 6, -1, 3};
  bin("BitwiseAnd", tensor(PARE_I32, 1, d4, a), tensor(PARE_I32, 1, d4, b), PARE_I32,
      (double[]){8, 6, 0, 1}, 0);
  bin("BitwiseOr", tensor(PARE_I16, 1, d4, a), tensor(PARE_I16, 1, d4, b), PARE_I16,
      (double[]){14, -1, -1, 7}, 0);
  bin("BitwiseXor", tensor(PARE_I64, 1, d4, a), tensor(PARE_I64, 1, d4, b), PARE_I64,
      (double[]){6, -7, -1, 6}, 0);
  unary("BitwiseNot", PARE_I32, 2, (double[]){0, 5}, (double[]){-1, -6}, 0);
  unary("BitwiseNot", PARE_U8, 2, (double[]){0, 5}, (double[]){255, 250}, 0);
}

static void test_logic_compare(void) {
  int64_t d22[] = {2, 2}, d2[] = {2};
  bin("And", tensor(PARE_BOOL, 2, d22, (double[]){1, 1, 0, 0}),
      tensor(PARE_BOOL, 1, d2, (double[]){1, 0}), PARE_BOOL, (double[]){1, 0, 0, 0}, 0);
  bin("Or", tensor(PARE_BOOL, 2, d22, (double[]){1, 1, 0, 0}),
      tensor(PARE_BOOL, 1, d2, (double[]){1, 0}), PARE_BOOL, (double[]){1, 1, 1, 0}, 0);
  bin("Xor", tensor(PARE_BOOL, 2, d22, (double[]){1, 1, 0, 0}),
      tensor(PARE_BOOL, 1, d2, (double[]){1, 0}), PARE_BOOL, (double[]){0, 1, 1, 0}, 0);
  unary("Not", PARE_BOOL, 2, (double[]){1, 0}, (double[]){0, 1}, 0);

  int64_t d4[] = {4};
  double x[] = {1, 2, NAN, -3}, y[] = {1, 3, NAN, -4};
  bin("Equal", tensor(PARE_F32, 1, d4, x), tensor(PARE_F32, 1, d4, y), PARE_BOOL,
      (double[]){1, 0, 0, 0}, 0);
  bin("Less", tensor(PARE_F32, 1, d4, x), tensor(PARE_F32, 1, d4, y), PARE_BOOL,
      (double[]){0, 1, 0, 0}, 0);
  bin("LessOrEqual", tensor(PARE_F64, 1, d4, x), tensor(PARE_F64, 1, d4, y), PARE_BOOL,
      (double[]){1, 1, 0, 0}, 0);
  bin("Greater", tensor(PARE_F32, 1, d4, x), tensor(PARE_F32, 0, NULL, (double[]){1}), PARE_BOOL,
      (double[]){0, 1, 0, 0}, 0);
  bin("GreaterOrEqual", tensor(PARE_F32, 1, d4, x), tensor(PARE_F32, 1, d4, y), PARE_BOOL,
      (double[]){1, 0, 0, 1}, 0);
  /* i64 values that differ only beyond double precision */
  int64_t big[] = {INT64_MAX, INT64_MAX - 1}, big2[] = {INT64_MAX - 1, INT64_MAX - 1};
  bin("Equal", raw(PARE_I64, 1, d2, big), raw(PARE_I64, 1, d2, big2), PARE_BOOL, (double[]){0, 1},
      0);
  bin("Greater", raw(PARE_I64, 1, d2, big), raw(PARE_I64, 1, d2, big2), PARE_BOOL, (double[]){1, 0},
      0);
  uint32_t u[] = {4000000000u, 1}, v[] = {1, 4000000000u};
  bin("Less", raw(PARE_U32, 1, d2, u), raw(PARE_U32, 1, d2, v), PARE_BOOL, (double[]){0, 1}, 0);
  bin("Equal", tensor(PARE_BOOL, 1, d2, (double[]){1, 0}),
      tensor(PARE_BOOL, 1, d2, (double[]){1, 1}), PARE_BOOL, (double[]){1, 0}, 0);
}

static void test_prelu(void) {
  int64_t d23[] = {2, 3}, d3[] = {3}, d21[] = {2, 1};
  bin("PRelu", tensor(PARE_F32, 2, d23, (double[]){-1, 2, -3, 4, -5, 6}),
      tensor(PARE_F32, 1, d3, (double[]){0.5, 0.1, 2}), PARE_F32,
      (double[]){-0.5, 2, -6, 4, -0.5, 6}, 1e-6);
  bin("PRelu", tensor(PARE_I32, 2, d23, (double[]){-1, 2, -3, 4, -5, 6}),
      tensor(PARE_I32, 2, d21, (double[]){2, 3}), PARE_I32, (double[]){-2, 2, -6, 4, -15, 6}, 0);
  /* slope may not grow X */
  op_case c;
  case_init(&c, "PRelu", 2);
  c.in[0] = tensor(PARE_F32, 1, d3, NULL);
  c.in[1] = tensor(PARE_F32, 2, d23, NULL);
  CHECK(infer_only(&c) == PARE_ERR);
  case_free(&c);
}

/* ----------------------------------------------------------- variadic */

static void test_variadic(void) {
  int64_t d23[] = {2, 3}, d3[] = {3}, d21[] = {2, 1};
  op_case c;
  case_init(&c, "Sum", 3);
  c.in[0] = tensor(PARE_F32, 1, d3, (double[]){1, 2, 3});
  c.in[1] = tensor(PARE_F32, 2, d21, (double[]){10, 20});
  c.in[2] = tensor(PARE_F32, 0, NULL, (double[]){100});
  CHECK_RUN(&c);
  check_shape(&c.out, 2, d23);
  check_vals(&c.out, (double[]){111, 112, 113, 121, 122, 123}, 6, 0, "sum3");
  case_free(&c);

  case_init(&c, "Mean", 2);
  c.in[0] = tensor(PARE_F64, 1, d3, (double[]){1, 2, 3});
  c.in[1] = tensor(PARE_F64, 2, d23, (double[]){3, 4, 5, 6, 7, 8});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){2, 3, 4, 3.5, 4.5, 5.5}, 6, 0, "mean2");
  case_free(&c);

  case_init(&c, "Max", 3);
  c.in[0] = tensor(PARE_F32, 1, d3, (double[]){1, NAN, 3});
  c.in[1] = tensor(PARE_F32, 1, d3, (double[]){2, 0, NAN});
  c.in[2] = tensor(PARE_F32, 1, d3, (double[]){0, 5, 1});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){2, NAN, NAN}, 3, 0, "max nan");
  case_free(&c);

  case_init(&c, "Min", 2);
  c.in[0] = tensor(PARE_I32, 1, d3, (double[]){1, -5, 3});
  c.in[1] = tensor(PARE_I32, 2, d21, (double[]){2, -7});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){1, -5, 2, -7, -7, -7}, 6, 0, "min i32");
  case_free(&c);

  uint64_t u[] = {UINT64_MAX, 1}, v[] = {2, 3};
  case_init(&c, "Max", 2);
  c.in[0] = raw(PARE_U64, 1, (int64_t[]){2}, u);
  c.in[1] = raw(PARE_U64, 1, (int64_t[]){2}, v);
  CHECK_RUN(&c);
  CHECK(((uint64_t *)c.out.data)[0] == UINT64_MAX && ((uint64_t *)c.out.data)[1] == 3);
  case_free(&c);

  case_init(&c, "Max", 1);
  c.in[0] = tensor(PARE_F32, 1, d3, (double[]){1, -2, 3});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){1, -2, 3}, 3, 0, "max one input");
  case_free(&c);
}

/* -------------------------------------------------------------- unary */

static void test_unary_math(void) {
  double x[] = {-2.5, -0.5, 0.5, 1.5, 2.5, 3.7};
  unary("Round", PARE_F32, 6, x, (double[]){-2, -0.0, 0, 2, 2, 4}, 0);
  unary("Floor", PARE_F64, 6, x, (double[]){-3, -1, 0, 1, 2, 3}, 0);
  unary("Ceil", PARE_F32, 6, x, (double[]){-2, -0.0, 1, 2, 3, 4}, 0);
  unary("Neg", PARE_F32, 2, (double[]){1, -2}, (double[]){-1, 2}, 0);
  unary("Neg", PARE_I8, 3, (double[]){1, -2, -128}, (double[]){-1, 2, -128}, 0);
  unary("Abs", PARE_F64, 2, (double[]){-1.5, 2}, (double[]){1.5, 2}, 0);
  unary("Abs", PARE_I64, 2, (double[]){-7, 7}, (double[]){7, 7}, 0);
  unary("Sign", PARE_F32, 4, (double[]){-3, 0, 2, NAN}, (double[]){-1, 0, 1, NAN}, 0);
  unary("Sign", PARE_I32, 3, (double[]){-3, 0, 2}, (double[]){-1, 0, 1}, 0);
  unary("Sqrt", PARE_F32, 3, (double[]){4, 2, -1}, (double[]){2, M_SQRT2, NAN}, 1e-6);
  unary("Exp", PARE_F32, 2, (double[]){0, 1}, (double[]){1, M_E}, 1e-6);
  unary("Log", PARE_F64, 3, (double[]){1, M_E, 0}, (double[]){0, 1, -INFINITY}, 1e-12);
  unary("Reciprocal", PARE_F32, 2, (double[]){4, -0.5}, (double[]){0.25, -2}, 0);
  unary("Sin", PARE_F32, 2, (double[]){0, M_PI_2}, (double[]){0, 1}, 1e-6);
  unary("Cos", PARE_F64, 2, (double[]){0, M_PI}, (double[]){1, -1}, 1e-12);
  unary("Tan", PARE_F32, 1, (double[]){M_PI_4}, (double[]){1}, 1e-6);
  unary("Asin", PARE_F32, 2, (double[]){1, 2}, (double[]){M_PI_2, NAN}, 1e-6);
  unary("Acos", PARE_F32, 1, (double[]){-1}, (double[]){M_PI}, 1e-6);
  unary("Atan", PARE_F32, 1, (double[]){1}, (double[]){M_PI_4}, 1e-6);
  unary("Sinh", PARE_F64, 1, (double[]){1}, (double[]){sinh(1.0)}, 1e-12);
  unary("Cosh", PARE_F64, 1, (double[]){1}, (double[]){cosh(1.0)}, 1e-12);
  unary("Asinh", PARE_F32, 1, (double[]){1}, (double[]){asinh(1.0)}, 1e-6);
  unary("Acosh", PARE_F32, 2, (double[]){1, 0}, (double[]){0, NAN}, 1e-6);
  unary("Atanh", PARE_F32, 1, (double[]){0.5}, (double[]){atanh(0.5)}, 1e-6);
  unary("Erf", PARE_F32, 2, (double[]){0, 1}, (double[]){0, erf(1.0)}, 1e-6);
  unary("IsNaN", PARE_F32, 3, (double[]){NAN, 1, INFINITY}, (double[]){1, 0, 0}, 0);
  unary("IsInf", PARE_F64, 4, (double[]){NAN, 1, INFINITY, -INFINITY}, (double[]){0, 0, 1, 1}, 0);
  op_case c;
  case_init(&c, "IsInf", 1);
  pare_node_set_int(c.node, "detect_positive", 0, &c.err);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){INFINITY, -INFINITY, 0});
  CHECK_RUN(&c);
  CHECK(c.out.dtype == PARE_BOOL);
  check_vals(&c.out, (double[]){0, 1, 0}, 3, 0, "isinf neg only");
  case_free(&c);
}

static void test_activations(void) {
  double x[] = {-2, -0.5, 0, 0.5, 3};
  unary("Relu", PARE_F32, 5, x, (double[]){0, 0, 0, 0.5, 3}, 0);
  unary("Relu", PARE_I8, 3, (double[]){-5, 0, 7}, (double[]){0, 0, 7}, 0);
  double sig[5];
  for (int i = 0; i < 5; i++) sig[i] = 1 / (1 + exp(-x[i]));
  unary("Sigmoid", PARE_F32, 5, x, sig, 1e-6);
  unary("Sigmoid", PARE_F32, 2, (double[]){-200, 200}, (double[]){0, 1}, 0);
  unary("Tanh", PARE_F32, 2, (double[]){0, 1}, (double[]){0, tanh(1.0)}, 1e-6);
  unary("HardSigmoid", PARE_F32, 5, x, (double[]){0.1, 0.4, 0.5, 0.6, 1}, 1e-6);
  unary("HardSwish", PARE_F32, 5, (double[]){-4, -1, 0, 1, 4},
        (double[]){0, -1.0 / 3, 0, 2.0 / 3, 4}, 1e-6);
  unary("LeakyRelu", PARE_F32, 2, (double[]){-2, 3}, (double[]){-0.02, 3}, 1e-7);
  unary("Elu", PARE_F32, 2, (double[]){-1, 2}, (double[]){exp(-1.0) - 1, 2}, 1e-6);
  unary(
      "Selu", PARE_F32, 2, (double[]){-1, 2},
      (double[]){1.0507009873554805 * 1.6732632423543772 * (exp(-1.0) - 1), 2 * 1.0507009873554805},
      1e-5);
  unary("Celu", PARE_F32, 2, (double[]){-1, 2}, (double[]){exp(-1.0) - 1, 2}, 1e-6);
  unary("Softplus", PARE_F32, 3, (double[]){0, 1, -100},
        (double[]){log(2.0), log(1 + M_E), exp(-100.0)}, 1e-6);
  unary("Softplus", PARE_F32, 1, (double[]){100}, (double[]){100}, 1e-4);
  unary("Softsign", PARE_F32, 2, (double[]){-1, 3}, (double[]){-0.5, 0.75}, 1e-7);
  unary("ThresholdedRelu", PARE_F32, 3, (double[]){0.5, 1, 2}, (double[]){0, 0, 2}, 0);
  unary("Mish", PARE_F32, 2, (double[]){0, 1}, (double[]){0, tanh(log(1 + M_E))}, 1e-6);
  unary("Gelu", PARE_F32, 2, (double[]){0, 1}, (double[]){0, 0.5 * (1 + erf(M_SQRT1_2))}, 1e-6);
  unary("Shrink", PARE_F32, 5, x, (double[]){-2, 0, 0, 0, 3}, 0);

  op_case c;
  case_init(&c, "Gelu", 1);
  pare_node_set_string(c.node, "approximate", "tanh", &c.err);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){1}, (double[]){1});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){0.5 * (1 + tanh(sqrt(2 / M_PI) * (1 + 0.044715)))}, 1, 1e-6,
             "gelu tanh");
  case_free(&c);

  case_init(&c, "LeakyRelu", 1);
  pare_node_set_float(c.node, "alpha", 0.5f, &c.err);
  c.in[0] = tensor(PARE_F64, 1, (int64_t[]){2}, (double[]){-4, 4});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){-2, 4}, 2, 0, "leakyrelu alpha");
  case_free(&c);

  case_init(&c, "Shrink", 1);
  pare_node_set_float(c.node, "lambd", 1.5f, &c.err);
  pare_node_set_float(c.node, "bias", 1.5f, &c.err);
  c.in[0] = tensor(PARE_I32, 1, (int64_t[]){5}, (double[]){-3, -1, 0, 2, 4});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){-1, 0, 0, 0, 2}, 5, 0, "shrink i32");
  case_free(&c);

  case_init(&c, "HardSigmoid", 1);
  pare_node_set_float(c.node, "alpha", 0.5f, &c.err);
  pare_node_set_float(c.node, "beta", 0.25f, &c.err);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){-1, 0.5, 2});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){0, 0.5, 1}, 3, 0, "hardsigmoid attrs");
  case_free(&c);

  case_init(&c, "Sqrt", 1);
  c.in[0] = tensor(PARE_I32, 1, (int64_t[]){1}, (double[]){4});
  CHECK(run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "Sqrt");
  case_free(&c);
}

/* --------------------------------------------------------- Clip, Where */

static void test_clip(void) {
  double x[] = {-5, -1, 0, 2, 9, NAN};
  int64_t d6[] = {6};
  op_case c;
  case_init(&c, "Clip", 3);
  c.in[0] = tensor(PARE_F32, 1, d6, x);
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){-1});
  c.in[2] = tensor(PARE_F32, 0, NULL, (double[]){3});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){-1, -1, 0, 2, 3, NAN}, 6, 0, "clip both");
  case_free(&c);

  /* max only: min omitted */
  case_init(&c, "Clip", 3);
  c.in[0] = tensor(PARE_F32, 1, d6, x);
  c.in[2] = tensor(PARE_F32, 1, (int64_t[]){1}, (double[]){1});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){-5, -1, 0, 1, 1, NAN}, 6, 0, "clip max only");
  case_free(&c);

  case_init(&c, "Clip", 1);
  c.in[0] = tensor(PARE_I8, 1, (int64_t[]){3}, (double[]){-128, 0, 127});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){-128, 0, 127}, 3, 0, "clip none");
  case_free(&c);

  case_init(&c, "Clip", 2);
  c.in[0] = tensor(PARE_I64, 1, (int64_t[]){3}, (double[]){-128, 0, 127});
  c.in[1] = tensor(PARE_I64, 0, NULL, (double[]){5});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){5, 5, 127}, 3, 0, "clip min i64");
  case_free(&c);

  /* min > max: everything becomes max */
  case_init(&c, "Clip", 3);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, (double[]){-1, 0, 10});
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){5});
  c.in[2] = tensor(PARE_F32, 0, NULL, (double[]){2});
  CHECK_RUN(&c);
  check_vals(&c.out, (double[]){2, 2, 2}, 3, 0, "clip min>max");
  case_free(&c);

  case_init(&c, "Clip", 2);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){3}, NULL);
  c.in[1] = tensor(PARE_F64, 0, NULL, (double[]){5});
  CHECK(infer_only(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "dtypes differ");
  case_free(&c);
}

static void test_where(void) {
  int64_t d23[] = {2, 3}, d3[] = {3}, d21[] = {2, 1};
  op_case c;
  case_init(&c, "Where", 3);
  c.in[0] = tensor(PARE_BOOL, 1, d3, (double[]){1, 0, 1});
  c.in[1] = tensor(PARE_F32, 2, d21, (double[]){1, 2});
  c.in[2] = tensor(PARE_F32, 0, NULL, (double[]){-1});
  CHECK_RUN(&c);
  check_shape(&c.out, 2, d23);
  check_vals(&c.out, (double[]){1, -1, 1, 2, -1, 2}, 6, 0, "where bcast");
  case_free(&c);

  case_init(&c, "Where", 3);
  c.in[0] = tensor(PARE_BOOL, 2, d23, (double[]){1, 0, 1, 0, 0, 1});
  c.in[1] = tensor(PARE_I64, 2, d23, (double[]){1, 2, 3, 4, 5, 6});
  c.in[2] = tensor(PARE_I64, 2, d23, (double[]){-1, -2, -3, -4, -5, -6});
  CHECK_RUN(&c);
  CHECK(c.out.dtype == PARE_I64);
  check_vals(&c.out, (double[]){1, -2, 3, -4, -5, 6}, 6, 0, "where same shape");
  case_free(&c);

  case_init(&c, "Where", 3);
  c.in[0] = tensor(PARE_F32, 1, d3, NULL);
  c.in[1] = tensor(PARE_F32, 1, d3, NULL);
  c.in[2] = tensor(PARE_F32, 1, d3, NULL);
  CHECK(infer_only(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "bool");
  case_free(&c);
}

/* --------------------------------------------------------- Cast, f16 */

static pare_tensor *cast(pare_tensor *x, pare_dtype to) {
  op_case c;
  case_init(&c, "Cast", 1);
  pare_node_set_int(c.node, "to", to, &c.err);
  c.in[0] = x;
  CHECK_RUN(&c);
  CHECK(c.out.dtype == to);
  pare_tensor *r = pare_tensor_clone(&c.out, &c.err);
  case_free(&c);
  return r;
}

static void test_cast(void) {
  int64_t d5[] = {5};
  pare_tensor *t = cast(tensor(PARE_F32, 1, d5, (double[]){-1.7, 1.7, 0, 300.5, -0.2}), PARE_I32);
  check_vals(t, (double[]){-1, 1, 0, 300, 0}, 5, 0, "f32->i32");
  pare_tensor_free(t);
  t = cast(tensor(PARE_F32, 1, d5, (double[]){-1.7, 1.7, 0, 300.5, 256}), PARE_U8);
  check_vals(t, (double[]){255, 1, 0, 44, 0}, 5, 0, "f32->u8 wraps like C");
  pare_tensor_free(t);
  t = cast(tensor(PARE_F32, 1, d5, (double[]){-1.7, 0, NAN, 0.1, -0.0}), PARE_BOOL);
  check_vals(t, (double[]){1, 0, 1, 1, 0}, 5, 0, "f32->bool");
  pare_tensor_free(t);
  t = cast(tensor(PARE_BOOL, 1, d5, (double[]){1, 0, 1, 1, 0}), PARE_F32);
  check_vals(t, (double[]){1, 0, 1, 1, 0}, 5, 0, "bool->f32");
  pare_tensor_free(t);
  int64_t big[] = {INT64_MAX, -1, 1LL << 53, 3, -3};
  t = cast(raw(PARE_I64, 1, d5, big), PARE_I32);
  check_vals(t, (double[]){-1, -1, 0, 3, -3}, 5, 0, "i64->i32 wraps");
  pare_tensor_free(t);
  t = cast(raw(PARE_I64, 1, d5, big), PARE_U64);
  CHECK(((uint64_t *)t->data)[0] == (uint64_t)INT64_MAX && ((uint64_t *)t->data)[1] == UINT64_MAX);
  pare_tensor_free(t);
  t = cast(tensor(PARE_I32, 1, d5, (double[]){1, 2, 3, -4, 5}), PARE_I64);
  check_vals(t, (double[]){1, 2, 3, -4, 5}, 5, 0, "i32->i64");
  pare_tensor_free(t);
  t = cast(tensor(PARE_F64, 1, d5, (double[]){1e300, -1e300, 1.5, 0.1, NAN}), PARE_F32);
  check_vals(t, (double[]){INFINITY, -INFINITY, 1.5, (float)0.1, NAN}, 5, 0, "f64->f32");
  pare_tensor_free(t);

  /* f16 bit patterns: 1, 1/3, max, overflow, smallest subnormal, half of it (ties to even 0),
   * NaN, -2 */
  int64_t d8[] = {8};
  double v[] = {1, 1.0 / 3, 65504, 65520, 5.9604644775390625e-08, 2.98023223876953125e-08, NAN, -2};
  uint16_t want[] = {0x3c00, 0x3555, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x7e00, 0xc000};
  t = cast(tensor(PARE_F32, 1, d8, v), PARE_F16);
  const uint16_t *h = t->data;
  for (int i = 0; i < 8; i++) {
    if (i == 6)
      CHECK_MSG((h[i] & 0x7c00) == 0x7c00 && (h[i] & 0x3ff), "nan %04x", h[i]);
    else
      CHECK_MSG(h[i] == want[i], "f16[%d] = %04x want %04x", i, h[i], want[i]);
  }
  pare_tensor *back = cast(t, PARE_F32);
  check_vals(back,
             (double[]){1, 0.333251953125, 65504, INFINITY, 5.9604644775390625e-08, 0, NAN, -2}, 8,
             0, "f16->f32");
  pare_tensor_free(back);
  /* f64 -> f16 rounds once: 1 + 2^-11 + 2^-40 rounds up, where a detour via f32 would tie */
  t = cast(tensor(PARE_F64, 1, (int64_t[]){1}, (double[]){1 + ldexp(1, -11) + ldexp(1, -40)}),
           PARE_F16);
  CHECK_MSG(((uint16_t *)t->data)[0] == 0x3c01, "f64->f16 %04x", ((uint16_t *)t->data)[0]);
  pare_tensor_free(t);

  op_case c;
  case_init(&c, "CastLike", 2);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){2}, (double[]){2.9, -2.9});
  c.in[1] = tensor(PARE_I16, 0, NULL, (double[]){0});
  CHECK_RUN(&c);
  CHECK(c.out.dtype == PARE_I16);
  check_vals(&c.out, (double[]){2, -2}, 2, 0, "castlike");
  case_free(&c);

  case_init(&c, "Cast", 1);
  pare_node_set_int(c.node, "to", 16, &c.err); /* bfloat16 */
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){2}, NULL);
  CHECK(infer_only(&c) == PARE_ERR);
  case_free(&c);
}

static void test_f16_promotion(void) {
  uint16_t a[] = {0x3c00, 0x4000, 0x3555}, b[] = {0x3c00, 0x3c00, 0x3555}; /* 1,2,1/3 + 1,1,1/3 */
  op_case c;
  case_init(&c, "Add", 2);
  c.in[0] = raw(PARE_F16, 1, (int64_t[]){3}, a);
  c.in[1] = raw(PARE_F16, 1, (int64_t[]){3}, b);
  CHECK_RUN(&c);
  CHECK(c.out.dtype == PARE_F16);
  const uint16_t *o = c.out.data;
  CHECK_MSG(o[0] == 0x4000 && o[1] == 0x4200 && o[2] == 0x3955, "%04x %04x %04x", o[0], o[1], o[2]);
  case_free(&c);

  case_init(&c, "Less", 2);
  c.in[0] = raw(PARE_F16, 1, (int64_t[]){3}, a);
  c.in[1] = raw(PARE_F16, 1, (int64_t[]){3}, b);
  CHECK_RUN(&c);
  CHECK(c.out.dtype == PARE_BOOL);
  check_vals(&c.out, (double[]){0, 0, 0}, 3, 0, "less f16");
  case_free(&c);

  case_init(&c, "Relu", 1);
  uint16_t r[] = {0xbc00, 0x3c00}; /* -1, 1 */
  c.in[0] = raw(PARE_F16, 1, (int64_t[]){2}, r);
  CHECK_RUN(&c);
  o = c.out.data;
  CHECK(o[0] == 0 && o[1] == 0x3c00);
  case_free(&c);
}

/* ------------------------------------------------------------- infer */

static void test_infer(void) {
  op_case c;
  int64_t da[] = {-1, 3}, db[] = {4, 1, 1};
  case_init(&c, "Add", 2);
  c.in[0] = tensor(PARE_F32, 0, NULL, NULL);
  c.in[0]->shape = pare_shape_make(2, da);
  c.in[1] = tensor(PARE_F32, 3, db, NULL);
  CHECK(infer_only(&c) == PARE_OK);
  check_shape(&c.out, 3, (int64_t[]){4, -1, 3});
  case_free(&c);

  case_init(&c, "Relu", 1);
  c.in[0] = tensor(PARE_F32, 0, NULL, NULL);
  c.in[0]->shape = pare_shape_make(2, da);
  CHECK(infer_only(&c) == PARE_OK);
  check_shape(&c.out, 2, da);
  c.in[0]->shape = pare_shape_unknown();
  CHECK(infer_only(&c) == PARE_UNKNOWN);
  case_free(&c);

  case_init(&c, "Add", 2);
  c.in[0] = tensor(PARE_I8, 1, (int64_t[]){2}, NULL);
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){2}, NULL);
  CHECK(infer_only(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "Add: i8 and f32 dtypes differ");
  case_free(&c);

  case_init(&c, "Mul", 2);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){2}, NULL);
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){3}, NULL);
  CHECK(infer_only(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "broadcast");
  case_free(&c);

  case_init(&c, "And", 2);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){2}, NULL);
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){2}, NULL);
  CHECK(infer_only(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "not supported");
  case_free(&c);

  case_init(&c, "Add", 2);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){2}, NULL);
  c.n_in = 1;
  CHECK(infer_only(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "input 1");
  case_free(&c);

  case_init(&c, "Cast", 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){2}, NULL);
  CHECK(infer_only(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "'to'");
  case_free(&c);

  /* every registered name of this family resolves */
  const char *names[] = {"Add",        "Sub",      "Mul",         "Div",       "Pow",
                         "Mod",        "BitShift", "BitwiseAnd",  "BitwiseOr", "BitwiseXor",
                         "BitwiseNot", "And",      "Or",          "Xor",       "Not",
                         "Equal",      "Less",     "LessOrEqual", "Greater",   "GreaterOrEqual",
                         "PRelu",      "Sum",      "Mean",        "Max",       "Min",
                         "Clip",       "Where",    "Cast",        "CastLike",  "Gelu",
                         "Mish",       "Shrink",   "Celu",        "IsInf",     "IsNaN"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    CHECK_MSG(pare_op_find(names[i]) != NULL, "%s missing", names[i]);
}

int main(void) {
  RUN(test_add_broadcast);
  RUN(test_broadcast_rank4);
  RUN(test_int_arith);
  RUN(test_mod);
  RUN(test_pow);
  RUN(test_bits);
  RUN(test_logic_compare);
  RUN(test_prelu);
  RUN(test_variadic);
  RUN(test_unary_math);
  RUN(test_activations);
  RUN(test_clip);
  RUN(test_where);
  RUN(test_cast);
  RUN(test_f16_promotion);
  RUN(test_infer);
  return check_summary();
}
