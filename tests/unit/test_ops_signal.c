/*
 * test_ops_signal.c - hand-computed cases for the signal op family (DFT,
 * STFT, HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix).
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

static pare_tensor *tensor(pare_dtype dt, int rank, const int64_t *dims, const double *vals) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_err err;
  pare_tensor *t = pare_tensor_new(dt, &s, &err);
  if (t && vals)
    for (int64_t i = 0; i < pare_tensor_numel(t); i++) pare_tensor_set_f64(t, i, vals[i]);
  return t;
}

static pare_tensor *scalar(pare_dtype dt, double v) {
  return tensor(dt, 0, NULL, &v);
}

/* A tensor whose data is not known (shape inference). */
static pare_tensor *shape_only(pare_dtype dt, int rank, const int64_t *dims) {
  pare_tensor *t = calloc(1, sizeof *t);
  t->dtype = dt;
  t->shape = pare_shape_make(rank, dims);
  return t;
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

/* ------------------------------------------------------------------ DFT */

/* DFT of the real signal [1, 2, 3, 4] is [10, -2+2i, -2, -2-2i]. */
static void test_dft_real(void) {
  op_case c;
  int64_t d[3] = {1, 4, 1};
  case_init(&c, "DFT", 1, 1);
  c.in[0] = tensor(PARE_F32, 3, d, (double[]){1, 2, 3, 4});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 3, (int64_t[]){1, 4, 2});
  check_vals(&c.out[0], (double[]){10, 0, -2, 2, -2, 0, -2, -2}, 8, 1e-5);
  case_free(&c);

  /* onesided keeps bins 0..n/2. */
  case_init(&c, "DFT", 1, 1);
  c.in[0] = tensor(PARE_F64, 3, d, (double[]){1, 2, 3, 4});
  pare_node_set_int(c.node, "onesided", 1, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  CHECK(c.out[0].dtype == PARE_F64);
  check_shape(&c.out[0], 3, (int64_t[]){1, 3, 2});
  check_vals(&c.out[0], (double[]){10, 0, -2, 2, -2, 0}, 6, 1e-12);
  case_free(&c);

  /* dft_length 2 truncates: [1+2, 1-2]. */
  case_init(&c, "DFT", 2, 1);
  c.in[0] = tensor(PARE_F32, 3, d, (double[]){1, 2, 3, 4});
  c.in[1] = scalar(PARE_I64, 2);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 3, (int64_t[]){1, 2, 2});
  check_vals(&c.out[0], (double[]){3, 0, -1, 0}, 4, 1e-5);
  case_free(&c);

  /* dft_length 5 zero-pads: an impulse becomes all ones. */
  case_init(&c, "DFT", 2, 1);
  c.in[0] = tensor(PARE_F32, 3, d, (double[]){1, 0, 0, 0});
  c.in[1] = scalar(PARE_I32, 5);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 3, (int64_t[]){1, 5, 2});
  check_vals(&c.out[0], (double[]){1, 0, 1, 0, 1, 0, 1, 0, 1, 0}, 10, 1e-6);
  case_free(&c);
}

/* The inverse of [10, -2+2i, -2, -2-2i] is [1, 2, 3, 4]. */
static void test_dft_inverse(void) {
  op_case c;
  case_init(&c, "DFT", 1, 1);
  c.in[0] = tensor(PARE_F32, 3, (int64_t[]){1, 4, 2}, (double[]){10, 0, -2, 2, -2, 0, -2, -2});
  pare_node_set_int(c.node, "inverse", 1, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 3, (int64_t[]){1, 4, 2});
  check_vals(&c.out[0], (double[]){1, 0, 2, 0, 3, 0, 4, 0}, 8, 1e-5);
  case_free(&c);
}

/* x [1, 2, 2, 1] = [[1, 2], [3, 4]]: along axis 1 the columns transform to
 * [4, -2] and [6, -2]; along axis 2 (or -2) the rows to [3, -1] and [7, -1]. */
static void test_dft_axis(void) {
  int64_t axes[3] = {1, 2, -2};
  static const double want[3][8] = {
      {4, 0, 6, 0, -2, 0, -2, 0}, {3, 0, -1, 0, 7, 0, -1, 0}, {3, 0, -1, 0, 7, 0, -1, 0}};
  for (int k = 0; k < 3; k++) {
    op_case c;
    case_init(&c, "DFT", 1, 1);
    c.in[0] = tensor(PARE_F32, 4, (int64_t[]){1, 2, 2, 1}, (double[]){1, 2, 3, 4});
    pare_node_set_int(c.node, "axis", axes[k], &c.err);
    CHECK_MSG(case_run(&c) == PARE_OK, "axis %lld: %s", (long long)axes[k], c.err.msg);
    check_shape(&c.out[0], 4, (int64_t[]){1, 2, 2, 2});
    check_vals(&c.out[0], want[k], 8, 1e-5);
    case_free(&c);
  }
}

static void test_dft_infer_errors(void) {
  op_case c;
  /* dft_length not known yet: the axis dim is unknown. */
  case_init(&c, "DFT", 2, 1);
  c.in[0] = shape_only(PARE_F32, 3, (int64_t[]){2, 8, 1});
  c.in[1] = shape_only(PARE_I64, 0, NULL);
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  check_shape(&c.out[0], 3, (int64_t[]){2, -1, 2});
  case_free(&c);

  case_init(&c, "DFT", 1, 1);
  c.in[0] = shape_only(PARE_F32, 3, (int64_t[]){2, 8, 3});
  CHECK(case_infer(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "expected 1 (real) or 2 (complex)");
  case_free(&c);

  case_init(&c, "DFT", 1, 1);
  c.in[0] = shape_only(PARE_F32, 3, (int64_t[]){2, 8, 1});
  pare_node_set_int(c.node, "axis", 2, &c.err);
  CHECK(case_infer(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "axis 2 out of range");
  case_free(&c);
}

/* ----------------------------------------------------------------- STFT */

/* Signal 1..6, step 2, frame 4: frames [1,2,3,4] and [3,4,5,6] with spectra
 * [10, -2+2i, -2] and [18, -2+2i, -2]. */
static void test_stft(void) {
  op_case c;
  int64_t d[3] = {1, 6, 1};
  case_init(&c, "STFT", 4, 1);
  c.in[0] = tensor(PARE_F32, 3, d, (double[]){1, 2, 3, 4, 5, 6});
  c.in[1] = scalar(PARE_I64, 2);
  c.in[3] = scalar(PARE_I64, 4);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 4, (int64_t[]){1, 2, 3, 2});
  check_vals(&c.out[0], (double[]){10, 0, -2, 2, -2, 0, 18, 0, -2, 2, -2, 0}, 12, 1e-5);
  case_free(&c);

  /* Window [0, 1, 1, 0] sets the frame length; frame 0 becomes [0, 2, 3, 0]:
   * bins 5, -3-2i, 1, -3+2i; frame 1 [0, 4, 5, 0]: 9, -5-4i, 1, -5+4i (onesided 0
   * keeps all four). */
  case_init(&c, "STFT", 3, 1);
  c.in[0] = tensor(PARE_F32, 3, d, (double[]){1, 2, 3, 4, 5, 6});
  c.in[1] = scalar(PARE_I64, 2);
  c.in[2] = tensor(PARE_F32, 1, (int64_t[]){4}, (double[]){0, 1, 1, 0});
  pare_node_set_int(c.node, "onesided", 0, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 4, (int64_t[]){1, 2, 4, 2});
  check_vals(&c.out[0], (double[]){5, 0, -3, -2, 1, 0, -3, 2, 9, 0, -5, -4, 1, 0, -5, 4}, 16, 1e-5);
  case_free(&c);

  /* Window and frame_length disagree. */
  case_init(&c, "STFT", 4, 1);
  c.in[0] = tensor(PARE_F32, 3, d, NULL);
  c.in[1] = scalar(PARE_I64, 2);
  c.in[2] = tensor(PARE_F32, 1, (int64_t[]){4}, NULL);
  c.in[3] = scalar(PARE_I64, 3);
  CHECK(case_infer(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "differs from frame_length");
  case_free(&c);

  /* frame_step unknown: frame count unknown. */
  case_init(&c, "STFT", 4, 1);
  c.in[0] = shape_only(PARE_F32, 3, d);
  c.in[1] = shape_only(PARE_I64, 0, NULL);
  c.in[3] = scalar(PARE_I64, 4);
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  check_shape(&c.out[0], 4, (int64_t[]){1, -1, 3, 2});
  case_free(&c);
}

/* -------------------------------------------------------------- windows */

static void run_window(const char *op, int64_t size, int periodic, const double *want) {
  op_case c;
  case_init(&c, op, 1, 1);
  c.in[0] = scalar(PARE_I64, (double)size);
  pare_node_set_int(c.node, "periodic", periodic, &c.err);
  pare_node_set_int(c.node, "output_datatype", PARE_F64, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s: %s", op, c.err.msg);
  CHECK(c.out[0].dtype == PARE_F64);
  check_shape(&c.out[0], 1, &size);
  check_vals(&c.out[0], want, size, 1e-12);
  case_free(&c);
}

static void test_windows(void) {
  run_window("HannWindow", 4, 1, (double[]){0, 0.5, 1, 0.5});
  run_window("HannWindow", 3, 0, (double[]){0, 1, 0});
  run_window("HammingWindow", 4, 1, (double[]){4.0 / 46, 25.0 / 46, 1, 25.0 / 46});
  run_window("HammingWindow", 3, 0, (double[]){4.0 / 46, 1, 4.0 / 46});
  run_window("BlackmanWindow", 4, 1, (double[]){0, 0.34, 1, 0.34});
  run_window("BlackmanWindow", 1, 0, (double[]){1});

  op_case c;
  case_init(&c, "HannWindow", 1, 1);
  c.in[0] = shape_only(PARE_I32, 0, NULL);
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  CHECK(c.out[0].dtype == PARE_F32);
  check_shape(&c.out[0], 1, (int64_t[]){-1});
  case_free(&c);

  case_init(&c, "HammingWindow", 1, 1);
  c.in[0] = scalar(PARE_I64, 4);
  pare_node_set_int(c.node, "output_datatype", PARE_STRING, &c.err);
  CHECK(case_infer(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "output_datatype");
  case_free(&c);
}

/* ------------------------------------------------------ MelWeightMatrix */

/*
 * 3 mel bins, dft_length 16, 1600 Hz, 0..800 Hz. mel(800) = 858.93; five
 * points 171.79 mel apart map to 0, 115.4, 249.8, 406.4, 588.8 Hz, i.e. bins
 * floor(17 f / 1600) = 0, 1, 2, 4, 6. Triangles: (0,1,2), (1,2,4), (2,4,6).
 */
static void test_mel(void) {
  op_case c;
  case_init(&c, "MelWeightMatrix", 5, 1);
  c.in[0] = scalar(PARE_I32, 3);
  c.in[1] = scalar(PARE_I32, 16);
  c.in[2] = scalar(PARE_I32, 1600);
  c.in[3] = scalar(PARE_F32, 0);
  c.in[4] = scalar(PARE_F32, 800);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 2, (int64_t[]){9, 3});
  static const double want[27] = {
      0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0.5, 0.5, 0, 0, 1, 0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  };
  check_vals(&c.out[0], want, 27, 1e-6);
  case_free(&c);

  /* An upper edge past Nyquist lands outside the spectrogram. */
  case_init(&c, "MelWeightMatrix", 5, 1);
  c.in[0] = scalar(PARE_I32, 3);
  c.in[1] = scalar(PARE_I32, 16);
  c.in[2] = scalar(PARE_I32, 1600);
  c.in[3] = scalar(PARE_F32, 0);
  c.in[4] = scalar(PARE_F32, 5000);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "do not fit");
  case_free(&c);
}

int main(void) {
  RUN(test_dft_real);
  RUN(test_dft_inverse);
  RUN(test_dft_axis);
  RUN(test_dft_infer_errors);
  RUN(test_stft);
  RUN(test_windows);
  RUN(test_mel);
  return check_summary();
}
