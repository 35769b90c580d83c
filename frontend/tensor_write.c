/*
 * tensor_write.c - writing a tensor as a TensorProto .pb file, atomically:
 * the bytes go to a temporary file in the target folder which is renamed over
 * the target only when complete, so no partial file is ever visible.
 */
#include "frontend/frontend_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_writable_tensor(const pare_tensor *t, pare_err *err) {
  if (!t) return pare_errf(err, "no tensor");
  size_t es = pare_dtype_size(t->dtype);
  if (es == 0)
    return pare_errf(err, "cannot write a tensor of dtype %s", pare_dtype_name(t->dtype));
  int64_t numel;
  if (pare_shape_numel(&t->shape, &numel, err)) return PARE_ERR;
  if ((uint64_t)numel > SIZE_MAX / es || (size_t)numel * es != t->nbytes)
    return pare_errf(err, "tensor holds %zu bytes but its shape needs %lld elements of %s",
                     t->nbytes, (long long)numel, pare_dtype_name(t->dtype));
  if (t->nbytes && !t->data) return pare_errf(err, "tensor has no data");
  return PARE_OK;
}

/* Packs t into a malloc'd TensorProto message. */
static int pack_tensor(const pare_tensor *t, const char *name, uint8_t **out, size_t *len,
                       pare_err *err) {
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[PARE_MAX_RANK];
  for (int i = 0; i < t->shape.rank; i++) dims[i] = t->shape.dims[i];
  tp.n_dims = (size_t)t->shape.rank;
  tp.dims = dims;
  tp.has_data_type = 1;
  tp.data_type = (int32_t)t->dtype;
  tp.name = (char *)(name ? name : "");
  pare_tensor *le = NULL; /* little-endian copy, only on big-endian hosts */
  tp.has_raw_data = 1;
  tp.raw_data.len = t->nbytes;
  tp.raw_data.data = t->data;
  if (pare_dtype_size(t->dtype) > 1) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
      if (!(le = pare_tensor_clone(t, err))) return PARE_ERR;
      pare_fe_le_to_host(le); /* byte swapping is its own inverse */
      tp.raw_data.data = le->data;
    }
  }
  size_t size = onnx__tensor_proto__get_packed_size(&tp);
  int rc = PARE_OK;
  if (size > PARE_FE_MAX_FILE_BYTES)
    rc = pare_errf(err, "tensor needs %zu bytes, over the %zu-byte protobuf limit", size,
                   PARE_FE_MAX_FILE_BYTES);
  uint8_t *buf = rc ? NULL : malloc(size ? size : 1);
  if (!rc && !buf) rc = pare_errf(err, "out of memory");
  if (!rc) *len = onnx__tensor_proto__pack(&tp, buf);
  pare_tensor_free(le);
  *out = buf;
  return rc;
}

int pare_tensor_write_pb(const char *path, const pare_tensor *t, const char *name, pare_err *err) {
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = check_writable_tensor(t, err);
  if (!rc) rc = pack_tensor(t, name, &buf, &len, err);
  if (!rc) rc = pare_write_file_atomic(path, buf, len, err);
  free(buf);
  if (rc) pare_err_prefix(err, "%s", path);
  return rc;
}
