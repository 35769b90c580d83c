/*
 * encoding.c - compressed weight encodings and their reference decoding.
 */
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

void pare_encoding_free(pare_encoding *e) {
  if (!e) return;
  pare_tensor_free(e->packed);
  pare_tensor_free(e->scales);
  pare_tensor_free(e->zeros);
  pare_tensor_free(e->codebook);
  pare_tensor_free(e->row_ptr);
  pare_tensor_free(e->col_idx);
  pare_tensor_free(e->values);
  pare_encoding_free(e->outliers);
  free(e);
}

const char *pare_enc_kind_name(pare_enc_kind k) {
  switch (k) {
  case PARE_ENC_DENSE:
    return "dense";
  case PARE_ENC_QUANT:
    return "quant";
  case PARE_ENC_SPARSE:
    return "sparse";
  case PARE_ENC_CODEBOOK:
    return "codebook";
  }
  return "unknown";
}

size_t pare_encoding_bytes(const pare_encoding *e) {
  if (!e) return 0;
  size_t total = 0;
  const pare_tensor *parts[] = {e->packed,  e->scales,  e->zeros, e->codebook,
                                e->row_ptr, e->col_idx, e->values};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    if (parts[i]) total += parts[i]->nbytes;
  return total + pare_encoding_bytes(e->outliers);
}

/* Reads the k-th `bits`-wide unsigned field of a little-endian bitstream. */
static uint32_t read_bits(const uint8_t *p, size_t nbytes, int64_t k, int bits) {
  uint64_t bitpos = (uint64_t)k * (uint64_t)bits;
  uint32_t v = 0;
  for (int b = 0; b < bits; b++, bitpos++) {
    size_t byte = (size_t)(bitpos >> 3);
    if (byte >= nbytes) break;
    v |= (uint32_t)((p[byte] >> (bitpos & 7)) & 1u) << b;
  }
  return v;
}

/* Parameter-group index of element i for per-channel/per-group params.
 * With an axis, a channel's elements are taken in row-major order over all
 * the other dims, and each run of group_size of them shares one group: for
 * axis 0 (Conv [M, C/g, k...], Gemm transB=1 [N, K]) groups run along the
 * flattened trailing dims; for the last axis of a [K, N] weight (MatMul B,
 * Gemm transB=0) they run down column n, along K. Group index =
 * channel * groups_per_channel + position / group_size. */
static int64_t group_of(const pare_encoding *e, const pare_shape *shape, int64_t i) {
  if (e->axis < 0) {
    if (e->group_size > 0) return i / e->group_size;
    return 0;
  }
  int64_t inner = 1, outer = 1;
  for (int d = e->axis + 1; d < shape->rank; d++) inner *= shape->dims[d];
  for (int d = 0; d < e->axis; d++) outer *= shape->dims[d];
  int64_t dim = shape->dims[e->axis];
  int64_t channel = (i / inner) % dim;
  if (e->group_size <= 0) return channel;
  int64_t pos = (i / (inner * dim)) * inner + i % inner;
  int64_t groups_per_channel = (outer * inner + e->group_size - 1) / e->group_size;
  return channel * groups_per_channel + pos / e->group_size;
}

static int check_part(const pare_tensor *t, const char *what, int64_t need, pare_err *err) {
  if (!t || !t->data) return pare_errf(err, "%s encoding lacks its %s", "weight", what);
  if (pare_tensor_numel(t) < need)
    return pare_errf(err, "weight encoding: %s has %lld elements, needs %lld", what,
                     (long long)pare_tensor_numel(t), (long long)need);
  return PARE_OK;
}

static int decode_sparse_into(const pare_encoding *e, const pare_shape *shape, float *out,
                              pare_err *err) {
  int64_t rows = shape->rank > 0 ? shape->dims[0] : 1;
  int64_t numel = 1;
  for (int d = 0; d < shape->rank; d++) numel *= shape->dims[d];
  int64_t cols = rows ? numel / rows : 0;
  if (check_part(e->row_ptr, "row_ptr", rows + 1, err)) return PARE_ERR;
  int64_t nnz = pare_tensor_get_i64(e->row_ptr, rows);
  if (check_part(e->col_idx, "col_idx", nnz, err) || check_part(e->values, "values", nnz, err))
    return PARE_ERR;
  for (int64_t r = 0; r < rows; r++) {
    int64_t b = pare_tensor_get_i64(e->row_ptr, r), end = pare_tensor_get_i64(e->row_ptr, r + 1);
    if (b < 0 || end < b || end > nnz) return pare_errf(err, "sparse weight: bad row_ptr");
    for (int64_t k = b; k < end; k++) {
      int64_t c = pare_tensor_get_i64(e->col_idx, k);
      if (c < 0 || c >= cols) return pare_errf(err, "sparse weight: column index out of range");
      out[r * cols + c] += (float)pare_tensor_get_f64(e->values, k);
    }
  }
  return PARE_OK;
}

pare_tensor *pare_weight_decode(const pare_encoding *e, const pare_shape *shape, pare_err *err) {
  pare_tensor *t = pare_tensor_new(PARE_F32, shape, err);
  if (!t) return NULL;
  float *out = t->data;
  int64_t numel = pare_tensor_numel(t);
  int rc = PARE_OK;
  switch (e->kind) {
  case PARE_ENC_DENSE:
    rc = pare_errf(err, "dense weights have no encoding to decode");
    break;
  case PARE_ENC_QUANT: {
    if (e->bits < 1 || e->bits > 8) {
      rc = pare_errf(err, "quantized weight: %d bits unsupported", e->bits);
      break;
    }
    if (check_part(e->packed, "packed data", (numel * e->bits + 7) / 8, err)) {
      rc = PARE_ERR;
      break;
    }
    int64_t ngroups = group_of(e, shape, numel - 1) + 1;
    if (check_part(e->scales, "scales", ngroups, err) ||
        (!e->symmetric && check_part(e->zeros, "zero points", ngroups, err))) {
      rc = PARE_ERR;
      break;
    }
    for (int64_t i = 0; i < numel; i++) {
      uint32_t raw = read_bits(e->packed->data, e->packed->nbytes, i, e->bits);
      /* Symmetric values are two's complement in `bits` bits. */
      int32_t q = (int32_t)raw;
      if (e->symmetric && (raw >> (e->bits - 1))) q -= (int32_t)1 << e->bits;
      int64_t g = group_of(e, shape, i);
      float scale = (float)pare_tensor_get_f64(e->scales, g);
      float zero = e->symmetric ? 0.0f : (float)pare_tensor_get_f64(e->zeros, g);
      out[i] = scale * ((float)q - zero);
    }
    break;
  }
  case PARE_ENC_SPARSE:
    rc = decode_sparse_into(e, shape, out, err);
    break;
  case PARE_ENC_CODEBOOK: {
    if (e->bits < 1 || e->bits > 8) {
      rc = pare_errf(err, "codebook weight: %d-bit indices unsupported", e->bits);
      break;
    }
    int64_t entries = (int64_t)1 << e->bits;
    int scaled = e->scales != NULL && e->axis >= 0;
    int64_t channels = e->axis < 0 ? 1 : shape->dims[e->axis];
    int64_t ngroups = scaled ? 1 : channels;
    if (check_part(e->packed, "packed indices", (numel * e->bits + 7) / 8, err) ||
        check_part(e->codebook, "codebook", ngroups * entries, err) ||
        (scaled && check_part(e->scales, "scales", channels, err))) {
      rc = PARE_ERR;
      break;
    }
    for (int64_t i = 0; i < numel; i++) {
      uint32_t idx = read_bits(e->packed->data, e->packed->nbytes, i, e->bits);
      int64_t c = e->axis < 0 ? 0 : group_of(e, shape, i);
      if (scaled) /* one shared codebook over channel-normalized weights */
        out[i] =
            (float)pare_tensor_get_f64(e->scales, c) * (float)pare_tensor_get_f64(e->codebook, idx);
      else
        out[i] = (float)pare_tensor_get_f64(e->codebook, c * entries + idx);
    }
    break;
  }
  }
  if (rc == PARE_OK && e->outliers) {
    if (e->outliers->kind != PARE_ENC_SPARSE)
      rc = pare_errf(err, "weight outliers must be a sparse encoding");
    else
      rc = decode_sparse_into(e->outliers, shape, out, err);
  }
  if (rc != PARE_OK) {
    pare_tensor_free(t);
    return NULL;
  }
  return t;
}
