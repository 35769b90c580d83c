/*
 * lowrank.c - low-rank factorization of layers with constant f32 weights.
 *
 * A layer's weight, viewed as a matrix M[m,n], is replaced by the rank-r
 * truncation of its singular value decomposition M = P S Q^T, split
 * symmetrically: U = P_r sqrt(S_r) [m,r], V = sqrt(S_r) Q_r^T [r,n], and
 * the layer becomes two:
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
 * The rank is the smallest whose singular values' squared sum reaches
 * `energy` of the total, or `rank` when given, capped by `ratio` of the full
 * rank min(m, n). A layer is factorized only when both its parameters (the
 * bias included) and its FLOPs drop by at least `min-saving` and strictly:
 * r (m + n) must be below m n. The chosen rank is not lowered to make a
 * layer save; such a layer is kept as it is.
 *
 * Numerics: the SVD runs in double precision on a double copy (LAPACKE
 * dgesdd, falling back to dgesvd), its errors about 1e-16 of the largest
 * singular value, far below f32 rounding, even when the rows of a BN-folded
 * weight differ in scale by orders of magnitude; the symmetric split keeps
 * U and V of comparable magnitude before they are rounded to f32, and an
 * all-zero (dead) row of the weight stays zero in U. Each singular pair is sign-normalized (the
 * largest- magnitude entry of each column of U is positive), so the factors do not depend on the
 * LAPACK implementation's sign choices. Plain (unweighted) truncation still discards the
 * small-scale rows first: the relative error of the worst output channel is recorded per layer
 * (pare_pass_decide, "worst_channel_error") to show it. Layers whose weights hold NaN or infinity,
 * or more than 2^24 elements, are left alone.
 *
 * Counters (--stats): layers factorized and kept, and the parameters and
 * FLOPs of the factorized layers before and after. Per layer (--report):
 * rank, full_rank, energy (the fraction kept), error (relative Frobenius
 * error of the f32 factors), worst_channel_error, or why it was skipped.
 */
#include "passes/passes.h"

#include <lapacke.h>
#ifdef PARE_HAVE_OPENBLAS
void openblas_set_num_threads(int n); /* OpenBLAS's cblas.h, which is not on the path */
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { OP_CONV = 1, OP_GEMM = 2, OP_MATMUL = 4 };

/* Larger weights are left alone: the SVD works on double copies of them
 * (about 4 m n doubles with LAPACKE's transposes) and takes O(m n min(m,n)). */
#define MAX_ELEMENTS ((int64_t)1 << 24)

typedef struct lr_opts {
  double energy;
  int64_t rank;
  double ratio;
  double min_saving;
  unsigned ops; /* OP_* */
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

static int is_op(const pare_node *n, const char *op) {
  return n->op && (!n->domain || !n->domain[0]) && strcmp(n->op, op) == 0;
}

/* ------------------------------------------------------------- options */

static int parse_ops(const char *text, unsigned *out, pare_err *err) {
  *out = 0;
  const char *p = text ? text : "";
  while (*p) {
    size_t len = strcspn(p, "+|/: ");
    if (len == 3 && strncmp(p, "all", 3) == 0)
      *out |= OP_CONV | OP_GEMM | OP_MATMUL;
    else if (len == 4 && strncmp(p, "conv", 4) == 0)
      *out |= OP_CONV;
    else if (len == 4 && strncmp(p, "gemm", 4) == 0)
      *out |= OP_GEMM;
    else if (len == 6 && strncmp(p, "matmul", 6) == 0)
      *out |= OP_MATMUL;
    else if (len > 0)
      return pare_errf(err,
                       "option 'ops': unknown op '%.*s' in '%s' (expected conv, gemm, matmul "
                       "or all, joined by '+')",
                       (int)len, p, text);
    p += len + (p[len] != 0);
  }
  if (!*out) return pare_errf(err, "option 'ops': no op given in '%s'", text ? text : "");
  return PARE_OK;
}

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
  return parse_ops(args[4].s, &o->ops, err);
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
  if ((ops & OP_GEMM) && is_op(n, "Gemm")) {
    if (!const_weight(g, L->w, 2) || !plain_attrs(n)) return 0;
    const pare_shape *ws = &g->values[L->w]->init->shape;
    L->kind = OP_GEMM;
    L->trans = pare_attr_int(n, "transB", 0) != 0;
    L->m = ws->dims[L->trans ? 1 : 0];
    L->n = ws->dims[L->trans ? 0 : 1];
    L->bias = n->n_inputs > 2 ? const_numel(g, n->inputs[2]) : 0;
    L->positions = positions_of(g, y, L->n);
    L->out_cols = 1;
  } else if ((ops & OP_MATMUL) && is_op(n, "MatMul")) {
    if (n->n_inputs != 2 || !const_weight(g, L->w, 2)) return 0;
    const pare_shape *ws = &g->values[L->w]->init->shape;
    L->kind = OP_MATMUL;
    L->m = ws->dims[0];
    L->n = ws->dims[1];
    L->positions = positions_of(g, y, L->n);
    L->out_cols = 1;
  } else if ((ops & OP_CONV) && is_op(n, "Conv")) {
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

/* The rank the options choose for singular values s[p]; *kept = the
 * fraction of the energy (squared sum) it keeps. */
static int64_t choose_rank(const lr_opts *o, const double *s, int64_t p, double *kept) {
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
  cum = 0;
  for (int64_t i = 0; i < r; i++) cum += s[i] * s[i];
  *kept = total > 0 ? cum / total : 1;
  return r;
}

/* ----------------------------------------------------------- rewriting */

/* base + suffix, or with ".2", ".3", ... appended when a value has that
 * name already: a malloc'd string, NULL on OOM. */
static char *unique_name(const pare_graph *g, const char *base, const char *suffix) {
  size_t len = strlen(base) + strlen(suffix) + 24;
  char *buf = malloc(len);
  if (!buf) return NULL;
  snprintf(buf, len, "%s%s", base, suffix);
  for (int i = 2; pare_graph_find_value(g, buf) >= 0; i++)
    snprintf(buf, len, "%s%s.%d", base, suffix, i);
  return buf;
}

/* A new f32 constant of shape `dims` (rank dims) with data d. */
static int add_f32_const(pare_graph *g, const char *base, const char *suffix, const int64_t *dims,
                         int rank, const float *d, pare_err *err) {
  pare_shape s = pare_shape_make(rank, dims);
  pare_tensor *t = pare_tensor_new(PARE_F32, &s, err);
  if (!t) return PARE_ERR;
  memcpy(t->data, d, t->nbytes);
  char *name = unique_name(g, base, suffix);
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
  char *tname = unique_name(g, L->name, ".lr1");
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
  int64_t factorized, kept, nonfinite, failed, large;
  int64_t params_before, params_after, flops_before, flops_after;
} lr_totals;

/* Factorizes layer L if the options choose a rank that saves; 1 when it did. */
static int factorize(pare_graph *g, const lr_layer *L, const lr_opts *o, pare_pass_ctx *ctx,
                     lr_totals *tot, pare_err *err) {
  const int64_t m = L->m, n = L->n, p = m < n ? m : n;
  if (m > MAX_ELEMENTS || n > MAX_ELEMENTS || m * n > MAX_ELEMENTS) {
    tot->large++;
    pare_pass_decide_str(ctx, L->name, "skipped", "too large for the SVD");
    return 0;
  }
  const float *w = g->values[L->w]->init->data;
  const size_t mn = (size_t)(m * n);
  double *buf = malloc((2 * mn + (size_t)p * (size_t)(m + n + 1)) * sizeof *buf);
  if (!buf) return pare_errf(err, "out of memory");
  double *a = buf, *copy = a + mn, *s = copy + mn, *u = s + p, *vt = u + m * p;
  /* M[i,j]: B' = B^T reads W[j,i]. */
  double norm2 = 0;
  int finite = 1;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double x = L->trans ? w[j * m + i] : w[i * n + j];
      finite &= isfinite(x) != 0;
      a[i * n + j] = x;
      norm2 += x * x;
    }
  if (!finite || norm2 == 0) {
    /* Nothing sensible to factorize (a zero weight has no spectrum). */
    tot->nonfinite += !finite;
    free(buf);
    return 0;
  }
  memcpy(copy, a, mn * sizeof *a);
  if (svd(a, copy, m, n, s, u, vt)) {
    tot->failed++;
    pare_pass_decide_str(ctx, L->name, "skipped", "SVD did not converge");
    free(buf);
    return 0;
  }
  double kept;
  int64_t r = choose_rank(o, s, p, &kept);
  /* Parameters count the bias (unchanged); FLOPs are 2 per MAC, per output
   * position: m n before, r (m + n) after. */
  int64_t pb = m * n + L->bias, pa = r * (m + n) + L->bias;
  int64_t fb = m * n, fa = r * (m + n);
  double psave = 1 - (double)pa / (double)pb, fsave = 1 - (double)fa / (double)fb;
  pare_pass_decide(ctx, L->name, "rank", (double)r);
  pare_pass_decide(ctx, L->name, "full_rank", (double)p);
  pare_pass_decide(ctx, L->name, "energy", kept);
  if (pa >= pb || fa >= fb || psave < o->min_saving || fsave < o->min_saving) {
    pare_pass_decide_str(ctx, L->name, "skipped", "saving below min-saving");
    tot->kept++;
    free(buf);
    return 0;
  }

  float *uf = malloc((size_t)(r * (m + n)) * sizeof *uf);
  if (!uf) {
    free(buf);
    return pare_errf(err, "out of memory");
  }
  float *vf = uf + m * r;
  for (int64_t c = 0; c < r; c++) {
    /* Sign: the largest-magnitude entry of U's column c is positive. */
    int64_t best = 0;
    for (int64_t i = 1; i < m; i++)
      if (fabs(u[i * p + c]) > fabs(u[best * p + c])) best = i;
    double sq = sqrt(s[c]), su = u[best * p + c] < 0 ? -sq : sq;
    for (int64_t i = 0; i < m; i++) uf[i * r + c] = (float)(u[i * p + c] * su);
    for (int64_t j = 0; j < n; j++) vf[c * n + j] = (float)(vt[c * n + j] * su);
  }

  /* The error the f32 factors make, overall and on the worst output
   * channel (columns of M for Gemm/MatMul, rows for Conv); a reuses a. */
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double acc = 0;
      for (int64_t c = 0; c < r; c++) acc += (double)uf[i * r + c] * (double)vf[c * n + j];
      a[i * n + j] = copy[i * n + j] - acc; /* the residual */
    }
  /* Channels below 1e-6 of the largest norm are dead (decayed to zero;
   * they stay zero up to rounding) and left out of the worst case. */
  double err2 = 0, worst = 0, max2 = 0;
  int64_t channels = L->out_cols ? n : m, len = L->out_cols ? m : n;
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
  free(buf);

  int rc = rewrite(g, L, r, uf, vf, err);
  free(uf);
  if (rc) return PARE_ERR;
  tot->factorized++;
  tot->params_before += pb;
  tot->params_after += pa;
  if (L->positions > 0) {
    tot->flops_before += 2 * fb * L->positions;
    tot->flops_after += 2 * fa * L->positions;
  }
  return 1;
}

static int run_lowrank(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx, int *changed,
                       pare_err *err) {
  lr_opts o = {0};
  if (parse_opts(args, &o, err)) return PARE_ERR;
#ifdef PARE_HAVE_OPENBLAS
  /* One thread: the layers are small, idle OpenBLAS threads spin, and the
   * factors then do not depend on the machine's core count. */
  openblas_set_num_threads(1);
#endif
  lr_totals tot = {0};
  const int n_nodes = g->n_nodes; /* the nodes the pass adds are not candidates */
  for (int k = 0; k < n_nodes; k++) {
    lr_layer L;
    if (!match_layer(g, k, o.ops, &L)) continue;
    if (factorize(g, &L, &o, ctx, &tot, err) < 0) {
      const pare_node *n = g->nodes[k];
      return pare_err_prefix(err, "node '%s' (%s)", n->name ? n->name : "", n->op);
    }
  }
  if (tot.factorized) {
    /* The new first nodes were appended; the sort puts each before its
     * consumer and keeps the rest in order. Unused old weights go. */
    if (pare_graph_toposort(g, err) || pare_graph_compact(g, err)) return PARE_ERR;
  }
  pare_pass_stat(ctx, "layers factorized", tot.factorized);
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
    {NULL, 0, NULL, NULL, NULL},
};

const pare_pass_info pare_passes_lowrank[] = {
    {"lowrank", "factorize Gemm, MatMul and Conv weights into two low-rank layers (SVD)",
     lowrank_options, run_lowrank},
    {NULL, NULL, NULL, NULL},
};
