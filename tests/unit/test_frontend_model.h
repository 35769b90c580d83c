/*
 * test_frontend_model.h - building ONNX models in tests with protobuf-c.
 *
 * Every piece is heap-allocated so onnx__model_proto__free_unpacked frees the
 * whole tree. Names lists are comma-separated; an empty entry ("x,,y") is an
 * omitted optional input.
 */
#ifndef PARE_TEST_FRONTEND_MODEL_H
#define PARE_TEST_FRONTEND_MODEL_H

#include "frontend/frontend_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void *tb_alloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) abort();
  return p;
}

static inline char *tb_strdup(const char *s) {
  char *p = tb_alloc(strlen(s) + 1);
  memcpy(p, s, strlen(s) + 1);
  return p;
}

#define TB_PUSH(arr, count, item)                                                                  \
  do {                                                                                             \
    void *grown_ = realloc((arr), ((count) + 1) * sizeof *(arr));                                  \
    if (!grown_) abort();                                                                          \
    (arr) = grown_;                                                                                \
    (arr)[(count)++] = (item);                                                                     \
  } while (0)

static inline void tb_split(const char *csv, char ***out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!csv || !*csv) return;
  for (const char *p = csv;;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char *s = tb_alloc(len + 1);
    memcpy(s, p, len);
    TB_PUSH(*out, *n, s);
    if (!end) break;
    p = end + 1;
  }
}

static inline Onnx__OperatorSetIdProto *tb_opset(const char *domain, int64_t version) {
  Onnx__OperatorSetIdProto *os = tb_alloc(sizeof *os);
  onnx__operator_set_id_proto__init(os);
  os->domain = tb_strdup(domain);
  os->has_version = 1;
  os->version = version;
  return os;
}

/* A model with an empty graph importing ai.onnx at `opset` (no import if opset <= 0). */
static inline Onnx__ModelProto *tb_model(int64_t opset) {
  Onnx__ModelProto *m = tb_alloc(sizeof *m);
  onnx__model_proto__init(m);
  m->has_ir_version = 1;
  m->ir_version = 8;
  if (opset > 0) TB_PUSH(m->opset_import, m->n_opset_import, tb_opset("", opset));
  m->graph = tb_alloc(sizeof *m->graph);
  onnx__graph_proto__init(m->graph);
  m->graph->name = tb_strdup("test");
  return m;
}

static inline Onnx__NodeProto *tb_node(Onnx__ModelProto *m, const char *op, const char *name,
                                       const char *ins, const char *outs) {
  Onnx__NodeProto *n = tb_alloc(sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = tb_strdup(op);
  n->name = tb_strdup(name ? name : "");
  tb_split(ins, &n->input, &n->n_input);
  tb_split(outs, &n->output, &n->n_output);
  TB_PUSH(m->graph->node, m->graph->n_node, n);
  return n;
}

static inline Onnx__AttributeProto *tb_attr(Onnx__NodeProto *n, const char *name,
                                            Onnx__AttributeProto__AttributeType type) {
  Onnx__AttributeProto *a = tb_alloc(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = tb_strdup(name);
  a->has_type = 1;
  a->type = type;
  TB_PUSH(n->attribute, n->n_attribute, a);
  return a;
}

static inline void tb_attr_int(Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = tb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = 1;
  a->i = v;
}

static inline void tb_attr_float(Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = tb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = 1;
  a->f = v;
}

static inline void tb_attr_string(Onnx__NodeProto *n, const char *name, const char *v) {
  Onnx__AttributeProto *a = tb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s.len = strlen(v);
  a->s.data = (uint8_t *)tb_strdup(v);
}

static inline void tb_attr_ints(Onnx__NodeProto *n, const char *name, const int64_t *v,
                                size_t count) {
  Onnx__AttributeProto *a = tb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->ints = tb_alloc(count * sizeof *v);
  if (count) memcpy(a->ints, v, count * sizeof *v);
  a->n_ints = count;
}

static inline void tb_attr_floats(Onnx__NodeProto *n, const char *name, const float *v,
                                  size_t count) {
  Onnx__AttributeProto *a = tb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
  a->floats = tb_alloc(count * sizeof *v);
  if (count) memcpy(a->floats, v, count * sizeof *v);
  a->n_floats = count;
}

static inline void tb_attr_strings(Onnx__NodeProto *n, const char *name, const char *const *v,
                                   size_t count) {
  Onnx__AttributeProto *a = tb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
  a->strings = tb_alloc(count * sizeof *a->strings);
  for (size_t i = 0; i < count; i++) {
    a->strings[i].len = strlen(v[i]);
    a->strings[i].data = (uint8_t *)tb_strdup(v[i]);
  }
  a->n_strings = count;
}

/* A TensorProto; raw (raw_len bytes) becomes raw_data unless NULL. */
static inline Onnx__TensorProto *tb_tensor(const char *name, int32_t dtype, size_t rank,
                                           const int64_t *dims, const void *raw, size_t raw_len) {
  Onnx__TensorProto *t = tb_alloc(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = tb_strdup(name ? name : "");
  t->has_data_type = 1;
  t->data_type = dtype;
  t->dims = tb_alloc(rank * sizeof *dims);
  if (rank) memcpy(t->dims, dims, rank * sizeof *dims);
  t->n_dims = rank;
  if (raw) {
    t->has_raw_data = 1;
    t->raw_data.data = tb_alloc(raw_len);
    memcpy(t->raw_data.data, raw, raw_len);
    t->raw_data.len = raw_len;
  }
  return t;
}

/* f32 tensor with raw_data holding numel(dims) values from v. */
static inline Onnx__TensorProto *tb_f32(const char *name, size_t rank, const int64_t *dims,
                                        const float *v) {
  size_t n = 1;
  for (size_t i = 0; i < rank; i++) n *= (size_t)dims[i];
  return tb_tensor(name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims, v, n * sizeof *v);
}

static inline void tb_attr_tensor(Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t) {
  Onnx__AttributeProto *a = tb_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  a->t = t;
}

static inline void tb_init(Onnx__ModelProto *m, Onnx__TensorProto *t) {
  TB_PUSH(m->graph->initializer, m->graph->n_initializer, t);
}

/* Adds an external_data key/value to t and marks it EXTERNAL. */
static inline void tb_external(Onnx__TensorProto *t, const char *key, const char *value) {
  Onnx__StringStringEntryProto *e = tb_alloc(sizeof *e);
  onnx__string_string_entry_proto__init(e);
  e->key = tb_strdup(key);
  e->value = tb_strdup(value);
  TB_PUSH(t->external_data, t->n_external_data, e);
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
}

/* ValueInfo of a tensor; rank < 0: no shape; dims[i] < 0: params[i] (if any) or unset. */
static inline Onnx__ValueInfoProto *tb_value_info(const char *name, int32_t elem, int rank,
                                                  const int64_t *dims, const char *const *params) {
  Onnx__ValueInfoProto *vi = tb_alloc(sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = tb_strdup(name);
  Onnx__TypeProto *tp = tb_alloc(sizeof *tp);
  onnx__type_proto__init(tp);
  vi->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  Onnx__TypeProto__Tensor *tt = tb_alloc(sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tp->tensor_type = tt;
  tt->has_elem_type = 1;
  tt->elem_type = elem;
  if (rank < 0) return vi;
  tt->shape = tb_alloc(sizeof *tt->shape);
  onnx__tensor_shape_proto__init(tt->shape);
  for (int i = 0; i < rank; i++) {
    Onnx__TensorShapeProto__Dimension *d = tb_alloc(sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    if (dims[i] >= 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    } else if (params && params[i]) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = tb_strdup(params[i]);
    }
    TB_PUSH(tt->shape->dim, tt->shape->n_dim, d);
  }
  return vi;
}

static inline void tb_input(Onnx__ModelProto *m, const char *name, int rank, const int64_t *dims) {
  TB_PUSH(m->graph->input, m->graph->n_input,
          tb_value_info(name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims, NULL));
}

static inline void tb_output(Onnx__ModelProto *m, const char *name) {
  TB_PUSH(m->graph->output, m->graph->n_output,
          tb_value_info(name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, -1, NULL, NULL));
}

/* Serializes m (not freed). */
static inline uint8_t *tb_pack(const Onnx__ModelProto *m, size_t *len) {
  *len = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = tb_alloc(*len);
  onnx__model_proto__pack(m, buf);
  return buf;
}

static inline void tb_free(Onnx__ModelProto *m) {
  onnx__model_proto__free_unpacked(m, NULL);
}

static inline int tb_write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t put = len ? fwrite(data, 1, len, f) : 0;
  return fclose(f) == 0 && put == len ? 0 : -1;
}

/* Writes m to path and frees it. */
static inline int tb_save(Onnx__ModelProto *m, const char *path) {
  size_t len;
  uint8_t *buf = tb_pack(m, &len);
  int rc = tb_write_file(path, buf, len);
  free(buf);
  tb_free(m);
  return rc;
}

/* Loads m from memory with the unsupported-op check off (so tests of the
 * loader do not depend on which ops the registry has), then frees m. */
static inline pare_graph *tb_load(Onnx__ModelProto *m, pare_err *err) {
  size_t len;
  uint8_t *buf = tb_pack(m, &len);
  pare_graph *g = pare_fe_load_bytes(buf, len, "test.onnx", NULL, PARE_FE_ALLOW_UNSUPPORTED, err);
  free(buf);
  tb_free(m);
  return g;
}

#endif /* PARE_TEST_FRONTEND_MODEL_H */
