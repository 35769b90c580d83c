/*
 * graph.c - whole-graph analyses on top of the op registry: shape inference
 * and constant folding.
 */
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

/* Builds the input views of node n: dtype and shape of each input value and,
 * for constants, their data. Views alias the graph's tensors (not owned). */
static void input_views(const pare_graph *g, const pare_node *n, pare_tensor *views,
                        const pare_tensor **in) {
  for (int i = 0; i < n->n_inputs; i++) {
    int v = n->inputs[i];
    if (v < 0) {
      in[i] = NULL;
      continue;
    }
    const pare_value *val = g->values[v];
    memset(&views[i], 0, sizeof views[i]);
    views[i].dtype = val->dtype;
    views[i].shape = val->shape;
    if (val->init) {
      views[i].data = val->init->data;
      views[i].nbytes = val->init->nbytes;
    }
    in[i] = &views[i];
  }
}

static int node_error(pare_err *err, const pare_node *n) {
  return pare_err_prefix(err, "node '%s' (%s)", n->name, n->op);
}

/* Runs op infer for node k; outputs receive dtype/shape (data untouched).
 * Returns PARE_OK, PARE_UNKNOWN or PARE_ERR (message prefixed with the node). */
static int infer_node(const pare_graph *g, int k, pare_tensor *out, pare_err *err) {
  const pare_node *n = g->nodes[k];
  const pare_op_def *def = pare_op_find(n->op);
  if (!def || (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0)) {
    pare_errf(err, "unsupported op");
    return node_error(err, n);
  }
  pare_tensor *views = calloc((size_t)n->n_inputs + 1, sizeof *views);
  const pare_tensor **in = calloc((size_t)n->n_inputs + 1, sizeof *in);
  if (!views || !in) {
    free(views);
    free(in);
    return pare_errf(err, "out of memory");
  }
  input_views(g, n, views, in);
  for (int j = 0; j < n->n_outputs; j++) {
    memset(&out[j], 0, sizeof out[j]);
    out[j].shape = pare_shape_unknown();
  }
  int rc = def->infer(n, (const pare_tensor *const *)in, n->n_inputs, out, n->n_outputs, err);
  free(views);
  free(in);
  if (rc == PARE_ERR) return node_error(err, n);
  return rc;
}

/* Merges an inferred shape into a declared one: known inferred dims win;
 * a conflict between two known dims is an error. */
static int merge_shape(pare_value *v, const pare_shape *inferred, pare_err *err) {
  if (inferred->rank < 0) return PARE_OK;
  if (v->shape.rank >= 0 && v->shape.rank != inferred->rank)
    v->shape = pare_shape_unknown(); /* declared rank was wrong; trust the op */
  pare_shape merged = *inferred;
  for (int i = 0; i < merged.rank; i++) {
    int64_t d = v->shape.rank == merged.rank ? v->shape.dims[i] : -1;
    if (merged.dims[i] < 0)
      merged.dims[i] = d;
    else if (d >= 0 && d != merged.dims[i]) {
      char a[128], b[128];
      pare_shape_str(&v->shape, a, sizeof a);
      pare_shape_str(inferred, b, sizeof b);
      return pare_errf(err, "value '%s' declared %s but inferred %s", v->name, a, b);
    }
  }
  v->shape = merged;
  return PARE_OK;
}

/* Infers node k and merges the result into its output values. */
static int update_node_shapes(pare_graph *g, int k, pare_tensor *out, pare_err *err) {
  const pare_node *n = g->nodes[k];
  if (infer_node(g, k, out, err) == PARE_ERR) return PARE_ERR;
  for (int j = 0; j < n->n_outputs; j++) {
    int v = n->outputs[j];
    if (v < 0) continue;
    pare_value *val = g->values[v];
    if (out[j].dtype != PARE_UNDEFINED) val->dtype = out[j].dtype;
    if (merge_shape(val, &out[j].shape, err)) return node_error(err, n);
  }
  return PARE_OK;
}

static pare_tensor *output_scratch(const pare_graph *g, pare_err *err) {
  int max_out = 1;
  for (int k = 0; k < g->n_nodes; k++)
    if (g->nodes[k]->n_outputs > max_out) max_out = g->nodes[k]->n_outputs;
  pare_tensor *out = calloc((size_t)max_out, sizeof *out);
  if (!out) pare_errf(err, "out of memory");
  return out;
}

int pare_infer_shapes(pare_graph *g, pare_err *err) {
  pare_tensor *out = output_scratch(g, err);
  if (!out) return PARE_ERR;
  int rc = PARE_OK;
  for (int k = 0; k < g->n_nodes && rc == PARE_OK; k++)
    if (g->nodes[k]->op) rc = update_node_shapes(g, k, out, err);
  free(out);
  return rc;
}

/* A node folds when every present input is a constant, or when it only looks
 * at its input's (static) shape. */
static int foldable(const pare_graph *g, const pare_node *n) {
  if (strcmp(n->op, "Shape") == 0 || strcmp(n->op, "Size") == 0) {
    int v = n->n_inputs > 0 ? n->inputs[0] : -1;
    return v >= 0 && pare_shape_is_static(&g->values[v]->shape);
  }
  /* A DequantizeLinear of a constant is how a quantized weight is stored
   * (QDQ form): folding it would store the weight dense again. */
  if (strcmp(n->op, "DequantizeLinear") == 0) return 0;
  for (int i = 0; i < n->n_inputs; i++) {
    int v = n->inputs[i];
    if (v >= 0 && !g->values[v]->init) return 0;
  }
  return 1;
}

static int fold_node(pare_graph *g, int k, size_t max_bytes, int *folded, pare_err *err) {
  pare_node *n = g->nodes[k];
  const pare_op_def *def = pare_op_find(n->op);
  *folded = 0;
  if (!def) return PARE_OK;
  pare_tensor *out = calloc((size_t)n->n_outputs + 1, sizeof *out);
  pare_tensor *views = calloc((size_t)n->n_inputs + 1, sizeof *views);
  const pare_tensor **in = calloc((size_t)n->n_inputs + 1, sizeof *in);
  int rc = PARE_OK;
  if (!out || !views || !in) {
    rc = pare_errf(err, "out of memory");
    goto done;
  }
  input_views(g, n, views, in);
  rc = def->infer(n, (const pare_tensor *const *)in, n->n_inputs, out, n->n_outputs, err);
  if (rc != PARE_OK) {
    if (rc == PARE_ERR)
      node_error(err, n);
    else
      rc = PARE_OK; /* not foldable after all */
    goto done;
  }
  for (int j = 0; j < n->n_outputs; j++) {
    if (!pare_shape_is_static(&out[j].shape)) goto done;
    int64_t numel;
    if (pare_shape_numel(&out[j].shape, &numel, NULL)) goto done;
    if (max_bytes && (uint64_t)numel * pare_dtype_size(out[j].dtype) > max_bytes) goto done;
  }
  for (int j = 0; j < n->n_outputs; j++) {
    if (pare_tensor_alloc(&out[j], err)) {
      rc = node_error(err, n);
      goto done;
    }
  }
  if (def->eval(n, (const pare_tensor *const *)in, n->n_inputs, out, n->n_outputs, err)) {
    rc = node_error(err, n);
    goto done;
  }
  for (int j = 0; j < n->n_outputs; j++) {
    int v = n->outputs[j];
    if (v < 0) continue;
    pare_value *val = g->values[v];
    pare_tensor *t = calloc(1, sizeof *t);
    if (!t) {
      rc = pare_errf(err, "out of memory");
      goto done;
    }
    *t = out[j];
    memset(&out[j], 0, sizeof out[j]);
    pare_tensor_free(val->init);
    val->init = t;
    val->dtype = t->dtype;
    val->shape = t->shape;
    val->producer = -1;
  }
  pare_graph_kill_node(g, k);
  *folded = 1;
done:
  if (out)
    for (int j = 0; j < n->n_outputs; j++) pare_tensor_release(&out[j]);
  free(out);
  free(views);
  free(in);
  return rc;
}

int pare_fold_constants(pare_graph *g, size_t max_bytes, int *changed, pare_err *err) {
  /* One pass in topological order: by the time node k is reached its inputs
   * are final, so it either folds or gets its output shapes inferred. */
  pare_tensor *out = output_scratch(g, err);
  if (!out) return PARE_ERR;
  int any = 0, rc = PARE_OK;
  for (int k = 0; k < g->n_nodes && rc == PARE_OK; k++) {
    pare_node *n = g->nodes[k];
    if (!n->op) continue;
    int folded = 0;
    if (update_node_shapes(g, k, out, err))
      rc = PARE_ERR;
    else if (foldable(g, n))
      rc = fold_node(g, k, max_bytes, &folded, err);
    any |= folded;
  }
  free(out);
  if (rc) return rc;
  if (any && pare_graph_compact(g, err)) return PARE_ERR;
  if (changed) *changed = any;
  return PARE_OK;
}
