/*
 * test_ir_text.c - textual IR: print -> parse -> print round trips, parse
 * errors with positions, elision, JSON export.
 */
#include "check.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <stdint.h>

#include "ir/ir.h"
#include "ir/text.h"

/* ------------------------------------------------------------ structural == */

static int str_eq(const char *a, const char *b) {
  if (!a || !b) return a == b;
  return strcmp(a, b) == 0;
}

static const char *vname(const pare_graph *g, int v) {
  return v >= 0 ? g->values[v]->name : NULL;
}

static int tensors_equal(const pare_tensor *a, const pare_tensor *b) {
  if (!a || !b) return a == b;
  return a->dtype == b->dtype && pare_shape_equal(&a->shape, &b->shape) && a->nbytes == b->nbytes &&
         (a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
}

static int encodings_equal(const pare_encoding *a, const pare_encoding *b) {
  if (!a || !b) return a == b;
  return a->kind == b->kind && a->bits == b->bits && a->symmetric == b->symmetric &&
         a->axis == b->axis && a->group_size == b->group_size && a->nm_n == b->nm_n &&
         a->nm_m == b->nm_m && tensors_equal(a->packed, b->packed) &&
         tensors_equal(a->scales, b->scales) && tensors_equal(a->zeros, b->zeros) &&
         tensors_equal(a->codebook, b->codebook) && tensors_equal(a->row_ptr, b->row_ptr) &&
         tensors_equal(a->col_idx, b->col_idx) && tensors_equal(a->values, b->values) &&
         encodings_equal(a->outliers, b->outliers);
}

static int attrs_equal(const pare_attr *a, const pare_attr *b) {
  if (!str_eq(a->name, b->name) || a->type != b->type) return 0;
  switch (a->type) {
  case PARE_ATTR_INT:
    return a->i == b->i;
  case PARE_ATTR_FLOAT:
    return memcmp(&a->f, &b->f, sizeof a->f) == 0;
  case PARE_ATTR_STRING:
    return str_eq(a->s, b->s);
  case PARE_ATTR_TENSOR:
    return tensors_equal(a->t, b->t);
  case PARE_ATTR_INTS:
    return a->n == b->n && (a->n == 0 || memcmp(a->ints, b->ints, (size_t)a->n * 8) == 0);
  case PARE_ATTR_FLOATS:
    return a->n == b->n && (a->n == 0 || memcmp(a->floats, b->floats, (size_t)a->n * 4) == 0);
  case PARE_ATTR_STRINGS:
    if (a->n != b->n) return 0;
    for (int64_t k = 0; k < a->n; k++)
      if (!str_eq(a->strings[k], b->strings[k])) return 0;
    return 1;
  }
  return 0;
}

/* Compares by value names (index order of values may differ); fills why. */
static int graphs_equal(const pare_graph *a, const pare_graph *b, char *why, size_t len) {
#define DIFF(...) return snprintf(why, len, __VA_ARGS__), 0
  if (!str_eq(a->name, b->name)) DIFF("graph name");
  if (a->opset != b->opset) DIFF("opset");
  if (a->n_values != b->n_values) DIFF("n_values %d vs %d", a->n_values, b->n_values);
  if (a->n_nodes != b->n_nodes) DIFF("n_nodes %d vs %d", a->n_nodes, b->n_nodes);
  if (a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs) DIFF("graph io counts");
  for (int i = 0; i < a->n_values; i++) {
    const pare_value *va = a->values[i];
    int j = pare_graph_find_value(b, va->name);
    if (j < 0) DIFF("value %s missing", va->name);
    const pare_value *vb = b->values[j];
    if (va->dtype != vb->dtype) DIFF("value %s dtype", va->name);
    if (!pare_shape_equal(&va->shape, &vb->shape)) DIFF("value %s shape", va->name);
    for (int d = 0; d < va->shape.rank; d++)
      if (!str_eq(va->dim_param[d], vb->dim_param[d])) DIFF("value %s dim_param %d", va->name, d);
    if (!tensors_equal(va->init, vb->init)) DIFF("value %s init", va->name);
    if (!encodings_equal(va->enc, vb->enc)) DIFF("value %s encoding", va->name);
    if (va->producer != vb->producer) DIFF("value %s producer", va->name);
    if (va->is_graph_input != vb->is_graph_input || va->is_graph_output != vb->is_graph_output)
      DIFF("value %s io flags", va->name);
  }
  for (int k = 0; k < a->n_nodes; k++) {
    const pare_node *na = a->nodes[k], *nb = b->nodes[k];
    if (!str_eq(na->op, nb->op) || !str_eq(na->name, nb->name)) DIFF("node %d op/name", k);
    if (!str_eq(na->domain && *na->domain ? na->domain : NULL,
                nb->domain && *nb->domain ? nb->domain : NULL))
      DIFF("node %d domain", k);
    if (na->n_inputs != nb->n_inputs || na->n_outputs != nb->n_outputs) DIFF("node %d arity", k);
    for (int j = 0; j < na->n_inputs; j++)
      if (!str_eq(vname(a, na->inputs[j]), vname(b, nb->inputs[j]))) DIFF("node %d input %d", k, j);
    for (int j = 0; j < na->n_outputs; j++)
      if (!str_eq(vname(a, na->outputs[j]), vname(b, nb->outputs[j])))
        DIFF("node %d output %d", k, j);
    if (na->n_attrs != nb->n_attrs) DIFF("node %d attr count", k);
    for (int j = 0; j < na->n_attrs; j++)
      if (!attrs_equal(&na->attrs[j], &nb->attrs[j])) DIFF("node %d attr %s", k, na->attrs[j].name);
  }
  for (int j = 0; j < a->n_inputs; j++)
    if (!str_eq(vname(a, a->inputs[j]), vname(b, b->inputs[j]))) DIFF("graph input %d", j);
  for (int j = 0; j < a->n_outputs; j++)
    if (!str_eq(vname(a, a->outputs[j]), vname(b, b->outputs[j]))) DIFF("graph output %d", j);
  return 1;
#undef DIFF
}

/* print(g) -> parse -> equal to g -> print again, byte-identical. */
static void check_roundtrip(const pare_graph *g) {
  pare_err err = {{0}};
  char *text = pare_graph_to_text(g, NULL, &err);
  CHECK(text != NULL);
  if (!text) return;
  pare_graph *back = pare_graph_parse(text, "roundtrip", NULL, &err);
  CHECK_MSG(back != NULL, "%s\n%s", err.msg, text);
  if (back) {
    char why[256] = "";
    CHECK_MSG(graphs_equal(g, back, why, sizeof why), "%s\n%s", why, text);
    char *again = pare_graph_to_text(back, NULL, &err);
    CHECK(again != NULL);
    if (again) CHECK_MSG(strcmp(text, again) == 0, "first:\n%s\nsecond:\n%s", text, again);
    free(again);
    pare_graph_free(back);
  }
  free(text);
}

/* -------------------------------------------------------------- builders */

static pare_tensor *tensor(pare_dtype dt, int rank, const int64_t *dims, const void *data) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_tensor *t = pare_tensor_new(dt, &s, NULL);
  if (t && data && t->nbytes) memcpy(t->data, data, t->nbytes);
  return t;
}

static float f32_from_bits(uint32_t b) {
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}

static double f64_from_bits(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static int add_const(pare_graph *g, const char *name, pare_tensor *t) {
  return pare_graph_add_const(g, name, t, NULL);
}

/* One constant of every dtype with its extreme and special values. */
static void add_dtype_constants(pare_graph *g) {
  int64_t d16[] = {16}, d4[] = {4}, d8[] = {8}, d2[] = {2};
  float f32s[16] = {f32_from_bits(0x7fc00000),
                    f32_from_bits(0xffc00000),
                    f32_from_bits(0x7fc00001),
                    f32_from_bits(0x7f800001),
                    INFINITY,
                    -INFINITY,
                    -0.0f,
                    0.0f,
                    1.0f,
                    0.1f,
                    FLT_MAX,
                    FLT_MIN,
                    f32_from_bits(1),
                    3.14159274f,
                    16777216.0f,
                    -1e-7f};
  add_const(g, "c_f32", tensor(PARE_F32, 1, d16, f32s));
  double f64s[8] = {f64_from_bits(0x7ff8000000000000ull),
                    f64_from_bits(0x7ff0000000000001ull),
                    -0.0,
                    0.1,
                    DBL_MAX,
                    DBL_MIN,
                    f64_from_bits(1),
                    -INFINITY};
  add_const(g, "c_f64", tensor(PARE_F64, 1, d8, f64s));
  uint16_t f16s[8] = {0x3c00, 0x7e00, 0x7e01, 0x0001, 0x7bff, 0x3555, 0x8000, 0xfc00};
  add_const(g, "c_f16", tensor(PARE_F16, 1, d8, f16s));
  int8_t i8s[4] = {-128, 127, 0, -1};
  add_const(g, "c_i8", tensor(PARE_I8, 1, d4, i8s));
  uint8_t u8s[4] = {0, 255, 1, 128};
  add_const(g, "c_u8", tensor(PARE_U8, 1, d4, u8s));
  int16_t i16s[2] = {INT16_MIN, INT16_MAX};
  add_const(g, "c_i16", tensor(PARE_I16, 1, d2, i16s));
  uint16_t u16s[2] = {0, UINT16_MAX};
  add_const(g, "c_u16", tensor(PARE_U16, 1, d2, u16s));
  int32_t i32s[2] = {INT32_MIN, INT32_MAX};
  add_const(g, "c_i32", tensor(PARE_I32, 1, d2, i32s));
  uint32_t u32s[2] = {0, UINT32_MAX};
  add_const(g, "c_u32", tensor(PARE_U32, 1, d2, u32s));
  int64_t i64s[4] = {INT64_MIN, INT64_MAX, 0, -1};
  add_const(g, "c_i64", tensor(PARE_I64, 1, d4, i64s));
  uint64_t u64s[2] = {0, UINT64_MAX};
  add_const(g, "c_u64", tensor(PARE_U64, 1, d2, u64s));
  uint8_t bools[4] = {0, 1, 1, 0};
  add_const(g, "c_bool", tensor(PARE_BOOL, 1, d4, bools));
  float seven[6] = {7, 7, 7, 7, 7, 7};
  int64_t d23[] = {2, 3}, d03[] = {0, 3};
  add_const(g, "c_splat", tensor(PARE_F32, 2, d23, seven));
  add_const(g, "c_empty", tensor(PARE_F32, 2, d03, NULL));
  float half = 2.5f;
  add_const(g, "c_scalar", tensor(PARE_F32, 0, NULL, &half));
}

static pare_encoding *sparse_2x4(void) {
  pare_encoding *e = calloc(1, sizeof *e);
  int64_t d3[] = {3}, d2[] = {2};
  int64_t rp[3] = {0, 1, 2};
  int32_t ci[2] = {1, 3};
  float vals[2] = {0.25f, -8};
  e->kind = PARE_ENC_SPARSE;
  e->row_ptr = tensor(PARE_I64, 1, d3, rp);
  e->col_idx = tensor(PARE_I32, 1, d2, ci);
  e->values = tensor(PARE_F32, 1, d2, vals);
  return e;
}

/* Each encoding kind, outliers, and an encoded constant without dense data. */
static void add_encoded_constants(pare_graph *g) {
  int64_t d48[] = {4, 8}, d24[] = {2, 4}, d16[] = {16}, d8[] = {8}, d3[] = {3}, d1[] = {1},
          d2[] = {2};
  uint8_t packed[16];
  for (int i = 0; i < 16; i++) packed[i] = (uint8_t)(i * 37);
  float scales[8] = {0.5f, 1, 2, 0.125f, 3, 4, 5, 6}, zeros[8] = {8, 7, 6, 5, 4, 3, 2, 1};

  pare_encoding *q = calloc(1, sizeof *q);
  q->kind = PARE_ENC_QUANT;
  q->bits = 4;
  q->axis = 0;
  q->group_size = 4;
  q->packed = tensor(PARE_U8, 1, d16, packed);
  q->scales = tensor(PARE_F32, 1, d8, scales);
  q->zeros = tensor(PARE_F32, 1, d8, zeros);
  int v = add_const(g, "q.asym", tensor(PARE_F32, 2, d48, NULL));
  pare_tensor *decoded = pare_weight_decode(q, &g->values[v]->shape, NULL);
  pare_tensor_free(g->values[v]->init);
  g->values[v]->init = decoded; /* dense copy = what the encoding decodes to */
  g->values[v]->enc = q;

  pare_encoding *qs = calloc(1, sizeof *qs);
  qs->kind = PARE_ENC_QUANT;
  qs->bits = 3;
  qs->symmetric = 1;
  qs->axis = -1;
  qs->packed = tensor(PARE_U8, 1, d3, packed);
  qs->scales = tensor(PARE_F32, 1, d1, scales);
  qs->outliers = sparse_2x4();
  v = add_const(g, "q.sym", tensor(PARE_F32, 2, d24, NULL));
  g->values[v]->enc = qs;

  pare_encoding *cb = calloc(1, sizeof *cb);
  cb->kind = PARE_ENC_CODEBOOK;
  cb->bits = 2;
  cb->axis = 0;
  cb->packed = tensor(PARE_U8, 1, d2, packed);
  cb->codebook = tensor(PARE_F32, 2, d24, scales);
  v = add_const(g, "cb", tensor(PARE_F32, 2, d24, NULL));
  g->values[v]->enc = cb;

  pare_encoding *sp = sparse_2x4();
  sp->nm_n = 2;
  sp->nm_m = 4;
  v = add_const(g, "sp", tensor(PARE_F32, 2, d24, NULL));
  g->values[v]->enc = sp;

  /* Encoded only: no dense copy kept. */
  pare_encoding *only = calloc(1, sizeof *only);
  only->kind = PARE_ENC_QUANT;
  only->bits = 8;
  only->symmetric = 1;
  only->axis = -1;
  only->packed = tensor(PARE_U8, 1, d8, packed);
  only->scales = tensor(PARE_F32, 1, d1, scales);
  pare_shape s = pare_shape_make(2, d24);
  v = pare_graph_add_value(g, "enc.only", PARE_F32, &s, NULL);
  g->values[v]->enc = only;
}

static pare_graph *build_everything(void) {
  pare_graph *g = pare_graph_new("test graph");
  g->opset = 13;
  pare_err err;
  /* Inputs: symbolic dims (named, empty-named, named with a known size),
   * unknown rank, a scalar, strange names. */
  int64_t xd[] = {-1, 3, -1, -1};
  pare_shape xs = pare_shape_make(4, xd);
  int x = pare_graph_add_value(g, "x", PARE_F32, &xs, &err);
  g->values[x]->dim_param[0] = pare_strdup("N");
  g->values[x]->dim_param[1] = pare_strdup("C");
  g->values[x]->dim_param[2] = pare_strdup("");
  g->values[x]->dim_param[3] = pare_strdup("width with space");
  pare_graph_add_input(g, x, &err);
  pare_shape unk = pare_shape_unknown();
  int w = pare_graph_add_value(g, "weird \"name\"\n\t\x01 ü", PARE_I64, &unk, &err);
  pare_graph_add_input(g, w, &err);
  pare_shape scalar = pare_shape_make(0, NULL);
  int sc = pare_graph_add_value(g, "a/b:c.d-e_f", PARE_BOOL, &scalar, &err);
  pare_graph_add_input(g, sc, &err);
  int64_t sd[] = {2};
  pare_shape ss = pare_shape_make(1, sd);
  int str = pare_graph_add_value(g, "strings", PARE_STRING, &ss, &err);
  pare_graph_add_input(g, str, &err);

  add_dtype_constants(g);
  add_encoded_constants(g);
  pare_graph_add_value(g, "unused", PARE_UNDEFINED, &unk, &err); /* defined by nothing */

  /* Node 0: every attribute type. */
  int64_t yd[] = {-1, 8, -1, -1};
  pare_shape ys = pare_shape_make(4, yd);
  int y = pare_graph_add_value(g, "y", PARE_F32, &ys, &err);
  g->values[y]->dim_param[0] = pare_strdup("N");
  int wv = pare_graph_find_value(g, "c_f32");
  int in0[] = {x, wv, -1};
  int n0 = pare_graph_add_node(g, "Conv", "conv 1", in0, 3, &y, 1, &err);
  pare_node *n = g->nodes[n0];
  pare_node_set_int(n, "group", 1, &err);
  pare_node_set_float(n, "alpha", 1.0f, &err);
  int64_t one = 1;
  pare_node_set_ints(n, "pads", &one, 1, &err);
  float fl[] = {1.0f, f32_from_bits(0x7fc00003), -0.0f, f32_from_bits(1), 0.1f};
  pare_node_set_floats(n, "scales", fl, 5, &err);
  pare_node_set_string(n, "mode", "a\"b\\c\n\t\x7f ü", &err);
  pare_node_set_string(n, "empty", "", &err);
  pare_node_set_ints(n, "no_ints", NULL, 0, &err);
  pare_node_set_floats(n, "no_floats", NULL, 0, &err);
  int64_t big[] = {INT64_MIN, INT64_MAX, -1};
  pare_node_set_ints(n, "big", big, 3, &err);
  int64_t td[] = {2};
  float tv[] = {1, f32_from_bits(0xffc00000)};
  pare_node_set_tensor(n, "value", tensor(PARE_F32, 1, td, tv), &err);
  int64_t id[] = {3};
  int64_t iv[] = {5, -5, 0};
  pare_node_set_tensor(n, "shape", tensor(PARE_I64, 1, id, iv), &err);
  /* STRINGS has no setter: build it by hand (empty, then 3 strings). */
  for (int pass = 0; pass < 2; pass++) {
    pare_node_set_int(n, pass ? "strs" : "no_strs", 0, &err);
    pare_attr *a = &n->attrs[n->n_attrs - 1];
    a->type = PARE_ATTR_STRINGS;
    a->n = pass ? 3 : 0;
    a->strings = calloc(3, sizeof(char *));
    if (pass) {
      a->strings[0] = pare_strdup("");
      a->strings[1] = pare_strdup("x y");
      a->strings[2] = pare_strdup("\"q\"");
    }
  }

  /* Node 1: domain, omitted output and input, no name. */
  pare_shape q = pare_shape_make(1, (int64_t[]){-1});
  int a = pare_graph_add_value(g, "a", PARE_F32, &q, &err);
  int in1[] = {y, -1, w};
  int out1[] = {a, -1};
  int n1 = pare_graph_add_node(g, "Split2", NULL, in1, 3, out1, 2, &err);
  free(g->nodes[n1]->name);
  g->nodes[n1]->name = NULL;
  g->nodes[n1]->domain = pare_strdup("com.example");

  /* Node 2: no outputs, empty name. */
  int n2 = pare_graph_add_node(g, "Print", NULL, &a, 1, NULL, 0, &err);
  free(g->nodes[n2]->name);
  g->nodes[n2]->name = pare_strdup("");

  /* Node 3: names with ':' (trailing ':' must be quoted), explicit ai.onnx domain. */
  int o0 = pare_graph_add_value(g, "out:0", PARE_F32, &q, &err);
  int o1 = pare_graph_add_value(g, "tail:", PARE_F32, &q, &err);
  int outs3[] = {o0, o1};
  int n3 = pare_graph_add_node(g, "TopK", "node:", &a, 1, outs3, 2, &err);
  g->nodes[n3]->domain = pare_strdup("ai.onnx");

  /* Node 4: an op name that needs quoting; reads the encoded constants. */
  int e0 = pare_graph_find_value(g, "q.asym"), e1 = pare_graph_find_value(g, "enc.only");
  int o2 = pare_graph_add_value(g, "z", PARE_F32, &q, &err);
  int in4[] = {e0, e1, o1, sc};
  pare_graph_add_node(g, "My-Op", "", in4, 4, &o2, 1, &err);
  free(g->nodes[4]->name);
  g->nodes[4]->name = pare_strdup("with space");

  pare_graph_add_output(g, y, &err);
  pare_graph_add_output(g, o0, &err);
  pare_graph_add_output(g, pare_graph_find_value(g, "c_splat"), &err);
  pare_graph_add_output(g, x, &err);
  pare_graph_add_output(g, o2, &err);
  return g;
}

/* ------------------------------------------------------------------ tests */

static void test_roundtrip_everything(void) {
  pare_graph *g = build_everything();
  pare_err err = {{0}};
  CHECK_MSG(pare_graph_verify(g, &err) == PARE_OK, "%s", err.msg);
  check_roundtrip(g);
  pare_graph_free(g);
}

/* The canonical text of a small graph: parse then print gives it back verbatim. */
static const char *canonical_text =
    "graph @main opset 17 {\n"
    "  input %x : f32[N,3,?,W=5]\n"
    "  input %\"my input\" : i64[*]\n"
    "  const %w : f32[2,3] = dense<0.5, -1, inf, nan, -0, 1e-45>\n"
    "  const %b : f32[2] = dense<0>\n"
    "  const %k : i64[] = dense<2>\n"
    "  const %q : f32[2,4] = quant<bits=3, symmetric=1, axis=-1, group_size=0> {packed = u8[3] "
    "dense<1, 2, 3>, scales = f32[1] dense<0.25>, outliers = sparse<nm_n=0, nm_m=0> {row_ptr = "
    "i64[3] dense<0, 1, 1>, col_idx = i32[1] dense<2>, values = f32[1] dense<-4>}}\n"
    "  value %spare : undef[*]\n"
    "  %y : f32[N,2,?,5] = Conv(%x, %w, _) {group = 1 : int, alpha = 1 : float, pads = [1] : "
    "ints, s = \"a\\\"b\" : string, fs = [0.1, nan:0x7fc00001] : floats, ss = [\"u\", \"\"] : "
    "strings, t = bool[2] dense<true, false> : tensor} @conv1\n"
    "  %v : f32[2], _ = com.example::\"Two-Out\"(%y, _, %q, %\"my input\") @\"n 2\"\n"
    "  () = Print(%v)\n"
    "  output %y\n"
    "  output %v\n"
    "}\n";

static void test_canonical_text(void) {
  pare_err err = {{0}};
  pare_graph *g = pare_graph_parse(canonical_text, "canon", NULL, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (!g) return;
  char *text = pare_graph_to_text(g, NULL, &err);
  CHECK_MSG(text && strcmp(text, canonical_text) == 0, "got:\n%s", text);
  /* Spot checks of what was parsed. */
  int x = pare_graph_find_value(g, "x");
  CHECK(x >= 0 && g->values[x]->shape.dims[3] == 5 && str_eq(g->values[x]->dim_param[3], "W"));
  CHECK(x >= 0 && g->values[x]->shape.dims[0] == -1 && str_eq(g->values[x]->dim_param[0], "N"));
  CHECK(x >= 0 && g->values[x]->dim_param[2] == NULL);
  const pare_node *conv = g->nodes[0];
  CHECK(pare_node_attr(conv, "group")->type == PARE_ATTR_INT);
  CHECK(pare_node_attr(conv, "alpha")->type == PARE_ATTR_FLOAT);
  CHECK(pare_node_attr(conv, "pads")->type == PARE_ATTR_INTS);
  CHECK(conv->inputs[2] == -1);
  CHECK(str_eq(g->nodes[1]->domain, "com.example") && str_eq(g->nodes[1]->op, "Two-Out"));
  CHECK(g->nodes[1]->outputs[1] == -1 && str_eq(g->nodes[1]->name, "n 2"));
  CHECK(g->nodes[2]->n_outputs == 0 && g->nodes[2]->name == NULL);
  int b = pare_graph_find_value(g, "b");
  CHECK(b >= 0 && g->values[b]->init && ((float *)g->values[b]->init->data)[1] == 0.0f);
  free(text);
  pare_graph_free(g);
}

/* Hand-written text: comments, free layout, attribute types inferred. */
static void test_handwritten_and_inferred_types(void) {
  const char *src = "# a comment line\n"
                    "graph opset 18 {   # trailing comment\n"
                    "  input %x: f32[2]\n"
                    "  %y : f32[2] = Foo(%x) {i = -3, f = 2.0, e = 1e3, n = nan,\n"
                    "       is = [1, 2], fs = [1, 2.5], s = \"str\", ss = [\"a\"],\n"
                    "       t = i32[2] dense<7, 8>, ei = [] : ints, fi = 4 : float}\n"
                    "  output %y\n"
                    "}\n";
  pare_err err = {{0}};
  pare_graph *g = pare_graph_parse(src, "hand", NULL, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (!g) return;
  CHECK(g->name == NULL && g->opset == 18);
  const pare_node *n = g->nodes[0];
  struct {
    const char *name;
    pare_attr_type type;
  } want[] = {{"i", PARE_ATTR_INT},    {"f", PARE_ATTR_FLOAT},    {"e", PARE_ATTR_FLOAT},
              {"n", PARE_ATTR_FLOAT},  {"is", PARE_ATTR_INTS},    {"fs", PARE_ATTR_FLOATS},
              {"s", PARE_ATTR_STRING}, {"ss", PARE_ATTR_STRINGS}, {"t", PARE_ATTR_TENSOR},
              {"ei", PARE_ATTR_INTS},  {"fi", PARE_ATTR_FLOAT}};
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    const pare_attr *a = pare_node_attr(n, want[k].name);
    CHECK_MSG(a && a->type == want[k].type, "attribute %s", want[k].name);
  }
  CHECK(pare_attr_int(n, "i", 0) == -3);
  CHECK(pare_attr_float(n, "e", 0) == 1000.0f);
  CHECK(pare_attr_float(n, "fi", 0) == 4.0f);
  CHECK(isnan(pare_attr_float(n, "n", 0)));
  const pare_attr *t = pare_node_attr(n, "t");
  CHECK(t && t->t && t->t->dtype == PARE_I32 && ((int32_t *)t->t->data)[1] == 8);
  CHECK(pare_node_attr(n, "ei")->n == 0);
  check_roundtrip(g);
  pare_graph_free(g);
}

static void test_elided(void) {
  pare_graph *g = build_everything();
  pare_err err = {{0}};
  pare_print_opts opts = {.elide_above = 4};
  char *text = pare_graph_to_text(g, &opts, &err);
  CHECK(text != NULL);
  if (!text) {
    pare_graph_free(g);
    return;
  }
  /* c_f32 has 16 elements: elided, with the crc of its data. */
  const pare_value *cf = g->values[pare_graph_find_value(g, "c_f32")];
  char want[128];
  snprintf(want, sizeof want, "const %%c_f32 : f32[16] = elided<crc32=0x%08x>",
           (unsigned)pare_tensor_crc32(cf->init));
  CHECK_STR_CONTAINS(text, want);
  CHECK_STR_CONTAINS(text, "const %c_splat : f32[2,3] = dense<7>\n"); /* splats stay exact */
  CHECK_STR_CONTAINS(text, "const %c_i8 : i8[4] = dense<-128, 127, 0, -1>\n");
  CHECK_STR_CONTAINS(text, "packed = u8[16] elided<crc32=");

  pare_graph *back = pare_graph_parse(text, "elided.pir", NULL, &err);
  CHECK(back == NULL);
  CHECK_STR_CONTAINS(err.msg, "elided.pir:");
  CHECK_STR_CONTAINS(err.msg, "constant data was elided");

  pare_parse_opts popts = {.allow_elided = 1};
  back = pare_graph_parse(text, "elided.pir", &popts, &err);
  CHECK_MSG(back != NULL, "%s", err.msg);
  if (back) {
    const pare_value *bf = back->values[pare_graph_find_value(back, "c_f32")];
    CHECK(bf->init && bf->init->nbytes == 64);
    int zero = 1;
    for (int i = 0; bf->init && i < 16; i++) zero &= ((float *)bf->init->data)[i] == 0.0f;
    CHECK(zero);
    /* Zero-filled data is a splat now, so it prints exactly. */
    char *again = pare_graph_to_text(back, &opts, &err);
    CHECK_STR_CONTAINS(again, "const %c_f32 : f32[16] = dense<0>\n");
    free(again);
    pare_graph_free(back);
  }
  free(text);
  pare_graph_free(g);
}

static void test_print_to_file_and_node_text(void) {
  pare_graph *g = build_everything();
  pare_err err = {{0}};
  char *text = pare_graph_to_text(g, NULL, &err);
  FILE *f = tmpfile();
  CHECK(f != NULL);
  if (f && text) {
    CHECK(pare_graph_print(f, g, NULL, &err) == PARE_OK);
    long len = ftell(f);
    CHECK(len == (long)strlen(text));
    rewind(f);
    char *buf = calloc((size_t)len + 1, 1);
    CHECK(fread(buf, 1, (size_t)len, f) == (size_t)len);
    CHECK(strcmp(buf, text) == 0);
    free(buf);
    fclose(f);
  }
  char *node = pare_node_to_text(g, 1, NULL);
  CHECK(node && strcmp(node, "%a : f32[?], _ = com.example::Split2(%y, _, "
                             "%\"weird \\\"name\\\"\\n\\t\\x01 ü\")") == 0);
  free(node);
  CHECK(pare_node_to_text(g, 99, NULL) == NULL);
  free(text);
  pare_graph_free(g);
}

static void test_parse_file_samples(void) {
  char path[4096];
  const char *names[] = {"basic.pir", "encodings.pir"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    snprintf(path, sizeof path, "%s/tests/ir/%s", check_source_dir(), names[k]);
    pare_err err = {{0}};
    pare_graph *g = pare_graph_parse_file(path, NULL, &err);
    CHECK_MSG(g != NULL, "%s", err.msg);
    if (g) check_roundtrip(g);
    pare_graph_free(g);
  }
  /* What the sample's scaled codebook and f16-scaled quantization decode to:
   * indices 3,2,1,0 / 0,1,2,3 times row scales 0.5 and 2; nibbles 1,2,3,4 /
   * -1,-1,8,0 (two's complement) times 0.25 and 0.125. */
  snprintf(path, sizeof path, "%s/tests/ir/encodings.pir", check_source_dir());
  pare_graph *g = pare_graph_parse_file(path, NULL, NULL);
  CHECK(g != NULL);
  if (g) {
    static const struct {
      const char *name;
      float want[8];
    } cases[] = {{"w.n", {0.5f, 0.25f, -0.25f, -0.5f, -2, -1, 1, 2}},
                 {"w.h", {0.25f, 0.5f, 0.75f, 1, -0.125f, -0.125f, -1, 0}}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      int v = pare_graph_find_value(g, cases[k].name);
      CHECK(v >= 0 && g->values[v]->enc);
      if (v < 0 || !g->values[v]->enc) continue;
      pare_tensor *t = pare_weight_decode(g->values[v]->enc, &g->values[v]->shape, NULL);
      CHECK(t != NULL);
      for (int i = 0; t && i < 8; i++) {
        float got = ((const float *)t->data)[i];
        CHECK_MSG(got == cases[k].want[i], "%s[%d] = %g, want %g", cases[k].name, i, got,
                  cases[k].want[i]);
      }
      pare_tensor_free(t);
    }
  }
  pare_graph_free(g);
  pare_err err = {{0}};
  CHECK(pare_graph_parse_file("/nonexistent/x.pir", NULL, &err) == NULL);
  CHECK_STR_CONTAINS(err.msg, "/nonexistent/x.pir: cannot open");
}

static void test_parse_errors(void) {
  static const struct {
    const char *text;
    const char *fragment;
  } cases[] = {
      {"graph @g opset 17 {\n  input %x : f33[2]\n}", "t.pir:2:14: unknown dtype 'f33'"},
      {"graph @g {\n}", "t.pir:1:10: expected 'opset', found '{'"},
      {"graph @g opset 17 {\n  %y : f32[2] = Relu(%z)\n}",
       "t.pir:2:22: value %z is not defined before this use"},
      {"graph @g opset 17 {\n  input %x : f32[2]\n  %y : f32[2] = Relu(%x\n  output %y\n}",
       "t.pir:4:3: expected ',', found 'output'"},
      {"graph @g opset 17 {\n  const %c : f32[3] = dense<1, 2>\n}",
       "t.pir:2:23: dense data has 2 elements but type f32[3] has 3"},
      {"graph @g opset 17 {\n  const %c : f32[1] = dense<1, 2>\n}",
       "t.pir:2:32: more elements than the 1 of type f32[1]"},
      {"graph @g opset 17 {\n  const %c : u8[2] = dense<1, 256>\n}",
       "t.pir:2:31: '256' is out of range for u8"},
      {"graph @g opset 17 {\n  const %c : f32[1] = dense<nan:0x00000001>\n}",
       "t.pir:2:29: 'nan:0x00000001' is not a valid f32 number"},
      {"graph @g opset 17 {\n  const %c : f32[1] = dense<1.2.3>\n}",
       "t.pir:2:29: malformed number"},
      {"graph @g opset 17 {\n  const %c : f32[1] = elided<crc32=0x1234abcd>\n}",
       "t.pir:2:23: constant data was elided"},
      {"graph @g opset 17 {\n  input %x : f32[2]\n  input %x : f32[2]\n}",
       "t.pir:3:9: value %x is defined twice"},
      {"graph @g opset 17 {\n  input %\"x : f32[2]\n}", "t.pir:2:10: unterminated string"},
      {"graph @g opset 17 {\n  input %x : f32[2]\n  %y : f32[2] = Foo(%x) {a = []}\n}",
       "t.pir:3:30: empty list attribute 'a' needs a type"},
      {"graph @g opset 17 {\n  input %x : f32[2]\n  %y : f32[2] = Foo(%x) {a = 1.5 : int}\n}",
       "t.pir:3:30: expected an integer, found '1.5'"},
      {"graph @g opset 17 {\n  input %x : f32[2]\n  %y : f32[2] = Foo(%x) {a = 1, a = 2}\n}",
       "t.pir:3:33: attribute 'a' given twice"},
      {"graph @g opset 17 {\n  input %x : f32[2]\n  %y : f32[2] = Foo(%x) {a = \"s\" : ints}\n}",
       "t.pir:3:30: attribute 'a': value does not match its type"},
      {"graph @g opset 17 {\n}\nextra", "t.pir:3:1: expected end of input after the graph's '}'"},
      {"graph @g opset 17 {\n  bogus\n}", "t.pir:2:3: expected a statement"},
      {"graph @g opset 17 {\n  input %x : f32[2]\n  output %x\n",
       "t.pir:4:1: expected a statement"},
      {"graph @g opset 17 {\n  const %c : f32[?] = dense<1>\n}",
       "t.pir:2:9: constant %c needs a static shape"},
      {"graph @g opset 17 {\n  const %c : f32[1] = quant<bits=4, bogus=1> {}\n}",
       "t.pir:2:37: expected an encoding field"},
      {"graph @g opset 17 {\n  input %x : f32[2]\n  %x : f32[2] = Relu(%x)\n}",
       "t.pir:3:3: value %x is defined twice"},
      {"graph @g opset 17 {\n  input %x : f32[1,2,3,4,5,6,7,8,9]\n}",
       "t.pir:2:34: more than 8 dimensions"},
      {"graph @g opset 17 {\n  input %x : f32[2]\n  %y : f32[2] = Foo(%x) {t = f32[?] dense<1> : "
       "tensor}\n}",
       "t.pir:3:34: a tensor's dims must be known"},
      /* Structural errors caught by pare_graph_verify after parsing. */
      {"graph @g opset 17 {\n  const %c : i64[2] = quant<bits=4, symmetric=1, axis=-1> {packed = "
       "u8[1] dense<0>, scales = f32[1] dense<1>}\n}",
       "t.pir: constant %c is i64: only f32 weights can be encoded"},
      {"graph @g opset 17 {\n  const %c : f32[2] = quant<bits=4, symmetric=0, axis=-1> {packed = "
       "u8[1] dense<0>, scales = f32[1] dense<1>}\n}",
       "t.pir: constant %c: quant encoding: lacks its 'zeros' part"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    pare_err err = {{0}};
    pare_graph *g = pare_graph_parse(cases[k].text, "t.pir", NULL, &err);
    CHECK_MSG(g == NULL, "case %zu parsed", k);
    pare_graph_free(g);
    CHECK_MSG(strstr(err.msg, cases[k].fragment) != NULL, "case %zu: '%s' lacks '%s'", k, err.msg,
              cases[k].fragment);
  }
}

static void test_json(void) {
  pare_graph *g = build_everything();
  pare_err err = {{0}};
  char *text = pare_graph_to_json(g, &err);
  CHECK_MSG(text != NULL, "%s", err.msg);
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  CHECK(root != NULL);
  if (root) {
    CHECK(str_eq(cJSON_GetObjectItem(root, "name")->valuestring, "test graph"));
    CHECK(cJSON_GetObjectItem(root, "opset")->valuedouble == 13);
    cJSON *inputs = cJSON_GetObjectItem(root, "inputs");
    CHECK(cJSON_GetArraySize(inputs) == 4);
    cJSON *x = cJSON_GetArrayItem(inputs, 0);
    CHECK(str_eq(cJSON_GetObjectItem(x, "dtype")->valuestring, "f32"));
    CHECK(cJSON_GetArrayItem(cJSON_GetObjectItem(x, "shape"), 0)->valuedouble == -1);
    CHECK(str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(x, "dim_params"), 0)->valuestring, "N"));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(inputs, 1), "shape")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(root, "outputs")) == 5);
    cJSON *values = cJSON_GetObjectItem(root, "values");
    CHECK(cJSON_GetArraySize(values) == g->n_values);
    cJSON *qa = cJSON_GetArrayItem(values, pare_graph_find_value(g, "q.asym"));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(qa, "is_const")));
    cJSON *enc = cJSON_GetObjectItem(qa, "encoding");
    CHECK(enc && str_eq(cJSON_GetObjectItem(enc, "kind")->valuestring, "quant"));
    CHECK(enc && cJSON_GetObjectItem(enc, "bits")->valuedouble == 4);
    CHECK(cJSON_GetObjectItem(qa, "bytes")->valuedouble == 16 + 32 + 32);
    cJSON *qs = cJSON_GetArrayItem(values, pare_graph_find_value(g, "q.sym"));
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(qs, "encoding"), "outliers") != NULL);
    cJSON *cf = cJSON_GetArrayItem(values, pare_graph_find_value(g, "c_f32"));
    CHECK(cJSON_GetObjectItem(cf, "bytes")->valuedouble == 64);
    char crc[16];
    snprintf(crc, sizeof crc, "0x%08x",
             (unsigned)pare_tensor_crc32(g->values[pare_graph_find_value(g, "c_f32")]->init));
    CHECK(str_eq(cJSON_GetObjectItem(cf, "crc32")->valuestring, crc));
    cJSON *nodes = cJSON_GetObjectItem(root, "nodes");
    CHECK(cJSON_GetArraySize(nodes) == g->n_nodes);
    cJSON *conv = cJSON_GetArrayItem(nodes, 0);
    CHECK(str_eq(cJSON_GetObjectItem(conv, "op")->valuestring, "Conv"));
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(cJSON_GetObjectItem(conv, "inputs"), 2)));
    cJSON *attrs = cJSON_GetObjectItem(conv, "attributes");
    int seen = 0;
    for (int k = 0; k < cJSON_GetArraySize(attrs); k++) {
      cJSON *a = cJSON_GetArrayItem(attrs, k);
      const char *name = cJSON_GetObjectItem(a, "name")->valuestring;
      const char *type = cJSON_GetObjectItem(a, "type")->valuestring;
      cJSON *val = cJSON_GetObjectItem(a, "value");
      if (str_eq(name, "alpha")) seen += str_eq(type, "float") && val->valuedouble == 1.0;
      if (str_eq(name, "big"))
        seen += str_eq(cJSON_GetArrayItem(val, 1)->valuestring, "9223372036854775807");
      if (str_eq(name, "scales")) seen += str_eq(cJSON_GetArrayItem(val, 1)->valuestring, "nan");
      if (str_eq(name, "shape"))
        seen += cJSON_GetArrayItem(cJSON_GetObjectItem(val, "data"), 1)->valuedouble == -5;
    }
    CHECK(seen == 4);
    CHECK(str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(nodes, 1), "domain")->valuestring,
                 "com.example"));
    cJSON_Delete(root);
  }
  free(text);
  /* The builder can be extended by other modules. */
  cJSON *tree = pare_graph_to_cjson(g, &err);
  CHECK(tree && cJSON_AddStringToObject(tree, "summary", "extra") != NULL);
  cJSON_Delete(tree);
  pare_graph_free(g);
}

/* Every proper prefix of a valid text fails cleanly; random byte mutations
 * either fail with a positioned message or give a graph that round-trips. */
static void test_truncations_and_mutations(void) {
  pare_graph *g = build_everything();
  pare_err err = {{0}};
  char *text = pare_graph_to_text(g, NULL, &err);
  pare_graph_free(g);
  CHECK(text != NULL);
  if (!text) return;
  size_t len = strlen(text);
  char *buf = malloc(len + 1);
  int bad_prefix = 0;
  for (size_t cut = 0; cut + 1 < len; cut += 7) { /* the last byte is a '\n' */
    memcpy(buf, text, cut);
    buf[cut] = 0;
    pare_graph *p = pare_graph_parse(buf, "cut", NULL, &err);
    if (p || !strstr(err.msg, "cut:")) bad_prefix++;
    pare_graph_free(p);
  }
  CHECK(bad_prefix == 0);
  static const char alphabet[] = "%@_\"\\#,:=<>[]{}()-.?* \n0123456789aefinx";
  uint32_t seed = 12345;
  int parsed = 0;
  for (int round = 0; round < 3000; round++) {
    memcpy(buf, text, len + 1);
    for (int m = 0; m < 1 + round % 3; m++) {
      seed = seed * 1664525u + 1013904223u;
      size_t at = (seed >> 8) % len;
      seed = seed * 1664525u + 1013904223u;
      buf[at] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
    }
    pare_graph *p = pare_graph_parse(buf, "mut", NULL, &err);
    if (p) {
      parsed++;
      check_roundtrip(p);
      pare_graph_free(p);
    } else {
      CHECK_MSG(strncmp(err.msg, "mut:", 4) == 0, "%s", err.msg);
    }
  }
  CHECK(parsed > 0); /* some mutations only touch data or names */
  free(buf);
  free(text);
}

/* Floats read back bit-exact: all 65536 f16 patterns, random f32/f64 bits
 * (NaN payloads, subnormals and infinities included). */
static void test_float_bits_roundtrip(void) {
  pare_graph *g = pare_graph_new("bits");
  int64_t n16[] = {65536}, n32[] = {20000}, n64[] = {20000};
  pare_tensor *h = tensor(PARE_F16, 1, n16, NULL);
  for (int i = 0; i < 65536; i++) ((uint16_t *)h->data)[i] = (uint16_t)i;
  pare_tensor *f = tensor(PARE_F32, 1, n32, NULL);
  pare_tensor *d = tensor(PARE_F64, 1, n64, NULL);
  uint64_t seed = 42;
  for (int i = 0; i < 20000; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    ((uint32_t *)f->data)[i] = (uint32_t)(seed >> 32);
    ((uint64_t *)d->data)[i] = seed ^ (seed << 17);
  }
  add_const(g, "h", h);
  add_const(g, "f", f);
  add_const(g, "d", d);
  check_roundtrip(g);
  pare_graph_free(g);
}

int main(void) {
  RUN(test_roundtrip_everything);
  RUN(test_canonical_text);
  RUN(test_handwritten_and_inferred_types);
  RUN(test_elided);
  RUN(test_print_to_file_and_node_text);
  RUN(test_parse_file_samples);
  RUN(test_parse_errors);
  RUN(test_json);
  RUN(test_float_bits_roundtrip);
  RUN(test_truncations_and_mutations);
  return check_summary();
}
