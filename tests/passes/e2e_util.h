/*
 * e2e_util.h - what the end-to-end kernel tests (quant_e2e.c, sparse_e2e.c)
 * share: a growing text buffer to write IR in, a seeded random generator and
 * random constants and inputs drawn from it.
 *
 * The including file defines E2E_RNG_SEED first: each test keeps its own
 * sequence of weights, and may reset `rng` to that seed again.
 */
#ifndef PARE_TESTS_E2E_UTIL_H
#define PARE_TESTS_E2E_UTIL_H

#include "ir/ir.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef E2E_RNG_SEED
#error "define E2E_RNG_SEED before including e2e_util.h"
#endif

/* ------------------------------------------------------------ text builder */

typedef struct sbuf {
  char *p;
  size_t len, cap;
} sbuf;

static inline void sb_printf(sbuf *b, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    if (b->p && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = (b->cap + (size_t)n + 1) * 2;
    char *q = realloc(b->p, cap);
    if (!q) abort();
    b->p = q, b->cap = cap;
  }
}

static uint32_t rng = E2E_RNG_SEED;

static inline float frand(void) {
  rng = rng * 1664525u + 1013904223u;
  return (float)((rng >> 8) & 0xffffff) / (float)0x800000 - 1.0f; /* [-1, 1) */
}

/* "const %name : f32[dims] = dense<random * scale>" */
static inline void sb_const(sbuf *b, const char *name, const int64_t *dims, int rank, float scale) {
  int64_t n = 1;
  sb_printf(b, "  const %%%s : f32[", name);
  for (int d = 0; d < rank; d++) {
    sb_printf(b, "%s%lld", d ? "," : "", (long long)dims[d]);
    n *= dims[d];
  }
  sb_printf(b, "] = dense<");
  for (int64_t i = 0; i < n; i++) sb_printf(b, "%s%.6g", i ? ", " : "", frand() * scale);
  sb_printf(b, ">\n");
}

/* An f32 tensor of shape s with elements in [-1, 1). */
static inline pare_tensor *random_input(const pare_shape *s, pare_err *err) {
  pare_tensor *t = pare_tensor_new(PARE_F32, s, err);
  if (!t) return NULL;
  float *d = t->data;
  for (int64_t i = 0; i < pare_tensor_numel(t); i++) d[i] = frand();
  return t;
}

#endif /* PARE_TESTS_E2E_UTIL_H */
