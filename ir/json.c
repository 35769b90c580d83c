/*
 * json.c - JSON summary of a pare_graph (format documented in ir/text.h).
 *
 * Builders add to a parent and latch the first allocation failure in
 * `json.ok`, so the code reads as a plain description of the output and the
 * OOM check happens once at the end.
 */
#include "ir/text.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct json {
  int ok;
} json;

/* Adds item under key (object) or appends it (key NULL); returns item. */
static cJSON *add(json *J, cJSON *parent, const char *key, cJSON *item) {
  if (!item || !parent) {
    J->ok = 0;
    cJSON_Delete(item);
    return NULL;
  }
  cJSON_bool added =
      key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
  if (!added) {
    J->ok = 0;
    cJSON_Delete(item);
    return NULL;
  }
  return item;
}

/* Integers JSON's doubles cannot hold exactly become decimal strings. */
static cJSON *int_item(int64_t v) {
  const int64_t exact = (int64_t)1 << 53;
  if (v >= -exact && v <= exact) return cJSON_CreateNumber((double)v);
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  return cJSON_CreateString(buf);
}

static cJSON *u64_item(uint64_t v) {
  if (v <= (uint64_t)1 << 53) return cJSON_CreateNumber((double)v);
  char buf[32];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
  return cJSON_CreateString(buf);
}

static cJSON *float_item(double v) {
  if (isnan(v)) return cJSON_CreateString("nan");
  if (isinf(v)) return cJSON_CreateString(v < 0 ? "-inf" : "inf");
  return cJSON_CreateNumber(v);
}

static cJSON *string_item(const char *s) {
  return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *shape_item(json *J, const pare_shape *s) {
  if (s->rank < 0 || s->rank > PARE_MAX_RANK) return cJSON_CreateNull();
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; arr && i < s->rank; i++) add(J, arr, NULL, int_item(s->dims[i]));
  return arr;
}

static void add_type(json *J, cJSON *obj, const pare_value *v) {
  add(J, obj, "dtype", cJSON_CreateString(pare_dtype_name(v->dtype)));
  add(J, obj, "shape", shape_item(J, &v->shape));
  int any = 0;
  for (int i = 0; i < v->shape.rank && i < PARE_MAX_RANK; i++) any |= v->dim_param[i] != NULL;
  if (!any) return;
  cJSON *params = add(J, obj, "dim_params", cJSON_CreateArray());
  for (int i = 0; params && i < v->shape.rank; i++)
    add(J, params, NULL, string_item(v->dim_param[i]));
}

static cJSON *crc_item(const pare_tensor *t) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08x", (unsigned)pare_tensor_crc32(t));
  return cJSON_CreateString(buf);
}

/* {dtype, shape, bytes, crc32[, data]}; data only for small numeric tensors. */
static cJSON *tensor_item(json *J, const pare_tensor *t, int with_data) {
  cJSON *obj = cJSON_CreateObject();
  if (!obj || !t) return obj;
  add(J, obj, "dtype", cJSON_CreateString(pare_dtype_name(t->dtype)));
  add(J, obj, "shape", shape_item(J, &t->shape));
  add(J, obj, "bytes", int_item((int64_t)t->nbytes));
  add(J, obj, "crc32", crc_item(t));
  int64_t n = t->shape.rank >= 0 ? pare_tensor_numel(t) : 0;
  size_t es = pare_dtype_size(t->dtype);
  if (with_data && t->data && es && n <= 16 && (size_t)n * es <= t->nbytes &&
      t->dtype != PARE_F16) {
    cJSON *data = add(J, obj, "data", cJSON_CreateArray());
    for (int64_t i = 0; data && i < n; i++) {
      if (pare_dtype_is_float(t->dtype))
        add(J, data, NULL, float_item(pare_tensor_get_f64(t, i)));
      else if (t->dtype == PARE_U64)
        add(J, data, NULL, u64_item(((const uint64_t *)t->data)[i]));
      else
        add(J, data, NULL, int_item(pare_tensor_get_i64(t, i)));
    }
  }
  return obj;
}

static cJSON *encoding_item(json *J, const pare_encoding *e) {
  cJSON *obj = cJSON_CreateObject();
  if (!obj) return NULL;
  add(J, obj, "kind", cJSON_CreateString(pare_enc_kind_name(e->kind)));
  add(J, obj, "bits", int_item(e->bits));
  add(J, obj, "symmetric", int_item(e->symmetric));
  add(J, obj, "axis", int_item(e->axis));
  add(J, obj, "group_size", int_item(e->group_size));
  add(J, obj, "nm_n", int_item(e->nm_n));
  add(J, obj, "nm_m", int_item(e->nm_m));
  add(J, obj, "bytes", int_item((int64_t)pare_encoding_bytes(e)));
  cJSON *parts = add(J, obj, "parts", cJSON_CreateObject());
  const struct {
    const char *name;
    const pare_tensor *t;
  } list[] = {{"packed", e->packed},     {"scales", e->scales},   {"zeros", e->zeros},
              {"codebook", e->codebook}, {"row_ptr", e->row_ptr}, {"col_idx", e->col_idx},
              {"values", e->values}};
  for (size_t k = 0; parts && k < sizeof list / sizeof list[0]; k++)
    if (list[k].t) add(J, parts, list[k].name, tensor_item(J, list[k].t, 0));
  if (e->outliers) add(J, obj, "outliers", encoding_item(J, e->outliers));
  return obj;
}

static cJSON *value_item(json *J, const pare_value *v) {
  cJSON *obj = cJSON_CreateObject();
  if (!obj) return NULL;
  add(J, obj, "name", string_item(v->name));
  add_type(J, obj, v);
  add(J, obj, "is_const", cJSON_CreateBool(v->init || v->enc));
  size_t bytes = v->enc ? pare_encoding_bytes(v->enc) : v->init ? v->init->nbytes : 0;
  add(J, obj, "bytes", int_item((int64_t)bytes));
  if (v->init) add(J, obj, "crc32", crc_item(v->init));
  add(J, obj, "producer", int_item(v->producer));
  if (v->enc) add(J, obj, "encoding", encoding_item(J, v->enc));
  return obj;
}

static cJSON *io_item(json *J, const pare_graph *g, int v) {
  cJSON *obj = cJSON_CreateObject();
  if (!obj) return NULL;
  if (v < 0 || v >= g->n_values) {
    add(J, obj, "name", cJSON_CreateNull());
    return obj;
  }
  add(J, obj, "name", string_item(g->values[v]->name));
  add_type(J, obj, g->values[v]);
  return obj;
}

static const char *attr_type_name(pare_attr_type t) {
  switch (t) {
  case PARE_ATTR_INT:
    return "int";
  case PARE_ATTR_FLOAT:
    return "float";
  case PARE_ATTR_STRING:
    return "string";
  case PARE_ATTR_TENSOR:
    return "tensor";
  case PARE_ATTR_INTS:
    return "ints";
  case PARE_ATTR_FLOATS:
    return "floats";
  case PARE_ATTR_STRINGS:
    return "strings";
  }
  return "unknown";
}

static cJSON *attr_item(json *J, const pare_attr *a) {
  cJSON *obj = cJSON_CreateObject();
  if (!obj) return NULL;
  add(J, obj, "name", string_item(a->name));
  add(J, obj, "type", cJSON_CreateString(attr_type_name(a->type)));
  cJSON *val = NULL;
  switch (a->type) {
  case PARE_ATTR_INT:
    val = int_item(a->i);
    break;
  case PARE_ATTR_FLOAT:
    val = float_item(a->f);
    break;
  case PARE_ATTR_STRING:
    val = string_item(a->s);
    break;
  case PARE_ATTR_TENSOR:
    val = a->t ? tensor_item(J, a->t, 1) : cJSON_CreateNull();
    break;
  case PARE_ATTR_INTS:
  case PARE_ATTR_FLOATS:
  case PARE_ATTR_STRINGS:
    val = cJSON_CreateArray();
    for (int64_t k = 0; val && k < a->n; k++) {
      if (a->type == PARE_ATTR_INTS)
        add(J, val, NULL, int_item(a->ints[k]));
      else if (a->type == PARE_ATTR_FLOATS)
        add(J, val, NULL, float_item(a->floats[k]));
      else
        add(J, val, NULL, string_item(a->strings[k]));
    }
    break;
  default:
    val = cJSON_CreateNull();
    break;
  }
  add(J, obj, "value", val);
  return obj;
}

static cJSON *value_refs(json *J, const pare_graph *g, const int *idx, int n) {
  cJSON *arr = cJSON_CreateArray();
  for (int j = 0; arr && j < n; j++) {
    int v = idx[j];
    add(J, arr, NULL,
        v >= 0 && v < g->n_values ? string_item(g->values[v]->name) : cJSON_CreateNull());
  }
  return arr;
}

static cJSON *node_item(json *J, const pare_graph *g, const pare_node *n) {
  cJSON *obj = cJSON_CreateObject();
  if (!obj) return NULL;
  add(J, obj, "name", string_item(n->name));
  add(J, obj, "op", string_item(n->op));
  if (n->domain && *n->domain) add(J, obj, "domain", cJSON_CreateString(n->domain));
  add(J, obj, "inputs", value_refs(J, g, n->inputs, n->n_inputs));
  add(J, obj, "outputs", value_refs(J, g, n->outputs, n->n_outputs));
  cJSON *attrs = add(J, obj, "attributes", cJSON_CreateArray());
  for (int a = 0; attrs && a < n->n_attrs; a++) add(J, attrs, NULL, attr_item(J, &n->attrs[a]));
  return obj;
}

cJSON *pare_graph_to_cjson(const pare_graph *g, pare_err *err) {
  json J = {.ok = 1};
  cJSON *root = cJSON_CreateObject();
  if (!root) {
    pare_errf(err, "out of memory building JSON");
    return NULL;
  }
  add(&J, root, "name", string_item(g->name));
  add(&J, root, "opset", int_item(g->opset));
  cJSON *inputs = add(&J, root, "inputs", cJSON_CreateArray());
  for (int j = 0; inputs && j < g->n_inputs; j++)
    add(&J, inputs, NULL, io_item(&J, g, g->inputs[j]));
  cJSON *outputs = add(&J, root, "outputs", cJSON_CreateArray());
  for (int j = 0; outputs && j < g->n_outputs; j++)
    add(&J, outputs, NULL, io_item(&J, g, g->outputs[j]));
  cJSON *values = add(&J, root, "values", cJSON_CreateArray());
  for (int i = 0; values && i < g->n_values; i++)
    add(&J, values, NULL, value_item(&J, g->values[i]));
  cJSON *nodes = add(&J, root, "nodes", cJSON_CreateArray());
  for (int k = 0; nodes && k < g->n_nodes; k++) add(&J, nodes, NULL, node_item(&J, g, g->nodes[k]));
  if (!J.ok) {
    cJSON_Delete(root);
    pare_errf(err, "out of memory building JSON");
    return NULL;
  }
  return root;
}

char *pare_graph_to_json(const pare_graph *g, pare_err *err) {
  cJSON *root = pare_graph_to_cjson(g, err);
  if (!root) return NULL;
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text) pare_errf(err, "out of memory printing JSON");
  return text;
}
