/*
 * canonicalize.c - clean-up passes: constant folding, dead-code
 * elimination, BatchNorm folding, identity/cast/reshape clean-up.
 */
#include "passes/passes.h"

#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_op(const pare_node *n, const char *op) {
  return n->op && (!n->domain || !n->domain[0]) && strcmp(n->op, op) == 0;
}

/* The node producing v, or NULL. */
static pare_node *producer(pare_graph *g, int v) {
  int k = v >= 0 ? g->values[v]->producer : -1;
  return k >= 0 && g->nodes[k]->op ? g->nodes[k] : NULL;
}

/* ------------------------------------------------------ fold-constants */

static int run_fold_constants(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx,
                              int *changed, pare_err *err) {
  int before = g->n_nodes;
  if (pare_fold_constants(g, (size_t)args[0].i << 20, changed, err)) return PARE_ERR;
  pare_pass_stat(ctx, "nodes folded to constants", before - g->n_nodes);
  return PARE_OK;
}

/* ----------------------------------------------------------------- dce */

/* Kills nodes none of whose outputs is read or a graph output, last first
 * so that chains die in one sweep. */
static int run_dce(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx, int *changed,
                   pare_err *err) {
  (void)args;
  int killed = 0;
  for (int k = g->n_nodes - 1; k >= 0; k--) {
    pare_node *n = g->nodes[k];
    if (!n->op) continue;
    int used = 0;
    for (int j = 0; j < n->n_outputs && !used; j++)
      used = n->outputs[j] >= 0 && pare_graph_use_count(g, n->outputs[j]) > 0;
    if (used) continue;
    pare_graph_kill_node(g, k);
    killed++;
  }
  int values_before = g->n_values;
  if (pare_graph_compact(g, err)) return PARE_ERR;
  pare_pass_stat(ctx, "nodes removed", killed);
  pare_pass_stat(ctx, "values removed", values_before - g->n_values);
  *changed = killed > 0 || values_before != g->n_values;
  return PARE_OK;
}

/* ------------------------------------------------------ fold-batchnorm */

/* Per-channel scale s = gamma / sqrt(var + eps) and shift t = beta - mean * s
 * of BatchNormalization node bn, if its statistics are f32 constants of
 * `ch` elements. */
static int bn_affine(pare_graph *g, const pare_node *bn, int64_t ch, double *s, double *t) {
  if (bn->n_inputs < 5 || (bn->n_outputs > 1 && bn->outputs[1] >= 0)) return 0;
  const pare_tensor *p[4];
  for (int i = 0; i < 4; i++) {
    int v = bn->inputs[i + 1];
    p[i] = v >= 0 ? g->values[v]->init : NULL;
    if (!p[i] || g->values[v]->enc || p[i]->dtype != PARE_F32 || pare_tensor_numel(p[i]) != ch)
      return 0;
  }
  double eps = pare_attr_float(bn, "epsilon", 1e-5f);
  for (int64_t c = 0; c < ch; c++) {
    s[c] = pare_tensor_get_f64(p[0], c) / sqrt(pare_tensor_get_f64(p[3], c) + eps);
    t[c] = pare_tensor_get_f64(p[1], c) - pare_tensor_get_f64(p[2], c) * s[c];
  }
  return 1;
}

/* name, or NULL (a fresh name) if the graph has a value called that. */
static const char *unique_or_null(const pare_graph *g, const char *name) {
  return pare_graph_find_value(g, name) >= 0 ? NULL : name;
}

/* A new constant: `src` with element i of channel c = i / inner % ch scaled
 * by s[c]. */
static int scaled_const(pare_graph *g, const pare_tensor *src, int64_t ch, int64_t inner,
                        const double *s, const char *name, pare_err *err) {
  pare_tensor *t = pare_tensor_clone(src, err);
  if (!t) return PARE_ERR;
  float *d = t->data;
  int64_t n = pare_tensor_numel(t);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(d[i] * s[i / inner % ch]);
  return pare_graph_add_const(g, name, t, err);
}

/* Folds bn into the Conv or Gemm producing its input: W'[c] = W[c] * s[c],
 * b'[c] = b[c] * s[c] + t[c]. Returns 1 when folded. */
static int fold_one(pare_graph *g, int k, pare_pass_ctx *ctx, pare_err *err) {
  pare_node *bn = g->nodes[k];
  int x = bn->inputs[0];
  pare_node *p = producer(g, x);
  if (!p || pare_graph_use_count(g, x) != 1 || g->values[x]->is_graph_output) return 0;
  int conv = is_op(p, "Conv");
  if (!conv && !(is_op(p, "Gemm") && g->values[x]->shape.rank == 2)) return 0;
  int w = p->inputs[1], b = p->n_inputs > 2 ? p->inputs[2] : -1;
  const pare_tensor *wt = g->values[w]->init;
  if (!wt || g->values[w]->enc || wt->dtype != PARE_F32) return 0;
  const pare_shape *xs = &g->values[x]->shape;
  int64_t ch = xs->dims[1];
  if (ch <= 0) return 0;
  /* Where the output channel lives in W: Conv [CO,...]; Gemm B [K,N] or
   * [N,K] with transB; alpha/beta other than 1 are left alone. */
  int64_t inner = 1;
  if (conv) {
    for (int d = 1; d < wt->shape.rank; d++) inner *= wt->shape.dims[d];
    if (wt->shape.dims[0] != ch) return 0;
  } else {
    if (pare_attr_float(p, "alpha", 1) != 1 || pare_attr_float(p, "beta", 1) != 1) return 0;
    if (pare_attr_int(p, "transA", 0)) return 0;
    int tb = (int)pare_attr_int(p, "transB", 0);
    inner = tb ? wt->shape.dims[1] : 1;
    if (wt->shape.dims[tb ? 0 : 1] != ch) return 0;
  }
  const pare_tensor *bt = b >= 0 ? g->values[b]->init : NULL;
  if (b >= 0 && (!bt || g->values[b]->enc || pare_tensor_numel(bt) != ch)) return 0;
  double *s = malloc((size_t)ch * 2 * sizeof *s);
  if (!s) return pare_errf(err, "out of memory");
  double *t = s + ch;
  int rc = 0;
  if (bn_affine(g, bn, ch, s, t)) {
    /* Named after the BN's output, which is unique and which they produce. */
    char wname[512], bname[512];
    snprintf(wname, sizeof wname, "%s.w", g->values[bn->outputs[0]]->name);
    snprintf(bname, sizeof bname, "%s.b", g->values[bn->outputs[0]]->name);
    int nw = scaled_const(g, wt, ch, inner, s, unique_or_null(g, wname), err);
    pare_shape bs = {.rank = 1, .dims = {ch}};
    pare_tensor *nb = nw >= 0 ? pare_tensor_new(PARE_F32, &bs, err) : NULL;
    for (int64_t c = 0; nb && c < ch; c++)
      ((float *)nb->data)[c] = (float)((bt ? pare_tensor_get_f64(bt, c) : 0) * s[c] + t[c]);
    int nbv = nb ? pare_graph_add_const(g, unique_or_null(g, bname), nb, err) : -1;
    if (nbv < 0) {
      rc = PARE_ERR;
    } else if (p->n_inputs < 3) {
      /* The producer gains a bias input. */
      int *grown = realloc(p->inputs, 3 * sizeof(int));
      if (!grown)
        rc = pare_errf(err, "out of memory");
      else
        p->inputs = grown, p->n_inputs = 3;
    }
    if (rc == 0 && p->name)
      pare_pass_decide_str(ctx, p->name, "folded", bn->name ? bn->name : "");
    else if (rc == 0)
      pare_pass_decide_str(ctx, g->values[x]->name, "folded", bn->name ? bn->name : "");
    if (rc == 0) {
      p->inputs[1] = nw;
      p->inputs[2] = nbv;
      /* The BN's output becomes the producer's: uses and names stay. */
      int y = bn->outputs[0];
      pare_graph_kill_node(g, k);
      for (int j = 0; j < p->n_outputs; j++)
        if (p->outputs[j] == x) p->outputs[j] = y;
      pare_graph_update_producers(g);
      rc = 1;
    }
  }
  free(s);
  return rc;
}

static int run_fold_batchnorm(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx,
                              int *changed, pare_err *err) {
  (void)args;
  int folded = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    if (!is_op(g->nodes[k], "BatchNormalization")) continue;
    int r = fold_one(g, k, ctx, err);
    if (r < 0) return PARE_ERR;
    folded += r;
  }
  if (folded && pare_graph_compact(g, err)) return PARE_ERR;
  pare_pass_stat(ctx, "BatchNormalizations folded", folded);
  *changed = folded > 0;
  return PARE_OK;
}

/* ------------------------------------------------------------- cleanup */

/* Can node n's output be replaced by its input 0 everywhere? Not when the
 * output is a graph output (its name is part of the model's interface). */
static int is_noop(pare_graph *g, const pare_node *n) {
  if (n->n_outputs < 1 || n->outputs[0] < 0 || n->n_inputs < 1 || n->inputs[0] < 0) return 0;
  const pare_value *in = g->values[n->inputs[0]], *out = g->values[n->outputs[0]];
  if (out->is_graph_output) return 0;
  for (int j = 1; j < n->n_outputs; j++)
    if (n->outputs[j] >= 0 && pare_graph_use_count(g, n->outputs[j]) > 0) return 0;
  if (is_op(n, "Identity") || is_op(n, "Dropout")) return 1;
  if (is_op(n, "Cast")) return pare_attr_int(n, "to", 0) == (int64_t)in->dtype;
  /* A view to the shape it already has. */
  if (is_op(n, "Reshape") || is_op(n, "Flatten") || is_op(n, "Squeeze") || is_op(n, "Unsqueeze"))
    return pare_shape_is_static(&in->shape) && pare_shape_equal(&in->shape, &out->shape);
  return 0;
}

static int run_cleanup(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx, int *changed,
                       pare_err *err) {
  (void)args;
  int removed = 0, merged = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    pare_node *n = g->nodes[k];
    if (!n->op) continue;
    if (is_noop(g, n)) {
      pare_graph_replace_uses(g, n->outputs[0], n->inputs[0]);
      pare_graph_kill_node(g, k);
      removed++;
      continue;
    }
    /* Reshape(Reshape(x, s1), s2) = Reshape(x, s2) when the inner result
     * has no other reader and s2 has no 0 (copy-a-dim) entries. */
    if (is_op(n, "Reshape") && n->n_inputs >= 2) {
      pare_node *p = producer(g, n->inputs[0]);
      const pare_tensor *shape = g->values[n->inputs[1]]->init;
      int has_zero = !shape;
      for (int64_t i = 0; shape && i < pare_tensor_numel(shape); i++)
        has_zero |= pare_tensor_get_i64(shape, i) == 0;
      if (p && is_op(p, "Reshape") && !has_zero && pare_graph_use_count(g, n->inputs[0]) == 1 &&
          !g->values[n->inputs[0]]->is_graph_output) {
        n->inputs[0] = p->inputs[0];
        merged++;
      }
    }
  }
  if (removed + merged == 0) return PARE_OK;
  /* The inner Reshapes of merged pairs are now unread: dce drops them. */
  int dce_changed;
  if (run_dce(g, args, NULL, &dce_changed, err)) return PARE_ERR;
  pare_pass_stat(ctx, "no-op nodes removed", removed);
  pare_pass_stat(ctx, "reshape chains merged", merged);
  *changed = 1;
  return PARE_OK;
}

/* ------------------------------------------------------------- registry */

static const pare_pass_option fold_options[] = {
    {"max-mib", PARE_OPT_INT, "256", NULL, "largest constant folding may create, in MiB"},
    {NULL, 0, NULL, NULL, NULL},
};

const pare_pass_info pare_passes_canonicalize[] = {
    {"fold-constants", "evaluate nodes whose inputs are all constant", fold_options,
     run_fold_constants},
    {"dce", "remove nodes whose outputs nothing reads", NULL, run_dce},
    {"fold-batchnorm", "fold BatchNormalization into the Conv or Gemm before it", NULL,
     run_fold_batchnorm},
    {"cleanup",
     "remove Identity, Dropout, same-type Cast and same-shape views; merge Reshape chains", NULL,
     run_cleanup},
    {NULL, NULL, NULL, NULL},
};
