/*
 * test_backend_plan.c - the static memory planner: exact offsets on small
 * hand-written graphs (chain, diamond, residual add, in-place chains, view
 * aliases), the checker catching broken plans, and the real models planned
 * and checked, with workspace vs. naive sizes printed.
 */
#include "check.h"

#include "backend/plan.h"
#include "frontend/onnx.h"
#include "ir/ir.h"
#include "ir/text.h"
#include "ops/ops.h"

/* Parses text, plans it with opts and checks the plan; the graph is returned
 * for name lookups (NULL on failure, recorded as a test failure). */
static pare_graph *plan_text(const char *text, const pare_plan_opts *opts, pare_plan *plan) {
  pare_err err = {{0}};
  memset(plan, 0, sizeof *plan);
  pare_graph *g = pare_graph_parse(text, "test", NULL, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (!g) return NULL;
  int rc = pare_plan_memory(g, opts, plan, &err);
  CHECK_MSG(rc == PARE_OK, "%s", err.msg);
  if (rc != PARE_OK) {
    pare_graph_free(g);
    return NULL;
  }
  rc = pare_plan_check(g, plan, &err);
  CHECK_MSG(rc == PARE_OK, "%s", err.msg);
  return g;
}

static const pare_plan_value *pv(const pare_graph *g, const pare_plan *p, const char *name) {
  static const pare_plan_value none = {PARE_MEM_NONE, -2, -2, -2, -2, -2};
  int v = pare_graph_find_value(g, name);
  CHECK_MSG(v >= 0, "no value %s", name);
  return v >= 0 ? &p->values[v] : &none;
}

static int value_index(const pare_graph *g, const char *name) {
  return pare_graph_find_value(g, name);
}

#define CHECK_SLOT(g, p, name, kind_, off, bytes_)                                                 \
  do {                                                                                             \
    const pare_plan_value *v_ = pv(g, p, name);                                                    \
    CHECK_MSG(v_->kind == (kind_) && v_->offset == (off) && v_->bytes == (bytes_),                 \
              "%s: %s at %lld (%lld bytes), want %s at %lld (%lld bytes)", name,                   \
              pare_mem_kind_name(v_->kind), (long long)v_->offset, (long long)v_->bytes,           \
              pare_mem_kind_name(kind_), (long long)(off), (long long)(bytes_));                   \
  } while (0)

#define CHECK_LIFE(g, p, name, first_, last_)                                                      \
  do {                                                                                             \
    const pare_plan_value *v_ = pv(g, p, name);                                                    \
    CHECK_MSG(v_->first == (first_) && v_->last == (last_), "%s: live [%d, %d], want [%d, %d]",    \
              name, v_->first, v_->last, first_, last_);                                           \
  } while (0)

/* Sizes differ so greedy-by-size order matters: b (1200) goes first at 0,
 * a (400) must avoid it, c (200) may reuse a's offset since a is dead. */
static void test_chain(void) {
  const char *text = "graph opset 17 {\n"
                     "  input %x : f32[8]\n"
                     "  %a : f32[100] = t::F(%x)\n"
                     "  %b : f32[300] = t::F(%a)\n"
                     "  %c : f32[50] = t::F(%b)\n"
                     "  %y : f32[8] = t::F(%c)\n"
                     "  output %y\n"
                     "}\n";
  pare_plan p;
  pare_graph *g = plan_text(text, NULL, &p);
  if (!g) return;
  CHECK_SLOT(g, &p, "x", PARE_MEM_INPUT, -1, 32);
  CHECK_SLOT(g, &p, "y", PARE_MEM_OUTPUT, -1, 32);
  CHECK_SLOT(g, &p, "b", PARE_MEM_INTERMEDIATE, 0, 1200);
  CHECK_SLOT(g, &p, "a", PARE_MEM_INTERMEDIATE, 1216, 400);
  CHECK_SLOT(g, &p, "c", PARE_MEM_INTERMEDIATE, 1216, 200);
  CHECK_LIFE(g, &p, "x", -1, 0);
  CHECK_LIFE(g, &p, "a", 0, 1);
  CHECK_LIFE(g, &p, "c", 2, 3);
  CHECK_LIFE(g, &p, "y", 3, 4);
  CHECK(p.workspace_bytes == 1664);
  CHECK(p.naive_bytes == 1800);
  pare_plan_free(&p);

  /* Alignment 16: a and c pack right after b. */
  pare_plan_opts opts = {.alignment = 16};
  pare_graph_free(g);
  g = plan_text(text, &opts, &p);
  if (!g) return;
  CHECK_SLOT(g, &p, "a", PARE_MEM_INTERMEDIATE, 1200, 400);
  CHECK_SLOT(g, &p, "c", PARE_MEM_INTERMEDIATE, 1200, 200);
  CHECK(p.workspace_bytes == 1600);
  pare_plan_free(&p);
  pare_graph_free(g);

  pare_err err = {{0}};
  g = pare_graph_parse(text, "test", NULL, &err);
  opts.alignment = 48;
  CHECK(pare_plan_memory(g, &opts, &p, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "power of two");
  pare_plan_free(&p);
  pare_graph_free(g);
}

/* a feeds two branches b and c that meet in d. */
static void test_diamond(void) {
  const char *text = "graph opset 17 {\n"
                     "  input %x : f32[8]\n"
                     "  %a : f32[64] = t::F(%x)\n"
                     "  %b : f32[32] = t::F(%a)\n"
                     "  %c : f32[128] = t::F(%a)\n"
                     "  %d : f32[64] = t::G(%b, %c)\n"
                     "  %y : f32[8] = t::F(%d)\n"
                     "  output %y\n"
                     "}\n";
  pare_plan p;
  pare_graph *g = plan_text(text, NULL, &p);
  if (!g) return;
  CHECK_SLOT(g, &p, "c", PARE_MEM_INTERMEDIATE, 0, 512);
  CHECK_SLOT(g, &p, "a", PARE_MEM_INTERMEDIATE, 512, 256);
  CHECK_SLOT(g, &p, "d", PARE_MEM_INTERMEDIATE, 512, 256);
  CHECK_SLOT(g, &p, "b", PARE_MEM_INTERMEDIATE, 768, 128);
  CHECK_LIFE(g, &p, "a", 0, 2);
  CHECK_LIFE(g, &p, "b", 1, 3);
  CHECK(p.workspace_bytes == 896);
  CHECK(p.naive_bytes == 1152);
  pare_plan_free(&p);
  pare_graph_free(g);
}

/* c = a + F(a): the Add writes over a, whose last use it is. */
static void test_residual_add(void) {
  const char *text = "graph opset 17 {\n"
                     "  input %x : f32[8]\n"
                     "  const %k : f32[1] = dense<2>\n"
                     "  %a : f32[64] = t::F(%x)\n"
                     "  %b : f32[64] = t::F(%a)\n"
                     "  %c : f32[64] = Add(%a, %b)\n"
                     "  %e : f32[64] = Mul(%k, %c)\n"
                     "  %y : f32[8] = t::F(%e)\n"
                     "  output %y\n"
                     "}\n";
  pare_plan p;
  pare_graph *g = plan_text(text, NULL, &p);
  if (!g) return;
  CHECK_SLOT(g, &p, "k", PARE_MEM_CONSTANT, -1, 4);
  CHECK_SLOT(g, &p, "a", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK_SLOT(g, &p, "b", PARE_MEM_INTERMEDIATE, 256, 256);
  CHECK_SLOT(g, &p, "c", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK_SLOT(g, &p, "e", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK(pv(g, &p, "c")->shares == value_index(g, "a"));
  CHECK(pv(g, &p, "e")->shares == value_index(g, "c")); /* the broadcast scalar is skipped */
  CHECK_LIFE(g, &p, "a", 0, 2);
  CHECK_LIFE(g, &p, "c", 2, 3);
  CHECK(p.workspace_bytes == 512);
  CHECK(p.naive_bytes == 1024);
  pare_plan_free(&p);
  pare_graph_free(g);

  /* Without in-place reuse c needs a third slot. */
  static const char *const no_ops[] = {NULL};
  pare_plan_opts opts = {.inplace_ops = no_ops};
  g = plan_text(text, &opts, &p);
  if (!g) return;
  CHECK(pv(g, &p, "c")->shares == -1);
  CHECK_SLOT(g, &p, "c", PARE_MEM_INTERMEDIATE, 512, 256);
  CHECK_SLOT(g, &p, "e", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK(p.workspace_bytes == 768);
  pare_plan_free(&p);
  pare_graph_free(g);
}

static void test_inplace_chain(void) {
  const char *text = "graph opset 17 {\n"
                     "  input %x : f32[8]\n"
                     "  %a : f32[64] = t::F(%x)\n"
                     "  %r1 : f32[64] = Relu(%a)\n"
                     "  %r2 : f32[64] = Sigmoid(%r1)\n"
                     "  %r3 : f32[64] = HardSwish(%r2)\n"
                     "  %y : f32[8] = t::F(%r3)\n"
                     "  output %y\n"
                     "}\n";
  pare_plan p;
  pare_graph *g = plan_text(text, NULL, &p);
  if (!g) return;
  CHECK_SLOT(g, &p, "r1", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK_SLOT(g, &p, "r3", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK(pv(g, &p, "r3")->shares == value_index(g, "r2"));
  CHECK(p.workspace_bytes == 256);
  CHECK(p.naive_bytes == 1024);
  pare_plan_free(&p);
  pare_graph_free(g);

  /* a is read again after the Relu: no reuse. A Relu producing a graph
   * output writes the caller's buffer. Element size must match too. */
  text = "graph opset 17 {\n"
         "  input %x : f32[8]\n"
         "  %a : f32[64] = t::F(%x)\n"
         "  %r : f32[64] = Relu(%a)\n"
         "  %s : f32[64] = t::G(%a, %r)\n"
         "  %h : f16[128] = t::F(%s)\n"
         "  %q : f32[64] = Relu(%h)\n"
         "  %y : f32[64] = Relu(%q)\n"
         "  output %y\n"
         "}\n";
  g = plan_text(text, NULL, &p);
  if (!g) return;
  CHECK(pv(g, &p, "r")->shares == -1);
  CHECK(pv(g, &p, "q")->shares == -1);
  CHECK_SLOT(g, &p, "y", PARE_MEM_OUTPUT, -1, 256);
  CHECK_SLOT(g, &p, "a", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK_SLOT(g, &p, "r", PARE_MEM_INTERMEDIATE, 256, 256);
  CHECK_SLOT(g, &p, "s", PARE_MEM_INTERMEDIATE, 512, 256);
  CHECK_SLOT(g, &p, "h", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK_SLOT(g, &p, "q", PARE_MEM_INTERMEDIATE, 256, 256);
  CHECK(p.workspace_bytes == 768);
  pare_plan_free(&p);
  pare_graph_free(g);
}

static void test_reshape_alias(void) {
  const char *text = "graph opset 17 {\n"
                     "  input %x : f32[8]\n"
                     "  const %shape : i64[1] = dense<64>\n"
                     "  %a : f32[2,32] = t::F(%x)\n"
                     "  %r : f32[64] = Reshape(%a, %shape)\n"
                     "  %b : f32[64] = t::F(%r)\n"
                     "  %y : f32[8] = t::F(%b)\n"
                     "  output %y\n"
                     "}\n";
  pare_plan p;
  pare_graph *g = plan_text(text, NULL, &p);
  if (!g) return;
  CHECK_SLOT(g, &p, "a", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK_SLOT(g, &p, "r", PARE_MEM_ALIAS, 0, 256);
  CHECK_SLOT(g, &p, "b", PARE_MEM_INTERMEDIATE, 256, 256);
  CHECK(pv(g, &p, "r")->shares == value_index(g, "a"));
  CHECK_LIFE(g, &p, "a", 0, 2); /* extended to r's reader */
  CHECK_LIFE(g, &p, "r", 1, 2);
  CHECK(p.workspace_bytes == 512);
  CHECK(p.naive_bytes == 768);
  pare_plan_free(&p);
  pare_graph_free(g);

  /* Views of a graph input are copies into the workspace; a chain of views
   * then an in-place Relu shares one slot; a view read after an in-place
   * op on its source blocks the reuse. */
  text = "graph opset 17 {\n"
         "  input %x : f32[2,32]\n"
         "  %v : f32[64] = Flatten(%x) {axis = 0}\n"
         "  %a : f32[64] = t::F(%v)\n"
         "  %f : f32[1,64] = Unsqueeze(%a)\n"
         "  %i : f32[1,64] = Identity(%f)\n"
         "  %q : f32[1,64] = Relu(%i)\n"
         "  %b : f32[64] = t::F(%q)\n"
         "  %s : f32[64] = Squeeze(%b)\n"
         "  %c : f32[64] = Relu(%b)\n"
         "  %y : f32[64] = t::G(%c, %s)\n"
         "  output %y\n"
         "}\n";
  g = plan_text(text, NULL, &p);
  if (!g) return;
  CHECK_SLOT(g, &p, "v", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK_SLOT(g, &p, "a", PARE_MEM_INTERMEDIATE, 256, 256);
  CHECK_SLOT(g, &p, "f", PARE_MEM_ALIAS, 256, 256);
  CHECK_SLOT(g, &p, "i", PARE_MEM_ALIAS, 256, 256);
  CHECK_SLOT(g, &p, "q", PARE_MEM_INTERMEDIATE, 256, 256);
  CHECK(pv(g, &p, "i")->shares == value_index(g, "f"));
  CHECK(pv(g, &p, "q")->shares == value_index(g, "i"));
  CHECK_LIFE(g, &p, "a", 1, 4);
  CHECK_SLOT(g, &p, "s", PARE_MEM_ALIAS, 0, 256);
  CHECK_SLOT(g, &p, "b", PARE_MEM_INTERMEDIATE, 0, 256);
  CHECK(pv(g, &p, "c")->shares == -1);
  CHECK_SLOT(g, &p, "c", PARE_MEM_INTERMEDIATE, 256, 256);
  CHECK_LIFE(g, &p, "b", 5, 8);
  CHECK(p.workspace_bytes == 512);
  pare_plan_free(&p);
  pare_graph_free(g);
}

static void test_errors(void) {
  pare_err err = {{0}};
  pare_plan p;
  const char *text = "graph opset 17 {\n"
                     "  input %x : f32[N,4]\n"
                     "  %a : f32[N,4] = t::F(%x)\n"
                     "  output %a\n"
                     "}\n";
  pare_graph *g = pare_graph_parse(text, "test", NULL, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  CHECK(pare_plan_memory(g, NULL, &p, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "'x'");
  CHECK_STR_CONTAINS(err.msg, "static");
  CHECK(p.values == NULL);
  pare_plan_free(&p);
  pare_graph_free(g);

  /* The checker catches overlapping, misaligned and out-of-range slots and
   * an in-place reuse of a value still read later. */
  text = "graph opset 17 {\n"
         "  input %x : f32[8]\n"
         "  %a : f32[64] = t::F(%x)\n"
         "  %b : f32[64] = t::F(%a)\n"
         "  %c : f32[64] = Add(%a, %b)\n"
         "  %y : f32[8] = t::F(%c)\n"
         "  output %y\n"
         "}\n";
  g = plan_text(text, NULL, &p);
  if (!g) return;
  pare_plan_value *b = &p.values[value_index(g, "b")];
  pare_plan_value *c = &p.values[value_index(g, "c")];
  b->offset = 0;
  CHECK(pare_plan_check(g, &p, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "overlap");
  b->offset = 32;
  CHECK(pare_plan_check(g, &p, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "aligned");
  b->offset = 512;
  CHECK(pare_plan_check(g, &p, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "exceeds workspace");
  b->offset = 256;
  CHECK(pare_plan_check(g, &p, &err) == PARE_OK);
  /* c claims b's slot in place while a still holds it: offsets disagree. */
  c->shares = value_index(g, "b");
  CHECK(pare_plan_check(g, &p, &err) == PARE_ERR);
  /* Undeclared sharing of a live slot. */
  c->shares = -1;
  CHECK(pare_plan_check(g, &p, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "overlap");
  /* A lifetime cut short. */
  c->shares = value_index(g, "a");
  p.values[value_index(g, "a")].last = 1;
  CHECK(pare_plan_check(g, &p, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "lifetime");
  pare_plan_free(&p);
  pare_graph_free(g);
}

static void plan_model(const char *shared, const char *file, const int64_t *dims, int rank) {
  char path[1024];
  snprintf(path, sizeof path, "%s/models/%s", shared, file);
  pare_err err = {{0}};
  pare_graph *g = pare_onnx_load(path, &err);
  CHECK_MSG(g != NULL, "%s", err.msg);
  if (!g) return;
  pare_shape s = pare_shape_make(rank, dims);
  const char *input = g->values[g->inputs[0]]->name;
  int rc = pare_bind_input_shape(g, input, &s, &err);
  if (rc == PARE_OK) rc = pare_fold_constants(g, 256 << 20, NULL, &err);
  CHECK_MSG(rc == PARE_OK, "%s: %s", file, err.msg);
  pare_plan p = {0};
  if (rc == PARE_OK) {
    rc = pare_plan_memory(g, NULL, &p, &err);
    CHECK_MSG(rc == PARE_OK, "%s: %s", file, err.msg);
  }
  if (rc == PARE_OK) {
    rc = pare_plan_check(g, &p, &err);
    CHECK_MSG(rc == PARE_OK, "%s: %s", file, err.msg);
    int n_alias = 0, n_inplace = 0, n_inter = 0;
    for (int v = 0; v < p.n_values; v++) {
      n_alias += p.values[v].kind == PARE_MEM_ALIAS;
      n_inter += p.values[v].kind == PARE_MEM_INTERMEDIATE;
      n_inplace += p.values[v].kind == PARE_MEM_INTERMEDIATE && p.values[v].shares >= 0;
    }
    CHECK(p.workspace_bytes > 0 && p.workspace_bytes <= p.naive_bytes);
    fprintf(stderr,
            "plan %-40s workspace %11lld bytes, naive %11lld bytes (%.1f%%), %d nodes, "
            "%d intermediates (%d in place), %d aliases\n",
            file, (long long)p.workspace_bytes, (long long)p.naive_bytes,
            100.0 * (double)p.workspace_bytes / (double)p.naive_bytes, g->n_nodes, n_inter,
            n_inplace, n_alias);
  }
  pare_plan_free(&p);
  pare_graph_free(g);
}

static void test_real_models(void) {
  const char *shared = check_shared_dir();
  if (!shared) SKIP("../shared not found");
  static const int64_t cls[] = {1, 3, 48, 192}, rec[] = {1, 3, 48, 320}, det[] = {1, 3, 640, 640},
                       mnist[] = {1, 1, 28, 28};
  plan_model(shared, "ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", cls, 4);
  plan_model(shared, "ppocr/ch_PP-OCRv4_rec_infer.onnx", rec, 4);
  plan_model(shared, "ppocr/ch_PP-OCRv4_det_infer.onnx", det, 4);
  plan_model(shared, "mnist/mnist-cnn.onnx", mnist, 4);
}

int main(void) {
  RUN(test_chain);
  RUN(test_diamond);
  RUN(test_residual_add);
  RUN(test_inplace_chain);
  RUN(test_reshape_alias);
  RUN(test_errors);
  RUN(test_real_models);
  return check_summary();
}
