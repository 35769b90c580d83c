/*
 * nn_internal.h - shared pieces of the nn op family (ops/nn*.c); private to it.
 */
#ifndef PARE_OPS_NN_INTERNAL_H
#define PARE_OPS_NN_INTERNAL_H

#include "ops/ops.h"

/* Sliding-window geometry (pare_window, pare_nn_window) is public: ops.h. */
typedef pare_window nn_window;

/* Reads an INTS attribute of exactly `count` values all >= min into out; if
 * absent, fills out with def. */
int pare_nn_ints_attr(const pare_node *node, const char *op, const char *name, int count,
                      int64_t min, int64_t def, int64_t *out, pare_err *err);

/* Formats dims as "3x3" into buf. */
void pare_nn_dims_str(const int64_t *dims, int n, char *buf, size_t len);

/* PARE_UNKNOWN if any of the first n outputs has a non-static shape, else PARE_OK. */
int pare_nn_result(const pare_tensor *out, int n_out);

/* Requires in[i] present with one of the dtypes in the 0-terminated list. */
int pare_nn_need_dtype(const char *op, const pare_tensor *const *in, int n_in, int i,
                       const pare_dtype *allowed, pare_err *err);

/*
 * C[M][N] += A[M][K] * B[K][N], row-major with leading dimensions lda, ldb,
 * ldc. Blocked and packed so the inner loops run over contiguous memory;
 * accumulates in float.
 */
void pare_nn_sgemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,
                   int64_t ldb, float *C, int64_t ldc);

/* Family members defined in the other ops/nn_*.c files. */
#define PARE_NN_DECL(name)                                                                         \
  int pare_nn_infer_##name(const pare_node *node, const pare_tensor *const *in, int n_in,          \
                           pare_tensor *out, int n_out, pare_err *err);                            \
  int pare_nn_eval_##name(const pare_node *node, const pare_tensor *const *in, int n_in,           \
                          pare_tensor *out, int n_out, pare_err *err);

PARE_NN_DECL(Conv)
PARE_NN_DECL(ConvTranspose)
PARE_NN_DECL(Gemm)
PARE_NN_DECL(MatMul)
PARE_NN_DECL(MaxPool)
PARE_NN_DECL(AveragePool)
PARE_NN_DECL(LpPool)
PARE_NN_DECL(MaxUnpool)
PARE_NN_DECL(GlobalAveragePool)
PARE_NN_DECL(GlobalMaxPool)
PARE_NN_DECL(GlobalLpPool)
PARE_NN_DECL(BatchNormalization)
PARE_NN_DECL(InstanceNormalization)
PARE_NN_DECL(LayerNormalization)
PARE_NN_DECL(MeanVarianceNormalization)
PARE_NN_DECL(LRN)

#endif /* PARE_OPS_NN_INTERNAL_H */
