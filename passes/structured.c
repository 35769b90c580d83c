/*
 * structured.c - structured pruning: whole channels removed, layers smaller.
 *
 *   prune-channels<ratio=0.25;scope=layer;round=8;min-channels=8;
 *                  ops=conv+gemm+matmul;score=magnitude;score-consumers=1;layers=>
 *
 * Unlike `prune` (zeros stored sparse), this pass deletes output channels of
 * layers and the matching input channels of the layers that read them, so
 * the pruned model is an ordinary dense model with smaller shapes.
 *
 * Channel groups. A producer is a Conv with group 1, a Gemm with constant B
 * or a MatMul with a constant 2-D B (of the kinds `ops` names), its weight
 * f32, dense (no encoding) and its bias constant. Its output starts a group;
 * the nodes are walked in topological order and a node reading a value of a
 * group does one of:
 *   - pass it along (its output joins the group): elementwise ops (unary,
 *     Clip, binary and n-ary broadcasting ops) whose other operands are
 *     constants that are scalar or broadcast along the channel axis (a
 *     per-channel constant is sliced), values of groups (a residual Add or
 *     the SE Mul: the groups are united and must drop the same channels) or
 *     values whose channel dim is 1; BatchNormalization (its [C] params are
 *     sliced); Transpose, and Squeeze of size-1 axes (the channel axis
 *     moves; nothing to slice); depthwise Conv (group == C, weight [C,1,k...]: weight and
 *     bias sliced, group set to the new count); Global/Average/Max/LpPool;
 *   - end it as a consumer that reduces over the channel: Conv with group 1
 *     (W[:, keep, ...]), Gemm or MatMul with a constant weight (rows of B
 *     along K). A consumer can be a producer of its own group as well; an
 *     SE block's first conv is a consumer of the main group and its last
 *     conv a producer that joins the main group through the Mul;
 *   - concatenate it along the channel axis: a Concat whose inputs are all
 *     values of groups, each once, concatenated on their common channel
 *     axis. Its output is a composite value (pc_comp) whose channels are
 *     segments (group, offset); each group keeps deciding its own channels
 *     and the composite keeps the union of its segments' kept channels,
 *     each shifted by its offset. A composite may only be read, as input 0,
 *     by the consumers above (their input channels are sliced by that
 *     union) and counts as a consumer of each of its segments' groups;
 *     anything else reading it (pass-through ops included), a composite
 *     graph output, or one group in two segments makes all its groups
 *     unprunable;
 *   - anything else (graph output, Reshape, Transpose, Softmax, a Concat on
 *     another axis or of values from outside the groups, a non-constant
 *     weight, ops not listed, mismatched channel axes) makes the group
 *     unprunable: it is left alone and the reason recorded on its producers
 *     (decision "skipped").
 * The channel axis of a value is kept counted from the last axis, so that
 * numpy broadcasting (which aligns shapes on the right) keeps it aligned.
 *
 * With `layers` (node names joined by +), only the groups that one of the
 * named nodes produces or consumes are pruned (e.g. one classifier head).
 *
 * Channels kept: C - ratio * C rounded up to a multiple of `round` (the
 * backend's GEMM vectors are 8 wide), at least min-channels, at most C; a
 * group that would keep all C is left as it is.
 *
 * Scores (score_channels, one function so that other scores plug in):
 *   magnitude: per channel, the sum over the group's producers of the L2
 *   norm of that output channel's weights divided by the producer's mean
 *   channel norm (BN-folded layers' rows differ in scale by orders of
 *   magnitude; normalizing per producer makes producers of one group weigh
 *   the same), plus with score-consumers the same for the consumers' input
 *   channel columns (they see the per-channel scales the elementwise ops
 *   between apply; a consumer of a composite adds the columns of the
 *   group's segment, normalized over that segment). Highest scores stay;
 *   ties keep the lower channel.
 *   activation (needs --calib): channels go one at a time, each time the
 *   one whose removal costs the group's consumers the least output error
 *   on the calibration data after their remaining input columns are
 *   re-fitted by least squares (structured OBS from the consumers' input
 *   Gram matrices, passes/gram.h; see choose_calibrated). The re-fitted
 *   consumer weights are kept. A consumer of a composite is shared by the
 *   groups of its segments: its OBS state (weights and Hinv) persists
 *   across them, so each group, chosen in turn, re-fits the weights that
 *   the previous ones left with their removals already applied to Hinv.
 *   On the PP-OCRv4 recognizer at ratio 0.2 (32.2% of the FLOPs gone, the
 *   two groups of the neck's Concat and the head's, through Squeeze and
 *   Transpose, included; 31.3% without the head's, 29.8% without the
 *   Concat's either): CER 0.71% on held-out lines (0.58% without the
 *   head's group), against 100% with the magnitude score. The head's group
 *   alone (layers=p2o.MatMul.24) at ratio 0.5: 60 of linear_85's 120 input
 *   channels and 397,500 of its 795,000 weights gone, CER 0.32%.
 *
 * Rewriting: every sliced constant is a new constant <name>.pruned (shared
 * by the nodes of one group that read the same constant); the old ones go
 * with pare_graph_compact when nothing else reads them. The group's values
 * get the new channel count; the pass manager re-infers shapes.
 *
 * Per layer (--report): channels_before and channels_after on each producer
 * of a pruned group, or "skipped" with the reason. Counters (--stats):
 * channels removed, groups pruned, groups skipped, groups kept whole.
 */
#include "passes/gram.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

#include <lapacke.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OP_CONV = PARE_OP_CONV, OP_GEMM = PARE_OP_GEMM, OP_MATMUL = PARE_OP_MATMUL };
enum { SCORE_MAGNITUDE = 0, SCORE_ACTIVATION = 1 };

/* How a node passes a group along. */
enum { THRU_NONE = 0, THRU_ELEMWISE, THRU_BN, THRU_DEPTHWISE, THRU_POOL, THRU_LAYOUT };

typedef struct pc_opts {
  double ratio;
  int64_t round, min_channels;
  unsigned ops;
  int score;
  int score_consumers;
  const char *layers; /* "" or names joined by + */
} pc_opts;

typedef struct pc_group {
  int parent;         /* union-find */
  int64_t channels;   /* C */
  char why[200];      /* why the group is unprunable, "" if it is not */
  int64_t keep;       /* channels kept (decided on the root) */
  double calib_error; /* score=activation: relative output error of its consumers, or -1 */
  int64_t *kept;      /* their indices, ascending */
} pc_group;

/* A Concat output along the channel axis: segment i is group seg[i] at
 * channels off[i] .. off[i] + that group's channels. */
typedef struct pc_comp {
  int node; /* the Concat */
  int n_segs;
  int *seg;
  int64_t *off;
  int64_t channels; /* the sum */
  int64_t keep;     /* after choosing: the kept union, kept[0..keep) */
  int64_t *kept;    /* NULL if no segment is pruned */
} pc_comp;

typedef struct pc_node {
  int out_group;       /* group this node produces, -1 */
  int in_group;        /* group this node consumes on input 0, -1 */
  int in_comp;         /* composite this node consumes on input 0, -1 */
  int thru, thru_kind; /* group passed along and how, -1 / THRU_NONE */
  int prod_axis;       /* weight axis of the output channels */
  int cons_axis;       /* weight axis of the input channels */
} pc_node;

/* A constant sliced for one group (or two: a consumer that also produces).
 * r0/r1 name what slices: a group (>= 0), composite c (-2 - c) or nothing
 * (-1). */
typedef struct pc_slice {
  int v, r0, a0, r1, a1, out;
} pc_slice;

typedef struct pc_state {
  pare_graph *g;
  pare_gram *grams; /* score=activation: per node, its input statistics (h NULL if none) */
  int n_grams;
  pc_group *groups;
  int n_groups;
  int *vgroup; /* per value: its group, -1 */
  int *vaxis;  /* per value: the channel axis counted from the last */
  pc_node *nodes;
  pc_comp *comps;
  int n_comps;
  int *vcomp;                   /* per value: its composite, -1 */
  struct obs_consumer **shared; /* score=activation: per composite consumer, its OBS state */
  pc_slice *slices;
  int n_slices, cap_slices;
  int n_values; /* before the pass added constants: the ones vgroup covers */
} pc_state;

static const char *layer_name(const pare_graph *g, const pare_node *n) {
  if (n->name && n->name[0]) return n->name;
  return n->n_outputs > 0 && n->outputs[0] >= 0 ? g->values[n->outputs[0]]->name : "";
}

/* ------------------------------------------------------------- options */

static int parse_opts(const pare_opt_value *args, pc_opts *o, pare_err *err) {
  o->ratio = args[0].f;
  o->round = args[2].i;
  o->min_channels = args[3].i;
  o->score = strcmp(args[5].s, "activation") == 0 ? SCORE_ACTIVATION : SCORE_MAGNITUDE;
  o->score_consumers = args[6].i != 0;
  o->layers = args[7].s;
  if (!(o->ratio >= 0 && o->ratio < 1))
    return pare_errf(err, "option 'ratio' must be in [0, 1), not %g", o->ratio);
  if (strcmp(args[1].s, "layer") != 0)
    return pare_errf(err, "option 'scope': only 'layer' is implemented, not '%s'", args[1].s);
  if (o->round < 1)
    return pare_errf(err, "option 'round' must be >= 1, not %lld", (long long)o->round);
  if (o->min_channels < 1)
    return pare_errf(err, "option 'min-channels' must be >= 1, not %lld",
                     (long long)o->min_channels);
  return pare_pass_parse_ops(args[4].s, &o->ops, err);
}

/* ---------------------------------------------------------- union-find */

static int find(pc_state *st, int gi) {
  while (st->groups[gi].parent != gi) {
    st->groups[gi].parent = st->groups[st->groups[gi].parent].parent;
    gi = st->groups[gi].parent;
  }
  return gi;
}

/* Records why group gi cannot be pruned (the first reason stays). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
mark_bad(pc_state *st, int gi, const char *fmt, ...) {
  pc_group *G = &st->groups[find(st, gi)];
  if (G->why[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(G->why, sizeof G->why, fmt, ap);
  va_end(ap);
}

/* Unites groups a and b (they must drop the same channels); returns the root. */
static int unite(pc_state *st, int a, int b, const pare_node *n) {
  a = find(st, a), b = find(st, b);
  if (a == b) return a;
  pc_group *A = &st->groups[a], *B = &st->groups[b];
  if (A->channels != B->channels)
    mark_bad(st, a, "%s '%s' joins %lld and %lld channels", n->op, layer_name(st->g, n),
             (long long)A->channels, (long long)B->channels);
  if (!A->why[0] && B->why[0]) memcpy(A->why, B->why, sizeof A->why);
  B->parent = a;
  return a;
}

static int new_group(pc_state *st, int64_t channels) {
  pc_group *G = &st->groups[st->n_groups];
  memset(G, 0, sizeof *G);
  G->parent = st->n_groups;
  G->channels = channels;
  G->calib_error = -1;
  return st->n_groups++;
}

/* ------------------------------------------------------------ matching */

/* A constant with data that nothing outside the graph can replace. */
static int is_const(const pare_graph *g, int v) {
  if (v < 0) return 0;
  const pare_value *val = g->values[v];
  return val->init && val->init->data && !val->is_graph_input;
}

/* A dense f32 constant of the given rank (-1: rank >= 3): a weight. */
static int is_weight(const pare_graph *g, int v, int rank) {
  if (!is_const(g, v)) return 0;
  const pare_value *val = g->values[v];
  if (val->enc || val->init->dtype != PARE_F32 || val->is_graph_output) return 0;
  return rank < 0 ? val->init->shape.rank >= 3 : val->init->shape.rank == rank;
}

/* Only output 0 is used. */
static int single_output(const pare_graph *g, const pare_node *n) {
  if (n->n_outputs < 1 || n->outputs[0] < 0) return 0;
  for (int j = 1; j < n->n_outputs; j++)
    if (n->outputs[j] >= 0 && pare_graph_use_count(g, n->outputs[j]) > 0) return 0;
  return 1;
}

/* The rank of value v, -1 if unknown. */
static int rank_of(const pare_graph *g, int v) {
  return g->values[v]->shape.rank;
}

/* If node n is a producer, its output channel count and the weight axis
 * holding them; 0 otherwise. */
static int producer(const pare_graph *g, const pare_node *n, unsigned ops, int64_t *channels,
                    int *axis) {
  if (!single_output(g, n) || n->n_inputs < 2 || n->inputs[0] < 0) return 0;
  int w = n->inputs[1], b = n->n_inputs > 2 ? n->inputs[2] : -1;
  if (b >= 0 && !is_const(g, b)) return 0;
  if ((ops & OP_CONV) && pare_pass_is_op(n, "Conv")) {
    if (!is_weight(g, w, -1) || pare_attr_int(n, "group", 1) != 1) return 0;
    *axis = 0;
  } else if ((ops & OP_GEMM) && pare_pass_is_op(n, "Gemm")) {
    if (!is_weight(g, w, 2)) return 0;
    *axis = pare_attr_int(n, "transB", 0) ? 0 : 1;
  } else if ((ops & OP_MATMUL) && pare_pass_is_op(n, "MatMul")) {
    if (n->n_inputs != 2 || !is_weight(g, w, 2)) return 0;
    *axis = 1;
  } else {
    return 0;
  }
  *channels = g->values[w]->init->shape.dims[*axis];
  return *channels > 0;
}

/* If node n can consume the group of its input 0 (channel axis e from the
 * last, C channels), the weight axis of its input channels; -1 otherwise. */
static int consumer_axis(const pare_graph *g, const pare_node *n, int e, int64_t channels) {
  if (n->n_inputs < 2) return -1;
  int x = n->inputs[0], w = n->inputs[1], b = n->n_inputs > 2 ? n->inputs[2] : -1;
  if (b >= 0 && !is_const(g, b)) return -1;
  int axis;
  if (pare_pass_is_op(n, "Conv")) {
    if (!is_weight(g, w, -1) || pare_attr_int(n, "group", 1) != 1 || e != rank_of(g, x) - 2)
      return -1;
    axis = 1;
  } else if (pare_pass_is_op(n, "Gemm")) {
    if (!is_weight(g, w, 2) || e != (pare_attr_int(n, "transA", 0) ? 1 : 0)) return -1;
    axis = pare_attr_int(n, "transB", 0) ? 1 : 0;
  } else if (pare_pass_is_op(n, "MatMul")) {
    if (n->n_inputs != 2 || !is_weight(g, w, 2) || e != 0) return -1;
    axis = 0;
  } else {
    return -1;
  }
  return g->values[w]->init->shape.dims[axis] == channels ? axis : -1;
}

static int is_elementwise(const pare_node *n) {
  static const char *const ops[] = {
      "Abs",         "Acos",        "Acosh",      "Add",   "And",      "Asin",
      "Asinh",       "Atan",        "Atanh",      "Cast",  "Ceil",     "Celu",
      "Clip",        "Cos",         "Cosh",       "Div",   "Elu",      "Equal",
      "Erf",         "Exp",         "Floor",      "Gelu",  "Greater",  "GreaterOrEqual",
      "HardSigmoid", "HardSwish",   "Identity",   "IsInf", "IsNaN",    "LeakyRelu",
      "Less",        "LessOrEqual", "Log",        "Max",   "Mean",     "Min",
      "Mish",        "Mod",         "Mul",        "Neg",   "Not",      "Or",
      "Pow",         "PRelu",       "Reciprocal", "Relu",  "Round",    "Selu",
      "Sigmoid",     "Sign",        "Sin",        "Sinh",  "Softplus", "Softsign",
      "Sqrt",        "Sub",         "Sum",        "Tan",   "Tanh",     "ThresholdedRelu",
      "Where",       "Xor",
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (pare_pass_is_op(n, ops[i])) return 1;
  return 0;
}

static int is_pool(const pare_node *n) {
  return pare_pass_is_op(n, "GlobalAveragePool") || pare_pass_is_op(n, "GlobalMaxPool") ||
         pare_pass_is_op(n, "GlobalLpPool") || pare_pass_is_op(n, "AveragePool") ||
         pare_pass_is_op(n, "MaxPool") || pare_pass_is_op(n, "LpPool");
}

/* The size of value v's dim at channel axis e (from the last): 1 when v
 * has fewer axes (broadcast), -2 when its rank is unknown. */
static int64_t dim_at(const pare_graph *g, int v, int e) {
  const pare_shape *s = &g->values[v]->shape;
  if (s->rank < 0) return -2;
  return s->rank > e ? s->dims[s->rank - 1 - e] : 1;
}

/* Why an elementwise node with group inputs cannot pass them along (NULL:
 * it can); *e and *root get the channel axis and the united group. */
static const char *check_elementwise(pc_state *st, const pare_node *n, int *e, int *root) {
  const pare_graph *g = st->g;
  *e = -1, *root = -1;
  for (int i = 0; i < n->n_inputs; i++) {
    int v = n->inputs[i];
    if (v < 0 || st->vgroup[v] < 0) continue;
    if (*e >= 0 && st->vaxis[v] != *e) return "joins values whose channel axes differ";
    *e = st->vaxis[v];
    *root = *root < 0 ? find(st, st->vgroup[v]) : unite(st, *root, st->vgroup[v], n);
  }
  int64_t c = st->groups[*root].channels;
  for (int i = 0; i < n->n_inputs; i++) {
    int v = n->inputs[i];
    if (v < 0 || st->vgroup[v] >= 0) continue;
    int64_t d = dim_at(g, v, *e);
    if (d == 1) continue; /* broadcast along the channels: nothing to slice */
    if (d != c) return "mixes in a value whose channel dim does not match";
    if (!is_const(g, v)) return "mixes in a value from outside the group";
    if (g->values[v]->enc) return "reads a per-channel constant stored encoded";
  }
  if (dim_at(g, n->outputs[0], *e) != c) return "broadcasts the channel axis";
  return NULL;
}

/* Depthwise conv of a group of C channels on axis e (multiplier 1). */
static int is_depthwise(const pare_graph *g, const pare_node *n, int e, int64_t c) {
  if (!pare_pass_is_op(n, "Conv") || n->n_inputs < 2 || e != rank_of(g, n->inputs[0]) - 2) return 0;
  int w = n->inputs[1], b = n->n_inputs > 2 ? n->inputs[2] : -1;
  if (pare_attr_int(n, "group", 1) != c || !is_weight(g, w, -1)) return 0;
  const pare_shape *ws = &g->values[w]->init->shape;
  if (ws->dims[0] != c || ws->dims[1] != 1) return 0;
  return b < 0 || (is_const(g, b) && !g->values[b]->enc);
}

static int is_batchnorm(const pare_graph *g, const pare_node *n, int e, int64_t c) {
  if (!pare_pass_is_op(n, "BatchNormalization") || n->n_inputs != 5 ||
      e != rank_of(g, n->inputs[0]) - 2)
    return 0;
  for (int i = 1; i < 5; i++) {
    int v = n->inputs[i];
    if (!is_const(g, v) || g->values[v]->enc || pare_tensor_numel(g->values[v]->init) != c)
      return 0;
  }
  return 1;
}

/* Sets node k's output as passing group `root` along on axis e. */
static void pass_along(pc_state *st, int k, int root, int e, int kind) {
  const pare_node *n = st->g->nodes[k];
  st->nodes[k].thru = root;
  st->nodes[k].thru_kind = kind;
  st->vgroup[n->outputs[0]] = root;
  st->vaxis[n->outputs[0]] = e;
}

/* Why Concat node k cannot concatenate its inputs' channels (NULL: it can;
 * its output is then a new composite). */
static const char *concat_channels(pc_state *st, int k) {
  const pare_graph *g = st->g;
  const pare_node *n = g->nodes[k];
  int y = n->outputs[0], e = -1;
  int64_t total = 0;
  for (int i = 0; i < n->n_inputs; i++) {
    int v = n->inputs[i];
    if (v < 0 || st->vgroup[v] < 0) return "concatenates a value from outside the groups";
    for (int j = 0; j < i; j++)
      if (n->inputs[j] == v) return "concatenates one value twice";
    if (e >= 0 && st->vaxis[v] != e) return "joins values whose channel axes differ";
    e = st->vaxis[v];
    total += st->groups[find(st, st->vgroup[v])].channels;
  }
  int rank = rank_of(g, y);
  int64_t axis = pare_attr_int(n, "axis", 0);
  if (rank < 1) return "has an output of unknown shape";
  if (axis < 0) axis += rank;
  if (axis != rank - 1 - e) return "concatenates along another axis than the channels";
  if (dim_at(g, y, e) != total) return "has an output whose channel dim does not match";
  pc_comp *c = &st->comps[st->n_comps];
  c->seg = malloc((size_t)n->n_inputs * sizeof *c->seg);
  c->off = malloc((size_t)n->n_inputs * sizeof *c->off);
  if (!c->seg || !c->off) {
    free(c->seg), free(c->off);
    c->seg = NULL, c->off = NULL;
    return "could not be analyzed (out of memory)";
  }
  c->node = k;
  c->n_segs = n->n_inputs;
  c->channels = total;
  total = 0;
  for (int i = 0; i < n->n_inputs; i++) {
    c->seg[i] = st->vgroup[n->inputs[i]]; /* made roots after the walk */
    c->off[i] = total;
    total += st->groups[find(st, c->seg[i])].channels;
  }
  st->vcomp[y] = st->n_comps++;
  st->vaxis[y] = e;
  return NULL;
}

/* Makes every group of composite ci unprunable. */
static void mark_comp_bad(pc_state *st, int ci, const pare_node *n, const char *why) {
  const pc_comp *c = &st->comps[ci];
  for (int i = 0; i < c->n_segs; i++)
    mark_bad(st, c->seg[i], "%s '%s' %s", n->op, layer_name(st->g, n), why);
}

/* If node n (Transpose, or Squeeze of size-1 axes) moves the channel axis e
 * (from the last) of its input 0 without touching it, 1 and its axis in
 * the output in *ne (Squeeze: axes as a constant input, the canonical form). */
static int layout_axis(const pare_graph *g, const pare_node *n, int e, int *ne) {
  int x = n->inputs[0], y = n->outputs[0];
  int rin = rank_of(g, x), rout = rank_of(g, y), a = rin - 1 - e;
  if (rin < 1 || rout < 1 || a < 0) return 0;
  if (pare_pass_is_op(n, "Transpose")) {
    const int64_t *perm;
    int64_t np = pare_attr_ints(n, "perm", &perm);
    for (int j = 0; j < np && np == rout; j++)
      if (perm[j] == a) {
        *ne = rout - 1 - j;
        return 1;
      }
    return 0;
  }
  if (pare_pass_is_op(n, "Squeeze") && n->n_inputs == 2 && is_const(g, n->inputs[1])) {
    /* The channel axis moves by the dropped axes after it. */
    const pare_tensor *axes = g->values[n->inputs[1]]->init;
    int after = 0;
    for (int64_t i = 0; i < pare_tensor_numel(axes); i++) {
      int64_t d = pare_tensor_get_i64(axes, i);
      if (d < 0) d += rin;
      if (d == a) return 0;
      after += d > a;
    }
    *ne = e - after;
    return rout == rin - (int)pare_tensor_numel(axes);
  }
  return 0;
}

/* Classifies node k against the groups of its inputs. */
static void analyze_node(pc_state *st, int k, unsigned ops) {
  const pare_graph *g = st->g;
  const pare_node *n = g->nodes[k];
  pc_node *pn = &st->nodes[k];
  int first = -1, n_group_inputs = 0, n_comp_inputs = 0;
  for (int i = 0; i < n->n_inputs; i++) {
    if (n->inputs[i] >= 0 && st->vgroup[n->inputs[i]] >= 0) {
      if (first < 0) first = i;
      n_group_inputs++;
    }
    if (n->inputs[i] >= 0 && st->vcomp[n->inputs[i]] >= 0) n_comp_inputs++;
  }
  int64_t channels;
  int paxis;
  int is_producer = producer(g, n, ops, &channels, &paxis);

  if (n_comp_inputs > 0) {
    /* Only a consumer reading the composite alone on input 0. */
    int v = n->inputs[0], ci = v >= 0 ? st->vcomp[v] : -1;
    int caxis = ci >= 0 && n_comp_inputs == 1 && n_group_inputs == 0
                    ? consumer_axis(g, n, st->vaxis[v], st->comps[ci].channels)
                    : -1;
    if (caxis >= 0) {
      pn->in_comp = ci;
      pn->cons_axis = caxis;
    } else {
      for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0 && st->vcomp[n->inputs[i]] >= 0)
          mark_comp_bad(st, st->vcomp[n->inputs[i]], n, "reads a concatenation of channels");
    }
  }
  if (n_group_inputs > 0 && n_comp_inputs > 0) {
    for (int i = 0; i < n->n_inputs; i++)
      if (n->inputs[i] >= 0 && st->vgroup[n->inputs[i]] >= 0)
        mark_bad(st, st->vgroup[n->inputs[i]], "%s '%s' mixes it with a concatenation", n->op,
                 layer_name(g, n));
  } else if (n_group_inputs > 0) {
    int v = n->inputs[first];
    int root = find(st, st->vgroup[v]), e = st->vaxis[v];
    int64_t c = st->groups[root].channels;
    int caxis = first == 0 && n_group_inputs == 1 ? consumer_axis(g, n, e, c) : -1, ne = 0;
    const char *why = NULL;
    if (caxis >= 0) {
      pn->in_group = root;
      pn->cons_axis = caxis;
    } else if (!single_output(g, n)) {
      why = "uses more than one output";
    } else if (is_elementwise(n)) {
      why = check_elementwise(st, n, &e, &root);
      if (!why) pass_along(st, k, root, e, THRU_ELEMWISE);
    } else if (first == 0 && n_group_inputs == 1 && is_depthwise(g, n, e, c)) {
      pass_along(st, k, root, e, THRU_DEPTHWISE);
    } else if (first == 0 && n_group_inputs == 1 && is_batchnorm(g, n, e, c)) {
      pass_along(st, k, root, e, THRU_BN);
    } else if (first == 0 && n_group_inputs == 1 && is_pool(n) && e == rank_of(g, v) - 2) {
      pass_along(st, k, root, e, THRU_POOL);
    } else if (first == 0 && n_group_inputs == 1 && layout_axis(g, n, e, &ne)) {
      pass_along(st, k, root, ne, THRU_LAYOUT);
    } else if (pare_pass_is_op(n, "Concat")) {
      why = concat_channels(st, k);
    } else {
      why = "is read by it";
    }
    if (why)
      for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0 && st->vgroup[n->inputs[i]] >= 0)
          mark_bad(st, st->vgroup[n->inputs[i]], "%s '%s' %s", n->op, layer_name(g, n), why);
  }
  if (is_producer && pn->thru < 0) {
    pn->out_group = new_group(st, channels);
    pn->prod_axis = paxis;
    int y = n->outputs[0];
    st->vgroup[y] = pn->out_group;
    /* Conv: axis 1 of [N, C, ...]; Gemm/MatMul: the last. */
    st->vaxis[y] = pare_pass_is_op(n, "Conv") ? rank_of(g, y) - 2 : 0;
    if (rank_of(g, y) < 1 || st->vaxis[y] < 0 || dim_at(g, y, st->vaxis[y]) != channels)
      mark_bad(st, pn->out_group, "its output's shape is not known");
    if (pare_graph_use_count(g, y) == 0) mark_bad(st, pn->out_group, "its output is unused");
  }
}

static void analyze(pc_state *st, unsigned ops) {
  const pare_graph *g = st->g;
  for (int k = 0; k < g->n_nodes; k++)
    if (g->nodes[k]->op) analyze_node(st, k, ops);
  for (int i = 0; i < g->n_outputs; i++) {
    int v = g->outputs[i];
    if (v >= 0 && st->vgroup[v] >= 0)
      mark_bad(st, st->vgroup[v], "value '%s' is a graph output", g->values[v]->name);
    if (v >= 0 && st->vcomp[v] >= 0) {
      const pc_comp *c = &st->comps[st->vcomp[v]];
      for (int s = 0; s < c->n_segs; s++)
        mark_bad(st, c->seg[s], "value '%s' is a graph output", g->values[v]->name);
    }
  }
  /* The groups of a composite are united only now: one group in two
   * segments would have to drop the same channels in both (unsupported). */
  for (int ci = 0; ci < st->n_comps; ci++) {
    pc_comp *c = &st->comps[ci];
    for (int s = 0; s < c->n_segs; s++) c->seg[s] = find(st, c->seg[s]);
    for (int s = 0; s < c->n_segs; s++)
      for (int t = 0; t < s; t++)
        if (c->seg[s] == c->seg[t]) {
          mark_bad(st, c->seg[s], "Concat '%s' concatenates its channels twice",
                   layer_name(st->g, st->g->nodes[c->node]));
          break;
        }
  }
  for (int k = 0; k < g->n_nodes; k++) {
    pc_node *pn = &st->nodes[k];
    if (pn->out_group >= 0) pn->out_group = find(st, pn->out_group);
    if (pn->in_group >= 0) pn->in_group = find(st, pn->in_group);
    if (pn->thru >= 0) pn->thru = find(st, pn->thru);
  }
  for (int v = 0; v < g->n_values; v++)
    if (st->vgroup[v] >= 0) st->vgroup[v] = find(st, st->vgroup[v]);
}

/* ------------------------------------------------------------- scoring */

/* Where node k's input channels for group root start: 0 for a consumer of
 * the group, the segment's offset for a consumer of a composite holding it;
 * -1 if node k does not consume root. */
static int64_t consumer_offset(const pc_state *st, int k, int root) {
  const pc_node *pn = &st->nodes[k];
  if (pn->in_group == root) return 0;
  if (pn->in_comp < 0) return -1;
  const pc_comp *c = &st->comps[pn->in_comp];
  for (int s = 0; s < c->n_segs; s++)
    if (c->seg[s] == root) return c->off[s];
  return -1;
}

/* Adds to score[c] the L2 norm of slice off + c of weight t along `axis`
 * (c < len; len < 0: the whole axis), divided by the mean norm of those
 * slices (a layer whose slices are all zero adds nothing). */
static int add_norms(const pare_tensor *t, int axis, int64_t off, int64_t len, double *score,
                     pare_err *err) {
  const pare_shape *s = &t->shape;
  int64_t outer = 1, inner = 1, dim = s->dims[axis];
  if (len < 0) len = dim;
  for (int d = 0; d < axis; d++) outer *= s->dims[d];
  for (int d = axis + 1; d < s->rank; d++) inner *= s->dims[d];
  double *n2 = calloc((size_t)len, sizeof *n2);
  if (!n2) return pare_errf(err, "out of memory");
  const float *w = t->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t c = 0; c < len; c++)
      for (int64_t i = 0; i < inner; i++) {
        double x = w[(o * dim + off + c) * inner + i];
        n2[c] += x * x;
      }
  double mean = 0;
  for (int64_t c = 0; c < len; c++) mean += (n2[c] = sqrt(n2[c])) / (double)len;
  if (mean > 0 && isfinite(mean))
    for (int64_t c = 0; c < len; c++) score[c] += n2[c] / mean;
  free(n2);
  return PARE_OK;
}

/* The importance of each channel of group `root` (higher stays). This is
 * where other scores plug in: a calibration-aware score would, for each
 * consumer, weigh input channel c by its activation energy (the diagonal of
 * the consumer's input Gram matrix X^T X from passes/gram.h) times the norm
 * of the consumer's weight column c, or score channels by the output error
 * of dropping them, then re-fit the consumer's kept columns (least squares
 * on the Gram matrix) and fold the dropped channels' mean into its bias. */
static int score_channels(const pc_state *st, int root, const pc_opts *o, double *score,
                          pare_err *err) {
  const pare_graph *g = st->g;
  int64_t c = st->groups[root].channels;
  memset(score, 0, (size_t)c * sizeof *score);
  if (o->score != SCORE_MAGNITUDE) return pare_errf(err, "score not implemented");
  for (int k = 0; k < g->n_nodes; k++) {
    const pc_node *pn = &st->nodes[k];
    int64_t off = o->score_consumers ? consumer_offset(st, k, root) : -1;
    /* Only producers and consumers of the group have a weight input [1]:
     * other nodes (Relu, ...) may have one input (valgrind: uninitialised). */
    if (pn->out_group != root && off < 0) continue;
    const pare_tensor *w = g->values[g->nodes[k]->inputs[1]]->init;
    if (pn->out_group == root && add_norms(w, pn->prod_axis, 0, -1, score, err)) return PARE_ERR;
    if (off >= 0 && add_norms(w, pn->cons_axis, off, c, score, err)) return PARE_ERR;
  }
  return PARE_OK;
}

/* ------------------------------------------------- calibrated selection */

/* score=activation: channels are removed one at a time, each time the one
 * whose removal, with the consumers' remaining input columns re-fitted by
 * least squares on the calibration data, raises the consumers' output
 * error least (structured OBS, as in ZipLM / Optimal Brain Compression):
 * for a consumer y = W x with input Gram matrix H, removing the block S of
 * x (a channel: its kernel-window columns) costs
 *   err_S = trace(W_S (Hinv_SS)^-1 W_S^T)
 * and the optimal update is W -= W_S (Hinv_SS)^-1 Hinv_S:, Hinv -=
 * Hinv_:S (Hinv_SS)^-1 Hinv_S:. Errors of a group's consumers are added,
 * each divided by its own output energy trace(W H W^T) so that consumers of
 * very different scale weigh alike. The re-fitted weights are written back
 * into the consumers' constants (only consumers whose weight nothing else
 * reads), so the kept channels carry what the removed ones did. */
typedef struct obs_consumer {
  int node;
  int64_t outs, k, s; /* W is outs x k, k = channels * s */
  double *w, *hinv, scale;
  int writable;
} obs_consumer;

/* The consumer's weight as outs x k in the order of its input vector. */
static void consumer_matrix(const pare_tensor *t, int cons_axis, int64_t outs, int64_t k, double *w,
                            int to_tensor) {
  float *d = t->data;
  for (int64_t o = 0; o < outs; o++)
    for (int64_t j = 0; j < k; j++) {
      /* [O, C, k...] with cons_axis 1, or [C, O] with cons_axis 0 */
      int64_t at = cons_axis == 0 ? j * outs + o : o * k + j;
      if (to_tensor)
        d[at] = (float)w[o * k + j];
      else
        w[o * k + j] = d[at];
    }
}

static int consumer_open(pc_state *st, int node, obs_consumer *c, pare_err *err) {
  const pare_graph *g = st->g;
  const pare_node *n = g->nodes[node];
  const pare_gram *gr = &st->grams[node];
  const pare_tensor *t = g->values[n->inputs[1]]->init;
  c->node = node;
  c->k = gr->k;
  c->outs = pare_tensor_numel(t) / c->k;
  c->s = gr->k / dim_at(g, n->inputs[0], st->vaxis[n->inputs[0]]);
  c->writable = pare_graph_use_count(g, n->inputs[1]) == 1;
  c->w = malloc((size_t)(c->outs * c->k) * sizeof *c->w);
  c->hinv = malloc((size_t)(c->k * c->k) * sizeof *c->hinv);
  if (!c->w || !c->hinv) return pare_errf(err, "out of memory");
  consumer_matrix(t, st->nodes[node].cons_axis, c->outs, c->k, c->w, 0);
  /* Hinv of the damped Gram matrix (1% of its mean diagonal). */
  int64_t k = c->k;
  double mean = 0;
  for (int64_t j = 0; j < k; j++) mean += gr->h[j * k + j] / (double)k;
  if (!(mean > 0)) mean = 1;
  memcpy(c->hinv, gr->h, (size_t)(k * k) * sizeof *c->hinv);
  for (int64_t j = 0; j < k; j++) c->hinv[j * k + j] += 0.01 * mean;
  if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)k, c->hinv, (lapack_int)k) ||
      LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)k, c->hinv, (lapack_int)k))
    return pare_errf(err, "node '%s': its input Gram matrix is singular", layer_name(g, n));
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < i; j++) c->hinv[i * k + j] = c->hinv[j * k + i];
  /* Output energy trace(W H W^T), to weigh consumers alike. */
  double e = 0;
  for (int64_t o = 0; o < c->outs; o++) {
    const double *wo = c->w + o * k;
    for (int64_t i = 0; i < k; i++) {
      double hi = 0;
      for (int64_t j = 0; j < k; j++) hi += gr->h[i * k + j] * wo[j];
      e += wo[i] * hi;
    }
  }
  c->scale = e > 0 ? 1 / e : 0;
  return PARE_OK;
}

/* The inverse of the s x s block of Hinv at channel ch, into inv; 0 if
 * singular (the channel is then free to remove: it carries nothing). */
static int block_inverse(const obs_consumer *c, int64_t ch, double *inv) {
  int64_t s = c->s, k = c->k, b = ch * s;
  for (int64_t i = 0; i < s; i++)
    for (int64_t j = 0; j < s; j++) inv[i * s + j] = c->hinv[(b + i) * k + b + j];
  if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)s, inv, (lapack_int)s) ||
      LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', (lapack_int)s, inv, (lapack_int)s))
    return 0;
  for (int64_t i = 0; i < s; i++)
    for (int64_t j = 0; j < i; j++) inv[i * s + j] = inv[j * s + i];
  return 1;
}

/* err of removing channel ch from consumer c (unweighted). */
static double removal_error(const obs_consumer *c, int64_t ch, double *inv) {
  if (!block_inverse(c, ch, inv)) return 0;
  int64_t s = c->s, k = c->k, b = ch * s;
  double e = 0;
  for (int64_t o = 0; o < c->outs; o++) {
    const double *wo = c->w + o * k + b;
    for (int64_t i = 0; i < s; i++)
      for (int64_t j = 0; j < s; j++) e += wo[i] * inv[i * s + j] * wo[j];
  }
  return e;
}

/* Removes channel ch from c: updates W and Hinv (rows/columns of ch end
 * zero in W; Hinv keeps them but they are never chosen again). */
static int remove_channel(obs_consumer *c, int64_t ch, double *inv, pare_err *err) {
  int64_t s = c->s, k = c->k, b = ch * s;
  int ok = block_inverse(c, ch, inv);
  double *t = malloc((size_t)((c->outs > k ? c->outs : k) * s) * sizeof *t);
  double *hb = malloc((size_t)(s * k) * sizeof *hb);
  if (!t || !hb) {
    free(t), free(hb);
    return pare_errf(err, "out of memory");
  }
  for (int64_t i = 0; i < s; i++) memcpy(hb + i * k, c->hinv + (b + i) * k, (size_t)k * sizeof *hb);
  if (ok) {
    /* t = W_S inv (outs x s); W -= t Hinv_S: */
    for (int64_t o = 0; o < c->outs; o++)
      for (int64_t j = 0; j < s; j++) {
        double v = 0;
        for (int64_t i = 0; i < s; i++) v += c->w[o * k + b + i] * inv[i * s + j];
        t[o * s + j] = v;
      }
    for (int64_t o = 0; o < c->outs; o++)
      for (int64_t j = 0; j < s; j++)
        for (int64_t x = 0; x < k; x++) c->w[o * k + x] -= t[o * s + j] * hb[j * k + x];
    /* Hinv -= Hinv_:S inv Hinv_S: (symmetric) */
    for (int64_t x = 0; x < k; x++)
      for (int64_t j = 0; j < s; j++) {
        double v = 0;
        for (int64_t i = 0; i < s; i++) v += hb[i * k + x] * inv[i * s + j];
        t[x * s + j] = v;
      }
    for (int64_t x = 0; x < k; x++)
      for (int64_t j = 0; j < s; j++)
        for (int64_t y = 0; y < k; y++) c->hinv[x * k + y] -= t[x * s + j] * hb[j * k + y];
  }
  for (int64_t o = 0; o < c->outs; o++)
    for (int64_t i = 0; i < s; i++) c->w[o * k + b + i] = 0;
  for (int64_t i = 0; i < s; i++) c->hinv[(b + i) * k + b + i] = 1; /* keeps blocks invertible */
  free(t);
  free(hb);
  return PARE_OK;
}

/* Greedy calibrated selection for group root: writes the kept channels'
 * indices into order[0..keep) (ascending) and the re-fitted weights into
 * the consumers' constants. A consumer of a composite is shared with the
 * composite's other groups: its state is opened once (st->shared) and kept,
 * so that the groups chosen after this one re-fit what this one left, with
 * this one's removals already in Hinv (sequential OBS over the segments);
 * it is freed with the pass. Its channel ch of the group is its input
 * channel off + ch. */
static int choose_calibrated(pc_state *st, int root, int64_t keep, int64_t *order,
                             double *rel_error, pare_err *err) {
  pare_graph *g = st->g;
  int64_t C = st->groups[root].channels;
  int n = 0;
  obs_consumer *own = calloc((size_t)g->n_nodes + 1, sizeof *own);
  obs_consumer **cs = calloc((size_t)g->n_nodes + 1, sizeof *cs);
  int64_t *off = calloc((size_t)g->n_nodes + 1, sizeof *off);
  char *gone = calloc((size_t)C, 1);
  double *score = malloc((size_t)C * sizeof *score);
  double *inv = NULL;
  int rc = own && cs && off && gone && score ? PARE_OK : pare_errf(err, "out of memory");
  int64_t max_s = 1;
  double total = 0; /* sum over removals of the consumers' relative squared errors */
  for (int k = 0; rc == PARE_OK && k < g->n_nodes; k++) {
    int64_t o = g->nodes[k]->op ? consumer_offset(st, k, root) : -1;
    if (o < 0) continue;
    if (!st->grams[k].h) {
      rc = pare_errf(err, "node '%s': no input statistics", layer_name(g, g->nodes[k]));
      break;
    }
    off[n] = o;
    if (st->nodes[k].in_comp < 0) {
      cs[n] = &own[n];
      rc = consumer_open(st, k, cs[n], err);
    } else if (!st->shared[k]) {
      cs[n] = st->shared[k] = calloc(1, sizeof *cs[n]);
      rc = cs[n] ? consumer_open(st, k, cs[n], err) : pare_errf(err, "out of memory");
    } else {
      cs[n] = st->shared[k];
    }
    if (rc == PARE_OK && cs[n]->s > max_s) max_s = cs[n]->s;
    n++;
  }
  if (rc == PARE_OK) inv = malloc((size_t)(max_s * max_s) * sizeof *inv);
  if (rc == PARE_OK && !inv) rc = pare_errf(err, "out of memory");
  for (int64_t removed = 0; rc == PARE_OK && removed < C - keep; removed++) {
    int64_t best = -1;
    for (int64_t ch = 0; ch < C; ch++) {
      if (gone[ch]) continue;
      double e = 0;
      for (int i = 0; i < n; i++) e += cs[i]->scale * removal_error(cs[i], off[i] + ch, inv);
      score[ch] = isnan(e) ? INFINITY : e;
      if (best < 0 || score[ch] < score[best]) best = ch;
    }
    gone[best] = 1;
    total += score[best];
    for (int i = 0; rc == PARE_OK && i < n; i++)
      rc = remove_channel(cs[i], off[i] + best, inv, err);
  }
  /* Each consumer's squared error relative to its output energy adds up
   * over the removals (the re-fit is exact for the calibration data):
   * the root mean over consumers is the typical relative output error. */
  *rel_error = n > 0 ? sqrt(fmax(total, 0) / n) : 0;
  int64_t at = 0;
  for (int64_t ch = 0; rc == PARE_OK && ch < C; ch++)
    if (!gone[ch]) order[at++] = ch;
  for (int i = 0; rc == PARE_OK && i < n; i++)
    if (cs[i]->writable) {
      const pare_node *nd = g->nodes[cs[i]->node];
      consumer_matrix(g->values[nd->inputs[1]]->init, st->nodes[cs[i]->node].cons_axis, cs[i]->outs,
                      cs[i]->k, cs[i]->w, 1);
    }
  for (int i = 0; own && i < g->n_nodes; i++) free(own[i].w), free(own[i].hinv);
  free(own);
  free(cs);
  free(off);
  free(gone);
  free(score);
  free(inv);
  return rc;
}

/* ------------------------------------------------------------ deciding */

static int64_t channels_kept(int64_t c, const pc_opts *o) {
  double want = (double)c - o->ratio * (double)c;
  /* The slack keeps 0.9 * 240 = 216 (not 216.00000000000003) at 216. */
  int64_t keep = (int64_t)ceil(want / (double)o->round - 1e-9) * o->round;
  if (keep < o->min_channels) keep = o->min_channels;
  if (keep > c) keep = c;
  return keep < 1 ? 1 : keep;
}

/* Scores, for sorting: NaN counts as largest so NaN channels stay. */
static const double *sort_scores;

static int by_score_desc(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  double sa = isnan(sort_scores[a]) ? INFINITY : sort_scores[a];
  double sb = isnan(sort_scores[b]) ? INFINITY : sort_scores[b];
  if (sa != sb) return sa > sb ? -1 : 1;
  return a < b ? -1 : a > b;
}

static int by_index(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  return a < b ? -1 : a > b;
}

/* Chooses the channels group `root` keeps. */
static int choose(pc_state *st, int root, const pc_opts *o, pare_err *err) {
  pc_group *G = &st->groups[root];
  int64_t c = G->channels;
  G->keep = channels_kept(c, o);
  if (G->keep >= c) return PARE_OK;
  double *score = malloc((size_t)c * sizeof *score);
  int64_t *order = malloc((size_t)c * sizeof *order);
  if (!score || !order) {
    free(score), free(order);
    return pare_errf(err, "out of memory");
  }
  if (o->score == SCORE_ACTIVATION) {
    int rc = choose_calibrated(st, root, G->keep, order, &G->calib_error, err);
    free(score);
    if (rc)
      free(order);
    else
      G->kept = order;
    return rc;
  }
  if (score_channels(st, root, o, score, err)) {
    free(score), free(order);
    return PARE_ERR;
  }
  for (int64_t i = 0; i < c; i++) order[i] = i;
  sort_scores = score;
  qsort(order, (size_t)c, sizeof *order, by_score_desc);
  qsort(order, (size_t)G->keep, sizeof *order, by_index);
  free(score);
  G->kept = order;
  return PARE_OK;
}

/* ----------------------------------------------------------- rewriting */

/* A copy of t keeping indices idx[0..n) along axis. */
static pare_tensor *slice_axis(const pare_tensor *t, int axis, const int64_t *idx, int64_t n,
                               pare_err *err) {
  pare_shape s = t->shape;
  int64_t outer = 1, inner = 1, dim = s.dims[axis];
  for (int d = 0; d < axis; d++) outer *= s.dims[d];
  for (int d = axis + 1; d < s.rank; d++) inner *= s.dims[d];
  s.dims[axis] = n;
  pare_tensor *out = pare_tensor_new(t->dtype, &s, err);
  if (!out) return NULL;
  size_t esz = pare_dtype_size(t->dtype), run = (size_t)inner * esz;
  const char *src = t->data;
  char *dst = out->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < n; j++)
      memcpy(dst + (size_t)(o * n + j) * run, src + (size_t)(o * dim + idx[j]) * run, run);
  return out;
}

/* Constant v sliced along axis a0 by r0's kept channels and along a1 by
 * r1's (a group, composite -2 - c, or -1: not sliced there): a new constant
 * <v>.pruned, made once per distinct slicing. */
static int sliced(pc_state *st, int v, int a0, int r0, int a1, int r1, pare_err *err) {
  for (int i = 0; i < st->n_slices; i++) {
    const pc_slice *s = &st->slices[i];
    if (s->v == v && s->a0 == a0 && s->r0 == r0 && s->a1 == a1 && s->r1 == r1) return s->out;
  }
  pare_graph *g = st->g;
  pare_tensor *t = pare_tensor_clone(g->values[v]->init, err);
  const int ax[2] = {a0, a1}, rs[2] = {r0, r1};
  for (int i = 0; i < 2 && t; i++) {
    if (rs[i] == -1) continue;
    const pc_group *G = rs[i] >= 0 ? &st->groups[rs[i]] : NULL;
    const pc_comp *c = rs[i] >= 0 ? NULL : &st->comps[-2 - rs[i]];
    pare_tensor *u = G ? slice_axis(t, ax[i], G->kept, G->keep, err)
                       : slice_axis(t, ax[i], c->kept, c->keep, err);
    pare_tensor_free(t);
    t = u;
  }
  if (!t) return PARE_ERR;
  char *name = pare_pass_unique_name(g, g->values[v]->name, ".pruned");
  int out = name ? pare_graph_add_const(g, name, t, err) : pare_errf(err, "out of memory");
  if (!name) pare_tensor_free(t);
  free(name);
  if (out < 0) return PARE_ERR;
  if (st->n_slices == st->cap_slices) {
    int cap = st->cap_slices ? 2 * st->cap_slices : 64;
    pc_slice *ns = realloc(st->slices, (size_t)cap * sizeof *ns);
    if (!ns) return pare_errf(err, "out of memory");
    st->slices = ns, st->cap_slices = cap;
  }
  st->slices[st->n_slices++] = (pc_slice){v, r0, a0, r1, a1, out};
  return out;
}

static int pruned(const pc_state *st, int root) {
  return root >= 0 && st->groups[root].kept != NULL;
}

/* Replaces input i of node k by its slice along axis a of group root. */
static int slice_input(pc_state *st, int k, int i, int a, int root, pare_err *err) {
  int v = sliced(st, st->g->nodes[k]->inputs[i], a, root, -1, -1, err);
  if (v < 0) return PARE_ERR;
  st->g->nodes[k]->inputs[i] = v;
  return PARE_OK;
}

/* The per-channel constants of elementwise node k (channel axis e). */
static int rewrite_elementwise(pc_state *st, int k, int root, pare_err *err) {
  const pare_node *n = st->g->nodes[k];
  int e = st->vaxis[n->outputs[0]];
  int64_t c = st->groups[root].channels;
  for (int i = 0; i < n->n_inputs; i++) {
    int v = n->inputs[i];
    if (v < 0 || v >= st->n_values || st->vgroup[v] >= 0 || dim_at(st->g, v, e) != c) continue;
    if (slice_input(st, k, i, rank_of(st->g, v) - 1 - e, root, err)) return PARE_ERR;
  }
  return PARE_OK;
}

static int rewrite_node(pc_state *st, int k, pare_err *err) {
  pare_node *n = st->g->nodes[k];
  const pc_node *pn = &st->nodes[k];
  int out = pruned(st, pn->out_group) ? pn->out_group : -1;
  int in = pruned(st, pn->in_group) ? pn->in_group : -1;
  if (pn->in_comp >= 0 && st->comps[pn->in_comp].kept) in = -2 - pn->in_comp;
  if (out >= 0 || in != -1) {
    int w = sliced(st, n->inputs[1], pn->prod_axis, out, pn->cons_axis, in, err);
    if (w < 0) return PARE_ERR;
    n->inputs[1] = w;
    int b = n->n_inputs > 2 ? n->inputs[2] : -1;
    if (out >= 0 && b >= 0) {
      /* Conv: b[CO]; Gemm: C broadcasts to [M, N], N last. */
      int brank = rank_of(st->g, b);
      int64_t d = dim_at(st->g, b, 0);
      if (pare_pass_is_op(n, "Conv") && slice_input(st, k, 2, 0, out, err)) return PARE_ERR;
      if (pare_pass_is_op(n, "Gemm") && d == st->groups[out].channels && brank >= 1 &&
          slice_input(st, k, 2, brank - 1, out, err))
        return PARE_ERR;
    }
  }
  int root = pn->thru;
  if (!pruned(st, root)) return PARE_OK;
  switch (pn->thru_kind) {
  case THRU_ELEMWISE:
    return rewrite_elementwise(st, k, root, err);
  case THRU_BN:
    for (int i = 1; i < 5; i++)
      if (slice_input(st, k, i, rank_of(st->g, n->inputs[i]) - 1, root, err)) return PARE_ERR;
    return PARE_OK;
  case THRU_DEPTHWISE:
    if (slice_input(st, k, 1, 0, root, err)) return PARE_ERR;
    if (n->n_inputs > 2 && n->inputs[2] >= 0 && slice_input(st, k, 2, 0, root, err))
      return PARE_ERR;
    return pare_node_set_int(n, "group", st->groups[root].keep, err);
  default:
    return PARE_OK;
  }
}

/* ------------------------------------------------------------- the pass */

static void record(pc_state *st, pare_pass_ctx *ctx, int64_t *removed, int64_t *n_pruned,
                   int64_t *skipped, int64_t *whole) {
  const pare_graph *g = st->g;
  for (int r = 0; r < st->n_groups; r++) {
    const pc_group *G = &st->groups[r];
    if (G->parent != r) continue;
    if (G->why[0])
      (*skipped)++;
    else if (G->kept)
      (*n_pruned)++, *removed += G->channels - G->keep;
    else
      (*whole)++;
    for (int k = 0; k < g->n_nodes; k++) {
      if (st->nodes[k].out_group != r) continue;
      const char *name = layer_name(g, g->nodes[k]);
      if (G->why[0]) {
        pare_pass_decide_str(ctx, name, "skipped", G->why);
        continue;
      }
      pare_pass_decide(ctx, name, "channels_before", (double)G->channels);
      pare_pass_decide(ctx, name, "channels_after", (double)(G->kept ? G->keep : G->channels));
      if (G->kept && G->calib_error >= 0)
        pare_pass_decide(ctx, name, "calib_output_error", G->calib_error);
    }
  }
}

/* The values of pruned groups and composites get the new channel count. */
static void update_shapes(pc_state *st) {
  for (int v = 0; v < st->n_values; v++) {
    int r = st->vgroup[v], ci = st->vcomp[v];
    int64_t from, to;
    if (pruned(st, r))
      from = st->groups[r].channels, to = st->groups[r].keep;
    else if (ci >= 0 && st->comps[ci].kept)
      from = st->comps[ci].channels, to = st->comps[ci].keep;
    else
      continue;
    pare_shape *s = &st->g->values[v]->shape;
    int axis = s->rank - 1 - st->vaxis[v];
    if (axis >= 0 && s->dims[axis] == from) s->dims[axis] = to;
  }
}

/* Composite ci's kept channels: each segment's group's, at its offset (all
 * of them for a group not pruned); NULL if no segment is pruned. */
static int comp_kept(pc_state *st, int ci, pare_err *err) {
  pc_comp *c = &st->comps[ci];
  int any = 0;
  for (int s = 0; s < c->n_segs; s++) any |= pruned(st, c->seg[s]);
  if (!any) return PARE_OK;
  c->kept = malloc((size_t)c->channels * sizeof *c->kept);
  if (!c->kept) return pare_errf(err, "out of memory");
  c->keep = 0;
  for (int s = 0; s < c->n_segs; s++) {
    const pc_group *G = &st->groups[c->seg[s]];
    for (int64_t j = 0; j < (G->kept ? G->keep : G->channels); j++)
      c->kept[c->keep++] = c->off[s] + (G->kept ? G->kept[j] : j);
  }
  return PARE_OK;
}

/* Name is one of the +-joined names in list. */
/* With `layers`, only the groups one of whose producers or consumers it
 * names are pruned. */
static int selected(const pc_state *st, int root, const pc_opts *o) {
  if (!o->layers[0]) return 1;
  for (int k = 0; k < st->g->n_nodes; k++) {
    const pare_node *n = st->g->nodes[k];
    if (n->op && (st->nodes[k].out_group == root || consumer_offset(st, k, root) >= 0) &&
        pare_pass_name_in_list(o->layers, layer_name(st->g, n)))
      return 1;
  }
  return 0;
}

/* score=activation: the input statistics of every consumer of a prunable
 * group, in one calibration run. */
static int collect_stats(pc_state *st, const pc_opts *o, const pare_calib *calib, pare_err *err) {
  pare_graph *g = st->g;
  if (!calib)
    return pare_errf(err, "option 'score=activation' needs calibration data (--calib DIR)");
  int *nodes = malloc(((size_t)g->n_nodes + 1) * sizeof *nodes);
  pare_gram *grams = calloc((size_t)g->n_nodes + 1, sizeof *grams);
  st->grams = calloc((size_t)g->n_nodes + 1, sizeof *st->grams);
  st->n_grams = g->n_nodes;
  int n = 0, rc = nodes && grams && st->grams ? PARE_OK : pare_errf(err, "out of memory");
  for (int k = 0; rc == PARE_OK && k < g->n_nodes; k++) {
    if (!g->nodes[k]->op) continue;
    int r = st->nodes[k].in_group, ci = st->nodes[k].in_comp, want = 0;
    if (r >= 0) want = !st->groups[find(st, r)].why[0] && selected(st, find(st, r), o);
    for (int s = 0; ci >= 0 && s < st->comps[ci].n_segs; s++)
      want |= !st->groups[st->comps[ci].seg[s]].why[0] && selected(st, st->comps[ci].seg[s], o);
    if (want) nodes[n++] = k;
  }
  if (rc == PARE_OK) rc = pare_gram_collect(calib, g, nodes, n, grams, err);
  for (int i = 0; rc == PARE_OK && i < n; i++) {
    st->grams[nodes[i]] = grams[i];
    grams[i].h = NULL;
  }
  pare_gram_free(grams, n);
  free(grams);
  free(nodes);
  return rc;
}

static int run_pass(pc_state *st, const pc_opts *o, pare_pass_ctx *ctx, int *changed,
                    pare_err *err) {
  pare_graph *g = st->g;
  analyze(st, o->ops);
  if (o->score == SCORE_ACTIVATION && collect_stats(st, o, pare_pass_calib(ctx), err))
    return PARE_ERR;
  int any = 0;
  for (int r = 0; r < st->n_groups; r++) {
    if (st->groups[r].parent != r || st->groups[r].why[0] || !selected(st, r, o)) continue;
    if (choose(st, r, o, err)) return PARE_ERR;
    any |= st->groups[r].kept != NULL;
  }
  for (int ci = 0; ci < st->n_comps; ci++)
    if (comp_kept(st, ci, err)) return PARE_ERR;
  const int n_nodes = g->n_nodes; /* rewriting adds constants, not nodes */
  for (int k = 0; k < n_nodes && any; k++)
    if (g->nodes[k]->op && rewrite_node(st, k, err))
      return pare_err_prefix(err, "node '%s' (%s)", layer_name(g, g->nodes[k]), g->nodes[k]->op);
  int64_t removed = 0, n_pruned = 0, skipped = 0, whole = 0;
  record(st, ctx, &removed, &n_pruned, &skipped, &whole);
  pare_pass_stat(ctx, "channels removed", removed);
  pare_pass_stat(ctx, "groups pruned", n_pruned);
  pare_pass_stat(ctx, "groups skipped", skipped);
  pare_pass_stat(ctx, "groups kept whole", whole);
  if (!any) return PARE_OK;
  update_shapes(st);
  *changed = 1;
  /* The old constants go once nothing reads them. */
  return pare_graph_compact(g, err);
}

static int run_prune_channels(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx,
                              int *changed, pare_err *err) {
  pc_opts o = {0};
  if (parse_opts(args, &o, err)) return PARE_ERR;
  pc_state st = {.g = g, .n_values = g->n_values};
  const int n_nodes = g->n_nodes; /* st.shared's length, whatever compacting does */
  st.groups = calloc((size_t)g->n_nodes + 1, sizeof *st.groups);
  st.vgroup = malloc(((size_t)g->n_values + 1) * sizeof *st.vgroup);
  st.vaxis = calloc((size_t)g->n_values + 1, sizeof *st.vaxis);
  st.nodes = malloc(((size_t)g->n_nodes + 1) * sizeof *st.nodes);
  st.comps = calloc((size_t)g->n_nodes + 1, sizeof *st.comps);
  st.vcomp = malloc(((size_t)g->n_values + 1) * sizeof *st.vcomp);
  st.shared = calloc((size_t)g->n_nodes + 1, sizeof *st.shared);
  int rc = PARE_OK;
  if (!st.groups || !st.vgroup || !st.vaxis || !st.nodes || !st.comps || !st.vcomp || !st.shared) {
    rc = pare_errf(err, "out of memory");
  } else {
    for (int v = 0; v < g->n_values; v++) st.vgroup[v] = st.vcomp[v] = -1;
    for (int k = 0; k < g->n_nodes; k++)
      st.nodes[k] = (pc_node){.out_group = -1, .in_group = -1, .in_comp = -1, .thru = -1};
    rc = run_pass(&st, &o, ctx, changed, err);
  }
  for (int r = 0; st.groups && r < st.n_groups; r++) free(st.groups[r].kept);
  for (int c = 0; st.comps && c < st.n_comps; c++)
    free(st.comps[c].seg), free(st.comps[c].off), free(st.comps[c].kept);
  for (int k = 0; st.shared && k < n_nodes; k++)
    if (st.shared[k]) free(st.shared[k]->w), free(st.shared[k]->hinv), free(st.shared[k]);
  free(st.comps);
  free(st.vcomp);
  free(st.shared);
  if (st.grams) pare_gram_free(st.grams, st.n_grams);
  free(st.grams);
  free(st.groups);
  free(st.vgroup);
  free(st.vaxis);
  free(st.nodes);
  free(st.slices);
  return rc;
}

/* ------------------------------------------------------------- registry */

static const pare_pass_option prune_channels_options[] = {
    {"ratio", PARE_OPT_FLOAT, "0.25", NULL,
     "fraction of each channel group's channels removed, in [0, 1)"},
    {"scope", PARE_OPT_STRING, "layer", NULL, "layer: each group loses `ratio` of its channels"},
    {"round", PARE_OPT_INT, "8", NULL, "keep a multiple of this many channels (>= 1)"},
    {"min-channels", PARE_OPT_INT, "8", NULL, "keep at least this many channels (>= 1)"},
    {"ops", PARE_OPT_STRING, "conv+gemm+matmul", NULL,
     "whose output channels: conv, gemm, matmul, joined by +"},
    {"score", PARE_OPT_STRING, "magnitude", "magnitude|activation",
     "channel importance: normalized weight norms, or calibration-aware (needs --calib)"},
    {"score-consumers", PARE_OPT_BOOL, "1", NULL,
     "add the consumers' normalized input-channel norms to the magnitude score"},
    {"layers", PARE_OPT_STRING, "", NULL,
     "only the groups produced or consumed by these nodes (names joined by +; empty: all)"},
    {NULL, 0, NULL, NULL, NULL},
};

const pare_pass_info pare_passes_structured[] = {
    {"prune-channels",
     "structured pruning: remove whole output channels of conv/gemm/matmul and the consumers' "
     "input channels",
     prune_channels_options, run_prune_channels},
    {NULL, NULL, NULL, NULL},
};
