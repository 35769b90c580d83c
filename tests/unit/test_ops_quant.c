/*
 * test_ops_quant.c - hand-computed cases for QuantizeLinear and
 * DequantizeLinear: per tensor and per axis, u8 and i8, saturation, round
 * half to even, and the errors.
 */
#include "op_case.h"

#include <math.h>

static void test_quantize_per_tensor_u8(void) {
  op_case c;
  case_init(&c, "QuantizeLinear", 3, 1);
  int64_t d[1] = {8};
  /* x/2: 0.5 and 1.5 and 2.5 round to even (0, 2, 2); -3 -> -1.5 -> -2. */
  c.in[0] = tensor(PARE_F32, 1, d, (double[]){1, 3, 5, -3, 1000, -1000, 7, 0});
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){2});
  c.in[2] = tensor(PARE_U8, 0, NULL, (double[]){10});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  CHECK(c.out[0].dtype == PARE_U8);
  check_vals(&c.out[0], (double[]){10, 12, 12, 8, 255, 0, 14, 10}, 8, 0);
  case_free(&c);
}

static void test_quantize_default_u8_no_zero_point(void) {
  op_case c;
  case_init(&c, "QuantizeLinear", 2, 1);
  int64_t d[1] = {3};
  c.in[0] = tensor(PARE_F32, 1, d, (double[]){-1, 0.4, 0.6});
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){1}, (double[]){0.2});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  CHECK(c.out[0].dtype == PARE_U8);
  check_vals(&c.out[0], (double[]){0, 2, 3}, 3, 0);
  case_free(&c);
}

static void test_quantize_per_axis_i8(void) {
  op_case c;
  case_init(&c, "QuantizeLinear", 3, 1);
  pare_node_set_int(c.node, "axis", 1, &c.err);
  int64_t d[3] = {1, 2, 2};
  c.in[0] = tensor(PARE_F32, 3, d, (double[]){1, -300, 1, 4});
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){2}, (double[]){1, 0.5});
  c.in[2] = tensor(PARE_I8, 1, (int64_t[]){2}, (double[]){0, -3});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  CHECK(c.out[0].dtype == PARE_I8);
  check_vals(&c.out[0], (double[]){1, -128, -1, 5}, 4, 0);
  case_free(&c);
}

static void test_quantize_negative_axis_and_output_dtype(void) {
  op_case c;
  case_init(&c, "QuantizeLinear", 2, 1);
  pare_node_set_int(c.node, "axis", -1, &c.err);
  pare_node_set_int(c.node, "output_dtype", PARE_I8, &c.err);
  int64_t d[2] = {2, 2};
  c.in[0] = tensor(PARE_F32, 2, d, (double[]){1, 1, -1, 300});
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){2}, (double[]){1, 2});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  CHECK(c.out[0].dtype == PARE_I8);
  check_vals(&c.out[0], (double[]){1, 0, -1, 127}, 4, 0);
  case_free(&c);
}

static void test_dequantize(void) {
  op_case c;
  case_init(&c, "DequantizeLinear", 3, 1);
  int64_t d[1] = {4};
  c.in[0] = tensor(PARE_U8, 1, d, (double[]){0, 3, 128, 255});
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){0.5});
  c.in[2] = tensor(PARE_U8, 0, NULL, (double[]){128});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  CHECK(c.out[0].dtype == PARE_F32);
  check_vals(&c.out[0], (double[]){-64, -62.5, 0, 63.5}, 4, 0);
  case_free(&c);
}

static void test_dequantize_per_axis_i8_and_i32(void) {
  op_case c;
  case_init(&c, "DequantizeLinear", 2, 1);
  pare_node_set_int(c.node, "axis", 0, &c.err);
  int64_t d[2] = {2, 3};
  c.in[0] = tensor(PARE_I8, 2, d, (double[]){-128, 0, 127, 1, 2, 3});
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){2}, (double[]){0.25, 2});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_vals(&c.out[0], (double[]){-32, 0, 31.75, 2, 4, 6}, 6, 0);
  case_free(&c);

  case_init(&c, "DequantizeLinear", 2, 1);
  c.in[0] = tensor(PARE_I32, 1, (int64_t[]){2}, (double[]){-100000, 7});
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){0.5});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_vals(&c.out[0], (double[]){-50000, 3.5}, 2, 0);
  case_free(&c);
}

static void test_round_trip_is_idempotent(void) {
  /* Dequantize(Quantize(x)) lands on the grid; quantizing it again gives
   * the same codes. */
  op_case q, dq, q2;
  int64_t d[1] = {6};
  double x[6] = {-1.3, -0.01, 0, 0.37, 0.9, 2.2};
  case_init(&q, "QuantizeLinear", 3, 1);
  q.in[0] = tensor(PARE_F32, 1, d, x);
  q.in[1] = tensor(PARE_F32, 0, NULL, (double[]){0.0137});
  q.in[2] = tensor(PARE_U8, 0, NULL, (double[]){97});
  CHECK_MSG(case_run(&q) == PARE_OK, "%s", q.err.msg);
  case_init(&dq, "DequantizeLinear", 3, 1);
  dq.in[0] = pare_tensor_clone(&q.out[0], &dq.err);
  dq.in[1] = tensor(PARE_F32, 0, NULL, (double[]){0.0137});
  dq.in[2] = tensor(PARE_U8, 0, NULL, (double[]){97});
  CHECK_MSG(case_run(&dq) == PARE_OK, "%s", dq.err.msg);
  for (int i = 0; i < 6; i++) {
    double code = pare_tensor_get_f64(&q.out[0], i);
    CHECK_NEAR(code, fmin(255, fmax(0, rint(x[i] / 0.0137) + 97)), 0);
    CHECK_NEAR(pare_tensor_get_f64(&dq.out[0], i), (code - 97) * (double)0.0137f, 1e-6);
  }
  case_init(&q2, "QuantizeLinear", 3, 1);
  q2.in[0] = pare_tensor_clone(&dq.out[0], &q2.err);
  q2.in[1] = tensor(PARE_F32, 0, NULL, (double[]){0.0137});
  q2.in[2] = tensor(PARE_U8, 0, NULL, (double[]){97});
  CHECK_MSG(case_run(&q2) == PARE_OK, "%s", q2.err.msg);
  CHECK(memcmp(q2.out[0].data, q.out[0].data, 6) == 0);
  case_free(&q);
  case_free(&dq);
  case_free(&q2);
}

static void test_errors(void) {
  op_case c;
  case_init(&c, "QuantizeLinear", 2, 1);
  pare_node_set_int(c.node, "axis", 0, &c.err);
  c.in[0] = tensor(PARE_F32, 2, (int64_t[]){2, 3}, NULL);
  c.in[1] = tensor(PARE_F32, 1, (int64_t[]){3}, NULL);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "3 scales for axis 0 of extent 2");
  case_free(&c);

  case_init(&c, "QuantizeLinear", 2, 1);
  pare_node_set_int(c.node, "block_size", 2, &c.err);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){4}, NULL);
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){1});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "block_size 2");
  case_free(&c);

  case_init(&c, "DequantizeLinear", 3, 1);
  c.in[0] = tensor(PARE_U8, 1, (int64_t[]){4}, NULL);
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){1});
  c.in[2] = tensor(PARE_I8, 0, NULL, (double[]){0});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "zero_point is i8 but x is u8");
  case_free(&c);

  case_init(&c, "DequantizeLinear", 2, 1);
  c.in[0] = tensor(PARE_F32, 1, (int64_t[]){4}, NULL);
  c.in[1] = tensor(PARE_F32, 0, NULL, (double[]){1});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "x is f32");
  case_free(&c);
}

int main(void) {
  RUN(test_quantize_per_tensor_u8);
  RUN(test_quantize_default_u8_no_zero_point);
  RUN(test_quantize_per_axis_i8);
  RUN(test_quantize_negative_axis_and_output_dtype);
  RUN(test_dequantize);
  RUN(test_dequantize_per_axis_i8_and_i32);
  RUN(test_round_trip_is_idempotent);
  RUN(test_errors);
  return check_summary();
}
