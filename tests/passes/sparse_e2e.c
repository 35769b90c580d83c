/*
 * sparse_e2e.c - pruned models through the generated code's sparse kernels
 * (the JIT) against the reference interpreter on the same pruned graph.
 *
 *   pare_sparse_e2e --synthetic
 *   pare_sparse_e2e --model M.onnx --data DIR [--sets N] [PIPELINE...]
 *
 * --synthetic builds small graphs that reach every sparse path of
 * backend/emit_linear.c (conv: whole im2col, implicit-im2col panels with a
 * tail, strided, grouped, 1x1 direct, fused epilogue; Gemm: transB 0/1,
 * transA, alpha/beta, bias per column, per row and a general C; MatMul 2-D
 * and batched with a fused Add), prunes them with each pipeline and checks
 * that the outputs agree within 1e-4 and that the weights the object holds
 * shrank (the dense tensor is not emitted), and that the pruned graph's
 * text parses back to the same text; where the dense kernel runs the
 * pruned weights (density 0.5, 2:4, 0.8), that its outputs are bit for
 * bit those on the unencoded weights, and that one layer's object bytes
 * are exactly the bitmask + nonzeros form's. With --model, the first N
 * (default 3) test_data_set_K inputs of DIR run through the model pruned
 * by each PIPELINE (default: model_pipelines below), same checks; a missing
 * model or folder prints SKIP and passes.
 */
#include "driver/engine.h"
#include "frontend/onnx.h"
#include "ir/text.h"
#include "ops/ops.h"
#include "passes/passes.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* This test's random sequence (its weights and inputs). */
#define E2E_RNG_SEED 12345u
#include "e2e_util.h"

#define ATOL 1e-4

static int failed, passed;

/* --------------------------------------------------------------- checking */

static double max_diff(const pare_tensor *a, const pare_tensor *b) {
  if (pare_tensor_numel(a) != pare_tensor_numel(b)) return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < pare_tensor_numel(a); i++) {
    double d = fabs(pare_tensor_get_f64(a, i) - pare_tensor_get_f64(b, i));
    if (!(d <= worst)) worst = d; /* NaN counts as worst */
  }
  return worst;
}

/* Bytes of the weights the pruned graph stores dense (init) and encoded. */
static void weight_bytes(const pare_graph *g, int64_t *dense, int64_t *encoded) {
  *dense = *encoded = 0;
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v]->enc) {
      *dense += (int64_t)g->values[v]->init->nbytes;
      *encoded += (int64_t)pare_encoding_bytes(g->values[v]->enc);
    }
}

/* Runs `sets` input sets (from `inputs`, or random when NULL) through the
 * interpreter and the JIT on g and compares. */
static void compare_engines(const char *label, const pare_graph *g, pare_tensor **inputs,
                            int n_sets, int check_bytes) {
  pare_err err;
  engine ei, ej;
  if (engine_open(&ei, ENGINE_INTERP, g, 3, &err) || engine_open(&ej, ENGINE_JIT, g, 3, &err)) {
    printf("FAIL %s: %s\n", label, err.msg);
    failed++;
    return;
  }
  int64_t dense, encoded;
  weight_bytes(g, &dense, &encoded);
  int ok = 1;
  double worst = 0;
  for (int s = 0; s < n_sets && ok; s++) {
    pare_tensor *in[16] = {0};
    for (int i = 0; i < g->n_inputs && i < 16; i++)
      in[i] = inputs ? inputs[s * g->n_inputs + i]
                     : random_input(&g->values[g->inputs[i]]->shape, &err);
    pare_tensor *oi[16] = {0}, *oj[16] = {0};
    if (engine_run(&ei, in, oi, &err) || engine_run(&ej, in, oj, &err)) {
      printf("FAIL %s: %s\n", label, err.msg);
      ok = 0;
    }
    for (int j = 0; ok && j < g->n_outputs; j++) {
      double d = max_diff(oi[j], oj[j]);
      if (!(d <= worst)) worst = d;
    }
    for (int j = 0; j < g->n_outputs && j < 16; j++) {
      pare_tensor_free(oi[j]);
      pare_tensor_free(oj[j]);
    }
    if (!inputs)
      for (int i = 0; i < g->n_inputs && i < 16; i++) pare_tensor_free(in[i]);
  }
  if (ok && !(worst <= ATOL)) {
    printf("FAIL %s: max |jit - interp| %.3g > %g\n", label, worst, ATOL);
    ok = 0;
  }
  /* Below 25% density (CSR under half the dense bytes) the sparse kernels
   * run: the object then holds no more than the encodings and the other
   * constants; had a dense copy of a sparse weight been emitted, it would
   * exceed this. */
  int64_t other = 0;
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v]->init && !g->values[v]->enc) other += (int64_t)g->values[v]->init->nbytes;
  /* (The kernels' CSR pads rows to whole steps and splits long rows in
   * chunks: a little more than the encoding.) */
  int64_t limit = other + encoded + encoded / 4 + 4096;
  if (ok && check_bytes && encoded > 0 && 2 * encoded < dense && ej.stats.weight_bytes > limit) {
    printf("FAIL %s: object weights %lld bytes > %lld (dense sparse weights %lld, encoded %lld)\n",
           label, (long long)ej.stats.weight_bytes, (long long)limit, (long long)dense,
           (long long)encoded);
    ok = 0;
  }
  if (ok)
    printf("ok   %s: max |jit - interp| %.3g, object weights %lld bytes (sparse weights %lld "
           "dense, %lld encoded)\n",
           label, worst, (long long)ej.stats.weight_bytes, (long long)dense, (long long)encoded);
  ok ? passed++ : failed++;
  engine_close(&ei);
  engine_close(&ej);
}

/* Runs the pipeline, then checks that the pruned graph's text parses back
 * to the same text (encodings included). */
static int run_pipeline(pare_graph *g, const char *pipeline, pare_err *err) {
  pare_pipeline p;
  int rc = pare_pipeline_parse(pipeline, &p, err);
  if (rc == PARE_OK) rc = pare_pipeline_run(&p, g, NULL, err);
  pare_pipeline_free(&p);
  if (rc) return rc;
  char *text = pare_graph_to_text(g, NULL, err);
  pare_graph *back = text ? pare_graph_parse(text, "printed", NULL, err) : NULL;
  char *again = back ? pare_graph_to_text(back, NULL, err) : NULL;
  if (again && strcmp(text, again) != 0) rc = pare_errf(err, "print -> parse -> print differs");
  if (!again) rc = PARE_ERR;
  free(text);
  free(again);
  pare_graph_free(back);
  return rc;
}

/* -------------------------------------------------------------- synthetic */

typedef struct synth_case {
  const char *name;
  void (*build)(sbuf *b);
} synth_case;

static void conv_graph(sbuf *b, const char *in, int64_t co, int64_t ci_per_group, int64_t k,
                       const char *attrs, const char *out, int relu) {
  int64_t wd[4] = {co, ci_per_group, k, k}, bd[1] = {co};
  sb_const(b, "w", wd, 4, 0.5f);
  sb_const(b, "b", bd, 1, 0.5f);
  sb_printf(b, "  input %%x : f32%s\n", in);
  sb_printf(b, "  %%c : f32%s = Conv(%%x, %%w, %%b) {%s}\n", out, attrs);
  if (relu)
    sb_printf(b, "  %%y : f32%s = Relu(%%c)\n  output %%y\n", out);
  else
    sb_printf(b, "  output %%c\n");
}

static void c_whole(sbuf *b) {
  conv_graph(b, "[2,8,10,10]", 16, 8, 3, "pads = [1, 1, 1, 1] : ints", "[2,16,10,10]", 1);
}
static void c_panels(sbuf *b) {
  conv_graph(b, "[1,16,40,40]", 24, 16, 3, "pads = [1, 1, 1, 1] : ints", "[1,24,40,40]", 1);
}
static void c_strided(sbuf *b) {
  conv_graph(b, "[1,8,70,70]", 8, 8, 3, "pads = [1, 1, 1, 1] : ints, strides = [2, 2] : ints",
             "[1,8,35,35]", 0);
}
static void c_strided_whole(sbuf *b) {
  conv_graph(b, "[2,8,20,20]", 8, 8, 3, "pads = [1, 1, 1, 1] : ints, strides = [2, 2] : ints",
             "[2,8,10,10]", 1);
}
static void c_dilated(sbuf *b) {
  conv_graph(b, "[1,4,21,19]", 6, 4, 3, "dilations = [2, 2] : ints, pads = [1, 2, 1, 2] : ints",
             "[1,6,19,19]", 0);
}
static void c_residual(sbuf *b) {
  /* (With a bias: a bias-less anchor takes the Add's operand for its bias,
   * a fusion bug outside the sparse path.) */
  int64_t wd[4] = {6, 6, 3, 3}, bd[1] = {6};
  sb_const(b, "w", wd, 4, 0.5f);
  sb_const(b, "b", bd, 1, 0.5f);
  sb_printf(b, "  input %%x : f32[2,6,11,13]\n"
               "  %%c : f32[2,6,11,13] = Conv(%%x, %%w, %%b) {pads = [1, 1, 1, 1] : ints}\n"
               "  %%y : f32[2,6,11,13] = Add(%%c, %%x)\n  output %%y\n");
}
static void c_grouped(sbuf *b) {
  conv_graph(b, "[1,8,12,12]", 12, 4, 3, "group = 2 : int", "[1,12,10,10]", 1);
}
static void c_direct(sbuf *b) {
  conv_graph(b, "[2,16,9,9]", 8, 16, 1, "group = 1 : int", "[2,8,9,9]", 0);
}

static void g_transb(sbuf *b) {
  int64_t wd[2] = {20, 50}, bd[1] = {20};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_const(b, "b", bd, 1, 0.5f);
  sb_printf(b, "  input %%x : f32[10,50]\n"
               "  %%g : f32[10,20] = Gemm(%%x, %%w, %%b) {transB = 1 : int}\n"
               "  %%y : f32[10,20] = Relu(%%g)\n  output %%y\n");
}
static void g_plain(sbuf *b) {
  int64_t wd[2] = {50, 20}, cd[2] = {10, 20};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_printf(b, "  input %%x : f32[10,50]\n  input %%cc : f32[10,20]\n"
               "  %%y : f32[10,20] = Gemm(%%x, %%w, %%cc) {alpha = 0.5 : float, beta = 2.0 : "
               "float}\n  output %%y\n");
  (void)cd;
}
static void g_transa(sbuf *b) {
  int64_t wd[2] = {20, 50}, cd[2] = {17, 1};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_const(b, "cc", cd, 2, 1.0f);
  sb_printf(b, "  input %%x : f32[50,17]\n"
               "  %%y : f32[17,20] = Gemm(%%x, %%w, %%cc) {transA = 1 : int, transB = 1 : int}\n"
               "  output %%y\n");
}
static void g_big(sbuf *b) {
  int64_t wd[2] = {128, 300}, bd[1] = {128};
  sb_const(b, "w", wd, 2, 0.1f);
  sb_const(b, "b", bd, 1, 0.5f);
  sb_printf(b, "  input %%x : f32[100,300]\n"
               "  %%y : f32[100,128] = Gemm(%%x, %%w, %%b) {transB = 1 : int}\n  output %%y\n");
}
static void g_chunked(sbuf *b) {
  int64_t wd[2] = {24, 1000}, bd[1] = {24};
  sb_const(b, "w", wd, 2, 0.1f);
  sb_const(b, "b", bd, 1, 0.5f);
  sb_printf(b, "  input %%x : f32[9,1000]\n"
               "  %%g : f32[9,24] = Gemm(%%x, %%w, %%b) {transB = 1 : int}\n"
               "  %%y : f32[9,24] = Relu(%%g)\n  output %%y\n");
}
static void c_chunked(sbuf *b) {
  conv_graph(b, "[1,48,9,21]", 10, 48, 3, "pads = [1, 1, 1, 1] : ints", "[1,10,9,21]", 1);
}
static void m_batched(sbuf *b) {
  int64_t wd[2] = {40, 12}, bd[1] = {12};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_const(b, "b", bd, 1, 1.0f);
  sb_printf(b, "  input %%x : f32[3,5,40]\n"
               "  %%m : f32[3,5,12] = MatMul(%%x, %%w)\n"
               "  %%y : f32[3,5,12] = Add(%%m, %%b)\n  output %%y\n");
}
static void m_plain(sbuf *b) {
  int64_t wd[2] = {40, 12};
  sb_const(b, "w", wd, 2, 0.3f);
  sb_printf(b, "  input %%x : f32[7,40]\n  %%y : f32[7,12] = MatMul(%%x, %%w)\n  output %%y\n");
}

static const synth_case cases[] = {
    {"conv whole + relu", c_whole},       {"conv panels + relu", c_panels},
    {"conv stride 2 panels", c_strided},  {"conv stride 2 whole + relu", c_strided_whole},
    {"conv dilated", c_dilated},          {"conv + residual add", c_residual},
    {"conv groups 2", c_grouped},         {"conv 1x1 direct", c_direct},
    {"gemm transB + relu", g_transb},     {"gemm [K,N] alpha beta C", g_plain},
    {"gemm transA, C per row", g_transa}, {"gemm 100x300x128", g_big},
    {"matmul batched + add", m_batched},  {"matmul 2-D", m_plain},
    {"gemm K=1000 (chunks)", g_chunked},  {"conv K=432 (chunks)", c_chunked},
};

/* 0.5, 2:4 and 0.2 (density 0.8) stay above the kernels' density
 * thresholds: the dense kernel on pruned weights stored as bitmask +
 * nonzeros; from DENSE_FROM on the pipelines are checked bit for bit
 * against the dense kernel on the unencoded weights. */
static const char *const synth_pipelines[] = {
    "prune<sparsity=0.9>", "prune<sparsity=0.75>", "prune<pattern=1:4>", "prune<pattern=1:8>",
    "prune<sparsity=0.5>", "prune<pattern=2:4>",   "prune<sparsity=0.2>"};
#define DENSE_FROM 4

/* The JIT's outputs on g against those with every encoding dropped (the
 * dense kernel on the dense weights): the decoded weights are the same
 * array, so the outputs must be the same bits. Drops g's encodings. */
static void compare_dense_exact(const char *label, pare_graph *g) {
  pare_err err;
  engine ej, ed;
  if (engine_open(&ej, ENGINE_JIT, g, 3, &err)) {
    printf("FAIL %s (exact): %s\n", label, err.msg);
    failed++;
    return;
  }
  for (int v = 0; v < g->n_values; v++) {
    pare_encoding_free(g->values[v]->enc);
    g->values[v]->enc = NULL;
  }
  if (engine_open(&ed, ENGINE_JIT, g, 3, &err)) {
    printf("FAIL %s (exact): %s\n", label, err.msg);
    failed++;
    engine_close(&ej);
    return;
  }
  pare_tensor *in[16] = {0}, *oj[16] = {0}, *od[16] = {0};
  for (int i = 0; i < g->n_inputs && i < 16; i++)
    in[i] = random_input(&g->values[g->inputs[i]]->shape, &err);
  int ok = !engine_run(&ej, in, oj, &err) && !engine_run(&ed, in, od, &err);
  if (!ok) printf("FAIL %s (exact): %s\n", label, err.msg);
  for (int j = 0; ok && j < g->n_outputs; j++)
    if (oj[j]->nbytes != od[j]->nbytes || memcmp(oj[j]->data, od[j]->data, oj[j]->nbytes)) {
      printf("FAIL %s: outputs differ from the dense kernel's (max %.3g)\n", label,
             max_diff(oj[j], od[j]));
      ok = 0;
    }
  if (ok)
    printf("ok   %s: bit-identical to the dense kernel (object weights %lld vs %lld bytes)\n",
           label, (long long)ej.stats.weight_bytes, (long long)ed.stats.weight_bytes);
  ok ? passed++ : failed++;
  for (int j = 0; j < 16; j++) {
    pare_tensor_free(in[j]);
    pare_tensor_free(oj[j]);
    pare_tensor_free(od[j]);
  }
  engine_close(&ej);
  engine_close(&ed);
}

static void run_synthetic(void) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (size_t p = 0; p < sizeof synth_pipelines / sizeof synth_pipelines[0]; p++) {
      sbuf b = {0};
      sb_printf(&b, "graph @t opset 17 {\n");
      cases[i].build(&b);
      sb_printf(&b, "}\n");
      pare_err err;
      char label[256];
      snprintf(label, sizeof label, "%s, %s", cases[i].name, synth_pipelines[p]);
      pare_graph *g = pare_graph_parse(b.p, cases[i].name, NULL, &err);
      free(b.p);
      if (!g || pare_infer_shapes(g, &err) || run_pipeline(g, synth_pipelines[p], &err)) {
        printf("FAIL %s: %s\n", label, err.msg);
        failed++;
      } else {
        compare_engines(label, g, NULL, 2, 1);
        if (p >= DENSE_FROM) compare_dense_exact(label, g);
      }
      pare_graph_free(g);
    }
}

/* The object's bytes for one layer pruned to 50%, run by the dense kernel
 * on weights stored as bitmask + nonzeros (backend/emit_linear.c,
 * "compressed dense weights"): exactly ceil(numel/8) + 4*(nnz + 7) for the
 * weight (these layers' packed arrays have no padding: Gemm/MatMul keep
 * [K][N], the conv has 24 = 4*6 output channels), plus the other
 * constants, plus the 2 KiB decode table when the target has AVX2. */
static void run_masked_bytes(void) {
  static const synth_case layers[] = {
      {"gemm transB", g_transb}, {"gemm [K,N]", g_plain},   {"gemm 100x300x128", g_big},
      {"matmul 2-D", m_plain},   {"conv panels", c_panels},
  };
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
    sbuf b = {0};
    sb_printf(&b, "graph @t opset 17 {\n");
    layers[i].build(&b);
    sb_printf(&b, "}\n");
    pare_err err;
    char label[256];
    snprintf(label, sizeof label, "%s, prune<sparsity=0.5>: object bytes", layers[i].name);
    pare_graph *g = pare_graph_parse(b.p, layers[i].name, NULL, &err);
    free(b.p);
    engine ej;
    if (!g || pare_infer_shapes(g, &err) || run_pipeline(g, "prune<sparsity=0.5>", &err) ||
        engine_open(&ej, ENGINE_JIT, g, 3, &err)) {
      printf("FAIL %s: %s\n", label, err.msg);
      failed++;
      pare_graph_free(g);
      continue;
    }
    int64_t expect = 0, dense = 0;
    for (int v = 0; v < g->n_values; v++) {
      const pare_value *val = g->values[v];
      if (!val->init) continue;
      int64_t numel = pare_tensor_numel(val->init);
      if (!val->enc) {
        expect += (int64_t)val->init->nbytes;
        continue;
      }
      const int64_t *rp = val->enc->row_ptr->data;
      int64_t nnz = rp[pare_tensor_numel(val->enc->row_ptr) - 1];
      expect += (numel + 7) / 8 + 4 * (nnz + 7);
      dense += 4 * numel;
    }
    int64_t got = ej.stats.weight_bytes;
    if (got != expect && got != expect + 2048) {
      printf("FAIL %s: %lld, expected %lld (+ 2048 with the AVX2 table)\n", label, (long long)got,
             (long long)expect);
      failed++;
    } else {
      printf("ok   %s: %lld (weight dense %lld bytes)\n", label, (long long)got, (long long)dense);
      passed++;
    }
    engine_close(&ej);
    pare_graph_free(g);
  }
}

/* A hand-written encoding whose columns are not sorted within a row (the IR
 * allows it; the prune pass never writes one): W [2, 400], nonzeros
 * row 0: 399, 5, 390; row 1: 385, 0, 7, 386. */
static void run_unsorted(void) {
  static const int cols[2][4] = {{399, 5, 390, -1}, {385, 0, 7, 386}};
  static const float vals[2][4] = {{0.5f, -1.5f, 2.0f, 0}, {1.0f, 0.25f, -0.75f, 3.0f}};
  sbuf b = {0};
  sb_printf(&b, "graph @u opset 17 {\n  input %%x : f32[5,400]\n  const %%w : f32[2,400] = dense<");
  for (int r = 0; r < 2; r++)
    for (int k = 0; k < 400; k++) {
      float v = 0;
      for (int i = 0; i < 4; i++)
        if (cols[r][i] == k) v = vals[r][i];
      sb_printf(&b, "%s%g", r || k ? ", " : "", v);
    }
  sb_printf(&b, "> sparse<nm_n=0, nm_m=0> {row_ptr = i64[3] dense<0, 3, 7>, col_idx = i32[7] "
                "dense<399, 5, 390, 385, 0, 7, 386>, values = f32[7] dense<0.5, -1.5, 2, 1, "
                "0.25, -0.75, 3>}\n"
                "  %%y : f32[5,2] = Gemm(%%x, %%w) {transB = 1 : int}\n  output %%y\n}\n");
  pare_err err;
  pare_graph *g = pare_graph_parse(b.p, "unsorted", NULL, &err);
  free(b.p);
  if (!g || pare_infer_shapes(g, &err)) {
    printf("FAIL unsorted columns: %s\n", err.msg);
    failed++;
  } else {
    compare_engines("gemm, hand-written unsorted CSR", g, NULL, 2, 1);
  }
  pare_graph_free(g);
}

/* Global scope across a conv and a Gemm of very different scales: the
 * small-scale Gemm loses every weight (an empty CSR) and still runs. */
static void run_global(void) {
  sbuf b = {0};
  int64_t wd[4] = {8, 4, 3, 3}, gd[2] = {6, 392};
  sb_printf(&b, "graph @g opset 17 {\n  input %%x : f32[8,4,7,7]\n");
  sb_const(&b, "w", wd, 4, 1.0f);
  sb_const(&b, "v", gd, 2, 0.001f);
  sb_printf(&b, "  %%c : f32[8,8,7,7] = Conv(%%x, %%w) {pads = [1, 1, 1, 1] : ints}\n"
                "  %%f : f32[8,392] = Flatten(%%c)\n"
                "  %%y : f32[8,6] = Gemm(%%f, %%v) {transB = 1 : int}\n  output %%y\n}\n");
  pare_err err;
  pare_graph *g = pare_graph_parse(b.p, "global", NULL, &err);
  free(b.p);
  if (!g || pare_infer_shapes(g, &err) ||
      run_pipeline(g, "prune<sparsity=0.8;scope=global>", &err)) {
    printf("FAIL global: %s\n", err.msg);
    failed++;
  } else {
    compare_engines("conv + gemm, prune<sparsity=0.8;scope=global>", g, NULL, 2, 1);
  }
  pare_graph_free(g);
}

/* ------------------------------------------------------------------ model */

static int run_model(const char *model, const char *data, int sets, const char *const *pipelines,
                     int n) {
  struct stat st;
  if (stat(model, &st) != 0 || stat(data, &st) != 0) {
    printf("SKIP: %s or %s not found\n", model, data);
    return 0;
  }
  pare_err err;
  pare_tensor **inputs = calloc((size_t)sets, sizeof *inputs);
  for (int s = 0; s < sets; s++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/test_data_set_%d/input_0.pb", data, s);
    if (!(inputs[s] = pare_tensor_read_pb(path, &err))) {
      printf("FAIL: %s\n", err.msg);
      return 1;
    }
  }
  for (int p = 0; p < n; p++) {
    pare_graph *g = pare_onnx_load(model, &err);
    int rc = g ? PARE_OK : PARE_ERR;
    if (!rc && g->n_inputs != 1) rc = pare_errf(&err, "the model needs one input");
    if (!rc) rc = pare_bind_input_shape(g, g->values[g->inputs[0]]->name, &inputs[0]->shape, &err);
    if (!rc) rc = pare_infer_shapes(g, &err);
    if (!rc) rc = pare_fold_constants(g, (size_t)256 << 20, NULL, &err);
    if (!rc) rc = run_pipeline(g, pipelines[p], &err);
    char label[512];
    snprintf(label, sizeof label, "%s, %s", model, pipelines[p]);
    if (rc) {
      printf("FAIL %s: %s\n", label, err.msg);
      failed++;
    } else {
      compare_engines(label, g, inputs, sets, 1);
    }
    pare_graph_free(g);
  }
  for (int s = 0; s < sets; s++) pare_tensor_free(inputs[s]);
  free(inputs);
  return 0;
}

static const char *const model_pipelines[] = {
    "prune<sparsity=0.9>",
    "prune<sparsity=0.5>",
    "prune<pattern=2:4>",
    "prune<pattern=1:4>",
    "prune<sparsity=0.8;scope=global>",
};

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--synthetic") == 0) {
    run_synthetic();
    run_masked_bytes();
    run_unsorted();
    run_global();
  } else if (argc >= 5 && strcmp(argv[1], "--model") == 0 && strcmp(argv[3], "--data") == 0) {
    int first = 5, sets = 3;
    if (argc >= 7 && strcmp(argv[5], "--sets") == 0) sets = atoi(argv[6]), first = 7;
    if (sets < 1) {
      fprintf(stderr, "pare_sparse_e2e: bad arguments\n");
      return 2;
    }
    if (first < argc)
      run_model(argv[2], argv[4], sets, (const char *const *)argv + first, argc - first);
    else
      run_model(argv[2], argv[4], sets, model_pipelines,
                (int)(sizeof model_pipelines / sizeof model_pipelines[0]));
  } else {
    fprintf(stderr, "usage: pare_sparse_e2e --synthetic\n"
                    "       pare_sparse_e2e --model M.onnx --data DIR [--sets N] [PIPELINE...]\n");
    return 2;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
