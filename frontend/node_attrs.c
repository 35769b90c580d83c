/*
 * node_attrs.c - AttributeProto -> pare_attr, and the value of Constant nodes.
 */
#include "frontend/frontend_internal.h"

#include <stdlib.h>
#include <string.h>

typedef Onnx__AttributeProto__AttributeType attr_kind;

/* The attribute's type; very old exporters leave `type` unset, so fall back
 * to whichever value field is present. UNDEFINED if it holds nothing. */
static attr_kind attr_type(const Onnx__AttributeProto *ap) {
  if (ap->has_type && ap->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) return ap->type;
  if (ap->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  if (ap->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  if (ap->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  if (ap->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  if (ap->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
  if (ap->sparse_tensor) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR;
  if (ap->tp) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO;
  if (ap->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  if (ap->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  if (ap->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
  if (ap->n_tensors) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS;
  if (ap->n_graphs) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS;
  if (ap->n_sparse_tensors) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS;
  if (ap->n_type_protos) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS;
  return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

int pare_fe_attr_unrepresentable(const Onnx__AttributeProto *ap) {
  switch (attr_type(ap)) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
    return 1;
  default:
    return 0;
  }
}

/* NUL-terminated copy of protobuf bytes. */
static char *bytes_dup(ProtobufCBinaryData b) {
  char *s = malloc(b.len + 1);
  if (!s) return NULL;
  if (b.len) memcpy(s, b.data, b.len);
  s[b.len] = 0;
  return s;
}

static void *array_dup(const void *src, size_t n, size_t elem) {
  void *p = malloc((n ? n : 1) * elem);
  if (p && n) memcpy(p, src, n * elem);
  return p;
}

static int strings_from_proto(pare_attr *a, const Onnx__AttributeProto *ap, pare_err *err) {
  a->strings = calloc(ap->n_strings ? ap->n_strings : 1, sizeof *a->strings);
  if (!a->strings) return pare_errf(err, "out of memory");
  a->n = (int64_t)ap->n_strings; /* set first so pare_attr_clear frees partial copies */
  for (size_t k = 0; k < ap->n_strings; k++)
    if (!(a->strings[k] = bytes_dup(ap->strings[k]))) return pare_errf(err, "out of memory");
  return PARE_OK;
}

/* Fills a (zeroed) from ap of a representable type. */
static int attr_from_proto(pare_attr *a, const Onnx__AttributeProto *ap, attr_kind kind,
                           const char *dir, pare_err *err) {
  a->name = pare_strdup(ap->name ? ap->name : "");
  if (!a->name) return pare_errf(err, "out of memory");
  switch (kind) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
    a->type = PARE_ATTR_INT;
    a->i = ap->i;
    return PARE_OK;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
    a->type = PARE_ATTR_FLOAT;
    a->f = ap->f;
    return PARE_OK;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
    a->type = PARE_ATTR_STRING;
    a->s = bytes_dup(ap->s);
    return a->s ? PARE_OK : pare_errf(err, "out of memory");
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
    a->type = PARE_ATTR_TENSOR;
    if (!ap->t) return pare_errf(err, "tensor attribute has no tensor");
    return pare_fe_decode_tensor(ap->t, dir, &a->t, err);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
    a->type = PARE_ATTR_INTS;
    a->n = (int64_t)ap->n_ints;
    a->ints = array_dup(ap->ints, ap->n_ints, sizeof *a->ints);
    return a->ints ? PARE_OK : pare_errf(err, "out of memory");
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
    a->type = PARE_ATTR_FLOATS;
    a->n = (int64_t)ap->n_floats;
    a->floats = array_dup(ap->floats, ap->n_floats, sizeof *a->floats);
    return a->floats ? PARE_OK : pare_errf(err, "out of memory");
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
    a->type = PARE_ATTR_STRINGS;
    return strings_from_proto(a, ap, err);
  default:
    return pare_errf(err, "holds a subgraph, sparse tensor or type, which pare cannot represent");
  }
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ONNX allows one attribute of each name (which of two an op read would be
 * arbitrary, and pare_graph_verify refuses such a node). Sorted rather than
 * compared pairwise so that a hostile node with 10^6 attributes stays cheap. */
static int check_unique_names(const pare_node *n, pare_err *err) {
  if (n->n_attrs < 2) return PARE_OK;
  char **names = malloc((size_t)n->n_attrs * sizeof *names);
  if (!names) return pare_errf(err, "out of memory");
  for (int k = 0; k < n->n_attrs; k++) names[k] = n->attrs[k].name;
  qsort(names, (size_t)n->n_attrs, sizeof *names, cmp_names);
  int rc = PARE_OK;
  for (int k = 1; k < n->n_attrs && rc == PARE_OK; k++)
    if (strcmp(names[k - 1], names[k]) == 0)
      rc = pare_errf(err, "attribute '%s' appears twice", names[k]);
  free(names);
  return rc;
}

int pare_fe_node_attrs(pare_node *n, const Onnx__NodeProto *np, const char *dir, pare_err *err) {
  if (np->n_attribute == 0) return PARE_OK;
  n->attrs = calloc(np->n_attribute, sizeof *n->attrs);
  if (!n->attrs) return pare_errf(err, "out of memory");
  for (size_t k = 0; k < np->n_attribute; k++) {
    const Onnx__AttributeProto *ap = np->attribute[k];
    attr_kind kind = attr_type(ap);
    if (kind == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) continue; /* holds nothing */
    /* Subgraphs etc.: the loader lists such nodes as unsupported. */
    if (pare_fe_attr_unrepresentable(ap)) continue;
    pare_attr a;
    memset(&a, 0, sizeof a);
    if (attr_from_proto(&a, ap, kind, dir, err)) {
      pare_attr_clear(&a);
      return pare_err_prefix(err, "attribute '%s'", ap->name ? ap->name : "");
    }
    n->attrs[n->n_attrs++] = a;
  }
  return check_unique_names(n, err);
}

/* ---------------------------------------------------------- Constant */

/* A new f32 or i64 tensor of rank 0 (scalar) or 1 holding n values. */
static pare_tensor *small_tensor(pare_dtype dt, int rank, const void *vals, size_t n,
                                 pare_err *err) {
  int64_t dim = (int64_t)n;
  pare_shape s = pare_shape_make(rank, &dim);
  pare_tensor *t = pare_tensor_new(dt, &s, err);
  if (t && n) memcpy(t->data, vals, n * pare_dtype_size(dt));
  return t;
}

static int constant_from_attr(const Onnx__AttributeProto *ap, const char *dir, pare_tensor **out,
                              pare_err *err) {
  const char *name = ap->name;
  if (strcmp(name, "value") == 0) {
    if (!ap->t) return pare_errf(err, "attribute 'value' has no tensor");
    return pare_fe_decode_tensor(ap->t, dir, out, err);
  }
  if (strcmp(name, "sparse_value") == 0) {
    if (!ap->sparse_tensor) return pare_errf(err, "attribute 'sparse_value' has no tensor");
    return pare_fe_densify_sparse(ap->sparse_tensor, dir, out, err);
  }
  if (strcmp(name, "value_float") == 0)
    *out = small_tensor(PARE_F32, 0, &ap->f, 1, err);
  else if (strcmp(name, "value_floats") == 0)
    *out = small_tensor(PARE_F32, 1, ap->floats, ap->n_floats, err);
  else if (strcmp(name, "value_int") == 0)
    *out = small_tensor(PARE_I64, 0, &ap->i, 1, err);
  else if (strcmp(name, "value_ints") == 0)
    *out = small_tensor(PARE_I64, 1, ap->ints, ap->n_ints, err);
  else if (strcmp(name, "value_string") == 0 || strcmp(name, "value_strings") == 0)
    return pare_errf(err, "string constants ('%s') are not supported", name);
  else
    return pare_errf(err, "unknown Constant attribute '%s'", name);
  return *out ? PARE_OK : PARE_ERR;
}

int pare_fe_constant_value(const Onnx__NodeProto *np, const char *dir, pare_tensor **out,
                           pare_err *err) {
  *out = NULL;
  if (np->n_attribute != 1 || !np->attribute[0]->name)
    return pare_errf(err, "Constant needs exactly one value attribute, has %zu", np->n_attribute);
  return constant_from_attr(np->attribute[0], dir, out, err);
}
