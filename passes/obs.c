/*
 * obs.c - see obs.h.
 */
#include "passes/obs.h"

#include "passes/gram.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Columns per lazy-update block (SparseGPT's choice). */
enum { BLOCK = 128 };

int pare_obs_inverse_cholesky(const double *h, int64_t k, double damp, double *u, pare_err *err) {
  lapack_int n = (lapack_int)k;
  for (int attempt = 0; attempt < PARE_GRAM_DAMP_ATTEMPTS; attempt++) {
    pare_gram_damped(h, k, damp, attempt, u);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', n, u, n) != 0) continue;
    if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', n, u, n) != 0) continue;
    for (int64_t i = 0; i < k; i++)
      for (int64_t j = 0; j < i; j++) u[i * k + j] = u[j * k + i];
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', n, u, n) != 0) continue;
    for (int64_t i = 0; i < k; i++)
      for (int64_t j = 0; j < i; j++) u[i * k + j] = 0;
    return 0;
  }
  return pare_errf(err, "the input Gram matrix is not positive definite even with damping");
}

typedef struct scored {
  double s;
  int64_t j;
} scored;

static int cmp_scored(const void *a, const void *b) {
  const scored *x = a, *y = b;
  if (x->s != y->s) return x->s < y->s ? -1 : 1;
  return (x->j > y->j) - (x->j < y->j);
}

/* Marks the `count` weights of row w[lo..hi) with the smallest saliency. */
static void choose(const double *w, const double *u, int64_t k, int64_t lo, int64_t hi,
                   int64_t count, unsigned char *zero, scored *tmp) {
  if (count <= 0) return;
  int64_t n = 0;
  for (int64_t j = lo; j < hi; j++) {
    double d = u[j * k + j], s = w[j] * w[j] / (d * d);
    tmp[n++] = (scored){isnan(s) ? INFINITY : s, j};
  }
  qsort(tmp, (size_t)n, sizeof *tmp, cmp_scored);
  for (int64_t i = 0; i < count && i < n; i++) zero[tmp[i].j] = 1;
}

/* Marks the `count` weights of columns [lo, hi) of all rows with the
 * smallest saliency (tmp holds rows * (hi - lo)). */
static void choose_block(const double *w, const double *u, int64_t rows, int64_t k, int64_t lo,
                         int64_t hi, int64_t count, unsigned char *zero, scored *tmp) {
  if (count <= 0) return;
  int64_t n = 0;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = lo; j < hi; j++) {
      double d = u[j * k + j], s = w[r * k + j] * w[r * k + j] / (d * d);
      tmp[n++] = (scored){isnan(s) ? INFINITY : s, r * k + j};
    }
  qsort(tmp, (size_t)n, sizeof *tmp, cmp_scored);
  for (int64_t i = 0; i < count && i < n; i++) zero[tmp[i].j] = 1;
}

int pare_obs_prune(double *w, int64_t rows, int64_t k, const double *h, const pare_obs_opts *o,
                   unsigned char *zero, pare_err *err) {
  double *u = malloc((size_t)(k * k) * sizeof *u);
  double *e = malloc((size_t)(rows * BLOCK) * sizeof *e);
  scored *tmp = malloc((size_t)((k > BLOCK ? k : BLOCK) * rows) * sizeof *tmp);
  int rc = u && e && tmp ? 0 : pare_errf(err, "out of memory");
  if (rc == 0) rc = pare_obs_inverse_cholesky(h, k, o->damp, u, err);
  memset(zero, 0, (size_t)(rows * k));
  for (int64_t i1 = 0; rc == 0 && i1 < k; i1 += BLOCK) {
    int64_t i2 = i1 + BLOCK < k ? i1 + BLOCK : k, cnt = i2 - i1;
    /* Unstructured: this block's share, so that each row ends with
     * round(sparsity * k) zeros. */
    if (o->nm_m <= 0 && o->per_row) {
      int64_t count = llround(o->sparsity * (double)i2) - llround(o->sparsity * (double)i1);
      for (int64_t r = 0; r < rows; r++) choose(w + r * k, u, k, i1, i2, count, zero + r * k, tmp);
    } else if (o->nm_m <= 0) {
      int64_t count =
          llround(o->sparsity * (double)(i2 * rows)) - llround(o->sparsity * (double)(i1 * rows));
      choose_block(w, u, rows, k, i1, i2, count, zero, tmp);
    }
    for (int64_t i = i1; i < i2; i++) {
      if (o->nm_m > 0 && i % o->nm_m == 0) {
        int64_t end = i + o->nm_m < k ? i + o->nm_m : k;
        for (int64_t r = 0; r < rows; r++)
          choose(w + r * k, u, k, i, end, end - i - o->nm_n, zero + r * k, tmp);
      }
      double d = u[i * k + i];
      for (int64_t r = 0; r < rows; r++) {
        double *wr = w + r * k;
        double q = zero[r * k + i] ? 0.0 : wr[i];
        double er = (wr[i] - q) / d;
        wr[i] = q;
        for (int64_t j = i + 1; j < i2; j++) wr[j] -= er * u[i * k + j];
        e[r * cnt + (i - i1)] = er;
      }
    }
    if (i2 < k)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)(k - i2), (int)cnt,
                  -1.0, e, (int)cnt, u + i1 * k + i2, (int)k, 1.0, w + i2, (int)k);
  }
  /* Removed weights are exactly zero (the updates above never touch a
   * processed column, but say so for the encoder). */
  for (int64_t i = 0; rc == 0 && i < rows * k; i++)
    if (zero[i]) w[i] = 0.0;
  free(u);
  free(e);
  free(tmp);
  return rc;
}
