/*
 * summary.c - model summary for `pare inspect`: nodes by op, parameters,
 * weight bytes, FLOPs.
 */
#include "driver/summary.h"

#include <stdlib.h>
#include <string.h>

static int64_t numel_or_zero(const pare_shape *s) {
  int64_t n;
  if (pare_shape_numel(s, &n, NULL)) return 0;
  return n;
}

static int64_t value_numel(const pare_graph *g, int v) {
  return v < 0 ? 0 : numel_or_zero(&g->values[v]->shape);
}

/* Product of the dims of value v from index `from` on (0 if unknown). */
static int64_t dims_product(const pare_graph *g, int v, int from) {
  if (v < 0) return 0;
  const pare_shape *s = &g->values[v]->shape;
  if (!pare_shape_is_static(s)) return 0;
  int64_t p = 1;
  for (int i = from; i < s->rank; i++) p *= s->dims[i];
  return p;
}

int64_t pare_node_macs(const pare_graph *g, const pare_node *n) {
  int in0 = n->n_inputs > 0 ? n->inputs[0] : -1;
  int in1 = n->n_inputs > 1 ? n->inputs[1] : -1;
  int out0 = n->n_outputs > 0 ? n->outputs[0] : -1;
  if (strcmp(n->op, "Conv") == 0) {
    /* each output element: (Cin/group) * prod(kernel) MACs; W is [Cout, Cin/group, k...] */
    return value_numel(g, out0) * dims_product(g, in1, 1);
  }
  if (strcmp(n->op, "ConvTranspose") == 0) {
    /* each input element scatters into Cout/group * prod(kernel) outputs */
    return value_numel(g, in0) * dims_product(g, in1, 1);
  }
  if (strcmp(n->op, "Gemm") == 0) {
    const pare_shape *a = in0 >= 0 ? &g->values[in0]->shape : NULL;
    if (!a || a->rank != 2 || a->dims[0] < 0 || a->dims[1] < 0) return 0;
    int64_t k = pare_attr_int(n, "transA", 0) ? a->dims[0] : a->dims[1];
    return value_numel(g, out0) * k;
  }
  if (strcmp(n->op, "MatMul") == 0) {
    const pare_shape *a = in0 >= 0 ? &g->values[in0]->shape : NULL;
    if (!a || a->rank < 1 || a->dims[a->rank - 1] < 0) return 0;
    return value_numel(g, out0) * a->dims[a->rank - 1];
  }
  return 0;
}

int64_t pare_node_flops(const pare_graph *g, const pare_node *n) {
  int64_t macs = pare_node_macs(g, n);
  if (macs) return 2 * macs;
  /* Everything else: about one operation per output element. */
  int64_t total = 0;
  for (int j = 0; j < n->n_outputs; j++) total += value_numel(g, n->outputs[j]);
  return total;
}

static int cmp_op_count(const void *a, const void *b) {
  const pare_op_count *x = a, *y = b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return strcmp(x->op, y->op);
}

int pare_summarize(const pare_graph *g, pare_summary *s) {
  memset(s, 0, sizeof *s);
  s->ops = calloc((size_t)g->n_nodes + 1, sizeof *s->ops);
  if (!s->ops) return PARE_ERR;
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    if (!n->op) continue;
    s->nodes++;
    int i = 0;
    while (i < s->n_ops && strcmp(s->ops[i].op, n->op) != 0) i++;
    if (i == s->n_ops) s->ops[s->n_ops++].op = n->op;
    s->ops[i].count++;
    for (int j = 0; j < n->n_outputs; j++)
      if (n->outputs[j] >= 0 && !pare_shape_is_static(&g->values[n->outputs[j]]->shape)) {
        s->unknown_shapes++;
        break;
      }
    s->macs += pare_node_macs(g, n);
    s->flops += pare_node_flops(g, n);
  }
  qsort(s->ops, (size_t)s->n_ops, sizeof *s->ops, cmp_op_count);
  for (int v = 0; v < g->n_values; v++) {
    const pare_value *val = g->values[v];
    if (!val->init) continue;
    s->constants++;
    if (pare_dtype_is_float(val->dtype)) s->parameters += pare_tensor_numel(val->init);
    s->weight_bytes += val->enc ? pare_encoding_bytes(val->enc) : val->init->nbytes;
  }
  return PARE_OK;
}

void pare_summary_free(pare_summary *s) {
  free(s->ops);
  s->ops = NULL;
}
