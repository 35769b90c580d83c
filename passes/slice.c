/*
 * slice.c - SliceGPT-style slicing of residual streams, and deletion of
 * whole attention heads.
 *
 *   slice<ratio=0.25;round=8;pca=calib;heads=0;scope=layer>
 *
 * A residual stream is a chain of values s0, s1 = s0 + w1, s2 = s1 + w2, ...
 * of width d (the last axis) where every value is read only by layer norms
 * and by the next residual Add, and every branch w_i is written by a linear
 * map (MatMul with a constant [m, d] weight, optional constant bias Add).
 * Layer norms are matched in their decomposed form
 *   m = ReduceMean(x); c = x - m; v = ReduceMean(c ^ 2); n = c / sqrt(v + eps);
 *   y = n * gamma + beta            (gamma, beta optional, [d])
 * and each LN output must reach only linear maps (MatMul with a constant
 * [d, n] weight, or a 1x1 Conv with group 1) through layout ops (Reshape,
 * Transpose) that keep the stream's axis whole.
 *
 * The rewrite (SliceGPT, Ashkboos et al. 2024, with one rotation for the
 * whole stream, so that the residual Adds need no matrices of their own):
 *   - every writer's output is projected by C = I - 11^T/d, so the stream is
 *     zero-mean per token and the LN's mean subtraction goes away; what is
 *     left is an RMS norm, which commutes with any orthogonal Q;
 *   - Q is the PCA of the (centered) stream: the eigenvectors of the sum of
 *     x x^T over every stream value on the calibration data (pca=calib), or,
 *     without data, of the sum of the writers' W^T W (pca=weights: the
 *     stream's covariance if every branch input were white);
 *   - writers get W C Q_k and b C Q_k, with Q_k the first d' columns of Q
 *     (the directions with the most energy); an entry s0 not written by a
 *     linear map gets a new MatMul by C Q_k [d, d'] (its parameters count);
 *   - each LN keeps Pow, ReduceMean, Add eps, Sqrt and Div, now over the d'
 *     kept coordinates: the mean of squares over d' coordinates is d/d'
 *     times the mean over d, so eps becomes eps d/d' and the factor
 *     sqrt(d/d') that is left goes, with gamma and beta, into the readers:
 *     W' = sqrt(d/d') Q_k^T diag(gamma) W, bias' = bias + beta W (a bias is
 *     added when the reader had none). Exact when d' = d (ratio 0, up to
 *     rounding); the sliced directions' share of ||x||^2 is what slicing
 *     drops.
 *   d' = (1 - ratio) d rounded up to a multiple of `round`, at most d
 *   (scope=layer); with scope=global the streams share one budget, the
 *   sum of those widths: the directions whose eigenvalue, relative to the
 *   mean of their stream's, is largest stay. Every stream's PCA is taken
 *   on the graph before any is rewritten.
 *
 * Linear pairs (no LN): a MatMul (+ bias) whose output only linear maps
 * read (directly or through residual Adds with other such writers) is
 * rotated the same way by the uncentered PCA of that output (nothing
 * normalizes it, so no centering and no scale): W1 Q_k, b1 Q_k, Q_k^T W2.
 * Pairs are found after the LN streams, one at a time (so that chains of
 * maps go pair by pair), each with width (1 - ratio) d.
 *
 * Heads (heads=N > 0): attention blocks are matched from a MatMul with a
 * constant [d, 3 H hd] weight (+ bias) reshaped to [..., 3, H, hd], through
 * any ops that keep the head axis, to a Reshape back to [..., H hd] read by a
 * MatMul with a constant [H hd, d_out] weight (the projection). N heads per
 * block go: those whose output carries the least energy through the
 * projection on the calibration data (trace(W_h^T G_hh W_h), G the Gram
 * matrix of the projection's input, passes/gram.h), and the projection's
 * kept rows are re-fitted by least squares on G (W_K = G_KK^-1 G_K: W), so
 * they carry what the deleted heads did. q, k and v columns, their bias and
 * the two Reshapes' head counts shrink. Without --calib the head's weight
 * norms score it and nothing is re-fitted. With scope=global, heads x
 * blocks heads go in all, the weakest relative to their block's mean, every
 * block keeping one. Heads go before the streams are sliced.
 *
 * What this pass does not do: channels behind a nonlinearity (a head MatMul
 * fed by swish) cannot be rotated; prune-channels (score=activation,
 * layers=...) deletes those with a least-squares re-fit of the reader.
 *
 * Per layer (--report): params_before / params_after on every weight the
 * pass changes (params_added on an inserted entry map); stream_dim_before /
 * after on the stream's first LN; heads_before / after on each projection.
 * Counters (--stats): parameters removed (net), streams sliced, linear
 * pairs sliced, heads deleted, streams skipped (with the reason on the LN as
 * "skipped").
 */
#include "ops/ops.h"
#include "passes/gram.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

#include <lapacke.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LAYOUT = 4, MAX_READERS = 8 };
enum { PCA_CALIB = 0, PCA_WEIGHTS = 1 };

typedef struct sl_opts {
  double ratio;
  int64_t round;
  int pca;
  int64_t heads;
  int global; /* scope=global */
} sl_opts;

/* A decomposed layer norm. Nodes are indices, -1 when absent. */
typedef struct sl_ln {
  int x; /* the normalized value */
  int mean1, sub, pow, mean2, add_eps, sqrt_, div, mul, add;
  int eps, gamma, beta; /* constants, gamma/beta -1 if absent */
  int eps_new;          /* the rewritten eps constant */
  int y;                /* the LN's output value */
  int stream;           /* the stream it reads, -1 */
} sl_ln;

/* A linear map reading an LN's output through layout ops. */
typedef struct sl_reader {
  int ln;
  int node; /* MatMul or 1x1 Conv */
  int n_layout;
  int layout[MAX_LAYOUT]; /* Reshape/Transpose nodes, in order */
  int axis[MAX_LAYOUT];   /* Reshape: the stream's axis in its output */
  int bias_add;           /* MatMul: the Add of its bias, -1 */
} sl_reader;

/* A linear map writing into the stream: MatMul (+ bias Add). */
typedef struct sl_writer {
  int matmul, add;
} sl_writer;

typedef struct sl_state {
  pare_graph *g;
  sl_ln *lns;
  int n_lns;
  int *stream; /* values of the stream being built */
  int n_stream;
  sl_writer *writers;
  int n_writers;
  sl_reader *readers;
  int n_readers;
  int entry_writer; /* s0 is a writer's output: its index, else -1 */
  int direct;       /* no LN: linear maps read the stream itself (a linear pair) */
  int64_t d;
  char why[256];
} sl_state;

static const char *layer_name(const pare_graph *g, const pare_node *n) {
  if (n->name && n->name[0]) return n->name;
  return n->n_outputs > 0 && n->outputs[0] >= 0 ? g->values[n->outputs[0]]->name : "";
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
fail(sl_state *st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->why, sizeof st->why, fmt, ap);
  va_end(ap);
  return 0;
}

/* ------------------------------------------------------------ matching */

static int is_const(const pare_graph *g, int v) {
  if (v < 0) return 0;
  const pare_value *val = g->values[v];
  return val->init && val->init->data && !val->is_graph_input;
}

/* A dense f32 constant of the given rank (-1: any). */
static int is_f32(const pare_graph *g, int v, int rank) {
  if (!is_const(g, v)) return 0;
  const pare_value *val = g->values[v];
  if (val->enc || val->init->dtype != PARE_F32 || val->is_graph_output) return 0;
  return rank < 0 || val->init->shape.rank == rank;
}

/* A constant holding one element (any float dtype); *out its value. */
static int is_scalar(const pare_graph *g, int v, double *out) {
  if (!is_const(g, v) || !pare_dtype_is_float(g->values[v]->init->dtype) ||
      pare_tensor_numel(g->values[v]->init) != 1)
    return 0;
  *out = pare_tensor_get_f64(g->values[v]->init, 0);
  return 1;
}

/* A dense f32 constant of d elements whose shape broadcasts along the last
 * axis only ([d], [1, d], ...). */
static int is_vector(const pare_graph *g, int v, int64_t d) {
  if (!is_f32(g, v, -1)) return 0;
  const pare_shape *s = &g->values[v]->init->shape;
  return s->rank >= 1 && s->dims[s->rank - 1] == d && pare_tensor_numel(g->values[v]->init) == d;
}

/* The nodes reading v (each once) into out[0..max); their count, or -1 when
 * v is a graph output or has more than max readers. */
static int readers_of(const pare_graph *g, int v, int *out, int max) {
  if (g->values[v]->is_graph_output) return -1;
  int n = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *nd = g->nodes[k];
    if (!nd->op) continue;
    for (int i = 0; i < nd->n_inputs; i++)
      if (nd->inputs[i] == v) {
        if (n == max) return -1;
        out[n++] = k;
        break;
      }
  }
  return n;
}

/* The single node reading v, -1 if none or several. */
static int only_reader(const pare_graph *g, int v) {
  int r[2];
  return readers_of(g, v, r, 2) == 1 ? r[0] : -1;
}

static int out0(const pare_graph *g, int k) {
  const pare_node *n = g->nodes[k];
  return n->n_outputs >= 1 ? n->outputs[0] : -1;
}

/* The other input of binary node k (the one that is not v), -1. */
static int other_input(const pare_node *n, int v) {
  if (n->n_inputs != 2) return -1;
  if (n->inputs[0] == v) return n->inputs[1];
  if (n->inputs[1] == v) return n->inputs[0];
  return -1;
}

/* ReduceMean over the last axis only, keeping it. */
static int is_last_mean(const pare_graph *g, int k) {
  const pare_node *n = g->nodes[k];
  if (!pare_pass_is_op(n, "ReduceMean") || n->n_inputs < 1 || n->inputs[0] < 0) return 0;
  if (pare_attr_int(n, "keepdims", 1) != 1) return 0;
  int rank = g->values[n->inputs[0]]->shape.rank;
  if (rank < 1) return 0;
  int64_t axis;
  const int64_t *axes;
  if (n->n_inputs >= 2 && n->inputs[1] >= 0) {
    const pare_value *a = g->values[n->inputs[1]];
    if (!is_const(g, n->inputs[1]) || pare_tensor_numel(a->init) != 1) return 0;
    axis = pare_tensor_get_i64(a->init, 0);
  } else if (pare_attr_ints(n, "axes", &axes) == 1) {
    axis = axes[0];
  } else {
    return 0;
  }
  return axis == -1 || axis == rank - 1;
}

/* Matches a decomposed LN starting at ReduceMean node k. */
static int match_ln(const pare_graph *g, int k, sl_ln *m) {
  memset(m, -1, sizeof *m);
  if (!is_last_mean(g, k) || g->nodes[k]->n_outputs != 1) return 0;
  int x = g->nodes[k]->inputs[0];
  const pare_shape *xs = &g->values[x]->shape;
  if (xs->rank < 1 || xs->dims[xs->rank - 1] < 2 || g->values[x]->init) return 0;
  int64_t d = xs->dims[xs->rank - 1];
  m->x = x, m->mean1 = k;
  m->sub = only_reader(g, out0(g, k));
  if (m->sub < 0) return 0;
  const pare_node *sub = g->nodes[m->sub];
  if (!pare_pass_is_op(sub, "Sub") || sub->n_inputs != 2 || sub->inputs[0] != x ||
      sub->inputs[1] != out0(g, k))
    return 0;
  int r[3];
  if (readers_of(g, out0(g, m->sub), r, 3) != 2) return 0;
  for (int i = 0; i < 2; i++) {
    const pare_node *n = g->nodes[r[i]];
    double two;
    if (pare_pass_is_op(n, "Pow") && n->n_inputs == 2 && n->inputs[0] == out0(g, m->sub) &&
        is_scalar(g, n->inputs[1], &two) && two == 2)
      m->pow = r[i];
    else if (pare_pass_is_op(n, "Div") && n->n_inputs == 2 && n->inputs[0] == out0(g, m->sub))
      m->div = r[i];
  }
  if (m->pow < 0 || m->div < 0) return 0;
  m->mean2 = only_reader(g, out0(g, m->pow));
  if (m->mean2 < 0 || !is_last_mean(g, m->mean2)) return 0;
  m->add_eps = only_reader(g, out0(g, m->mean2));
  if (m->add_eps < 0 || !pare_pass_is_op(g->nodes[m->add_eps], "Add")) return 0;
  double eps;
  m->eps = other_input(g->nodes[m->add_eps], out0(g, m->mean2));
  if (!is_scalar(g, m->eps, &eps)) return 0;
  m->sqrt_ = only_reader(g, out0(g, m->add_eps));
  if (m->sqrt_ < 0 || !pare_pass_is_op(g->nodes[m->sqrt_], "Sqrt")) return 0;
  if (g->nodes[m->div]->inputs[1] != out0(g, m->sqrt_)) return 0;
  m->y = out0(g, m->div);
  int next = only_reader(g, m->y);
  if (next >= 0 && pare_pass_is_op(g->nodes[next], "Mul")) {
    int gm = other_input(g->nodes[next], m->y);
    if (is_vector(g, gm, d)) m->mul = next, m->gamma = gm, m->y = out0(g, next);
  }
  next = only_reader(g, m->y);
  if (next >= 0 && pare_pass_is_op(g->nodes[next], "Add")) {
    int bt = other_input(g->nodes[next], m->y);
    if (is_vector(g, bt, d)) m->add = next, m->beta = bt, m->y = out0(g, next);
  }
  return 1;
}

/* The width of value v's last axis, -1 if unknown. */
static int64_t last_dim(const pare_graph *g, int v) {
  const pare_shape *s = &g->values[v]->shape;
  return s->rank >= 1 ? s->dims[s->rank - 1] : -1;
}

/* If value w is written by a linear map (MatMul with a constant [m, d]
 * weight, optionally + a constant bias [d]) read only on the way to the
 * stream, fills *wr. */
static int match_writer(const pare_graph *g, int w, int64_t d, sl_writer *wr) {
  int k = g->values[w]->producer;
  wr->matmul = wr->add = -1;
  if (k < 0) return 0;
  const pare_node *n = g->nodes[k];
  if (pare_pass_is_op(n, "Add") && n->n_inputs == 2) {
    for (int i = 0; i < 2; i++) {
      int m = n->inputs[i], b = n->inputs[1 - i];
      if (m < 0 || !is_vector(g, b, d) || g->values[m]->producer < 0) continue;
      if (only_reader(g, m) != k) continue;
      wr->add = k;
      k = g->values[m]->producer;
      n = g->nodes[k];
      break;
    }
  }
  if (!pare_pass_is_op(n, "MatMul") || n->n_inputs != 2 || !is_f32(g, n->inputs[1], 2) ||
      g->values[n->inputs[1]]->init->shape.dims[1] != d)
    return 0;
  if (wr->add < 0 && out0(g, k) != w) return 0;
  wr->matmul = k;
  return 1;
}

/* Follows value u (stream axis last), read by node k, through layout ops to
 * the linear map reading it; li is the LN whose output u is, or -1 when u
 * is a stream value read directly. */
static int match_reader(sl_state *st, int li, int u, int k) {
  pare_graph *g = st->g;
  {
    sl_reader rd = {.ln = li, .node = -1, .bias_add = -1};
    int axis = g->values[u]->shape.rank - 1;
    for (;;) {
      const pare_node *nd = g->nodes[k];
      int rank = g->values[u]->shape.rank;
      if (nd->inputs[0] != u)
        return fail(st, "%s '%s' reads it as an operand", nd->op, layer_name(g, nd));
      if (pare_pass_is_op(nd, "MatMul") && nd->n_inputs == 2 && axis == rank - 1 &&
          is_f32(g, nd->inputs[1], 2) && g->values[nd->inputs[1]]->init->shape.dims[0] == st->d) {
        rd.node = k;
        int a = only_reader(g, out0(g, k));
        int64_t cols = g->values[nd->inputs[1]]->init->shape.dims[1];
        if (a >= 0 && pare_pass_is_op(g->nodes[a], "Add") &&
            is_vector(g, other_input(g->nodes[a], out0(g, k)), cols))
          rd.bias_add = a;
        break;
      }
      if (pare_pass_is_op(nd, "Conv") && nd->n_inputs >= 2 && axis == 1 &&
          pare_attr_int(nd, "group", 1) == 1 && is_f32(g, nd->inputs[1], -1) &&
          (nd->n_inputs < 3 || nd->inputs[2] < 0 || is_f32(g, nd->inputs[2], 1))) {
        const pare_shape *ws = &g->values[nd->inputs[1]]->init->shape;
        int ones = ws->rank >= 3 && ws->dims[1] == st->d;
        for (int j = 2; j < ws->rank; j++) ones &= ws->dims[j] == 1;
        if (!ones) return fail(st, "Conv '%s' is not 1x1", layer_name(g, nd));
        rd.node = k;
        break;
      }
      if (rd.n_layout == MAX_LAYOUT || only_reader(g, out0(g, k)) < 0 || nd->n_outputs != 1)
        return fail(st, "%s '%s' reads the stream", nd->op, layer_name(g, nd));
      int y = out0(g, k);
      const pare_shape *ys = &g->values[y]->shape;
      if (pare_pass_is_op(nd, "Transpose")) {
        const int64_t *perm;
        int64_t np = pare_attr_ints(nd, "perm", &perm);
        int na = -1;
        for (int j = 0; j < np; j++)
          if (perm[j] == axis) na = j;
        if (na < 0) return fail(st, "Transpose '%s' has no perm", layer_name(g, nd));
        axis = na;
      } else if (pare_pass_is_op(nd, "Reshape") && nd->n_inputs == 2 &&
                 is_const(g, nd->inputs[1]) && ys->rank >= 1) {
        /* The stream's axis must stay one axis, after the same prefix. */
        const pare_shape *xs = &g->values[u]->shape;
        int64_t pre = 1, opre = 1;
        for (int j = 0; j < axis; j++) pre *= xs->dims[j];
        int na = -1;
        for (int j = 0; j < ys->rank; j++) {
          if (opre == pre && ys->dims[j] == st->d &&
              pare_tensor_get_i64(g->values[nd->inputs[1]]->init, j) == st->d) {
            na = j;
            break;
          }
          opre *= ys->dims[j];
        }
        if (na < 0) return fail(st, "Reshape '%s' splits the stream's axis", layer_name(g, nd));
        axis = na;
      } else {
        return fail(st, "%s '%s' reads the stream", nd->op, layer_name(g, nd));
      }
      rd.layout[rd.n_layout] = k;
      rd.axis[rd.n_layout++] = axis;
      u = y;
      k = only_reader(g, y);
    }
    if (st->n_readers == 4 * g->n_nodes) return fail(st, "too many readers");
    st->readers[st->n_readers++] = rd;
  }
  return 1;
}

/* The linear maps reading LN li's output. */
static int match_readers(sl_state *st, int li) {
  pare_graph *g = st->g;
  int r[MAX_READERS];
  int n = readers_of(g, st->lns[li].y, r, MAX_READERS);
  if (n <= 0)
    return fail(st, "the LN output '%s' is a graph output or unused",
                g->values[st->lns[li].y]->name);
  for (int i = 0; i < n; i++)
    if (!match_reader(st, li, st->lns[li].y, r[i])) return 0;
  return 1;
}

static int ln_of_x(const sl_state *st, int v, int node) {
  for (int i = 0; i < st->n_lns; i++)
    if (st->lns[i].x == v && (st->lns[i].mean1 == node || st->lns[i].sub == node)) return i;
  return -1;
}

/* Builds the stream from s0 (the first LN's input); 0 with st->why set when
 * it cannot be sliced. */
static int build_stream(sl_state *st, int s0) {
  pare_graph *g = st->g;
  st->n_stream = st->n_writers = st->n_readers = st->direct = 0;
  st->entry_writer = -1;
  st->d = last_dim(g, s0);
  st->stream[st->n_stream++] = s0;
  sl_writer wr;
  if (match_writer(g, s0, st->d, &wr)) {
    st->entry_writer = 0;
    st->writers[st->n_writers++] = wr;
  }
  for (int i = 0; i < st->n_stream; i++) {
    int v = st->stream[i];
    int r[MAX_READERS + 4];
    int n = readers_of(g, v, r, MAX_READERS + 4);
    if (n < 0) return fail(st, "value '%s' is a graph output", g->values[v]->name);
    for (int j = 0; j < n; j++) {
      const pare_node *nd = g->nodes[r[j]];
      int li = ln_of_x(st, v, r[j]);
      if (li >= 0) {
        st->lns[li].stream = 1;
        continue;
      }
      int w = pare_pass_is_op(nd, "Add") ? other_input(nd, v) : -1;
      if (w >= 0 && w != v && only_reader(g, w) == r[j] && match_writer(g, w, st->d, &wr) &&
          last_dim(g, out0(g, r[j])) == st->d &&
          g->values[out0(g, r[j])]->shape.rank == g->values[v]->shape.rank) {
        if (st->n_stream == g->n_values) return fail(st, "stream too long");
        st->writers[st->n_writers++] = wr;
        st->stream[st->n_stream++] = out0(g, r[j]);
        continue;
      }
      if (pare_pass_is_op(nd, "MatMul") || pare_pass_is_op(nd, "Conv") ||
          pare_pass_is_op(nd, "Transpose") || pare_pass_is_op(nd, "Reshape")) {
        if (!match_reader(st, -1, v, r[j])) return 0;
        st->direct = 1;
        continue;
      }
      return fail(st, "stream value '%s' is read by %s '%s'", g->values[v]->name, nd->op,
                  layer_name(g, nd));
    }
  }
  int any_ln = 0;
  for (int li = 0; li < st->n_lns; li++) any_ln |= st->lns[li].stream == 1;
  if (st->direct && any_ln)
    return fail(st, "the stream is read both through layer norms and directly");
  if (st->direct && st->entry_writer < 0) return fail(st, "the stream is not written by a map");
  for (int li = 0; li < st->n_lns; li++)
    if (st->lns[li].stream == 1 && !match_readers(st, li)) return 0;
  return 1;
}

/* ------------------------------------------------------------- the PCA */

typedef struct pca_acc {
  int64_t d;
  int center; /* subtract each row's mean (streams read through LNs) */
  double *h;  /* d x d */
  double *row;
} pca_acc;

static int pca_visit(void *user, int sample, int k, const pare_tensor *t, pare_err *err) {
  (void)sample, (void)k;
  pca_acc *a = user;
  int64_t d = a->d, rows = pare_tensor_numel(t) / d;
  if (t->shape.rank < 1 || t->shape.dims[t->shape.rank - 1] != d)
    return pare_errf(err, "a stream value has another width than %lld", (long long)d);
  for (int64_t r = 0; r < rows; r++) {
    double mean = 0;
    for (int64_t i = 0; i < d; i++) mean += (a->row[i] = pare_tensor_get_f64(t, r * d + i));
    mean = a->center ? mean / (double)d : 0;
    for (int64_t i = 0; i < d; i++) a->row[i] -= mean;
    for (int64_t i = 0; i < d; i++)
      for (int64_t j = 0; j <= i; j++) a->h[i * d + j] += a->row[i] * a->row[j];
  }
  return 0;
}

/* q (d x d, row-major): the eigenvectors of the stream's second moment, by
 * decreasing eigenvalue, as columns; the eigenvalues into ev (if set). */
static int stream_pca(sl_state *st, const pare_calib *calib, int pca, double *q, double *ev,
                      pare_err *err) {
  pare_graph *g = st->g;
  int64_t d = st->d;
  pca_acc a = {.d = d, .center = !st->direct, .h = q, .row = malloc((size_t)d * sizeof(double))};
  if (!a.row) return pare_errf(err, "out of memory");
  memset(q, 0, (size_t)(d * d) * sizeof *q);
  int rc = PARE_OK;
  if (pca == PCA_CALIB) {
    if (!calib) {
      free(a.row);
      return pare_errf(err,
                       "option 'pca=calib' needs calibration data (--calib DIR), or pca=weights");
    }
    rc = calib->run(calib, g, st->stream, st->n_stream, pca_visit, &a, err);
  } else {
    /* Writer i adds z W_i: with white z its covariance is W_i^T W_i; an
     * entry not written by a map counts as white. Centered like the data. */
    double *cov = calloc((size_t)(d * d), sizeof *cov);
    if (!cov) rc = pare_errf(err, "out of memory");
    if (cov && st->entry_writer < 0)
      for (int64_t i = 0; i < d; i++) cov[i * d + i] = 1;
    for (int w = 0; cov && w < st->n_writers; w++) {
      const pare_tensor *t = g->values[g->nodes[st->writers[w].matmul]->inputs[1]]->init;
      const float *W = t->data;
      int64_t m = t->shape.dims[0];
      for (int64_t r = 0; r < m; r++)
        for (int64_t i = 0; i < d; i++)
          for (int64_t j = 0; j < d; j++) cov[i * d + j] += (double)W[r * d + i] * W[r * d + j];
    }
    /* q = C cov C (cov itself for a linear pair) */
    for (int64_t i = 0; cov && i < d; i++) {
      double ri = 0;
      for (int64_t j = 0; j < d && !st->direct; j++) ri += cov[i * d + j] / (double)d;
      for (int64_t j = 0; j < d; j++) q[i * d + j] = cov[i * d + j] - ri;
    }
    for (int64_t j = 0; cov && j < d; j++) {
      double cj = 0;
      for (int64_t i = 0; i < d && !st->direct; i++) cj += q[i * d + j] / (double)d;
      for (int64_t i = 0; i < d; i++) q[i * d + j] -= cj;
    }
    free(cov);
  }
  free(a.row);
  if (rc) return rc;
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = i + 1; j < d; j++) q[i * d + j] = q[j * d + i];
  double *w = malloc((size_t)d * sizeof *w), *v = malloc((size_t)(d * d) * sizeof *v);
  if (!w || !v) {
    free(w), free(v);
    return pare_errf(err, "out of memory");
  }
  memcpy(v, q, (size_t)(d * d) * sizeof *v);
  if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, v, (lapack_int)d, w)) {
    free(w), free(v);
    return pare_errf(err, "the stream's eigendecomposition failed");
  }
  /* Ascending eigenvalues: column d-1-j is the j-th direction. A sign per
   * column (largest entry positive) makes the result reproducible. */
  for (int64_t j = 0; j < d; j++) {
    int64_t c = d - 1 - j, big = 0;
    for (int64_t i = 0; i < d; i++)
      if (fabs(v[i * d + c]) > fabs(v[big * d + c])) big = i;
    double s = v[big * d + c] < 0 ? -1 : 1;
    for (int64_t i = 0; i < d; i++) q[i * d + j] = s * v[i * d + c];
    if (ev) ev[j] = w[c];
  }
  free(w), free(v);
  return PARE_OK;
}

/* ----------------------------------------------------------- rewriting */

/* Adds constant t (ownership taken) named base + suffix; its index. */
static int add_const(pare_graph *g, const char *base, const char *suffix, pare_tensor *t,
                     pare_err *err) {
  char *name = pare_pass_unique_name(g, base, suffix);
  int v = name ? pare_graph_add_const(g, name, t, err) : pare_errf(err, "out of memory");
  if (!name) pare_tensor_free(t);
  free(name);
  return v;
}

static pare_tensor *new_f32(int rank, const int64_t *dims, pare_err *err) {
  pare_shape s = pare_shape_make(rank, dims);
  return pare_tensor_new(PARE_F32, &s, err);
}

/* P = C Q_k (d x k): the projection a writer's output goes through (Q_k
 * alone for a linear pair: nothing normalizes it). */
static void writer_proj(const double *q, int64_t d, int64_t k, int center, double *p) {
  for (int64_t j = 0; j < k; j++) {
    double mean = 0;
    for (int64_t i = 0; i < d && center; i++) mean += q[i * d + j] / (double)d;
    for (int64_t i = 0; i < d; i++) p[i * k + j] = q[i * d + j] - mean;
  }
}

/* out [m, k] = a [m, d] (f32) times p [d, k]. */
static void times(const float *a, int64_t m, int64_t d, const double *p, int64_t k, float *out) {
  for (int64_t r = 0; r < m; r++)
    for (int64_t j = 0; j < k; j++) {
      double s = 0;
      for (int64_t i = 0; i < d; i++) s += (double)a[r * d + i] * p[i * k + j];
      out[r * k + j] = (float)s;
    }
}

static int rewrite_writer(sl_state *st, const sl_writer *wr, const double *p, int64_t k,
                          pare_pass_ctx *ctx, int64_t *removed, pare_err *err) {
  pare_graph *g = st->g;
  pare_node *mm = g->nodes[wr->matmul];
  const pare_tensor *w = g->values[mm->inputs[1]]->init;
  int64_t m = w->shape.dims[0], d = st->d, dims[2] = {m, k};
  pare_tensor *t = new_f32(2, dims, err);
  if (!t) return PARE_ERR;
  times(w->data, m, d, p, k, t->data);
  int nv = add_const(g, g->values[mm->inputs[1]]->name, ".sliced", t, err);
  if (nv < 0) return PARE_ERR;
  mm->inputs[1] = nv;
  g->values[out0(g, wr->matmul)]->shape = pare_shape_unknown();
  pare_pass_decide(ctx, layer_name(g, mm), "params_before", (double)(m * d));
  pare_pass_decide(ctx, layer_name(g, mm), "params_after", (double)(m * k));
  *removed += m * (d - k);
  if (wr->add >= 0) {
    pare_node *ad = g->nodes[wr->add];
    int bi = ad->inputs[0] == out0(g, wr->matmul) ? 1 : 0;
    const pare_tensor *b = g->values[ad->inputs[bi]]->init;
    int64_t bd[1] = {k};
    pare_tensor *bt = new_f32(1, bd, err);
    if (!bt) return PARE_ERR;
    times(b->data, 1, d, p, k, bt->data);
    nv = add_const(g, g->values[ad->inputs[bi]]->name, ".sliced", bt, err);
    if (nv < 0) return PARE_ERR;
    ad->inputs[bi] = nv;
    g->values[out0(g, wr->add)]->shape = pare_shape_unknown();
    *removed += d - k;
  }
  return PARE_OK;
}

/* An entry not written by a map: s0' = MatMul(s0, C Q_k), read instead of
 * s0 by the stream's nodes. */
static int insert_entry(sl_state *st, const double *p, int64_t k, pare_pass_ctx *ctx,
                        int64_t *removed, pare_err *err) {
  pare_graph *g = st->g;
  int s0 = st->stream[0];
  int64_t d = st->d, dims[2] = {d, k};
  pare_tensor *t = new_f32(2, dims, err);
  if (!t) return PARE_ERR;
  float *o = t->data;
  for (int64_t i = 0; i < d * k; i++) o[i] = (float)p[i];
  int wv = add_const(g, g->values[s0]->name, ".slice_in", t, err);
  if (wv < 0) return PARE_ERR;
  char *name = pare_pass_unique_name(g, g->values[s0]->name, ".sliced");
  if (!name) return pare_errf(err, "out of memory");
  pare_shape s = g->values[s0]->shape;
  s.dims[s.rank - 1] = k;
  int y = pare_graph_add_value(g, name, PARE_F32, &s, err);
  if (y < 0) {
    free(name);
    return PARE_ERR;
  }
  /* Readers first: the new node reads s0 itself. */
  for (int kk = 0; kk < g->n_nodes; kk++) {
    pare_node *n = g->nodes[kk];
    if (!n->op) continue;
    for (int i = 0; i < n->n_inputs; i++)
      if (n->inputs[i] == s0) n->inputs[i] = y;
  }
  int in[2] = {s0, wv};
  int node = pare_graph_add_node(g, "MatMul", name, in, 2, &y, 1, err);
  free(name);
  if (node < 0) return PARE_ERR;
  pare_pass_decide(ctx, g->nodes[node]->name, "params_added", (double)(d * k));
  *removed -= d * k;
  st->stream[0] = y;
  return PARE_OK;
}

/* Reader rd: W' = sqrt(d/k) Q_k^T diag(gamma) W, bias' = bias + beta W. */
static int rewrite_reader(sl_state *st, const sl_reader *rd, const double *q, int64_t k,
                          pare_pass_ctx *ctx, int64_t *removed, pare_err *err) {
  pare_graph *g = st->g;
  const sl_ln *ln = rd->ln >= 0 ? &st->lns[rd->ln] : NULL;
  pare_node *n = g->nodes[rd->node];
  int conv = pare_pass_is_op(n, "Conv");
  const pare_tensor *w = g->values[n->inputs[1]]->init;
  int64_t d = st->d, outs = conv ? w->shape.dims[0] : w->shape.dims[1];
  const float *W = w->data;
  const float *gam = ln && ln->gamma >= 0 ? g->values[ln->gamma]->init->data : NULL;
  const float *bet = ln && ln->beta >= 0 ? g->values[ln->beta]->init->data : NULL;
  double scale = ln ? sqrt((double)d / (double)k) : 1;
  pare_shape ws = w->shape;
  ws.dims[conv ? 1 : 0] = k;
  pare_tensor *t = pare_tensor_new(PARE_F32, &ws, err);
  if (!t) return PARE_ERR;
  float *o = t->data;
  for (int64_t c = 0; c < outs; c++)
    for (int64_t j = 0; j < k; j++) {
      double s = 0;
      for (int64_t i = 0; i < d; i++) {
        double wi = conv ? W[c * d + i] : W[i * outs + c];
        s += q[i * d + j] * (gam ? gam[i] : 1.0) * wi;
      }
      o[conv ? c * k + j : j * outs + c] = (float)(scale * s);
    }
  int nv = add_const(g, g->values[n->inputs[1]]->name, ".sliced", t, err);
  if (nv < 0) return PARE_ERR;
  pare_pass_decide(ctx, layer_name(g, n), "params_before", (double)(d * outs));
  pare_pass_decide(ctx, layer_name(g, n), "params_after", (double)(k * outs));
  *removed += (d - k) * outs;
  if (bet) {
    /* The bias: beta W added to the existing one, or a new one. */
    int64_t bd[1] = {outs};
    pare_tensor *bt = new_f32(1, bd, err);
    if (!bt) return PARE_ERR;
    float *b = bt->data;
    const pare_tensor *old = NULL;
    int bi = -1;
    if (conv && n->n_inputs >= 3 && n->inputs[2] >= 0) old = g->values[n->inputs[2]]->init;
    if (!conv && rd->bias_add >= 0) {
      const pare_node *ad = g->nodes[rd->bias_add];
      bi = ad->inputs[0] == out0(g, rd->node) ? 1 : 0;
      old = g->values[ad->inputs[bi]]->init;
    }
    for (int64_t c = 0; c < outs; c++) {
      double s = old ? pare_tensor_get_f64(old, c) : 0;
      for (int64_t i = 0; i < d; i++) s += bet[i] * (conv ? W[c * d + i] : W[i * outs + c]);
      b[c] = (float)s;
    }
    const char *base =
        old ? g->values[conv ? n->inputs[2] : g->nodes[rd->bias_add]->inputs[bi]]->name
            : g->values[n->inputs[1]]->name;
    int bv = add_const(g, base, old ? ".sliced" : ".bias", bt, err);
    if (bv < 0) return PARE_ERR;
    n = g->nodes[rd->node];
    if (conv && old) {
      n->inputs[2] = bv;
    } else if (conv) {
      int *ins = realloc(n->inputs, 3 * sizeof *ins);
      if (!ins) return pare_errf(err, "out of memory");
      n->inputs = ins;
      if (n->n_inputs < 3) n->n_inputs = 3;
      ins[2] = bv;
      *removed -= outs;
    } else if (old) {
      g->nodes[rd->bias_add]->inputs[bi] = bv;
    } else {
      /* MatMul without a bias: y = MatMul(...) + bias, a new Add. */
      int y = out0(g, rd->node);
      char *name = pare_pass_unique_name(g, g->values[y]->name, ".mm");
      if (!name) return pare_errf(err, "out of memory");
      int m = pare_graph_add_value(g, name, PARE_F32, &g->values[y]->shape, err);
      free(name);
      if (m < 0) return PARE_ERR;
      g->nodes[rd->node]->outputs[0] = m;
      g->values[m]->producer = rd->node;
      int in[2] = {m, bv};
      if (pare_graph_add_node(g, "Add", NULL, in, 2, &y, 1, err) < 0) return PARE_ERR;
      *removed -= outs;
    }
  }
  n = g->nodes[rd->node];
  n->inputs[1] = nv;
  /* The layout ops: a Reshape's stream dim becomes k. */
  for (int i = 0; i < rd->n_layout; i++) {
    pare_node *l = g->nodes[rd->layout[i]];
    g->values[out0(g, rd->layout[i])]->shape = pare_shape_unknown();
    if (!pare_pass_is_op(l, "Reshape")) continue;
    pare_tensor *sh = pare_tensor_clone(g->values[l->inputs[1]]->init, err);
    if (!sh) return PARE_ERR;
    pare_tensor_set_f64(sh, rd->axis[i], (double)k);
    int sv = add_const(g, g->values[l->inputs[1]]->name, ".sliced", sh, err);
    if (sv < 0) return PARE_ERR;
    l->inputs[1] = sv;
  }
  return PARE_OK;
}

/* LN li over k coordinates: Pow and Div read the stream directly, eps
 * grows by d/k, gamma/beta (now in the readers) go. */
static int rewrite_ln(sl_state *st, int li, int64_t k, pare_err *err) {
  pare_graph *g = st->g;
  const sl_ln *ln = &st->lns[li];
  int x = g->nodes[ln->sub]->inputs[0]; /* s0' when an entry map was inserted */
  g->nodes[ln->pow]->inputs[0] = x;
  g->nodes[ln->div]->inputs[0] = x;
  /* The LNs of a stream often share one eps constant: one new one each. */
  int ev = -1;
  for (int j = 0; j < li && ev < 0; j++)
    if (st->lns[j].stream == 1 && st->lns[j].eps == ln->eps) ev = st->lns[j].eps_new;
  if (ev < 0) {
    double eps;
    is_scalar(g, ln->eps, &eps);
    pare_tensor *t = pare_tensor_clone(g->values[ln->eps]->init, err);
    if (!t) return PARE_ERR;
    pare_tensor_set_f64(t, 0, eps * (double)st->d / (double)k);
    ev = add_const(g, g->values[ln->eps]->name, ".sliced", t, err);
    if (ev < 0) return PARE_ERR;
  }
  st->lns[li].eps_new = ev;
  pare_node *ae = g->nodes[ln->add_eps];
  for (int i = 0; i < ae->n_inputs; i++)
    if (ae->inputs[i] == ln->eps) ae->inputs[i] = ev;
  int n_out = out0(g, ln->div);
  for (int kk = 0; kk < g->n_nodes; kk++) {
    pare_node *n = g->nodes[kk];
    if (!n->op || kk == ln->mul || kk == ln->add) continue;
    for (int i = 0; i < n->n_inputs; i++)
      if (n->inputs[i] == ln->y) n->inputs[i] = n_out;
  }
  pare_graph_kill_node(g, ln->mean1);
  pare_graph_kill_node(g, ln->sub);
  if (ln->mul >= 0) pare_graph_kill_node(g, ln->mul);
  if (ln->add >= 0) pare_graph_kill_node(g, ln->add);
  g->values[out0(g, ln->pow)]->shape = pare_shape_unknown();
  g->values[n_out]->shape = pare_shape_unknown();
  return PARE_OK;
}

static int64_t kept_dim(int64_t d, const sl_opts *o) {
  double want = (double)d - o->ratio * (double)d;
  int64_t k = (int64_t)ceil(want / (double)o->round - 1e-9) * o->round;
  if (k > d) k = d;
  return k < 1 ? 1 : k;
}

/* Rotates the stream built in st by q0 (its PCA, computed here if NULL)
 * and slices it to width k. */
static int slice_stream(sl_state *st, const sl_opts *o, const double *q0, int64_t k,
                        pare_pass_ctx *ctx, int64_t *removed, pare_err *err) {
  pare_graph *g = st->g;
  int64_t d = st->d;
  double *q = malloc((size_t)(d * d) * sizeof *q);
  double *p = malloc((size_t)(d * k) * sizeof *p);
  int rc = q && p ? PARE_OK : pare_errf(err, "out of memory");
  if (rc == PARE_OK && q0) memcpy(q, q0, (size_t)(d * d) * sizeof *q);
  if (rc == PARE_OK && !q0) rc = stream_pca(st, pare_pass_calib(ctx), o->pca, q, NULL, err);
  if (rc == PARE_OK) writer_proj(q, d, k, !st->direct, p);
  int first_ln = -1;
  for (int li = 0; li < st->n_lns; li++)
    if (st->lns[li].stream == 1 && first_ln < 0) first_ln = li;
  if (rc == PARE_OK && (first_ln >= 0 || st->direct)) {
    const pare_node *f = g->nodes[st->direct ? st->writers[0].matmul : st->lns[first_ln].mean1];
    pare_pass_decide(ctx, layer_name(g, f), "stream_dim_before", (double)d);
    pare_pass_decide(ctx, layer_name(g, f), "stream_dim_after", (double)k);
  }
  /* Readers before the LNs (they need gamma, beta and the LN output) and
   * before the writers (a reader may read what a writer rewrites). */
  for (int i = 0; rc == PARE_OK && i < st->n_readers; i++)
    rc = rewrite_reader(st, &st->readers[i], q, k, ctx, removed, err);
  for (int i = 0; rc == PARE_OK && i < st->n_writers; i++)
    rc = rewrite_writer(st, &st->writers[i], p, k, ctx, removed, err);
  if (rc == PARE_OK && st->entry_writer < 0) rc = insert_entry(st, p, k, ctx, removed, err);
  for (int li = 0; rc == PARE_OK && li < st->n_lns; li++)
    if (st->lns[li].stream == 1) rc = rewrite_ln(st, li, k, err);
  for (int i = 0; rc == PARE_OK && i < st->n_stream; i++)
    if (i > 0 || st->entry_writer >= 0) g->values[st->stream[i]]->shape = pare_shape_unknown();
  for (int li = 0; li < st->n_lns; li++)
    if (st->lns[li].stream == 1) st->lns[li].stream = 2; /* done */
  free(q), free(p);
  return rc;
}

/* ------------------------------------------------------------- the pass */

/* A stream found in the first phase: its first LN, width, PCA, kept width. */
typedef struct sl_found {
  int li;
  int64_t d, k;
  double *q, *ev;
} sl_found;

static int by_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x > y ? -1 : x < y;
}

/* scope=global: the streams' kept widths from one budget, sum of (1 -
 * ratio) d: the directions whose eigenvalue relative to their stream's mean
 * is largest stay, each stream rounded up to `round`. */
static int global_widths(sl_found *f, int n, const sl_opts *o, pare_err *err) {
  int64_t total = 0;
  double want = 0;
  for (int s = 0; s < n; s++) total += f[s].d, want += (double)f[s].d * (1 - o->ratio);
  double *all = malloc(((size_t)total + 1) * sizeof *all);
  if (!all) return pare_errf(err, "out of memory");
  int64_t at = 0;
  for (int s = 0; s < n; s++) {
    double mean = 0;
    for (int64_t i = 0; i < f[s].d; i++) mean += fmax(f[s].ev[i], 0) / (double)f[s].d;
    for (int64_t i = 0; i < f[s].d; i++)
      all[at++] = f[s].ev[i] = mean > 0 ? fmax(f[s].ev[i], 0) / mean : 1;
  }
  qsort(all, (size_t)total, sizeof *all, by_desc);
  int64_t budget = (int64_t)ceil(want - 1e-9);
  double t = all[budget < 1 ? 0 : budget > total ? total - 1 : budget - 1];
  free(all);
  for (int s = 0; s < n; s++) {
    int64_t k = 0;
    for (int64_t i = 0; i < f[s].d; i++) k += f[s].ev[i] >= t;
    k = (k + o->round - 1) / o->round * o->round;
    f[s].k = k < 1 ? 1 : k > f[s].d ? f[s].d : k;
  }
  return PARE_OK;
}

/* Every LN stream: found and its PCA taken first, on the graph as it is
 * (one calibration run each), the widths decided (per stream, or from
 * one budget with scope=global), then each rebuilt and sliced. */
static int run_streams(sl_state *st, const sl_opts *o, pare_pass_ctx *ctx, int *changed,
                       pare_err *err) {
  pare_graph *g = st->g;
  int64_t removed = 0, sliced = 0, skipped = 0;
  sl_found *f = calloc((size_t)st->n_lns + 1, sizeof *f);
  int n = 0, rc = f ? PARE_OK : pare_errf(err, "out of memory");
  for (int li = 0; rc == PARE_OK && li < st->n_lns; li++) {
    if (st->lns[li].stream != -1) continue;
    st->why[0] = 0;
    if (!build_stream(st, st->lns[li].x)) {
      pare_pass_decide_str(ctx, layer_name(g, g->nodes[st->lns[li].mean1]), "skipped", st->why);
      for (int j = 0; j < st->n_lns; j++)
        if (st->lns[j].stream == 1) st->lns[j].stream = 3; /* skipped */
      st->lns[li].stream = 3;
      skipped++;
      continue;
    }
    for (int j = 0; j < st->n_lns; j++)
      if (st->lns[j].stream == 1) st->lns[j].stream = 10 + n; /* found */
    f[n] = (sl_found){.li = li, .d = st->d, .k = kept_dim(st->d, o)};
    f[n].q = malloc((size_t)(st->d * st->d) * sizeof *f[n].q);
    f[n].ev = malloc((size_t)st->d * sizeof *f[n].ev);
    n++;
    if (!f[n - 1].q || !f[n - 1].ev) rc = pare_errf(err, "out of memory");
    if (rc == PARE_OK && (o->global || f[n - 1].k < st->d || o->ratio == 0))
      rc = stream_pca(st, pare_pass_calib(ctx), o->pca, f[n - 1].q, f[n - 1].ev, err);
  }
  if (rc == PARE_OK && o->global && o->ratio > 0 && n > 0) rc = global_widths(f, n, o, err);
  for (int s = 0; rc == PARE_OK && s < n; s++) {
    if (f[s].k >= f[s].d && o->ratio > 0) continue;
    for (int j = 0; j < st->n_lns; j++)
      if (st->lns[j].stream == 10 + s) st->lns[j].stream = -1;
    if (!build_stream(st, st->lns[f[s].li].x)) {
      rc = pare_errf(err, "the stream at '%s' changed: %s",
                     layer_name(g, g->nodes[st->lns[f[s].li].mean1]), st->why);
      break;
    }
    rc = slice_stream(st, o, f[s].q, f[s].k, ctx, &removed, err);
    sliced++;
    *changed = 1;
  }
  for (int s = 0; f && s < n; s++) free(f[s].q), free(f[s].ev);
  free(f);
  pare_pass_stat(ctx, "streams sliced", sliced);
  pare_pass_stat(ctx, "streams skipped", skipped);
  pare_pass_stat(ctx, "parameters removed", removed);
  return rc;
}

static int name_in(char **names, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) return 1;
  return 0;
}

/* Linear pairs: a MatMul (+ bias) whose output only linear maps read.
 * One pair at a time, the graph made whole (order, shapes) after each, so
 * that a chain of maps is sliced pair by pair; each writer is tried once. */
static int run_pairs(pare_graph *g, const sl_opts *o, pare_pass_ctx *ctx, int *changed,
                     pare_err *err) {
  char **tried = calloc((size_t)g->n_nodes + 1, sizeof *tried);
  int n_tried = 0, rc = tried ? PARE_OK : pare_errf(err, "out of memory"), found = 1;
  int64_t removed = 0, pairs = 0;
  while (rc == PARE_OK && found) {
    found = 0;
    sl_state st = {.g = g};
    st.stream = malloc(((size_t)g->n_values + 1) * sizeof *st.stream);
    st.writers = malloc(((size_t)g->n_values + 1) * sizeof *st.writers);
    st.readers = malloc((4 * (size_t)g->n_nodes + 1) * sizeof *st.readers);
    if (!st.stream || !st.writers || !st.readers) rc = pare_errf(err, "out of memory");
    for (int k = 0; rc == PARE_OK && k < g->n_nodes && !found && n_tried < g->n_nodes; k++) {
      const pare_node *n = g->nodes[k];
      if (!pare_pass_is_op(n, "MatMul") || n->n_inputs != 2 || !is_f32(g, n->inputs[1], 2) ||
          name_in(tried, n_tried, layer_name(g, n)))
        continue;
      if (!(tried[n_tried] = pare_strdup(layer_name(g, n)))) rc = pare_errf(err, "out of memory");
      n_tried++;
      int w = out0(g, k), a = w >= 0 ? only_reader(g, w) : -1;
      if (w < 0) continue;
      if (a >= 0 && pare_pass_is_op(g->nodes[a], "Add") &&
          is_vector(g, other_input(g->nodes[a], w), last_dim(g, w)))
        w = out0(g, a);
      sl_writer wr;
      if (rc || !match_writer(g, w, last_dim(g, w), &wr) || !build_stream(&st, w) || !st.direct ||
          st.n_readers == 0 || kept_dim(st.d, o) >= st.d)
        continue;
      rc = slice_stream(&st, o, NULL, kept_dim(st.d, o), ctx, &removed, err);
      pairs++;
      found = 1;
    }
    free(st.stream), free(st.writers), free(st.readers);
    if (rc == PARE_OK && found) {
      *changed = 1;
      rc = pare_graph_toposort(g, err);
      if (rc == PARE_OK) rc = pare_graph_compact(g, err);
      if (rc == PARE_OK) rc = pare_infer_shapes(g, err);
    }
  }
  for (int i = 0; tried && i < n_tried; i++) free(tried[i]);
  free(tried);
  pare_pass_stat(ctx, "linear pairs sliced", pairs);
  pare_pass_stat(ctx, "parameters removed", removed);
  return rc;
}

static int parse_opts(const pare_opt_value *args, sl_opts *o, pare_err *err) {
  o->ratio = args[0].f;
  o->round = args[1].i;
  o->pca = strcmp(args[2].s, "weights") == 0 ? PCA_WEIGHTS : PCA_CALIB;
  o->heads = args[3].i;
  o->global = strcmp(args[4].s, "global") == 0;
  if (!(o->ratio >= 0 && o->ratio < 1))
    return pare_errf(err, "option 'ratio' must be in [0, 1), not %g", o->ratio);
  if (o->round < 1)
    return pare_errf(err, "option 'round' must be >= 1, not %lld", (long long)o->round);
  if (o->heads < 0)
    return pare_errf(err, "option 'heads' must be >= 0, not %lld", (long long)o->heads);
  return PARE_OK;
}

static int slice_heads(pare_graph *g, const sl_opts *o, pare_pass_ctx *ctx, int *changed,
                       pare_err *err);

static int run_slice(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx, int *changed,
                     pare_err *err) {
  sl_opts o;
  if (parse_opts(args, &o, err)) return PARE_ERR;
  sl_state st = {.g = g};
  int rc = PARE_OK;
  /* Heads first, then shapes again: the stream's calibration run needs
   * static shapes (the generated code takes no other). */
  if (o.heads > 0) rc = slice_heads(g, &o, ctx, changed, err);
  if (rc == PARE_OK && *changed) rc = pare_infer_shapes(g, err);
  st.lns = calloc((size_t)g->n_nodes + 1, sizeof *st.lns);
  st.stream = malloc(((size_t)g->n_values + 1) * sizeof *st.stream);
  st.writers = malloc(((size_t)g->n_values + 1) * sizeof *st.writers);
  st.readers = malloc((4 * (size_t)g->n_nodes + 1) * sizeof *st.readers);
  if (rc == PARE_OK && (!st.lns || !st.stream || !st.writers || !st.readers))
    rc = pare_errf(err, "out of memory");
  for (int k = 0; rc == PARE_OK && k < g->n_nodes; k++)
    if (g->nodes[k]->op && match_ln(g, k, &st.lns[st.n_lns])) st.n_lns++;
  int sliced = 0;
  if (rc == PARE_OK) rc = run_streams(&st, &o, ctx, &sliced, err);
  if (rc == PARE_OK && (sliced || *changed)) {
    *changed = 1;
    rc = pare_graph_toposort(g, err);
    if (rc == PARE_OK) rc = pare_graph_compact(g, err);
  }
  free(st.lns), free(st.stream), free(st.writers), free(st.readers);
  if (rc == PARE_OK && *changed) rc = pare_infer_shapes(g, err);
  if (rc == PARE_OK && o.ratio > 0) rc = run_pairs(g, &o, ctx, changed, err);
  return rc;
}

/* --------------------------------------------------------------- heads */

/* An attention block: qkv = x W (+ b) reshaped to [..., 3, H, hd] (r1),
 * back to [..., H hd] (r2) and read by the projection. */
typedef struct sl_attn {
  int qkv, qkv_add, r1, r2, proj;
  int64_t h, hd;
  int *vals; /* values carrying the head axis, their count n_vals */
  int n_vals;
} sl_attn;

/* Where the head axis of a value is: absolute, -1 if not tracked. */
static int head_axis_out(const pare_graph *g, const pare_node *n, int a) {
  int rin = g->values[n->inputs[0]]->shape.rank;
  if (pare_pass_is_op(n, "Transpose")) {
    const int64_t *perm;
    int64_t np = pare_attr_ints(n, "perm", &perm);
    for (int j = 0; j < np; j++)
      if (perm[j] == a) return j;
    return -1;
  }
  if (pare_pass_is_op(n, "Squeeze") || pare_pass_is_op(n, "Slice")) {
    int ai = pare_pass_is_op(n, "Squeeze") ? 1 : 3;
    if (n->n_inputs <= ai || !is_const(g, n->inputs[ai])) return -1;
    const pare_tensor *axes = g->values[n->inputs[ai]]->init;
    int before = 0;
    for (int64_t i = 0; i < pare_tensor_numel(axes); i++) {
      int64_t d = pare_tensor_get_i64(axes, i);
      if (d < 0) d += rin;
      if (d == a) return -1;
      before += d < a;
    }
    return pare_pass_is_op(n, "Squeeze") ? a - before : a;
  }
  if (pare_pass_is_op(n, "Softmax")) {
    int64_t ax = pare_attr_int(n, "axis", -1);
    return (ax < 0 ? ax + rin : ax) == a ? -1 : a;
  }
  return a; /* elementwise with scalars, MatMul over batch dims: checked by the caller */
}

/* Matches the attention block whose qkv MatMul is node k. */
static int match_attn(const pare_graph *g, int k, sl_attn *at, int *axis) {
  memset(at, 0, sizeof *at);
  at->qkv_add = -1;
  const pare_node *n = g->nodes[k];
  if (!pare_pass_is_op(n, "MatMul") || n->n_inputs != 2 || !is_f32(g, n->inputs[1], 2)) return 0;
  at->qkv = k;
  int64_t cols = g->values[n->inputs[1]]->init->shape.dims[1];
  int v = out0(g, k), r = only_reader(g, v);
  if (r >= 0 && pare_pass_is_op(g->nodes[r], "Add") &&
      is_vector(g, other_input(g->nodes[r], v), cols)) {
    at->qkv_add = r;
    v = out0(g, r);
    r = only_reader(g, v);
  }
  if (r < 0 || !pare_pass_is_op(g->nodes[r], "Reshape") || !is_const(g, g->nodes[r]->inputs[1]))
    return 0;
  const pare_shape *ys = &g->values[out0(g, r)]->shape;
  if (ys->rank < 3 || ys->dims[ys->rank - 3] != 3) return 0;
  at->h = ys->dims[ys->rank - 2], at->hd = ys->dims[ys->rank - 1];
  if (at->h < 2 || 3 * at->h * at->hd != cols ||
      pare_tensor_get_i64(g->values[g->nodes[r]->inputs[1]]->init, ys->rank - 2) != at->h)
    return 0;
  at->r1 = r;
  if (out0(g, r) < 0) return 0;
  at->vals = malloc(((size_t)g->n_values + 1) * sizeof *at->vals);
  if (!at->vals) return 0;
  for (int i = 0; i < g->n_values; i++) axis[i] = -1;
  axis[out0(g, r)] = ys->rank - 2;
  at->vals[at->n_vals++] = out0(g, r);
  at->r2 = at->proj = -1;
  for (int kk = r + 1; kk < g->n_nodes; kk++) {
    const pare_node *nd = g->nodes[kk];
    if (!nd->op) continue;
    int tracked = -1, other = 0;
    for (int i = 0; i < nd->n_inputs; i++) {
      int u = nd->inputs[i];
      if (u < 0) continue;
      if (axis[u] >= 0) {
        if (tracked >= 0 && axis[u] != tracked) return 0;
        tracked = axis[u];
      } else {
        double sc;
        if (!is_scalar(g, u, &sc) && !is_const(g, u)) other = 1;
      }
    }
    if (tracked < 0) continue;
    if (other || nd->n_outputs != 1 || g->values[out0(g, kk)]->is_graph_output) return 0;
    const pare_shape *is = &g->values[nd->inputs[0]]->shape;
    int y = out0(g, kk);
    if (pare_pass_is_op(nd, "Reshape")) {
      /* r2: [..., H, hd] -> [..., H hd], read by the projection. */
      const pare_shape *os = &g->values[y]->shape;
      if (tracked != is->rank - 2 || is->dims[is->rank - 1] != at->hd || os->rank != is->rank - 1 ||
          os->dims[os->rank - 1] != at->h * at->hd || !is_const(g, nd->inputs[1]) ||
          pare_tensor_get_i64(g->values[nd->inputs[1]]->init, os->rank - 1) != at->h * at->hd)
        return 0;
      int p = only_reader(g, y);
      if (at->r2 >= 0 || p < 0 || !pare_pass_is_op(g->nodes[p], "MatMul") ||
          g->nodes[p]->inputs[0] != y || !is_f32(g, g->nodes[p]->inputs[1], 2))
        return 0;
      at->r2 = kk, at->proj = p;
      continue;
    }
    int ok = pare_pass_is_op(nd, "Transpose") || pare_pass_is_op(nd, "Squeeze") ||
             pare_pass_is_op(nd, "Slice") || pare_pass_is_op(nd, "Softmax") ||
             pare_pass_is_op(nd, "Mul") || pare_pass_is_op(nd, "Div") ||
             (pare_pass_is_op(nd, "MatMul") && tracked < is->rank - 2);
    if (pare_pass_is_op(nd, "MatMul"))
      for (int i = 0; i < 2; i++) ok &= axis[nd->inputs[i]] == tracked;
    int a = ok ? head_axis_out(g, nd, tracked) : -1;
    if (a < 0) return 0;
    axis[y] = a;
    at->vals[at->n_vals++] = y;
  }
  /* Every tracked value must end in r2: none may leak elsewhere. */
  return at->r2 >= 0;
}

/* The importance of each head of block at: its output energy through the
 * projection, trace(W_h^T G_hh W_h) with the Gram matrix gr of the
 * projection's input, or without one ||W_h||^2. */
static void head_scores(const pare_graph *g, const sl_attn *at, const pare_gram *gr,
                        double *score) {
  const pare_tensor *w = g->values[g->nodes[at->proj]->inputs[1]]->init;
  int64_t hd = at->hd, K = at->h * hd, n = w->shape.dims[1];
  const float *W = w->data;
  memset(score, 0, (size_t)at->h * sizeof *score);
  for (int64_t h = 0; h < at->h; h++)
    for (int64_t c = 0; c < n; c++)
      for (int64_t i = h * hd; i < (h + 1) * hd; i++) {
        if (!gr) {
          score[h] += (double)W[i * n + c] * W[i * n + c];
          continue;
        }
        for (int64_t j = h * hd; j < (h + 1) * hd; j++)
          score[h] += gr->h[i * K + j] * W[i * n + c] * W[j * n + c];
      }
}

/* The kept heads (on[h] set; keep of them) of block at in ascending order
 * into kept, and the projection's kept rows into wproj, re-fitted on the
 * Gram matrix gr of its input when there is one. */
static int choose_heads(pare_graph *g, const sl_attn *at, const pare_gram *gr, const char *on,
                        int64_t keep, int64_t *kept, float *wproj, pare_err *err) {
  const pare_tensor *w = g->values[g->nodes[at->proj]->inputs[1]]->init;
  int64_t hd = at->hd, K = at->h * hd, n = w->shape.dims[1];
  const float *W = w->data;
  for (int64_t h = 0, t = 0; h < at->h; h++)
    if (on[h]) kept[t++] = h;
  int64_t kk = keep * hd;
  int64_t *rows = malloc((size_t)kk * sizeof *rows);
  if (!rows) return pare_errf(err, "out of memory");
  for (int64_t t = 0; t < keep; t++)
    for (int64_t j = 0; j < hd; j++) rows[t * hd + j] = kept[t] * hd + j;
  for (int64_t r = 0; r < kk; r++) memcpy(wproj + r * n, W + rows[r] * n, (size_t)n * sizeof *W);
  if (!gr) {
    free(rows);
    return PARE_OK;
  }
  /* Least squares: W_K = G_KK^-1 G_K: W, G_KK damped by 1% of its mean
   * diagonal (few samples). */
  double *a = malloc((size_t)(kk * kk) * sizeof *a), *b = malloc((size_t)(kk * n) * sizeof *b);
  int rc = a && b ? PARE_OK : pare_errf(err, "out of memory");
  double mean = 0;
  for (int64_t r = 0; rc == PARE_OK && r < kk; r++) mean += gr->h[rows[r] * K + rows[r]] / kk;
  for (int64_t r = 0; rc == PARE_OK && r < kk; r++) {
    for (int64_t c = 0; c < kk; c++) a[r * kk + c] = gr->h[rows[r] * K + rows[c]];
    a[r * kk + r] += 0.01 * (mean > 0 ? mean : 1);
    for (int64_t c = 0; c < n; c++) {
      double s = 0;
      for (int64_t i = 0; i < K; i++) s += gr->h[rows[r] * K + i] * W[i * n + c];
      b[r * n + c] = s;
    }
  }
  if (rc == PARE_OK && LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)kk, (lapack_int)n, a,
                                     (lapack_int)kk, b, (lapack_int)n) == 0)
    for (int64_t i = 0; i < kk * n; i++) wproj[i] = (float)b[i];
  free(a), free(b), free(rows);
  return rc;
}

/* Deletes all but `keep` heads of block at. */
static int rewrite_heads(pare_graph *g, sl_attn *at, const int64_t *kept, int64_t keep,
                         const float *wproj, pare_pass_ctx *ctx, int64_t *removed, pare_err *err) {
  pare_node *qn = g->nodes[at->qkv];
  const pare_tensor *w = g->values[qn->inputs[1]]->init;
  int64_t d = w->shape.dims[0], cols = w->shape.dims[1], hd = at->hd, nc = 3 * keep * hd;
  int64_t *col = malloc((size_t)nc * sizeof *col);
  if (!col) return pare_errf(err, "out of memory");
  for (int64_t t = 0, c = 0; t < 3; t++)
    for (int64_t h = 0; h < keep; h++)
      for (int64_t j = 0; j < hd; j++) col[c++] = (t * at->h + kept[h]) * hd + j;
  int64_t dims[2] = {d, nc};
  pare_tensor *t = new_f32(2, dims, err);
  int rc = t ? PARE_OK : PARE_ERR;
  for (int64_t r = 0; t && r < d; r++)
    for (int64_t c = 0; c < nc; c++)
      ((float *)t->data)[r * nc + c] = ((const float *)w->data)[r * cols + col[c]];
  int nv = t ? add_const(g, g->values[qn->inputs[1]]->name, ".heads", t, err) : -1;
  if (nv < 0) rc = PARE_ERR;
  if (rc == PARE_OK) {
    pare_pass_decide(ctx, layer_name(g, qn), "params_before", (double)(d * cols));
    pare_pass_decide(ctx, layer_name(g, qn), "params_after", (double)(d * nc));
    *removed += d * (cols - nc);
    qn->inputs[1] = nv;
    g->values[out0(g, at->qkv)]->shape = pare_shape_unknown();
  }
  if (rc == PARE_OK && at->qkv_add >= 0) {
    pare_node *ad = g->nodes[at->qkv_add];
    int bi = ad->inputs[0] == out0(g, at->qkv) ? 1 : 0;
    const pare_tensor *b = g->values[ad->inputs[bi]]->init;
    int64_t bd[1] = {nc};
    pare_tensor *bt = new_f32(1, bd, err);
    for (int64_t c = 0; bt && c < nc; c++)
      ((float *)bt->data)[c] = ((const float *)b->data)[col[c]];
    int bv = bt ? add_const(g, g->values[ad->inputs[bi]]->name, ".heads", bt, err) : -1;
    if (bv < 0)
      rc = PARE_ERR;
    else {
      g->nodes[at->qkv_add]->inputs[bi] = bv;
      g->values[out0(g, at->qkv_add)]->shape = pare_shape_unknown();
      *removed += cols - nc;
    }
  }
  free(col);
  /* The Reshapes' head counts. */
  const int rs[2] = {at->r1, at->r2};
  for (int i = 0; rc == PARE_OK && i < 2; i++) {
    pare_node *r = g->nodes[rs[i]];
    pare_tensor *sh = pare_tensor_clone(g->values[r->inputs[1]]->init, err);
    if (!sh) return PARE_ERR;
    int64_t at_ = pare_tensor_numel(sh) - (i == 0 ? 2 : 1);
    pare_tensor_set_f64(sh, at_, (double)(i == 0 ? keep : keep * hd));
    int sv = add_const(g, g->values[r->inputs[1]]->name, ".heads", sh, err);
    if (sv < 0) return PARE_ERR;
    r->inputs[1] = sv;
    g->values[out0(g, rs[i])]->shape = pare_shape_unknown();
  }
  for (int i = 0; rc == PARE_OK && i < at->n_vals; i++)
    g->values[at->vals[i]]->shape = pare_shape_unknown();
  if (rc) return rc;
  pare_node *pn = g->nodes[at->proj];
  const pare_tensor *pw = g->values[pn->inputs[1]]->init;
  int64_t n = pw->shape.dims[1], pd[2] = {keep * hd, n};
  pare_tensor *pt = new_f32(2, pd, err);
  if (!pt) return PARE_ERR;
  memcpy(pt->data, wproj, (size_t)(keep * hd * n) * sizeof *wproj);
  int pv = add_const(g, g->values[pn->inputs[1]]->name, ".heads", pt, err);
  if (pv < 0) return PARE_ERR;
  pare_pass_decide(ctx, layer_name(g, pn), "params_before", (double)(at->h * hd * n));
  pare_pass_decide(ctx, layer_name(g, pn), "params_after", (double)(keep * hd * n));
  pare_pass_decide(ctx, layer_name(g, pn), "heads_before", (double)at->h);
  pare_pass_decide(ctx, layer_name(g, pn), "heads_after", (double)keep);
  *removed += (at->h - keep) * hd * n;
  pn->inputs[1] = pv;
  return PARE_OK;
}

static int slice_heads(pare_graph *g, const sl_opts *o, pare_pass_ctx *ctx, int *changed,
                       pare_err *err) {
  sl_attn *at = calloc((size_t)g->n_nodes + 1, sizeof *at);
  int *axis = malloc(((size_t)g->n_values + 1) * sizeof *axis);
  int n = 0, rc = at && axis ? PARE_OK : pare_errf(err, "out of memory");
  for (int k = 0; rc == PARE_OK && k < g->n_nodes; k++) {
    if (!g->nodes[k]->op) continue;
    if (match_attn(g, k, &at[n], axis) && (o->global || at[n].h > o->heads))
      n++;
    else
      free(at[n].vals), at[n].vals = NULL, at[n].n_vals = 0;
  }
  const pare_calib *calib = pare_pass_calib(ctx);
  pare_gram *grams = calloc((size_t)n + 1, sizeof *grams);
  int *nodes = malloc(((size_t)n + 1) * sizeof *nodes);
  if (rc == PARE_OK && (!grams || !nodes)) rc = pare_errf(err, "out of memory");
  for (int i = 0; rc == PARE_OK && i < n; i++) nodes[i] = at[i].proj;
  if (rc == PARE_OK && calib && n > 0) rc = pare_gram_collect(calib, g, nodes, n, grams, err);
  /* Which heads stay: per block all but the `heads` weakest, or (global)
   * heads x blocks in all, the weakest relative to their block's mean,
   * every block keeping one. */
  int64_t total = 0, removed = 0, deleted = 0;
  for (int i = 0; i < n; i++) total += at[i].h;
  double *score = malloc(((size_t)total + 1) * sizeof *score);
  char *on = malloc((size_t)total + 1);
  int64_t *left = calloc((size_t)n + 1, sizeof *left);
  if (rc == PARE_OK && (!score || !on || !left)) rc = pare_errf(err, "out of memory");
  for (int i = 0, at0 = 0; rc == PARE_OK && i < n; at0 += (int)at[i].h, i++) {
    head_scores(g, &at[i], calib ? &grams[i] : NULL, score + at0);
    double mean = 0;
    for (int64_t h = 0; h < at[i].h; h++) mean += score[at0 + h] / (double)at[i].h;
    for (int64_t h = 0; h < at[i].h; h++) {
      if (o->global && mean > 0) score[at0 + h] /= mean;
      on[at0 + h] = 1;
    }
    left[i] = at[i].h;
  }
  for (int64_t t = 0; rc == PARE_OK && t < o->heads * (o->global ? n : 1); t++) {
    /* Per block, or over all: the weakest head still on (ties: the first). */
    for (int i = 0, at0 = 0; i < n; at0 += (int)at[i].h, i++) {
      int64_t best = -1, bi = -1;
      for (int j = o->global ? 0 : i, a0 = o->global ? 0 : at0; j < (o->global ? n : i + 1);
           a0 += (int)at[j].h, j++)
        for (int64_t h = 0; h < at[j].h && left[j] > 1; h++)
          if (on[a0 + h] && (best < 0 || score[a0 + h] < score[best])) best = a0 + h, bi = j;
      if (best >= 0) on[best] = 0, left[bi]--, deleted++;
      if (o->global) break;
    }
  }
  for (int i = 0, at0 = 0; rc == PARE_OK && i < n; at0 += (int)at[i].h, i++) {
    int64_t keep = left[i], hd = at[i].hd;
    if (keep == at[i].h) continue;
    int64_t outs = g->values[g->nodes[at[i].proj]->inputs[1]]->init->shape.dims[1];
    int64_t *kept = malloc((size_t)keep * sizeof *kept);
    float *wproj = malloc((size_t)(keep * hd * outs) * sizeof *wproj);
    rc = kept && wproj ? PARE_OK : pare_errf(err, "out of memory");
    if (rc == PARE_OK)
      rc = choose_heads(g, &at[i], calib ? &grams[i] : NULL, on + at0, keep, kept, wproj, err);
    if (rc == PARE_OK) rc = rewrite_heads(g, &at[i], kept, keep, wproj, ctx, &removed, err);
    if (rc) pare_err_prefix(err, "attention block of '%s'", layer_name(g, g->nodes[at[i].qkv]));
    free(kept), free(wproj);
    *changed = 1;
  }
  free(score), free(on), free(left);
  pare_pass_stat(ctx, "heads deleted", deleted);
  pare_pass_stat(ctx, "parameters removed", removed);
  if (grams) pare_gram_free(grams, n);
  for (int i = 0; at && i < n; i++) free(at[i].vals);
  free(grams), free(nodes), free(at), free(axis);
  return rc;
}

/* ------------------------------------------------------------- registry */

static const pare_pass_option slice_options[] = {
    {"ratio", PARE_OPT_FLOAT, "0.25", NULL,
     "fraction of each residual stream's width removed, in [0, 1) (0: rotate only)"},
    {"round", PARE_OPT_INT, "8", NULL, "keep a multiple of this many coordinates (>= 1)"},
    {"pca", PARE_OPT_STRING, "calib", "calib|weights",
     "the rotation: PCA of the stream on --calib data, or of the writers' weights"},
    {"heads", PARE_OPT_INT, "0", NULL,
     "attention heads deleted per block (least output energy, projection re-fitted)"},
    {"scope", PARE_OPT_STRING, "layer", "layer|global",
     "layer: each stream keeps 1 - ratio and each block loses `heads`; global: one budget "
     "over all streams (by relative eigenvalue) and all blocks (by relative head energy)"},
    {NULL, 0, NULL, NULL, NULL},
};

const pare_pass_info pare_passes_slice[] = {
    {"slice",
     "SliceGPT: rotate residual streams by their PCA and delete the weakest directions; "
     "delete attention heads",
     slice_options, run_slice},
    {NULL, NULL, NULL, NULL},
};
