/*
 * verify.c - pare_graph_verify: structural invariants of a pare_graph.
 *
 * Run after loading, after parsing and between passes: it catches the bugs
 * a pass can make (dangling uses, double definitions, stale producer fields,
 * inconsistent constants or encodings) close to where they happen. Messages
 * name the node and the value. It checks structure only; shapes against op
 * semantics are ops/ shape inference's business.
 */
#include "ir/ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything the checks share; role arrays are indexed by value. */
typedef struct verifier {
  const pare_graph *g;
  pare_err *err;
  int *producer;   /* node defining each value, -1 if none */
  char *is_input;  /* listed in g->inputs */
  char *is_output; /* listed in g->outputs */
  char *defined;   /* defined so far in the walk over the nodes */
} verifier;

static const char *value_name(const pare_graph *g, int v) {
  return g->values[v]->name;
}

/* "node 'conv1' (Conv)" or "node #3 (Conv)" when unnamed. */
static const char *node_desc(const pare_graph *g, int k, char *buf, size_t len) {
  const pare_node *n = g->nodes[k];
  const char *op = n->op ? n->op : "dead";
  if (n->name && *n->name)
    snprintf(buf, len, "node '%s' (%s)", n->name, op);
  else
    snprintf(buf, len, "node #%d (%s)", k, op);
  return buf;
}

static int is_const(const pare_value *v) {
  return v->init != NULL || v->enc != NULL;
}

/* ---------------------------------------------------------------- tensors */

/* A tensor is self-consistent: known dtype, static shape, nbytes matching, data present. */
static int check_tensor(const pare_tensor *t, pare_err *err) {
  size_t es = pare_dtype_size(t->dtype);
  if (es == 0)
    return pare_errf(err, "tensor of dtype %s cannot hold data", pare_dtype_name(t->dtype));
  if (t->shape.rank < 0 || t->shape.rank > PARE_MAX_RANK || !pare_shape_is_static(&t->shape)) {
    char sb[128];
    pare_shape_str(&t->shape, sb, sizeof sb);
    return pare_errf(err, "tensor shape %s is not static", sb);
  }
  int64_t numel;
  if (pare_shape_numel(&t->shape, &numel, err)) return PARE_ERR;
  if ((uint64_t)numel > SIZE_MAX / es || t->nbytes != (size_t)numel * es)
    return pare_errf(err, "tensor holds %zu bytes, its type needs %lld x %zu", t->nbytes,
                     (long long)numel, es);
  if (t->nbytes > 0 && !t->data) return pare_errf(err, "tensor has no data");
  return PARE_OK;
}

/* -------------------------------------------------------------- encodings */

/* Checks part `name` of an encoding: present (or absent) as the kind needs,
 * of dtype dt, with at least `need` elements. */
static int check_part(const pare_tensor *t, const char *name, int required, pare_dtype dt,
                      int64_t need, pare_err *err) {
  if (!required) {
    if (t) return pare_errf(err, "has a '%s' part its kind does not use", name);
    return PARE_OK;
  }
  if (!t) return pare_errf(err, "lacks its '%s' part", name);
  if (check_tensor(t, err)) return pare_err_prefix(err, "part '%s'", name);
  if (t->dtype != dt)
    return pare_errf(err, "part '%s' is %s, must be %s", name, pare_dtype_name(t->dtype),
                     pare_dtype_name(dt));
  int64_t have = pare_tensor_numel(t);
  if (have < need)
    return pare_errf(err, "part '%s' has %lld elements, needs %lld", name, (long long)have,
                     (long long)need);
  return PARE_OK;
}

/* Number of scale/zero groups a QUANT encoding uses (as pare_weight_decode
 * indexes them). */
static int64_t quant_groups(const pare_encoding *e, const pare_shape *s, int64_t numel) {
  if (numel == 0) return 0;
  if (e->axis < 0) return e->group_size > 0 ? (numel + e->group_size - 1) / e->group_size : 1;
  /* Groups run over each channel's numel / dims[axis] elements. */
  int64_t per = s->dims[e->axis] ? numel / s->dims[e->axis] : 0;
  int64_t per_channel = e->group_size > 0 ? (per + e->group_size - 1) / e->group_size : 1;
  return s->dims[e->axis] * per_channel;
}

/* Scales, zero points and codebooks: f32, or f16 to halve their bytes. */
static int check_param(const pare_tensor *t, const char *name, int required, int64_t need,
                       pare_err *err) {
  pare_dtype dt = t && t->dtype == PARE_F16 ? PARE_F16 : PARE_F32;
  return check_part(t, name, required, dt, need, err);
}

static int check_bits_axis(const pare_encoding *e, const pare_shape *s, pare_err *err) {
  if (e->bits < 1 || e->bits > 8) return pare_errf(err, "has bits=%d (must be 1..8)", e->bits);
  if (e->axis < -1 || e->axis >= s->rank)
    return pare_errf(err, "has axis=%d out of range for rank %d", e->axis, s->rank);
  return PARE_OK;
}

static int check_sparse(const pare_encoding *e, const pare_shape *s, int64_t numel, pare_err *err) {
  int64_t rows = s->rank > 0 ? s->dims[0] : 1;
  int64_t cols = rows ? numel / rows : 0;
  if (e->nm_n < 0 || e->nm_m < 0 || e->nm_n > e->nm_m || (e->nm_m == 0 && e->nm_n != 0))
    return pare_errf(err, "has a bad N:M pattern %d:%d", e->nm_n, e->nm_m);
  if (check_part(e->packed, "packed", 0, PARE_U8, 0, err) ||
      check_part(e->scales, "scales", 0, PARE_F32, 0, err) ||
      check_part(e->zeros, "zeros", 0, PARE_F32, 0, err) ||
      check_part(e->codebook, "codebook", 0, PARE_F32, 0, err) ||
      check_part(e->row_ptr, "row_ptr", 1, PARE_I64, rows + 1, err) ||
      check_part(e->col_idx, "col_idx", 1, PARE_I32, 0, err) ||
      check_part(e->values, "values", 1, PARE_F32, 0, err))
    return PARE_ERR;
  if (pare_tensor_numel(e->row_ptr) != rows + 1)
    return pare_errf(err, "row_ptr has %lld elements, needs %lld",
                     (long long)pare_tensor_numel(e->row_ptr), (long long)rows + 1);
  const int64_t *rp = e->row_ptr->data;
  int64_t n_idx = pare_tensor_numel(e->col_idx), n_val = pare_tensor_numel(e->values);
  if (rp[0] != 0) return pare_errf(err, "row_ptr[0] is %lld, must be 0", (long long)rp[0]);
  for (int64_t r = 0; r < rows; r++)
    if (rp[r + 1] < rp[r]) return pare_errf(err, "row_ptr decreases at row %lld", (long long)r);
  int64_t nnz = rp[rows];
  if (nnz > n_idx || nnz > n_val)
    return pare_errf(err, "has %lld nonzeros but %lld col_idx and %lld values", (long long)nnz,
                     (long long)n_idx, (long long)n_val);
  const int32_t *ci = e->col_idx->data;
  for (int64_t k = 0; k < nnz; k++)
    if (ci[k] < 0 || ci[k] >= cols)
      return pare_errf(err, "col_idx[%lld] = %d is outside [0, %lld)", (long long)k, ci[k],
                       (long long)cols);
  return PARE_OK;
}

static int check_encoding(const pare_encoding *e, const pare_shape *s, int depth, pare_err *err) {
  int64_t numel;
  if (pare_shape_numel(s, &numel, err)) return PARE_ERR;
  switch (e->kind) {
  case PARE_ENC_QUANT: {
    if (check_bits_axis(e, s, err)) return PARE_ERR;
    if (e->symmetric != 0 && e->symmetric != 1)
      return pare_errf(err, "has symmetric=%d (must be 0 or 1)", e->symmetric);
    if (e->group_size < 0) return pare_errf(err, "has group_size=%lld", (long long)e->group_size);
    int64_t groups = quant_groups(e, s, numel);
    if (check_part(e->packed, "packed", 1, PARE_U8, (numel * e->bits + 7) / 8, err) ||
        check_param(e->scales, "scales", 1, groups, err) ||
        check_param(e->zeros, "zeros", !e->symmetric, groups, err) ||
        check_part(e->codebook, "codebook", 0, PARE_F32, 0, err) ||
        check_part(e->row_ptr, "row_ptr", 0, PARE_I64, 0, err) ||
        check_part(e->col_idx, "col_idx", 0, PARE_I32, 0, err) ||
        check_part(e->values, "values", 0, PARE_F32, 0, err))
      return PARE_ERR;
    break;
  }
  case PARE_ENC_CODEBOOK: {
    if (check_bits_axis(e, s, err)) return PARE_ERR;
    /* With scales, axis names the scaled channels and one codebook is
     * shared; without, axis selects one codebook per channel. */
    int scaled = e->scales != NULL;
    if (scaled && e->axis < 0) return pare_errf(err, "has scales but no channel axis");
    int64_t channels = e->axis < 0 ? 1 : s->dims[e->axis];
    int64_t groups = scaled ? 1 : channels;
    if (check_part(e->packed, "packed", 1, PARE_U8, (numel * e->bits + 7) / 8, err) ||
        check_param(e->codebook, "codebook", 1, groups << e->bits, err) ||
        check_param(e->scales, "scales", scaled, channels, err) ||
        check_part(e->zeros, "zeros", 0, PARE_F32, 0, err) ||
        check_part(e->row_ptr, "row_ptr", 0, PARE_I64, 0, err) ||
        check_part(e->col_idx, "col_idx", 0, PARE_I32, 0, err) ||
        check_part(e->values, "values", 0, PARE_F32, 0, err))
      return PARE_ERR;
    break;
  }
  case PARE_ENC_SPARSE:
    if (check_sparse(e, s, numel, err)) return PARE_ERR;
    break;
  case PARE_ENC_DENSE:
    return pare_errf(err, "is of kind dense (a dense weight has no encoding: enc must be NULL)");
  default:
    return pare_errf(err, "has unknown kind %d", (int)e->kind);
  }
  if (e->outliers) {
    if (depth > 0 || e->outliers->kind != PARE_ENC_SPARSE)
      return pare_errf(err, "has outliers that are not one plain sparse encoding");
    if (check_encoding(e->outliers, s, depth + 1, err)) return pare_err_prefix(err, "outliers");
  }
  return PARE_OK;
}

/* ----------------------------------------------------------------- values */

static int check_value(verifier *V, int i) {
  const pare_graph *g = V->g;
  const pare_value *v = g->values[i];
  pare_err *err = V->err;
  if (v->dtype != PARE_UNDEFINED && v->dtype != PARE_STRING && pare_dtype_size(v->dtype) == 0)
    return pare_errf(err, "value %%%s has unknown dtype %d", v->name, (int)v->dtype);
  if (v->shape.rank < -1 || v->shape.rank > PARE_MAX_RANK)
    return pare_errf(err, "value %%%s has rank %d", v->name, v->shape.rank);
  for (int d = 0; d < v->shape.rank; d++)
    if (v->shape.dims[d] < -1)
      return pare_errf(err, "value %%%s has dim %d = %lld", v->name, d,
                       (long long)v->shape.dims[d]);
  if (v->init) {
    if (check_tensor(v->init, err)) return pare_err_prefix(err, "constant %%%s", v->name);
    if (v->init->dtype != v->dtype)
      return pare_errf(err, "constant %%%s is declared %s but its data is %s", v->name,
                       pare_dtype_name(v->dtype), pare_dtype_name(v->init->dtype));
    if (!pare_shape_equal(&v->init->shape, &v->shape)) {
      char a[128], b[128];
      pare_shape_str(&v->shape, a, sizeof a);
      pare_shape_str(&v->init->shape, b, sizeof b);
      return pare_errf(err, "constant %%%s is declared %s but its data is %s", v->name, a, b);
    }
  }
  if (v->enc) {
    if (v->dtype != PARE_F32)
      return pare_errf(err, "constant %%%s is %s: only f32 weights can be encoded", v->name,
                       pare_dtype_name(v->dtype));
    if (!pare_shape_is_static(&v->shape))
      return pare_errf(err, "encoded constant %%%s has no static shape", v->name);
    if (check_encoding(v->enc, &v->shape, 0, err))
      return pare_err_prefix(err, "constant %%%s: %s encoding", v->name,
                             pare_enc_kind_name(v->enc->kind));
  }
  if (v->is_graph_input != V->is_input[i])
    return pare_errf(err, "value %%%s: is_graph_input is %d but it is%s in the graph's inputs",
                     v->name, v->is_graph_input, V->is_input[i] ? "" : " not");
  if (v->is_graph_output != V->is_output[i])
    return pare_errf(err, "value %%%s: is_graph_output is %d but it is%s in the graph's outputs",
                     v->name, v->is_graph_output, V->is_output[i] ? "" : " not");
  if (v->producer != V->producer[i])
    return pare_errf(err,
                     "value %%%s: producer is %d but node %d defines it "
                     "(call pare_graph_update_producers)",
                     v->name, v->producer, V->producer[i]);
  return PARE_OK;
}

/* qsort has no context argument in C17: sort pointers to the names instead. */
static int cmp_name_ptrs(const void *a, const void *b) {
  return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

static int check_names_unique(verifier *V) {
  const pare_graph *g = V->g;
  if (g->n_values < 2) return PARE_OK;
  char *const **names = malloc((size_t)g->n_values * sizeof *names);
  if (!names) return pare_errf(V->err, "out of memory");
  for (int i = 0; i < g->n_values; i++) names[i] = (char *const *)&g->values[i]->name;
  qsort(names, (size_t)g->n_values, sizeof *names, cmp_name_ptrs);
  int rc = PARE_OK;
  for (int i = 1; i < g->n_values; i++)
    if (strcmp(*names[i - 1], *names[i]) == 0) {
      rc = pare_errf(V->err, "value name %%%s is used by more than one value", *names[i]);
      break;
    }
  free(names);
  return rc;
}

/* ------------------------------------------------------------------ nodes */

static int check_attrs(const pare_node *n, pare_err *err) {
  for (int a = 0; a < n->n_attrs; a++) {
    const pare_attr *at = &n->attrs[a];
    if (!at->name) return pare_errf(err, "attribute %d has no name", a);
    for (int b = 0; b < a; b++)
      if (strcmp(n->attrs[b].name, at->name) == 0)
        return pare_errf(err, "attribute '%s' appears twice", at->name);
    switch (at->type) {
    case PARE_ATTR_INT:
    case PARE_ATTR_FLOAT:
      break;
    case PARE_ATTR_STRING:
      if (!at->s) return pare_errf(err, "string attribute '%s' has no string", at->name);
      break;
    case PARE_ATTR_TENSOR:
      if (!at->t) return pare_errf(err, "tensor attribute '%s' has no tensor", at->name);
      if (check_tensor(at->t, err)) return pare_err_prefix(err, "attribute '%s'", at->name);
      break;
    case PARE_ATTR_INTS:
    case PARE_ATTR_FLOATS:
    case PARE_ATTR_STRINGS: {
      const void *arr = at->type == PARE_ATTR_INTS     ? (const void *)at->ints
                        : at->type == PARE_ATTR_FLOATS ? (const void *)at->floats
                                                       : (const void *)at->strings;
      if (at->n < 0)
        return pare_errf(err, "attribute '%s' has %lld elements", at->name, (long long)at->n);
      if (at->n > 0 && !arr)
        return pare_errf(err, "attribute '%s' has %lld elements but no array", at->name,
                         (long long)at->n);
      if (at->type == PARE_ATTR_STRINGS)
        for (int64_t k = 0; k < at->n; k++)
          if (!at->strings[k])
            return pare_errf(err, "attribute '%s' string %lld is NULL", at->name, (long long)k);
      break;
    }
    default:
      return pare_errf(err, "attribute '%s' has unknown type %d", at->name, (int)at->type);
    }
  }
  return PARE_OK;
}

/* Shape of the node: counts, arrays, index ranges, live op, attributes. */
static int check_node_shape(verifier *V, int k) {
  const pare_graph *g = V->g;
  const pare_node *n = g->nodes[k];
  char nd[PARE_ERR_LEN / 2];
  if (!n) return pare_errf(V->err, "node #%d is NULL", k);
  node_desc(g, k, nd, sizeof nd);
  if (!n->op) return pare_errf(V->err, "%s is dead (op NULL): call pare_graph_compact", nd);
  if (n->n_inputs < 0 || n->n_outputs < 0 || n->n_attrs < 0 || (n->n_inputs && !n->inputs) ||
      (n->n_outputs && !n->outputs) || (n->n_attrs && !n->attrs))
    return pare_errf(V->err, "%s has inconsistent input/output/attribute arrays", nd);
  for (int j = 0; j < n->n_inputs; j++)
    if (n->inputs[j] < -1 || n->inputs[j] >= g->n_values)
      return pare_errf(V->err, "%s: input %d is value index %d, out of range", nd, j, n->inputs[j]);
  for (int j = 0; j < n->n_outputs; j++)
    if (n->outputs[j] < -1 || n->outputs[j] >= g->n_values)
      return pare_errf(V->err, "%s: output %d is value index %d, out of range", nd, j,
                       n->outputs[j]);
  if (check_attrs(n, V->err)) return pare_err_prefix(V->err, "%s", nd);
  return PARE_OK;
}

/* Records which node defines each value; a value has at most one definition. */
static int record_producers(verifier *V) {
  const pare_graph *g = V->g;
  char nd[PARE_ERR_LEN / 3], od[PARE_ERR_LEN / 3];
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    for (int j = 0; j < n->n_outputs; j++) {
      int v = n->outputs[j];
      if (v < 0) continue;
      const char *name = value_name(g, v);
      if (V->producer[v] >= 0)
        return pare_errf(V->err, "value %%%s is defined by %s and by %s", name,
                         node_desc(g, V->producer[v], od, sizeof od),
                         node_desc(g, k, nd, sizeof nd));
      if (is_const(g->values[v]))
        return pare_errf(V->err, "%s defines %%%s, which is a constant",
                         node_desc(g, k, nd, sizeof nd), name);
      if (V->is_input[v])
        return pare_errf(V->err, "%s defines %%%s, which is a graph input",
                         node_desc(g, k, nd, sizeof nd), name);
      V->producer[v] = k;
    }
  }
  return PARE_OK;
}

/* Walks nodes in order: every input must already be defined. */
static int check_order(verifier *V) {
  const pare_graph *g = V->g;
  char nd[PARE_ERR_LEN / 3], od[PARE_ERR_LEN / 3];
  for (int i = 0; i < g->n_values; i++) V->defined[i] = V->is_input[i] || is_const(g->values[i]);
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    for (int j = 0; j < n->n_inputs; j++) {
      int v = n->inputs[j];
      if (v < 0 || V->defined[v]) continue;
      node_desc(g, k, nd, sizeof nd);
      int p = V->producer[v];
      if (p == k) return pare_errf(V->err, "%s reads its own output %%%s", nd, value_name(g, v));
      if (p > k)
        return pare_errf(V->err,
                         "%s uses %%%s before it is defined by %s (nodes must be in "
                         "topological order)",
                         nd, value_name(g, v), node_desc(g, p, od, sizeof od));
      return pare_errf(V->err,
                       "%s uses %%%s, which nothing defines (not a graph input, constant or "
                       "node output)",
                       nd, value_name(g, v));
    }
    for (int j = 0; j < n->n_outputs; j++)
      if (n->outputs[j] >= 0) V->defined[n->outputs[j]] = 1;
  }
  return PARE_OK;
}

/* ------------------------------------------------------------------ graph */

static int verify(verifier *V) {
  const pare_graph *g = V->g;
  pare_err *err = V->err;
  for (int i = 0; i < g->n_values; i++) {
    if (!g->values[i]) return pare_errf(err, "value #%d is NULL", i);
    if (!g->values[i]->name) return pare_errf(err, "value #%d has no name", i);
  }
  if (check_names_unique(V)) return PARE_ERR;
  for (int j = 0; j < g->n_inputs; j++) {
    int v = g->inputs[j];
    if (v < 0 || v >= g->n_values)
      return pare_errf(err, "graph input %d is value index %d, out of range", j, v);
    if (V->is_input[v]) return pare_errf(err, "graph input %%%s is listed twice", value_name(g, v));
    if (is_const(g->values[v]))
      return pare_errf(err, "graph input %%%s also has constant data", value_name(g, v));
    V->is_input[v] = 1;
  }
  for (int j = 0; j < g->n_outputs; j++) {
    int v = g->outputs[j];
    if (v < 0 || v >= g->n_values)
      return pare_errf(err, "graph output %d is value index %d, out of range", j, v);
    V->is_output[v] = 1;
  }
  for (int k = 0; k < g->n_nodes; k++)
    if (check_node_shape(V, k)) return PARE_ERR;
  if (record_producers(V) || check_order(V)) return PARE_ERR;
  for (int j = 0; j < g->n_outputs; j++)
    if (!V->defined[g->outputs[j]])
      return pare_errf(err, "graph output %%%s is not defined (no input, constant or node)",
                       value_name(g, g->outputs[j]));
  for (int i = 0; i < g->n_values; i++)
    if (check_value(V, i)) return PARE_ERR;
  return PARE_OK;
}

int pare_graph_verify(const pare_graph *g, pare_err *err) {
  if (!g) return pare_errf(err, "no graph");
  if (g->n_values < 0 || g->n_nodes < 0 || g->n_inputs < 0 || g->n_outputs < 0 ||
      (g->n_values && !g->values) || (g->n_nodes && !g->nodes) || (g->n_inputs && !g->inputs) ||
      (g->n_outputs && !g->outputs))
    return pare_errf(err, "graph has inconsistent value/node/input/output arrays");
  size_t nv = (size_t)g->n_values + 1;
  verifier V = {.g = g, .err = err};
  V.producer = malloc(nv * sizeof *V.producer);
  V.is_input = calloc(nv, 1);
  V.is_output = calloc(nv, 1);
  V.defined = calloc(nv, 1);
  int rc;
  if (!V.producer || !V.is_input || !V.is_output || !V.defined) {
    rc = pare_errf(err, "out of memory");
  } else {
    for (int i = 0; i < g->n_values; i++) V.producer[i] = -1;
    rc = verify(&V);
  }
  free(V.producer);
  free(V.is_input);
  free(V.is_output);
  free(V.defined);
  return rc;
}
