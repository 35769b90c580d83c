/*
 * test_ops_loss.c - hand-computed cases for the loss op family
 * (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss).
 */
#include "op_case.h"

/* NLL over log-probs x[2,3] = [[-1,-2,-3],[-0.5,-1.5,-2.5]], target [2, 0]. */
static int nll_2x3(op_case *c, const char *reduction, const double *weight, int64_t ignore_index,
                   int has_ignore) {
  int64_t d23[2] = {2, 3}, d2[1] = {2}, d3[1] = {3};
  case_init(c, "NegativeLogLikelihoodLoss", weight ? 3 : 2, 1);
  c->in[0] = tensor(PARE_F32, 2, d23, (double[]){-1, -2, -3, -0.5, -1.5, -2.5});
  c->in[1] = tensor(PARE_I64, 1, d2, (double[]){2, 0});
  if (weight) c->in[2] = tensor(PARE_F32, 1, d3, weight);
  if (reduction) pare_node_set_string(c->node, "reduction", reduction, &c->err);
  if (has_ignore) pare_node_set_int(c->node, "ignore_index", ignore_index, &c->err);
  return case_run(c);
}

static void test_nll_reductions(void) {
  op_case c;
  int64_t d2[1] = {2};
  CHECK(nll_2x3(&c, "none", NULL, 0, 0) == PARE_OK);
  check_shape(&c.out[0], 1, d2);
  check_vals(&c.out[0], (double[]){3, 0.5}, 2, 1e-6);
  case_free(&c);

  CHECK(nll_2x3(&c, "sum", NULL, 0, 0) == PARE_OK);
  check_shape(&c.out[0], 0, NULL);
  check_vals(&c.out[0], (double[]){3.5}, 1, 1e-6);
  case_free(&c);

  /* Default reduction is mean. */
  CHECK(nll_2x3(&c, NULL, NULL, 0, 0) == PARE_OK);
  check_shape(&c.out[0], 0, NULL);
  check_vals(&c.out[0], (double[]){1.75}, 1, 1e-6);
  case_free(&c);
}

static void test_nll_weight_ignore(void) {
  op_case c;
  static const double w[3] = {1, 2, 0.5};
  /* Weighted: losses 3*0.5 and 0.5*1; mean divides by 0.5 + 1. */
  CHECK(nll_2x3(&c, "none", w, 0, 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){1.5, 0.5}, 2, 1e-6);
  case_free(&c);
  CHECK(nll_2x3(&c, "mean", w, 0, 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){2.0 / 1.5}, 1, 1e-6);
  case_free(&c);

  /* ignore_index 0 drops the second element from the loss and the mean's count. */
  CHECK(nll_2x3(&c, "none", NULL, 0, 1) == PARE_OK);
  check_vals(&c.out[0], (double[]){3, 0}, 2, 1e-6);
  case_free(&c);
  CHECK(nll_2x3(&c, "mean", NULL, 0, 1) == PARE_OK);
  check_vals(&c.out[0], (double[]){3}, 1, 1e-6);
  case_free(&c);
  CHECK(nll_2x3(&c, "mean", w, 0, 1) == PARE_OK);
  check_vals(&c.out[0], (double[]){1.5 / 0.5}, 1, 1e-6);
  case_free(&c);

  /* Everything ignored: mean is 0/0. */
  int64_t d12[2] = {1, 2}, d1[1] = {1};
  case_init(&c, "NegativeLogLikelihoodLoss", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, d12, (double[]){-1, -2});
  c.in[1] = tensor(PARE_I64, 1, d1, (double[]){-7});
  pare_node_set_int(c.node, "ignore_index", -7, &c.err);
  CHECK(case_run(&c) == PARE_OK);
  check_vals(&c.out[0], (double[]){NAN}, 1, 0);
  case_free(&c);
}

/* [N, C, d1] input: x[0][c][d], c0 = [-1, -2], c1 = [-3, -4]; i32 target [[1, 0]]. */
static void test_nll_nd(void) {
  op_case c;
  int64_t d122[3] = {1, 2, 2}, d12[2] = {1, 2};
  case_init(&c, "NegativeLogLikelihoodLoss", 2, 1);
  c.in[0] = tensor(PARE_F32, 3, d122, (double[]){-1, -2, -3, -4});
  c.in[1] = tensor(PARE_I32, 2, d12, (double[]){1, 0});
  pare_node_set_string(c.node, "reduction", "none", &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 2, d12);
  check_vals(&c.out[0], (double[]){3, 2}, 2, 1e-6);
  case_free(&c);

  case_init(&c, "NegativeLogLikelihoodLoss", 2, 1);
  c.in[0] = tensor(PARE_F64, 3, d122, (double[]){-1, -2, -3, -4});
  c.in[1] = tensor(PARE_I64, 2, d12, (double[]){1, 0});
  CHECK(case_run(&c) == PARE_OK);
  CHECK(c.out[0].dtype == PARE_F64);
  check_vals(&c.out[0], (double[]){2.5}, 1, 1e-12);
  case_free(&c);
}

static void test_nll_errors(void) {
  op_case c;
  int64_t d23[2] = {2, 3}, d2[1] = {2}, d3[1] = {3}, d4[1] = {4};
  /* Target out of range. */
  case_init(&c, "NegativeLogLikelihoodLoss", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, d23, NULL);
  c.in[1] = tensor(PARE_I64, 1, d2, (double[]){0, 3});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "out of range");
  case_free(&c);

  /* Target shape mismatch. */
  case_init(&c, "NegativeLogLikelihoodLoss", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, d23, NULL);
  c.in[1] = tensor(PARE_I64, 1, d3, NULL);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "does not match");
  case_free(&c);

  /* Weight of the wrong length. */
  case_init(&c, "NegativeLogLikelihoodLoss", 3, 1);
  c.in[0] = tensor(PARE_F32, 2, d23, NULL);
  c.in[1] = tensor(PARE_I64, 1, d2, NULL);
  c.in[2] = tensor(PARE_F32, 1, d4, NULL);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "classes");
  case_free(&c);

  /* Bad reduction; float target. */
  CHECK(nll_2x3(&c, "avg", NULL, 0, 0) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "reduction");
  case_free(&c);
  case_init(&c, "NegativeLogLikelihoodLoss", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, d23, NULL);
  c.in[1] = tensor(PARE_F32, 1, d2, NULL);
  CHECK(case_run(&c) == PARE_ERR);
  case_free(&c);
}

static void test_sce(void) {
  op_case c;
  int64_t d12[2] = {1, 2}, d13[2] = {1, 3}, d1[1] = {1};
  double ln2 = log(2.0);
  /* Equal scores: loss ln 2, log_prob -ln 2 everywhere. */
  case_init(&c, "SoftmaxCrossEntropyLoss", 2, 2);
  c.in[0] = tensor(PARE_F32, 2, d12, (double[]){0, 0});
  c.in[1] = tensor(PARE_I64, 1, d1, (double[]){1});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 0, NULL);
  check_vals(&c.out[0], (double[]){ln2}, 1, 1e-6);
  check_shape(&c.out[1], 2, d12);
  check_vals(&c.out[1], (double[]){-ln2, -ln2}, 2, 1e-6);
  case_free(&c);

  /* Scores [1, 2, 3], target 2: loss = log(e + e^2 + e^3) - 3. */
  double want = log(exp(1) + exp(2) + exp(3)) - 3;
  case_init(&c, "SoftmaxCrossEntropyLoss", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, d13, (double[]){1, 2, 3});
  c.in[1] = tensor(PARE_I32, 1, d1, (double[]){2});
  pare_node_set_string(c.node, "reduction", "sum", &c.err);
  CHECK(case_run(&c) == PARE_OK);
  check_vals(&c.out[0], (double[]){want}, 1, 1e-6);
  case_free(&c);

  /* Large scores stay finite (log-softmax subtracts the max). */
  case_init(&c, "SoftmaxCrossEntropyLoss", 2, 1);
  c.in[0] = tensor(PARE_F32, 2, d13, (double[]){1001, 1002, 1003});
  c.in[1] = tensor(PARE_I64, 1, d1, (double[]){2});
  CHECK(case_run(&c) == PARE_OK);
  check_vals(&c.out[0], (double[]){want}, 1, 1e-5);
  case_free(&c);
}

/* [N=1, C=2, d1=2] scores with weight and ignore_index, reduction none. */
static void test_sce_nd_weight(void) {
  op_case c;
  int64_t d122[3] = {1, 2, 2}, d12[2] = {1, 2}, d2[1] = {2};
  case_init(&c, "SoftmaxCrossEntropyLoss", 3, 2);
  /* Position 0: scores (0, 0); position 1: scores (1, 3). */
  c.in[0] = tensor(PARE_F32, 3, d122, (double[]){0, 1, 0, 3});
  c.in[1] = tensor(PARE_I64, 2, d12, (double[]){0, 0});
  c.in[2] = tensor(PARE_F32, 1, d2, (double[]){2, 1});
  pare_node_set_string(c.node, "reduction", "none", &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 2, d12);
  double l1 = log(exp(1) + exp(3)) - 1;
  check_vals(&c.out[0], (double[]){2 * log(2.0), 2 * l1}, 2, 1e-5);
  check_shape(&c.out[1], 3, d122);
  check_vals(&c.out[1], (double[]){-log(2.0), -l1, -log(2.0), 3 - log(exp(1) + exp(3))}, 4, 1e-5);
  case_free(&c);

  /* Same with mean and ignore_index 0 on the second target. */
  case_init(&c, "SoftmaxCrossEntropyLoss", 3, 1);
  c.in[0] = tensor(PARE_F32, 3, d122, (double[]){0, 1, 0, 3});
  c.in[1] = tensor(PARE_I64, 2, d12, (double[]){1, 0});
  c.in[2] = tensor(PARE_F32, 1, d2, (double[]){2, 1});
  pare_node_set_int(c.node, "ignore_index", 0, &c.err);
  CHECK(case_run(&c) == PARE_OK);
  check_vals(&c.out[0], (double[]){log(2.0)}, 1, 1e-5);
  case_free(&c);
}

/* Shapes follow when the data is unknown; unknown dims propagate. */
static void test_loss_infer(void) {
  op_case c;
  int64_t dx[3] = {-1, 4, 5}, dt[2] = {-1, 5}, d34[2] = {3, 4}, d3[1] = {3};
  case_init(&c, "SoftmaxCrossEntropyLoss", 2, 2);
  c.in[0] = tensor(PARE_F32, 2, d34, NULL);
  c.in[1] = tensor(PARE_I64, 1, d3, NULL);
  pare_tensor_release(c.in[0]);
  pare_tensor_release(c.in[1]);
  c.in[0]->shape = pare_shape_make(3, dx);
  c.in[1]->shape = pare_shape_make(2, dt);
  pare_node_set_string(c.node, "reduction", "none", &c.err);
  const pare_op_def *def = pare_op_find("SoftmaxCrossEntropyLoss");
  CHECK(def &&
        def->infer(c.node, (const pare_tensor *const *)c.in, 2, c.out, 2, &c.err) == PARE_UNKNOWN);
  check_shape(&c.out[0], 2, dt);
  check_shape(&c.out[1], 3, dx);
  case_free(&c);
}

int main(void) {
  RUN(test_nll_reductions);
  RUN(test_nll_weight_ignore);
  RUN(test_nll_nd);
  RUN(test_nll_errors);
  RUN(test_sce);
  RUN(test_sce_nd_weight);
  RUN(test_loss_infer);
  return check_summary();
}
