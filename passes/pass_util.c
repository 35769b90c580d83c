/*
 * pass_util.c - see pass_util.h.
 */
#include "passes/pass_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pare_pass_parse_ops(const char *s, unsigned *mask, pare_err *err) {
  *mask = 0;
  const char *p = s ? s : "";
  while (*p) {
    size_t n = strcspn(p, "+");
    if (n == 3 && strncmp(p, "all", 3) == 0)
      *mask |= PARE_OP_CONV | PARE_OP_GEMM | PARE_OP_MATMUL;
    else if (n == 4 && strncmp(p, "conv", 4) == 0)
      *mask |= PARE_OP_CONV;
    else if (n == 4 && strncmp(p, "gemm", 4) == 0)
      *mask |= PARE_OP_GEMM;
    else if (n == 6 && strncmp(p, "matmul", 6) == 0)
      *mask |= PARE_OP_MATMUL;
    else
      return pare_errf(err, "option 'ops': '%.*s' is not conv, gemm, matmul or all (join with +)",
                       (int)n, p);
    p += n + (p[n] == '+');
  }
  if (!*mask) return pare_errf(err, "option 'ops' names no op (conv, gemm, matmul joined by +)");
  return PARE_OK;
}

int pare_pass_is_op(const pare_node *n, const char *op) {
  return n->op && (!n->domain || !n->domain[0]) && strcmp(n->op, op) == 0;
}

int pare_pass_linear_weight(const pare_graph *g, const pare_node *n, unsigned mask, int *kn) {
  int v = n->n_inputs > 1 ? n->inputs[1] : -1;
  if (v < 0) return -1;
  const pare_tensor *t = g->values[v]->init;
  if (!t || !t->data || t->dtype != PARE_F32) return -1;
  int rank = t->shape.rank;
  *kn = 0;
  if (pare_pass_is_op(n, "Conv") && (mask & PARE_OP_CONV)) {
    if (rank < 3) return -1;
  } else if (pare_pass_is_op(n, "Gemm") && (mask & PARE_OP_GEMM)) {
    if (rank != 2) return -1;
    *kn = pare_attr_int(n, "transB", 0) == 0;
  } else if (pare_pass_is_op(n, "MatMul") && (mask & PARE_OP_MATMUL)) {
    if (rank != 2) return -1;
    *kn = 1;
  } else {
    return -1;
  }
  return v;
}

char *pare_pass_unique_name(const pare_graph *g, const char *base, const char *suffix) {
  size_t len = strlen(base) + strlen(suffix) + 24;
  char *buf = malloc(len);
  if (!buf) return NULL;
  snprintf(buf, len, "%s%s", base, suffix);
  for (int i = 2; pare_graph_find_value(g, buf) >= 0; i++)
    snprintf(buf, len, "%s%s.%d", base, suffix, i);
  return buf;
}

/* One body for both element types, so the two cannot drift apart. */
#define SWAP(T, x, y)                                                                              \
  do {                                                                                             \
    T t_ = (x);                                                                                    \
    (x) = (y), (y) = t_;                                                                           \
  } while (0)

#define DEFINE_SELECT_KTH(NAME, T)                                                                 \
  T NAME(T *a, int64_t n, int64_t k) {                                                             \
    int64_t lo = 0, hi = n - 1;                                                                    \
    while (lo < hi) {                                                                              \
      int64_t mid = lo + (hi - lo) / 2;                                                            \
      if (a[mid] < a[lo]) SWAP(T, a[mid], a[lo]);                                                  \
      if (a[hi] < a[lo]) SWAP(T, a[hi], a[lo]);                                                    \
      if (a[hi] < a[mid]) SWAP(T, a[hi], a[mid]);                                                  \
      T p = a[mid];                                                                                \
      /* a[lo..lt) < p, a[lt..i) == p, a(gt..hi] > p */                                            \
      int64_t lt = lo, i = lo, gt = hi;                                                            \
      while (i <= gt) {                                                                            \
        if (a[i] < p) {                                                                            \
          SWAP(T, a[lt], a[i]);                                                                    \
          lt++, i++;                                                                               \
        } else if (a[i] > p) {                                                                     \
          SWAP(T, a[i], a[gt]);                                                                    \
          gt--;                                                                                    \
        } else {                                                                                   \
          i++;                                                                                     \
        }                                                                                          \
      }                                                                                            \
      if (k < lt)                                                                                  \
        hi = lt - 1;                                                                               \
      else if (k > gt)                                                                             \
        lo = gt + 1;                                                                               \
      else                                                                                         \
        return p;                                                                                  \
    }                                                                                              \
    return a[k];                                                                                   \
  }

DEFINE_SELECT_KTH(pare_select_kth_f64, double)
DEFINE_SELECT_KTH(pare_select_kth_f32, float)

int pare_pass_name_in_list(const char *list, const char *name) {
  if (!list || !name) return 0;
  size_t len = strlen(name);
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, "+");
    if (n == len && strncmp(p, name, n) == 0) return 1;
    p += n + (p[n] == '+');
  }
  return 0;
}
