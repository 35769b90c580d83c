/*
 * nn_linear.c - Gemm and MatMul.
 *
 * f32 runs on the blocked GEMM of nn.c; the other dtypes use a plain i-k-j
 * loop (contiguous inner loop over the rows of B and Y) generated per type.
 */
#include "ops/nn_internal.h"

#include <stdlib.h>
#include <string.h>

static const pare_dtype linear_types[] = {PARE_F32, PARE_F64, PARE_I32, PARE_I64,
                                          PARE_U32, PARE_U64, 0};

/* Y[M][N] += A[M][K] * B[K][N], all contiguous. */
#define DEFINE_MATMUL_PLAIN(T, name)                                                               \
  static void name(int64_t M, int64_t N, int64_t K, const T *a, const T *b, T *y) {                \
    for (int64_t i = 0; i < M; i++)                                                                \
      for (int64_t k = 0; k < K; k++) {                                                            \
        T av = a[i * K + k];                                                                       \
        const T *brow = b + k * N;                                                                 \
        T *yrow = y + i * N;                                                                       \
        for (int64_t j = 0; j < N; j++) yrow[j] += av * brow[j];                                   \
      }                                                                                            \
  }
DEFINE_MATMUL_PLAIN(double, matmul_f64)
DEFINE_MATMUL_PLAIN(int32_t, matmul_i32)
DEFINE_MATMUL_PLAIN(int64_t, matmul_i64)
DEFINE_MATMUL_PLAIN(uint32_t, matmul_u32)
DEFINE_MATMUL_PLAIN(uint64_t, matmul_u64)

/* Y = A x B for contiguous operands of dtype dt; Y must be zeroed. */
static void matmul_any(pare_dtype dt, int64_t M, int64_t N, int64_t K, const void *a, const void *b,
                       void *y) {
  switch (dt) {
  case PARE_F32:
    pare_nn_sgemm(M, N, K, a, K, b, N, y, N);
    break;
  case PARE_F64:
    matmul_f64(M, N, K, a, b, y);
    break;
  case PARE_I32:
    matmul_i32(M, N, K, a, b, y);
    break;
  case PARE_I64:
    matmul_i64(M, N, K, a, b, y);
    break;
  case PARE_U32:
    matmul_u32(M, N, K, a, b, y);
    break;
  case PARE_U64:
    matmul_u64(M, N, K, a, b, y);
    break;
  default:
    break;
  }
}

/* ---------------------------------------------------------------- Gemm */

typedef struct gemm_plan {
  int64_t M, N, K;
  int trans_a, trans_b;
} gemm_plan;

static int gemm_prepare(const pare_node *node, const pare_tensor *const *in, int n_in, gemm_plan *p,
                        pare_shape *y, pare_err *err) {
  if (pare_nn_need_dtype("Gemm", in, n_in, 0, linear_types, err) ||
      pare_nn_need_dtype("Gemm", in, n_in, 1, linear_types, err))
    return PARE_ERR;
  if (in[1]->dtype != in[0]->dtype)
    return pare_errf(err, "Gemm: A is %s but B is %s", pare_dtype_name(in[0]->dtype),
                     pare_dtype_name(in[1]->dtype));
  const pare_shape *as = &in[0]->shape, *bs = &in[1]->shape;
  p->trans_a = pare_attr_int(node, "transA", 0) != 0;
  p->trans_b = pare_attr_int(node, "transB", 0) != 0;
  *y = pare_shape_make(2, NULL);
  y->dims[0] = y->dims[1] = -1;
  if (as->rank >= 0 && as->rank != 2)
    return pare_errf(err, "Gemm: A has rank %d, expected 2", as->rank);
  if (bs->rank >= 0 && bs->rank != 2)
    return pare_errf(err, "Gemm: B has rank %d, expected 2", bs->rank);
  int64_t ka = -1, kb = -1;
  p->M = p->N = -1;
  if (as->rank == 2) {
    p->M = as->dims[p->trans_a ? 1 : 0];
    ka = as->dims[p->trans_a ? 0 : 1];
  }
  if (bs->rank == 2) {
    p->N = bs->dims[p->trans_b ? 0 : 1];
    kb = bs->dims[p->trans_b ? 1 : 0];
  }
  if (ka >= 0 && kb >= 0 && ka != kb)
    return pare_errf(err, "Gemm: inner dims differ: A gives K=%lld, B gives K=%lld", (long long)ka,
                     (long long)kb);
  p->K = ka >= 0 ? ka : kb;
  y->dims[0] = p->M;
  y->dims[1] = p->N;
  if (n_in > 2 && in[2]) {
    if (in[2]->dtype != in[0]->dtype)
      return pare_errf(err, "Gemm: C is %s but A is %s", pare_dtype_name(in[2]->dtype),
                       pare_dtype_name(in[0]->dtype));
    const pare_shape *cs = &in[2]->shape;
    if (cs->rank > 2) return pare_errf(err, "Gemm: C has rank %d, expected at most 2", cs->rank);
    for (int i = 0; i < cs->rank; i++) {
      int64_t c = cs->dims[i], t = y->dims[2 - cs->rank + i];
      if (c >= 0 && t >= 0 && c != 1 && c != t) {
        char s[128];
        pare_shape_str(cs, s, sizeof s);
        return pare_errf(err, "Gemm: C of shape %s does not broadcast to [%lld,%lld]", s,
                         (long long)p->M, (long long)p->N);
      }
    }
  }
  return pare_shape_is_static(y) ? PARE_OK : PARE_UNKNOWN;
}

int pare_nn_infer_Gemm(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  gemm_plan p;
  int rc = gemm_prepare(node, in, n_in, &p, &out[0].shape, err);
  out[0].dtype = in[0] ? in[0]->dtype : PARE_F32;
  return rc;
}

/* Contiguous copy of a (rows x cols) matrix, transposed if trans. */
static void *contiguous_operand(const pare_tensor *t, int trans, pare_err *err) {
  size_t es = pare_dtype_size(t->dtype);
  int64_t rows = t->shape.dims[0], cols = t->shape.dims[1];
  char *buf = malloc(t->nbytes ? t->nbytes : 1);
  if (!buf) {
    pare_errf(err, "Gemm: out of memory");
    return NULL;
  }
  const char *src = t->data;
  if (!trans) {
    memcpy(buf, src, t->nbytes);
    return buf;
  }
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++)
      memcpy(buf + (size_t)(c * rows + r) * es, src + (size_t)(r * cols + c) * es, es);
  return buf;
}

int pare_nn_eval_Gemm(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  gemm_plan p;
  pare_shape ys;
  int rc = gemm_prepare(node, in, n_in, &p, &ys, err);
  if (rc) return rc == PARE_UNKNOWN ? pare_errf(err, "Gemm: input shapes not static") : rc;
  pare_tensor *y = &out[0];
  if (p.M * p.N == 0) return PARE_OK;
  const void *a = in[0]->data, *b = in[1]->data;
  void *a_buf = NULL, *b_buf = NULL;
  if (p.trans_a && !(a = a_buf = contiguous_operand(in[0], 1, err))) return PARE_ERR;
  if (p.trans_b && !(b = b_buf = contiguous_operand(in[1], 1, err))) {
    free(a_buf);
    return PARE_ERR;
  }
  memset(y->data, 0, y->nbytes);
  matmul_any(y->dtype, p.M, p.N, p.K, a, b, y->data);
  free(a_buf);
  free(b_buf);
  double alpha = pare_attr_float(node, "alpha", 1.0f);
  double beta = pare_attr_float(node, "beta", 1.0f);
  const pare_tensor *c = n_in > 2 ? in[2] : NULL;
  int64_t cm = 1, cn = 1;
  if (c) {
    if (c->shape.rank == 2) cm = c->shape.dims[0];
    if (c->shape.rank >= 1) cn = c->shape.dims[c->shape.rank - 1];
  }
  if (y->dtype == PARE_F32) {
    float *yf = y->data, fa = (float)alpha, fb = (float)beta;
    const float *cf = c ? c->data : NULL;
    for (int64_t i = 0; i < p.M; i++)
      for (int64_t j = 0; j < p.N; j++) {
        float v = fa * yf[i * p.N + j];
        if (cf) v += fb * cf[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
        yf[i * p.N + j] = v;
      }
  } else {
    for (int64_t i = 0; i < p.M; i++)
      for (int64_t j = 0; j < p.N; j++) {
        double v = alpha * pare_tensor_get_f64(y, i * p.N + j);
        if (c) v += beta * pare_tensor_get_f64(c, (cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j));
        if (pare_dtype_is_int(y->dtype))
          pare_tensor_set_f64(y, i * p.N + j, (double)(int64_t)v);
        else
          pare_tensor_set_f64(y, i * p.N + j, v);
      }
  }
  return PARE_OK;
}

/* -------------------------------------------------------------- MatMul */

/*
 * numpy matmul: a 1-D A is [1, K] and a 1-D B is [K, 1], the added dim
 * dropped from the result; batch dims (all but the last two) broadcast.
 */
typedef struct matmul_plan {
  int64_t M, N, K;
  int batch_rank;
  int64_t batch[PARE_MAX_RANK];
  int64_t a_bstride[PARE_MAX_RANK], b_bstride[PARE_MAX_RANK]; /* 0 where broadcast */
} matmul_plan;

static int matmul_prepare(const pare_tensor *const *in, int n_in, matmul_plan *p, pare_shape *y,
                          pare_err *err) {
  if (pare_nn_need_dtype("MatMul", in, n_in, 0, linear_types, err) ||
      pare_nn_need_dtype("MatMul", in, n_in, 1, linear_types, err))
    return PARE_ERR;
  if (in[1]->dtype != in[0]->dtype)
    return pare_errf(err, "MatMul: A is %s but B is %s", pare_dtype_name(in[0]->dtype),
                     pare_dtype_name(in[1]->dtype));
  pare_shape as = in[0]->shape, bs = in[1]->shape;
  if (as.rank < 0 || bs.rank < 0) {
    *y = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  if (as.rank == 0 || bs.rank == 0) return pare_errf(err, "MatMul: scalar operands not allowed");
  int drop_m = as.rank == 1, drop_n = bs.rank == 1;
  if (drop_m) {
    as.rank = 2;
    as.dims[1] = as.dims[0];
    as.dims[0] = 1;
  }
  if (drop_n) {
    bs.rank = 2;
    bs.dims[1] = 1;
  }
  p->M = as.dims[as.rank - 2];
  p->K = as.dims[as.rank - 1];
  p->N = bs.dims[bs.rank - 1];
  int64_t kb = bs.dims[bs.rank - 2];
  if (p->K >= 0 && kb >= 0 && p->K != kb) {
    char sa[128], sb[128];
    pare_shape_str(&in[0]->shape, sa, sizeof sa);
    pare_shape_str(&in[1]->shape, sb, sizeof sb);
    return pare_errf(err, "MatMul: inner dims of %s and %s differ", sa, sb);
  }
  if (p->K < 0) p->K = kb;
  pare_shape ab = pare_shape_make(as.rank - 2, as.dims), bb = pare_shape_make(bs.rank - 2, bs.dims);
  pare_shape batch;
  if (pare_broadcast_shape(&ab, &bb, &batch, err)) return pare_err_prefix(err, "MatMul");
  if (batch.rank + 2 > PARE_MAX_RANK) return pare_errf(err, "MatMul: result rank too large");
  p->batch_rank = batch.rank;
  int64_t astr = p->M * p->K, bstr = p->K * p->N;
  for (int i = batch.rank - 1; i >= 0; i--) {
    int ia = i - (batch.rank - ab.rank), ib = i - (batch.rank - bb.rank);
    int64_t da = ia >= 0 ? ab.dims[ia] : 1, db = ib >= 0 ? bb.dims[ib] : 1;
    p->batch[i] = batch.dims[i];
    p->a_bstride[i] = da == 1 ? 0 : astr;
    p->b_bstride[i] = db == 1 ? 0 : bstr;
    astr *= da;
    bstr *= db;
  }
  *y = batch;
  if (!drop_m) y->dims[y->rank++] = p->M;
  if (!drop_n) y->dims[y->rank++] = p->N;
  return pare_shape_is_static(y) ? PARE_OK : PARE_UNKNOWN;
}

int pare_nn_infer_MatMul(const pare_node *node, const pare_tensor *const *in, int n_in,
                         pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_out;
  matmul_plan p;
  int rc = matmul_prepare(in, n_in, &p, &out[0].shape, err);
  out[0].dtype = in[0] ? in[0]->dtype : PARE_F32;
  return rc;
}

int pare_nn_eval_MatMul(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  (void)node, (void)n_out;
  matmul_plan p;
  pare_shape ys;
  int rc = matmul_prepare(in, n_in, &p, &ys, err);
  if (rc) return rc == PARE_UNKNOWN ? pare_errf(err, "MatMul: input shapes not static") : rc;
  size_t es = pare_dtype_size(in[0]->dtype);
  int64_t nbatch = 1;
  for (int i = 0; i < p.batch_rank; i++) nbatch *= p.batch[i];
  if (nbatch * p.M * p.N == 0) return PARE_OK;
  const char *a = in[0]->data, *b = in[1]->data;
  char *y = out[0].data;
  memset(y, 0, out[0].nbytes);
  int64_t idx[PARE_MAX_RANK] = {0};
  for (int64_t bi = 0; bi < nbatch; bi++) {
    int64_t ao = 0, bo = 0;
    for (int i = 0; i < p.batch_rank; i++) {
      ao += idx[i] * p.a_bstride[i];
      bo += idx[i] * p.b_bstride[i];
    }
    matmul_any(in[0]->dtype, p.M, p.N, p.K, a + (size_t)ao * es, b + (size_t)bo * es,
               y + (size_t)(bi * p.M * p.N) * es);
    for (int i = p.batch_rank - 1; i >= 0; i--) {
      if (++idx[i] < p.batch[i]) break;
      idx[i] = 0;
    }
  }
  return PARE_OK;
}
