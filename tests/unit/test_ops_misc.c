/*
 * test_ops_misc.c - hand-computed cases for the misc op family
 * (NonMaxSuppression, Unique, Det, GridSample, RoiAlign).
 */
#include "op_case.h"

static void check_ints(const pare_tensor *t, const int64_t *want, int64_t n) {
  CHECK_MSG(t->dtype == PARE_I64, "dtype %s", pare_dtype_name(t->dtype));
  CHECK_MSG(pare_tensor_numel(t) == n, "numel %lld vs %lld", (long long)pare_tensor_numel(t),
            (long long)n);
  for (int64_t i = 0; i < n && i < pare_tensor_numel(t); i++)
    CHECK_MSG(pare_tensor_get_i64(t, i) == want[i], "[%lld] %lld vs %lld", (long long)i,
              (long long)pare_tensor_get_i64(t, i), (long long)want[i]);
}

/* Only infer, for the shape-only paths. */
static int case_infer(op_case *c) {
  const pare_op_def *def = pare_op_find(c->node->op);
  if (!def) return PARE_ERR;
  return def->infer(c->node, (const pare_tensor *const *)c->in, c->n_in, c->out, c->n_out, &c->err);
}

/* ---------------------------------------------------- NonMaxSuppression */

/*
 * Three boxes in one batch: b0 = unit square at the origin, b1 = b0 shifted
 * right by 0.1 (IoU with b0 = 0.9 / 1.1 = 0.818), b2 disjoint from both.
 * Class 0 scores 0.9, 0.8, 0.7; class 1 scores 0.1, 0.95, 0.2.
 */
static void nms_case(op_case *c, int center, int64_t max_out, double iou, double score_thr) {
  static const double corners[12] = {0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 2, 1, 3};
  static const double centers[12] = {0.5, 0.5, 1, 1, 0.6, 0.5, 1, 1, 2.5, 0.5, 1, 1};
  int64_t db[3] = {1, 3, 4}, ds[3] = {1, 2, 3}, d1[1] = {1};
  int n_in = score_thr >= 0 ? 5 : max_out >= 0 ? 4 : 2;
  case_init(c, "NonMaxSuppression", n_in, 1);
  c->in[0] = tensor(PARE_F32, 3, db, center ? centers : corners);
  c->in[1] = tensor(PARE_F32, 3, ds, (double[]){0.9, 0.8, 0.7, 0.1, 0.95, 0.2});
  if (n_in > 2) {
    c->in[2] = tensor(PARE_I64, 1, d1, (double[]){(double)max_out});
    c->in[3] = tensor(PARE_F32, 1, d1, (double[]){iou});
  }
  if (n_in > 4) c->in[4] = tensor(PARE_F32, 1, d1, (double[]){score_thr});
  if (center) pare_node_set_int(c->node, "center_point_box", 1, &c->err);
}

static void test_nms(void) {
  op_case c;
  int64_t d43[2] = {4, 3};
  for (int center = 0; center <= 1; center++) {
    nms_case(&c, center, 10, 0.5, -1);
    CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
    check_shape(&c.out[0], 2, d43);
    check_ints(&c.out[0], (int64_t[]){0, 0, 0, 0, 0, 2, 0, 1, 1, 0, 1, 2}, 12);
    case_free(&c);
  }
  /* At most one box per class. */
  nms_case(&c, 0, 1, 0.5, -1);
  CHECK(case_run(&c) == PARE_OK);
  check_ints(&c.out[0], (int64_t[]){0, 0, 0, 0, 1, 1}, 6);
  case_free(&c);
  /* Score threshold drops b2 from class 0 and b0, b2 from class 1. */
  nms_case(&c, 0, 10, 0.5, 0.75);
  CHECK(case_run(&c) == PARE_OK);
  check_ints(&c.out[0], (int64_t[]){0, 0, 0, 0, 1, 1}, 6);
  case_free(&c);
  /* A high IoU threshold keeps everything, by descending score. */
  nms_case(&c, 0, 10, 0.9, -1);
  CHECK(case_run(&c) == PARE_OK);
  check_ints(&c.out[0], (int64_t[]){0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 1, 0, 1, 2, 0, 1, 0}, 18);
  case_free(&c);
  /* No max_output_boxes_per_class: nothing is selected. */
  nms_case(&c, 0, -1, 0, -1);
  CHECK(case_run(&c) == PARE_OK);
  check_shape(&c.out[0], 2, (int64_t[]){0, 3});
  case_free(&c);
  /* Bad center_point_box. */
  nms_case(&c, 0, 10, 0.5, -1);
  pare_node_set_int(c.node, "center_point_box", 2, &c.err);
  CHECK(case_run(&c) == PARE_ERR);
  case_free(&c);
}

static void test_nms_infer(void) {
  op_case c;
  /* Unknown scores: count unknown. */
  nms_case(&c, 0, 10, 0.5, -1);
  pare_tensor_release(c.in[1]);
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  check_shape(&c.out[0], 2, (int64_t[]){-1, 3});
  CHECK(c.out[0].dtype == PARE_I64);
  case_free(&c);
  /* Known max_output_boxes_per_class of 0 settles the count anyway. */
  nms_case(&c, 0, 0, 0.5, -1);
  pare_tensor_release(c.in[0]);
  pare_tensor_release(c.in[1]);
  CHECK(case_infer(&c) == PARE_OK);
  check_shape(&c.out[0], 2, (int64_t[]){0, 3});
  case_free(&c);
  /* Everything known: infer computes the count. */
  nms_case(&c, 0, 10, 0.5, -1);
  CHECK(case_infer(&c) == PARE_OK);
  check_shape(&c.out[0], 2, (int64_t[]){4, 3});
  case_free(&c);
  /* Shape mismatch between boxes and scores. */
  nms_case(&c, 0, 10, 0.5, -1);
  c.in[1]->shape.dims[2] = 2;
  CHECK(case_infer(&c) == PARE_ERR);
  case_free(&c);
}

/* --------------------------------------------------------------- Unique */

static void test_unique_flat(void) {
  op_case c;
  int64_t d6[1] = {6}, d4[1] = {4};
  static const double x[6] = {2, 1, 1, 3, 4, 3};
  case_init(&c, "Unique", 1, 4);
  c.in[0] = tensor(PARE_F32, 1, d6, x);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 1, d4);
  check_vals(&c.out[0], (double[]){1, 2, 3, 4}, 4, 0);
  check_ints(&c.out[1], (int64_t[]){1, 0, 3, 4}, 4);
  check_ints(&c.out[2], (int64_t[]){1, 0, 0, 2, 3, 2}, 6);
  check_ints(&c.out[3], (int64_t[]){2, 1, 2, 1}, 4);
  case_free(&c);

  /* Not sorted: order of first occurrence. */
  case_init(&c, "Unique", 1, 4);
  c.in[0] = tensor(PARE_I32, 1, d6, x);
  pare_node_set_int(c.node, "sorted", 0, &c.err);
  CHECK(case_run(&c) == PARE_OK);
  CHECK(c.out[0].dtype == PARE_I32);
  check_vals(&c.out[0], (double[]){2, 1, 3, 4}, 4, 0);
  check_ints(&c.out[1], (int64_t[]){0, 1, 3, 4}, 4);
  check_ints(&c.out[2], (int64_t[]){0, 1, 1, 2, 3, 2}, 6);
  check_ints(&c.out[3], (int64_t[]){1, 2, 2, 1}, 4);
  case_free(&c);

  /* Without axis a 2-D input is flattened; only Y requested. */
  int64_t d23[2] = {2, 3};
  case_init(&c, "Unique", 1, 1);
  c.in[0] = tensor(PARE_I64, 2, d23, (double[]){5, 5, -1, 5, -1, 0});
  CHECK(case_run(&c) == PARE_OK);
  check_shape(&c.out[0], 1, (int64_t[]){3});
  check_vals(&c.out[0], (double[]){-1, 0, 5}, 3, 0);
  case_free(&c);
}

static void test_unique_axis(void) {
  op_case c;
  int64_t d33[2] = {3, 3}, d23[2] = {2, 3};
  /* Rows: two equal, one different. */
  case_init(&c, "Unique", 1, 4);
  c.in[0] = tensor(PARE_F32, 2, d33, (double[]){1, 0, 0, 1, 0, 0, 2, 3, 4});
  pare_node_set_int(c.node, "axis", 0, &c.err);
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 2, d23);
  check_vals(&c.out[0], (double[]){1, 0, 0, 2, 3, 4}, 6, 0);
  check_ints(&c.out[1], (int64_t[]){0, 2}, 2);
  check_ints(&c.out[2], (int64_t[]){0, 0, 1}, 3);
  check_ints(&c.out[3], (int64_t[]){2, 1}, 2);
  case_free(&c);

  /* Columns (axis -1) of [[2,1,2],[0,5,0]]: (1,5) sorts before (2,0). */
  int64_t d22[2] = {2, 2};
  case_init(&c, "Unique", 1, 4);
  c.in[0] = tensor(PARE_F32, 2, d23, (double[]){2, 1, 2, 0, 5, 0});
  pare_node_set_int(c.node, "axis", -1, &c.err);
  CHECK(case_run(&c) == PARE_OK);
  check_shape(&c.out[0], 2, d22);
  check_vals(&c.out[0], (double[]){1, 2, 5, 0}, 4, 0);
  check_ints(&c.out[1], (int64_t[]){1, 0}, 2);
  check_ints(&c.out[2], (int64_t[]){1, 0, 1}, 3);
  check_ints(&c.out[3], (int64_t[]){1, 2}, 2);
  case_free(&c);

  /* Axis out of range. */
  case_init(&c, "Unique", 1, 1);
  c.in[0] = tensor(PARE_F32, 2, d23, NULL);
  pare_node_set_int(c.node, "axis", 2, &c.err);
  CHECK(case_run(&c) == PARE_ERR);
  case_free(&c);
}

static void test_unique_infer(void) {
  op_case c;
  int64_t d23[2] = {2, 3};
  case_init(&c, "Unique", 1, 4);
  c.in[0] = tensor(PARE_F32, 2, d23, NULL);
  pare_tensor_release(c.in[0]);
  pare_node_set_int(c.node, "axis", 1, &c.err);
  CHECK(case_infer(&c) == PARE_UNKNOWN);
  check_shape(&c.out[0], 2, (int64_t[]){2, -1});
  check_shape(&c.out[1], 1, (int64_t[]){-1});
  check_shape(&c.out[2], 1, (int64_t[]){3});
  check_shape(&c.out[3], 1, (int64_t[]){-1});
  case_free(&c);
}

/* ------------------------------------------------------------------ Det */

static void test_det(void) {
  op_case c;
  int64_t d22[2] = {2, 2}, d233[3] = {2, 3, 3}, d2[1] = {2};
  case_init(&c, "Det", 1, 1);
  c.in[0] = tensor(PARE_F32, 2, d22, (double[]){1, 2, 3, 4});
  CHECK_MSG(case_run(&c) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 0, NULL);
  check_vals(&c.out[0], (double[]){-2}, 1, 1e-6);
  case_free(&c);

  /* Batched: 2*I, and a row swap (needs pivoting: a[0][0] == 0). */
  case_init(&c, "Det", 1, 1);
  c.in[0] =
      tensor(PARE_F32, 3, d233, (double[]){2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0, 1, 0, 0, 0, 0, 1});
  CHECK(case_run(&c) == PARE_OK);
  check_shape(&c.out[0], 1, d2);
  check_vals(&c.out[0], (double[]){8, -1}, 2, 1e-6);
  case_free(&c);

  /* Singular. */
  case_init(&c, "Det", 1, 1);
  c.in[0] = tensor(PARE_F64, 2, d22, (double[]){1, 2, 2, 4});
  CHECK(case_run(&c) == PARE_OK);
  check_vals(&c.out[0], (double[]){0}, 1, 1e-12);
  case_free(&c);

  /* Not square. */
  int64_t d23[2] = {2, 3};
  case_init(&c, "Det", 1, 1);
  c.in[0] = tensor(PARE_F32, 2, d23, NULL);
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "square");
  case_free(&c);
}

/* ----------------------------------------------------------- GridSample */

/* Samples X = [[1,2],[3,4]] at `n` grid points (x, y pairs). */
static int gridsample_2x2(op_case *c, const double *x, const double *grid, int n, const char *mode,
                          const char *pad, int align) {
  int64_t dx[4] = {1, 1, 2, 2}, dg[4] = {1, 1, n, 2};
  case_init(c, "GridSample", 2, 1);
  c->in[0] = tensor(PARE_F32, 4, dx, x ? x : (double[]){1, 2, 3, 4});
  c->in[1] = tensor(PARE_F32, 4, dg, grid);
  if (mode) pare_node_set_string(c->node, "mode", mode, &c->err);
  if (pad) pare_node_set_string(c->node, "padding_mode", pad, &c->err);
  if (align >= 0) pare_node_set_int(c->node, "align_corners", align, &c->err);
  return case_run(c);
}

static void test_gridsample(void) {
  op_case c;
  /* align_corners: the grid corners hit pixel centers. */
  CHECK_MSG(gridsample_2x2(&c, NULL, (double[]){-1, -1, 1, 1, 0, 0, 1, -1}, 4, NULL, NULL, 1) ==
                PARE_OK,
            "%s", c.err.msg);
  check_shape(&c.out[0], 4, (int64_t[]){1, 1, 1, 4});
  check_vals(&c.out[0], (double[]){1, 4, 2.5, 2}, 4, 1e-6);
  case_free(&c);

  /* Not aligned: (-1,-1) is the outer corner of pixel (0,0), half a pixel
   * outside both ways. zeros: a quarter of pixel 1; border/reflection: 1. */
  static const double g[4] = {-1, -1, 0, 0};
  CHECK(gridsample_2x2(&c, NULL, g, 2, "bilinear", "zeros", 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){0.25, 2.5}, 2, 1e-6);
  case_free(&c);
  CHECK(gridsample_2x2(&c, NULL, g, 2, "bilinear", "border", 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){1, 2.5}, 2, 1e-6);
  case_free(&c);
  CHECK(gridsample_2x2(&c, NULL, g, 2, "bilinear", "reflection", 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){1, 2.5}, 2, 1e-6);
  case_free(&c);

  /* Nearest: x = 0.6 rounds to 1, y = -0.1 to 0: pixel (0, 1). Far outside
   * with border padding clamps to the bottom-right pixel. */
  CHECK(gridsample_2x2(&c, NULL, (double[]){0.1, -0.6, 3, 3}, 2, "nearest", "border", 0) ==
        PARE_OK);
  check_vals(&c.out[0], (double[]){2, 4}, 2, 0);
  case_free(&c);

  /* Bicubic weights sum to one: a constant image stays constant. */
  CHECK(gridsample_2x2(&c, (double[]){5, 5, 5, 5}, (double[]){0.3, -0.2, -0.9, 0.7}, 2, "bicubic",
                       "border", 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){5, 5}, 2, 1e-5);
  case_free(&c);
  /* Bicubic at a pixel center reproduces the pixel. */
  CHECK(gridsample_2x2(&c, NULL, (double[]){1, -1}, 1, "bicubic", "zeros", 1) == PARE_OK);
  check_vals(&c.out[0], (double[]){2}, 1, 1e-6);
  case_free(&c);

  /* Huge and NaN grid values: zeros padding reads zeros, border clamps. */
  static const double wild[4] = {1e30, -1e30, NAN, 0};
  CHECK(gridsample_2x2(&c, NULL, wild, 2, "bicubic", "zeros", 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){0, 0}, 2, 0);
  case_free(&c);
  CHECK(gridsample_2x2(&c, NULL, wild, 2, "nearest", "border", 1) == PARE_OK);
  check_vals(&c.out[0], (double[]){2, 1}, 2, 0);
  case_free(&c);
  CHECK(gridsample_2x2(&c, NULL, wild, 2, "bilinear", "reflection", 0) == PARE_OK);
  CHECK(isfinite(pare_tensor_get_f64(&c.out[0], 0)));
  case_free(&c);

  CHECK(gridsample_2x2(&c, NULL, g, 2, "area", NULL, 0) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "mode");
  case_free(&c);
}

/* ------------------------------------------------------------- RoiAlign */

/* X[1,1,4,4] = 4y + x (exact under bilinear interpolation), one ROI. */
static int roialign_4x4(op_case *c, const double *roi, const char *ctm, const char *mode,
                        int64_t out_hw, int64_t sampling, double scale) {
  double x[16];
  for (int i = 0; i < 16; i++) x[i] = i;
  int64_t dx[4] = {1, 1, 4, 4}, dr[2] = {1, 4}, db[1] = {1};
  case_init(c, "RoiAlign", 3, 1);
  c->in[0] = tensor(PARE_F32, 4, dx, x);
  c->in[1] = tensor(PARE_F32, 2, dr, roi);
  c->in[2] = tensor(PARE_I64, 1, db, (double[]){0});
  if (ctm) pare_node_set_string(c->node, "coordinate_transformation_mode", ctm, &c->err);
  if (mode) pare_node_set_string(c->node, "mode", mode, &c->err);
  pare_node_set_int(c->node, "output_height", out_hw, &c->err);
  pare_node_set_int(c->node, "output_width", out_hw, &c->err);
  pare_node_set_int(c->node, "sampling_ratio", sampling, &c->err);
  if (scale > 0) pare_node_set_float(c->node, "spatial_scale", (float)scale, &c->err);
  return case_run(c);
}

static void test_roialign(void) {
  op_case c;
  static const double roi[4] = {0, 0, 2, 2};
  /* half_pixel: samples at 0 and 1 both ways -> mean of 0, 1, 4, 5. */
  CHECK_MSG(roialign_4x4(&c, roi, NULL, NULL, 1, 2, 0) == PARE_OK, "%s", c.err.msg);
  check_shape(&c.out[0], 4, (int64_t[]){1, 1, 1, 1});
  check_vals(&c.out[0], (double[]){2.5}, 1, 1e-6);
  case_free(&c);
  /* output_half_pixel: samples at 0.5 and 1.5 -> mean of 2.5, 3.5, 6.5, 7.5. */
  CHECK(roialign_4x4(&c, roi, "output_half_pixel", NULL, 1, 2, 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){5}, 1, 1e-6);
  case_free(&c);
  /* spatial_scale halves a twice-as-large ROI; sampling_ratio 0 gives
   * ceil(roi height 2 / 1 bin) = 2 samples per side. */
  CHECK(roialign_4x4(&c, (double[]){0, 0, 4, 4}, "output_half_pixel", NULL, 1, 0, 0.5) == PARE_OK);
  check_vals(&c.out[0], (double[]){5}, 1, 1e-6);
  case_free(&c);
  /* 2x2 output bins of one sample each at bin centers 0.5 and 1.5. */
  CHECK(roialign_4x4(&c, roi, "output_half_pixel", NULL, 2, 1, 0) == PARE_OK);
  check_shape(&c.out[0], 4, (int64_t[]){1, 1, 2, 2});
  check_vals(&c.out[0], (double[]){2.5, 3.5, 6.5, 7.5}, 4, 1e-6);
  case_free(&c);
  /* max: the largest weighted corner of the largest sample (ONNX Runtime's
   * definition): sample (1.5, 1.5) has corners 5, 6, 9, 10 at weight 0.25. */
  CHECK(roialign_4x4(&c, roi, "output_half_pixel", "max", 1, 2, 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){2.5}, 1, 1e-6);
  case_free(&c);

  /* A corrupt ROI asking for billions of samples is refused. */
  CHECK(roialign_4x4(&c, (double[]){0, 0, 1e12, 1e12}, NULL, NULL, 1, 0, 0) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "samples");
  case_free(&c);
  /* An inverted ROI (half_pixel keeps it) samples nothing. */
  CHECK(roialign_4x4(&c, (double[]){2, 2, 0, 0}, NULL, NULL, 1, 0, 0) == PARE_OK);
  check_vals(&c.out[0], (double[]){0}, 1, 0);
  case_free(&c);

  /* Batch index out of range. */
  int64_t dx[4] = {1, 1, 4, 4}, dr[2] = {1, 4}, db[1] = {1};
  case_init(&c, "RoiAlign", 3, 1);
  c.in[0] = tensor(PARE_F32, 4, dx, NULL);
  c.in[1] = tensor(PARE_F32, 2, dr, roi);
  c.in[2] = tensor(PARE_I64, 1, db, (double[]){1});
  CHECK(case_run(&c) == PARE_ERR);
  CHECK_STR_CONTAINS(c.err.msg, "batch index");
  case_free(&c);
}

int main(void) {
  RUN(test_nms);
  RUN(test_nms_infer);
  RUN(test_unique_flat);
  RUN(test_unique_axis);
  RUN(test_unique_infer);
  RUN(test_det);
  RUN(test_gridsample);
  RUN(test_roialign);
  return check_summary();
}
