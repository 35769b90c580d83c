/*
 * summary.h - whole-model figures reported by `pare inspect`.
 */
#ifndef PARE_DRIVER_SUMMARY_H
#define PARE_DRIVER_SUMMARY_H

#include "ir/ir.h"

typedef struct pare_op_count {
  const char *op; /* borrowed from the graph */
  int count;
} pare_op_count;

typedef struct pare_summary {
  int nodes;
  int n_ops;
  pare_op_count *ops; /* sorted by count, descending */
  int constants;
  int64_t parameters;   /* elements of floating-point constants */
  int64_t weight_bytes; /* bytes of all constants as stored (encoded size if encoded) */
  int64_t macs;         /* multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul */
  int64_t flops;        /* 2 * macs + one per output element of other ops */
  int unknown_shapes;   /* nodes whose output shapes are not static: figures are partial */
} pare_summary;

/* Multiply-accumulates of one node (0 for ops that are not products or when
 * shapes are unknown). */
int64_t pare_node_macs(const pare_graph *g, const pare_node *n);
int64_t pare_node_flops(const pare_graph *g, const pare_node *n);

int pare_summarize(const pare_graph *g, pare_summary *s);
void pare_summary_free(pare_summary *s);

#endif
