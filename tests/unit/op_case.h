/*
 * op_case.h - a harness for op unit tests: one node, its input tensors, and
 * infer + allocate + eval through the registry, plus value checks.
 * Header-only (static inline) so each test program includes what it uses.
 */
#ifndef PARE_TEST_OP_CASE_H
#define PARE_TEST_OP_CASE_H

#include "check.h"
#include "ops/ops.h"

#include <stdint.h>

#define MAX_IO 5

/* One node under test plus the tensors fed to / produced by it. */
typedef struct op_case {
  pare_graph *g;
  pare_node *node;
  pare_tensor *in[MAX_IO];
  int n_in;
  pare_tensor out[MAX_IO];
  int n_out;
  pare_err err;
} op_case;

static inline void case_init(op_case *c, const char *op, int n_in, int n_out) {
  memset(c, 0, sizeof *c);
  c->g = pare_graph_new("t");
  int ins[MAX_IO], outs[MAX_IO];
  pare_shape s = pare_shape_make(0, NULL);
  for (int i = 0; i < n_in; i++) ins[i] = pare_graph_add_value(c->g, NULL, PARE_F32, &s, &c->err);
  for (int i = 0; i < n_out; i++) outs[i] = pare_graph_add_value(c->g, NULL, PARE_F32, &s, &c->err);
  int n = pare_graph_add_node(c->g, op, NULL, ins, n_in, outs, n_out, &c->err);
  c->node = c->g->nodes[n];
  c->n_in = n_in;
  c->n_out = n_out;
}

static inline void case_free(op_case *c) {
  for (int i = 0; i < MAX_IO; i++) {
    pare_tensor_free(c->in[i]);
    pare_tensor_release(&c->out[i]);
  }
  pare_graph_free(c->g);
}

static inline pare_tensor *tensor(pare_dtype dt, int rank, const int64_t *dims,
                                  const double *vals) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_err err;
  pare_tensor *t = pare_tensor_new(dt, &s, &err);
  if (t && vals)
    for (int64_t i = 0; i < pare_tensor_numel(t); i++) pare_tensor_set_f64(t, i, vals[i]);
  return t;
}

/* infer, allocate outputs, eval. Returns infer's status if not PARE_OK. */
static inline int case_run(op_case *c) {
  const pare_op_def *def = pare_op_find(c->node->op);
  if (!def) {
    snprintf(c->err.msg, sizeof c->err.msg, "op %s not registered", c->node->op);
    return PARE_ERR;
  }
  c->err.msg[0] = 0;
  int rc =
      def->infer(c->node, (const pare_tensor *const *)c->in, c->n_in, c->out, c->n_out, &c->err);
  if (rc != PARE_OK) return rc;
  for (int i = 0; i < c->n_out; i++)
    if (pare_tensor_alloc(&c->out[i], &c->err)) return PARE_ERR;
  return def->eval(c->node, (const pare_tensor *const *)c->in, c->n_in, c->out, c->n_out, &c->err);
}

static inline void check_shape(const pare_tensor *t, int rank, const int64_t *dims) {
  CHECK_MSG(t->shape.rank == rank, "rank %d vs %d", t->shape.rank, rank);
  for (int i = 0; i < rank && i < t->shape.rank; i++)
    CHECK_MSG(t->shape.dims[i] == dims[i], "dim %d: %lld vs %lld", i, (long long)t->shape.dims[i],
              (long long)dims[i]);
}

static inline void check_vals(const pare_tensor *t, const double *want, int64_t n, double tol) {
  CHECK_MSG(pare_tensor_numel(t) == n, "numel %lld vs %lld", (long long)pare_tensor_numel(t),
            (long long)n);
  for (int64_t i = 0; i < n && i < pare_tensor_numel(t); i++) {
    double got = pare_tensor_get_f64(t, i);
    if (isnan(want[i]))
      CHECK_MSG(isnan(got), "[%lld] %g vs NaN", (long long)i, got);
    else
      CHECK_MSG(fabs(got - want[i]) <= tol, "[%lld] %.9g vs %.9g", (long long)i, got, want[i]);
  }
}

#endif
