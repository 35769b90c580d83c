/*
 * tensor_pb.c - TensorProto / SparseTensorProto decoding and .pb tensor files.
 *
 * Every size is checked against the dims before anything is allocated, so a
 * hostile file cannot make pare allocate more than the dims justify, nor more
 * than pare_max_tensor_bytes.
 */
#include "frontend/frontend_internal.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

int pare_fe_dtype(int32_t onnx_type, pare_dtype *out, pare_err *err) {
  switch (onnx_type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
    *out = (pare_dtype)onnx_type; /* pare_dtype numbers equal ONNX's */
    return PARE_OK;
  case ONNX__TENSOR_PROTO__DATA_TYPE__STRING:
    return pare_errf(err, "string tensors are not supported");
  case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64:
  case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128:
    return pare_errf(err, "complex tensors are not supported");
  case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
    return pare_errf(err, "bfloat16 tensors are not supported");
  case ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED:
    return pare_errf(err, "tensor has no data type");
  default:
    return pare_errf(err, "unknown tensor data type %d", (int)onnx_type);
  }
}

int pare_fe_check_dims(pare_dtype dt, const int64_t *dims, size_t n_dims, pare_shape *shape,
                       size_t *nbytes, pare_err *err) {
  if (n_dims > PARE_MAX_RANK)
    return pare_errf(err, "rank %zu exceeds the maximum of %d", n_dims, PARE_MAX_RANK);
  for (size_t i = 0; i < n_dims; i++)
    if (dims[i] < 0) return pare_errf(err, "negative dim %lld", (long long)dims[i]);
  *shape = pare_shape_make((int)n_dims, dims);
  int64_t numel;
  if (pare_shape_numel(shape, &numel, NULL)) {
    char sb[160];
    pare_shape_str(shape, sb, sizeof sb);
    return pare_errf(err, "element count of dims %s overflows", sb);
  }
  size_t es = pare_dtype_size(dt);
  if (es == 0) return pare_errf(err, "unsupported dtype %s", pare_dtype_name(dt));
  if ((uint64_t)numel > pare_max_tensor_bytes / es) {
    char sb[160];
    pare_shape_str(shape, sb, sizeof sb);
    return pare_errf(err, "dims %s of %s exceed the %zu-byte tensor size limit%s", sb,
                     pare_dtype_name(dt), pare_max_tensor_bytes,
                     pare_max_tensor_bytes == pare_max_memory ? " (--max-memory)" : "");
  }
  *nbytes = (size_t)numel * es;
  return PARE_OK;
}

static int host_is_little_endian(void) {
  const uint16_t one = 1;
  uint8_t first;
  memcpy(&first, &one, 1);
  return first == 1;
}

void pare_fe_le_to_host(pare_tensor *t) {
  size_t es = pare_dtype_size(t->dtype);
  if (host_is_little_endian() || es <= 1 || !t->data) return;
  uint8_t *p = t->data;
  for (size_t off = 0; off + es <= t->nbytes; off += es)
    for (size_t a = 0, b = es - 1; a < b; a++, b--) {
      uint8_t tmp = p[off + a];
      p[off + a] = p[off + b];
      p[off + b] = tmp;
    }
}

/* Number of elements the typed field for dt holds (0 if dt has no such field). */
static size_t typed_count(const Onnx__TensorProto *tp, pare_dtype dt) {
  switch (dt) {
  case PARE_F32:
    return tp->n_float_data;
  case PARE_I64:
    return tp->n_int64_data;
  case PARE_F64:
    return tp->n_double_data;
  case PARE_U32:
  case PARE_U64:
    return tp->n_uint64_data;
  case PARE_I8:
  case PARE_U8:
  case PARE_I16:
  case PARE_U16:
  case PARE_I32:
  case PARE_BOOL:
  case PARE_F16:
    return tp->n_int32_data;
  default:
    return 0;
  }
}

/* Copies the typed field into t (count already checked against numel). */
static void copy_typed(const Onnx__TensorProto *tp, pare_tensor *t, size_t n) {
  void *d = t->data;
  for (size_t i = 0; i < n; i++) {
    switch (t->dtype) {
    case PARE_F32:
      ((float *)d)[i] = tp->float_data[i];
      break;
    case PARE_I64:
      ((int64_t *)d)[i] = tp->int64_data[i];
      break;
    case PARE_F64:
      ((double *)d)[i] = tp->double_data[i];
      break;
    case PARE_U32:
      ((uint32_t *)d)[i] = (uint32_t)tp->uint64_data[i];
      break;
    case PARE_U64:
      ((uint64_t *)d)[i] = tp->uint64_data[i];
      break;
    case PARE_I8:
      ((int8_t *)d)[i] = (int8_t)tp->int32_data[i];
      break;
    case PARE_U8:
      ((uint8_t *)d)[i] = (uint8_t)tp->int32_data[i];
      break;
    case PARE_BOOL:
      ((uint8_t *)d)[i] = tp->int32_data[i] != 0;
      break;
    case PARE_I16:
      ((int16_t *)d)[i] = (int16_t)tp->int32_data[i];
      break;
    case PARE_U16:
    case PARE_F16:
      ((uint16_t *)d)[i] = (uint16_t)tp->int32_data[i];
      break;
    case PARE_I32:
      ((int32_t *)d)[i] = tp->int32_data[i];
      break;
    default:
      break;
    }
  }
}

/* Checks that the in-message data (raw_data or typed field) matches the dims. */
static int check_inline_size(const Onnx__TensorProto *tp, const pare_tensor *t, pare_err *err) {
  char sb[160];
  pare_shape_str(&t->shape, sb, sizeof sb);
  if (tp->has_raw_data) {
    if (tp->raw_data.len != t->nbytes)
      return pare_errf(err, "raw_data has %zu bytes but dims %s of %s need %zu", tp->raw_data.len,
                       sb, pare_dtype_name(t->dtype), t->nbytes);
    return PARE_OK;
  }
  size_t es = pare_dtype_size(t->dtype);
  size_t numel = es ? t->nbytes / es : 0;
  size_t have = typed_count(tp, t->dtype);
  if (have != numel)
    return pare_errf(err, "data has %zu elements but dims %s of %s need %zu", have, sb,
                     pare_dtype_name(t->dtype), numel);
  return PARE_OK;
}

static int fill_inline(const Onnx__TensorProto *tp, pare_tensor *t, pare_err *err) {
  if (check_inline_size(tp, t, err)) return PARE_ERR;
  if (pare_tensor_alloc(t, err)) return PARE_ERR;
  if (tp->has_raw_data) {
    if (t->nbytes) memcpy(t->data, tp->raw_data.data, t->nbytes);
    pare_fe_le_to_host(t);
  } else {
    size_t es = pare_dtype_size(t->dtype);
    copy_typed(tp, t, t->nbytes / es);
  }
  return PARE_OK;
}

int pare_fe_decode_tensor(const Onnx__TensorProto *tp, const char *dir, pare_tensor **out,
                          pare_err *err) {
  *out = NULL;
  pare_dtype dt;
  if (pare_fe_dtype(tp->has_data_type ? tp->data_type : 0, &dt, err)) return PARE_ERR;
  if (tp->segment) return pare_errf(err, "segmented tensors are not supported");
  pare_tensor *t = calloc(1, sizeof *t);
  if (!t) return pare_errf(err, "out of memory");
  t->dtype = dt;
  size_t nbytes;
  if (pare_fe_check_dims(dt, tp->dims, tp->n_dims, &t->shape, &nbytes, err)) {
    free(t);
    return PARE_ERR;
  }
  t->nbytes = nbytes;
  int rc;
  if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    rc = pare_fe_read_external(tp, dir, t, err);
  else
    rc = fill_inline(tp, t, err);
  if (rc) {
    pare_tensor_free(t);
    return PARE_ERR;
  }
  *out = t;
  return PARE_OK;
}

/* ------------------------------------------------------- sparse tensors */

/* Linear index of sparse entry k, or -1 if out of range. */
static int64_t sparse_linear_index(const pare_tensor *idx, int64_t k, const pare_shape *shape,
                                   int64_t numel) {
  int64_t lin;
  if (idx->shape.rank == 1) {
    lin = pare_tensor_get_i64(idx, k);
  } else {
    int64_t strides[PARE_MAX_RANK];
    pare_strides(shape, strides);
    lin = 0;
    for (int j = 0; j < shape->rank; j++) {
      int64_t c = pare_tensor_get_i64(idx, k * shape->rank + j);
      if (c < 0 || c >= shape->dims[j]) return -1;
      lin += c * strides[j];
    }
  }
  return lin >= 0 && lin < numel ? lin : -1;
}

static int scatter_sparse(const pare_tensor *vals, const pare_tensor *idx, pare_tensor *dense,
                          pare_err *err) {
  int64_t nnz = vals->shape.rank == 1 ? vals->shape.dims[0] : -1;
  int rank = dense->shape.rank;
  int linear = idx->shape.rank == 1 && idx->shape.dims[0] == nnz;
  int coords = idx->shape.rank == 2 && idx->shape.dims[0] == nnz && idx->shape.dims[1] == rank;
  if (nnz < 0 || (!linear && !coords))
    return pare_errf(err, "sparse tensor: values must be [NNZ] and indices [NNZ] or [NNZ,%d]",
                     rank);
  if (!pare_dtype_is_int(idx->dtype)) return pare_errf(err, "sparse tensor: indices not integer");
  size_t es = pare_dtype_size(dense->dtype);
  int64_t numel = pare_tensor_numel(dense);
  for (int64_t k = 0; k < nnz; k++) {
    int64_t lin = sparse_linear_index(idx, k, &dense->shape, numel);
    if (lin < 0) return pare_errf(err, "sparse tensor: index %lld out of range", (long long)k);
    memcpy((uint8_t *)dense->data + (size_t)lin * es, (const uint8_t *)vals->data + (size_t)k * es,
           es);
  }
  return PARE_OK;
}

int pare_fe_densify_sparse(const Onnx__SparseTensorProto *sp, const char *dir, pare_tensor **out,
                           pare_err *err) {
  *out = NULL;
  if (!sp->values || !sp->indices) return pare_errf(err, "sparse tensor lacks values or indices");
  pare_tensor *vals = NULL, *idx = NULL, *dense = NULL;
  pare_shape shape;
  size_t nbytes;
  int rc = pare_fe_decode_tensor(sp->values, dir, &vals, err);
  if (!rc) rc = pare_fe_decode_tensor(sp->indices, dir, &idx, err);
  if (!rc) rc = pare_fe_check_dims(vals->dtype, sp->dims, sp->n_dims, &shape, &nbytes, err);
  if (!rc) {
    dense = pare_tensor_new(vals->dtype, &shape, err);
    rc = dense ? scatter_sparse(vals, idx, dense, err) : PARE_ERR;
  }
  pare_tensor_free(vals);
  pare_tensor_free(idx);
  if (rc) {
    pare_tensor_free(dense);
    return PARE_ERR;
  }
  *out = dense;
  return PARE_OK;
}

/* ------------------------------------------------------- .pb tensor files */

pare_tensor *pare_tensor_parse_pb(const void *data, size_t len, const char *label, pare_err *err) {
  const char *what = label ? label : "tensor";
  if (len == 0) {
    pare_errf(err, "%s: empty tensor data", what);
    return NULL;
  }
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, data);
  if (!tp) {
    pare_errf(err, "%s: not a valid TensorProto (protobuf parse failed)", what);
    return NULL;
  }
  pare_tensor *t = NULL;
  /* No folder: a lone tensor file may not pull in other files. */
  if (pare_fe_decode_tensor(tp, NULL, &t, err)) {
    if (tp->name && *tp->name)
      pare_err_prefix(err, "%s: tensor '%s'", what, tp->name);
    else
      pare_err_prefix(err, "%s", what);
  }
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return t;
}

pare_tensor *pare_tensor_read_pb(const char *path, pare_err *err) {
  uint8_t *data;
  size_t len;
  if (pare_fe_read_file(path, &data, &len, err)) {
    pare_err_prefix(err, "%s", path);
    return NULL;
  }
  pare_tensor *t = pare_tensor_parse_pb(data, len, path, err);
  free(data);
  return t;
}
