/*
 * emit_fused.c - fusion of elementwise chains.
 *
 * Grouping (cg_fuse). Walking the nodes in order, an elementwise f32 node
 * joins the group whose output it reads when its own output has the same
 * shape; otherwise it starts a group. A Conv, Gemm or MatMul starts a group
 * as its "anchor": the members then run in the anchor's store epilogue, on
 * the accumulators, before anything reaches memory. A group is kept only
 * while no value inside it is read from outside (else it is cut there), so
 * its intermediate values never exist in memory. BatchNormalization with
 * constant statistics is a member like any other (a per-channel multiply-add).
 *
 * Memory planning sees the result as a "planning graph" that shares the
 * source graph's values: each group is one node at the position of its last
 * member, reading the group's external inputs and writing its output; the
 * other nodes of the group are dead (op NULL), so their outputs need no
 * memory. Codegen emits kernels for the planning graph's live nodes.
 *
 * Evaluation. A group's operands are its members' inputs from outside the
 * group (constant scalars become immediates) and, for each BatchNorm, two
 * per-channel constant tensors. A standalone group runs as one broadcasting
 * elementwise loop (ew_emit_loop). An anchored group is evaluated at each
 * store of the anchor's kernel, which views its output as [B, R, P] (conv:
 * batch, channel, spatial; matmul: batch, row, column): every operand must
 * then be addressable as b*sB + r*sR + p*sP with sP 0 or 1, checked when the
 * group is formed.
 */
#include "backend/cg.h"
#include "backend/emit.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- grouping */

static const char *const fusable_ops[] = {"Add",     "Sub",         "Mul",
                                          "Div",     "Relu",        "LeakyRelu",
                                          "Sigmoid", "HardSigmoid", "HardSwish",
                                          "Clip",    "Tanh",        "Elu",
                                          "Selu",    "Softplus",    "Neg",
                                          "Abs",     "Sqrt",        "Reciprocal",
                                          "Pow",     "Max",         "Min",
                                          "Exp",     "Log",         "Erf",
                                          "Gelu",    "PRelu",       "BatchNormalization",
                                          NULL};

static int is_default_domain(const pare_node *n) {
  return !n->domain || !n->domain[0];
}

static int op_in(const char *op, const char *const *list) {
  for (; *list; list++)
    if (strcmp(op, *list) == 0) return 1;
  return 0;
}

static int is_anchor_op(const char *op) {
  return strcmp(op, "Conv") == 0 || strcmp(op, "Gemm") == 0 || strcmp(op, "MatMul") == 0;
}

/* Inputs that are operands of the member (BatchNorm's statistics are not:
 * they become two per-channel constants). */
static int member_operands(const pare_node *n) {
  return strcmp(n->op, "BatchNormalization") == 0 ? 1 : n->n_inputs;
}

static int is_fusable(const pare_graph *g, const pare_node *n) {
  if (!n->op || !is_default_domain(n) || !op_in(n->op, fusable_ops)) return 0;
  if (n->n_outputs != 1 || n->outputs[0] < 0) return 0;
  if (g->values[n->outputs[0]]->dtype != PARE_F32) return 0;
  for (int i = 0; i < n->n_inputs; i++) {
    int v = n->inputs[i];
    if (v < 0) {
      if (i == 0) return 0;
      continue;
    }
    if (g->values[v]->dtype != PARE_F32) return 0;
  }
  if (strcmp(n->op, "BatchNormalization") == 0) {
    const pare_shape *xs = &g->values[n->inputs[0]]->shape;
    if (n->n_inputs < 5 || xs->rank < 2) return 0;
    for (int i = 1; i < 5; i++) {
      const pare_tensor *t = g->values[n->inputs[i]]->init;
      if (!t || pare_tensor_numel(t) != xs->dims[1]) return 0;
    }
  }
  return 1;
}

/* View of an anchor's output as [B, R, P]; 0 if the anchor has none. */
static int anchor_view(const pare_graph *g, const pare_node *a, int64_t view[3]) {
  const pare_shape *s = &g->values[a->outputs[0]]->shape;
  if (strcmp(a->op, "Conv") == 0) {
    view[0] = s->dims[0], view[1] = s->dims[1], view[2] = 1;
    for (int d = 2; d < s->rank; d++) view[2] *= s->dims[d];
    return 1;
  }
  if (s->rank == 2) {
    view[0] = 1, view[1] = s->dims[0], view[2] = s->dims[1];
    return 1;
  }
  if (s->rank == 3) {
    view[0] = s->dims[0], view[1] = s->dims[1], view[2] = s->dims[2];
    return 1;
  }
  return 0;
}

/* Strides (elements) of an operand of shape `os` broadcast to `out`, read
 * through the [B, R, P] view of out; PARE_ERR when not expressible. */
static int view_strides(const pare_shape *os, const pare_shape *out, int anchor_is_conv,
                        int64_t st3[3]) {
  int64_t st[PARE_MAX_RANK] = {0};
  int off = out->rank - os->rank;
  if (off < 0) return PARE_ERR;
  int64_t acc = 1;
  for (int d = out->rank - 1; d >= 0; d--) {
    int sd = d - off;
    if (sd < 0 || os->dims[sd] == 1)
      st[d] = 0;
    else if (os->dims[sd] != out->dims[d])
      return PARE_ERR;
    else
      st[d] = acc, acc *= os->dims[sd];
  }
  int first_p = anchor_is_conv ? 2 : out->rank - 1;
  if (anchor_is_conv)
    st3[0] = st[0], st3[1] = st[1];
  else if (out->rank == 2)
    st3[0] = 0, st3[1] = st[0];
  else
    st3[0] = st[0], st3[1] = st[1];
  /* The spatial dims must be all broadcast or contiguous together. */
  int all_zero = 1, contiguous = 1;
  int64_t expect = 1;
  for (int d = out->rank - 1; d >= first_p; d--) {
    if (st[d] != 0) all_zero = 0;
    if (out->dims[d] != 1 && st[d] != expect) contiguous = 0;
    expect *= out->dims[d];
  }
  if (all_zero)
    st3[2] = 0;
  else if (contiguous)
    st3[2] = 1;
  else
    return PARE_ERR;
  return PARE_OK;
}

static int in_group(const cg_group *gr, const pare_graph *g, int v) {
  if (gr->anchor >= 0 && g->nodes[gr->anchor]->outputs[0] == v) return 1;
  for (int i = 0; i < gr->n_members; i++)
    if (g->nodes[gr->members[i]]->outputs[0] == v) return 1;
  return 0;
}

/* Distinct operand slots the group needs if node n joins it. */
static int count_operands(const pare_graph *g, const cg_group *gr, const pare_node *extra) {
  int vals[64], n = 0, slots = 0;
  for (int i = 0; i <= gr->n_members; i++) {
    const pare_node *m = i < gr->n_members ? g->nodes[gr->members[i]] : extra;
    if (!m) break;
    if (strcmp(m->op, "BatchNormalization") == 0) slots += 2;
    for (int j = 0; j < member_operands(m); j++) {
      int v = m->inputs[j];
      if (v < 0 || in_group(gr, g, v)) continue;
      int seen = 0;
      for (int k = 0; k < n; k++) seen |= vals[k] == v;
      if (!seen && n < 64) vals[n++] = v, slots++;
    }
  }
  return slots;
}

/* Can n's operands be read in gr's anchor epilogue? */
static int fits_anchor(const pare_graph *g, const cg_group *gr, const pare_node *n) {
  if (gr->anchor < 0) return 1;
  const pare_node *a = g->nodes[gr->anchor];
  const pare_shape *out = &g->values[a->outputs[0]]->shape;
  int conv = strcmp(a->op, "Conv") == 0;
  for (int j = 0; j < member_operands(n); j++) {
    int v = n->inputs[j];
    if (v < 0 || in_group(gr, g, v)) continue;
    int64_t st[3];
    if (view_strides(&g->values[v]->shape, out, conv, st)) return 0;
  }
  if (strcmp(n->op, "BatchNormalization") == 0 && !conv) return 0;
  return 1;
}

static int group_last(const cg_group *gr) {
  return gr->n_members ? gr->members[gr->n_members - 1] : gr->anchor;
}

/* Shrinks gr until no value produced inside it but its output is read
 * outside it (or is a graph output): values inside a group never exist in
 * memory. */
static void trim_group(const pare_graph *g, cg_group *gr) {
  for (;;) {
    int bad = -1;
    int nodes[CG_MAX_GROUP + 1], nn = 0;
    if (gr->anchor >= 0) nodes[nn++] = gr->anchor;
    for (int i = 0; i < gr->n_members; i++) nodes[nn++] = gr->members[i];
    for (int i = 0; i + 1 < nn && bad < 0; i++) {
      int v = g->nodes[nodes[i]]->outputs[0];
      if (g->values[v]->is_graph_output) bad = i;
      for (int k = 0; k < g->n_nodes && bad < 0; k++) {
        const pare_node *r = g->nodes[k];
        int inside = 0;
        for (int q = 0; q < nn; q++) inside |= nodes[q] == k;
        if (inside || !r->op) continue;
        for (int j = 0; j < r->n_inputs; j++)
          if (r->inputs[j] == v) bad = i;
      }
    }
    if (bad < 0) break;
    /* Keep the nodes up to and including nodes[bad]. */
    int keep = bad + 1 - (gr->anchor >= 0 ? 1 : 0);
    gr->n_members = keep < 0 ? 0 : keep;
  }
  gr->out = g->nodes[group_last(gr)]->outputs[0];
}

/* Forms the groups of g (see the file comment) into f->groups. */
static int form_groups(const pare_graph *g, cg_fusion *f, pare_err *err) {
  int *group_of_value = malloc(((size_t)g->n_values + 1) * sizeof(int));
  f->groups = calloc((size_t)g->n_nodes + 1, sizeof *f->groups);
  if (!group_of_value || !f->groups) {
    free(group_of_value);
    return pare_errf(err, "out of memory");
  }
  for (int v = 0; v < g->n_values; v++) group_of_value[v] = -1;
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    if (!n->op) continue;
    if (is_default_domain(n) && is_anchor_op(n->op) && n->n_outputs >= 1 && n->outputs[0] >= 0 &&
        g->values[n->outputs[0]]->dtype == PARE_F32) {
      int64_t view[3];
      if (!anchor_view(g, n, view)) continue;
      cg_group *gr = &f->groups[f->n_groups];
      memset(gr, 0, sizeof *gr);
      gr->anchor = k;
      gr->out = n->outputs[0];
      group_of_value[gr->out] = f->n_groups++;
      continue;
    }
    if (!is_fusable(g, n)) continue;
    const pare_shape *os = &g->values[n->outputs[0]]->shape;
    int joined = 0;
    for (int j = 0; j < member_operands(n) && !joined; j++) {
      int v = n->inputs[j];
      if (v < 0 || group_of_value[v] < 0) continue;
      cg_group *gr = &f->groups[group_of_value[v]];
      if (gr->out != v || gr->n_members == CG_MAX_GROUP) continue;
      if (!pare_shape_equal(os, &g->values[v]->shape)) continue;
      if (!fits_anchor(g, gr, n) || count_operands(g, gr, n) > EW_MAX_OPERANDS - 2) continue;
      gr->members[gr->n_members++] = k;
      group_of_value[v] = -1;
      gr->out = n->outputs[0];
      group_of_value[gr->out] = (int)(gr - f->groups);
      joined = 1;
    }
    if (!joined) {
      cg_group *gr = &f->groups[f->n_groups];
      memset(gr, 0, sizeof *gr);
      gr->anchor = -1;
      gr->members[gr->n_members++] = k;
      gr->out = n->outputs[0];
      group_of_value[gr->out] = f->n_groups++;
    }
  }
  free(group_of_value);
  for (int i = 0; i < f->n_groups; i++) trim_group(g, &f->groups[i]);
  return PARE_OK;
}

/* ------------------------------------------------------ planning graph */

static pare_node dead_node; /* op NULL: what fused-away nodes become */

static pare_node *group_node(const pare_graph *g, const cg_group *gr, pare_err *err) {
  const pare_node *base = g->nodes[gr->anchor >= 0 ? gr->anchor : gr->members[0]];
  pare_node *n = calloc(1, sizeof *n);
  int cap = 8 + (gr->anchor >= 0 ? base->n_inputs + 3 : 0);
  for (int i = 0; i < gr->n_members; i++) cap += g->nodes[gr->members[i]]->n_inputs;
  if (n) n->inputs = malloc((size_t)cap * sizeof(int));
  if (n) n->outputs = malloc(sizeof(int));
  if (!n || !n->inputs || !n->outputs) {
    if (n) free(n->inputs);
    free(n);
    pare_errf(err, "out of memory");
    return NULL;
  }
  /* Shallow: name, op and attributes are the base node's. */
  n->name = base->name, n->op = base->op, n->domain = base->domain;
  n->n_attrs = base->n_attrs, n->attrs = base->attrs;
  if (gr->anchor >= 0) {
    for (int i = 0; i < base->n_inputs; i++) n->inputs[n->n_inputs++] = base->inputs[i];
    /* Conv's and Gemm's optional third input (bias, C) keeps its slot, so
     * the epilogue's operands after it are never read as one. */
    while (n->n_inputs < 3) n->inputs[n->n_inputs++] = -1;
  }
  for (int m = 0; m < gr->n_members; m++) {
    const pare_node *mn = g->nodes[gr->members[m]];
    for (int i = 0; i < mn->n_inputs; i++) {
      int v = mn->inputs[i];
      if (v >= 0 && !in_group(gr, g, v) && !g->values[v]->init) n->inputs[n->n_inputs++] = v;
    }
  }
  n->outputs[0] = gr->out;
  n->n_outputs = 1;
  return n;
}

/* QDQ anchors the int8 kernels run (emit_int8.c): the anchor's planning
 * node (its own or its group's) becomes a copy reading the f32 input and
 * the i8 weight, and the Q/DQ nodes feeding it die, so neither the
 * quantized activation nor the dequantized weight needs memory. */
static int int8_rewrite(const pare_graph *g, cg_fusion *f, pare_err *err) {
  f->qdq = calloc((size_t)g->n_nodes + 1, sizeof *f->qdq);
  if (!f->qdq) return pare_errf(err, "out of memory");
  for (int k = 0; k < g->n_nodes; k++) {
    cg_qdq q;
    if (!g->nodes[k]->op || !cg_int8_match(g, k, &q)) continue;
    int at = k;
    for (int i = 0; i < f->n_groups; i++)
      if (f->groups[i].anchor == k && f->groups[i].n_members > 0) at = group_last(&f->groups[i]);
    const pare_node *old = f->plan_graph.nodes[at];
    pare_node *n = calloc(1, sizeof *n);
    if (n) *n = *old;
    if (n) n->inputs = malloc(((size_t)old->n_inputs + 1) * sizeof(int));
    if (n) n->outputs = malloc(((size_t)old->n_outputs + 1) * sizeof(int));
    if (!n || !n->inputs || !n->outputs) {
      if (n) free(n->inputs);
      free(n);
      return pare_errf(err, "out of memory");
    }
    memcpy(n->inputs, old->inputs, (size_t)old->n_inputs * sizeof(int));
    memcpy(n->outputs, old->outputs, (size_t)old->n_outputs * sizeof(int));
    n->inputs[0] = q.x;
    n->inputs[1] = q.w_q;
    if (f->group_at[at] >= 0) {
      free(old->inputs);
      free(old->outputs);
      free((pare_node *)old);
    } else {
      q.owned = 1;
    }
    f->plan_graph.nodes[at] = n;
    f->qdq[at] = q;
    f->n_int8++;
  }
  /* Q/DQ nodes nothing reads any more die (in the order DQ, then its Q). */
  for (int changed = 1; changed;) {
    changed = 0;
    for (int k = g->n_nodes - 1; k >= 0; k--) {
      const pare_node *n = f->plan_graph.nodes[k];
      if (!n->op || f->group_at[k] >= 0 || f->qdq[k].active) continue;
      if (strcmp(n->op, "QuantizeLinear") != 0 && strcmp(n->op, "DequantizeLinear") != 0) continue;
      if (pare_graph_use_count(&f->plan_graph, n->outputs[0]) > 0) continue;
      f->plan_graph.nodes[k] = &dead_node;
      changed = 1;
    }
  }
  return PARE_OK;
}

int cg_fuse(const pare_graph *g, int enable, cg_fusion *f, pare_err *err) {
  memset(f, 0, sizeof *f);
  f->plan_graph = *g;
  f->group_at = malloc(((size_t)g->n_nodes + 1) * sizeof(int));
  f->plan_graph.nodes = malloc(((size_t)g->n_nodes + 1) * sizeof(pare_node *));
  if (!f->group_at || !f->plan_graph.nodes) return pare_errf(err, "out of memory");
  for (int k = 0; k < g->n_nodes; k++) {
    f->group_at[k] = -1;
    f->plan_graph.nodes[k] = g->nodes[k];
  }
  if (!enable) return int8_rewrite(g, f, err);
  if (form_groups(g, f, err)) return PARE_ERR;
  for (int i = 0; i < f->n_groups; i++) {
    cg_group *gr = &f->groups[i];
    if (gr->n_members == 0) continue; /* a lone anchor: its own node */
    pare_node *n = group_node(g, gr, err);
    if (!n) return PARE_ERR;
    if (gr->anchor >= 0) f->plan_graph.nodes[gr->anchor] = &dead_node;
    for (int m = 0; m < gr->n_members; m++) f->plan_graph.nodes[gr->members[m]] = &dead_node;
    f->plan_graph.nodes[group_last(gr)] = n;
    f->group_at[group_last(gr)] = i;
    f->n_fused += gr->n_members + (gr->anchor >= 0) - 1;
  }
  return int8_rewrite(g, f, err);
}

void cg_fusion_free(cg_fusion *f) {
  for (int k = 0; f->plan_graph.nodes && k < f->plan_graph.n_nodes; k++)
    if (f->group_at && (f->group_at[k] >= 0 || (f->qdq && f->qdq[k].owned))) {
      free(f->plan_graph.nodes[k]->inputs);
      free(f->plan_graph.nodes[k]->outputs);
      free(f->plan_graph.nodes[k]);
    }
  free(f->plan_graph.nodes);
  free(f->group_at);
  free(f->groups);
  free(f->qdq);
  memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------ operands */

/* Builds c->epi's operands for group gr: every member input from outside the
 * group (deduplicated) and two constants per BatchNorm. */
static int build_operands(cg *c, const cg_group *gr, cg_epi *e, pare_err *err) {
  const pare_graph *g = c->src;
  memset(e, 0, sizeof *e);
  e->group = gr;
  e->anchor_out = gr->anchor >= 0 ? g->nodes[gr->anchor]->outputs[0] : -1;
  for (int m = 0; m < gr->n_members; m++) {
    const pare_node *mn = g->nodes[gr->members[m]];
    e->bn_slot[m] = -1;
    if (strcmp(mn->op, "BatchNormalization") == 0) {
      if (e->n_ops + 2 > EW_MAX_OPERANDS) return pare_errf(err, "too many operands");
      const pare_shape *xs = cg_shape(c, mn->inputs[0]);
      int64_t ch = xs->dims[1];
      pare_shape ps = {.rank = xs->rank};
      for (int d = 0; d < xs->rank; d++) ps.dims[d] = d == 1 ? ch : 1;
      pare_tensor *s = pare_tensor_new(PARE_F32, &ps, err);
      pare_tensor *t = s ? pare_tensor_new(PARE_F32, &ps, err) : NULL;
      if (!t) {
        pare_tensor_free(s);
        return PARE_ERR;
      }
      const pare_tensor *p[4];
      for (int i = 0; i < 4; i++) p[i] = cg_const(c, mn->inputs[i + 1]);
      double eps = pare_attr_float(mn, "epsilon", 1e-5f);
      for (int64_t i = 0; i < ch; i++) {
        double sc = pare_tensor_get_f64(p[0], i) / sqrt(pare_tensor_get_f64(p[3], i) + eps);
        ((float *)s->data)[i] = (float)sc;
        ((float *)t->data)[i] =
            (float)(pare_tensor_get_f64(p[1], i) - pare_tensor_get_f64(p[2], i) * sc);
      }
      e->bn_slot[m] = e->n_ops;
      for (int i = 0; i < 2; i++) {
        ew_operand *o = &e->ops[e->n_ops];
        memset(o, 0, sizeof *o);
        o->shape = ps;
        o->base = cg_const_tensor(c, i ? t : s, i ? "bn.shift" : "bn.scale");
        e->op_value[e->n_ops++] = -1;
      }
      pare_tensor_free(s);
      pare_tensor_free(t);
    }
    for (int i = 0; i < member_operands(mn); i++) {
      int v = mn->inputs[i];
      if (v < 0 || v == e->anchor_out || in_group(gr, g, v)) continue;
      int seen = 0;
      for (int k = 0; k < e->n_ops; k++) seen |= e->op_value[k] == v;
      if (seen) continue;
      if (e->n_ops == EW_MAX_OPERANDS) return pare_errf(err, "too many operands");
      ew_operand_of_value(c, v, &e->ops[e->n_ops]);
      e->op_value[e->n_ops++] = v;
    }
  }
  return PARE_OK;
}

static int operand_of(const cg_epi *e, int v) {
  for (int k = 0; k < e->n_ops; k++)
    if (e->op_value[k] == v) return k;
  return -1;
}

/* Runs the members on operand vectors x (and the anchor's value acc). */
static LLVMValueRef eval_members(cg *c, const cg_epi *e, LLVMValueRef acc, LLVMValueRef *x, int w,
                                 pare_err *err, int *failed) {
  const pare_graph *g = c->src;
  const cg_group *gr = e->group;
  LLVMValueRef val[CG_MAX_GROUP];
  LLVMValueRef last = acc;
  for (int m = 0; m < gr->n_members; m++) {
    const pare_node *mn = g->nodes[gr->members[m]];
    LLVMValueRef in[EW_MAX_OPERANDS];
    int n = member_operands(mn);
    for (int i = 0; i < n; i++) {
      int v = mn->inputs[i];
      in[i] = NULL;
      if (v < 0) continue;
      if (v == e->anchor_out) in[i] = acc;
      for (int q = 0; q < m && !in[i]; q++)
        if (g->nodes[gr->members[q]]->outputs[0] == v) in[i] = val[q];
      if (!in[i]) in[i] = x[operand_of(e, v)];
    }
    if (e->bn_slot[m] >= 0) {
      val[m] = cg_fma(c, in[0], x[e->bn_slot[m]], x[e->bn_slot[m] + 1]);
    } else if (ew_apply(c, mn, in, n, w, &val[m], err)) {
      *failed = 1;
      return acc;
    }
    last = val[m];
  }
  return last;
}

/* ----------------------------------------------------- standalone group */

typedef struct group_body {
  const cg_epi *e;
  pare_err *err;
  int failed;
} group_body;

static LLVMValueRef standalone_body(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  group_body *gb = user;
  (void)n;
  return eval_members(c, gb->e, NULL, x, w, gb->err, &gb->failed);
}

int cg_emit_group(cg *c, const cg_group *gr, pare_err *err) {
  cg_epi e;
  if (build_operands(c, gr, &e, err)) return PARE_ERR;
  ew_operand out;
  ew_operand_of_value(c, gr->out, &out);
  group_body gb = {.e = &e, .err = err};
  if (ew_emit_loop(c, e.ops, e.n_ops, &out, standalone_body, &gb, err)) return PARE_ERR;
  return gb.failed ? PARE_ERR : PARE_OK;
}

/* ------------------------------------------------------------ epilogue */

int cg_epilogue_begin(cg *c, pare_err *err) {
  if (!c->group || c->group->n_members == 0) {
    c->epi_active = 0;
    return PARE_OK;
  }
  cg_epi *e = &c->epi;
  if (build_operands(c, c->group, e, err)) return PARE_ERR;
  const pare_node *a = c->src->nodes[c->group->anchor];
  const pare_shape *out = cg_shape(c, a->outputs[0]);
  int conv = strcmp(a->op, "Conv") == 0;
  for (int k = 0; k < e->n_ops; k++)
    if (!e->ops[k].is_scalar && view_strides(&e->ops[k].shape, out, conv, e->st[k]))
      return pare_errf(err, "internal error: fused operand %d does not fit the epilogue", k);
  c->epi_active = 1;
  return PARE_OK;
}

LLVMValueRef cg_epilogue_apply(cg *c, LLVMValueRef v, LLVMValueRef b, LLVMValueRef r,
                               LLVMValueRef p, int w) {
  if (!c->epi_active) return v;
  cg_epi *e = &c->epi;
  LLVMValueRef x[EW_MAX_OPERANDS];
  for (int k = 0; k < e->n_ops; k++) {
    const ew_operand *o = &e->ops[k];
    if (o->is_scalar) {
      x[k] = cg_fconst(c, o->scalar, w);
      continue;
    }
    LLVMValueRef idx = cg_madd(c, b, e->st[k][0], cg_madd(c, r, e->st[k][1], cg_i64(c, 0)));
    if (e->st[k][2] == 0) {
      x[k] = cg_splat(c, cg_loadf(c, o->base, idx, 1), w);
    } else {
      x[k] = cg_loadf(c, o->base, cg_add(c, idx, p), w);
    }
  }
  pare_err ignored;
  /* A failure is kept in e->failed; codegen reports it after the kernel. */
  return eval_members(c, e, v, x, w, &ignored, &e->failed);
}
