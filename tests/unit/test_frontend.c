/*
 * test_frontend.c - the ONNX frontend on real models, .pb tensors, shape
 * binding, and hostile files (each must fail cleanly with a clear message).
 * Normalization and constant forms: test_frontend_normalize.c.
 */
#include "check.h"
#include "frontend/onnx.h"
#include "ops/ops.h"
#include "test_frontend_model.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_dir[256];

/* Path of `name` inside the test's temporary folder (rotating buffers). */
static const char *tmp_path(const char *name) {
  static char bufs[8][512];
  static int next;
  char *b = bufs[next++ % 8];
  snprintf(b, sizeof bufs[0], "%s/%s", tmp_dir, name);
  return b;
}

/* rm -r without following symlinks. */
static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char child[1024];
      snprintf(child, sizeof child, "%s/%s", path, e->d_name);
      remove_tree(child);
    }
    if (d) closedir(d);
  }
  remove(path);
}

static const char *node_count_op(const pare_graph *g, const char *op, int *count) {
  *count = 0;
  for (int k = 0; k < g->n_nodes; k++) *count += strcmp(g->nodes[k]->op, op) == 0;
  return op;
}

static int const_count(const pare_graph *g) {
  int n = 0;
  for (int i = 0; i < g->n_values; i++) n += g->values[i]->init != NULL;
  return n;
}

/* Loads path expecting failure; the message must name the file and contain every key. */
static void expect_fail_at(int line, const char *path, const char *const *keys) {
  pare_err err = {{0}};
  pare_graph *g = pare_onnx_load(path, &err);
  CHECK_MSG(g == NULL, "line %d: %s loaded but should fail", line, path);
  pare_graph_free(g);
  CHECK_MSG(strncmp(err.msg, path, strlen(path)) == 0, "line %d: '%s' does not start with %s", line,
            err.msg, path);
  for (; *keys; keys++)
    CHECK_MSG(strstr(err.msg, *keys), "line %d: '%s' lacks '%s'", line, err.msg, *keys);
}
#define EXPECT_FAIL(path, ...)                                                                     \
  expect_fail_at(__LINE__, path, (const char *const[]){__VA_ARGS__, NULL})

/* ------------------------------------------------------------ real models */

typedef struct model_fact {
  const char *file;
  int64_t opset;
  const char *input;
  int in_rank;
  int64_t in_dims[4];
  const char *output;
  int out_rank;
  int64_t out_dims[4];
  int nodes, consts;
  int64_t params; /* elements over all constants */
} model_fact;

static const model_fact facts[] = {
    {"mnist/mnist-cnn.onnx", 11, "input", 4, {-1, 1, 28, 28}, "output", 2, {-1, 10}, 10, 9, 421644},
    {"openwakeword/hello_deepa.onnx",
     13,
     "onnx::Flatten_0",
     3,
     {1, 25, 96},
     "39",
     2,
     {1, 1},
     25,
     18,
     78057},
    {"ppocr/ch_PP-OCRv4_det_infer.onnx",
     11,
     "x",
     4,
     {-1, 3, -1, -1},
     "sigmoid_0.tmp_0",
     4,
     {-1, 1, -1, -1},
     330,
     342,
     1171841},
    {"ppocr/ch_PP-OCRv4_rec_infer.onnx",
     9,
     "x",
     4,
     {-1, 3, 48, -1},
     "softmax_11.tmp_0",
     3,
     {-1, -1, 6625},
     440,
     428,
     2690415},
    {"ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx",
     9,
     "x",
     4,
     {-1, 3, -1, -1},
     "softmax_0.tmp_0",
     2,
     {-1, 2},
     221,
     289,
     133704},
};

static void check_fact(const pare_graph *g, const model_fact *f) {
  CHECK_MSG(g->opset == f->opset, "%s opset %lld", f->file, (long long)g->opset);
  CHECK(g->n_inputs == 1 && g->n_outputs == 1);
  const pare_value *in = g->values[g->inputs[0]], *out = g->values[g->outputs[0]];
  pare_shape want_in = pare_shape_make(f->in_rank, f->in_dims);
  pare_shape want_out = pare_shape_make(f->out_rank, f->out_dims);
  CHECK_MSG(strcmp(in->name, f->input) == 0, "%s input %s", f->file, in->name);
  CHECK_MSG(strcmp(out->name, f->output) == 0, "%s output %s", f->file, out->name);
  CHECK(in->dtype == PARE_F32 && out->dtype == PARE_F32);
  CHECK_MSG(pare_shape_equal(&in->shape, &want_in), "%s input shape", f->file);
  CHECK_MSG(pare_shape_equal(&out->shape, &want_out), "%s output shape", f->file);
  CHECK_MSG(g->n_nodes == f->nodes, "%s: %d nodes", f->file, g->n_nodes);
  CHECK_MSG(const_count(g) == f->consts, "%s: %d constants", f->file, const_count(g));
  int64_t params = 0;
  for (int i = 0; i < g->n_values; i++)
    if (g->values[i]->init) params += pare_tensor_numel(g->values[i]->init);
  CHECK_MSG(params == f->params, "%s: %lld parameters", f->file, (long long)params);
}

/* Loads with the unsupported-op check off, so the facts hold whatever the
 * registry currently holds. */
static pare_graph *load_any(const char *path, pare_err *err) {
  uint8_t *data;
  size_t len;
  if (pare_fe_read_file(path, &data, &len, err)) return NULL;
  char *dir = pare_fe_dirname(path);
  pare_graph *g = pare_fe_load_bytes(data, len, path, dir, PARE_FE_ALLOW_UNSUPPORTED, err);
  free(dir);
  free(data);
  return g;
}

static void test_real_models(void) {
  const char *shared = check_shared_dir();
  if (!shared) SKIP("../shared not found");
  for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s", shared, facts[i].file);
    pare_err err = {{0}};
    pare_graph *g = load_any(path, &err);
    CHECK_MSG(g != NULL, "%s", err.msg);
    if (!g) continue;
    check_fact(g, &facts[i]);
    pare_graph_free(g);
    /* The public entry point additionally requires every op to be registered. */
    g = pare_onnx_load(path, &err);
    if (g) {
      CHECK(g->n_nodes == facts[i].nodes);
      pare_graph_free(g);
    } else {
      CHECK_STR_CONTAINS(err.msg, "unsupported op");
      fprintf(stderr, "note: %s\n", err.msg);
    }
  }
}

static void test_real_model_details(void) {
  const char *shared = check_shared_dir();
  if (!shared) SKIP("../shared not found");
  char path[1024];
  pare_err err = {{0}};
  int count;
  snprintf(path, sizeof path, "%s/models/mnist/mnist-cnn.onnx", shared);
  pare_graph *g = load_any(path, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (g) {
    const pare_value *in = g->values[g->inputs[0]];
    CHECK(in->dim_param[0] && strcmp(in->dim_param[0], "batch_size") == 0);
    CHECK(in->dim_param[1] == NULL);
    CHECK(node_count_op(g, "Conv", &count) && count == 2);
    CHECK(node_count_op(g, "Gemm", &count) && count == 2);
    pare_graph_free(g);
  }
  /* Recognizer (opset 9): Softmax along the last axis stays one node. */
  snprintf(path, sizeof path, "%s/models/ppocr/ch_PP-OCRv4_rec_infer.onnx", shared);
  g = load_any(path, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (!g) return;
  CHECK(node_count_op(g, "Softmax", &count) && count == 3);
  CHECK(node_count_op(g, "Flatten", &count) && count == 0);
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    if (strcmp(n->op, "Softmax") == 0) CHECK(pare_attr_int(n, "axis", 0) == -1);
    if (strcmp(n->op, "Clip") == 0) { /* opset-9 min/max attributes became scalar inputs */
      CHECK(n->n_inputs == 3 && n->n_attrs == 0);
      for (int j = 1; j < 3 && j < n->n_inputs; j++)
        CHECK(n->inputs[j] >= 0 && g->values[n->inputs[j]]->init &&
              g->values[n->inputs[j]]->init->shape.rank == 0);
    }
    if (strcmp(n->op, "Squeeze") == 0 || strncmp(n->op, "Reduce", 6) == 0)
      CHECK(n->n_inputs == 2 && g->values[n->inputs[1]]->init && !pare_node_attr(n, "axes"));
  }
  pare_graph_free(g);
}

static void test_bind_shapes(void) {
  const char *shared = check_shared_dir();
  if (!shared) SKIP("../shared not found");
  char path[1024];
  pare_err err = {{0}};
  snprintf(path, sizeof path, "%s/models/mnist/mnist-cnn.onnx", shared);
  pare_graph *g = load_any(path, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (!g) return;
  int64_t bad_rank[3] = {1, 1, 28}, bad_dim[4] = {1, 2, 28, 28}, zero[4] = {0, 1, 28, 28};
  int64_t neg[4] = {-3, 1, 28, 28}, good[4] = {4, 1, 28, 28};
  pare_shape s = pare_shape_make(3, bad_rank);
  CHECK(pare_bind_input_shape(g, "input", &s, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "'input'");
  CHECK_STR_CONTAINS(err.msg, "[?,1,28,28]");
  CHECK_STR_CONTAINS(err.msg, "[1,1,28]");
  s = pare_shape_make(4, bad_dim);
  CHECK(pare_bind_input_shape(g, "input", &s, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "[1,2,28,28]");
  s = pare_shape_make(4, neg);
  CHECK(pare_bind_input_shape(g, "input", &s, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "negative dim");
  s = pare_shape_make(4, good);
  CHECK(pare_bind_input_shape(g, "nope", &s, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "no input 'nope'");
  CHECK(pare_bind_input_shape(g, "input", &s, &err) == PARE_OK);
  CHECK(pare_shape_equal(&g->values[g->inputs[0]]->shape, &s));
  pare_graph_free(g);
  /* An empty batch is a legal ONNX shape. */
  g = load_any(path, &err);
  if (!g) return;
  s = pare_shape_make(4, zero);
  CHECK_MSG(pare_bind_input_shape(g, "input", &s, &err) == PARE_OK, "%s", err.msg);
  pare_graph_free(g);
}

static void test_bind_shared_dim_param(void) {
  Onnx__ModelProto *m = tb_model(13);
  int64_t dims[2] = {-1, 3};
  const char *params[2] = {"N", NULL};
  TB_PUSH(m->graph->input, m->graph->n_input,
          tb_value_info("a", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, dims, params));
  TB_PUSH(m->graph->input, m->graph->n_input,
          tb_value_info("b", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, dims, params));
  tb_node(m, "Add", "add", "a,b", "y");
  tb_output(m, "y");
  pare_err err = {{0}};
  pare_graph *g = tb_load(m, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (!g) return;
  int64_t two[2] = {2, 3}, five[2] = {5, 3};
  pare_shape s2 = pare_shape_make(2, two), s5 = pare_shape_make(2, five);
  CHECK(pare_bind_input_shape(g, "a", &s2, &err) == PARE_OK);
  CHECK(pare_bind_input_shape(g, "b", &s5, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "'N'");
  CHECK(pare_bind_input_shape(g, "b", &s2, &err) == PARE_OK);
  pare_graph_free(g);
}

/* ------------------------------------------------------------ .pb tensors */

static void check_pb(const char *path, pare_dtype dt, int rank, const int64_t *dims, int64_t at,
                     double value) {
  pare_err err = {{0}};
  pare_tensor *t = pare_tensor_read_pb(path, &err);
  CHECK_MSG(t != NULL, "%s", err.msg);
  if (!t) return;
  pare_shape want = pare_shape_make(rank, dims);
  CHECK_MSG(t->dtype == dt, "%s dtype %s", path, pare_dtype_name(t->dtype));
  CHECK_MSG(pare_shape_equal(&t->shape, &want), "%s shape", path);
  CHECK_NEAR(pare_tensor_get_f64(t, at), value, 1e-6);
  pare_tensor_free(t);
}

static void test_read_pb_shared(void) {
  const char *shared = check_shared_dir();
  if (!shared) SKIP("../shared not found");
  char path[1024];
  int64_t in[4] = {100, 1, 28, 28}, out[2] = {100, 10}, wake[3] = {1, 25, 96};
  snprintf(path, sizeof path, "%s/data/mnist/test_data_set_0/input_0.pb", shared);
  check_pb(path, PARE_F32, 4, in, 0, -0.424212962); /* (0/255 - 0.1307) / 0.3081 */
  snprintf(path, sizeof path, "%s/data/mnist/test_data_set_0/output_0.pb", shared);
  check_pb(path, PARE_F32, 2, out, 0, -19.6102371);
  check_pb(path, PARE_F32, 2, out, 3, 9.64245129);
  snprintf(path, sizeof path, "%s/data/hello-deepa/test_data_set_0/input_0.pb", shared);
  check_pb(path, PARE_F32, 3, wake, 1, -2.64871788);
}

static void test_read_pb_testdata(void) {
  const char *root = "/usr/share/libonnx-testdata/data/node";
  struct stat st;
  if (stat(root, &st) != 0) SKIP("%s not found", root);
  char path[1024];
  int64_t abs_dims[3] = {3, 4, 5}, shape_dims[1] = {2};
  snprintf(path, sizeof path, "%s/test_abs/test_data_set_0/input_0.pb", root);
  check_pb(path, PARE_F32, 3, abs_dims, 0, 1.76405239);
  check_pb(path, PARE_F32, 3, abs_dims, 5, -0.977277875);
  snprintf(path, sizeof path, "%s/test_reshape_reduced_dims/test_data_set_0/input_1.pb", root);
  check_pb(path, PARE_I64, 1, shape_dims, 0, 2);
  check_pb(path, PARE_I64, 1, shape_dims, 1, 12);
  snprintf(path, sizeof path, "%s/test_equal_bcast/test_data_set_0/output_0.pb", root);
  check_pb(path, PARE_BOOL, 3, abs_dims, 0, 0);
}

/* No temporary ".name.XXXXXX" files may remain in the folder. */
static int leftover_temp_files(void) {
  DIR *d = opendir(tmp_dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    n += e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  if (d) closedir(d);
  return n;
}

static void test_write_read_roundtrip(void) {
  pare_err err = {{0}};
  int64_t dims[2] = {2, 3};
  pare_shape s = pare_shape_make(2, dims);
  pare_tensor *t = pare_tensor_new(PARE_F32, &s, &err);
  for (int i = 0; i < 6; i++) ((float *)t->data)[i] = 0.5f * (float)i - 1.0f;
  const char *path = tmp_path("round.pb");
  CHECK(pare_tensor_write_pb(path, t, "x", &err) == PARE_OK);
  ((float *)t->data)[5] = 42.0f; /* overwrite an existing file */
  CHECK(pare_tensor_write_pb(path, t, NULL, &err) == PARE_OK);
  pare_tensor *back = pare_tensor_read_pb(path, &err);
  CHECK_MSG(back != NULL, "%s", err.msg);
  if (back) {
    CHECK(back->dtype == PARE_F32 && pare_shape_equal(&back->shape, &s));
    CHECK(back->nbytes == t->nbytes && memcmp(back->data, t->data, t->nbytes) == 0);
  }
  pare_tensor_free(back);
  pare_tensor_free(t);

  /* i64 scalar and bool */
  pare_shape scalar = pare_shape_make(0, NULL);
  t = pare_tensor_new(PARE_I64, &scalar, &err);
  ((int64_t *)t->data)[0] = -1234567890123LL;
  CHECK(pare_tensor_write_pb(tmp_path("scalar.pb"), t, "s", &err) == PARE_OK);
  back = pare_tensor_read_pb(tmp_path("scalar.pb"), &err);
  CHECK(back && back->shape.rank == 0 && pare_tensor_get_i64(back, 0) == -1234567890123LL);
  pare_tensor_free(back);
  pare_tensor_free(t);

  /* Failure leaves nothing behind. */
  t = pare_tensor_new(PARE_BOOL, &s, &err);
  CHECK(pare_tensor_write_pb(tmp_path("missing/dir/x.pb"), t, NULL, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "missing/dir/x.pb");
  t->nbytes = 3; /* inconsistent with its shape */
  CHECK(pare_tensor_write_pb(tmp_path("bad.pb"), t, NULL, &err) == PARE_ERR);
  t->nbytes = 6;
  pare_tensor_free(t);
  CHECK(access(tmp_path("bad.pb"), F_OK) != 0);
  CHECK(leftover_temp_files() == 0);

  /* In-memory parse of garbage. */
  const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
  CHECK(pare_tensor_parse_pb(junk, sizeof junk, "junk", &err) == NULL);
  CHECK_STR_CONTAINS(err.msg, "junk");
}

/* ------------------------------------------------------------ bad files */

static void test_bad_files(void) {
  const char *empty = tmp_path("empty.onnx");
  CHECK(tb_write_file(empty, "", 0) == 0);
  EXPECT_FAIL(empty, "empty");
  EXPECT_FAIL(tmp_dir, "directory");
  EXPECT_FAIL(tmp_path("does-not-exist.onnx"), "cannot open");
  pare_err err = {{0}};
  CHECK(pare_tensor_read_pb(empty, &err) == NULL);
  CHECK_STR_CONTAINS(err.msg, "empty");
  CHECK(pare_tensor_read_pb(tmp_dir, &err) == NULL);
  CHECK_STR_CONTAINS(err.msg, "directory");

  uint8_t noise[4096];
  uint32_t state = 12345;
  for (size_t i = 0; i < sizeof noise; i++) {
    state = state * 1103515245u + 12345u;
    noise[i] = (uint8_t)(state >> 16);
  }
  const char *random = tmp_path("random.onnx");
  CHECK(tb_write_file(random, noise, sizeof noise) == 0);
  EXPECT_FAIL(random, ": ");
  CHECK(pare_tensor_read_pb(random, &err) == NULL);
  CHECK_STR_CONTAINS(err.msg, random);

  const char *shared = check_shared_dir();
  if (!shared) return;
  char path[1024];
  snprintf(path, sizeof path, "%s/models/mnist/mnist-cnn.onnx", shared);
  uint8_t *data;
  size_t len;
  CHECK(pare_fe_read_file(path, &data, &len, &err) == PARE_OK);
  const char *trunc = tmp_path("truncated.onnx");
  CHECK(tb_write_file(trunc, data, len / 2) == 0);
  free(data);
  EXPECT_FAIL(trunc, "not a valid ONNX model");
}

/* ------------------------------------------------------------ hostile graphs */

static void test_hostile_graphs(void) {
  Onnx__ModelProto *m = tb_model(13);
  tb_node(m, "Relu", "r1", "y", "x");
  tb_node(m, "Relu", "r2", "x", "y");
  tb_output(m, "y");
  tb_save(m, tmp_path("cycle.onnx"));
  EXPECT_FAIL(tmp_path("cycle.onnx"), "cycle", "Relu");

  m = tb_model(13);
  tb_input(m, "x", 1, (int64_t[]){4});
  tb_node(m, "Relu", "r1", "nope", "y");
  tb_output(m, "y");
  tb_save(m, tmp_path("undefined.onnx"));
  EXPECT_FAIL(tmp_path("undefined.onnx"), "node 'r1' (Relu)", "undefined value 'nope'");

  m = tb_model(13);
  tb_input(m, "x", 1, (int64_t[]){4});
  tb_node(m, "Relu", "r1", "x", "y");
  tb_node(m, "Relu", "r2", "x", "y");
  tb_output(m, "y");
  tb_save(m, tmp_path("twice.onnx"));
  EXPECT_FAIL(tmp_path("twice.onnx"), "node 'r2' (Relu)", "'y' defined twice");

  m = tb_model(13);
  tb_input(m, "x", 1, (int64_t[]){4});
  tb_output(m, "ghost");
  tb_save(m, tmp_path("ghost.onnx"));
  EXPECT_FAIL(tmp_path("ghost.onnx"), "graph output 'ghost'");

  m = tb_model(0); /* no opset_import */
  tb_input(m, "x", 1, (int64_t[]){4});
  tb_node(m, "Relu", "r1", "x", "y");
  tb_output(m, "y");
  tb_save(m, tmp_path("noopset.onnx"));
  EXPECT_FAIL(tmp_path("noopset.onnx"), "opset");
}

/* A model whose only content is initializer t, read by Identity. */
static const char *save_init_model(const char *file, Onnx__TensorProto *t) {
  Onnx__ModelProto *m = tb_model(13);
  tb_init(m, t);
  tb_node(m, "Identity", "id", t->name, "y");
  tb_output(m, "y");
  const char *path = tmp_path(file);
  tb_save(m, path);
  return path;
}

static void test_hostile_tensors(void) {
  float data[12] = {0};
  int64_t d34[2] = {3, 4}, neg[2] = {-3, 4}, huge[3] = {1LL << 40, 1LL << 40, 1LL << 40};
  int64_t big[2] = {1LL << 20, 1LL << 20};
  const char *p;
  p = save_init_model("size.onnx", tb_tensor("w", 1, 2, d34, data, 40));
  EXPECT_FAIL(p, "initializer 'w'", "40 bytes", "[3,4]");
  Onnx__TensorProto *t = tb_tensor("w", 1, 2, d34, NULL, 0);
  t->float_data = tb_alloc(5 * sizeof(float));
  t->n_float_data = 5;
  p = save_init_model("typed.onnx", t);
  EXPECT_FAIL(p, "initializer 'w'", "5 elements");
  p = save_init_model("neg.onnx", tb_tensor("w", 1, 2, neg, data, 48));
  EXPECT_FAIL(p, "initializer 'w'", "negative dim");
  p = save_init_model("overflow.onnx", tb_tensor("w", 1, 3, huge, data, 48));
  EXPECT_FAIL(p, "initializer 'w'", "overflows");
  p = save_init_model("huge.onnx", tb_tensor("w", 1, 2, big, data, 48));
  EXPECT_FAIL(p, "initializer 'w'", "limit");
  p = save_init_model("strinit.onnx", tb_tensor("w", 8, 2, d34, NULL, 0));
  EXPECT_FAIL(p, "initializer 'w'", "string");
  p = save_init_model("bf16.onnx", tb_tensor("w", 16, 2, d34, data, 24));
  EXPECT_FAIL(p, "initializer 'w'", "bfloat16");

  /* Constant nodes holding strings. */
  Onnx__ModelProto *m = tb_model(13);
  Onnx__NodeProto *c = tb_node(m, "Constant", "c1", "", "s");
  tb_attr_string(c, "value_string", "hello");
  tb_output(m, "s");
  tb_save(m, tmp_path("conststr.onnx"));
  EXPECT_FAIL(tmp_path("conststr.onnx"), "node 'c1' (Constant)", "string");
  m = tb_model(13);
  c = tb_node(m, "Constant", "c2", "", "s");
  tb_attr_tensor(c, "value", tb_tensor("", 8, 0, NULL, NULL, 0));
  tb_output(m, "s");
  tb_save(m, tmp_path("conststr2.onnx"));
  EXPECT_FAIL(tmp_path("conststr2.onnx"), "node 'c2' (Constant)", "string");
}

/* ------------------------------------------------------------ external data */

static Onnx__TensorProto *external_tensor(const char *location, const char *offset,
                                          const char *length) {
  int64_t dims[1] = {4};
  Onnx__TensorProto *t = tb_tensor("w", 1, 1, dims, NULL, 0);
  tb_external(t, "location", location);
  if (offset) tb_external(t, "offset", offset);
  if (length) tb_external(t, "length", length);
  return t;
}

static void test_external_data(void) {
  /* model folder tmp/ext with weights.bin; a secret file outside it */
  CHECK(mkdir(tmp_path("ext"), 0755) == 0);
  float w[6] = {9, 1.5f, -2, 3.25f, 4, 9};
  CHECK(tb_write_file(tmp_path("ext/weights.bin"), w, sizeof w) == 0);
  CHECK(tb_write_file(tmp_path("secret.bin"), w, sizeof w) == 0);
  CHECK(symlink(tmp_path("secret.bin"), tmp_path("ext/link.bin")) == 0);

  const char *p = save_init_model("ext/ok.onnx", external_tensor("weights.bin", "4", "16"));
  pare_err err = {{0}};
  pare_graph *g = load_any(p, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (g) {
    int v = pare_graph_find_value(g, "w");
    CHECK(v >= 0 && g->values[v]->init);
    if (v >= 0 && g->values[v]->init) {
      const float *f = g->values[v]->init->data;
      CHECK(f[0] == 1.5f && f[1] == -2 && f[2] == 3.25f && f[3] == 4);
    }
    pare_graph_free(g);
  }
  p = save_init_model("ext/abs.onnx", external_tensor(tmp_path("secret.bin"), NULL, "16"));
  EXPECT_FAIL(p, "initializer 'w'", "absolute");
  p = save_init_model("ext/dotdot.onnx", external_tensor("../secret.bin", NULL, "16"));
  EXPECT_FAIL(p, "initializer 'w'", "'..'");
  p = save_init_model("ext/dotdot2.onnx", external_tensor("sub/../../secret.bin", NULL, "16"));
  EXPECT_FAIL(p, "'..'");
  p = save_init_model("ext/link.onnx", external_tensor("link.bin", NULL, "16"));
  EXPECT_FAIL(p, "initializer 'w'", "outside the model folder");
  p = save_init_model("ext/past.onnx", external_tensor("weights.bin", "100", "16"));
  EXPECT_FAIL(p, "past the end");
  p = save_init_model("ext/beyond.onnx", external_tensor("weights.bin", "16", "16"));
  EXPECT_FAIL(p, "exceeds");
  p = save_init_model("ext/short.onnx", external_tensor("weights.bin", "0", "12"));
  EXPECT_FAIL(p, "12 bytes", "need 16");
  p = save_init_model("ext/missing.onnx", external_tensor("nothere.bin", NULL, NULL));
  EXPECT_FAIL(p, "cannot open external data");
  p = save_init_model("ext/badnum.onnx", external_tensor("weights.bin", "-4", NULL));
  EXPECT_FAIL(p, "offset");

  /* From memory there is no folder: external data is refused. */
  Onnx__ModelProto *m = tb_model(13);
  tb_init(m, external_tensor("weights.bin", "4", "16"));
  tb_node(m, "Identity", "id", "w", "y");
  tb_output(m, "y");
  size_t len;
  uint8_t *buf = tb_pack(m, &len);
  tb_free(m);
  g = pare_onnx_load_buffer(buf, len, "mem.onnx", &err);
  free(buf);
  CHECK(g == NULL);
  pare_graph_free(g);
  CHECK_STR_CONTAINS(err.msg, "mem.onnx");
  CHECK_STR_CONTAINS(err.msg, "external data is not allowed");
}

/* ------------------------------------------------------------ unsupported ops */

static void test_unsupported_ops(void) {
  Onnx__ModelProto *m = tb_model(13);
  tb_input(m, "x", 1, (int64_t[]){4});
  tb_node(m, "PareNoSuchOpA", "n1", "x", "a");
  tb_node(m, "PareNoSuchOpB", "n2", "a", "b");
  Onnx__NodeProto *n = tb_node(m, "Foo", "n3", "b", "c");
  n->domain = tb_strdup("com.example");
  Onnx__NodeProto *loop = tb_node(m, "Relu", "n4", "c", "y"); /* subgraph attribute */
  Onnx__AttributeProto *a = tb_attr(loop, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  a->g = tb_alloc(sizeof *a->g);
  onnx__graph_proto__init(a->g);
  tb_output(m, "y");
  tb_save(m, tmp_path("unsupported.onnx"));
  EXPECT_FAIL(tmp_path("unsupported.onnx"),
              "4 unsupported ops: node 'n1' (PareNoSuchOpA), node 'n2' (PareNoSuchOpB), node 'n3' "
              "(com.example.Foo), node 'n4' (Relu)");

  m = tb_model(13);
  tb_input(m, "x", 1, (int64_t[]){4});
  char prev[32] = "x", out[32], name[32];
  for (int i = 0; i < 25; i++) {
    snprintf(out, sizeof out, "v%d", i);
    snprintf(name, sizeof name, "bad%d", i);
    tb_node(m, "PareNoSuchOp", name, prev, out);
    memcpy(prev, out, sizeof prev);
  }
  tb_output(m, prev);
  tb_save(m, tmp_path("many.onnx"));
  EXPECT_FAIL(tmp_path("many.onnx"), "25 unsupported ops: node 'bad0' (PareNoSuchOp)",
              "node 'bad19'", "and 5 more");
}

int main(void) {
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/pare_test_frontend_XXXXXX");
  if (!mkdtemp(tmp_dir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_real_models);
  RUN(test_real_model_details);
  RUN(test_bind_shapes);
  RUN(test_bind_shared_dim_param);
  RUN(test_read_pb_shared);
  RUN(test_read_pb_testdata);
  RUN(test_write_read_roundtrip);
  RUN(test_bad_files);
  RUN(test_hostile_graphs);
  RUN(test_hostile_tensors);
  RUN(test_external_data);
  RUN(test_unsupported_ops);
  remove_tree(tmp_dir);
  return check_summary();
}
