/*
 * plan.c - static memory planning: lifetimes, slot sharing, greedy placement,
 * and an independent checker. See plan.h for the semantics.
 */
#include "backend/plan.h"

#include <stdlib.h>
#include <string.h>

const char *const pare_plan_default_inplace_ops[] = {
    "Relu", "LeakyRelu", "Sigmoid",  "Tanh",       "HardSigmoid", "HardSwish", "Clip",
    "Elu",  "Selu",      "Softplus", "Softsign",   "Neg",         "Abs",       "Exp",
    "Log",  "Sqrt",      "Erf",      "Reciprocal", "Floor",       "Ceil",      "Round",
    "Sin",  "Cos",       "Add",      "Sub",        "Mul",         "Div",       "Pow",
    "Max",  "Min",       "Sum",      "PRelu",      "Gelu",        "Mish",      NULL};

const char *const pare_plan_default_alias_ops[] = {"Reshape",   "Flatten",  "Squeeze",
                                                   "Unsqueeze", "Identity", NULL};

const char *pare_mem_kind_name(pare_mem_kind k) {
  switch (k) {
  case PARE_MEM_NONE:
    return "none";
  case PARE_MEM_INTERMEDIATE:
    return "intermediate";
  case PARE_MEM_INPUT:
    return "input";
  case PARE_MEM_OUTPUT:
    return "output";
  case PARE_MEM_CONSTANT:
    return "constant";
  case PARE_MEM_ALIAS:
    return "alias";
  }
  return "?";
}

void pare_plan_free(pare_plan *p) {
  if (!p) return;
  free(p->values);
  memset(p, 0, sizeof *p);
}

static int in_workspace(pare_mem_kind k) {
  return k == PARE_MEM_INTERMEDIATE || k == PARE_MEM_ALIAS;
}

static int is_default_domain(const pare_node *n) {
  return n->domain == NULL || n->domain[0] == '\0';
}

static int op_in_list(const pare_node *n, const char *const *list) {
  if (!n->op || !is_default_domain(n)) return 0;
  for (; *list; list++)
    if (strcmp(*list, n->op) == 0) return 1;
  return 0;
}

static int64_t align_up(int64_t x, int64_t a) {
  return (x + a - 1) & ~(a - 1);
}

/* Where value v lives before any slot sharing (ALIAS is decided later). */
static pare_mem_kind base_kind(const pare_graph *g, int v) {
  const pare_value *val = g->values[v];
  if (val->init) return PARE_MEM_CONSTANT;
  if (val->is_graph_input) return PARE_MEM_INPUT;
  /* A value whose producer was fused away (a dead node) holds nothing. */
  if (val->producer >= 0 && val->producer < g->n_nodes && g->nodes[val->producer]->op)
    return val->is_graph_output ? PARE_MEM_OUTPUT : PARE_MEM_INTERMEDIATE;
  return PARE_MEM_NONE;
}

static int value_bytes(const pare_graph *g, int v, int64_t *out, pare_err *err) {
  const pare_value *val = g->values[v];
  char buf[128];
  int64_t numel = 0;
  if (!pare_shape_is_static(&val->shape)) {
    pare_shape_str(&val->shape, buf, sizeof buf);
    return pare_errf(err, "memory plan: value '%s' has no static shape (%s)", val->name, buf);
  }
  size_t esize = pare_dtype_size(val->dtype);
  if (esize == 0)
    return pare_errf(err, "memory plan: value '%s' has unsupported dtype %s", val->name,
                     pare_dtype_name(val->dtype));
  if (pare_shape_numel(&val->shape, &numel, err) != PARE_OK)
    return pare_err_prefix(err, "memory plan: value '%s'", val->name);
  *out = numel * (int64_t)esize;
  return PARE_OK;
}

/* Lifetimes from uses alone (no alias extension): first = producer (-1 when
 * none), last = last reading node, n_nodes for graph outputs, first when
 * unread. */
static void own_lifetimes(const pare_graph *g, int *first, int *last) {
  for (int v = 0; v < g->n_values; v++) {
    first[v] = g->values[v]->init ? -1 : g->values[v]->producer;
    last[v] = -1;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const pare_node *n = g->nodes[i];
    if (!n->op) continue;
    for (int j = 0; j < n->n_inputs; j++)
      if (n->inputs[j] >= 0 && last[n->inputs[j]] < i) last[n->inputs[j]] = i;
  }
  for (int j = 0; j < g->n_outputs; j++) last[g->outputs[j]] = g->n_nodes;
  for (int v = 0; v < g->n_values; v++)
    if (last[v] < first[v]) last[v] = first[v];
}

/* Makes an alias's readers count as readers of the value it views; walks
 * nodes backwards so chains of aliases propagate to their start. */
static void extend_alias_lifetimes(const pare_graph *g, const pare_plan_value *pv, int *last) {
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    const pare_node *n = g->nodes[i];
    for (int j = 0; j < n->n_outputs; j++) {
      int o = n->outputs[j];
      if (o < 0 || pv[o].kind != PARE_MEM_ALIAS || pv[o].shares < 0) continue;
      if (last[pv[o].shares] < last[o]) last[pv[o].shares] = last[o];
    }
  }
}

/* ------------------------------------------------------------ planning */

typedef struct planner {
  const pare_graph *g;
  pare_plan_value *pv;
  int *root;      /* value -> value index heading its buffer */
  int *buf_first; /* per root: buffer lifetime */
  int *buf_last;
  int64_t align;
} planner;

/* Joins output o to the buffer of value a. */
static void join_buffer(planner *pl, int o, int a) {
  int r = pl->root[a];
  pl->root[o] = r;
  pl->pv[o].shares = a;
  if (pl->buf_last[r] < pl->pv[o].last) pl->buf_last[r] = pl->pv[o].last;
}

static void try_alias(planner *pl, const pare_node *n, int o) {
  int a = n->n_inputs > 0 ? n->inputs[0] : -1;
  if (a < 0 || !in_workspace(pl->pv[a].kind) || pl->pv[a].bytes != pl->pv[o].bytes) return;
  pl->pv[o].kind = PARE_MEM_ALIAS;
  join_buffer(pl, o, a);
}

/* Output o of node i (an elementwise op) takes the slot of an input read for
 * the last time here, of the same size and element size. An input sharing
 * that slot under another shape would see its elements overwritten out of
 * order, so such a node is left alone. */
static void try_inplace(planner *pl, int i, const pare_node *n, int o) {
  const pare_graph *g = pl->g;
  size_t osize = pare_dtype_size(g->values[o]->dtype);
  for (int j = 0; j < n->n_inputs; j++) {
    int a = n->inputs[j];
    if (a < 0 || !in_workspace(pl->pv[a].kind)) continue;
    if (pl->pv[a].bytes != pl->pv[o].bytes || pare_dtype_size(g->values[a]->dtype) != osize)
      continue;
    if (pl->buf_last[pl->root[a]] != i) continue;
    int clash = 0;
    for (int k = 0; k < n->n_inputs; k++) {
      int b = n->inputs[k];
      if (b >= 0 && b != a && in_workspace(pl->pv[b].kind) && pl->root[b] == pl->root[a] &&
          !pare_shape_equal(&g->values[b]->shape, &g->values[a]->shape))
        clash = 1;
    }
    if (clash) continue;
    join_buffer(pl, o, a);
    return;
  }
}

typedef struct placed {
  int64_t offset, bytes;
  int first, last;
} placed;

/* qsort has no context argument in C17; the planner being sorted for is
 * passed through this file-local pointer for the duration of one sort. */
static const planner *sort_ctx;

static int cmp_roots(const void *pa, const void *pb) {
  const planner *pl = sort_ctx;
  int a = *(const int *)pa, b = *(const int *)pb;
  int64_t sa = pl->pv[a].bytes, sb = pl->pv[b].bytes;
  if (sa != sb) return sa > sb ? -1 : 1;
  if (pl->buf_first[a] != pl->buf_first[b]) return pl->buf_first[a] < pl->buf_first[b] ? -1 : 1;
  return a < b ? -1 : a > b;
}

/* Greedy by size: each buffer, largest first, goes to the lowest aligned
 * offset clear of every placed buffer live at an overlapping time. `done`
 * is kept sorted by offset so the scan finds gaps left to right. */
static int place_buffers(planner *pl, int *roots, int n_roots, pare_plan *out, pare_err *err) {
  placed *done = calloc((size_t)n_roots + 1, sizeof *done);
  if (!done) return pare_errf(err, "memory plan: out of memory");
  sort_ctx = pl;
  qsort(roots, (size_t)n_roots, sizeof *roots, cmp_roots);
  sort_ctx = NULL;
  int n_done = 0;
  int64_t end = 0;
  for (int k = 0; k < n_roots; k++) {
    int r = roots[k];
    placed b = {0, pl->pv[r].bytes, pl->buf_first[r], pl->buf_last[r]};
    int64_t cur = 0;
    for (int d = 0; d < n_done; d++) {
      if (done[d].last < b.first || done[d].first > b.last) continue;
      if (align_up(cur, pl->align) + b.bytes <= done[d].offset) break;
      if (cur < done[d].offset + done[d].bytes) cur = done[d].offset + done[d].bytes;
    }
    b.offset = align_up(cur, pl->align);
    if (b.offset > INT64_MAX / 4 - b.bytes) {
      free(done);
      return pare_errf(err, "memory plan: workspace size overflows");
    }
    pl->pv[r].offset = b.offset;
    if (end < b.offset + b.bytes) end = b.offset + b.bytes;
    int at = n_done;
    while (at > 0 && done[at - 1].offset > b.offset) {
      done[at] = done[at - 1];
      at--;
    }
    done[at] = b;
    n_done++;
  }
  free(done);
  out->workspace_bytes = align_up(end, pl->align);
  return PARE_OK;
}

static int plan_values(const pare_graph *g, const pare_plan_opts *opts, pare_plan *out,
                       pare_err *err) {
  const char *const *inplace_ops =
      opts && opts->inplace_ops ? opts->inplace_ops : pare_plan_default_inplace_ops;
  const char *const *alias_ops =
      opts && opts->alias_ops ? opts->alias_ops : pare_plan_default_alias_ops;
  pare_plan_value *pv = out->values;
  int nv = g->n_values;
  int *first = calloc((size_t)nv + 1, sizeof *first);
  int *last = calloc((size_t)nv + 1, sizeof *last);
  int *root = calloc((size_t)nv + 1, sizeof *root);
  int *buf_first = calloc((size_t)nv + 1, sizeof *buf_first);
  int *buf_last = calloc((size_t)nv + 1, sizeof *buf_last);
  int *roots = calloc((size_t)nv + 1, sizeof *roots);
  int rc = PARE_OK;
  if (!first || !last || !root || !buf_first || !buf_last || !roots) {
    rc = pare_errf(err, "memory plan: out of memory");
    goto done;
  }
  own_lifetimes(g, first, last);
  for (int v = 0; v < nv; v++) {
    pv[v].kind = base_kind(g, v);
    pv[v].offset = -1;
    pv[v].shares = -1;
    pv[v].first = first[v];
    pv[v].last = last[v];
    root[v] = v;
    buf_first[v] = first[v];
    buf_last[v] = last[v];
    if (pv[v].kind != PARE_MEM_NONE && (rc = value_bytes(g, v, &pv[v].bytes, err)) != PARE_OK)
      goto done;
  }
  planner pl = {g, pv, root, buf_first, buf_last, out->alignment};
  for (int i = 0; i < g->n_nodes; i++) {
    const pare_node *n = g->nodes[i];
    if (!n->op) continue;
    for (int j = 0; j < n->n_outputs; j++) {
      int o = n->outputs[j];
      if (o < 0 || pv[o].kind != PARE_MEM_INTERMEDIATE) continue;
      if (op_in_list(n, alias_ops))
        try_alias(&pl, n, o);
      else if (n->n_outputs == 1 && op_in_list(n, inplace_ops))
        try_inplace(&pl, i, n, o);
    }
  }
  extend_alias_lifetimes(g, pv, last);
  int n_roots = 0;
  for (int v = 0; v < nv; v++) {
    pv[v].last = last[v];
    if (!in_workspace(pv[v].kind)) continue;
    out->naive_bytes += pv[v].bytes;
    if (root[v] == v) roots[n_roots++] = v;
  }
  if ((rc = place_buffers(&pl, roots, n_roots, out, err)) != PARE_OK) goto done;
  for (int v = 0; v < nv; v++)
    if (in_workspace(pv[v].kind)) pv[v].offset = pv[root[v]].offset;
done:
  free(first);
  free(last);
  free(root);
  free(buf_first);
  free(buf_last);
  free(roots);
  return rc;
}

int pare_plan_memory(const pare_graph *g, const pare_plan_opts *opts, pare_plan *out,
                     pare_err *err) {
  memset(out, 0, sizeof *out);
  int64_t align = opts && opts->alignment ? opts->alignment : PARE_PLAN_DEFAULT_ALIGNMENT;
  if (align <= 0 || (align & (align - 1)) != 0)
    return pare_errf(err, "memory plan: alignment %lld is not a power of two", (long long)align);
  out->values = calloc((size_t)g->n_values + 1, sizeof *out->values);
  if (!out->values) return pare_errf(err, "memory plan: out of memory");
  out->n_values = g->n_values;
  out->alignment = align;
  if (plan_values(g, opts, out, err) != PARE_OK) {
    pare_plan_free(out);
    return PARE_ERR;
  }
  return PARE_OK;
}

/* ------------------------------------------------------------- checking */

static int check_value(const pare_graph *g, const pare_plan *p, int v, pare_err *err) {
  const pare_plan_value *pv = &p->values[v];
  const char *name = g->values[v]->name;
  pare_mem_kind want = base_kind(g, v);
  int ok_kind = pv->kind == want || (pv->kind == PARE_MEM_ALIAS && want == PARE_MEM_INTERMEDIATE);
  if (!ok_kind)
    return pare_errf(err, "plan check: value '%s' is %s, expected %s", name,
                     pare_mem_kind_name(pv->kind), pare_mem_kind_name(want));
  if (pv->kind == PARE_MEM_NONE) return PARE_OK;
  int64_t bytes = 0;
  if (value_bytes(g, v, &bytes, err) != PARE_OK) return PARE_ERR;
  if (bytes != pv->bytes)
    return pare_errf(err, "plan check: value '%s' has %lld bytes, shape says %lld", name,
                     (long long)pv->bytes, (long long)bytes);
  if (!in_workspace(pv->kind)) {
    if (pv->offset != -1 || pv->shares != -1)
      return pare_errf(err, "plan check: value '%s' (%s) has a workspace slot", name,
                       pare_mem_kind_name(pv->kind));
    return PARE_OK;
  }
  if (pv->offset < 0 || pv->offset % p->alignment != 0)
    return pare_errf(err, "plan check: value '%s' offset %lld not aligned to %lld", name,
                     (long long)pv->offset, (long long)p->alignment);
  if (pv->offset > p->workspace_bytes - pv->bytes)
    return pare_errf(err, "plan check: value '%s' [%lld, +%lld) exceeds workspace %lld", name,
                     (long long)pv->offset, (long long)pv->bytes, (long long)p->workspace_bytes);
  int s = pv->shares;
  if (pv->kind == PARE_MEM_ALIAS && s < 0)
    return pare_errf(err, "plan check: alias '%s' names no viewed value", name);
  if (s < 0) return PARE_OK;
  if (s >= p->n_values || !in_workspace(p->values[s].kind))
    return pare_errf(err, "plan check: value '%s' shares a value outside the workspace", name);
  const pare_node *n = g->nodes[g->values[v]->producer];
  int reads = 0;
  for (int j = 0; j < n->n_inputs; j++)
    if (n->inputs[j] == s && (j == 0 || pv->kind != PARE_MEM_ALIAS)) reads = 1;
  if (!reads)
    return pare_errf(err, "plan check: value '%s' shares '%s', which its node does not read", name,
                     g->values[s]->name);
  if (p->values[s].offset != pv->offset || p->values[s].bytes != pv->bytes)
    return pare_errf(err, "plan check: value '%s' shares '%s' at a different offset or size", name,
                     g->values[s]->name);
  return PARE_OK;
}

/* The value heading the data v holds: aliases hold their viewed value's data. */
static int data_version(const pare_plan *p, int v) {
  int steps = 0;
  while (p->values[v].kind == PARE_MEM_ALIAS && p->values[v].shares >= 0 && steps++ < p->n_values)
    v = p->values[v].shares;
  return v;
}

/* May u and v, both live at some node and overlapping in memory, coexist? */
static int may_overlap(const pare_plan *p, int u, int v) {
  int vu = data_version(p, u), vv = data_version(p, v);
  if (vu == vv) return 1;
  const pare_plan_value *a = &p->values[u], *b = &p->values[v];
  if (a->first > b->first) {
    const pare_plan_value *t = a;
    a = b;
    b = t;
    int tv = vu;
    vu = vv;
    vv = tv;
    tv = u;
    u = v;
    v = tv;
  }
  /* b overwrites a in place: b heads its data, reuses a's data, and a is
   * dead once b's node has read it. */
  return vv == v && b->kind == PARE_MEM_INTERMEDIATE && b->shares >= 0 &&
         data_version(p, b->shares) == vu && a->last == b->first && a->first < b->first;
}

int pare_plan_check(const pare_graph *g, const pare_plan *p, pare_err *err) {
  if (p->n_values != g->n_values)
    return pare_errf(err, "plan check: plan has %d values, graph has %d", p->n_values, g->n_values);
  if (p->alignment <= 0 || (p->alignment & (p->alignment - 1)) != 0)
    return pare_errf(err, "plan check: alignment %lld is not a power of two",
                     (long long)p->alignment);
  int nv = g->n_values;
  for (int v = 0; v < nv; v++)
    if (check_value(g, p, v, err) != PARE_OK) return PARE_ERR;
  int *first = calloc((size_t)nv + 1, sizeof *first);
  int *last = calloc((size_t)nv + 1, sizeof *last);
  if (!first || !last) {
    free(first);
    free(last);
    return pare_errf(err, "plan check: out of memory");
  }
  own_lifetimes(g, first, last);
  extend_alias_lifetimes(g, p->values, last);
  int rc = PARE_OK;
  for (int v = 0; v < nv && rc == PARE_OK; v++) {
    const pare_plan_value *pv = &p->values[v];
    if (pv->kind == PARE_MEM_NONE) continue;
    if (pv->first > first[v] || pv->last < last[v])
      rc = pare_errf(err, "plan check: value '%s' lifetime [%d, %d] misses uses in [%d, %d]",
                     g->values[v]->name, pv->first, pv->last, first[v], last[v]);
  }
  free(first);
  free(last);
  for (int u = 0; u < nv && rc == PARE_OK; u++) {
    const pare_plan_value *a = &p->values[u];
    if (!in_workspace(a->kind) || a->bytes == 0) continue;
    for (int v = u + 1; v < nv; v++) {
      const pare_plan_value *b = &p->values[v];
      if (!in_workspace(b->kind) || b->bytes == 0) continue;
      if (a->last < b->first || b->last < a->first) continue;
      if (a->offset + a->bytes <= b->offset || b->offset + b->bytes <= a->offset) continue;
      if (may_overlap(p, u, v)) continue;
      rc = pare_errf(err,
                     "plan check: values '%s' [%lld, +%lld) live [%d, %d] and '%s' [%lld, "
                     "+%lld) live [%d, %d] overlap",
                     g->values[u]->name, (long long)a->offset, (long long)a->bytes, a->first,
                     a->last, g->values[v]->name, (long long)b->offset, (long long)b->bytes,
                     b->first, b->last);
      break;
    }
  }
  return rc;
}
