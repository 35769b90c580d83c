/*
 * quant.c - QuantizeLinear and DequantizeLinear (ONNX opsets 10-21).
 *
 *   QuantizeLinear:   y = saturate(round_half_even(x / scale) + zero_point)
 *   DequantizeLinear: y = (x - zero_point) * scale
 *
 * scale (and zero_point, same shape) are either per tensor (a scalar or a
 * one-element 1-D tensor) or per axis (1-D of length dims[axis], attribute
 * `axis`, default 1). Blocked quantization (opset 21 block_size > 0) is
 * refused. The quantized type is zero_point's dtype, else the opset-21
 * attribute output_dtype, else u8. Supported quantized types: u8, i8, u16,
 * i16 and (DequantizeLinear input only) i32. `saturate` only concerns the
 * float8 types, which pare does not have, so it is accepted and ignored.
 * The division is done in f32 like the ONNX reference (numpy float32).
 */
#include "ops/ops.h"

#include <math.h>
#include <string.h>

/* Range of a quantized dtype; PARE_ERR if it is not one. */
static int qrange(pare_dtype dt, int allow_i32, double *lo, double *hi) {
  switch (dt) {
  case PARE_U8:
    *lo = 0, *hi = 255;
    return PARE_OK;
  case PARE_I8:
    *lo = -128, *hi = 127;
    return PARE_OK;
  case PARE_U16:
    *lo = 0, *hi = 65535;
    return PARE_OK;
  case PARE_I16:
    *lo = -32768, *hi = 32767;
    return PARE_OK;
  case PARE_I32:
    if (!allow_i32) return PARE_ERR;
    *lo = -2147483648.0, *hi = 2147483647.0;
    return PARE_OK;
  default:
    return PARE_ERR;
  }
}

/*
 * Checks scale/zero_point against x and finds the channel layout:
 * *per_axis = 0 (per tensor) or 1 with the normalized *axis; *inner = product
 * of the dims after the axis, *channels = dims[axis].
 */
static int qparams(const char *op, const pare_node *node, const pare_tensor *const *in, int n_in,
                   int *per_axis, int64_t *channels, int64_t *inner, pare_err *err) {
  if (pare_need_input(in, n_in, 0, err) || pare_need_input(in, n_in, 1, err))
    return pare_err_prefix(err, "%s", op);
  if (pare_attr_int(node, "block_size", 0) != 0)
    return pare_errf(err, "%s: blocked quantization (block_size %lld) is not supported", op,
                     (long long)pare_attr_int(node, "block_size", 0));
  const pare_tensor *x = in[0], *s = in[1];
  const pare_tensor *z = n_in > 2 ? in[2] : NULL;
  if (s->dtype != PARE_F32)
    return pare_errf(err, "%s: scale is %s, expected f32", op, pare_dtype_name(s->dtype));
  if (z && (z->shape.rank != s->shape.rank ||
            (s->shape.rank == 1 && z->shape.dims[0] != s->shape.dims[0])))
    return pare_errf(err, "%s: zero_point shape differs from scale shape", op);
  *per_axis = 0;
  *channels = 1;
  *inner = 1;
  if (s->shape.rank == 0 || (s->shape.rank == 1 && s->shape.dims[0] == 1)) return PARE_OK;
  if (s->shape.rank != 1)
    return pare_errf(err,
                     "%s: scale has rank %d, expected a scalar or 1-D (blocked "
                     "quantization is not supported)",
                     op, s->shape.rank);
  int axis;
  if (x->shape.rank < 0) return PARE_OK;
  if (pare_norm_axis(pare_attr_int(node, "axis", 1), x->shape.rank, &axis, err))
    return pare_err_prefix(err, "%s", op);
  int64_t c = x->shape.dims[axis];
  if (c >= 0 && s->shape.dims[0] >= 0 && c != s->shape.dims[0])
    return pare_errf(err, "%s: %lld scales for axis %d of extent %lld", op,
                     (long long)s->shape.dims[0], axis, (long long)c);
  *per_axis = 1;
  *channels = c;
  for (int i = axis + 1; i < x->shape.rank; i++) *inner *= x->shape.dims[i];
  return PARE_OK;
}

static int infer_quantize(const pare_node *node, const pare_tensor *const *in, int n_in,
                          pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  int per_axis;
  int64_t c, inner;
  if (qparams("QuantizeLinear", node, in, n_in, &per_axis, &c, &inner, err)) return PARE_ERR;
  if (in[0]->dtype != PARE_F32 && in[0]->dtype != PARE_I32)
    return pare_errf(err, "QuantizeLinear: x is %s, expected f32 or i32",
                     pare_dtype_name(in[0]->dtype));
  const pare_tensor *z = n_in > 2 ? in[2] : NULL;
  pare_dtype dt = z ? z->dtype : (pare_dtype)pare_attr_int(node, "output_dtype", PARE_U8);
  if (dt == PARE_UNDEFINED) dt = PARE_U8;
  double lo, hi;
  if (qrange(dt, 0, &lo, &hi))
    return pare_errf(err, "QuantizeLinear: output type %s is not supported (u8, i8, u16, i16)",
                     pare_dtype_name(dt));
  out[0].dtype = dt;
  out[0].shape = in[0]->shape;
  return pare_shape_is_static(&out[0].shape) ? PARE_OK : PARE_UNKNOWN;
}

static int infer_dequantize(const pare_node *node, const pare_tensor *const *in, int n_in,
                            pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  int per_axis;
  int64_t c, inner;
  if (qparams("DequantizeLinear", node, in, n_in, &per_axis, &c, &inner, err)) return PARE_ERR;
  double lo, hi;
  if (qrange(in[0]->dtype, 1, &lo, &hi))
    return pare_errf(err, "DequantizeLinear: x is %s, expected u8, i8, u16, i16 or i32",
                     pare_dtype_name(in[0]->dtype));
  const pare_tensor *z = n_in > 2 ? in[2] : NULL;
  if (z && z->dtype != in[0]->dtype)
    return pare_errf(err, "DequantizeLinear: zero_point is %s but x is %s",
                     pare_dtype_name(z->dtype), pare_dtype_name(in[0]->dtype));
  out[0].dtype = PARE_F32;
  out[0].shape = in[0]->shape;
  return pare_shape_is_static(&out[0].shape) ? PARE_OK : PARE_UNKNOWN;
}

/* Channel of flat element i. */
static int64_t channel_of(int per_axis, int64_t c, int64_t inner, int64_t i) {
  return per_axis ? (i / inner) % c : 0;
}

static int eval_quantize(const pare_node *node, const pare_tensor *const *in, int n_in,
                         pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  int per_axis;
  int64_t c, inner;
  if (qparams("QuantizeLinear", node, in, n_in, &per_axis, &c, &inner, err)) return PARE_ERR;
  const pare_tensor *x = in[0], *s = in[1];
  const pare_tensor *z = n_in > 2 ? in[2] : NULL;
  double lo, hi;
  if (qrange(out[0].dtype, 0, &lo, &hi))
    return pare_errf(err, "QuantizeLinear: output type %s is not supported",
                     pare_dtype_name(out[0].dtype));
  const float *sc = s->data;
  int64_t n = pare_tensor_numel(x);
  for (int64_t i = 0; i < n; i++) {
    int64_t ch = channel_of(per_axis, c, inner, i);
    float xv =
        x->dtype == PARE_F32 ? ((const float *)x->data)[i] : (float)((const int32_t *)x->data)[i];
    /* rintf rounds half to even in the default rounding mode. */
    double q = (double)rintf(xv / sc[ch]) + (z ? pare_tensor_get_f64(z, ch) : 0.0);
    if (q != q) q = 0; /* NaN input: ONNX leaves it unspecified; pick 0 */
    q = q < lo ? lo : q > hi ? hi : q;
    switch (out[0].dtype) {
    case PARE_U8:
      ((uint8_t *)out[0].data)[i] = (uint8_t)q;
      break;
    case PARE_I8:
      ((int8_t *)out[0].data)[i] = (int8_t)q;
      break;
    case PARE_U16:
      ((uint16_t *)out[0].data)[i] = (uint16_t)q;
      break;
    default:
      ((int16_t *)out[0].data)[i] = (int16_t)q;
      break;
    }
  }
  return PARE_OK;
}

static int eval_dequantize(const pare_node *node, const pare_tensor *const *in, int n_in,
                           pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  int per_axis;
  int64_t c, inner;
  if (qparams("DequantizeLinear", node, in, n_in, &per_axis, &c, &inner, err)) return PARE_ERR;
  const pare_tensor *x = in[0], *s = in[1];
  const pare_tensor *z = n_in > 2 ? in[2] : NULL;
  const float *sc = s->data;
  float *y = out[0].data;
  int64_t n = pare_tensor_numel(x);
  for (int64_t i = 0; i < n; i++) {
    int64_t ch = channel_of(per_axis, c, inner, i);
    int64_t q = pare_tensor_get_i64(x, i) - (z ? pare_tensor_get_i64(z, ch) : 0);
    y[i] = (float)q * sc[ch];
  }
  return PARE_OK;
}

const pare_op_def pare_ops_quant[] = {
    {"QuantizeLinear", infer_quantize, eval_quantize},
    {"DequantizeLinear", infer_dequantize, eval_dequantize},
    {0, 0, 0},
};
