/*
 * test_ops_rnn.c - hand-computed cases for the rnn op family (RNN, GRU,
 * LSTM). Every case uses hidden_size 1 and input_size 1 so each step is a
 * scalar formula written out in the test.
 */
#include "check.h"
#include "ops/ops.h"

#include <stdint.h>

#define MAX_IO 8

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

/* A tensor of shape dims whose data is not known (shape inference). */
static pare_tensor *shape_only(pare_dtype dt, int rank, const int64_t *dims) {
  pare_tensor *t = calloc(1, sizeof *t);
  t->dtype = dt;
  t->shape = pare_shape_make(rank, dims);
  return t;
}

/* The IR has no STRINGS setter; build one on a slot made by set_string. */
static void set_strings(pare_node *n, const char *name, int count, const char *const *v) {
  pare_err err;
  pare_node_set_string(n, name, "", &err);
  pare_attr *a = (pare_attr *)pare_node_attr(n, name);
  free(a->s);
  a->s = NULL;
  a->type = PARE_ATTR_STRINGS;
  a->n = count;
  a->strings = calloc((size_t)count, sizeof *a->strings);
  for (int i = 0; i < count; i++) a->strings[i] = pare_strdup(v[i]);
}

static int case_infer(op_case *c) {
  const pare_op_def *def = pare_op_find(c->node->op);
  if (!def) return PARE_ERR;
  c->err.msg[0] = 0;
  return def->infer(c->node, (const pare_tensor *const *)c->in, c->n_in, c->out, c->n_out, &c->err);
}

static int case_run(op_case *c) {
  int rc = case_infer(c);
  if (rc != PARE_OK) return rc;
  for (int i = 0; i < c->n_out; i++)
    if (pare_tensor_alloc(&c->out[i], &c->err)) return PARE_ERR;
  const pare_op_def *def = pare_op_find(c->node->op);
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
    CHECK_MSG(fabs(got - want[i]) <= tol, "[%lld] %.9g vs %.9g", (long long)i, got, want[i]);
  }
}

static double sigmoid(double x) {
  return 1.0 / (1.0 + exp(-x));
}

/* ------------------------------------------------------------------ RNN */

/* Forward, bias, no initial state: h1 = tanh(0.5 x1 + 0.3), h2 = tanh(0.5 x2 + 0.25 h1 + 0.3). */
static void run_simple_rnn(pare_dtype dt) {
  op_case c;
  int64_t d3[3] = {2, 1, 1}, d111[3] = {1, 1, 1}, d12[2] = {1, 2};
  case_init(&c, "RNN", 4, 2);
  c.in[0] = tensor(dt, 3, d3, (double[]){1, 2});
  c.in[1] = tensor(dt, 3, d111, (double[]){0.5});
  c.in[2] = tensor(dt, 3, d111, (double[]){0.25});
  c.in[3] = tensor(dt, 2, d12, (double[]){0.1, 0.2});
  pare_node_set_int(c.node, "hidden_size", 1, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  double h1 = tanh(0.5 + 0.3), h2 = tanh(1.0 + 0.25 * h1 + 0.3);
  CHECK(c.out[0].dtype == dt && c.out[1].dtype == dt);
  check_shape(&c.out[0], 4, (int64_t[]){2, 1, 1, 1});
  check_shape(&c.out[1], 3, d111);
  check_vals(&c.out[0], (double[]){h1, h2}, 2, 1e-6);
  check_vals(&c.out[1], (double[]){h2}, 1, 1e-6);
  case_free(&c);
}

static void test_rnn_forward(void) {
  run_simple_rnn(PARE_F32);
  run_simple_rnn(PARE_F64);
}

/* Bidirectional, layout 1, sequence_lens [2, 1], initial_h. Direction 0 has
 * W 0.5 R 0.25, direction 1 has W -1 R 0.5; no bias. */
static void test_rnn_bidirectional(void) {
  op_case c;
  case_init(&c, "RNN", 6, 2);
  c.in[0] = tensor(PARE_F32, 3, (int64_t[]){2, 2, 1}, (double[]){1, 2, 3, 9});
  c.in[1] = tensor(PARE_F32, 3, (int64_t[]){2, 1, 1}, (double[]){0.5, -1});
  c.in[2] = tensor(PARE_F32, 3, (int64_t[]){2, 1, 1}, (double[]){0.25, 0.5});
  c.in[4] = tensor(PARE_I32, 1, (int64_t[]){2}, (double[]){2, 1});
  c.in[5] = tensor(PARE_F32, 3, (int64_t[]){2, 2, 1}, (double[]){0.1, 0.2, 0.3, 0.4});
  pare_node_set_string(c.node, "direction", "bidirectional", &c.err);
  pare_node_set_int(c.node, "layout", 1, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  double f00 = tanh(0.5 * 1 + 0.25 * 0.1), f01 = tanh(0.5 * 2 + 0.25 * f00);
  double r01 = tanh(-1 * 2 + 0.5 * 0.2), r00 = tanh(-1 * 1 + 0.5 * r01);
  double f10 = tanh(0.5 * 3 + 0.25 * 0.3), r10 = tanh(-1 * 3 + 0.5 * 0.4);
  /* Y: [batch][seq][dir][1]; steps past a row's length stay 0. */
  check_shape(&c.out[0], 4, (int64_t[]){2, 2, 2, 1});
  check_vals(&c.out[0], (double[]){f00, r00, f01, r01, f10, r10, 0, 0}, 8, 1e-6);
  /* Y_h: [batch][dir][1]; the reverse direction ends at t = 0. */
  check_shape(&c.out[1], 3, (int64_t[]){2, 2, 1});
  check_vals(&c.out[1], (double[]){f01, r00, f10, r10}, 4, 1e-6);
  case_free(&c);
}

/* Reverse direction, layout 0, only Y_h requested (Y omitted). */
static void test_rnn_reverse(void) {
  op_case c;
  int64_t d111[3] = {1, 1, 1};
  case_init(&c, "RNN", 3, 2);
  c.in[0] = tensor(PARE_F32, 3, (int64_t[]){3, 1, 1}, (double[]){1, -1, 2});
  c.in[1] = tensor(PARE_F32, 3, d111, (double[]){0.5});
  c.in[2] = tensor(PARE_F32, 3, d111, (double[]){-0.5});
  pare_node_set_string(c.node, "direction", "reverse", &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  double h2 = tanh(1.0), h1 = tanh(-0.5 - 0.5 * h2), h0 = tanh(0.5 - 0.5 * h1);
  check_vals(&c.out[0], (double[]){h0, h1, h2}, 3, 1e-6);
  check_vals(&c.out[1], (double[]){h0}, 1, 1e-6);
  case_free(&c);
}

/* activations with alpha/beta consumed in order, names case-insensitive, clip. */
static void test_rnn_activations(void) {
  op_case c;
  int64_t d3[3] = {2, 1, 1}, d111[3] = {1, 1, 1};
  case_init(&c, "RNN", 3, 2);
  c.in[0] = tensor(PARE_F32, 3, d3, (double[]){1, 4});
  c.in[1] = tensor(PARE_F32, 3, d111, (double[]){1});
  c.in[2] = tensor(PARE_F32, 3, d111, (double[]){0});
  set_strings(c.node, "activations", 1, (const char *[]){"hardsigmoid"});
  pare_node_set_floats(c.node, "activation_alpha", (float[]){0.125f}, 1, &c.err);
  pare_node_set_floats(c.node, "activation_beta", (float[]){0.25f}, 1, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_vals(&c.out[0], (double[]){0.375, 0.75}, 2, 1e-6);
  case_free(&c);

  /* LeakyRelu(alpha 0.1) with clip 3: x = -2 -> -0.2, x = 5 -> clipped to 3. */
  case_init(&c, "RNN", 3, 1);
  c.in[0] = tensor(PARE_F32, 3, d3, (double[]){-2, 5});
  c.in[1] = tensor(PARE_F32, 3, d111, (double[]){1});
  c.in[2] = tensor(PARE_F32, 3, d111, (double[]){0});
  set_strings(c.node, "activations", 1, (const char *[]){"LeakyRelu"});
  pare_node_set_floats(c.node, "activation_alpha", (float[]){0.1f}, 1, &c.err);
  pare_node_set_float(c.node, "clip", 3, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_vals(&c.out[0], (double[]){-0.2, 3}, 2, 1e-6);
  case_free(&c);
}

/* ------------------------------------------------------------------ GRU */

static void run_gru(int linear_before_reset) {
  op_case c;
  int64_t d3[3] = {2, 1, 1}, d131[3] = {1, 3, 1}, d111[3] = {1, 1, 1};
  case_init(&c, "GRU", 6, 2);
  c.in[0] = tensor(PARE_F32, 3, d3, (double[]){1, -1});
  c.in[1] = tensor(PARE_F32, 3, d131, (double[]){0.5, -0.5, 1.0});
  c.in[2] = tensor(PARE_F32, 3, d131, (double[]){0.2, 0.3, -0.4});
  c.in[3] = tensor(PARE_F32, 2, (int64_t[]){1, 6}, (double[]){0.1, 0, 0.2, 0, 0.1, 0.3});
  c.in[5] = tensor(PARE_F32, 3, d111, (double[]){0.5});
  pare_node_set_int(c.node, "linear_before_reset", linear_before_reset, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  double h = 0.5, want[2];
  for (int t = 0; t < 2; t++) {
    double x = t == 0 ? 1 : -1;
    double z = sigmoid(0.5 * x + 0.2 * h + 0.1);
    double r = sigmoid(-0.5 * x + 0.3 * h + 0.1);
    double hh = linear_before_reset ? tanh(1.0 * x + r * (-0.4 * h + 0.3) + 0.2)
                                    : tanh(1.0 * x + -0.4 * (r * h) + 0.3 + 0.2);
    h = (1 - z) * hh + z * h;
    want[t] = h;
  }
  check_shape(&c.out[0], 4, (int64_t[]){2, 1, 1, 1});
  check_vals(&c.out[0], want, 2, 1e-6);
  check_vals(&c.out[1], want + 1, 1, 1e-6);
  case_free(&c);
}

static void test_gru(void) {
  run_gru(0);
  run_gru(1);
}

/* ----------------------------------------------------------------- LSTM */

static void run_lstm(int input_forget) {
  op_case c;
  int64_t d3[3] = {2, 1, 1}, d141[3] = {1, 4, 1}, d111[3] = {1, 1, 1};
  case_init(&c, "LSTM", 8, 3);
  c.in[0] = tensor(PARE_F32, 3, d3, (double[]){1, 0.5});
  c.in[1] = tensor(PARE_F32, 3, d141, (double[]){0.5, 0.6, -0.3, 0.8});
  c.in[2] = tensor(PARE_F32, 3, d141, (double[]){0.1, -0.2, 0.3, 0.4});
  c.in[3] = tensor(PARE_F32, 2, (int64_t[]){1, 8}, (double[]){0.1, 0, 0, 0, 0, 0, 0, 0});
  c.in[5] = tensor(PARE_F32, 3, d111, (double[]){0.1});
  c.in[6] = tensor(PARE_F32, 3, d111, (double[]){-0.2});
  c.in[7] = tensor(PARE_F32, 2, (int64_t[]){1, 3}, (double[]){0.2, 0.3, 0.4});
  pare_node_set_int(c.node, "input_forget", input_forget, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  double h = 0.1, cell = -0.2, ys[2];
  for (int t = 0; t < 2; t++) {
    double x = t == 0 ? 1 : 0.5;
    double i = sigmoid(0.5 * x + 0.1 * h + 0.2 * cell + 0.1);
    double f = input_forget ? 1 - i : sigmoid(-0.3 * x + 0.3 * h + 0.4 * cell);
    double g = tanh(0.8 * x + 0.4 * h);
    cell = f * cell + i * g;
    double o = sigmoid(0.6 * x - 0.2 * h + 0.3 * cell);
    h = o * tanh(cell);
    ys[t] = h;
  }
  check_shape(&c.out[0], 4, (int64_t[]){2, 1, 1, 1});
  check_shape(&c.out[2], 3, d111);
  check_vals(&c.out[0], ys, 2, 1e-6);
  check_vals(&c.out[1], (double[]){h}, 1, 1e-6);
  check_vals(&c.out[2], (double[]){cell}, 1, 1e-6);
  case_free(&c);
}

static void test_lstm(void) {
  run_lstm(0);
  run_lstm(1);
}

/* ------------------------------------------------------- infer / errors */

static void test_rnn_infer(void) {
  op_case c;
  /* Unknown sequence length: shapes with -1 and PARE_UNKNOWN. hidden_size
   * comes from W ([1, 4*3, 2] -> 3). */
  case_init(&c, "LSTM", 3, 3);
  c.in[0] = shape_only(PARE_F32, 3, (int64_t[]){-1, 5, 2});
  c.in[1] = shape_only(PARE_F32, 3, (int64_t[]){1, 12, 2});
  c.in[2] = shape_only(PARE_F32, 3, (int64_t[]){1, 12, 3});
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  check_shape(&c.out[0], 4, (int64_t[]){-1, 1, 5, 3});
  check_shape(&c.out[1], 3, (int64_t[]){1, 5, 3});
  check_shape(&c.out[2], 3, (int64_t[]){1, 5, 3});
  case_free(&c);

  /* Static shapes, layout 1, bidirectional GRU. */
  case_init(&c, "GRU", 3, 2);
  c.in[0] = shape_only(PARE_F32, 3, (int64_t[]){4, 7, 2});
  c.in[1] = shape_only(PARE_F32, 3, (int64_t[]){2, 9, 2});
  c.in[2] = shape_only(PARE_F32, 3, (int64_t[]){2, 9, 3});
  pare_node_set_string(c.node, "direction", "bidirectional", &c.err);
  pare_node_set_int(c.node, "layout", 1, &c.err);
  CHECK_MSG(case_infer(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 4, (int64_t[]){4, 7, 2, 3});
  check_shape(&c.out[1], 3, (int64_t[]){4, 2, 3});
  case_free(&c);
}

static void test_rnn_errors(void) {
  struct {
    const char *what;
    const char *msg;
  } cases[] = {
      {"direction", "unknown direction"},
      {"activation", "unknown activation"},
      {"W", "W has shape"},
      {"dirs", "W has shape"},
      {"count", "activations given"},
      {"lens", "sequence_lens"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    op_case c;
    const char *w = cases[k].what;
    case_init(&c, "RNN", 5, 2);
    c.in[0] = tensor(PARE_F32, 3, (int64_t[]){2, 1, 1}, (double[]){1, 2});
    c.in[1] = tensor(PARE_F32, 3, (int64_t[]){1, 1, strcmp(w, "W") ? 1 : 2}, NULL);
    c.in[2] = tensor(PARE_F32, 3, (int64_t[]){1, 1, 1}, NULL);
    pare_node_set_int(c.node, "hidden_size", 1, &c.err);
    if (!strcmp(w, "direction")) pare_node_set_string(c.node, "direction", "sideways", &c.err);
    if (!strcmp(w, "activation")) set_strings(c.node, "activations", 1, (const char *[]){"Swish"});
    if (!strcmp(w, "dirs")) pare_node_set_string(c.node, "direction", "bidirectional", &c.err);
    if (!strcmp(w, "count"))
      set_strings(c.node, "activations", 2, (const char *[]){"Tanh", "Tanh"});
    if (!strcmp(w, "lens")) c.in[4] = tensor(PARE_I32, 1, (int64_t[]){1}, (double[]){3});
    int rc = case_run(&c);
    CHECK_MSG(rc == PARE_ERR, "%s accepted", w);
    CHECK_STR_CONTAINS(c.err.msg, cases[k].msg);
    case_free(&c);
  }
}

int main(void) {
  RUN(test_rnn_forward);
  RUN(test_rnn_bidirectional);
  RUN(test_rnn_reverse);
  RUN(test_rnn_activations);
  RUN(test_gru);
  RUN(test_lstm);
  RUN(test_rnn_infer);
  RUN(test_rnn_errors);
  return check_summary();
}
