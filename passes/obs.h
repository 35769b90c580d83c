/*
 * obs.h - Optimal Brain Surgeon pruning with weight reconstruction, in the
 * blocked form of SparseGPT (Frantar & Alistarh, 2023).
 *
 * For one layer y = W x with the input Gram matrix H = sum x x^T
 * (passes/gram.h), removing weights while updating the remaining ones to
 * minimize ||(W - W') X||^2: columns (inputs) are processed in order; the
 * error of zeroing w[r][j] is spread over the not yet processed columns of
 * row r through the Cholesky factor of H^-1, and the mask of each block of
 * columns is chosen by the OBS saliency w^2 / [H^-1]_jj^2 just before the
 * block is processed.
 */
#ifndef PARE_PASSES_OBS_H
#define PARE_PASSES_OBS_H

#include "ir/ir.h"

#include <stdint.h>

typedef struct pare_obs_opts {
  double sparsity; /* unstructured: fraction of each row removed */
  int nm_n, nm_m;  /* N:M instead (keep nm_n of every nm_m columns) when nm_m > 0 */
  double damp;     /* added to H's diagonal: damp * mean(diag H) */
  int per_row;     /* unstructured: every row loses the same share (else one
                      threshold per block over all rows, as SparseGPT) */
} pare_obs_opts;

/* Prunes w[rows][k] (row-major, double) in place; sets zero[r * k + j] to 1
 * for each weight removed. Every row loses the same number of weights
 * (rounded per block so that the layer total is round(sparsity * rows * k)),
 * so that rows of very different scale (BN-folded layers) are not emptied
 * by a threshold shared with larger rows. h (k x k) is not modified. */
int pare_obs_prune(double *w, int64_t rows, int64_t k, const double *h, const pare_obs_opts *o,
                   unsigned char *zero, pare_err *err);

/* U, upper triangular with H^-1 = U^T U, of the damped H (gram.h), in u
 * (k x k): the factor OBS and GPTQ spread errors with. A column whose input
 * was always zero gets curvature so the inverse exists (its weights then
 * cost nothing to change). */
int pare_obs_inverse_cholesky(const double *h, int64_t k, double damp, double *u, pare_err *err);

#endif /* PARE_PASSES_OBS_H */
