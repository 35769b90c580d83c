/*
 * rnn.c - ops of the rnn family (infer + reference eval): RNN, GRU, LSTM.
 *
 * The three ops share one driver: parse the attributes into an rnn_config,
 * read every input into double arrays in layout 0 ([seq, batch, ...]), run
 * each direction one batch row at a time, and write Y / Y_h / Y_c back in
 * the node's layout and dtype (f32 or f64). Only the per-step cell differs.
 *
 * Gate orders are ONNX's: GRU z,r,h; LSTM i,o,f,c (peepholes i,o,f).
 * `clip` bounds the pre-activation of every gate; activation_alpha/beta are
 * consumed in order by the activations that take them (as ONNX Runtime does).
 */
#include "ops/ops.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------- activations */

typedef enum act_kind {
  ACT_RELU,
  ACT_TANH,
  ACT_SIGMOID,
  ACT_AFFINE,
  ACT_LEAKY_RELU,
  ACT_THRESHOLDED_RELU,
  ACT_SCALED_TANH,
  ACT_HARD_SIGMOID,
  ACT_ELU,
  ACT_SOFTSIGN,
  ACT_SOFTPLUS,
} act_kind;

typedef struct rnn_act {
  act_kind kind;
  double alpha, beta;
} rnn_act;

/* n_params: 0 = none, 1 = alpha, 2 = alpha and beta. */
static const struct {
  const char *name;
  act_kind kind;
  int n_params;
  double alpha, beta;
} act_table[] = {
    {"Relu", ACT_RELU, 0, 0, 0},
    {"Tanh", ACT_TANH, 0, 0, 0},
    {"Sigmoid", ACT_SIGMOID, 0, 0, 0},
    {"Affine", ACT_AFFINE, 2, 1.0, 0.0},
    {"LeakyRelu", ACT_LEAKY_RELU, 1, 0.01, 0},
    {"ThresholdedRelu", ACT_THRESHOLDED_RELU, 1, 1.0, 0},
    {"ScaledTanh", ACT_SCALED_TANH, 2, 1.0, 1.0},
    {"HardSigmoid", ACT_HARD_SIGMOID, 2, 0.2, 0.5},
    {"Elu", ACT_ELU, 1, 1.0, 0},
    {"Softsign", ACT_SOFTSIGN, 0, 0, 0},
    {"Softplus", ACT_SOFTPLUS, 0, 0, 0},
};

static int name_equal_nocase(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
  return *a == *b;
}

static double act_apply(const rnn_act *a, double x) {
  switch (a->kind) {
  case ACT_RELU:
    return x > 0 ? x : 0;
  case ACT_TANH:
    return tanh(x);
  case ACT_SIGMOID:
    return 1.0 / (1.0 + exp(-x));
  case ACT_AFFINE:
    return a->alpha * x + a->beta;
  case ACT_LEAKY_RELU:
    return x >= 0 ? x : a->alpha * x;
  case ACT_THRESHOLDED_RELU:
    return x > a->alpha ? x : 0;
  case ACT_SCALED_TANH:
    return a->alpha * tanh(a->beta * x);
  case ACT_HARD_SIGMOID: {
    double v = a->alpha * x + a->beta;
    return v < 0 ? 0 : v > 1 ? 1 : v;
  }
  case ACT_ELU:
    return x >= 0 ? x : a->alpha * (exp(x) - 1);
  case ACT_SOFTSIGN:
    return x / (1 + fabs(x));
  case ACT_SOFTPLUS:
    return x > 30 ? x : log1p(exp(x));
  }
  return x;
}

/* ---------------------------------------------------------------- config */

typedef enum rnn_kind { KIND_RNN, KIND_GRU, KIND_LSTM } rnn_kind;

#define MAX_ACTS 3 /* per direction */

typedef struct rnn_config {
  rnn_kind kind;
  const char *op;
  int n_gates; /* weight rows per hidden unit: 1, 3 or 4 */
  int n_acts;  /* activations per direction: 1, 2 or 3 */
  int n_dirs;
  int reverse_only;
  int layout;
  int linear_before_reset; /* GRU */
  int input_forget;        /* LSTM */
  int has_clip;
  double clip;
  int64_t hidden_attr; /* -1 if absent */
  rnn_act acts[2][MAX_ACTS];
} rnn_config;

/* Input indices (LSTM adds initial_c and P). */
enum { IN_X, IN_W, IN_R, IN_B, IN_SEQ_LENS, IN_H0, IN_C0, IN_P };

static int parse_activations(const pare_node *node, rnn_config *c, pare_err *err) {
  static const char *const defaults[3][MAX_ACTS] = {
      {"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
  const char *names[2 * MAX_ACTS];
  int want = c->n_acts * c->n_dirs;
  const pare_attr *a = pare_node_attr(node, "activations");
  if (a) {
    if (a->type != PARE_ATTR_STRINGS)
      return pare_errf(err, "%s: attribute activations must be a list of strings", c->op);
    /* Like ONNX Runtime, one direction's list is reused for both directions. */
    int reuse = c->n_dirs == 2 && a->n == c->n_acts;
    if (a->n != want && !reuse)
      return pare_errf(err, "%s: %lld activations given, expected %d", c->op, (long long)a->n,
                       want);
    for (int i = 0; i < want; i++) names[i] = a->strings[reuse ? i % c->n_acts : i];
  } else {
    for (int i = 0; i < want; i++) names[i] = defaults[c->kind][i % c->n_acts];
  }
  const float *alphas, *betas;
  int64_t n_alpha = pare_attr_floats(node, "activation_alpha", &alphas);
  int64_t n_beta = pare_attr_floats(node, "activation_beta", &betas);
  int64_t next_alpha = 0, next_beta = 0;
  for (int i = 0; i < want; i++) {
    size_t k = 0, n_table = sizeof act_table / sizeof act_table[0];
    while (k < n_table && !name_equal_nocase(act_table[k].name, names[i])) k++;
    if (k == n_table) return pare_errf(err, "%s: unknown activation '%s'", c->op, names[i]);
    rnn_act *act = &c->acts[i / c->n_acts][i % c->n_acts];
    act->kind = act_table[k].kind;
    act->alpha = act_table[k].alpha;
    act->beta = act_table[k].beta;
    if (act_table[k].n_params >= 1 && next_alpha < n_alpha) act->alpha = alphas[next_alpha++];
    if (act_table[k].n_params >= 2 && next_beta < n_beta) act->beta = betas[next_beta++];
  }
  return PARE_OK;
}

static int parse_config(const pare_node *node, rnn_kind kind, rnn_config *c, pare_err *err) {
  static const char *const ops[] = {"RNN", "GRU", "LSTM"};
  static const int gates[] = {1, 3, 4};
  memset(c, 0, sizeof *c);
  c->kind = kind;
  c->op = ops[kind];
  c->n_gates = gates[kind];
  c->n_acts = kind == KIND_LSTM ? 3 : kind == KIND_GRU ? 2 : 1;
  const char *dir = pare_attr_string(node, "direction", "forward");
  if (strcmp(dir, "forward") == 0)
    c->n_dirs = 1;
  else if (strcmp(dir, "reverse") == 0)
    c->n_dirs = 1, c->reverse_only = 1;
  else if (strcmp(dir, "bidirectional") == 0)
    c->n_dirs = 2;
  else
    return pare_errf(err, "%s: unknown direction '%s'", c->op, dir);
  int64_t layout = pare_attr_int(node, "layout", 0);
  if (layout != 0 && layout != 1)
    return pare_errf(err, "%s: layout must be 0 or 1, got %lld", c->op, (long long)layout);
  c->layout = (int)layout;
  c->linear_before_reset = pare_attr_int(node, "linear_before_reset", 0) != 0;
  c->input_forget = pare_attr_int(node, "input_forget", 0) != 0;
  if (pare_node_attr(node, "clip")) {
    c->has_clip = 1;
    c->clip = pare_attr_float(node, "clip", 0);
    if (!(c->clip >= 0)) return pare_errf(err, "%s: clip must be >= 0, got %g", c->op, c->clip);
  }
  c->hidden_attr = pare_attr_int(node, "hidden_size", -1);
  if (pare_node_attr(node, "hidden_size") && c->hidden_attr <= 0)
    return pare_errf(err, "%s: hidden_size must be positive, got %lld", c->op,
                     (long long)c->hidden_attr);
  return parse_activations(node, c, err);
}

/* ------------------------------------------------------------ shapes */

/* Sizes of one node, -1 where not known (shape inference only). */
typedef struct rnn_dims {
  int64_t seq, batch, input, hidden;
} rnn_dims;

static const pare_tensor *opt_in(const pare_tensor *const *in, int n_in, int i) {
  return i < n_in ? in[i] : NULL;
}

/* Checks that tensor t (named `what`) has the given rank and that each known
 * dim equals the expected one (-1 in `want` accepts anything). */
static int check_dims(const rnn_config *c, const pare_tensor *t, const char *what, int rank,
                      const int64_t *want, pare_err *err) {
  if (t->shape.rank < 0) return PARE_OK;
  if (t->shape.rank != rank)
    return pare_errf(err, "%s: %s has rank %d, expected %d", c->op, what, t->shape.rank, rank);
  for (int i = 0; i < rank; i++) {
    int64_t got = t->shape.dims[i];
    if (got >= 0 && want[i] >= 0 && got != want[i]) {
      char s[128];
      pare_shape_str(&t->shape, s, sizeof s);
      return pare_errf(err, "%s: %s has shape %s, dim %d expected %lld", c->op, what, s, i,
                       (long long)want[i]);
    }
  }
  return PARE_OK;
}

static int64_t known_dim(const pare_tensor *t, int i) {
  return t->shape.rank > i ? t->shape.dims[i] : -1;
}

/* Reads and checks the shapes of every input; fills d. */
static int rnn_dims_get(const rnn_config *c, const pare_tensor *const *in, int n_in, rnn_dims *d,
                        pare_err *err) {
  for (int i = IN_X; i <= IN_R; i++)
    if (pare_need_input(in, n_in, i, err)) return pare_err_prefix(err, "%s", c->op);
  const pare_tensor *x = in[IN_X], *w = in[IN_W], *r = in[IN_R];
  if (x->dtype != PARE_F32 && x->dtype != PARE_F64)
    return pare_errf(err, "%s: unsupported dtype %s", c->op, pare_dtype_name(x->dtype));
  for (int i = IN_W; i < n_in && i <= IN_P; i++) {
    if (!in[i] || i == IN_SEQ_LENS) continue;
    if (c->kind != KIND_LSTM && i > IN_H0) break;
    if (in[i]->dtype != x->dtype)
      return pare_errf(err, "%s: input %d has dtype %s, X has %s", c->op, i,
                       pare_dtype_name(in[i]->dtype), pare_dtype_name(x->dtype));
  }
  if (x->shape.rank >= 0 && x->shape.rank != 3)
    return pare_errf(err, "%s: X has rank %d, expected 3", c->op, x->shape.rank);
  d->seq = known_dim(x, c->layout ? 1 : 0);
  d->batch = known_dim(x, c->layout ? 0 : 1);
  d->input = known_dim(x, 2);
  int64_t g = c->n_gates;
  d->hidden = c->hidden_attr;
  if (d->hidden < 0 && known_dim(w, 1) >= 0) d->hidden = known_dim(w, 1) / g;
  if (d->hidden < 0) d->hidden = known_dim(r, 2);
  int64_t gh = d->hidden >= 0 ? g * d->hidden : -1;

  int64_t wd[3] = {c->n_dirs, gh, d->input}, rd[3] = {c->n_dirs, gh, d->hidden};
  if (check_dims(c, w, "W", 3, wd, err) || check_dims(c, r, "R", 3, rd, err)) return PARE_ERR;
  const pare_tensor *b = opt_in(in, n_in, IN_B), *sl = opt_in(in, n_in, IN_SEQ_LENS);
  int64_t bd[2] = {c->n_dirs, gh >= 0 ? 2 * gh : -1};
  if (b && check_dims(c, b, "B", 2, bd, err)) return PARE_ERR;
  if (sl) {
    if (sl->dtype != PARE_I32 && sl->dtype != PARE_I64)
      return pare_errf(err, "%s: sequence_lens must be int32, got %s", c->op,
                       pare_dtype_name(sl->dtype));
    if (check_dims(c, sl, "sequence_lens", 1, &d->batch, err)) return PARE_ERR;
  }
  int64_t hd[3] = {c->n_dirs, d->batch, d->hidden};
  if (c->layout) hd[0] = d->batch, hd[1] = c->n_dirs;
  const pare_tensor *h0 = opt_in(in, n_in, IN_H0);
  if (h0 && check_dims(c, h0, "initial_h", 3, hd, err)) return PARE_ERR;
  if (c->kind == KIND_LSTM) {
    const pare_tensor *c0 = opt_in(in, n_in, IN_C0), *p = opt_in(in, n_in, IN_P);
    int64_t pd[2] = {c->n_dirs, d->hidden >= 0 ? 3 * d->hidden : -1};
    if (c0 && check_dims(c, c0, "initial_c", 3, hd, err)) return PARE_ERR;
    if (p && check_dims(c, p, "P", 2, pd, err)) return PARE_ERR;
  }
  return PARE_OK;
}

static int rnn_infer(rnn_kind kind, const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  rnn_config c;
  rnn_dims d;
  if (parse_config(node, kind, &c, err) || rnn_dims_get(&c, in, n_in, &d, err)) return PARE_ERR;
  int max_out = kind == KIND_LSTM ? 3 : 2;
  if (n_out > max_out)
    return pare_errf(err, "%s: %d outputs, at most %d allowed", c.op, n_out, max_out);
  int64_t y[4] = {d.seq, c.n_dirs, d.batch, d.hidden};
  int64_t yh[3] = {c.n_dirs, d.batch, d.hidden};
  if (c.layout) {
    y[0] = d.batch, y[1] = d.seq, y[2] = c.n_dirs;
    yh[0] = d.batch, yh[1] = c.n_dirs;
  }
  int known = d.seq >= 0 && d.batch >= 0 && d.hidden >= 0;
  for (int i = 0; i < n_out; i++) {
    out[i].dtype = in[IN_X]->dtype;
    out[i].shape = i == 0 ? pare_shape_make(4, y) : pare_shape_make(3, yh);
  }
  return known ? PARE_OK : PARE_UNKNOWN;
}

/* ------------------------------------------------------------------ eval */

/* Every input as a double array in layout 0, plus scratch for one step. */
typedef struct rnn_data {
  double *x;                        /* [seq][batch][input] */
  double *w;                        /* [dirs][gates*hidden][input] */
  double *r;                        /* [dirs][gates*hidden][hidden] */
  double *b;                        /* [dirs][2*gates*hidden], zero if absent */
  double *h0;                       /* [dirs][batch][hidden], zero if absent */
  double *c0;                       /* same, LSTM */
  double *p;                        /* [dirs][3*hidden], LSTM, zero if absent */
  int64_t *lens;                    /* [batch] */
  double *xw, *hr, *h, *cell, *tmp; /* scratch */
} rnn_data;

static void rnn_data_free(rnn_data *a) {
  free(a->x);
  free(a->w);
  free(a->r);
  free(a->b);
  free(a->h0);
  free(a->c0);
  free(a->p);
  free(a->lens);
  free(a->xw);
  free(a->hr);
  free(a->h);
  free(a->cell);
  free(a->tmp);
}

static double *dalloc(int64_t n) {
  return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

/* Copies t (or zeros if NULL) into a new double array of n elements. With
 * swap01 set, t is [d1][d0][rest] and the copy is [d0][d1][rest]. */
static double *read_f64(const pare_tensor *t, int64_t n, int swap01, int64_t d0, int64_t d1) {
  double *v = dalloc(n);
  if (!v || !t) return v;
  if (!swap01) {
    for (int64_t i = 0; i < n; i++) v[i] = pare_tensor_get_f64(t, i);
    return v;
  }
  int64_t rest = d0 && d1 ? n / (d0 * d1) : 0;
  for (int64_t i = 0; i < d0; i++)
    for (int64_t j = 0; j < d1; j++)
      for (int64_t k = 0; k < rest; k++)
        v[(i * d1 + j) * rest + k] = pare_tensor_get_f64(t, (j * d0 + i) * rest + k);
  return v;
}

static int rnn_data_load(const rnn_config *c, const rnn_dims *d, const pare_tensor *const *in,
                         int n_in, rnn_data *a, pare_err *err) {
  memset(a, 0, sizeof *a);
  int64_t nd = c->n_dirs, gh = c->n_gates * d->hidden, H = d->hidden, N = d->batch;
  int lay = c->layout;
  a->x = read_f64(in[IN_X], d->seq * N * d->input, lay, d->seq, N);
  a->w = read_f64(in[IN_W], nd * gh * d->input, 0, 0, 0);
  a->r = read_f64(in[IN_R], nd * gh * H, 0, 0, 0);
  a->b = read_f64(opt_in(in, n_in, IN_B), nd * 2 * gh, 0, 0, 0);
  a->h0 = read_f64(opt_in(in, n_in, IN_H0), nd * N * H, lay, nd, N);
  if (c->kind == KIND_LSTM) {
    a->c0 = read_f64(opt_in(in, n_in, IN_C0), nd * N * H, lay, nd, N);
    a->p = read_f64(opt_in(in, n_in, IN_P), nd * 3 * H, 0, 0, 0);
  }
  a->lens = malloc((size_t)(N > 0 ? N : 1) * sizeof *a->lens);
  a->xw = dalloc(gh);
  a->hr = dalloc(gh);
  a->h = dalloc(H);
  a->cell = dalloc(H);
  a->tmp = dalloc(H);
  if (!a->x || !a->w || !a->r || !a->b || !a->h0 || !a->lens || !a->xw || !a->hr || !a->h ||
      !a->cell || !a->tmp || (c->kind == KIND_LSTM && (!a->c0 || !a->p)))
    return pare_errf(err, "%s: out of memory", c->op);
  const pare_tensor *sl = opt_in(in, n_in, IN_SEQ_LENS);
  for (int64_t b = 0; b < N; b++) {
    a->lens[b] = sl ? pare_tensor_get_i64(sl, b) : d->seq;
    if (a->lens[b] < 0 || a->lens[b] > d->seq)
      return pare_errf(err, "%s: sequence_lens[%lld] = %lld outside [0, %lld]", c->op, (long long)b,
                       (long long)a->lens[b], (long long)d->seq);
  }
  return PARE_OK;
}

/* out[k] = sum_j m[k][j] * v[j] + bias[k] for k < rows. */
static void matvec(const double *m, const double *v, const double *bias, int64_t rows, int64_t cols,
                   double *out) {
  for (int64_t k = 0; k < rows; k++) {
    double s = bias[k];
    for (int64_t j = 0; j < cols; j++) s += m[k * cols + j] * v[j];
    out[k] = s;
  }
}

static double clipped(const rnn_config *c, double v) {
  if (!c->has_clip) return v;
  return v < -c->clip ? -c->clip : v > c->clip ? c->clip : v;
}

/* One time step of direction dir: a->xw = W x + Wb and a->hr = R h + Rb are
 * computed; updates a->h (and a->cell for LSTM) in place. */
static void rnn_cell(const rnn_config *c, const rnn_data *a, int dir, int64_t H) {
  const rnn_act *act = c->acts[dir];
  double *xw = a->xw, *hr = a->hr, *h = a->h;
  if (c->kind == KIND_RNN) {
    for (int64_t j = 0; j < H; j++) h[j] = act_apply(&act[0], clipped(c, xw[j] + hr[j]));
    return;
  }
  if (c->kind == KIND_GRU) {
    /* Gate rows z = [0:H], r = [H:2H], h~ = [2H:3H]. xw[H:2H] is overwritten
     * with the activated r; tmp holds h~ until z is known. */
    const double *rh = a->r + dir * 3 * H * H + 2 * H * H; /* Rh rows */
    const double *rbh = a->b + dir * 6 * H + 5 * H;
    for (int64_t j = 0; j < H; j++)
      xw[H + j] = act_apply(&act[0], clipped(c, xw[H + j] + hr[H + j]));
    for (int64_t j = 0; j < H; j++) {
      double rj = xw[H + j], pre;
      if (c->linear_before_reset) {
        pre = xw[2 * H + j] + rj * hr[2 * H + j];
      } else {
        double s = rbh[j];
        for (int64_t k = 0; k < H; k++) s += rh[j * H + k] * (xw[H + k] * h[k]);
        pre = xw[2 * H + j] + s;
      }
      a->tmp[j] = act_apply(&act[1], clipped(c, pre));
    }
    for (int64_t j = 0; j < H; j++) {
      double z = act_apply(&act[0], clipped(c, xw[j] + hr[j]));
      h[j] = (1 - z) * a->tmp[j] + z * h[j];
    }
    return;
  }
  /* LSTM: i = [0:H], o = [H:2H], f = [2H:3H], c~ = [3H:4H]; peepholes i, o, f. */
  const double *p = a->p + dir * 3 * H;
  double *cell = a->cell;
  for (int64_t j = 0; j < H; j++) {
    double i = act_apply(&act[0], clipped(c, xw[j] + hr[j] + p[j] * cell[j]));
    double f = c->input_forget
                   ? 1 - i
                   : act_apply(&act[0],
                               clipped(c, xw[2 * H + j] + hr[2 * H + j] + p[2 * H + j] * cell[j]));
    double g = act_apply(&act[1], clipped(c, xw[3 * H + j] + hr[3 * H + j]));
    cell[j] = f * cell[j] + i * g;
    double o = act_apply(&act[0], clipped(c, xw[H + j] + hr[H + j] + p[H + j] * cell[j]));
    h[j] = o * act_apply(&act[2], cell[j]);
  }
}

/* Element (t, dir, b, j) of Y: [seq][dirs][batch][H], or [batch][seq][dirs][H] with layout 1. */
static int64_t y_index(int layout, int64_t t, int64_t dir, int64_t b, int64_t j, int64_t seq,
                       int64_t nd, int64_t N, int64_t H) {
  if (layout) return ((b * seq + t) * nd + dir) * H + j;
  return ((t * nd + dir) * N + b) * H + j;
}

/* Element (dir, b, j) of Y_h / Y_c: [dirs][batch][H], or [batch][dirs][H] with layout 1. */
static int64_t yh_index(int layout, int64_t dir, int64_t b, int64_t j, int64_t nd, int64_t N,
                        int64_t H) {
  if (layout) return (b * nd + dir) * H + j;
  return (dir * N + b) * H + j;
}

static int rnn_eval(rnn_kind kind, const pare_node *node, const pare_tensor *const *in, int n_in,
                    pare_tensor *out, int n_out, pare_err *err) {
  rnn_config c;
  rnn_dims d;
  if (parse_config(node, kind, &c, err) || rnn_dims_get(&c, in, n_in, &d, err)) return PARE_ERR;
  if (d.seq < 0 || d.batch < 0 || d.input < 0 || d.hidden < 0)
    return pare_errf(err, "%s: input shapes not known", c.op);
  rnn_data a;
  if (rnn_data_load(&c, &d, in, n_in, &a, err)) {
    rnn_data_free(&a);
    return PARE_ERR;
  }
  int64_t H = d.hidden, N = d.batch, I = d.input, nd = c.n_dirs, gh = c.n_gates * H;
  for (int dir = 0; dir < nd; dir++) {
    int backward = c.reverse_only || dir == 1;
    const double *w = a.w + dir * gh * I, *r = a.r + dir * gh * H;
    const double *wb = a.b + dir * 2 * gh, *rb = wb + gh;
    for (int64_t b = 0; b < N; b++) {
      memcpy(a.h, a.h0 + (dir * N + b) * H, (size_t)H * sizeof(double));
      if (kind == KIND_LSTM) memcpy(a.cell, a.c0 + (dir * N + b) * H, (size_t)H * sizeof(double));
      int64_t len = a.lens[b];
      for (int64_t s = 0; s < len; s++) {
        int64_t t = backward ? len - 1 - s : s;
        matvec(w, a.x + (t * N + b) * I, wb, gh, I, a.xw);
        matvec(r, a.h, rb, gh, H, a.hr);
        rnn_cell(&c, &a, dir, H);
        if (n_out > 0)
          for (int64_t j = 0; j < H; j++)
            pare_tensor_set_f64(&out[0], y_index(c.layout, t, dir, b, j, d.seq, nd, N, H), a.h[j]);
      }
      for (int64_t j = 0; j < H; j++) {
        int64_t k = yh_index(c.layout, dir, b, j, nd, N, H);
        if (n_out > 1) pare_tensor_set_f64(&out[1], k, a.h[j]);
        if (n_out > 2) pare_tensor_set_f64(&out[2], k, a.cell[j]);
      }
    }
  }
  rnn_data_free(&a);
  return PARE_OK;
}

#define RNN_OP(name, kind)                                                                         \
  static int infer_##name(const pare_node *node, const pare_tensor *const *in, int n_in,           \
                          pare_tensor *out, int n_out, pare_err *err) {                            \
    return rnn_infer(kind, node, in, n_in, out, n_out, err);                                       \
  }                                                                                                \
  static int eval_##name(const pare_node *node, const pare_tensor *const *in, int n_in,            \
                         pare_tensor *out, int n_out, pare_err *err) {                             \
    return rnn_eval(kind, node, in, n_in, out, n_out, err);                                        \
  }

RNN_OP(rnn, KIND_RNN)
RNN_OP(gru, KIND_GRU)
RNN_OP(lstm, KIND_LSTM)

const pare_op_def pare_ops_rnn[] = {
    {"RNN", infer_rnn, eval_rnn},
    {"GRU", infer_gru, eval_gru},
    {"LSTM", infer_lstm, eval_lstm},
    {0, 0, 0},
};
