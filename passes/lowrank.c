/*
 * lowrank.c - low-rank factorization of layers with constant f32 weights.
 *
 * A layer's weight, viewed as a matrix M[m,n], is replaced by a rank-r
 * product U[m,r] V[r,n] and the layer becomes two:
 *
 *   Gemm(A, B, C)   M = B' [K,N] (B' = B^T with transB):
 *                   Gemm(A, U) {transA}  ->  Gemm(., V, C) {alpha, beta}
 *   MatMul(A, B)    B constant and 2-D, M = B [K,N]:
 *                   MatMul(A, U)  ->  MatMul(., V)
 *   Conv(x, W, b)   group 1, M = W [CO,C,k...] viewed as [CO, C*k...]:
 *                   Conv(x, V as [r,C,k...]) {strides, pads, dilations, ...}
 *                   ->  Conv(., U as [CO,r,1...], b) (1x1)
 *
 * New constants are named <w>.u and <w>.v after the weight, the new first
 * node and its output <layer>.lr1 after the layer (its node's name, or its
 * output's when unnamed); the original node becomes the second one, so it
 * keeps its name and its output value.
 *
 * Plain (whiten=none): the rank-r truncation of the SVD M = P S Q^T, split
 * symmetrically: U = P_r sqrt(S_r), V = sqrt(S_r) Q_r^T. It minimizes the
 * weight's Frobenius error, which treats every input direction alike.
 *
 * Whitened (whiten=cholesky, or auto with --calib; SVD-LLM): what matters
 * is the output error on real inputs, sum over inputs x of |dM x|^2 =
 * tr(dM H dM^T) with H = sum x x^T the layer's input Gram matrix on the
 * calibration data (passes/gram.h, one run for every layer). With the
 * Cholesky factor H = L L^T (H damped: `damp` of its mean diagonal added,
 * tenfold more while the factorization fails) that is |dM L|_F^2, so the
 * truncated SVD of M L = P S Q^T is the best rank-r output approximation:
 * U = P_r sqrt(S_r), V = sqrt(S_r) Q_r^T L^-1 (a triangular solve, not an
 * inverse). For Gemm/MatMul, whose M is [in, out], the same is done on the
 * transpose: the SVD of L^T M and U = L^-T P_r sqrt(S_r). The singular
 * values then measure output energy on the calibration data: `energy` is
 * the fraction of the layer's output energy kept, and the relative output
 * error predicted is sqrt(1 - energy).
 *
 * The rank is the smallest whose singular values' squared sum reaches
 * `energy` of the total, or `rank` when given, capped by `ratio` of the full
 * rank min(m, n) and by `params` of the layer's parameters. A layer is
 * factorized only when both its parameters (the bias included) and its
 * FLOPs drop by at least `min-saving` and strictly: r (m + n) must be below
 * m n. The chosen rank is not lowered to make a layer save; such a layer is
 * kept as it is.
 *
 * Numerics: the SVD runs in double precision on a double copy (LAPACKE
 * dgesdd, falling back to dgesvd), its errors about 1e-16 of the largest
 * singular value, far below f32 rounding, even when the rows of a BN-folded
 * weight differ in scale by orders of magnitude; the symmetric split keeps
 * U and V of comparable magnitude before they are rounded to f32, and an
 * all-zero (dead) row of the weight stays zero in U. Each singular pair is
 * sign-normalized (the largest-magnitude entry of each column of P is
 * positive), so the factors do not depend on the LAPACK implementation's
 * sign choices. Plain truncation discards the small-scale rows first: the
 * relative error of the worst output channel is recorded per layer
 * (pare_pass_decide, "worst_channel_error") to show it. Layers whose
 * weights hold NaN or infinity, or more than 2^24 elements, are left alone.
 *
 * Counters (--stats): layers factorized and kept, and the parameters and
 * FLOPs of the factorized layers before and after. Per layer (--report):
 * rank, full_rank, energy (the fraction kept: of the weight's squared
 * singular values, or of the output energy when whitened), whitened (0/1),
 * error (relative Frobenius error of the f32 factors), worst_channel_error,
 * with whitening output_error (the relative output error of the f32
 * factors on the calibration data, sqrt(tr(dM H dM^T) / tr(M H M^T)) with
 * the undamped H), or why it was skipped.
 */
#include "passes/gram.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

#include <cblas.h>
#include <lapacke.h>
#ifdef PARE_HAVE_OPENBLAS
void openblas_set_num_threads(int n); /* OpenBLAS's cblas.h, which is not on the path */
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { OP_CONV = PARE_OP_CONV, OP_GEMM = PARE_OP_GEMM, OP_MATMUL = PARE_OP_MATMUL };
enum { WHITEN_AUTO, WHITEN_NONE, WHITEN_CHOLESKY };

/* Larger weights are left alone: the SVD works on double copies of them
 * (about 4 m n doubles with LAPACKE's transposes) and takes O(m n min(m,n)). */
#define MAX_ELEMENTS ((int64_t)1 << 24)
/* The longest input vector passes/gram.c collects statistics for. */
#define MAX_GRAM_K 16384

typedef struct lr_opts {
  double energy;
  int64_t rank;
  double ratio;
  double min_saving;
  unsigned ops; /* OP_* */
  int whiten;   /* WHITEN_* */
  double damp;
  double params; /* max fraction of a layer's parameters kept, 0 = off */
} lr_opts;

/* A layer to factorize: its weight as the matrix M[m,n] ~ U[m,r] V[r,n]. */
typedef struct lr_layer {
  int node, kind;
  int w;             /* weight value */
  int trans;         /* Gemm transB: M = W^T */
  int64_t m, n;      /* M's shape */
  int64_t bias;      /* elements of a constant bias, 0 if none */
  int64_t positions; /* rows of the product (output positions), 0 if unknown */
  const char *name;  /* the layer's name: its node's or its output's */
  int out_cols;      /* output channels are M's columns (Gemm, MatMul), else rows */
} lr_layer;

/* ------------------------------------------------------------- options */

static int parse_opts(const pare_opt_value *args, lr_opts *o, pare_err *err) {
  o->energy = args[0].f;
  o->rank = args[1].i;
  o->ratio = args[2].f;
  o->min_saving = args[3].f;
  if (!(o->energy > 0 && o->energy <= 1))
    return pare_errf(err, "option 'energy' must be in (0, 1], not %g", o->energy);
  if (o->rank < 0)
    return pare_errf(err, "option 'rank' must be >= 0 (0 = use energy), not %lld",
                     (long long)o->rank);
  if (!(o->ratio >= 0 && o->ratio <= 1))
    return pare_errf(err, "option 'ratio' must be in [0, 1] (0 = off), not %g", o->ratio);
  if (!(o->min_saving >= 0 && o->min_saving < 1))
    return pare_errf(err, "option 'min-saving' must be in [0, 1), not %g", o->min_saving);
  const char *w = args[5].s ? args[5].s : "auto";
  o->whiten = strcmp(w, "none") == 0       ? WHITEN_NONE
              : strcmp(w, "cholesky") == 0 ? WHITEN_CHOLESKY
                                           : WHITEN_AUTO;
  o->damp = args[6].f;
  if (!(o->damp > 0 && o->damp < 1))
    return pare_errf(err, "option 'damp' must be in (0, 1), not %g", o->damp);
  o->params = args[7].f;
  if (!(o->params >= 0 && o->params < 1))
    return pare_errf(err, "option 'params' must be in [0, 1) (0 = off), not %g", o->params);
  return pare_pass_parse_ops(args[4].s, &o->ops, err);
}

/* ------------------------------------------------------------ matching */

/* A dense f32 constant of the given rank (-1 = rank >= 3) that nothing
 * outside the graph can replace. */
static int const_weight(const pare_graph *g, int v, int rank) {
  if (v < 0) return 0;
  const pare_value *val = g->values[v];
  if (!val->init || val->enc || val->init->dtype != PARE_F32 || val->is_graph_input ||
      val->is_graph_output || !val->init->data)
    return 0;
  return rank < 0 ? val->init->shape.rank >= 3 : val->init->shape.rank == rank;
}

static int64_t const_numel(const pare_graph *g, int v) {
  return v >= 0 && g->values[v]->init ? pare_tensor_numel(g->values[v]->init) : 0;
}

/* Elements of the static output value v divided by `per`, 0 if unknown. */
static int64_t positions_of(const pare_graph *g, int v, int64_t per) {
  const pare_shape *s = &g->values[v]->shape;
  int64_t n = 0;
  if (per <= 0 || !pare_shape_is_static(s) || pare_shape_numel(s, &n, NULL)) return 0;
  return n / per;
}

/* Attributes the factorization copies must be of a type the setters take. */
static int plain_attrs(const pare_node *n) {
  for (int a = 0; a < n->n_attrs; a++)
    if (n->attrs[a].type == PARE_ATTR_TENSOR || n->attrs[a].type == PARE_ATTR_STRINGS) return 0;
  return 1;
}

static int match_layer(const pare_graph *g, int k, unsigned ops, lr_layer *L) {
  const pare_node *n = g->nodes[k];
  memset(L, 0, sizeof *L);
  L->node = k;
  if (!n->op || n->n_inputs < 2 || n->n_outputs < 1 || n->outputs[0] < 0 || n->inputs[0] < 0)
    return 0;
  for (int j = 1; j < n->n_outputs; j++)
    if (n->outputs[j] >= 0) return 0;
  int y = n->outputs[0];
  L->w = n->inputs[1];
  L->name = n->name && n->name[0] ? n->name : g->values[y]->name;
  if ((ops & OP_GEMM) && pare_pass_is_op(n, "Gemm")) {
    if (!const_weight(g, L->w, 2) || !plain_attrs(n)) return 0;
    const pare_shape *ws = &g->values[L->w]->init->shape;
    L->kind = OP_GEMM;
    L->trans = pare_attr_int(n, "transB", 0) != 0;
    L->m = ws->dims[L->trans ? 1 : 0];
    L->n = ws->dims[L->trans ? 0 : 1];
    L->bias = n->n_inputs > 2 ? const_numel(g, n->inputs[2]) : 0;
    L->positions = positions_of(g, y, L->n);
    L->out_cols = 1;
  } else if ((ops & OP_MATMUL) && pare_pass_is_op(n, "MatMul")) {
    if (n->n_inputs != 2 || !const_weight(g, L->w, 2)) return 0;
    const pare_shape *ws = &g->values[L->w]->init->shape;
    L->kind = OP_MATMUL;
    L->m = ws->dims[0];
    L->n = ws->dims[1];
    L->positions = positions_of(g, y, L->n);
    L->out_cols = 1;
  } else if ((ops & OP_CONV) && pare_pass_is_op(n, "Conv")) {
    if (!const_weight(g, L->w, -1) || pare_attr_int(n, "group", 1) != 1 || !plain_attrs(n))
      return 0;
    const pare_shape *ws = &g->values[L->w]->init->shape;
    L->kind = OP_CONV;
    L->m = ws->dims[0];
    L->n = 1;
    for (int d = 1; d < ws->rank; d++) L->n *= ws->dims[d];
    L->bias = n->n_inputs > 2 ? const_numel(g, n->inputs[2]) : 0;
    L->positions = positions_of(g, y, L->m);
    L->out_cols = 0;
  } else {
    return 0;
  }
  /* Rank 1 cannot save. */
  return L->m >= 2 && L->n >= 2;
}

/* ----------------------------------------------------------------- SVD */

/* Thin SVD of the row-major a[m,n] (destroyed): s[p], u[m,p], vt[p,n],
 * p = min(m, n), singular values descending. PARE_ERR if LAPACK fails. */
static int svd(double *a, const double *copy, int64_t m, int64_t n, double *s, double *u,
               double *vt) {
  lapack_int M = (lapack_int)m, N = (lapack_int)n, p = (lapack_int)(m < n ? m : n);
  lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', M, N, a, N, s, u, p, vt, N);
  if (info == 0) return PARE_OK;
  /* dgesdd failed to converge (rare): the slower, more robust dgesvd. */
  double *superb = malloc((size_t)p * sizeof *superb);
  if (!superb) return PARE_ERR;
  memcpy(a, copy, (size_t)(m * n) * sizeof *a);
  info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', M, N, a, N, s, u, p, vt, N, superb);
  free(superb);
  return info == 0 ? PARE_OK : PARE_ERR;
}

/* The rank the options choose for layer L's singular values s[p]; *kept =
 * the fraction of the energy (squared sum) it keeps. */
static int64_t choose_rank(const lr_opts *o, const lr_layer *L, const double *s, int64_t p,
                           double *kept) {
  double total = 0, cum = 0;
  for (int64_t i = 0; i < p; i++) total += s[i] * s[i];
  int64_t r = p;
  if (o->rank > 0) {
    r = o->rank < p ? o->rank : p;
  } else {
    for (int64_t i = 0; i < p; i++) {
      cum += s[i] * s[i];
      /* The slack absorbs rounding so that energy=1 keeps the numerical rank. */
      if (cum >= o->energy * total - 1e-12 * total) {
        r = i + 1;
        break;
      }
    }
  }
  if (o->ratio > 0) {
    int64_t cap = (int64_t)floor(o->ratio * (double)p);
    if (cap < 1) cap = 1;
    if (r > cap) r = cap;
  }
  if (o->params > 0) {
    /* r (m + n) + bias <= params (m n + bias). */
    double budget = o->params * (double)(L->m * L->n + L->bias) - (double)L->bias;
    int64_t cap = (int64_t)floor(budget / (double)(L->m + L->n));
    if (cap < 1) cap = 1;
    if (r > cap) r = cap;
  }
  cum = 0;
  for (int64_t i = 0; i < r; i++) cum += s[i] * s[i];
  *kept = total > 0 ? cum / total : 1;
  return r;
}

/* ----------------------------------------------------------- rewriting */

/* A new f32 constant of shape `dims` (rank dims) with data d. */
static int add_f32_const(pare_graph *g, const char *base, const char *suffix, const int64_t *dims,
                         int rank, const float *d, pare_err *err) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_tensor *t = pare_tensor_new(PARE_F32, &s, err);
  if (!t) return PARE_ERR;
  memcpy(t->data, d, t->nbytes);
  char *name = pare_pass_unique_name(g, base, suffix);
  int v = name ? pare_graph_add_const(g, name, t, err) : pare_errf(err, "out of memory");
  if (!name) pare_tensor_free(t);
  free(name);
  return v;
}

static int copy_attr(pare_node *dst, const pare_attr *a, pare_err *err) {
  switch (a->type) {
  case PARE_ATTR_INT:
    return pare_node_set_int(dst, a->name, a->i, err);
  case PARE_ATTR_FLOAT:
    return pare_node_set_float(dst, a->name, a->f, err);
  case PARE_ATTR_STRING:
    return pare_node_set_string(dst, a->name, a->s, err);
  case PARE_ATTR_INTS:
    return pare_node_set_ints(dst, a->name, a->ints, a->n, err);
  case PARE_ATTR_FLOATS:
    return pare_node_set_floats(dst, a->name, a->floats, a->n, err);
  default:
    return pare_errf(err, "attribute '%s' cannot be copied", a->name);
  }
}

/* Rewrites layer L with the factors uf[m,r], vf[r,n]. */
static int rewrite(pare_graph *g, const lr_layer *L, int64_t r, const float *uf, const float *vf,
                   pare_err *err) {
  pare_node *orig = g->nodes[L->node];
  const pare_value *wv = g->values[L->w];
  const pare_shape ws = wv->init->shape;
  char *wname = pare_strdup(wv->name);
  if (!wname) return pare_errf(err, "out of memory");
  int64_t udims[PARE_MAX_RANK], vdims[PARE_MAX_RANK];
  int urank = 2, vrank = 2;
  udims[0] = L->m, udims[1] = r;
  vdims[0] = r, vdims[1] = L->n;
  if (L->kind == OP_CONV) {
    /* U as [CO,r,1,...], V as [r,C,k...]. */
    urank = vrank = ws.rank;
    for (int d = 2; d < ws.rank; d++) udims[d] = 1;
    for (int d = 1; d < ws.rank; d++) vdims[d] = ws.dims[d];
  }
  int u = add_f32_const(g, wname, ".u", udims, urank, uf, err);
  int v = u >= 0 ? add_f32_const(g, wname, ".v", vdims, vrank, vf, err) : PARE_ERR;
  free(wname);
  if (v < 0) return PARE_ERR;

  /* The intermediate: the output's shape with r channels. */
  const pare_value *y = g->values[orig->outputs[0]];
  pare_shape ts = y->shape;
  if (ts.rank >= 1) ts.dims[L->kind == OP_CONV ? (ts.rank > 1 ? 1 : 0) : ts.rank - 1] = r;
  char *tname = pare_pass_unique_name(g, L->name, ".lr1");
  if (!tname) return pare_errf(err, "out of memory");
  int t = pare_graph_add_value(g, tname, PARE_F32, &ts, err);
  int in1[2] = {orig->inputs[0], L->kind == OP_CONV ? v : u};
  /* The node is named <layer>.lr1 even when the value needed a suffix. */
  tname[strlen(L->name) + 4] = 0;
  int k1 = t >= 0 ? pare_graph_add_node(g, orig->op, tname, in1, 2, &t, 1, err) : PARE_ERR;
  free(tname);
  if (k1 < 0) return PARE_ERR;
  pare_node *first = g->nodes[k1];
  orig = g->nodes[L->node];
  if (L->kind == OP_CONV) {
    /* The kxk conv keeps the geometry; the second is a plain 1x1. */
    for (int a = 0; a < orig->n_attrs; a++)
      if (copy_attr(first, &orig->attrs[a], err)) return PARE_ERR;
    static const char *const geometry[] = {"auto_pad", "dilations", "pads", "strides"};
    for (size_t i = 0; i < sizeof geometry / sizeof geometry[0]; i++)
      pare_node_remove_attr(orig, geometry[i]);
    int64_t ones[PARE_MAX_RANK];
    for (int d = 0; d < PARE_MAX_RANK; d++) ones[d] = 1;
    if (pare_node_set_ints(orig, "kernel_shape", ones, ws.rank - 2, err)) return PARE_ERR;
    orig->inputs[1] = u;
  } else {
    if (L->kind == OP_GEMM) {
      int64_t ta = pare_attr_int(orig, "transA", 0);
      if (ta && pare_node_set_int(first, "transA", ta, err)) return PARE_ERR;
      pare_node_remove_attr(orig, "transA");
      pare_node_remove_attr(orig, "transB");
    }
    orig->inputs[1] = v;
  }
  orig->inputs[0] = t;
  return PARE_OK;
}

/* ------------------------------------------------------------- the pass */

typedef struct lr_totals {
  int64_t factorized, whitened, kept, nonfinite, failed, large;
  int64_t params_before, params_after, flops_before, flops_after;
} lr_totals;

/* The lower Cholesky factor l (k x k, zero above the diagonal) of the
 * damped h (gram.h: an input that was always zero gives no information
 * about its direction and is weighed like an average one). */
static int cholesky_lower(const double *h, int64_t k, double damp, double *l, pare_err *err) {
  for (int attempt = 0; attempt < PARE_GRAM_DAMP_ATTEMPTS; attempt++) {
    pare_gram_damped(h, k, damp, attempt, l);
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)k, l, (lapack_int)k) != 0) continue;
    for (int64_t i = 0; i < k; i++)
      for (int64_t j = i + 1; j < k; j++) l[i * k + j] = 0;
    return PARE_OK;
  }
  return pare_errf(err, "the input Gram matrix is not positive definite even with damping");
}

/* x[rows,cols] (row-major) := L^-T x, L the lower k x k factor, k = rows. */
static int solve_lt(const double *l, int64_t rows, int64_t cols, double *x) {
  lapack_int info = LAPACKE_dtrtrs(LAPACK_ROW_MAJOR, 'L', 'T', 'N', (lapack_int)rows,
                                   (lapack_int)cols, l, (lapack_int)rows, x, (lapack_int)cols);
  return info == 0 ? PARE_OK : PARE_ERR;
}

/* b[cols,rows] := a[rows,cols]^T. */
static void transpose(const double *a, int64_t rows, int64_t cols, double *b) {
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) b[j * rows + i] = a[i * cols + j];
}

/* tr(d H d^T) over the layer's inputs, d[m,n] in M's orientation (inputs
 * are rows of d when out_cols, else columns); t is m n scratch. */
static double output_energy(const lr_layer *L, const double *h, const double *d, double *t) {
  int M = (int)L->m, N = (int)L->n;
  if (L->out_cols)
    cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, M, N, 1.0, h, M, d, N, 0.0, t, N);
  else
    cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, M, N, 1.0, h, N, d, N, 0.0, t, N);
  double e = 0;
  for (int64_t i = 0; i < L->m * L->n; i++) e += d[i] * t[i];
  return e > 0 ? e : 0;
}

/* Relative error of the residual a against the weight `copy`, overall and
 * on the worst output channel (columns of M for Gemm/MatMul, rows for
 * Conv), recorded for the report. */
static void weight_errors(pare_pass_ctx *ctx, const lr_layer *L, const double *a,
                          const double *copy, double norm2) {
  const int64_t n = L->n;
  /* Channels below 1e-6 of the largest norm are dead (decayed to zero;
   * they stay zero up to rounding) and left out of the worst case. */
  double err2 = 0, worst = 0, max2 = 0;
  int64_t channels = L->out_cols ? n : L->m, len = L->out_cols ? L->m : n;
  for (int pass = 0; pass < 2; pass++)
    for (int64_t ch = 0; ch < channels; ch++) {
      double e2 = 0, w2 = 0;
      for (int64_t i = 0; i < len; i++) {
        int64_t at = L->out_cols ? i * n + ch : ch * n + i;
        e2 += a[at] * a[at];
        w2 += copy[at] * copy[at];
      }
      if (pass == 0) {
        err2 += e2;
        if (w2 > max2) max2 = w2;
      } else if (w2 > 1e-12 * max2 && sqrt(e2 / w2) > worst) {
        worst = sqrt(e2 / w2);
      }
    }
  pare_pass_decide(ctx, L->name, "error", sqrt(err2 / norm2));
  pare_pass_decide(ctx, L->name, "worst_channel_error", worst);
}

/* Scratch of one layer's factorization, in one allocation. */
typedef struct lr_work {
  double *buf;
  double *a;     /* m n: the matrix the SVD destroys, later the residual */
  double *acopy; /* m n: a copy of it (dgesvd fallback), later scratch */
  double *copy;  /* m n: M */
  double *s, *u, *vt;
  double *l; /* k x k Cholesky factor, or NULL */
} lr_work;

static int work_alloc(lr_work *w, int64_t m, int64_t n, int64_t k) {
  const size_t mn = (size_t)(m * n), p = (size_t)(m < n ? m : n);
  w->buf = malloc((3 * mn + p * (size_t)(m + n + 1) + (size_t)(k * k)) * sizeof *w->buf);
  if (!w->buf) return PARE_ERR;
  w->a = w->buf, w->acopy = w->a + mn, w->copy = w->acopy + mn;
  w->s = w->copy + mn, w->u = w->s + p, w->vt = w->u + (size_t)m * p;
  w->l = k ? w->vt + p * (size_t)n : NULL;
  return PARE_OK;
}

/* The factors of rank r from the SVD in w, in double: ud[m,r], vd[r,n],
 * un-whitened when w->l is set. */
static int make_factors(const lr_layer *L, const lr_work *w, int64_t r, double *ud, double *vd) {
  const int64_t m = L->m, n = L->n, p = m < n ? m : n;
  for (int64_t c = 0; c < r; c++) {
    /* Sign: the largest-magnitude entry of P's column c is positive. */
    int64_t best = 0;
    for (int64_t i = 1; i < m; i++)
      if (fabs(w->u[i * p + c]) > fabs(w->u[best * p + c])) best = i;
    double sq = sqrt(w->s[c]), su = w->u[best * p + c] < 0 ? -sq : sq;
    for (int64_t i = 0; i < m; i++) ud[i * r + c] = w->u[i * p + c] * su;
    for (int64_t j = 0; j < n; j++) vd[c * n + j] = w->vt[c * n + j] * su;
  }
  if (!w->l) return PARE_OK;
  /* Undo the whitening on the input side: U := L^-T U (inputs are M's
   * rows), or V := V L^-1, i.e. V^T := L^-T V^T (inputs are its columns). */
  if (L->out_cols) return solve_lt(w->l, m, r, ud);
  double *t = malloc((size_t)(r * n) * sizeof *t);
  if (!t) return PARE_ERR;
  transpose(vd, r, n, t);
  int rc = solve_lt(w->l, n, r, t);
  transpose(t, n, r, vd);
  free(t);
  return rc;
}

/* Loads M into w->copy (and a); 0 when it is not finite or all zero. */
static int load_weight(const pare_graph *g, const lr_layer *L, lr_work *w, double *norm2) {
  const float *src = g->values[L->w]->init->data;
  const int64_t m = L->m, n = L->n;
  int finite = 1;
  *norm2 = 0;
  /* M[i,j]: B' = B^T reads W[j,i]. */
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double x = L->trans ? src[j * m + i] : src[i * n + j];
      finite &= isfinite(x) != 0;
      w->copy[i * n + j] = x;
      *norm2 += x * x;
    }
  return finite;
}

/* The matrix to decompose into w->a and w->acopy: M, or with gram the
 * whitened L^T M (inputs are rows) or M L (inputs are columns). */
static int whiten_matrix(const lr_layer *L, const pare_gram *gr, const lr_opts *o, lr_work *w,
                         pare_err *err) {
  const int64_t m = L->m, n = L->n, mn = m * n;
  if (!gr) {
    memcpy(w->a, w->copy, (size_t)mn * sizeof *w->a);
  } else {
    if (cholesky_lower(gr->h, gr->k, o->damp, w->l, err)) return PARE_ERR;
    int M = (int)m, N = (int)n;
    if (L->out_cols)
      cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, M, 1.0, w->l, M, w->copy, N, 0.0,
                  w->a, N);
    else
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, N, 1.0, w->copy, N, w->l, N, 0.0,
                  w->a, N);
  }
  memcpy(w->acopy, w->a, (size_t)mn * sizeof *w->a);
  return PARE_OK;
}

/* Factorizes layer L if the options choose a rank that saves; 1 when it
 * did. gr, when not NULL, is the layer's input Gram matrix: whiten. */
static int factorize(pare_graph *g, const lr_layer *L, const lr_opts *o, const pare_gram *gr,
                     pare_pass_ctx *ctx, lr_totals *tot, pare_err *err) {
  const int64_t m = L->m, n = L->n, p = m < n ? m : n;
  if (m > MAX_ELEMENTS || n > MAX_ELEMENTS || m * n > MAX_ELEMENTS) {
    tot->large++;
    pare_pass_decide_str(ctx, L->name, "skipped", "too large for the SVD");
    return 0;
  }
  const int64_t in = L->out_cols ? m : n;
  if (gr && (gr->groups != 1 || gr->k != in))
    return pare_errf(err, "layer '%s': weight shape does not match its input statistics", L->name);
  lr_work w;
  if (work_alloc(&w, m, n, gr ? in : 0)) return pare_errf(err, "out of memory");
  double norm2;
  int finite = load_weight(g, L, &w, &norm2);
  if (!finite || norm2 == 0) {
    /* Nothing sensible to factorize (a zero weight has no spectrum). */
    tot->nonfinite += !finite;
    free(w.buf);
    return 0;
  }
  if (whiten_matrix(L, gr, o, &w, err)) {
    free(w.buf);
    return pare_err_prefix(err, "layer '%s'", L->name);
  }
  if (svd(w.a, w.acopy, m, n, w.s, w.u, w.vt)) {
    tot->failed++;
    pare_pass_decide_str(ctx, L->name, "skipped", "SVD did not converge");
    free(w.buf);
    return 0;
  }
  double kept;
  int64_t r = choose_rank(o, L, w.s, p, &kept);
  /* Parameters count the bias (unchanged); FLOPs are 2 per MAC, per output
   * position: m n before, r (m + n) after. */
  int64_t pb = m * n + L->bias, pa = r * (m + n) + L->bias;
  int64_t fb = m * n, fa = r * (m + n);
  double psave = 1 - (double)pa / (double)pb, fsave = 1 - (double)fa / (double)fb;
  pare_pass_decide(ctx, L->name, "rank", (double)r);
  pare_pass_decide(ctx, L->name, "full_rank", (double)p);
  pare_pass_decide(ctx, L->name, "energy", kept);
  pare_pass_decide(ctx, L->name, "whitened", gr ? 1 : 0);
  if (pa >= pb || fa >= fb || psave < o->min_saving || fsave < o->min_saving) {
    pare_pass_decide_str(ctx, L->name, "skipped", "saving below min-saving");
    tot->kept++;
    free(w.buf);
    return 0;
  }

  double *ud = malloc((size_t)(r * (m + n)) * sizeof *ud);
  float *uf = malloc((size_t)(r * (m + n)) * sizeof *uf);
  int rc = ud && uf ? PARE_OK : pare_errf(err, "out of memory");
  double *vd = ud ? ud + m * r : NULL;
  if (rc == PARE_OK && make_factors(L, &w, r, ud, vd))
    rc = pare_errf(err, "layer '%s': the triangular solve failed", L->name);
  if (rc) {
    free(w.buf);
    free(ud);
    free(uf);
    return PARE_ERR;
  }
  /* The error the f32 factors make: round them, then the residual M - U V
   * into a (the SVD's input is no longer needed). */
  for (int64_t i = 0; i < r * (m + n); i++) ud[i] = uf[i] = (float)ud[i];
  float *vf = uf + m * r;
  memcpy(w.a, w.copy, (size_t)(m * n) * sizeof *w.a);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)r, -1.0, ud, (int)r,
              vd, (int)n, 1.0, w.a, (int)n);
  weight_errors(ctx, L, w.a, w.copy, norm2);
  if (gr) {
    double total = output_energy(L, gr->h, w.copy, w.acopy);
    double lost = output_energy(L, gr->h, w.a, w.acopy);
    pare_pass_decide(ctx, L->name, "output_error", total > 0 ? sqrt(lost / total) : 0);
  }
  free(w.buf);
  free(ud);

  rc = rewrite(g, L, r, uf, vf, err);
  free(uf);
  if (rc) return PARE_ERR;
  tot->factorized++;
  tot->whitened += gr != NULL;
  tot->params_before += pb;
  tot->params_after += pa;
  if (L->positions > 0) {
    tot->flops_before += 2 * fb * L->positions;
    tot->flops_after += 2 * fa * L->positions;
  }
  return 1;
}

/* Whether gram.c collects statistics for layer L (and the SVD takes it). */
static int gram_supported(const pare_graph *g, const lr_layer *L) {
  int64_t in = L->out_cols ? L->m : L->n;
  if (in > MAX_GRAM_K || L->m * L->n > MAX_ELEMENTS) return 0;
  if (L->kind != OP_CONV) return 1;
  int rank = g->values[L->w]->init->shape.rank;
  return rank == 3 || rank == 4;
}

/* The input Gram matrices of the layers ls[0..n) gram.c supports, from one
 * calibration run: *grams[n] and at[i], the index of layer i's or -1. */
static int collect_grams(pare_graph *g, const pare_calib *calib, const lr_layer *ls, int n,
                         pare_gram **grams, int *at, int *count, pare_err *err) {
  int *nodes = malloc(((size_t)n + 1) * sizeof *nodes);
  *grams = calloc((size_t)n + 1, sizeof **grams);
  *count = 0;
  if (!nodes || !*grams) {
    free(nodes);
    return pare_errf(err, "out of memory");
  }
  for (int i = 0; i < n; i++) {
    at[i] = gram_supported(g, &ls[i]) ? *count : -1;
    if (at[i] >= 0) nodes[(*count)++] = ls[i].node;
  }
  int rc = *count ? pare_gram_collect(calib, g, nodes, *count, *grams, err) : PARE_OK;
  free(nodes);
  return rc;
}

static int run_lowrank(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx, int *changed,
                       pare_err *err) {
  lr_opts o = {0};
  if (parse_opts(args, &o, err)) return PARE_ERR;
  const pare_calib *calib = pare_pass_calib(ctx);
  if (o.whiten == WHITEN_CHOLESKY && !calib)
    return pare_errf(err, "option 'whiten': cholesky needs calibration data (--calib DIR)");
  int whiten = o.whiten == WHITEN_CHOLESKY || (o.whiten == WHITEN_AUTO && calib);
#ifdef PARE_HAVE_OPENBLAS
  /* One thread: the layers are small, idle OpenBLAS threads spin, and the
   * factors then do not depend on the machine's core count. */
  openblas_set_num_threads(1);
#endif
  /* The candidates, all matched before any is rewritten: their inputs'
   * statistics come from one run of the original graph. */
  const int n_nodes = g->n_nodes; /* the nodes the pass adds are not candidates */
  lr_layer *ls = calloc((size_t)n_nodes + 1, sizeof *ls);
  int *at = calloc((size_t)n_nodes + 1, sizeof *at);
  if (!ls || !at) {
    free(ls);
    free(at);
    return pare_errf(err, "out of memory");
  }
  int n = 0;
  for (int k = 0; k < n_nodes; k++)
    if (match_layer(g, k, o.ops, &ls[n])) at[n++] = -1;
  pare_gram *grams = NULL;
  int n_grams = 0, rc = PARE_OK;
  if (whiten && n) rc = collect_grams(g, calib, ls, n, &grams, at, &n_grams, err);

  lr_totals tot = {0};
  for (int i = 0; rc == PARE_OK && i < n; i++) {
    const pare_gram *gr = at[i] >= 0 ? &grams[at[i]] : NULL;
    if (factorize(g, &ls[i], &o, gr, ctx, &tot, err) < 0) {
      const pare_node *nd = g->nodes[ls[i].node];
      rc = pare_err_prefix(err, "node '%s' (%s)", nd->name ? nd->name : "", nd->op);
    }
  }
  if (grams) pare_gram_free(grams, n_grams);
  free(grams);
  free(ls);
  free(at);
  if (rc) return PARE_ERR;
  if (tot.factorized) {
    /* The new first nodes were appended; the sort puts each before its
     * consumer and keeps the rest in order. Unused old weights go. */
    if (pare_graph_toposort(g, err) || pare_graph_compact(g, err)) return PARE_ERR;
  }
  pare_pass_stat(ctx, "layers factorized", tot.factorized);
  if (whiten) {
    pare_pass_stat(ctx, "layers factorized (whitened)", tot.whitened);
    pare_pass_stat(ctx, "calibration samples", calib->n_samples);
  }
  pare_pass_stat(ctx, "layers kept (saving below min-saving)", tot.kept);
  if (tot.nonfinite) pare_pass_stat(ctx, "layers kept (NaN or infinite weights)", tot.nonfinite);
  if (tot.failed) pare_pass_stat(ctx, "layers kept (SVD did not converge)", tot.failed);
  if (tot.large) pare_pass_stat(ctx, "layers kept (over 2^24 weights)", tot.large);
  pare_pass_stat(ctx, "parameters before (factorized layers)", tot.params_before);
  pare_pass_stat(ctx, "parameters after (factorized layers)", tot.params_after);
  pare_pass_stat(ctx, "FLOPs before (factorized layers)", tot.flops_before);
  pare_pass_stat(ctx, "FLOPs after (factorized layers)", tot.flops_after);
  *changed = tot.factorized > 0;
  return PARE_OK;
}

/* ------------------------------------------------------------- registry */

static const pare_pass_option lowrank_options[] = {
    {"energy", PARE_OPT_FLOAT, "0.99", NULL,
     "smallest rank whose squared singular values reach this fraction, in (0, 1]"},
    {"rank", PARE_OPT_INT, "0", NULL, "fixed rank for every layer (0 = use energy)"},
    {"ratio", PARE_OPT_FLOAT, "0", NULL, "max rank as a fraction of full rank (0 = off)"},
    {"min-saving", PARE_OPT_FLOAT, "0.1", NULL,
     "factorize only if parameters and FLOPs both drop by this fraction"},
    {"ops", PARE_OPT_STRING, "conv+gemm+matmul", NULL,
     "ops to factorize: conv, gemm, matmul or all, joined by '+'"},
    {"whiten", PARE_OPT_STRING, "auto", "auto|none|cholesky",
     "cholesky: SVD of the weight whitened by the layer's input Gram matrix on the calibration "
     "data (SVD-LLM; energy is then the output energy kept); auto: cholesky when --calib is "
     "given"},
    {"damp", PARE_OPT_FLOAT, "0.01", NULL,
     "whiten: added to the Gram matrix's diagonal, as a fraction of its mean, in (0, 1)"},
    {"params", PARE_OPT_FLOAT, "0", NULL,
     "max fraction of a layer's parameters the factors keep, in [0, 1) (0 = off)"},
    {NULL, 0, NULL, NULL, NULL},
};

const pare_pass_info pare_passes_lowrank[] = {
    {"lowrank", "factorize Gemm, MatMul and Conv weights into two low-rank layers (SVD)",
     lowrank_options, run_lowrank},
    {NULL, NULL, NULL, NULL},
};
