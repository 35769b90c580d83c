/*
 * normalize.c - rewrites opset-dependent op forms into the canonical (opset 18)
 * forms of ops/ops.h, so kernels implement one semantics per op.
 *
 * Attributes that later opsets turned into inputs become new constant values
 * with fresh names "<node>_<what>"; Upsample becomes Resize; Softmax-family
 * nodes of opset < 13 (which flatten to 2-D at `axis`) become one-axis ops.
 */
#include "frontend/frontend_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct norm {
  pare_graph *g;
  int64_t opset;
} norm;

/* --------------------------------------------------------------- helpers */

/* Writes a value name "<base>_<what>" not yet used in g (suffix _2, _3...). */
static void unique_name(const pare_graph *g, const char *base, const char *what, char *buf,
                        size_t len) {
  snprintf(buf, len, "%s_%s", base, what);
  for (int k = 2; pare_graph_find_value(g, buf) >= 0; k++)
    snprintf(buf, len, "%s_%s_%d", base, what, k);
}

static int add_const(pare_graph *g, const pare_node *n, const char *what, pare_tensor *t,
                     pare_err *err) {
  if (!t) return PARE_ERR;
  char name[512];
  unique_name(g, n->name, what, name, sizeof name);
  return pare_graph_add_const(g, name, t, err);
}

/* New 1-D i64 constant holding v[0..count). Returns its value index. */
static int const_i64s(pare_graph *g, const pare_node *n, const char *what, const int64_t *v,
                      int64_t count, pare_err *err) {
  pare_shape s = pare_shape_make(1, &count);
  pare_tensor *t = pare_tensor_new(PARE_I64, &s, err);
  if (t && count) memcpy(t->data, v, (size_t)count * sizeof *v);
  return add_const(g, n, what, t, err);
}

static int const_f32s(pare_graph *g, const pare_node *n, const char *what, const float *v,
                      int64_t count, pare_err *err) {
  pare_shape s = pare_shape_make(1, &count);
  pare_tensor *t = pare_tensor_new(PARE_F32, &s, err);
  if (t && count) memcpy(t->data, v, (size_t)count * sizeof *v);
  return add_const(g, n, what, t, err);
}

static int const_scalar(pare_graph *g, const pare_node *n, const char *what, pare_dtype dt,
                        double v, pare_err *err) {
  pare_shape s = pare_shape_make(0, NULL);
  pare_tensor *t = pare_tensor_new(dt, &s, err);
  if (t) pare_tensor_set_f64(t, 0, v);
  return add_const(g, n, what, t, err);
}

/* dtype of input i if known and numeric, else f32 (old float-only op forms). */
static pare_dtype input_dtype(const pare_graph *g, const pare_node *n, int i) {
  int v = i < n->n_inputs ? n->inputs[i] : -1;
  pare_dtype dt = v >= 0 ? g->values[v]->dtype : PARE_UNDEFINED;
  return pare_dtype_size(dt) && dt != PARE_BOOL ? dt : PARE_F32;
}

/* Sets input `slot` to `value`, growing the input list with omitted (-1) entries. */
static int set_input(pare_node *n, int slot, int value, pare_err *err) {
  if (value < 0 && slot >= n->n_inputs) return PARE_OK;
  if (slot >= n->n_inputs) {
    int *grown = realloc(n->inputs, (size_t)(slot + 1) * sizeof *grown);
    if (!grown) return pare_errf(err, "out of memory");
    for (int j = n->n_inputs; j < slot; j++) grown[j] = -1;
    n->inputs = grown;
    n->n_inputs = slot + 1;
  }
  n->inputs[slot] = value;
  return PARE_OK;
}

/* Moves INTS attribute `attr` (if present) to a 1-D i64 constant input `slot`. */
static int ints_attr_to_input(pare_graph *g, pare_node *n, const char *attr, int slot,
                              pare_err *err) {
  const int64_t *v;
  int64_t count = pare_attr_ints(n, attr, &v);
  if (count < 0) return PARE_OK;
  int c = const_i64s(g, n, attr, v, count, err);
  if (c < 0 || set_input(n, slot, c, err)) return PARE_ERR;
  pare_node_remove_attr(n, attr);
  return PARE_OK;
}

static int require_attr(const pare_node *n, const char *attr, pare_err *err) {
  if (pare_node_attr(n, attr)) return PARE_OK;
  return pare_errf(err, "missing required attribute '%s'", attr);
}

/* ------------------------------------------------------------ rewrites */

/* Clip < 11: min/max attributes -> scalar inputs 1 and 2. */
static int clip_inputs(pare_graph *g, pare_node *n, pare_err *err) {
  pare_dtype dt = input_dtype(g, n, 0);
  const char *names[2] = {"min", "max"};
  for (int k = 0; k < 2; k++) {
    if (!pare_node_attr(n, names[k])) continue;
    int c = const_scalar(g, n, names[k], dt, pare_attr_float(n, names[k], 0), err);
    if (c < 0 || set_input(n, 1 + k, c, err)) return PARE_ERR;
    pare_node_remove_attr(n, names[k]);
  }
  return PARE_OK;
}

/* Pad < 11: pads (opset 1: paddings) and value attributes -> inputs 1 and 2. */
static int pad_inputs(pare_graph *g, pare_node *n, pare_err *err) {
  const char *pads = pare_node_attr(n, "pads") ? "pads" : "paddings";
  if (require_attr(n, pads, err) || ints_attr_to_input(g, n, pads, 1, err)) return PARE_ERR;
  if (pare_node_attr(n, "value")) {
    int c = const_scalar(g, n, "value", input_dtype(g, n, 0), pare_attr_float(n, "value", 0), err);
    if (c < 0 || set_input(n, 2, c, err)) return PARE_ERR;
    pare_node_remove_attr(n, "value");
  }
  return PARE_OK;
}

/* Slice < 10: starts/ends/axes attributes -> inputs 1..3. */
static int slice_inputs(pare_graph *g, pare_node *n, pare_err *err) {
  if (require_attr(n, "starts", err) || require_attr(n, "ends", err)) return PARE_ERR;
  if (ints_attr_to_input(g, n, "starts", 1, err) || ints_attr_to_input(g, n, "ends", 2, err) ||
      ints_attr_to_input(g, n, "axes", 3, err))
    return PARE_ERR;
  return PARE_OK;
}

/* Split: split attribute -> input 1; without sizes, opset 18 wants num_outputs. */
static int split_inputs(norm *N, pare_node *n, pare_err *err) {
  if (N->opset < 13 && ints_attr_to_input(N->g, n, "split", 1, err)) return PARE_ERR;
  int has_sizes = n->n_inputs > 1 && n->inputs[1] >= 0;
  if (N->opset < 18 && !has_sizes && !pare_node_attr(n, "num_outputs"))
    return pare_node_set_int(n, "num_outputs", n->n_outputs, err);
  return PARE_OK;
}

/* TopK < 10: k attribute -> 1-D i64 input 1. */
static int topk_input(pare_graph *g, pare_node *n, pare_err *err) {
  if (require_attr(n, "k", err)) return PARE_ERR;
  int64_t k = pare_attr_int(n, "k", 0);
  int c = const_i64s(g, n, "k", &k, 1, err);
  if (c < 0 || set_input(n, 1, c, err)) return PARE_ERR;
  pare_node_remove_attr(n, "k");
  return PARE_OK;
}

/* Resize 10 and Upsample use asymmetric coordinates (and floor for nearest). */
static int legacy_resize_attrs(pare_node *n, pare_err *err) {
  char mode[32];
  snprintf(mode, sizeof mode, "%s", pare_attr_string(n, "mode", "nearest"));
  if (strcmp(mode, "bilinear") == 0) snprintf(mode, sizeof mode, "linear"); /* Upsample-1 name */
  if (pare_node_set_string(n, "mode", mode, err) ||
      pare_node_set_string(n, "coordinate_transformation_mode", "asymmetric", err))
    return PARE_ERR;
  if (strcmp(mode, "nearest") == 0) return pare_node_set_string(n, "nearest_mode", "floor", err);
  return PARE_OK;
}

/* Resize 10: (X, scales) -> (X, roi omitted, scales). */
static int resize10(pare_node *n, pare_err *err) {
  int scales = n->n_inputs > 1 ? n->inputs[1] : -1;
  if (scales < 0) return pare_errf(err, "Resize-10 needs a scales input");
  if (set_input(n, 1, -1, err) || set_input(n, 2, scales, err)) return PARE_ERR;
  return legacy_resize_attrs(n, err);
}

/* Scales of an Upsample node: input 1 (opset 9+), `scales` (7-8) or height/width_scale (1). */
static int upsample_scales(norm *N, pare_node *n, pare_err *err) {
  if (N->opset >= 9) {
    if (n->n_inputs < 2 || n->inputs[1] < 0) return pare_errf(err, "Upsample needs a scales input");
    return n->inputs[1];
  }
  const float *v;
  int64_t count = pare_attr_floats(n, "scales", &v);
  if (count >= 0) return const_f32s(N->g, n, "scales", v, count, err);
  if (require_attr(n, "height_scale", err) || require_attr(n, "width_scale", err)) return PARE_ERR;
  float hw[4] = {1, 1, pare_attr_float(n, "height_scale", 1), pare_attr_float(n, "width_scale", 1)};
  return const_f32s(N->g, n, "scales", hw, 4, err);
}

static int upsample_to_resize(norm *N, pare_node *n, pare_err *err) {
  int scales = upsample_scales(N, n, err);
  if (scales < 0) return PARE_ERR;
  char *op = pare_strdup("Resize");
  if (!op) return pare_errf(err, "out of memory");
  free(n->op);
  n->op = op;
  pare_node_remove_attr(n, "scales");
  pare_node_remove_attr(n, "height_scale");
  pare_node_remove_attr(n, "width_scale");
  if (set_input(n, 1, -1, err) || set_input(n, 2, scales, err)) return PARE_ERR;
  return legacy_resize_attrs(n, err);
}

static int value_rank(const pare_graph *g, int v, int depth);

static int is_rank_preserving(const char *op) {
  static const char *const ops[] = {"Relu",
                                    "Sigmoid",
                                    "Tanh",
                                    "Exp",
                                    "Log",
                                    "Sqrt",
                                    "Abs",
                                    "Neg",
                                    "Erf",
                                    "Clip",
                                    "Cast",
                                    "Identity",
                                    "Dropout",
                                    "LeakyRelu",
                                    "Elu",
                                    "Selu",
                                    "HardSigmoid",
                                    "HardSwish",
                                    "Softmax",
                                    "LogSoftmax",
                                    "Softplus",
                                    "Reciprocal",
                                    "BatchNormalization",
                                    "LayerNormalization",
                                    "Gelu",
                                    "Slice",
                                    NULL};
  for (const char *const *p = ops; *p; p++)
    if (strcmp(op, *p) == 0) return 1;
  return 0;
}

static int is_broadcasting_binary(const char *op) {
  static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", NULL};
  for (const char *const *p = ops; *p; p++)
    if (strcmp(op, *p) == 0) return 1;
  return 0;
}

/* Number of axes of a Squeeze/Unsqueeze (constant input 1 or attribute), -1 if unknown. */
static int64_t axes_count(const pare_graph *g, const pare_node *p) {
  const int64_t *axes;
  int64_t n = pare_attr_ints(p, "axes", &axes);
  if (n >= 0) return n;
  const pare_tensor *t =
      p->n_inputs > 1 && p->inputs[1] >= 0 ? g->values[p->inputs[1]]->init : NULL;
  return t && t->shape.rank == 1 ? t->shape.dims[0] : -1;
}

/* Rank a node's output is known to have from its inputs, or -1. Covers the
 * ops that typically feed a Softmax (attention scores, logits). */
static int producer_rank(const pare_graph *g, const pare_node *p, int depth) {
  int r0 = p->n_inputs > 0 ? value_rank(g, p->inputs[0], depth) : -1;
  if (is_rank_preserving(p->op)) return r0;
  int r1 = p->n_inputs > 1 ? value_rank(g, p->inputs[1], depth) : -1;
  if (is_broadcasting_binary(p->op)) return r0 >= 0 && r1 >= 0 ? (r0 > r1 ? r0 : r1) : -1;
  if (strcmp(p->op, "MatMul") == 0) return r0 >= 2 && r1 >= 2 ? (r0 > r1 ? r0 : r1) : -1;
  if (strcmp(p->op, "Transpose") == 0) {
    const int64_t *perm;
    int64_t n = pare_attr_ints(p, "perm", &perm);
    return n >= 0 ? (int)n : r0;
  }
  if (strcmp(p->op, "Squeeze") == 0 || strcmp(p->op, "Unsqueeze") == 0) {
    int64_t n_axes = axes_count(g, p);
    if (r0 < 0 || n_axes < 0) return -1;
    int r = strcmp(p->op, "Squeeze") == 0 ? r0 - (int)n_axes : r0 + (int)n_axes;
    return r >= 0 && r <= PARE_MAX_RANK ? r : -1;
  }
  if (strcmp(p->op, "Reshape") == 0 && p->n_inputs > 1 && p->inputs[1] >= 0) {
    const pare_tensor *shape = g->values[p->inputs[1]]->init;
    if (shape && shape->shape.rank == 1) return (int)shape->shape.dims[0];
  }
  return -1;
}

/* Known rank of value v (declared, constant, or derived through a few
 * producers), -1 if unknown. Producers must be current (graph toposorted). */
static int value_rank(const pare_graph *g, int v, int depth) {
  if (v < 0 || depth > 32) return -1;
  const pare_value *val = g->values[v];
  if (val->shape.rank >= 0) return val->shape.rank;
  if (val->init) return val->init->shape.rank;
  if (val->producer < 0 || !g->nodes[val->producer]->op) return -1;
  return producer_rank(g, g->nodes[val->producer], depth + 1);
}

/* 1 if the opset<13 `axis` of a Softmax-family node is the input's last dim. */
static int softmax_axis_is_last(const pare_graph *g, const pare_node *n, int64_t axis) {
  if (axis == -1) return 1;
  int rank = n->n_inputs > 0 ? value_rank(g, n->inputs[0], 0) : -1;
  if (rank < 0 && n->n_outputs > 0 && n->outputs[0] >= 0)
    rank = g->values[n->outputs[0]]->shape.rank; /* output has the input's shape */
  return rank >= 0 && (axis == rank - 1 || axis + rank == rank - 1);
}

static int add_value_named(pare_graph *g, const pare_node *n, const char *what, pare_dtype dt,
                           pare_err *err) {
  char name[512];
  unique_name(g, n->name, what, name, sizeof name);
  return pare_graph_add_value(g, name, dt, NULL, err);
}

static int add_node_named(pare_graph *g, const char *op, const pare_node *n, const char *what,
                          const int *ins, int n_ins, int out, pare_err *err) {
  char name[512];
  snprintf(name, sizeof name, "%s_%s", n->name, what);
  return pare_graph_add_node(g, op, name, ins, n_ins, &out, 1, err);
}

/* Softmax/LogSoftmax/Hardmax < 13 along a non-last axis:
 * Y = Reshape(op(Flatten(X, axis), axis=-1), Shape(X)). */
static int softmax_flatten(pare_graph *g, int k, int64_t axis, pare_err *err) {
  pare_node *n = g->nodes[k];
  if (n->n_inputs < 1 || n->inputs[0] < 0 || n->n_outputs < 1 || n->outputs[0] < 0)
    return pare_errf(err, "needs one input and one output");
  int x = n->inputs[0], y = n->outputs[0];
  pare_dtype dt = g->values[x]->dtype;
  int shp = add_value_named(g, n, "in_shape", PARE_I64, err);
  int flat = add_value_named(g, n, "flat", dt, err);
  int soft = add_value_named(g, n, "flat_out", dt, err);
  if (shp < 0 || flat < 0 || soft < 0) return PARE_ERR;
  if (add_node_named(g, "Shape", n, "shape", &x, 1, shp, err) < 0) return PARE_ERR;
  int fl = add_node_named(g, "Flatten", n, "flatten", &x, 1, flat, err);
  if (fl < 0 || pare_node_set_int(g->nodes[fl], "axis", axis, err)) return PARE_ERR;
  int back[2] = {soft, shp};
  if (add_node_named(g, "Reshape", n, "reshape", back, 2, y, err) < 0) return PARE_ERR;
  n->inputs[0] = flat;
  n->outputs[0] = soft;
  return pare_node_set_int(n, "axis", -1, err);
}

static int softmax_family(pare_graph *g, int k, pare_err *err) {
  pare_node *n = g->nodes[k];
  int64_t axis = pare_attr_int(n, "axis", 1);
  if (softmax_axis_is_last(g, n, axis)) return pare_node_set_int(n, "axis", -1, err);
  return softmax_flatten(g, k, axis, err);
}

/* BatchNormalization: legacy attributes dropped; unused training outputs trimmed. */
static int batchnorm(pare_graph *g, pare_node *n) {
  pare_node_remove_attr(n, "spatial");
  pare_node_remove_attr(n, "is_test");
  while (n->n_outputs > 1) {
    int v = n->outputs[n->n_outputs - 1];
    if (v >= 0 && pare_graph_use_count(g, v) > 0) break;
    n->n_outputs--;
  }
  return PARE_OK;
}

/* Cast < 6: `to` was a type name string. */
static int cast_to_enum(pare_node *n, pare_err *err) {
  static const char *names[] = {"UNDEFINED", "FLOAT",  "UINT8",  "INT8",   "UINT16",
                                "INT16",     "INT32",  "INT64",  "STRING", "BOOL",
                                "FLOAT16",   "DOUBLE", "UINT32", "UINT64"};
  const char *to = pare_attr_string(n, "to", NULL);
  if (!to) return PARE_OK;
  for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
    if (strcasecmp(to, names[i]) == 0) return pare_node_set_int(n, "to", i, err);
  return pare_errf(err, "unknown Cast target type '%s'", to);
}

/* Appends k trailing 1-dims to input 1 of n: a reshaped copy if it is a
 * constant, else an Unsqueeze node (axes rb..rb+k-1). */
static int append_unit_dims(pare_graph *g, pare_node *n, int rb, int k, pare_err *err) {
  int b = n->inputs[1];
  const pare_tensor *init = g->values[b]->init;
  if (init) {
    pare_tensor *t = pare_tensor_clone(init, err);
    if (!t) return PARE_ERR;
    for (int j = 0; j < k; j++) t->shape.dims[rb + j] = 1;
    t->shape.rank = rb + k;
    int c = add_const(g, n, "bcast", t, err);
    return c < 0 ? PARE_ERR : set_input(n, 1, c, err);
  }
  int64_t axes[PARE_MAX_RANK];
  for (int j = 0; j < k; j++) axes[j] = rb + j;
  int ax = const_i64s(g, n, "bcast_axes", axes, k, err);
  int out = add_value_named(g, n, "bcast", g->values[b]->dtype, err);
  if (ax < 0 || out < 0) return PARE_ERR;
  int ins[2] = {b, ax};
  if (add_node_named(g, "Unsqueeze", n, "bcast", ins, 2, out, err) < 0) return PARE_ERR;
  return set_input(n, 1, out, err);
}

/* Opset < 7 elementwise ops: `broadcast`=1 with `axis` aligned B's dims with
 * A's starting at axis; numpy semantics align trailing dims, so B gets
 * trailing 1-dims. Without axis the two agree. */
static int legacy_broadcast(pare_graph *g, pare_node *n, pare_err *err) {
  int bcast = (int)pare_attr_int(n, "broadcast", 0);
  int has_axis = pare_node_attr(n, "axis") != NULL;
  int64_t axis = pare_attr_int(n, "axis", 0);
  pare_node_remove_attr(n, "broadcast");
  if (!bcast || !has_axis) return PARE_OK;
  pare_node_remove_attr(n, "axis");
  int ra = n->n_inputs > 1 ? value_rank(g, n->inputs[0], 0) : -1;
  int rb = n->n_inputs > 1 ? value_rank(g, n->inputs[1], 0) : -1;
  if (ra < 0 || rb < 0)
    return pare_errf(err, "legacy broadcast with an axis (opset < 7) needs known input ranks");
  if (axis < 0) axis += ra;
  int k = ra - (int)axis - rb;
  if (axis < 0 || k < 0)
    return pare_errf(err, "legacy broadcast axis %lld does not fit ranks %d and %d",
                     (long long)axis, ra, rb);
  return k == 0 ? PARE_OK : append_unit_dims(g, n, rb, k, err);
}

/* PRelu < 7: a 1-D slope [C] applied along the channel axis (1); numpy
 * broadcasting needs it as [C,1,...,1]. */
static int legacy_prelu(pare_graph *g, pare_node *n, pare_err *err) {
  int rx = n->n_inputs > 1 ? value_rank(g, n->inputs[0], 0) : -1;
  int rs = n->n_inputs > 1 ? value_rank(g, n->inputs[1], 0) : -1;
  if (rs != 1 || rx <= 2) return PARE_OK;
  return append_unit_dims(g, n, 1, rx - 2, err);
}

static int rename_op(pare_node *n, const char *op, pare_err *err) {
  char *copy = pare_strdup(op);
  if (!copy) return pare_errf(err, "out of memory");
  free(n->op);
  n->op = copy;
  return PARE_OK;
}

static int is_one_of(const char *op, const char *const *list) {
  for (; *list; list++)
    if (strcmp(op, *list) == 0) return 1;
  return 0;
}

static int normalize_legacy(norm *N, pare_node *n, pare_err *err) {
  static const char *const broadcasting[] = {"Add", "Sub",     "Mul",  "Div",   "Pow",  "And", "Or",
                                             "Xor", "Greater", "Less", "Equal", "Gemm", NULL};
  const char *op = n->op;
  if (N->opset < 7 && is_one_of(op, broadcasting)) return legacy_broadcast(N->g, n, err);
  if (N->opset < 7 && strcmp(op, "PRelu") == 0) return legacy_prelu(N->g, n, err);
  if (N->opset < 6 && strcmp(op, "Cast") == 0) return cast_to_enum(n, err);
  if (N->opset < 5 && strcmp(op, "Reshape") == 0)
    return ints_attr_to_input(N->g, n, "shape", 1, err);
  if (N->opset < 4 && strcmp(op, "Concat") == 0 && !pare_node_attr(n, "axis"))
    return pare_node_set_int(n, "axis", 1, err);
  if (strcmp(op, "Scatter") == 0) return rename_op(n, "ScatterElements", err);
  return PARE_OK;
}

static int normalize_node(norm *N, int k, pare_err *err) {
  pare_graph *g = N->g;
  pare_node *n = g->nodes[k];
  const char *op = n->op;
  if (!op || (n->domain && *n->domain)) return PARE_OK;
  pare_node_remove_attr(n, "consumed_inputs"); /* opset < 6 bookkeeping */
  if (strcmp(op, "Clip") == 0) return N->opset < 11 ? clip_inputs(g, n, err) : PARE_OK;
  if (strcmp(op, "Pad") == 0) return N->opset < 11 ? pad_inputs(g, n, err) : PARE_OK;
  if (strcmp(op, "Slice") == 0) return N->opset < 10 ? slice_inputs(g, n, err) : PARE_OK;
  if (strcmp(op, "Split") == 0) return split_inputs(N, n, err);
  if (strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0)
    return N->opset < 13 ? ints_attr_to_input(g, n, "axes", 1, err) : PARE_OK;
  if (strncmp(op, "Reduce", 6) == 0) return ints_attr_to_input(g, n, "axes", 1, err);
  if (strcmp(op, "TopK") == 0) return N->opset < 10 ? topk_input(g, n, err) : PARE_OK;
  if (strcmp(op, "Resize") == 0) return N->opset < 11 ? resize10(n, err) : PARE_OK;
  /* RoiAlign before opset 16 had no coordinate_transformation_mode and
   * behaved as "output_half_pixel"; the opset-16 default is half_pixel. */
  if (strcmp(op, "RoiAlign") == 0 && N->opset < 16 &&
      !pare_node_attr(n, "coordinate_transformation_mode"))
    return pare_node_set_string(n, "coordinate_transformation_mode", "output_half_pixel", err);
  if (strcmp(op, "Upsample") == 0) return upsample_to_resize(N, n, err);
  if (strcmp(op, "Softmax") == 0 || strcmp(op, "LogSoftmax") == 0 || strcmp(op, "Hardmax") == 0)
    return N->opset < 13 ? softmax_family(g, k, err) : PARE_OK;
  if (strcmp(op, "BatchNormalization") == 0) return batchnorm(g, n);
  if (strcmp(op, "Dropout") == 0) {
    pare_node_remove_attr(n, "is_test");
    if (N->opset < 12) pare_node_remove_attr(n, "ratio"); /* inference: identity */
    return PARE_OK;
  }
  return normalize_legacy(N, n, err);
}

int pare_fe_normalize(pare_graph *g, int64_t opset, pare_err *err) {
  norm N = {g, opset};
  int count = g->n_nodes; /* nodes appended by rewrites are canonical already */
  for (int k = 0; k < count; k++) {
    if (normalize_node(&N, k, err)) {
      const pare_node *n = g->nodes[k];
      return pare_err_prefix(err, "node '%s' (%s)", n->name, n->op ? n->op : "?");
    }
  }
  return PARE_OK;
}
