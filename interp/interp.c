/*
 * interp.c - the reference interpreter.
 *
 * Runs nodes in graph order. Each node's output shapes come from its op's
 * infer function applied to the concrete inputs (so shapes that depend on
 * run-time values work), then its reference kernel fills them. A value is
 * freed right after its last reader runs.
 */
#include "interp/interp.h"

#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

typedef struct run_state {
  const pare_graph *g;
  pare_tensor **vals; /* current tensor of each value (NULL = not computed) */
  char *owned;        /* 1 if vals[v] was allocated by the run */
  int *last_use;      /* last node index reading each value; n_nodes for graph outputs */
} run_state;

static void state_free(run_state *s) {
  if (s->vals)
    for (int v = 0; v < s->g->n_values; v++)
      if (s->owned[v]) pare_tensor_free(s->vals[v]);
  free(s->vals);
  free(s->owned);
  free(s->last_use);
}

static int state_init(run_state *s, const pare_graph *g, pare_err *err) {
  memset(s, 0, sizeof *s);
  s->g = g;
  size_t n = (size_t)g->n_values + 1;
  s->vals = calloc(n, sizeof *s->vals);
  s->owned = calloc(n, 1);
  s->last_use = malloc(n * sizeof *s->last_use);
  if (!s->vals || !s->owned || !s->last_use) return pare_errf(err, "out of memory");
  for (int v = 0; v < g->n_values; v++) {
    s->last_use[v] = -1;
    if (g->values[v]->init) s->vals[v] = g->values[v]->init;
  }
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *nd = g->nodes[k];
    for (int i = 0; i < nd->n_inputs; i++)
      if (nd->inputs[i] >= 0) s->last_use[nd->inputs[i]] = k;
  }
  for (int j = 0; j < g->n_outputs; j++) s->last_use[g->outputs[j]] = g->n_nodes;
  return PARE_OK;
}

static int bind_inputs(run_state *s, pare_tensor *const *inputs, pare_err *err) {
  const pare_graph *g = s->g;
  for (int i = 0; i < g->n_inputs; i++) {
    const pare_value *val = g->values[g->inputs[i]];
    const pare_tensor *t = inputs[i];
    if (!t || !t->data) return pare_errf(err, "input %d ('%s') missing", i, val->name);
    if (t->dtype != val->dtype)
      return pare_errf(err, "input '%s' is %s, the model expects %s", val->name,
                       pare_dtype_name(t->dtype), pare_dtype_name(val->dtype));
    int agree = val->shape.rank < 0 || val->shape.rank == t->shape.rank;
    for (int d = 0; agree && val->shape.rank >= 0 && d < t->shape.rank; d++)
      agree = val->shape.dims[d] < 0 || val->shape.dims[d] == t->shape.dims[d];
    if (!agree) {
      char a[128], b[128];
      pare_shape_str(&t->shape, a, sizeof a);
      pare_shape_str(&val->shape, b, sizeof b);
      return pare_errf(err, "input '%s' has shape %s, the model expects %s", val->name, a, b);
    }
    s->vals[g->inputs[i]] = (pare_tensor *)t; /* borrowed: never freed by the run */
  }
  return PARE_OK;
}

static int run_node(run_state *s, int k, pare_err *err) {
  const pare_graph *g = s->g;
  const pare_node *nd = g->nodes[k];
  const pare_op_def *def = pare_op_find(nd->op);
  if (!def) return pare_errf(err, "unsupported op");
  const pare_tensor **in = calloc((size_t)nd->n_inputs + 1, sizeof *in);
  pare_tensor *out = calloc((size_t)nd->n_outputs + 1, sizeof *out);
  int rc = PARE_OK;
  if (!in || !out) {
    rc = pare_errf(err, "out of memory");
    goto done;
  }
  for (int i = 0; i < nd->n_inputs; i++) {
    int v = nd->inputs[i];
    if (v < 0) continue;
    if (!s->vals[v]) {
      rc = pare_errf(err, "input '%s' has no value", g->values[v]->name);
      goto done;
    }
    in[i] = s->vals[v];
  }
  for (int j = 0; j < nd->n_outputs; j++) out[j].shape = pare_shape_unknown();
  rc = def->infer(nd, in, nd->n_inputs, out, nd->n_outputs, err);
  if (rc == PARE_UNKNOWN) {
    rc = pare_errf(err, "output shape could not be determined from the inputs");
    goto done;
  }
  if (rc) goto done;
  for (int j = 0; j < nd->n_outputs && rc == PARE_OK; j++) rc = pare_tensor_alloc(&out[j], err);
  if (rc) goto done;
  rc = def->eval(nd, in, nd->n_inputs, out, nd->n_outputs, err);
  if (rc) goto done;
  for (int j = 0; j < nd->n_outputs; j++) {
    int v = nd->outputs[j];
    if (v < 0 || s->last_use[v] < 0) continue; /* nobody reads it: dropped below */
    pare_tensor *t = malloc(sizeof *t);
    if (!t) {
      rc = pare_errf(err, "out of memory");
      goto done;
    }
    *t = out[j];
    memset(&out[j], 0, sizeof out[j]);
    s->vals[v] = t;
    s->owned[v] = 1;
  }
done:
  if (out)
    for (int j = 0; j < nd->n_outputs; j++) pare_tensor_release(&out[j]);
  free(out);
  free(in);
  return rc;
}

/* Frees intermediates whose last reader was node k. */
static void release_dead(run_state *s, int k) {
  const pare_node *nd = s->g->nodes[k];
  for (int i = 0; i < nd->n_inputs; i++) {
    int v = nd->inputs[i];
    if (v >= 0 && s->last_use[v] == k && s->owned[v]) {
      pare_tensor_free(s->vals[v]);
      s->vals[v] = NULL;
      s->owned[v] = 0;
    }
  }
}

int pare_interp_run(const pare_graph *g, pare_tensor *const *inputs, pare_tensor **outputs,
                    pare_err *err) {
  run_state s;
  int rc = state_init(&s, g, err);
  for (int j = 0; j < g->n_outputs; j++) outputs[j] = NULL;
  if (rc == PARE_OK) rc = bind_inputs(&s, inputs, err);
  for (int k = 0; rc == PARE_OK && k < g->n_nodes; k++) {
    if (!g->nodes[k]->op) continue;
    rc = run_node(&s, k, err);
    if (rc)
      pare_err_prefix(err, "node '%s' (%s)", g->nodes[k]->name, g->nodes[k]->op);
    else
      release_dead(&s, k);
  }
  for (int j = 0; rc == PARE_OK && j < g->n_outputs; j++) {
    int v = g->outputs[j];
    if (!s.vals[v]) {
      rc = pare_errf(err, "graph output '%s' was not computed", g->values[v]->name);
      break;
    }
    /* The same value may be listed twice, or be an input or constant: copy
     * unless this run owns it and this is its last listing. */
    int listed_later = 0;
    for (int m = j + 1; m < g->n_outputs; m++) listed_later |= g->outputs[m] == v;
    if (s.owned[v] && !listed_later) {
      outputs[j] = s.vals[v];
      s.vals[v] = NULL;
      s.owned[v] = 0;
    } else {
      outputs[j] = pare_tensor_clone(s.vals[v], err);
      if (!outputs[j]) rc = PARE_ERR;
    }
  }
  if (rc) {
    for (int j = 0; j < g->n_outputs; j++) {
      pare_tensor_free(outputs[j]);
      outputs[j] = NULL;
    }
  }
  state_free(&s);
  return rc;
}
