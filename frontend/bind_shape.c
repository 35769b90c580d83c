/*
 * bind_shape.c - fixing the symbolic / unknown dims of a graph input.
 */
#include "frontend/frontend_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find_input(const pare_graph *g, const char *name) {
  for (int i = 0; i < g->n_inputs; i++)
    if (strcmp(g->values[g->inputs[i]]->name, name) == 0) return g->inputs[i];
  return -1;
}

static int no_such_input(const pare_graph *g, const char *name, pare_err *err) {
  char names[512];
  size_t used = 0;
  names[0] = 0;
  for (int i = 0; i < g->n_inputs && used < sizeof names; i++)
    used += (size_t)snprintf(names + used, sizeof names - used, "%s'%s'", i ? ", " : "",
                             g->values[g->inputs[i]]->name);
  return pare_errf(err, "graph has no input '%s' (inputs: %s)", name, g->n_inputs ? names : "none");
}

/* Another input sharing a dim_param with v must agree on its value. */
static int check_dim_params(const pare_graph *g, int vi, const pare_shape *shape, pare_err *err) {
  const pare_value *v = g->values[vi];
  for (int d = 0; d < shape->rank && d < PARE_MAX_RANK; d++) {
    const char *param = v->dim_param[d];
    if (!param) continue;
    for (int i = 0; i < g->n_inputs; i++) {
      const pare_value *w = g->values[g->inputs[i]];
      if (g->inputs[i] == vi) continue;
      for (int e = 0; e < w->shape.rank; e++)
        if (w->dim_param[e] && strcmp(w->dim_param[e], param) == 0 && w->shape.dims[e] >= 0 &&
            w->shape.dims[e] != shape->dims[d])
          return pare_errf(err, "input '%s': dim '%s' given as %lld but input '%s' has %s=%lld",
                           v->name, param, (long long)shape->dims[d], w->name, param,
                           (long long)w->shape.dims[e]);
    }
  }
  return PARE_OK;
}

int pare_bind_input_shape(pare_graph *g, const char *name, const pare_shape *shape, pare_err *err) {
  int vi = find_input(g, name);
  if (vi < 0) return no_such_input(g, name, err);
  pare_value *v = g->values[vi];
  char want[256], got[256];
  pare_shape_str(&v->shape, want, sizeof want);
  if (shape->rank < 0 || shape->rank > PARE_MAX_RANK)
    return pare_errf(err, "input '%s': rank %d given, must be 0..%d", name, shape->rank,
                     PARE_MAX_RANK);
  pare_shape_str(shape, got, sizeof got);
  /* Zero-size dims are legal ONNX (empty tensors); negative ones are not. */
  for (int d = 0; d < shape->rank; d++)
    if (shape->dims[d] < 0)
      return pare_errf(err, "input '%s': given shape %s has a negative dim", name, got);
  if (v->shape.rank >= 0 && v->shape.rank != shape->rank)
    return pare_errf(err, "input '%s' is declared %s (rank %d) but given %s (rank %d)", name, want,
                     v->shape.rank, got, shape->rank);
  for (int d = 0; d < v->shape.rank; d++)
    if (v->shape.dims[d] >= 0 && v->shape.dims[d] != shape->dims[d])
      return pare_errf(err, "input '%s' is declared %s but given %s (dim %d differs)", name, want,
                       got, d);
  if (check_dim_params(g, vi, shape, err)) return PARE_ERR;
  v->shape = *shape;
  return PARE_OK;
}
