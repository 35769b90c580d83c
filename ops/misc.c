/*
 * misc.c - ops of the misc family (infer + reference eval):
 *   NonMaxSuppression, Unique and Det here; GridSample and RoiAlign in
 *   ops/misc_sample.c. (MaxUnpool belongs to the nn family, ops/nn_pool.c.)
 *
 * NonMaxSuppression and Unique have data-dependent output shapes: their
 * infer runs the whole computation when the inputs are known and returns
 * PARE_UNKNOWN otherwise.
 */
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Defined in misc_sample.c. */
int pare_misc_gridsample_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                               pare_tensor *out, int n_out, pare_err *err);
int pare_misc_gridsample_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                              pare_tensor *out, int n_out, pare_err *err);
int pare_misc_roialign_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                             pare_tensor *out, int n_out, pare_err *err);
int pare_misc_roialign_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                            pare_tensor *out, int n_out, pare_err *err);

/* Optional input i, NULL when omitted. */
static const pare_tensor *opt_input(const pare_tensor *const *in, int n_in, int i) {
  return i < n_in ? in[i] : NULL;
}

/* Element count of a shape, -1 if the rank or any dim is unknown. */
static int64_t shape_count(const pare_shape *s) {
  if (s->rank < 0) return -1;
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) {
    if (s->dims[i] < 0) return -1;
    n *= s->dims[i];
  }
  return n;
}

/* ---------------------------------------------------- NonMaxSuppression */

/* One candidate box of one (batch, class). */
typedef struct nms_cand {
  float score;
  int64_t box;
} nms_cand;

/* Highest score first; equal scores keep the lower box index first. */
static int nms_cand_cmp(const void *pa, const void *pb) {
  const nms_cand *a = pa, *b = pb;
  if (a->score != b->score) return a->score > b->score ? -1 : 1;
  return (a->box > b->box) - (a->box < b->box);
}

/* Corners of a box as (x_min, y_min, x_max, y_max). */
static void nms_corners(const float *b, int center_point_box, float *c) {
  if (center_point_box) {
    float hw = b[2] / 2, hh = b[3] / 2;
    c[0] = b[0] - hw;
    c[1] = b[1] - hh;
    c[2] = b[0] + hw;
    c[3] = b[1] + hh;
  } else { /* [y1, x1, y2, x2], either diagonal */
    c[0] = fminf(b[1], b[3]);
    c[2] = fmaxf(b[1], b[3]);
    c[1] = fminf(b[0], b[2]);
    c[3] = fmaxf(b[0], b[2]);
  }
}

/* True when the IoU of boxes a and b exceeds the threshold. Degenerate boxes
 * never suppress. Float arithmetic, like ONNX Runtime. */
static int nms_suppresses(const float *a, const float *b, int center_point_box, float iou_thr) {
  float ca[4], cb[4];
  nms_corners(a, center_point_box, ca);
  nms_corners(b, center_point_box, cb);
  float ix0 = fmaxf(ca[0], cb[0]), ix1 = fminf(ca[2], cb[2]);
  if (ix1 <= ix0) return 0;
  float iy0 = fmaxf(ca[1], cb[1]), iy1 = fminf(ca[3], cb[3]);
  if (iy1 <= iy0) return 0;
  float inter = (ix1 - ix0) * (iy1 - iy0);
  if (inter <= 0) return 0;
  float area_a = (ca[2] - ca[0]) * (ca[3] - ca[1]);
  float area_b = (cb[2] - cb[0]) * (cb[3] - cb[1]);
  float uni = area_a + area_b - inter;
  if (area_a <= 0 || area_b <= 0 || uni <= 0) return 0;
  return inter / uni > iou_thr;
}

/* Validates inputs; sets batches/classes/boxes (-1 if unknown). */
static int nms_check(const pare_node *node, const pare_tensor *const *in, int n_in,
                     int64_t *n_batch, int64_t *n_class, int64_t *n_box, pare_err *err) {
  const char *op = "NonMaxSuppression";
  if (pare_need_input(in, n_in, 0, err) || pare_need_input(in, n_in, 1, err))
    return pare_err_prefix(err, "%s", op);
  const pare_tensor *boxes = in[0], *scores = in[1];
  if (boxes->dtype != PARE_F32 || scores->dtype != PARE_F32)
    return pare_errf(err, "%s: boxes and scores must be f32", op);
  int64_t cpb = pare_attr_int(node, "center_point_box", 0);
  if (cpb != 0 && cpb != 1)
    return pare_errf(err, "%s: center_point_box must be 0 or 1, got %lld", op, (long long)cpb);
  *n_batch = *n_class = *n_box = -1;
  if (boxes->shape.rank >= 0) {
    if (boxes->shape.rank != 3 || (boxes->shape.dims[2] >= 0 && boxes->shape.dims[2] != 4))
      return pare_errf(err, "%s: boxes must be [batches, boxes, 4]", op);
    *n_batch = boxes->shape.dims[0];
    *n_box = boxes->shape.dims[1];
  }
  if (scores->shape.rank >= 0) {
    if (scores->shape.rank != 3)
      return pare_errf(err, "%s: scores must be [batches, classes, boxes]", op);
    const int64_t *sd = scores->shape.dims;
    if ((*n_batch >= 0 && sd[0] >= 0 && sd[0] != *n_batch) ||
        (*n_box >= 0 && sd[2] >= 0 && sd[2] != *n_box))
      return pare_errf(err, "%s: boxes and scores disagree on batches or box count", op);
    *n_class = sd[1];
    if (*n_batch < 0) *n_batch = sd[0];
    if (*n_box < 0) *n_box = sd[2];
  }
  const pare_tensor *mo = opt_input(in, n_in, 2), *iou = opt_input(in, n_in, 3),
                    *st = opt_input(in, n_in, 4);
  if (mo && !pare_dtype_is_int(mo->dtype))
    return pare_errf(err, "%s: max_output_boxes_per_class must be an integer", op);
  if ((iou && iou->dtype != PARE_F32) || (st && st->dtype != PARE_F32))
    return pare_errf(err, "%s: iou_threshold and score_threshold must be f32", op);
  const pare_tensor *scalars[3] = {mo, iou, st};
  for (int i = 0; i < 3; i++)
    if (scalars[i] && shape_count(&scalars[i]->shape) > 1)
      return pare_errf(err, "%s: input %d must hold one value", op, i + 2);
  return PARE_OK;
}

/*
 * Runs NMS over known inputs. *count receives the number of selections;
 * the first `cap` of them go to sel (if non-NULL) as (batch, class, box)
 * triples in output order.
 */
static int nms_run(const pare_node *node, const pare_tensor *const *in, int n_in, int64_t n_batch,
                   int64_t n_class, int64_t n_box, int64_t *sel, int64_t cap, int64_t *count,
                   pare_err *err) {
  const pare_tensor *mo = opt_input(in, n_in, 2), *iou = opt_input(in, n_in, 3),
                    *st = opt_input(in, n_in, 4);
  int64_t max_out = mo && pare_tensor_numel(mo) > 0 ? pare_tensor_get_i64(mo, 0) : 0;
  if (max_out < 0) max_out = 0;
  float iou_thr = iou && pare_tensor_numel(iou) > 0 ? ((const float *)iou->data)[0] : 0.0f;
  int has_score_thr = st && pare_tensor_numel(st) > 0;
  float score_thr = has_score_thr ? ((const float *)st->data)[0] : 0.0f;
  int cpb = (int)pare_attr_int(node, "center_point_box", 0);
  *count = 0;
  if (max_out == 0 || n_box == 0) return PARE_OK;
  const float *boxes = in[0]->data, *scores = in[1]->data;
  nms_cand *cand = malloc((size_t)n_box * sizeof *cand);
  int64_t *kept = malloc((size_t)n_box * sizeof *kept);
  if (!cand || !kept) {
    free(cand);
    free(kept);
    return pare_errf(err, "NonMaxSuppression: out of memory");
  }
  for (int64_t b = 0; b < n_batch; b++) {
    const float *bb = boxes + b * n_box * 4;
    for (int64_t c = 0; c < n_class; c++) {
      const float *sc = scores + (b * n_class + c) * n_box;
      int64_t nc = 0, nk = 0;
      for (int64_t i = 0; i < n_box; i++)
        if (!has_score_thr || sc[i] > score_thr) cand[nc++] = (nms_cand){sc[i], i};
      qsort(cand, (size_t)nc, sizeof *cand, nms_cand_cmp);
      for (int64_t i = 0; i < nc && nk < max_out; i++) {
        int keep = 1;
        for (int64_t k = 0; k < nk && keep; k++)
          if (nms_suppresses(bb + cand[i].box * 4, bb + kept[k] * 4, cpb, iou_thr)) keep = 0;
        if (!keep) continue;
        kept[nk++] = cand[i].box;
        if (sel && *count < cap) {
          sel[*count * 3 + 0] = b;
          sel[*count * 3 + 1] = c;
          sel[*count * 3 + 2] = cand[i].box;
        }
        (*count)++;
      }
    }
  }
  free(cand);
  free(kept);
  return PARE_OK;
}

/* 1 when every present input among 0..4 has data. */
static int nms_inputs_known(const pare_tensor *const *in, int n_in) {
  for (int i = 0; i < 5; i++) {
    const pare_tensor *t = opt_input(in, n_in, i);
    if (t && !t->data) return 0;
  }
  return 1;
}

static int nms_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  int64_t nb, nc, nbox, dims[2] = {-1, 3};
  if (nms_check(node, in, n_in, &nb, &nc, &nbox, err)) return PARE_ERR;
  out[0].dtype = PARE_I64;
  const pare_tensor *mo = opt_input(in, n_in, 2);
  /* No max_output_boxes_per_class (or 0) selects nothing, whatever the boxes. */
  if (!mo || (mo->data && (pare_tensor_numel(mo) == 0 || pare_tensor_get_i64(mo, 0) <= 0))) {
    dims[0] = 0;
  } else if (nms_inputs_known(in, n_in) && nb >= 0 && nc >= 0 && nbox >= 0) {
    if (nms_run(node, in, n_in, nb, nc, nbox, NULL, 0, &dims[0], err)) return PARE_ERR;
  }
  out[0].shape = pare_shape_make(2, dims);
  return dims[0] < 0 ? PARE_UNKNOWN : PARE_OK;
}

static int nms_eval(const pare_node *node, const pare_tensor *const *in, int n_in, pare_tensor *out,
                    int n_out, pare_err *err) {
  (void)n_out;
  int64_t nb, nc, nbox, count;
  if (nms_check(node, in, n_in, &nb, &nc, &nbox, err)) return PARE_ERR;
  /* The output was sized by infer; selections past it are only counted. */
  int64_t cap = out[0].shape.dims[0];
  if (nms_run(node, in, n_in, nb, nc, nbox, out[0].data, cap, &count, err)) return PARE_ERR;
  if (count != cap)
    return pare_errf(err, "NonMaxSuppression: selected %lld boxes, output holds %lld",
                     (long long)count, (long long)cap);
  return PARE_OK;
}

/* --------------------------------------------------------------- Unique */

/* Three-way compare of elements i and j of t; NaN equals NaN and sorts
 * after every number (numpy's order). */
static int cmp_elems(const pare_tensor *t, int64_t i, int64_t j) {
  if (pare_dtype_is_float(t->dtype)) {
    double a = pare_tensor_get_f64(t, i), b = pare_tensor_get_f64(t, j);
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
    return (a > b) - (a < b);
  }
  int64_t a = pare_tensor_get_i64(t, i), b = pare_tensor_get_i64(t, j);
  if (t->dtype == PARE_U64) return ((uint64_t)a > (uint64_t)b) - ((uint64_t)a < (uint64_t)b);
  return (a > b) - (a < b);
}

/* X viewed as n slices along the axis: slice s is elements
 * (o * n + s) * inner + i, compared lexicographically in (o, i) order. */
typedef struct unique_view {
  const pare_tensor *x;
  int64_t outer, n, inner;
} unique_view;

static int cmp_slices(const unique_view *v, int64_t a, int64_t b) {
  for (int64_t o = 0; o < v->outer; o++)
    for (int64_t i = 0; i < v->inner; i++) {
      int c = cmp_elems(v->x, (o * v->n + a) * v->inner + i, (o * v->n + b) * v->inner + i);
      if (c) return c;
    }
  return 0;
}

/* Stable merge sort of idx[0..n) by slice order (tmp: scratch of n). */
static void sort_slices(const unique_view *v, int64_t *idx, int64_t *tmp, int64_t n) {
  if (n < 2) return;
  int64_t h = n / 2;
  sort_slices(v, idx, tmp, h);
  sort_slices(v, idx + h, tmp, n - h);
  int64_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = cmp_slices(v, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
  while (i < h) tmp[k++] = idx[i++];
  while (j < n) tmp[k++] = idx[j++];
  memcpy(idx, tmp, (size_t)n * sizeof *idx);
}

/* Result of Unique over known data. first[u]: index of the first occurrence
 * of unique slice u; counts[u]; inverse[s]: unique index of slice s. */
typedef struct unique_result {
  int64_t n_unique;
  int64_t *first, *counts, *inverse;
} unique_result;

static void unique_result_free(unique_result *r) {
  free(r->first);
  free(r->counts);
  free(r->inverse);
  memset(r, 0, sizeof *r);
}

static int unique_view_make(const pare_node *node, const pare_tensor *x, int *axis, unique_view *v,
                            pare_err *err) {
  v->x = x;
  v->outer = v->inner = 1;
  v->n = shape_count(&x->shape);
  *axis = -1;
  const pare_attr *a = pare_node_attr(node, "axis");
  if (!a) return PARE_OK;
  if (x->shape.rank < 0) return PARE_OK;
  if (pare_norm_axis(a->i, x->shape.rank, axis, err)) return pare_err_prefix(err, "Unique");
  v->n = x->shape.dims[*axis];
  for (int i = 0; i < *axis; i++) v->outer *= x->shape.dims[i];
  for (int i = *axis + 1; i < x->shape.rank; i++) v->inner *= x->shape.dims[i];
  return PARE_OK;
}

static int unique_run(const pare_node *node, const unique_view *v, unique_result *r,
                      pare_err *err) {
  int64_t n = v->n, m = n > 0 ? n : 1;
  int sorted = pare_attr_int(node, "sorted", 1) != 0;
  memset(r, 0, sizeof *r);
  int64_t *order = malloc((size_t)m * sizeof *order), *tmp = malloc((size_t)m * sizeof *tmp);
  r->first = malloc((size_t)m * sizeof *r->first);
  r->counts = malloc((size_t)m * sizeof *r->counts);
  r->inverse = malloc((size_t)m * sizeof *r->inverse);
  if (!order || !tmp || !r->first || !r->counts || !r->inverse) {
    free(order);
    free(tmp);
    unique_result_free(r);
    return pare_errf(err, "Unique: out of memory");
  }
  for (int64_t i = 0; i < n; i++) order[i] = i;
  sort_slices(v, order, tmp, n);
  /* Groups of equal slices in sorted order; stability makes the group's
   * first member its first occurrence. tmp[s] = sorted group of slice s. */
  int64_t g = -1;
  for (int64_t k = 0; k < n; k++) {
    if (k == 0 || cmp_slices(v, order[k - 1], order[k]) != 0) {
      g++;
      r->first[g] = order[k];
      r->counts[g] = 0;
    }
    r->counts[g]++;
    tmp[order[k]] = g;
  }
  r->n_unique = g + 1;
  if (sorted) {
    for (int64_t s = 0; s < n; s++) r->inverse[s] = tmp[s];
  } else {
    /* Renumber groups by first occurrence: scanning slices in order, a
     * group is numbered when its first member is met. */
    int64_t *renum = order, *first = malloc((size_t)m * sizeof *first),
            *counts = malloc((size_t)m * sizeof *counts);
    if (!first || !counts) {
      free(first);
      free(counts);
      free(order);
      free(tmp);
      unique_result_free(r);
      return pare_errf(err, "Unique: out of memory");
    }
    for (int64_t u = 0; u < r->n_unique; u++) renum[u] = -1;
    int64_t next = 0;
    for (int64_t s = 0; s < n; s++) {
      int64_t grp = tmp[s];
      if (renum[grp] < 0) {
        renum[grp] = next;
        first[next] = r->first[grp];
        counts[next] = r->counts[grp];
        next++;
      }
      r->inverse[s] = renum[grp];
    }
    free(r->first);
    free(r->counts);
    r->first = first;
    r->counts = counts;
  }
  free(order);
  free(tmp);
  return PARE_OK;
}

static int unique_check(const pare_tensor *const *in, int n_in, pare_err *err) {
  if (pare_need_input(in, n_in, 0, err)) return pare_err_prefix(err, "Unique");
  pare_dtype dt = in[0]->dtype;
  if (!(pare_dtype_is_int(dt) || dt == PARE_F32 || dt == PARE_F64 || dt == PARE_BOOL))
    return pare_errf(err, "Unique: unsupported dtype %s", pare_dtype_name(dt));
  return PARE_OK;
}

/* Output shapes for n_unique slices (-1: unknown). */
static void unique_shapes(const pare_tensor *x, int axis, int64_t n_slices, int64_t n_unique,
                          pare_tensor *out, int n_out) {
  pare_shape y;
  if (axis < 0) {
    y = pare_shape_make(1, &n_unique);
  } else {
    y = x->shape;
    y.dims[axis] = n_unique;
  }
  out[0].dtype = x->dtype;
  out[0].shape = y;
  for (int i = 1; i < n_out && i < 4; i++) {
    out[i].dtype = PARE_I64;
    out[i].shape = pare_shape_make(1, i == 2 ? &n_slices : &n_unique);
  }
}

static int unique_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  if (unique_check(in, n_in, err)) return PARE_ERR;
  const pare_tensor *x = in[0];
  int axis;
  unique_view v;
  if (unique_view_make(node, x, &axis, &v, err)) return PARE_ERR;
  if (x->shape.rank < 0) {
    for (int i = 0; i < n_out; i++) {
      out[i].dtype = i ? PARE_I64 : x->dtype;
      out[i].shape = i || !pare_node_attr(node, "axis") ? pare_shape_make(1, (int64_t[]){-1})
                                                        : pare_shape_unknown();
    }
    return PARE_UNKNOWN;
  }
  int64_t n_unique = -1;
  if (x->data && v.n >= 0) {
    unique_result r;
    if (unique_run(node, &v, &r, err)) return PARE_ERR;
    n_unique = r.n_unique;
    unique_result_free(&r);
  }
  unique_shapes(x, axis, v.n, n_unique, out, n_out);
  for (int i = 0; i < n_out; i++)
    if (!pare_shape_is_static(&out[i].shape)) return PARE_UNKNOWN;
  return PARE_OK;
}

static int unique_eval(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  if (unique_check(in, n_in, err)) return PARE_ERR;
  const pare_tensor *x = in[0];
  int axis;
  unique_view v;
  if (unique_view_make(node, x, &axis, &v, err)) return PARE_ERR;
  unique_result r;
  if (unique_run(node, &v, &r, err)) return PARE_ERR;
  int64_t want = axis < 0 ? out[0].shape.dims[0] : out[0].shape.dims[axis];
  if (want != r.n_unique) {
    unique_result_free(&r);
    return pare_errf(err, "Unique: found %lld unique values, output holds %lld",
                     (long long)r.n_unique, (long long)want);
  }
  size_t es = pare_dtype_size(x->dtype);
  const char *src = x->data;
  char *dst = out[0].data;
  for (int64_t o = 0; o < v.outer; o++)
    for (int64_t u = 0; u < r.n_unique; u++)
      memcpy(dst + ((o * r.n_unique + u) * v.inner) * es,
             src + ((o * v.n + r.first[u]) * v.inner) * es, (size_t)v.inner * es);
  if (n_out > 1) memcpy(out[1].data, r.first, (size_t)r.n_unique * sizeof(int64_t));
  if (n_out > 2) memcpy(out[2].data, r.inverse, (size_t)v.n * sizeof(int64_t));
  if (n_out > 3) memcpy(out[3].data, r.counts, (size_t)r.n_unique * sizeof(int64_t));
  unique_result_free(&r);
  return PARE_OK;
}

/* ------------------------------------------------------------------ Det */

static int det_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_out;
  if (pare_need_input(in, n_in, 0, err)) return pare_err_prefix(err, "Det");
  const pare_tensor *x = in[0];
  if (x->dtype != PARE_F32 && x->dtype != PARE_F64)
    return pare_errf(err, "Det: unsupported dtype %s", pare_dtype_name(x->dtype));
  out[0].dtype = x->dtype;
  if (x->shape.rank < 0) {
    out[0].shape = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  int r = x->shape.rank;
  if (r < 2) return pare_errf(err, "Det: input has rank %d, expected at least 2", r);
  int64_t m = x->shape.dims[r - 2], k = x->shape.dims[r - 1];
  if (m >= 0 && k >= 0 && m != k)
    return pare_errf(err, "Det: matrices are %lldx%lld, not square", (long long)m, (long long)k);
  out[0].shape = pare_shape_make(r - 2, x->shape.dims);
  return pare_shape_is_static(&out[0].shape) && m >= 0 && k >= 0 ? PARE_OK : PARE_UNKNOWN;
}

/* Determinant of the m x m matrix a (destroyed) by LU with partial pivoting. */
static double det_lu(double *a, int64_t m) {
  double det = 1;
  for (int64_t c = 0; c < m; c++) {
    int64_t p = c;
    for (int64_t r = c + 1; r < m; r++)
      if (fabs(a[r * m + c]) > fabs(a[p * m + c])) p = r;
    if (a[p * m + c] == 0) return 0;
    if (p != c) {
      for (int64_t j = 0; j < m; j++) {
        double t = a[c * m + j];
        a[c * m + j] = a[p * m + j];
        a[p * m + j] = t;
      }
      det = -det;
    }
    double piv = a[c * m + c];
    det *= piv;
    for (int64_t r = c + 1; r < m; r++) {
      double f = a[r * m + c] / piv;
      for (int64_t j = c + 1; j < m; j++) a[r * m + j] -= f * a[c * m + j];
    }
  }
  return det;
}

static int det_eval(const pare_node *node, const pare_tensor *const *in, int n_in, pare_tensor *out,
                    int n_out, pare_err *err) {
  (void)node, (void)n_in, (void)n_out;
  const pare_tensor *x = in[0];
  int64_t m = x->shape.dims[x->shape.rank - 1], batch = pare_tensor_numel(&out[0]);
  double *a = malloc((size_t)(m * m > 0 ? m * m : 1) * sizeof *a);
  if (!a) return pare_errf(err, "Det: out of memory");
  for (int64_t b = 0; b < batch; b++) {
    for (int64_t i = 0; i < m * m; i++) a[i] = pare_tensor_get_f64(x, b * m * m + i);
    pare_tensor_set_f64(&out[0], b, det_lu(a, m));
  }
  free(a);
  return PARE_OK;
}

/* ---------------------------------------------------------------- table */

const pare_op_def pare_ops_misc[] = {
    {"NonMaxSuppression", nms_infer, nms_eval},
    {"Unique", unique_infer, unique_eval},
    {"Det", det_infer, det_eval},
    {"GridSample", pare_misc_gridsample_infer, pare_misc_gridsample_eval},
    {"RoiAlign", pare_misc_roialign_infer, pare_misc_roialign_eval},
    {0, 0, 0},
};
