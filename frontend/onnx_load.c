/*
 * onnx_load.c - ModelProto -> pare_graph.
 *
 * Order of work: initializers, graph inputs, every node output (Constant
 * nodes become constants here), nodes with their inputs resolved, graph
 * outputs, value_info shapes; then toposort (cycles), the unsupported-op
 * check (all offenders in one message), opset normalization, toposort again
 * and compaction (unused initializers dropped).
 */
#include "frontend/frontend_internal.h"
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LISTED_UNSUPPORTED 20

typedef struct loader {
  const Onnx__GraphProto *gp;
  const char *dir; /* folder for external data, NULL when loading from memory */
  pare_graph *g;
} loader;

static int is_onnx_domain(const char *d) {
  return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

static int is_constant_node(const Onnx__NodeProto *np) {
  return is_onnx_domain(np->domain) && np->op_type && strcmp(np->op_type, "Constant") == 0;
}

static const char *op_of(const Onnx__NodeProto *np) {
  return np->op_type ? np->op_type : "";
}

/* "node 'conv1' (Conv)", "node #12 (com.microsoft.FusedConv)". */
static void node_desc(const Onnx__NodeProto *np, size_t k, char *buf, size_t len) {
  char op[160];
  if (is_onnx_domain(np->domain))
    snprintf(op, sizeof op, "%s", op_of(np));
  else
    snprintf(op, sizeof op, "%s.%s", np->domain, op_of(np));
  if (np->name && *np->name)
    snprintf(buf, len, "node '%s' (%s)", np->name, op);
  else
    snprintf(buf, len, "node #%zu (%s)", k, op);
}

static int find_opset(const Onnx__ModelProto *m, int64_t *opset, pare_err *err) {
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *os = m->opset_import[i];
    if (!is_onnx_domain(os->domain)) continue;
    *opset = os->has_version ? os->version : 1;
    if (*opset < 1) return pare_errf(err, "invalid ai.onnx opset %lld", (long long)*opset);
    return PARE_OK;
  }
  /* Models made only of other domains (e.g. training ops) need no ai.onnx
   * opset; their nodes are reported as unsupported. */
  for (size_t k = 0; m->graph && k < m->graph->n_node; k++)
    if (is_onnx_domain(m->graph->node[k]->domain))
      return pare_errf(err, "model declares no ai.onnx opset (opset_import) but uses ai.onnx ops");
  *opset = 18;
  return PARE_OK;
}

/* ------------------------------------------------------------ value types */

/* dtype/shape from a TypeProto; dim_param names point into the proto. */
typedef struct value_type {
  pare_dtype dtype;
  pare_shape shape;
  const char *dim_param[PARE_MAX_RANK];
} value_type;

static void dims_from_proto(const Onnx__TensorShapeProto *sp, value_type *vt) {
  vt->shape = pare_shape_make((int)sp->n_dim, NULL);
  for (size_t i = 0; i < sp->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = sp->dim[i];
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value >= 0)
      vt->shape.dims[i] = d->dim_value;
    else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
             d->dim_param && *d->dim_param)
      vt->dim_param[i] = d->dim_param;
  }
}

static int parse_type(const Onnx__TypeProto *tp, value_type *vt, pare_err *err) {
  memset(vt, 0, sizeof *vt);
  vt->dtype = PARE_UNDEFINED;
  vt->shape = pare_shape_unknown();
  if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) return PARE_OK;
  if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    return pare_errf(err, "is not a tensor (sequence, map, optional and sparse types are not "
                          "supported)");
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  if (tt->has_elem_type && tt->elem_type != 0 && pare_fe_dtype(tt->elem_type, &vt->dtype, err))
    return PARE_ERR;
  if (!tt->shape) return PARE_OK;
  if (tt->shape->n_dim > PARE_MAX_RANK)
    return pare_errf(err, "rank %zu exceeds the maximum of %d", tt->shape->n_dim, PARE_MAX_RANK);
  dims_from_proto(tt->shape, vt);
  return PARE_OK;
}

static int apply_type(pare_value *v, const value_type *vt, pare_err *err) {
  if (vt->dtype != PARE_UNDEFINED) v->dtype = vt->dtype;
  if (vt->shape.rank < 0) return PARE_OK;
  v->shape = vt->shape;
  for (int i = 0; i < PARE_MAX_RANK; i++) {
    free(v->dim_param[i]);
    v->dim_param[i] = NULL;
    if (i < vt->shape.rank && vt->dim_param[i] &&
        !(v->dim_param[i] = pare_strdup(vt->dim_param[i])))
      return pare_errf(err, "out of memory");
  }
  return PARE_OK;
}

/* ------------------------------------------------------------ graph parts */

static int add_initializers(loader *L, pare_err *err) {
  const Onnx__GraphProto *gp = L->gp;
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    const char *name = tp->name ? tp->name : "";
    pare_tensor *t;
    if (!*name) return pare_errf(err, "initializer #%zu has no name", i);
    if (pare_fe_decode_tensor(tp, L->dir, &t, err) || pare_graph_add_const(L->g, name, t, err) < 0)
      return pare_err_prefix(err, "initializer '%s'", name);
  }
  for (size_t i = 0; i < gp->n_sparse_initializer; i++) {
    const Onnx__SparseTensorProto *sp = gp->sparse_initializer[i];
    const char *name = sp->values && sp->values->name ? sp->values->name : "";
    pare_tensor *t;
    if (!*name) return pare_errf(err, "sparse initializer #%zu has no name", i);
    if (pare_fe_densify_sparse(sp, L->dir, &t, err) || pare_graph_add_const(L->g, name, t, err) < 0)
      return pare_err_prefix(err, "sparse initializer '%s'", name);
  }
  return PARE_OK;
}

static int add_graph_input(loader *L, const Onnx__ValueInfoProto *vi, pare_err *err) {
  const char *name = vi->name ? vi->name : "";
  int idx = pare_graph_find_value(L->g, name);
  if (idx >= 0 && L->g->values[idx]->init) return PARE_OK; /* an initializer, not an input */
  if (!*name) return pare_errf(err, "graph input without a name");
  if (idx >= 0) return pare_errf(err, "graph input '%s' is declared twice", name);
  value_type vt;
  if (parse_type(vi->type, &vt, err)) return pare_err_prefix(err, "graph input '%s'", name);
  idx = pare_graph_add_value(L->g, name, vt.dtype, &vt.shape, err);
  if (idx < 0 || apply_type(L->g->values[idx], &vt, err) || pare_graph_add_input(L->g, idx, err))
    return pare_err_prefix(err, "graph input '%s'", name);
  return PARE_OK;
}

/* Pass A: every node output becomes a value, so pass B can resolve inputs
 * regardless of node order. Constant nodes become constants right here. */
static int declare_outputs(loader *L, const Onnx__NodeProto *np, pare_err *err) {
  if (is_constant_node(np)) {
    if (np->n_output != 1 || !np->output[0] || !*np->output[0])
      return pare_errf(err, "Constant must have exactly one named output");
    pare_tensor *t;
    if (pare_fe_constant_value(np, L->dir, &t, err)) return PARE_ERR;
    return pare_graph_add_const(L->g, np->output[0], t, err) < 0 ? PARE_ERR : PARE_OK;
  }
  for (size_t j = 0; j < np->n_output; j++) {
    const char *name = np->output[j];
    if (name && *name && pare_graph_add_value(L->g, name, PARE_UNDEFINED, NULL, err) < 0)
      return PARE_ERR;
  }
  return PARE_OK;
}

/* Value indices for names; "" -> -1 (omitted optional). */
static int resolve_names(const pare_graph *g, char **names, size_t n, int *out, pare_err *err) {
  for (size_t j = 0; j < n; j++) {
    if (!names[j] || !*names[j]) {
      out[j] = -1;
      continue;
    }
    out[j] = pare_graph_find_value(g, names[j]);
    if (out[j] < 0) return pare_errf(err, "reads undefined value '%s'", names[j]);
  }
  return PARE_OK;
}

/* Pass B: the node itself, inputs resolved, attributes copied. */
static int add_node(loader *L, const Onnx__NodeProto *np, pare_err *err) {
  if (np->n_input > INT32_MAX / 2 || np->n_output > INT32_MAX / 2)
    return pare_errf(err, "too many inputs or outputs");
  int *ins = malloc((np->n_input + 1) * sizeof *ins);
  int *outs = malloc((np->n_output + 1) * sizeof *outs);
  int rc = ins && outs ? PARE_OK : pare_errf(err, "out of memory");
  if (!rc) rc = resolve_names(L->g, np->input, np->n_input, ins, err);
  if (!rc) rc = resolve_names(L->g, np->output, np->n_output, outs, err);
  int idx = PARE_ERR;
  if (!rc)
    idx = pare_graph_add_node(L->g, op_of(np), np->name, ins, (int)np->n_input, outs,
                              (int)np->n_output, err);
  free(ins);
  free(outs);
  if (rc || idx < 0) return PARE_ERR;
  pare_node *n = L->g->nodes[idx];
  if (!is_onnx_domain(np->domain) && !(n->domain = pare_strdup(np->domain)))
    return pare_errf(err, "out of memory");
  return pare_fe_node_attrs(n, np, L->dir, err);
}

static int add_nodes(loader *L, pare_err *err) {
  const Onnx__GraphProto *gp = L->gp;
  char desc[256];
  for (size_t k = 0; k < gp->n_node; k++) {
    if (declare_outputs(L, gp->node[k], err)) {
      node_desc(gp->node[k], k, desc, sizeof desc);
      return pare_err_prefix(err, "%s", desc);
    }
  }
  for (size_t k = 0; k < gp->n_node; k++) {
    if (is_constant_node(gp->node[k])) continue;
    if (add_node(L, gp->node[k], err)) {
      node_desc(gp->node[k], k, desc, sizeof desc);
      return pare_err_prefix(err, "%s", desc);
    }
  }
  return PARE_OK;
}

static int add_graph_outputs(loader *L, pare_err *err) {
  for (size_t i = 0; i < L->gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = L->gp->output[i];
    const char *name = vi->name ? vi->name : "";
    int idx = pare_graph_find_value(L->g, name);
    if (idx < 0) return pare_errf(err, "graph output '%s' is not produced by any node", name);
    value_type vt;
    if (parse_type(vi->type, &vt, err)) return pare_err_prefix(err, "graph output '%s'", name);
    if (!L->g->values[idx]->init && apply_type(L->g->values[idx], &vt, err)) return PARE_ERR;
    if (pare_graph_add_output(L->g, idx, err)) return PARE_ERR;
  }
  return PARE_OK;
}

/* value_info is advisory: entries naming unknown values or non-tensors are ignored. */
static int apply_value_info(loader *L, pare_err *err) {
  for (size_t i = 0; i < L->gp->n_value_info; i++) {
    const Onnx__ValueInfoProto *vi = L->gp->value_info[i];
    int idx = vi->name ? pare_graph_find_value(L->g, vi->name) : -1;
    value_type vt;
    if (idx < 0 || L->g->values[idx]->init || parse_type(vi->type, &vt, NULL)) continue;
    if (apply_type(L->g->values[idx], &vt, err)) return PARE_ERR;
  }
  return PARE_OK;
}

/* --------------------------------------------------------- unsupported ops */

static int node_unsupported(const Onnx__NodeProto *np) {
  if (!is_onnx_domain(np->domain)) return 1;
  for (size_t i = 0; i < np->n_attribute; i++)
    if (pare_fe_attr_unrepresentable(np->attribute[i])) return 1;
  const char *op = op_of(np);
  if (strcmp(op, "Constant") == 0) return 0;      /* becomes a constant value */
  if (strcmp(op, "Upsample") == 0) op = "Resize"; /* normalize.c rewrites it */
  return pare_op_find(op) == NULL;
}

/* One error listing every unsupported node (the first MAX_LISTED_UNSUPPORTED). */
static int check_unsupported(const loader *L, pare_err *err) {
  char list[PARE_ERR_LEN], desc[256];
  size_t used = 0, count = 0, listed = 0;
  list[0] = 0;
  for (size_t k = 0; k < L->gp->n_node; k++) {
    if (!node_unsupported(L->gp->node[k])) continue;
    count++;
    node_desc(L->gp->node[k], k, desc, sizeof desc);
    size_t need = strlen(desc) + 2;
    if (listed < MAX_LISTED_UNSUPPORTED && used + need < sizeof list - 200) {
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", listed ? ", " : "", desc);
      listed++;
    }
  }
  if (count == 0) return PARE_OK;
  if (listed < count)
    return pare_errf(err, "%zu unsupported op%s: %s, and %zu more", count, count > 1 ? "s" : "",
                     list, count - listed);
  return pare_errf(err, "%zu unsupported op%s: %s", count, count > 1 ? "s" : "", list);
}

/* ----------------------------------------------------------- memory cap */

/* Bytes tp's dims declare, or 0 when it would be refused later anyway (bad
 * dtype or dims: decoding reports those with a better message). */
static size_t declared_bytes(int32_t onnx_type, const int64_t *dims, size_t n_dims) {
  pare_dtype dt;
  pare_shape shape;
  size_t nbytes;
  if (pare_fe_dtype(onnx_type, &dt, NULL) ||
      pare_fe_check_dims(dt, dims, n_dims, &shape, &nbytes, NULL))
    return 0;
  return nbytes;
}

static size_t add_saturating(size_t a, size_t b) {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Refuses a graph whose initializers and Constant nodes together declare
 * more bytes than the memory cap, before any of them is allocated: each one
 * alone may be within pare_max_tensor_bytes. */
static int check_declared_memory(const Onnx__GraphProto *gp, pare_err *err) {
  size_t total = 0;
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    total = add_saturating(total, declared_bytes(tp->data_type, tp->dims, tp->n_dims));
  }
  for (size_t i = 0; i < gp->n_sparse_initializer; i++) {
    const Onnx__SparseTensorProto *sp = gp->sparse_initializer[i];
    if (sp->values)
      total = add_saturating(total, declared_bytes(sp->values->data_type, sp->dims, sp->n_dims));
  }
  for (size_t k = 0; k < gp->n_node; k++) {
    const Onnx__NodeProto *np = gp->node[k];
    if (!np || !is_constant_node(np)) continue;
    for (size_t a = 0; a < np->n_attribute; a++) {
      const Onnx__AttributeProto *ap = np->attribute[a];
      if (ap && ap->t)
        total = add_saturating(total, declared_bytes(ap->t->data_type, ap->t->dims, ap->t->n_dims));
      if (ap && ap->sparse_tensor && ap->sparse_tensor->values)
        total = add_saturating(total,
                               declared_bytes(ap->sparse_tensor->values->data_type,
                                              ap->sparse_tensor->dims, ap->sparse_tensor->n_dims));
    }
  }
  return pare_memory_check(total, "the initializers and constants", err);
}

/* protobuf-c's allocations while it parses a model, counted against the
 * memory cap with the file's bytes: a file of many tiny messages (empty
 * nodes, say) unpacks to tens of times its size. */
typedef struct parse_budget {
  size_t used;
  int over;
} parse_budget;

static void *budget_alloc(void *data, size_t size) {
  parse_budget *b = data;
  if (pare_memory_check(add_saturating(b->used, size), "", NULL)) {
    b->over = 1;
    return NULL;
  }
  void *p = malloc(size);
  if (p) b->used += size;
  return p;
}

static void budget_free(void *data, void *p) {
  (void)data;
  free(p);
}

/* ------------------------------------------------------------ entry points */

/* pare_graph_toposort, skipped for node-less graphs (ir.c memcpy()s from a NULL
 * node array when there are no nodes, which UBSan rejects). */
static int toposort(pare_graph *g, pare_err *err) {
  return g->n_nodes ? pare_graph_toposort(g, err) : PARE_OK;
}

static int build_graph(loader *L, int64_t opset, int flags, pare_err *err) {
  for (size_t i = 0; i < L->gp->n_input; i++)
    if (!L->gp->input[i]) return pare_errf(err, "graph input #%zu is empty", i);
  if (add_initializers(L, err)) return PARE_ERR;
  for (size_t i = 0; i < L->gp->n_input; i++)
    if (add_graph_input(L, L->gp->input[i], err)) return PARE_ERR;
  if (add_nodes(L, err) || add_graph_outputs(L, err) || apply_value_info(L, err)) return PARE_ERR;
  if (toposort(L->g, err)) return PARE_ERR;
  if (!(flags & PARE_FE_ALLOW_UNSUPPORTED) && check_unsupported(L, err)) return PARE_ERR;
  L->g->opset = opset;
  if (pare_fe_normalize(L->g, opset, err)) return PARE_ERR;
  if (toposort(L->g, err)) return PARE_ERR;
  return pare_graph_compact(L->g, err);
}

pare_graph *pare_fe_load_bytes(const void *data, size_t len, const char *label, const char *dir,
                               int flags, pare_err *err) {
  if (!label) label = "<memory>";
  if (len == 0) {
    pare_errf(err, "%s: empty model data", label);
    return NULL;
  }
  /* Real models nest a handful of levels; 64 leaves room for control flow. */
  if (pare_fe_check_nesting(data, len, 64, err)) {
    pare_err_prefix(err, "%s", label);
    return NULL;
  }
  parse_budget budget = {len, 0};
  ProtobufCAllocator alloc = {budget_alloc, budget_free, &budget};
  Onnx__ModelProto *m = onnx__model_proto__unpack(&alloc, len, data);
  if (!m && budget.over) {
    pare_errf(err, "%s: parsing the model takes more than the %zu-byte memory limit (--max-memory)",
              label, pare_max_memory);
    return NULL;
  }
  if (!m) {
    pare_errf(err, "%s: not a valid ONNX model (protobuf parse failed; truncated or not .onnx?)",
              label);
    return NULL;
  }
  int64_t opset = 0;
  pare_graph *g = NULL;
  int rc = PARE_OK;
  if (!m->graph) rc = pare_errf(err, "model has no graph");
  if (!rc) rc = find_opset(m, &opset, err);
  if (!rc) rc = check_declared_memory(m->graph, err);
  if (!rc) {
    g = pare_graph_new(m->graph->name && *m->graph->name ? m->graph->name : "main");
    if (!g) rc = pare_errf(err, "out of memory");
  }
  if (!rc) {
    loader L = {m->graph, dir, g};
    rc = build_graph(&L, opset, flags, err);
  }
  onnx__model_proto__free_unpacked(m, &alloc);
  if (rc) {
    pare_graph_free(g);
    pare_err_prefix(err, "%s", label);
    return NULL;
  }
  return g;
}

pare_graph *pare_onnx_load(const char *path, pare_err *err) {
  uint8_t *data;
  size_t len;
  if (pare_fe_read_file(path, &data, &len, err)) {
    pare_err_prefix(err, "%s", path);
    return NULL;
  }
  char *dir = pare_fe_dirname(path);
  pare_graph *g = NULL;
  if (!dir)
    pare_errf(err, "%s: out of memory", path);
  else
    g = pare_fe_load_bytes(data, len, path, dir, 0, err);
  free(dir);
  free(data);
  return g;
}

pare_graph *pare_onnx_load_buffer(const void *data, size_t len, const char *label, pare_err *err) {
  return pare_fe_load_bytes(data, len, label, NULL, 0, err);
}
