/*
 * pass_util.h - small pieces the passes share (private to passes/).
 */
#ifndef PARE_PASSES_PASS_UTIL_H
#define PARE_PASSES_PASS_UTIL_H

#include "ir/ir.h"

/* The layer kinds an `ops` option names. */
enum { PARE_OP_CONV = 1, PARE_OP_GEMM = 2, PARE_OP_MATMUL = 4 };

/* Parses an `ops` option value such as "conv+gemm+matmul" (or "all") into
 * PARE_OP_* bits; an unknown or empty list is an error naming the option. */
int pare_pass_parse_ops(const char *s, unsigned *mask, pare_err *err);

/* n is the ONNX op `op` (default domain). */
int pare_pass_is_op(const pare_node *n, const char *op);

/* The weight (input 1) of a Conv, Gemm or MatMul node whose kind is in
 * mask (PARE_OP_*), as a value index, or -1 when there is none: an f32
 * initializer with data, of rank >= 3 for Conv and 2 for Gemm and MatMul.
 * *kn is 1 when it is stored [K, N] (MatMul, Gemm with transB=0), i.e. the
 * output channels run along axis 1, and 0 when they run along axis 0
 * (Conv, Gemm with transB=1). Its encoding is left to the caller. */
int pare_pass_linear_weight(const pare_graph *g, const pare_node *n, unsigned mask, int *kn);

/* Is `name` in `list`, names joined by '+' ("a+b+c")? An empty list holds
 * no name. (The `layers` option of the passes: empty means every layer.) */
int pare_pass_name_in_list(const char *list, const char *name);

/* base + suffix, or with ".2", ".3", ... appended when a value has that
 * name already: a malloc'd string, NULL when out of memory. */
char *pare_pass_unique_name(const pare_graph *g, const char *base, const char *suffix);

/* The k-th smallest (0-based) of a[0..n), reordering a: quickselect with a
 * median-of-three pivot and a three-way partition (runs of equal values,
 * such as zeros, cost nothing). Both give the same answer on the same
 * values; the float one keeps large selections at half the memory. */
double pare_select_kth_f64(double *a, int64_t n, int64_t k);
float pare_select_kth_f32(float *a, int64_t n, int64_t k);

#endif /* PARE_PASSES_PASS_UTIL_H */
