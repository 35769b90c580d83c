/*
 * gram.h - second-moment statistics of layer inputs on the calibration data.
 *
 * For a layer y = W x (Conv, Gemm, MatMul with a constant weight) the
 * activation-aware passes need H = sum x x^T over every input vector x the
 * weight multiplies, on every calibration sample: the Hessian of the layer's
 * squared output error (OBS/SparseGPT) and the covariance that whitens an
 * SVD (SVD-LLM). The vectors are, per layer:
 *
 *   Conv    per group, each im2col patch: x[c * prod(kernel) + kernel offset]
 *           for the group's c in [0, C/group), zero outside the padded input,
 *           in the order of the weight's flattened [C/group, k...] dims;
 *   Gemm    each row of A (each column with transA), length K;
 *   MatMul  each row of A's last two dims, length K (B is the weight).
 *
 * One calibration run (pare_calib) observes every requested layer's input,
 * so a pass pays for one run however many layers it touches. Sums are in
 * double; only the k x k blocks are kept, never the activations.
 */
#ifndef PARE_PASSES_GRAM_H
#define PARE_PASSES_GRAM_H

#include "passes/passes.h"

typedef struct pare_gram {
  int node;      /* the layer */
  int groups;    /* Conv groups, else 1 */
  int64_t k;     /* length of an input vector */
  double *h;     /* groups blocks of k x k, row-major, symmetric (owned) */
  int64_t count; /* vectors summed into each block */
} pare_gram;

/* Accumulates the Gram matrices of nodes[0..n) into out[0..n) over every
 * sample of c. A node that is not a Conv (1 or 2 spatial dims), Gemm or
 * MatMul with static shapes is an error naming it. Free with pare_gram_free
 * (also after an error). */
int pare_gram_collect(const pare_calib *c, pare_graph *g, const int *nodes, int n, pare_gram *out,
                      pare_err *err);
void pare_gram_free(pare_gram *grams, int n);

/* Attempts at damping a Gram matrix until it factors (see pare_gram_damped). */
enum { PARE_GRAM_DAMP_ATTEMPTS = 8 };

/* h (k x k) made positive definite for a Cholesky factorization, into out:
 * h + lambda I with lambda = damp * mean(diag h) * 10^attempt (h from few
 * samples is often singular; callers retry with the next attempt while the
 * factorization fails), and a zero diagonal entry, an input that was always
 * zero, weighted like an average input rather than not at all. */
void pare_gram_damped(const double *h, int64_t k, double damp, int attempt, double *out);

/* Block `group` of gr: k x k doubles. */
static inline double *pare_gram_block(const pare_gram *gr, int group) {
  return gr->h + (size_t)group * (size_t)gr->k * (size_t)gr->k;
}

#endif /* PARE_PASSES_GRAM_H */
