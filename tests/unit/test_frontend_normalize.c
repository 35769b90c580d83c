/*
 * test_frontend_normalize.c - ONNX frontend details on models built in the
 * test: Constant forms, typed tensor fields, inputs/value_info/attributes,
 * and the opset normalizations into the canonical forms of ops/ops.h.
 *
 * Models load with the unsupported-op check off (tb_load), so these tests do
 * not depend on which kernels the registry has.
 */
#include "check.h"
#include "test_frontend_model.h"

#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT

static pare_graph *load_ok(Onnx__ModelProto *m) {
  pare_err err = {{0}};
  pare_graph *g = tb_load(m, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  return g;
}

static const pare_tensor *const_of(const pare_graph *g, const char *name) {
  int v = pare_graph_find_value(g, name);
  return v >= 0 ? g->values[v]->init : NULL;
}

static const pare_node *find_node(const pare_graph *g, const char *op) {
  for (int k = 0; k < g->n_nodes; k++)
    if (strcmp(g->nodes[k]->op, op) == 0) return g->nodes[k];
  return NULL;
}

/* Constant tensor feeding input `slot` of n, or NULL. */
static const pare_tensor *const_input(const pare_graph *g, const pare_node *n, int slot) {
  if (!n || slot >= n->n_inputs || n->inputs[slot] < 0) return NULL;
  return g->values[n->inputs[slot]]->init;
}

static int tensor_is(const pare_tensor *t, pare_dtype dt, int rank, const double *vals, int n) {
  if (!t || t->dtype != dt || t->shape.rank != rank || pare_tensor_numel(t) != n) return 0;
  for (int i = 0; i < n; i++)
    if (pare_tensor_get_f64(t, i) != vals[i]) return 0;
  return 1;
}

/* ------------------------------------------------------------ constants */

static void test_constant_forms(void) {
  Onnx__ModelProto *m = tb_model(13);
  float fv[3] = {1, 2, 3};
  int64_t ints[2] = {7, -8}, d3[1] = {3};
  tb_attr_tensor(tb_node(m, "Constant", "c0", "", "t"), "value", tb_f32("", 1, d3, fv));
  tb_attr_float(tb_node(m, "Constant", "c1", "", "f"), "value_float", 2.5f);
  tb_attr_floats(tb_node(m, "Constant", "c2", "", "fs"), "value_floats", fv, 3);
  tb_attr_int(tb_node(m, "Constant", "c3", "", "i"), "value_int", -5);
  tb_attr_ints(tb_node(m, "Constant", "c4", "", "is"), "value_ints", ints, 2);
  /* sparse: [2,3] with 5.0 at (0,1) and 6.0 at (1,2); linear and coordinate indices */
  for (int form = 0; form < 2; form++) {
    Onnx__NodeProto *c = tb_node(m, "Constant", form ? "c6" : "c5", "", form ? "sp2" : "sp1");
    Onnx__AttributeProto *a =
        tb_attr(c, "sparse_value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR);
    Onnx__SparseTensorProto *sp = tb_alloc(sizeof *sp);
    onnx__sparse_tensor_proto__init(sp);
    float vals[2] = {5, 6};
    int64_t two[1] = {2}, lin[2] = {1, 5}, coords[4] = {0, 1, 1, 2}, cdims[2] = {2, 2};
    sp->values = tb_f32("sv", 1, two, vals);
    sp->indices = form ? tb_tensor("", 7, 2, cdims, coords, sizeof coords)
                       : tb_tensor("", 7, 1, two, lin, sizeof lin);
    sp->dims = tb_alloc(2 * sizeof(int64_t));
    sp->dims[0] = 2;
    sp->dims[1] = 3;
    sp->n_dims = 2;
    a->sparse_tensor = sp;
  }
  const char *outs[] = {"t", "f", "fs", "i", "is", "sp1", "sp2"};
  for (int i = 0; i < 7; i++) tb_output(m, outs[i]);
  pare_graph *g = load_ok(m);
  if (!g) return;
  CHECK(g->n_nodes == 0);
  CHECK(tensor_is(const_of(g, "t"), PARE_F32, 1, (double[]){1, 2, 3}, 3));
  CHECK(tensor_is(const_of(g, "f"), PARE_F32, 0, (double[]){2.5}, 1));
  CHECK(tensor_is(const_of(g, "fs"), PARE_F32, 1, (double[]){1, 2, 3}, 3));
  CHECK(tensor_is(const_of(g, "i"), PARE_I64, 0, (double[]){-5}, 1));
  CHECK(tensor_is(const_of(g, "is"), PARE_I64, 1, (double[]){7, -8}, 2));
  const double dense[6] = {0, 5, 0, 0, 0, 6};
  CHECK(tensor_is(const_of(g, "sp1"), PARE_F32, 2, dense, 6));
  CHECK(tensor_is(const_of(g, "sp2"), PARE_F32, 2, dense, 6));
  pare_graph_free(g);
}

static void test_sparse_out_of_range(void) {
  Onnx__ModelProto *m = tb_model(13);
  Onnx__NodeProto *c = tb_node(m, "Constant", "c", "", "sp");
  Onnx__AttributeProto *a =
      tb_attr(c, "sparse_value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR);
  Onnx__SparseTensorProto *sp = tb_alloc(sizeof *sp);
  onnx__sparse_tensor_proto__init(sp);
  float vals[1] = {5};
  int64_t one[1] = {1}, lin[1] = {6};
  sp->values = tb_f32("sv", 1, one, vals);
  sp->indices = tb_tensor("", 7, 1, one, lin, sizeof lin);
  sp->dims = tb_alloc(sizeof(int64_t));
  sp->dims[0] = 6;
  sp->n_dims = 1;
  a->sparse_tensor = sp;
  tb_output(m, "sp");
  pare_err err = {{0}};
  CHECK(tb_load(m, &err) == NULL);
  CHECK_STR_CONTAINS(err.msg, "node 'c' (Constant)");
  CHECK_STR_CONTAINS(err.msg, "out of range");
}

/* Initializers in the typed fields instead of raw_data. */
static void test_typed_fields(void) {
  Onnx__ModelProto *m = tb_model(13);
  int64_t d3[1] = {3};
  const int32_t i32[3] = {-1, 200, 1};
  const struct {
    const char *name;
    int32_t dtype;
  } small[] = {{"i8", 3}, {"u8", 2}, {"i16", 5}, {"u16", 4}, {"i32", 6}, {"b", 9}, {"h", 10}};
  for (size_t k = 0; k < sizeof small / sizeof small[0]; k++) {
    Onnx__TensorProto *t = tb_tensor(small[k].name, small[k].dtype, 1, d3, NULL, 0);
    t->int32_data = tb_alloc(sizeof i32);
    memcpy(t->int32_data, i32, sizeof i32);
    t->n_int32_data = 3;
    tb_init(m, t);
  }
  Onnx__TensorProto *t = tb_tensor("i64", 7, 1, d3, NULL, 0);
  t->int64_data = tb_alloc(3 * sizeof(int64_t));
  t->int64_data[0] = -(1LL << 40);
  t->n_int64_data = 3;
  tb_init(m, t);
  t = tb_tensor("f64", 11, 1, d3, NULL, 0);
  t->double_data = tb_alloc(3 * sizeof(double));
  t->double_data[1] = 0.125;
  t->n_double_data = 3;
  tb_init(m, t);
  t = tb_tensor("u32", 12, 1, d3, NULL, 0);
  t->uint64_data = tb_alloc(3 * sizeof(uint64_t));
  t->uint64_data[2] = 4000000000u;
  t->n_uint64_data = 3;
  tb_init(m, t);
  t = tb_tensor("f32", 1, 1, d3, NULL, 0);
  t->float_data = tb_alloc(3 * sizeof(float));
  t->float_data[0] = -0.5f;
  t->n_float_data = 3;
  tb_init(m, t);
  const char *names[] = {"i8", "u8", "i16", "u16", "i32", "b", "h", "i64", "f64", "u32", "f32"};
  for (int k = 0; k < 11; k++) tb_output(m, names[k]);
  pare_graph *g = load_ok(m);
  if (!g) return;
  CHECK(tensor_is(const_of(g, "i8"), PARE_I8, 1, (double[]){-1, -56, 1}, 3));
  CHECK(tensor_is(const_of(g, "u8"), PARE_U8, 1, (double[]){255, 200, 1}, 3));
  CHECK(tensor_is(const_of(g, "i16"), PARE_I16, 1, (double[]){-1, 200, 1}, 3));
  CHECK(tensor_is(const_of(g, "u16"), PARE_U16, 1, (double[]){65535, 200, 1}, 3));
  CHECK(tensor_is(const_of(g, "i32"), PARE_I32, 1, (double[]){-1, 200, 1}, 3));
  CHECK(tensor_is(const_of(g, "b"), PARE_BOOL, 1, (double[]){1, 1, 1}, 3));
  const pare_tensor *h = const_of(g, "h");
  CHECK(h && h->dtype == PARE_F16 && ((const uint16_t *)h->data)[1] == 200);
  CHECK(tensor_is(const_of(g, "i64"), PARE_I64, 1, (double[]){-(double)(1LL << 40), 0, 0}, 3));
  CHECK(tensor_is(const_of(g, "f64"), PARE_F64, 1, (double[]){0, 0.125, 0}, 3));
  CHECK(tensor_is(const_of(g, "u32"), PARE_U32, 1, (double[]){0, 0, 4000000000.0}, 3));
  CHECK(tensor_is(const_of(g, "f32"), PARE_F32, 1, (double[]){-0.5, 0, 0}, 3));
  pare_graph_free(g);
}

/* ------------------------------------------------------------ graph parts */

static void test_inputs_and_attributes(void) {
  Onnx__ModelProto *m = tb_model(13);
  int64_t dims[4] = {-1, 3, -1, 5};
  const char *params[4] = {"N", NULL, NULL, NULL};
  TB_PUSH(m->graph->input, m->graph->n_input, tb_value_info("x", F32, 4, dims, params));
  int64_t d1[1] = {1};
  float one[1] = {1};
  tb_init(m, tb_f32("w", 1, d1, one));
  tb_input(m, "w", 1, d1); /* an initializer listed as input: not a graph input */
  Onnx__NodeProto *n = tb_node(m, "Clip", "clip", "x,,w", "y");
  tb_attr_int(n, "ai", -3);
  tb_attr_float(n, "af", 0.25f);
  tb_attr_string(n, "as", "text");
  tb_attr_ints(n, "ais", (int64_t[]){1, 2, 3}, 3);
  tb_attr_floats(n, "afs", (float[]){0.5f, 1.5f}, 2);
  tb_attr_strings(n, "ass", (const char *[]){"a", "bc"}, 2);
  tb_attr_tensor(n, "at", tb_f32("", 1, d1, one));
  int64_t vdims[4] = {2, 3, 4, 5};
  TB_PUSH(m->graph->value_info, m->graph->n_value_info, tb_value_info("y", F32, 4, vdims, NULL));
  tb_output(m, "y");
  pare_graph *g = load_ok(m);
  if (!g) return;
  CHECK(g->n_inputs == 1);
  const pare_value *x = g->values[g->inputs[0]];
  CHECK(strcmp(x->name, "x") == 0 && x->dtype == PARE_F32);
  pare_shape want = pare_shape_make(4, (int64_t[]){-1, 3, -1, 5});
  CHECK(pare_shape_equal(&x->shape, &want));
  CHECK(x->dim_param[0] && strcmp(x->dim_param[0], "N") == 0 && !x->dim_param[2]);
  const pare_node *c = find_node(g, "Clip");
  CHECK(c && c->n_inputs == 3 && c->inputs[1] == -1 && const_input(g, c, 2));
  if (c) {
    CHECK(pare_attr_int(c, "ai", 0) == -3);
    CHECK(pare_attr_float(c, "af", 0) == 0.25f);
    CHECK(strcmp(pare_attr_string(c, "as", ""), "text") == 0);
    const int64_t *is;
    const float *fs;
    CHECK(pare_attr_ints(c, "ais", &is) == 3 && is[2] == 3);
    CHECK(pare_attr_floats(c, "afs", &fs) == 2 && fs[1] == 1.5f);
    const pare_attr *ss = pare_node_attr(c, "ass");
    CHECK(ss && ss->type == PARE_ATTR_STRINGS && ss->n == 2 && strcmp(ss->strings[1], "bc") == 0);
    const pare_attr *at = pare_node_attr(c, "at");
    CHECK(at && at->type == PARE_ATTR_TENSOR && at->t && ((float *)at->t->data)[0] == 1);
  }
  const pare_value *y = g->values[g->outputs[0]];
  pare_shape vy = pare_shape_make(4, vdims);
  CHECK(pare_shape_equal(&y->shape, &vy) && y->dtype == PARE_F32);
  pare_graph_free(g);
}

static void test_out_of_order_nodes(void) {
  Onnx__ModelProto *m = tb_model(13);
  tb_input(m, "x", 1, (int64_t[]){4});
  tb_node(m, "Neg", "second", "a", "y");
  tb_node(m, "Relu", "first", "x", "a");
  tb_output(m, "y");
  pare_graph *g = load_ok(m);
  if (!g) return;
  CHECK(g->n_nodes == 2 && strcmp(g->nodes[0]->name, "first") == 0);
  pare_graph_free(g);
}

/* ------------------------------------------------------------ normalization */

/* One-node model: op reading x (rank-4 [1,2,3,4] unless rank given) writing y. */
static Onnx__ModelProto *one_node(int64_t opset, const char *op, const char *ins,
                                  Onnx__NodeProto **node) {
  Onnx__ModelProto *m = tb_model(opset);
  tb_input(m, "x", 4, (int64_t[]){1, 2, 3, 4});
  *node = tb_node(m, op, "n", ins, "y");
  tb_output(m, "y");
  return m;
}

static void test_clip_pad_slice(void) {
  Onnx__NodeProto *n;
  Onnx__ModelProto *m = one_node(6, "Clip", "x", &n);
  tb_attr_float(n, "min", -1);
  tb_attr_float(n, "max", 6);
  pare_graph *g = load_ok(m);
  const pare_node *c = g ? find_node(g, "Clip") : NULL;
  CHECK(c && c->n_inputs == 3 && c->n_attrs == 0);
  CHECK(tensor_is(const_input(g, c, 1), PARE_F32, 0, (double[]){-1}, 1));
  CHECK(tensor_is(const_input(g, c, 2), PARE_F32, 0, (double[]){6}, 1));
  pare_graph_free(g);

  m = one_node(6, "Clip", "x", &n);
  tb_attr_float(n, "max", 6);
  g = load_ok(m);
  c = g ? find_node(g, "Clip") : NULL;
  CHECK(c && c->n_inputs == 3 && c->inputs[1] == -1 && const_input(g, c, 2));
  pare_graph_free(g);

  m = one_node(2, "Pad", "x", &n);
  tb_attr_ints(n, "pads", (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1}, 8);
  tb_attr_float(n, "value", 0.5f);
  tb_attr_string(n, "mode", "constant");
  g = load_ok(m);
  c = g ? find_node(g, "Pad") : NULL;
  CHECK(c && c->n_inputs == 3 && c->n_attrs == 1);
  CHECK(tensor_is(const_input(g, c, 1), PARE_I64, 1, (double[]){0, 0, 1, 1, 0, 0, 1, 1}, 8));
  CHECK(tensor_is(const_input(g, c, 2), PARE_F32, 0, (double[]){0.5}, 1));
  CHECK(c && strcmp(pare_attr_string(c, "mode", ""), "constant") == 0);
  pare_graph_free(g);

  m = one_node(9, "Slice", "x", &n);
  tb_attr_ints(n, "starts", (int64_t[]){1}, 1);
  tb_attr_ints(n, "ends", (int64_t[]){3}, 1);
  tb_attr_ints(n, "axes", (int64_t[]){2}, 1);
  g = load_ok(m);
  c = g ? find_node(g, "Slice") : NULL;
  CHECK(c && c->n_inputs == 4 && c->n_attrs == 0);
  CHECK(tensor_is(const_input(g, c, 1), PARE_I64, 1, (double[]){1}, 1));
  CHECK(tensor_is(const_input(g, c, 2), PARE_I64, 1, (double[]){3}, 1));
  CHECK(tensor_is(const_input(g, c, 3), PARE_I64, 1, (double[]){2}, 1));
  pare_graph_free(g);

  /* Slice without its required attribute: error names the node */
  m = one_node(9, "Slice", "x", &n);
  pare_err err = {{0}};
  CHECK(tb_load(m, &err) == NULL);
  CHECK_STR_CONTAINS(err.msg, "node 'n' (Slice)");
  CHECK_STR_CONTAINS(err.msg, "starts");
}

static void test_axes_attributes(void) {
  const char *ops[] = {"Squeeze",   "Unsqueeze",    "ReduceSum",       "ReduceMean",
                       "ReduceMax", "ReduceMin",    "ReduceProd",      "ReduceL1",
                       "ReduceL2",  "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    Onnx__NodeProto *n;
    Onnx__ModelProto *m = one_node(11, ops[k], "x", &n);
    tb_attr_ints(n, "axes", (int64_t[]){0, 2}, 2);
    tb_attr_int(n, "keepdims", 1);
    pare_graph *g = load_ok(m);
    const pare_node *c = g ? find_node(g, ops[k]) : NULL;
    CHECK_MSG(c && c->n_inputs == 2 && !pare_node_attr(c, "axes"), "%s", ops[k]);
    CHECK_MSG(tensor_is(const_input(g, c, 1), PARE_I64, 1, (double[]){0, 2}, 2), "%s", ops[k]);
    pare_graph_free(g);
  }
  /* ReduceMean at opset 13 still had the axes attribute: moved too. */
  Onnx__NodeProto *n;
  Onnx__ModelProto *m = one_node(13, "ReduceMean", "x", &n);
  tb_attr_ints(n, "axes", (int64_t[]){-1}, 1);
  pare_graph *g = load_ok(m);
  const pare_node *c = g ? find_node(g, "ReduceMean") : NULL;
  CHECK(tensor_is(const_input(g, c, 1), PARE_I64, 1, (double[]){-1}, 1));
  pare_graph_free(g);
}

static void test_split_topk(void) {
  Onnx__ModelProto *m = tb_model(11);
  tb_input(m, "x", 1, (int64_t[]){6});
  Onnx__NodeProto *n = tb_node(m, "Split", "s", "x", "a,b");
  tb_attr_ints(n, "split", (int64_t[]){2, 4}, 2);
  tb_node(m, "Split", "s2", "x", "c,d");
  tb_output(m, "a");
  tb_output(m, "b");
  tb_output(m, "c");
  tb_output(m, "d");
  pare_graph *g = load_ok(m);
  if (g) {
    const pare_node *s = g->nodes[0], *s2 = g->nodes[1];
    CHECK(s->n_inputs == 2 && tensor_is(const_input(g, s, 1), PARE_I64, 1, (double[]){2, 4}, 2));
    CHECK(s2->n_inputs == 1 && pare_attr_int(s2, "num_outputs", 0) == 2);
  }
  pare_graph_free(g);

  m = tb_model(9);
  tb_input(m, "x", 1, (int64_t[]){6});
  n = tb_node(m, "TopK", "t", "x", "v,i");
  tb_attr_int(n, "k", 3);
  tb_output(m, "v");
  tb_output(m, "i");
  g = load_ok(m);
  const pare_node *t = g ? find_node(g, "TopK") : NULL;
  CHECK(t && t->n_inputs == 2 && !pare_node_attr(t, "k"));
  CHECK(tensor_is(const_input(g, t, 1), PARE_I64, 1, (double[]){3}, 1));
  pare_graph_free(g);
}

static void check_legacy_resize(const pare_graph *g, const char *mode) {
  const pare_node *r = g ? find_node(g, "Resize") : NULL;
  CHECK(r && r->n_inputs == 3 && r->inputs[1] == -1 && r->inputs[2] >= 0);
  if (!r) return;
  CHECK(strcmp(pare_attr_string(r, "mode", ""), mode) == 0);
  CHECK(strcmp(pare_attr_string(r, "coordinate_transformation_mode", ""), "asymmetric") == 0);
  const char *nearest = pare_attr_string(r, "nearest_mode", NULL);
  CHECK(strcmp(mode, "nearest") == 0 ? nearest && strcmp(nearest, "floor") == 0 : !nearest);
  CHECK(!pare_node_attr(r, "scales") && !find_node(g, "Upsample"));
}

static void test_resize_upsample(void) {
  float sc[4] = {1, 1, 2, 2};
  int64_t d4[1] = {4};
  Onnx__NodeProto *n;
  Onnx__ModelProto *m = one_node(10, "Resize", "x,sc", &n);
  tb_init(m, tb_f32("sc", 1, d4, sc));
  pare_graph *g = load_ok(m);
  check_legacy_resize(g, "nearest");
  pare_graph_free(g);

  m = one_node(10, "Resize", "x,sc", &n);
  tb_init(m, tb_f32("sc", 1, d4, sc));
  tb_attr_string(n, "mode", "linear");
  g = load_ok(m);
  check_legacy_resize(g, "linear");
  pare_graph_free(g);

  m = one_node(7, "Upsample", "x", &n);
  tb_attr_floats(n, "scales", sc, 4);
  g = load_ok(m);
  check_legacy_resize(g, "nearest");
  if (g) CHECK(tensor_is(const_input(g, g->nodes[0], 2), PARE_F32, 1, (double[]){1, 1, 2, 2}, 4));
  pare_graph_free(g);

  m = one_node(9, "Upsample", "x,sc", &n);
  tb_init(m, tb_f32("sc", 1, d4, sc));
  tb_attr_string(n, "mode", "linear");
  g = load_ok(m);
  check_legacy_resize(g, "linear");
  pare_graph_free(g);

  m = one_node(1, "Upsample", "x", &n);
  tb_attr_float(n, "height_scale", 3);
  tb_attr_float(n, "width_scale", 2);
  tb_attr_string(n, "mode", "bilinear");
  g = load_ok(m);
  check_legacy_resize(g, "linear");
  if (g) CHECK(tensor_is(const_input(g, g->nodes[0], 2), PARE_F32, 1, (double[]){1, 1, 3, 2}, 4));
  pare_graph_free(g);
}

static void test_softmax_family(void) {
  const char *ops[] = {"Softmax", "LogSoftmax", "Hardmax"};
  for (int k = 0; k < 3; k++) {
    /* axis 3 of a known rank-4 input: the last dim, stays one node */
    Onnx__NodeProto *n;
    Onnx__ModelProto *m = one_node(11, ops[k], "x", &n);
    tb_attr_int(n, "axis", 3);
    pare_graph *g = load_ok(m);
    CHECK(g && g->n_nodes == 1 && pare_attr_int(g->nodes[0], "axis", 0) == -1);
    pare_graph_free(g);

    /* default axis 1 of rank 4: Flatten -> op(axis=-1) -> Reshape(Shape(x)) */
    m = one_node(11, ops[k], "x", &n);
    g = load_ok(m);
    CHECK_MSG(g && g->n_nodes == 4, "%s", ops[k]);
    if (!g) continue;
    const pare_node *fl = find_node(g, "Flatten"), *sm = find_node(g, ops[k]);
    const pare_node *rs = find_node(g, "Reshape"), *sh = find_node(g, "Shape");
    CHECK(fl && sm && rs && sh);
    if (fl && sm && rs && sh) {
      CHECK(pare_attr_int(fl, "axis", 0) == 1 && pare_attr_int(sm, "axis", 0) == -1);
      CHECK(fl->inputs[0] == g->inputs[0] && sh->inputs[0] == g->inputs[0]);
      CHECK(sm->inputs[0] == fl->outputs[0] && rs->inputs[0] == sm->outputs[0]);
      CHECK(rs->inputs[1] == sh->outputs[0] && rs->outputs[0] == g->outputs[0]);
      CHECK(g->nodes[3] == rs); /* toposorted */
    }
    pare_graph_free(g);
  }
  /* opset 13: unchanged */
  Onnx__NodeProto *n;
  Onnx__ModelProto *m = one_node(13, "Softmax", "x", &n);
  tb_attr_int(n, "axis", 1);
  pare_graph *g = load_ok(m);
  CHECK(g && g->n_nodes == 1 && pare_attr_int(g->nodes[0], "axis", 0) == 1);
  pare_graph_free(g);

  /* unknown rank derived through MatMul(Transpose(perm of 4), ...) */
  m = tb_model(11);
  tb_input(m, "a", -1, NULL);
  tb_input(m, "b", -1, NULL);
  tb_attr_ints(tb_node(m, "Transpose", "t", "a", "at"), "perm", (int64_t[]){0, 1, 3, 2}, 4);
  tb_attr_ints(tb_node(m, "Transpose", "t2", "b", "bt"), "perm", (int64_t[]){0, 1, 2, 3}, 4);
  tb_node(m, "MatMul", "mm", "bt,at", "s");
  tb_attr_int(tb_node(m, "Softmax", "sm", "s", "y"), "axis", 3);
  tb_output(m, "y");
  g = load_ok(m);
  CHECK(g && g->n_nodes == 4 && !find_node(g, "Flatten"));
  pare_graph_free(g);
}

static void test_batchnorm_dropout_cast(void) {
  Onnx__ModelProto *m = tb_model(5);
  tb_input(m, "x", 4, (int64_t[]){1, 2, 3, 4});
  int64_t d2[1] = {2};
  float ones[2] = {1, 1};
  const char *params[4] = {"s", "b", "mean", "var"};
  for (int i = 0; i < 4; i++) tb_init(m, tb_f32(params[i], 1, d2, ones));
  Onnx__NodeProto *n = tb_node(m, "BatchNormalization", "bn", "x,s,b,mean,var", "y,m1,v1,sm,sv");
  tb_attr_int(n, "spatial", 1);
  tb_attr_int(n, "is_test", 1);
  tb_attr_ints(n, "consumed_inputs", (int64_t[]){0, 0, 0, 1, 1}, 5);
  tb_attr_float(n, "epsilon", 1e-3f);
  n = tb_node(m, "Dropout", "drop", "y", "z,mask");
  tb_attr_int(n, "is_test", 1);
  tb_attr_float(n, "ratio", 0.3f);
  tb_attr_string(tb_node(m, "Cast", "cast", "z", "w"), "to", "INT64");
  tb_output(m, "w");
  pare_graph *g = load_ok(m);
  if (!g) return;
  const pare_node *bn = find_node(g, "BatchNormalization");
  const pare_node *dr = find_node(g, "Dropout"), *ca = find_node(g, "Cast");
  CHECK(bn && bn->n_outputs == 1 && bn->n_attrs == 1 && pare_attr_float(bn, "epsilon", 0) > 0);
  CHECK(dr && dr->n_attrs == 0 && dr->n_outputs == 2);
  CHECK(ca && pare_attr_int(ca, "to", 0) == PARE_I64);
  pare_graph_free(g);
}

static void test_legacy_broadcast(void) {
  Onnx__ModelProto *m = tb_model(6);
  tb_input(m, "x", 4, (int64_t[]){2, 3, 4, 5});
  tb_input(m, "v", 1, (int64_t[]){3});
  int64_t d3[1] = {3};
  float c[3] = {1, 2, 3};
  tb_init(m, tb_f32("c", 1, d3, c));
  Onnx__NodeProto *n = tb_node(m, "Add", "add", "x,c", "y");
  tb_attr_int(n, "broadcast", 1);
  tb_attr_int(n, "axis", 1);
  n = tb_node(m, "Mul", "mul", "y,v", "z");
  tb_attr_int(n, "broadcast", 1);
  tb_attr_int(n, "axis", 1);
  tb_output(m, "z");
  pare_graph *g = load_ok(m);
  if (!g) return;
  const pare_node *add = find_node(g, "Add"), *mul = find_node(g, "Mul");
  const pare_node *unsq = find_node(g, "Unsqueeze");
  const pare_tensor *cb = const_input(g, add, 1);
  CHECK(add && add->n_attrs == 0 && cb && cb->shape.rank == 3 && cb->shape.dims[0] == 3 &&
        cb->shape.dims[2] == 1);
  CHECK(unsq && mul && mul->inputs[1] == unsq->outputs[0]);
  CHECK(tensor_is(const_input(g, unsq, 1), PARE_I64, 1, (double[]){1, 2}, 2));
  pare_graph_free(g);
}

int main(void) {
  RUN(test_constant_forms);
  RUN(test_sparse_out_of_range);
  RUN(test_typed_fields);
  RUN(test_inputs_and_attributes);
  RUN(test_out_of_order_nodes);
  RUN(test_clip_pad_slice);
  RUN(test_axes_attributes);
  RUN(test_split_topk);
  RUN(test_resize_upsample);
  RUN(test_softmax_family);
  RUN(test_batchnorm_dropout_cast);
  RUN(test_legacy_broadcast);
  return check_summary();
}
