/*
 * test_ir_verify.c - pare_graph_verify accepts well-formed graphs and names
 * the node and value of each kind of structural error.
 */
#include "check.h"

#include "ir/ir.h"
#include "ir/text.h"

/* A valid graph to break in different ways:
 *   x (input) -> Relu -> r -> Add(r, c) -> y (output);  c is a constant. */
typedef struct fixture {
  pare_graph *g;
  int x, c, r, y;
} fixture;

static fixture make_fixture(void) {
  fixture f;
  pare_err err;
  f.g = pare_graph_new("fx");
  int64_t d[] = {2};
  pare_shape s = pare_shape_make(1, d);
  f.x = pare_graph_add_value(f.g, "x", PARE_F32, &s, &err);
  pare_graph_add_input(f.g, f.x, &err);
  pare_tensor *t = pare_tensor_new(PARE_F32, &s, &err);
  f.c = pare_graph_add_const(f.g, "c", t, &err);
  f.r = pare_graph_add_value(f.g, "r", PARE_F32, &s, &err);
  f.y = pare_graph_add_value(f.g, "y", PARE_F32, &s, &err);
  pare_graph_add_node(f.g, "Relu", "relu", &f.x, 1, &f.r, 1, &err);
  int add_in[] = {f.r, f.c};
  pare_graph_add_node(f.g, "Add", "add", add_in, 2, &f.y, 1, &err);
  pare_graph_add_output(f.g, f.y, &err);
  return f;
}

/* Verifies g expecting failure with a message containing each fragment. */
static void expect_error(pare_graph *g, const char *frag1, const char *frag2) {
  pare_err err = {{0}};
  int rc = pare_graph_verify(g, &err);
  CHECK_MSG(rc == PARE_ERR, "verify passed; expected '%s'", frag1);
  CHECK_STR_CONTAINS(err.msg, frag1);
  if (frag2) CHECK_STR_CONTAINS(err.msg, frag2);
}

static void test_valid(void) {
  fixture f = make_fixture();
  pare_err err = {{0}};
  CHECK_MSG(pare_graph_verify(f.g, &err) == PARE_OK, "%s", err.msg);
  pare_graph_free(f.g);
  pare_graph *empty = pare_graph_new(NULL);
  CHECK(pare_graph_verify(empty, &err) == PARE_OK);
  pare_graph_free(empty);
  CHECK(pare_graph_verify(NULL, &err) == PARE_ERR);
}

static void test_use_before_def(void) {
  fixture f = make_fixture();
  pare_node *tmp = f.g->nodes[0];
  f.g->nodes[0] = f.g->nodes[1];
  f.g->nodes[1] = tmp;
  pare_graph_update_producers(f.g);
  expect_error(f.g, "node 'add' (Add) uses %r before it is defined by node 'relu' (Relu)",
               "topological order");
  /* pare_graph_toposort repairs it. */
  pare_err err;
  CHECK(pare_graph_toposort(f.g, &err) == PARE_OK);
  CHECK(pare_graph_verify(f.g, &err) == PARE_OK);
  pare_graph_free(f.g);
}

static void test_undefined_input(void) {
  fixture f = make_fixture();
  pare_shape s = pare_shape_make(1, (int64_t[]){2});
  int ghost = pare_graph_add_value(f.g, "ghost", PARE_F32, &s, NULL);
  f.g->nodes[1]->inputs[1] = ghost;
  expect_error(f.g, "node 'add' (Add) uses %ghost, which nothing defines", NULL);
  pare_graph_free(f.g);
}

static void test_self_read(void) {
  fixture f = make_fixture();
  f.g->nodes[0]->inputs[0] = f.r;
  expect_error(f.g, "node 'relu' (Relu) reads its own output %r", NULL);
  pare_graph_free(f.g);
}

static void test_double_definition(void) {
  fixture f = make_fixture();
  f.g->nodes[1]->outputs[0] = f.r; /* Add now also defines r */
  pare_graph_update_producers(f.g);
  expect_error(f.g, "value %r is defined by node 'relu' (Relu) and by node 'add' (Add)", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  f.g->nodes[0]->outputs[0] = f.c; /* a node defines a constant */
  expect_error(f.g, "node 'relu' (Relu) defines %c, which is a constant", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  f.g->nodes[0]->outputs[0] = f.x; /* a node defines a graph input */
  expect_error(f.g, "node 'relu' (Relu) defines %x, which is a graph input", NULL);
  pare_graph_free(f.g);
}

static void test_dangling_output(void) {
  fixture f = make_fixture();
  pare_shape s = pare_shape_make(1, (int64_t[]){2});
  int lost = pare_graph_add_value(f.g, "lost", PARE_F32, &s, NULL);
  pare_graph_add_output(f.g, lost, NULL);
  expect_error(f.g, "graph output %lost is not defined", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  f.g->outputs[0] = 99;
  expect_error(f.g, "graph output 0 is value index 99, out of range", NULL);
  pare_graph_free(f.g);
}

static void test_constant_mismatch(void) {
  fixture f = make_fixture();
  pare_value *c = f.g->values[f.c];
  c->init->dtype = PARE_I32; /* same byte size, different dtype */
  expect_error(f.g, "constant %c is declared f32 but its data is i32", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  c = f.g->values[f.c];
  c->shape.dims[0] = 3;
  expect_error(f.g, "constant %c is declared [3] but its data is [2]", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  f.g->values[f.c]->init->nbytes = 4;
  expect_error(f.g, "constant %c: tensor holds 4 bytes, its type needs 2 x 4", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  pare_value *x = f.g->values[f.x];
  x->init = pare_tensor_clone(f.g->values[f.c]->init, NULL);
  expect_error(f.g, "graph input %x also has constant data", NULL);
  pare_graph_free(f.g);
}

static void test_structure_errors(void) {
  fixture f = make_fixture();
  free(f.g->values[f.r]->name);
  f.g->values[f.r]->name = pare_strdup("y");
  expect_error(f.g, "value name %y is used by more than one value", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  pare_graph_kill_node(f.g, 1);
  expect_error(f.g, "node 'add' (dead) is dead", "pare_graph_compact");
  pare_graph_free(f.g);

  f = make_fixture();
  f.g->nodes[1]->inputs[0] = 42;
  expect_error(f.g, "node 'add' (Add): input 0 is value index 42, out of range", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  f.g->values[f.r]->producer = -1; /* stale producer */
  expect_error(f.g, "value %r: producer is -1 but node 0 defines it", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  f.g->values[f.y]->is_graph_output = 0;
  expect_error(f.g, "value %y: is_graph_output is 0", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  pare_graph_add_input(f.g, f.x, NULL);
  expect_error(f.g, "graph input %x is listed twice", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  f.g->values[f.r]->shape.dims[0] = -7;
  expect_error(f.g, "value %r has dim 0 = -7", NULL);
  pare_graph_free(f.g);
}

static void test_attribute_errors(void) {
  fixture f = make_fixture();
  pare_node *n = f.g->nodes[1];
  pare_node_set_int(n, "axis", 1, NULL);
  pare_node_set_int(n, "other", 1, NULL);
  free(n->attrs[1].name);
  n->attrs[1].name = pare_strdup("axis");
  expect_error(f.g, "node 'add' (Add): attribute 'axis' appears twice", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  n = f.g->nodes[1];
  pare_node_set_ints(n, "pads", NULL, 0, NULL);
  free(n->attrs[0].ints);
  n->attrs[0].ints = NULL;
  n->attrs[0].n = 2;
  expect_error(f.g, "attribute 'pads' has 2 elements but no array", NULL);
  pare_graph_free(f.g);

  f = make_fixture();
  n = f.g->nodes[1];
  pare_node_set_string(n, "mode", "x", NULL);
  n->attrs[0].type = PARE_ATTR_TENSOR;
  expect_error(f.g, "tensor attribute 'mode' has no tensor", NULL);
  pare_graph_free(f.g);
}

/* An f32 [2,4] weight constant with encoding e on the fixture (replaces c). */
static fixture with_encoding(pare_encoding *e) {
  fixture f = make_fixture();
  pare_value *c = f.g->values[f.c];
  int64_t d[] = {2, 4};
  c->shape = pare_shape_make(2, d);
  pare_tensor_free(c->init);
  c->init = NULL;
  c->enc = e;
  return f;
}

static pare_tensor *tensor_of(pare_dtype dt, int64_t n) {
  pare_shape s = pare_shape_make(1, &n);
  return pare_tensor_new(dt, &s, NULL);
}

static void test_encoding_errors(void) {
  /* A valid symmetric 4-bit quantization: 8 weights -> 4 bytes, one scale. */
  pare_encoding *q = calloc(1, sizeof *q);
  q->kind = PARE_ENC_QUANT;
  q->bits = 4;
  q->symmetric = 1;
  q->axis = -1;
  q->packed = tensor_of(PARE_U8, 4);
  q->scales = tensor_of(PARE_F32, 1);
  fixture f = with_encoding(q);
  pare_err err = {{0}};
  CHECK_MSG(pare_graph_verify(f.g, &err) == PARE_OK, "%s", err.msg);

  q->bits = 9;
  expect_error(f.g, "constant %c: quant encoding: has bits=9", NULL);
  q->bits = 4;
  q->axis = 0;
  expect_error(f.g, "scales' has 1 elements, needs 2", NULL);
  q->axis = -1;
  pare_tensor_free(q->packed);
  q->packed = tensor_of(PARE_U8, 3);
  expect_error(f.g, "part 'packed' has 3 elements, needs 4", NULL);
  pare_tensor_free(q->packed);
  q->packed = tensor_of(PARE_I8, 4);
  expect_error(f.g, "part 'packed' is i8, must be u8", NULL);
  pare_tensor_free(q->packed);
  q->packed = tensor_of(PARE_U8, 4);
  q->symmetric = 0;
  expect_error(f.g, "lacks its 'zeros' part", NULL);
  q->symmetric = 1;
  q->zeros = tensor_of(PARE_F32, 1);
  expect_error(f.g, "has a 'zeros' part its kind does not use", NULL);
  pare_tensor_free(q->zeros);
  q->zeros = NULL;

  /* Outliers: a sparse part; bad column index, then wrong kind. */
  pare_encoding *o = calloc(1, sizeof *o);
  o->kind = PARE_ENC_SPARSE;
  o->row_ptr = tensor_of(PARE_I64, 3);
  o->col_idx = tensor_of(PARE_I32, 1);
  o->values = tensor_of(PARE_F32, 1);
  int64_t *rp = o->row_ptr->data;
  rp[1] = 1;
  rp[2] = 1;
  q->outliers = o;
  CHECK_MSG(pare_graph_verify(f.g, &err) == PARE_OK, "%s", err.msg);
  ((int32_t *)o->col_idx->data)[0] = 4;
  expect_error(f.g, "outliers: col_idx[0] = 4 is outside [0, 4)", NULL);
  ((int32_t *)o->col_idx->data)[0] = 3;
  rp[1] = 2;
  expect_error(f.g, "row_ptr decreases at row 1", NULL);
  rp[1] = 1;
  o->kind = PARE_ENC_CODEBOOK;
  expect_error(f.g, "has outliers that are not one plain sparse encoding", NULL);
  o->kind = PARE_ENC_SPARSE;

  q->kind = PARE_ENC_DENSE;
  expect_error(f.g, "is of kind dense", NULL);
  q->kind = PARE_ENC_QUANT;

  /* Encodings only on f32 constants, and the dense copy must agree. */
  f.g->values[f.c]->dtype = PARE_I64;
  expect_error(f.g, "constant %c is i64: only f32 weights can be encoded", NULL);
  f.g->values[f.c]->dtype = PARE_F32;
  f.g->values[f.c]->init = tensor_of(PARE_F32, 8);
  expect_error(f.g, "constant %c is declared [2,4] but its data is [8]", NULL);
  pare_graph_free(f.g);

  /* Codebook: 2-bit indices, one codebook of 4 entries per row (axis 0). */
  pare_encoding *cb = calloc(1, sizeof *cb);
  cb->kind = PARE_ENC_CODEBOOK;
  cb->bits = 2;
  cb->axis = 0;
  cb->packed = tensor_of(PARE_U8, 2);
  cb->codebook = tensor_of(PARE_F32, 4);
  f = with_encoding(cb);
  expect_error(f.g, "part 'codebook' has 4 elements, needs 8", NULL);
  cb->axis = -1;
  CHECK_MSG(pare_graph_verify(f.g, &err) == PARE_OK, "%s", err.msg);
  /* Per-row scales over one shared codebook: they need the channel axis,
   * one scale per channel, in f32 or f16. */
  cb->scales = tensor_of(PARE_F16, 2);
  expect_error(f.g, "codebook encoding: has scales but no channel axis", NULL);
  cb->axis = 0;
  CHECK_MSG(pare_graph_verify(f.g, &err) == PARE_OK, "%s", err.msg);
  pare_tensor_free(cb->scales);
  cb->scales = tensor_of(PARE_F16, 1);
  expect_error(f.g, "part 'scales' has 1 elements, needs 2", NULL);
  pare_tensor_free(cb->scales);
  cb->scales = tensor_of(PARE_I32, 2);
  expect_error(f.g, "part 'scales' is i32, must be f32", NULL);
  pare_graph_free(f.g);
}

/* The parser runs the verifier: a text whose nodes are out of order fails. */
static void test_parse_runs_verify(void) {
  const char *src = "graph opset 17 {\n"
                    "  input %x : f32[2]\n"
                    "  const %c : f32[2] = dense<1, 2>\n"
                    "  %y : f32[2] = Add(%x, %c)\n"
                    "  output %y\n"
                    "}\n";
  pare_err err = {{0}};
  pare_graph *g = pare_graph_parse(src, "ok.pir", NULL, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  pare_graph_free(g);
  const char *bad = "graph opset 17 {\n"
                    "  const %w : f32[2] = sparse<nm_n=3, nm_m=2> {row_ptr = i64[3] dense<0>, "
                    "col_idx = i32[0] dense<>, values = f32[0] dense<>}\n"
                    "}\n";
  g = pare_graph_parse(bad, "bad.pir", NULL, &err);
  CHECK(g == NULL);
  CHECK_STR_CONTAINS(err.msg, "bad.pir: constant %w: sparse encoding: has a bad N:M pattern 3:2");
}

/* Per-column groups of a [K, N] weight (MatMul B): axis 1, groups run down
 * each column along K (ir.h); f16 scales decode exactly. */
static void test_quant_column_groups(void) {
  int64_t d[] = {4, 2};
  pare_shape s = pare_shape_make(2, d);
  pare_encoding *q = calloc(1, sizeof *q);
  q->kind = PARE_ENC_QUANT;
  q->bits = 8;
  q->symmetric = 1;
  q->axis = 1;
  q->group_size = 2;
  q->packed = tensor_of(PARE_U8, 8);
  for (int i = 0; i < 8; i++) ((uint8_t *)q->packed->data)[i] = (uint8_t)(i + 1);
  q->scales = tensor_of(PARE_F16, 4);
  /* scale of column n, rows [2j, 2j+2): index n * 2 + j */
  const float sc[4] = {1, 2, 4, 8};
  for (int i = 0; i < 4; i++) pare_tensor_set_f64(q->scales, i, sc[i]);
  pare_err err = {{0}};
  pare_tensor *w = pare_weight_decode(q, &s, &err);
  CHECK_MSG(w != NULL, "%s", err.msg);
  const float want[8] = {1, 8, 3, 16, 10, 48, 14, 64};
  for (int i = 0; w && i < 8; i++) CHECK(((float *)w->data)[i] == want[i]);
  pare_tensor_free(w);

  pare_graph *g = pare_graph_new("g");
  int v = pare_graph_add_const(g, "w", pare_weight_decode(q, &s, NULL), &err);
  g->values[v]->enc = q;
  int x = pare_graph_add_value(g, "x", PARE_F32, &s, &err);
  pare_graph_add_input(g, x, &err);
  int y = pare_graph_add_value(g, "y", PARE_F32, &s, &err);
  int in[] = {x, v};
  pare_graph_add_node(g, "Add", "add", in, 2, &y, 1, &err);
  pare_graph_add_output(g, y, &err);
  CHECK_MSG(pare_graph_verify(g, &err) == PARE_OK, "%s", err.msg);
  pare_tensor_free(q->scales);
  q->scales = tensor_of(PARE_F16, 3);
  CHECK(pare_graph_verify(g, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "part 'scales' has 3 elements, needs 4");
  pare_graph_free(g);
}

int main(void) {
  RUN(test_valid);
  RUN(test_use_before_def);
  RUN(test_undefined_input);
  RUN(test_self_read);
  RUN(test_double_definition);
  RUN(test_dangling_output);
  RUN(test_constant_mismatch);
  RUN(test_structure_errors);
  RUN(test_attribute_errors);
  RUN(test_encoding_errors);
  RUN(test_quant_column_groups);
  RUN(test_parse_runs_verify);
  return check_summary();
}
