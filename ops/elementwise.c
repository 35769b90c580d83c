/*
 * elementwise.c - elementwise ops: arithmetic, comparison and logic with numpy
 * broadcasting, variadic Sum/Mean/Max/Min, unary math and activations, Clip,
 * Where, Cast and CastLike.
 *
 * Kernels are written once per dtype family with macros: a case block fixes
 * the element type T (and W, an unsigned type wide enough for wrapping
 * arithmetic without signed overflow), and the body is plain C over T. Float
 * math goes through <tgmath.h>, so one expression calls expf for f32 and exp
 * for f64.
 *
 * f16 is storage only: every op except Cast/CastLike widens f16 operands to
 * f32, runs the f32 kernel and rounds the result back to f16 (what numpy, and
 * so the ONNX reference, does for half precision too).
 *
 * Integer division or modulo by zero yields 0 (numpy's result) rather than
 * trapping, so constant folding of dead branches cannot crash the compiler.
 */
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

/* ------------------------------------------------------------ op table */

/* Dtype classes an op accepts. */
enum { EW_F = 1, EW_I = 2, EW_U = 4, EW_B = 8, EW_NUM = EW_F | EW_I | EW_U, EW_ANY = 15 };

/* X(name, kind, dtype classes of the main input) */
#define EW_OPS(X)                                                                                  \
  X(Add, binary, EW_NUM)                                                                           \
  X(Sub, binary, EW_NUM)                                                                           \
  X(Mul, binary, EW_NUM)                                                                           \
  X(Div, binary, EW_NUM)                                                                           \
  X(Pow, binary, EW_NUM)                                                                           \
  X(Mod, binary, EW_NUM)                                                                           \
  X(BitShift, binary, EW_U)                                                                        \
  X(BitwiseAnd, binary, EW_I | EW_U | EW_B)                                                        \
  X(BitwiseOr, binary, EW_I | EW_U | EW_B)                                                         \
  X(BitwiseXor, binary, EW_I | EW_U | EW_B)                                                        \
  X(And, binary, EW_B)                                                                             \
  X(Or, binary, EW_B)                                                                              \
  X(Xor, binary, EW_B)                                                                             \
  X(Equal, binary, EW_ANY)                                                                         \
  X(Less, binary, EW_NUM)                                                                          \
  X(LessOrEqual, binary, EW_NUM)                                                                   \
  X(Greater, binary, EW_NUM)                                                                       \
  X(GreaterOrEqual, binary, EW_NUM)                                                                \
  X(PRelu, prelu, EW_NUM)                                                                          \
  X(Sum, variadic, EW_NUM)                                                                         \
  X(Mean, variadic, EW_NUM)                                                                        \
  X(Max, variadic, EW_NUM)                                                                         \
  X(Min, variadic, EW_NUM)                                                                         \
  X(Neg, unary, EW_NUM)                                                                            \
  X(Abs, unary, EW_NUM)                                                                            \
  X(Sign, unary, EW_NUM)                                                                           \
  X(Relu, unary, EW_NUM)                                                                           \
  X(Shrink, unary, EW_NUM)                                                                         \
  X(BitwiseNot, unary, EW_I | EW_U | EW_B)                                                         \
  X(Not, unary, EW_B)                                                                              \
  X(IsNaN, unary, EW_F)                                                                            \
  X(IsInf, unary, EW_F)                                                                            \
  X(Sqrt, unary, EW_F)                                                                             \
  X(Exp, unary, EW_F)                                                                              \
  X(Log, unary, EW_F)                                                                              \
  X(Reciprocal, unary, EW_F)                                                                       \
  X(Floor, unary, EW_F)                                                                            \
  X(Ceil, unary, EW_F)                                                                             \
  X(Round, unary, EW_F)                                                                            \
  X(Sin, unary, EW_F)                                                                              \
  X(Cos, unary, EW_F)                                                                              \
  X(Tan, unary, EW_F)                                                                              \
  X(Asin, unary, EW_F)                                                                             \
  X(Acos, unary, EW_F)                                                                             \
  X(Atan, unary, EW_F)                                                                             \
  X(Sinh, unary, EW_F)                                                                             \
  X(Cosh, unary, EW_F)                                                                             \
  X(Asinh, unary, EW_F)                                                                            \
  X(Acosh, unary, EW_F)                                                                            \
  X(Atanh, unary, EW_F)                                                                            \
  X(Erf, unary, EW_F)                                                                              \
  X(Sigmoid, unary, EW_F)                                                                          \
  X(Tanh, unary, EW_F)                                                                             \
  X(HardSigmoid, unary, EW_F)                                                                      \
  X(HardSwish, unary, EW_F)                                                                        \
  X(LeakyRelu, unary, EW_F)                                                                        \
  X(Elu, unary, EW_F)                                                                              \
  X(Selu, unary, EW_F)                                                                             \
  X(Celu, unary, EW_F)                                                                             \
  X(Softplus, unary, EW_F)                                                                         \
  X(Softsign, unary, EW_F)                                                                         \
  X(ThresholdedRelu, unary, EW_F)                                                                  \
  X(Mish, unary, EW_F)                                                                             \
  X(Gelu, unary, EW_F)                                                                             \
  X(Clip, clip, EW_NUM)                                                                            \
  X(Where, where, EW_ANY)                                                                          \
  X(Cast, cast, EW_ANY)                                                                            \
  X(CastLike, cast, EW_ANY)

typedef enum ew_code {
#define EW_ENUM(name, kind, mask) EW_##name,
  EW_OPS(EW_ENUM)
#undef EW_ENUM
      EW_COUNT
} ew_code;

typedef struct ew_info {
  const char *name;
  int mask;
} ew_info;

static const ew_info ew_infos[EW_COUNT] = {
#define EW_INFO(name, kind, mask) {#name, mask},
    EW_OPS(EW_INFO)
#undef EW_INFO
};

/* The code of a registered op; the registry only hands us our own names. */
static ew_code ew_lookup(const pare_node *node) {
  for (int i = 0; i < EW_COUNT; i++)
    if (strcmp(ew_infos[i].name, node->op) == 0) return (ew_code)i;
  return EW_COUNT;
}

static int ew_class(pare_dtype dt) {
  switch (dt) {
  case PARE_F32:
  case PARE_F64:
  case PARE_F16:
    return EW_F;
  case PARE_I8:
  case PARE_I16:
  case PARE_I32:
  case PARE_I64:
    return EW_I;
  case PARE_U8:
  case PARE_U16:
  case PARE_U32:
  case PARE_U64:
    return EW_U;
  case PARE_BOOL:
    return EW_B;
  default:
    return 0;
  }
}

static int ew_check_dtype(ew_code code, pare_dtype dt, pare_err *err) {
  if (ew_class(dt) & ew_infos[code].mask) return PARE_OK;
  return pare_errf(err, "%s: dtype %s not supported", ew_infos[code].name, pare_dtype_name(dt));
}

static int ew_bad_dtype(ew_code code, pare_dtype dt, pare_err *err) {
  return pare_errf(err, "%s: no kernel for dtype %s", ew_infos[code].name, pare_dtype_name(dt));
}

/* --------------------------------------------------- dtype case blocks */

/* Each case fixes T (element type) and W (unsigned type for wrapping math). */
#define EW_CASE(DT, TT, WT, ...)                                                                   \
  case DT: {                                                                                       \
    typedef TT T;                                                                                  \
    typedef WT W;                                                                                  \
    (void)sizeof(T);                                                                               \
    (void)sizeof(W);                                                                               \
    __VA_ARGS__;                                                                                   \
  } break;
#define EW_CASE_FLOAT(...)                                                                         \
  EW_CASE(PARE_F32, float, float, __VA_ARGS__)                                                     \
  EW_CASE(PARE_F64, double, double, __VA_ARGS__)
#define EW_CASE_SINT(...)                                                                          \
  EW_CASE(PARE_I8, int8_t, uint32_t, __VA_ARGS__)                                                  \
  EW_CASE(PARE_I16, int16_t, uint32_t, __VA_ARGS__)                                                \
  EW_CASE(PARE_I32, int32_t, uint32_t, __VA_ARGS__)                                                \
  EW_CASE(PARE_I64, int64_t, uint64_t, __VA_ARGS__)
#define EW_CASE_UINT(...)                                                                          \
  EW_CASE(PARE_U8, uint8_t, uint32_t, __VA_ARGS__)                                                 \
  EW_CASE(PARE_U16, uint16_t, uint32_t, __VA_ARGS__)                                               \
  EW_CASE(PARE_U32, uint32_t, uint32_t, __VA_ARGS__)                                               \
  EW_CASE(PARE_U64, uint64_t, uint64_t, __VA_ARGS__)
#define EW_CASE_INT(...)  EW_CASE_SINT(__VA_ARGS__) EW_CASE_UINT(__VA_ARGS__)
#define EW_CASE_BOOL(...) EW_CASE(PARE_BOOL, uint8_t, uint32_t, __VA_ARGS__)

/* ---------------------------------------------------- f16 and casting */

/* Round to nearest even straight from double (no double rounding via f32). */
static uint16_t ew_f64_to_f16(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  uint16_t sign = (uint16_t)((b >> 48) & 0x8000);
  int exp = (int)((b >> 52) & 0x7ff);
  uint64_t man = b & ((1ull << 52) - 1);
  if (exp == 0x7ff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 42) : 0));
  if (exp == 0) return sign; /* double subnormals are far below f16's range */
  int e = exp - 1023;
  if (e > 15) return sign | 0x7c00;
  uint64_t m = man | (1ull << 52);
  int shift = e >= -14 ? 42 : 42 + (-14 - e);
  if (shift > 54) return sign;
  uint64_t q = m >> shift, rem = m & ((1ull << shift) - 1), half = 1ull << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) q++;
  if (e < -14) return (uint16_t)(sign | q); /* subnormal; a carry makes the min normal */
  int he = e + 15;
  if (q == (1u << 11)) {
    q >>= 1;
    he++;
  }
  if (he >= 31) return sign | 0x7c00;
  return (uint16_t)(sign | (he << 10) | (q & 0x3ff));
}

/* Float to integer conversions that behave like C on x86-64 (cvtt*: NaN and
 * out-of-range give the "integer indefinite" value) without C's undefined
 * behaviour. Narrow types truncate a 32-bit (signed) or 64-bit (u32) result. */
static int32_t ew_f2i32(double v) {
  if (!(v > -2147483649.0 && v < 2147483648.0)) return INT32_MIN;
  return (int32_t)v;
}

static int64_t ew_f2i64(double v) {
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) return INT64_MIN;
  return (int64_t)v;
}

static uint64_t ew_f2u64(double v) {
  if (v >= 9223372036854775808.0) return v < 18446744073709551616.0 ? (uint64_t)v : 1ull << 63;
  return (uint64_t)ew_f2i64(v);
}

/* A number read from any dtype: floats as double, integers exactly. */
typedef struct ew_num {
  int is_float, is_unsigned;
  double f;
  int64_t i;
  uint64_t u;
} ew_num;

static ew_num ew_read(const pare_tensor *t, int64_t k) {
  ew_num n = {0, 0, 0, 0, 0};
  const void *d = t->data;
  switch (t->dtype) {
  case PARE_F32:
    n.is_float = 1, n.f = ((const float *)d)[k];
    break;
  case PARE_F64:
    n.is_float = 1, n.f = ((const double *)d)[k];
    break;
  case PARE_F16:
    n.is_float = 1, n.f = (double)pare_f16_to_f32(((const uint16_t *)d)[k]);
    break;
  case PARE_U64:
    n.is_unsigned = 1, n.u = ((const uint64_t *)d)[k];
    break;
  default:
    n.i = pare_tensor_get_i64(t, k);
    break;
  }
  return n;
}

static double ew_num_f64(ew_num n) {
  return n.is_float ? n.f : n.is_unsigned ? (double)n.u : (double)n.i;
}

static void ew_write(pare_tensor *t, int64_t k, ew_num n) {
  void *d = t->data;
  int64_t i = n.is_unsigned ? (int64_t)n.u : n.i;
  switch (t->dtype) {
  case PARE_F32:
    ((float *)d)[k] = n.is_float ? (float)n.f : n.is_unsigned ? (float)n.u : (float)n.i;
    break;
  case PARE_F64:
    ((double *)d)[k] = ew_num_f64(n);
    break;
  case PARE_F16:
    ((uint16_t *)d)[k] = ew_f64_to_f16(ew_num_f64(n));
    break;
  case PARE_BOOL:
    ((uint8_t *)d)[k] = n.is_float ? n.f != 0 : i != 0;
    break;
  case PARE_I8:
    ((int8_t *)d)[k] = (int8_t)(n.is_float ? ew_f2i32(n.f) : i);
    break;
  case PARE_U8:
    ((uint8_t *)d)[k] = (uint8_t)(n.is_float ? ew_f2i32(n.f) : i);
    break;
  case PARE_I16:
    ((int16_t *)d)[k] = (int16_t)(n.is_float ? ew_f2i32(n.f) : i);
    break;
  case PARE_U16:
    ((uint16_t *)d)[k] = (uint16_t)(n.is_float ? ew_f2i32(n.f) : i);
    break;
  case PARE_I32:
    ((int32_t *)d)[k] = n.is_float ? ew_f2i32(n.f) : (int32_t)i;
    break;
  case PARE_U32:
    ((uint32_t *)d)[k] = (uint32_t)(n.is_float ? ew_f2i64(n.f) : i);
    break;
  case PARE_I64:
    ((int64_t *)d)[k] = n.is_float ? ew_f2i64(n.f) : i;
    break;
  case PARE_U64:
    ((uint64_t *)d)[k] = n.is_float ? ew_f2u64(n.f) : (uint64_t)i;
    break;
  default:
    break;
  }
}

static void ew_write_f64(pare_tensor *t, int64_t k, double v) {
  ew_num n = {1, 0, v, 0, 0};
  ew_write(t, k, n);
}

/* ---------------------------------------------------------- broadcasting */

/*
 * Iteration plan for up to three inputs broadcast to the output shape. Dims of
 * size 1 are dropped and adjacent dims merged wherever every input walks them
 * contiguously (or not at all), so same-shape and scalar operands become one
 * flat run. st[j][d] is input j's element stride along dim d, 0 if broadcast.
 */
typedef struct ew_bcast {
  int rank; /* >= 1 */
  int64_t dims[PARE_MAX_RANK];
  int64_t st[3][PARE_MAX_RANK];
  int64_t runs; /* numel / dims[rank-1], 0 if empty */
} ew_bcast;

static int ew_bcast_init(ew_bcast *bc, const pare_shape *out, const pare_tensor *const *ins, int n,
                         pare_err *err) {
  int r = out->rank;
  int64_t st[3][PARE_MAX_RANK] = {{0}}, numel = 1;
  for (int j = 0; j < n; j++) {
    const pare_shape *s = &ins[j]->shape;
    int64_t strides[PARE_MAX_RANK];
    pare_strides(s, strides);
    if (s->rank > r) return pare_errf(err, "input %d has higher rank than the output", j);
    for (int k = 0; k < s->rank; k++) {
      int d = k + r - s->rank;
      if (s->dims[k] == out->dims[d])
        st[j][d] = s->dims[k] == 1 ? 0 : strides[k];
      else if (s->dims[k] != 1)
        return pare_errf(err, "input %d does not broadcast to the output shape", j);
    }
  }
  /* Collapse from the innermost dim outwards (collapsed dims in reverse). */
  int m = 0;
  int64_t cd[PARE_MAX_RANK], cs[3][PARE_MAX_RANK];
  for (int i = r - 1; i >= 0; i--) {
    numel *= out->dims[i];
    if (out->dims[i] == 1) continue;
    int merge = m > 0;
    for (int j = 0; j < 3 && merge; j++) merge = st[j][i] == cs[j][m - 1] * cd[m - 1];
    if (merge) {
      cd[m - 1] *= out->dims[i];
      continue;
    }
    cd[m] = out->dims[i];
    for (int j = 0; j < 3; j++) cs[j][m] = st[j][i];
    m++;
  }
  if (m == 0) {
    cd[0] = 1;
    for (int j = 0; j < 3; j++) cs[j][0] = 0;
    m = 1;
  }
  bc->rank = m;
  for (int d = 0; d < m; d++) {
    bc->dims[d] = cd[m - 1 - d];
    for (int j = 0; j < 3; j++) bc->st[j][d] = cs[j][m - 1 - d];
  }
  bc->runs = numel == 0 ? 0 : numel / bc->dims[m - 1];
  return PARE_OK;
}

/* Element indices inside EW_LOOP bodies: inputs 0, 1, 2 and the output. */
#define EW_IA (o0_ + k_ * s0_)
#define EW_IB (o1_ + k_ * s1_)
#define EW_IC (o2_ + k_ * s2_)
#define EW_IO (oo_ + k_)

#define EW_RUN(...)                                                                                \
  for (int64_t k_ = 0; k_ < n_; k_++) {                                                            \
    __VA_ARGS__;                                                                                   \
  }

/* Runs BODY for each output element in row-major order. The innermost run is
 * specialised for the common unit/zero strides of inputs 0 and 1 so the
 * compiler sees constant strides. */
#define EW_LOOP(bc, ...)                                                                           \
  do {                                                                                             \
    const ew_bcast *bc_ = (bc);                                                                    \
    const int r_ = bc_->rank;                                                                      \
    const int64_t n_ = bc_->dims[r_ - 1];                                                          \
    const int64_t s0r_ = bc_->st[0][r_ - 1], s1r_ = bc_->st[1][r_ - 1], s2_ = bc_->st[2][r_ - 1];  \
    int64_t cnt_[PARE_MAX_RANK] = {0}, o0_ = 0, o1_ = 0, o2_ = 0, oo_ = 0;                         \
    (void)s2_;                                                                                     \
    for (int64_t run_ = 0; run_ < bc_->runs; run_++) {                                             \
      if (s0r_ == 1 && s1r_ == 1) {                                                                \
        const int64_t s0_ = 1, s1_ = 1;                                                            \
        (void)s0_, (void)s1_;                                                                      \
        EW_RUN(__VA_ARGS__)                                                                        \
      } else if (s0r_ == 1 && s1r_ == 0) {                                                         \
        const int64_t s0_ = 1, s1_ = 0;                                                            \
        (void)s0_, (void)s1_;                                                                      \
        EW_RUN(__VA_ARGS__)                                                                        \
      } else if (s0r_ == 0 && s1r_ == 1) {                                                         \
        const int64_t s0_ = 0, s1_ = 1;                                                            \
        (void)s0_, (void)s1_;                                                                      \
        EW_RUN(__VA_ARGS__)                                                                        \
      } else {                                                                                     \
        const int64_t s0_ = s0r_, s1_ = s1r_;                                                      \
        (void)s0_, (void)s1_;                                                                      \
        EW_RUN(__VA_ARGS__)                                                                        \
      }                                                                                            \
      oo_ += n_;                                                                                   \
      for (int d_ = r_ - 2; d_ >= 0; d_--) {                                                       \
        o0_ += bc_->st[0][d_], o1_ += bc_->st[1][d_], o2_ += bc_->st[2][d_];                       \
        if (++cnt_[d_] < bc_->dims[d_]) break;                                                     \
        o0_ -= bc_->st[0][d_] * bc_->dims[d_];                                                     \
        o1_ -= bc_->st[1][d_] * bc_->dims[d_];                                                     \
        o2_ -= bc_->st[2][d_] * bc_->dims[d_];                                                     \
        cnt_[d_] = 0;                                                                              \
      }                                                                                            \
    }                                                                                              \
  } while (0)

/* out = broadcast of src (any dtype, same element size). */
static int ew_expand_copy(const pare_tensor *src, pare_tensor *out, pare_err *err) {
  ew_bcast bc = {0};
  if (ew_bcast_init(&bc, &out->shape, &src, 1, err)) return PARE_ERR;
  switch (pare_dtype_size(src->dtype)) {
#define EW_COPY(TT)                                                                                \
  {                                                                                                \
    const TT *s = src->data;                                                                       \
    TT *o = out->data;                                                                             \
    EW_LOOP(&bc, o[EW_IO] = s[EW_IA]);                                                             \
  }                                                                                                \
  break;
  case 1:
    EW_COPY(uint8_t)
  case 2:
    EW_COPY(uint16_t)
  case 4:
    EW_COPY(uint32_t)
  case 8:
    EW_COPY(uint64_t)
#undef EW_COPY
  default:
    return pare_errf(err, "unsupported dtype %s", pare_dtype_name(src->dtype));
  }
  return PARE_OK;
}

/* ------------------------------------------------------- f16 promotion */

typedef int (*ew_kernel_fn)(ew_code code, const pare_node *node, const pare_tensor *const *in,
                            int n_in, pare_tensor *out, pare_err *err);

static int ew_f16_widen(const pare_tensor *src, pare_tensor *dst, pare_err *err) {
  dst->dtype = PARE_F32;
  dst->shape = src->shape;
  dst->data = NULL;
  if (pare_tensor_alloc(dst, err)) return PARE_ERR;
  int64_t n = pare_tensor_numel(src);
  const uint16_t *s = src->data;
  float *d = dst->data;
  for (int64_t i = 0; i < n; i++) d[i] = (float)(double)pare_f16_to_f32(s[i]);
  return PARE_OK;
}

/* Runs kernel with f16 inputs widened to f32 and an f16 output narrowed back. */
static int ew_run(ew_kernel_fn kernel, const pare_node *node, const pare_tensor *const *in,
                  int n_in, pare_tensor *out, int n_out, pare_err *err) {
  ew_code code = ew_lookup(node);
  if (code == EW_COUNT) return pare_errf(err, "%s: not an elementwise op", node->op);
  if (n_out < 1) return pare_errf(err, "%s: expected 1 output", node->op);
  int any = out->dtype == PARE_F16;
  for (int i = 0; i < n_in; i++) any |= in[i] && in[i]->dtype == PARE_F16;
  if (!any) return kernel(code, node, in, n_in, out, err);

  int rc = PARE_ERR;
  pare_tensor *wide = calloc((size_t)n_in + 1, sizeof *wide);
  const pare_tensor **args = calloc((size_t)n_in + 1, sizeof *args);
  pare_tensor wout = *out;
  wout.data = NULL;
  if (!wide || !args) {
    pare_errf(err, "out of memory");
    goto done;
  }
  for (int i = 0; i < n_in; i++) {
    args[i] = in[i];
    if (in[i] && in[i]->dtype == PARE_F16) {
      if (ew_f16_widen(in[i], &wide[i], err)) goto done;
      args[i] = &wide[i];
    }
  }
  if (out->dtype == PARE_F16) {
    wout.dtype = PARE_F32;
    if (pare_tensor_alloc(&wout, err)) goto done;
  }
  pare_tensor *dst = out->dtype == PARE_F16 ? &wout : out;
  if (kernel(code, node, args, n_in, dst, err)) goto done;
  if (out->dtype == PARE_F16) {
    int64_t n = pare_tensor_numel(out);
    const float *s = wout.data;
    uint16_t *d = out->data;
    for (int64_t i = 0; i < n; i++) d[i] = ew_f64_to_f16(s[i]);
  }
  rc = PARE_OK;
done:
  if (wide)
    for (int i = 0; i < n_in; i++) pare_tensor_release(&wide[i]);
  pare_tensor_release(&wout);
  free(wide);
  free(args);
  return rc;
}

/* --------------------------------------------------------------- infer */

static int ew_need(ew_code code, const pare_tensor *const *in, int n_in, int i, pare_err *err) {
  if (pare_need_input(in, n_in, i, err)) return pare_err_prefix(err, "%s", ew_infos[code].name);
  return PARE_OK;
}

static int ew_same_dtype(ew_code code, const pare_tensor *a, const pare_tensor *b, pare_err *err) {
  if (a->dtype == b->dtype) return PARE_OK;
  return pare_errf(err, "%s: %s and %s dtypes differ", ew_infos[code].name,
                   pare_dtype_name(a->dtype), pare_dtype_name(b->dtype));
}

static int ew_set_out(pare_tensor *out, int n_out, pare_dtype dt, const pare_shape *s) {
  if (n_out >= 1) {
    out[0].dtype = dt;
    out[0].shape = *s;
  }
  return s->rank < 0 ? PARE_UNKNOWN : PARE_OK;
}

static int ew_is_compare(ew_code code) {
  return code == EW_Equal || code == EW_Less || code == EW_LessOrEqual || code == EW_Greater ||
         code == EW_GreaterOrEqual;
}

static int infer_binary(const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, int n_out, pare_err *err) {
  ew_code code = ew_lookup(node);
  if (ew_need(code, in, n_in, 0, err) || ew_need(code, in, n_in, 1, err)) return PARE_ERR;
  const pare_tensor *a = in[0], *b = in[1];
  if (ew_check_dtype(code, a->dtype, err)) return PARE_ERR;
  if (code == EW_Pow) {
    if (!(ew_class(b->dtype) & EW_NUM))
      return pare_errf(err, "Pow: exponent dtype %s not supported", pare_dtype_name(b->dtype));
  } else if (ew_same_dtype(code, a, b, err)) {
    return PARE_ERR;
  }
  if (code == EW_BitShift) {
    const char *dir = pare_attr_string(node, "direction", "");
    if (strcmp(dir, "LEFT") != 0 && strcmp(dir, "RIGHT") != 0)
      return pare_errf(err, "BitShift: direction must be LEFT or RIGHT, got '%s'", dir);
  }
  if (code == EW_Mod) {
    int64_t fmod_attr = pare_attr_int(node, "fmod", 0);
    if (fmod_attr != 0 && fmod_attr != 1)
      return pare_errf(err, "Mod: fmod must be 0 or 1, got %lld", (long long)fmod_attr);
  }
  pare_shape s;
  if (pare_broadcast_shape(&a->shape, &b->shape, &s, err))
    return pare_err_prefix(err, "%s", ew_infos[code].name);
  return ew_set_out(out, n_out, ew_is_compare(code) ? PARE_BOOL : a->dtype, &s);
}

static int infer_prelu(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  ew_code code = ew_lookup(node);
  if (ew_need(code, in, n_in, 0, err) || ew_need(code, in, n_in, 1, err)) return PARE_ERR;
  const pare_tensor *x = in[0], *slope = in[1];
  if (ew_check_dtype(code, x->dtype, err) || ew_same_dtype(code, x, slope, err)) return PARE_ERR;
  pare_shape s;
  if (pare_broadcast_shape(&x->shape, &slope->shape, &s, err)) return pare_err_prefix(err, "PRelu");
  if (s.rank >= 0 && x->shape.rank >= 0 && pare_shape_is_static(&s) &&
      pare_shape_is_static(&x->shape) && !pare_shape_equal(&s, &x->shape))
    return pare_errf(err, "PRelu: slope does not broadcast to the shape of X");
  return ew_set_out(out, n_out, x->dtype, &x->shape);
}

static int infer_variadic(const pare_node *node, const pare_tensor *const *in, int n_in,
                          pare_tensor *out, int n_out, pare_err *err) {
  ew_code code = ew_lookup(node);
  if (n_in < 1) return pare_errf(err, "%s: needs at least one input", ew_infos[code].name);
  for (int i = 0; i < n_in; i++)
    if (ew_need(code, in, n_in, i, err)) return PARE_ERR;
  if (ew_check_dtype(code, in[0]->dtype, err)) return PARE_ERR;
  pare_shape s = in[0]->shape;
  for (int i = 1; i < n_in; i++) {
    if (ew_same_dtype(code, in[0], in[i], err)) return PARE_ERR;
    if (pare_broadcast_shape(&s, &in[i]->shape, &s, err))
      return pare_err_prefix(err, "%s", ew_infos[code].name);
  }
  return ew_set_out(out, n_out, in[0]->dtype, &s);
}

static int infer_unary(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  ew_code code = ew_lookup(node);
  if (ew_need(code, in, n_in, 0, err) || ew_check_dtype(code, in[0]->dtype, err)) return PARE_ERR;
  if (code == EW_Gelu) {
    const char *a = pare_attr_string(node, "approximate", "none");
    if (strcmp(a, "none") != 0 && strcmp(a, "tanh") != 0)
      return pare_errf(err, "Gelu: approximate must be none or tanh, got '%s'", a);
  }
  if (code == EW_Celu && pare_attr_float(node, "alpha", 1.0f) == 0.0f)
    return pare_errf(err, "Celu: alpha must be nonzero");
  pare_dtype dt = code == EW_IsNaN || code == EW_IsInf ? PARE_BOOL : in[0]->dtype;
  return ew_set_out(out, n_out, dt, &in[0]->shape);
}

static int infer_clip(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  ew_code code = ew_lookup(node);
  if (ew_need(code, in, n_in, 0, err) || ew_check_dtype(code, in[0]->dtype, err)) return PARE_ERR;
  for (int i = 1; i < 3 && i < n_in; i++) {
    if (!in[i]) continue;
    if (ew_same_dtype(code, in[0], in[i], err)) return PARE_ERR;
    if (in[i]->shape.rank > 1 ||
        (in[i]->shape.rank == 1 && in[i]->shape.dims[0] != 1 && in[i]->shape.dims[0] != 0))
      return pare_errf(err, "Clip: %s must be a scalar", i == 1 ? "min" : "max");
  }
  return ew_set_out(out, n_out, in[0]->dtype, &in[0]->shape);
}

static int infer_where(const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, int n_out, pare_err *err) {
  ew_code code = ew_lookup(node);
  for (int i = 0; i < 3; i++)
    if (ew_need(code, in, n_in, i, err)) return PARE_ERR;
  if (in[0]->dtype != PARE_BOOL)
    return pare_errf(err, "Where: condition must be bool, got %s", pare_dtype_name(in[0]->dtype));
  if (ew_check_dtype(code, in[1]->dtype, err) || ew_same_dtype(code, in[1], in[2], err))
    return PARE_ERR;
  pare_shape s;
  if (pare_broadcast_shape(&in[0]->shape, &in[1]->shape, &s, err) ||
      pare_broadcast_shape(&s, &in[2]->shape, &s, err))
    return pare_err_prefix(err, "Where");
  return ew_set_out(out, n_out, in[1]->dtype, &s);
}

static int ew_castable(pare_dtype dt) {
  return ew_class(dt) != 0;
}

static int infer_cast(const pare_node *node, const pare_tensor *const *in, int n_in,
                      pare_tensor *out, int n_out, pare_err *err) {
  ew_code code = ew_lookup(node);
  if (ew_need(code, in, n_in, 0, err)) return PARE_ERR;
  pare_dtype to;
  if (code == EW_CastLike) {
    if (ew_need(code, in, n_in, 1, err)) return PARE_ERR;
    to = in[1]->dtype;
  } else {
    if (!pare_node_attr(node, "to")) return pare_errf(err, "Cast: attribute 'to' is required");
    to = (pare_dtype)pare_attr_int(node, "to", 0);
  }
  if (!ew_castable(in[0]->dtype))
    return pare_errf(err, "%s: cannot cast from dtype %s", ew_infos[code].name,
                     pare_dtype_name(in[0]->dtype));
  if (!ew_castable(to))
    return pare_errf(err, "%s: cannot cast to dtype %s (code %d)", ew_infos[code].name,
                     pare_dtype_name(to), (int)to);
  return ew_set_out(out, n_out, to, &in[0]->shape);
}

/* ------------------------------------------------------- binary kernels */

/* out[i] = EXPR over x = a[...] (type TA) and y = b[...] (type TB). */
#define EW_BIN(TA, TB, TO, EXPR)                                                                   \
  do {                                                                                             \
    const TA *A_ = a->data;                                                                        \
    const TB *B_ = b->data;                                                                        \
    TO *O_ = out->data;                                                                            \
    EW_LOOP(bc, {                                                                                  \
      const TA x = A_[EW_IA];                                                                      \
      const TB y = B_[EW_IB];                                                                      \
      (void)y;                                                                                     \
      O_[EW_IO] = (TO)(EXPR);                                                                      \
    });                                                                                            \
  } while (0)

static int64_t ew_sdiv(int64_t x, int64_t y) {
  if (y == 0) return 0;
  if (y == -1) return (int64_t)(0 - (uint64_t)x);
  return x / y;
}

static uint64_t ew_udiv(uint64_t x, uint64_t y) {
  return y == 0 ? 0 : x / y;
}

static int64_t ew_smod(int64_t x, int64_t y, int fmod_mode) {
  if (y == 0 || y == -1) return 0;
  int64_t r = x % y;
  if (!fmod_mode && r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}

static uint64_t ew_umod(uint64_t x, uint64_t y) {
  return y == 0 ? 0 : x % y;
}

static double ew_fmod_floor(double x, double y) {
  double r = fmod(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}

/* Integer power by squaring with wrapping; negative exponents follow C's 1/x. */
static uint64_t ew_ipow(uint64_t base, int64_t exp, int base_is_neg_one) {
  if (exp < 0) {
    if (base == 1) return 1;
    if (base_is_neg_one) return (exp & 1) ? (uint64_t)-1 : 1;
    return 0;
  }
  uint64_t r = 1;
  while (exp) {
    if (exp & 1) r *= base;
    base *= base;
    exp >>= 1;
  }
  return r;
}

static int ew_pow(const ew_bcast *bc, const pare_tensor *a, const pare_tensor *b, pare_tensor *out,
                  pare_err *err) {
  if (a->dtype == PARE_F32 && b->dtype == PARE_F32) {
    EW_BIN(float, float, float, y == 2.0f ? x * x : pow(x, y));
    return PARE_OK;
  }
  if (a->dtype == PARE_F64 && b->dtype == PARE_F64) {
    EW_BIN(double, double, double, pow(x, y));
    return PARE_OK;
  }
  /* Mixed dtypes: rare, so read through ew_num. */
  int b_float = pare_dtype_is_float(b->dtype);
  if (pare_dtype_is_float(a->dtype) || b_float) {
    EW_LOOP(bc, ew_write_f64(out, EW_IO,
                             pow(ew_num_f64(ew_read(a, EW_IA)), ew_num_f64(ew_read(b, EW_IB)))));
    return PARE_OK;
  }
  EW_LOOP(bc, {
    ew_num x = ew_read(a, EW_IA), y = ew_read(b, EW_IB), r = {0, 1, 0, 0, 0};
    uint64_t base = x.is_unsigned ? x.u : (uint64_t)x.i;
    int64_t e = y.is_unsigned ? (y.u > INT64_MAX ? INT64_MAX : (int64_t)y.u) : y.i;
    r.u = ew_ipow(base, e, !x.is_unsigned && x.i == -1);
    ew_write(out, EW_IO, r);
  });
  (void)err;
  return PARE_OK;
}

static int ew_binary_kernel(ew_code code, const pare_node *node, const ew_bcast *bc,
                            const pare_tensor *a, const pare_tensor *b, pare_tensor *out,
                            pare_err *err) {
  pare_dtype dt = a->dtype;
  switch (code) {
  case EW_Add:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, T, x + y))
      EW_CASE_INT(EW_BIN(T, T, T, (W)x + (W)y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Sub:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, T, x - y))
      EW_CASE_INT(EW_BIN(T, T, T, (W)x - (W)y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Mul:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, T, x * y))
      EW_CASE_INT(EW_BIN(T, T, T, (W)x * (W)y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Div:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, T, x / y))
      EW_CASE_SINT(EW_BIN(T, T, T, ew_sdiv(x, y)))
      EW_CASE_UINT(EW_BIN(T, T, T, ew_udiv(x, y)))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Mod: {
    int fm = pare_attr_int(node, "fmod", 0) != 0;
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, T, fm ? fmod(x, y) : ew_fmod_floor(x, y)))
      EW_CASE_SINT(EW_BIN(T, T, T, ew_smod(x, y, fm)))
      EW_CASE_UINT(EW_BIN(T, T, T, ew_umod(x, y)))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  }
  case EW_Pow:
    return ew_pow(bc, a, b, out, err);
  case EW_BitShift: {
    int left = strcmp(pare_attr_string(node, "direction", ""), "LEFT") == 0;
    switch (dt) {
      EW_CASE_UINT(EW_BIN(T, T, T, (uint64_t)y >= 8 * sizeof(T) ? 0 : left ? (W)x << y : (W)x >> y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  }
  case EW_BitwiseAnd:
    switch (dt) {
      EW_CASE_INT(EW_BIN(T, T, T, x & y))
      EW_CASE_BOOL(EW_BIN(T, T, T, x & y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_BitwiseOr:
    switch (dt) {
      EW_CASE_INT(EW_BIN(T, T, T, x | y))
      EW_CASE_BOOL(EW_BIN(T, T, T, x | y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_BitwiseXor:
    switch (dt) {
      EW_CASE_INT(EW_BIN(T, T, T, x ^ y))
      EW_CASE_BOOL(EW_BIN(T, T, T, x ^ y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_And:
    EW_BIN(uint8_t, uint8_t, uint8_t, x && y);
    break;
  case EW_Or:
    EW_BIN(uint8_t, uint8_t, uint8_t, x || y);
    break;
  case EW_Xor:
    EW_BIN(uint8_t, uint8_t, uint8_t, !x != !y);
    break;
  case EW_Equal:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, uint8_t, x == y))
      EW_CASE_INT(EW_BIN(T, T, uint8_t, x == y))
      EW_CASE_BOOL(EW_BIN(T, T, uint8_t, !x == !y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Less:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, uint8_t, x < y))
      EW_CASE_INT(EW_BIN(T, T, uint8_t, x < y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_LessOrEqual:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, uint8_t, x <= y))
      EW_CASE_INT(EW_BIN(T, T, uint8_t, x <= y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Greater:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, uint8_t, x > y))
      EW_CASE_INT(EW_BIN(T, T, uint8_t, x > y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_GreaterOrEqual:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, uint8_t, x >= y))
      EW_CASE_INT(EW_BIN(T, T, uint8_t, x >= y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  /* Variadic folds: a is the running output, b the next input. */
  case EW_Sum:
  case EW_Mean:
    return ew_binary_kernel(EW_Add, node, bc, a, b, out, err);
  case EW_Max:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, T, isnan(x) || x >= y ? x : y))
      EW_CASE_INT(EW_BIN(T, T, T, x >= y ? x : y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Min:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, T, isnan(x) || x <= y ? x : y))
      EW_CASE_INT(EW_BIN(T, T, T, x <= y ? x : y))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_PRelu:
    switch (dt) {
      EW_CASE_FLOAT(EW_BIN(T, T, T, x < 0 ? x * y : x))
      EW_CASE_SINT(EW_BIN(T, T, T, x < 0 ? (W)x * (W)y : (W)x))
      EW_CASE_UINT(EW_BIN(T, T, T, x)) /* never negative */
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  default:
    return ew_bad_dtype(code, dt, err);
  }
  return PARE_OK;
}

static int kernel_binary(ew_code code, const pare_node *node, const pare_tensor *const *in,
                         int n_in, pare_tensor *out, pare_err *err) {
  if (ew_need(code, in, n_in, 0, err) || ew_need(code, in, n_in, 1, err)) return PARE_ERR;
  ew_bcast bc = {0};
  if (ew_bcast_init(&bc, &out->shape, in, 2, err)) return pare_err_prefix(err, "%s", node->op);
  if (code != EW_Pow && in[0]->dtype != in[1]->dtype) return ew_same_dtype(code, in[0], in[1], err);
  return ew_binary_kernel(code, node, &bc, in[0], in[1], out, err);
}

static int kernel_variadic(ew_code code, const pare_node *node, const pare_tensor *const *in,
                           int n_in, pare_tensor *out, pare_err *err) {
  if (n_in < 1) return pare_errf(err, "%s: needs at least one input", node->op);
  for (int i = 0; i < n_in; i++) {
    if (ew_need(code, in, n_in, i, err) || ew_same_dtype(code, in[0], in[i], err)) return PARE_ERR;
  }
  if (in[0]->dtype != out->dtype) return ew_same_dtype(code, in[0], out, err);
  if (ew_expand_copy(in[0], out, err)) return pare_err_prefix(err, "%s", node->op);
  for (int i = 1; i < n_in; i++) {
    const pare_tensor *pair[2] = {out, in[i]};
    ew_bcast bc = {0};
    if (ew_bcast_init(&bc, &out->shape, pair, 2, err)) return pare_err_prefix(err, "%s", node->op);
    if (ew_binary_kernel(code, node, &bc, out, in[i], out, err)) return PARE_ERR;
  }
  if (code == EW_Mean && n_in > 1) {
    int64_t n = pare_tensor_numel(out);
    switch (out->dtype) {
      EW_CASE_FLOAT({
        T *o = out->data;
        for (int64_t i = 0; i < n; i++) o[i] /= (T)n_in;
      })
      EW_CASE_SINT({
        T *o = out->data;
        for (int64_t i = 0; i < n; i++) o[i] = (T)ew_sdiv(o[i], n_in);
      })
      EW_CASE_UINT({
        T *o = out->data;
        for (int64_t i = 0; i < n; i++) o[i] = (T)(o[i] / (uint64_t)n_in);
      })
    default:
      return ew_bad_dtype(code, out->dtype, err);
    }
  }
  return PARE_OK;
}

static int kernel_prelu(ew_code code, const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, pare_err *err) {
  return kernel_binary(code, node, in, n_in, out, err);
}

/* -------------------------------------------------------- unary kernels */

/* Attributes of the unary activations, with their per-op defaults. */
typedef struct ew_params {
  float alpha, beta, gamma, lambd, bias;
  int gelu_tanh, detect_neg, detect_pos;
} ew_params;

static ew_params ew_read_params(ew_code code, const pare_node *node) {
  ew_params p = {0, 0, 0, 0, 0, 0, 0, 0};
  float alpha = 0, beta = 0;
  switch (code) {
  case EW_LeakyRelu:
    alpha = 0.01f;
    break;
  case EW_Elu:
  case EW_Celu:
  case EW_ThresholdedRelu:
    alpha = 1.0f;
    break;
  case EW_Selu:
    alpha = 1.67326319217681884765625f;
    break;
  case EW_HardSigmoid:
    alpha = 0.2f, beta = 0.5f;
    break;
  default:
    break;
  }
  p.alpha = pare_attr_float(node, "alpha", alpha);
  p.beta = pare_attr_float(node, "beta", beta);
  p.gamma = pare_attr_float(node, "gamma", 1.05070102214813232421875f);
  p.lambd = pare_attr_float(node, "lambd", 0.5f);
  p.bias = pare_attr_float(node, "bias", 0.0f);
  p.gelu_tanh = strcmp(pare_attr_string(node, "approximate", "none"), "tanh") == 0;
  p.detect_neg = pare_attr_int(node, "detect_negative", 1) != 0;
  p.detect_pos = pare_attr_int(node, "detect_positive", 1) != 0;
  return p;
}

#define EW_MAP(EXPR)                                                                               \
  for (int64_t i_ = 0; i_ < n; i_++) {                                                             \
    const T v = x[i_];                                                                             \
    y[i_] = (T)(EXPR);                                                                             \
  }

/* One float kernel per type; tgmath picks the f32 or f64 libm function. */
#define EW_DEFINE_UNARY_FLOAT(NAME, TT)                                                            \
  static int NAME(ew_code code, const ew_params *p, const TT *x, TT *y, int64_t n) {               \
    typedef TT T;                                                                                  \
    const T alpha = (T)p->alpha, beta = (T)p->beta, gamma = (T)p->gamma;                           \
    const T lambd = (T)p->lambd, bias = (T)p->bias, one = 1, zero = 0, half = (T)0.5;              \
    switch (code) {                                                                                \
    case EW_Neg:                                                                                   \
      EW_MAP(-v);                                                                                  \
      break;                                                                                       \
    case EW_Abs:                                                                                   \
      EW_MAP(fabs(v));                                                                             \
      break;                                                                                       \
    case EW_Sign:                                                                                  \
      EW_MAP(v > zero ? one : v < zero ? -one : v);                                                \
      break;                                                                                       \
    case EW_Relu:                                                                                  \
      EW_MAP(v > zero ? v : zero);                                                                 \
      break;                                                                                       \
    case EW_Shrink:                                                                                \
      EW_MAP((v < -lambd) ? v + bias : (v > lambd) ? v - bias : zero);                             \
      break;                                                                                       \
    case EW_Sqrt:                                                                                  \
      EW_MAP(sqrt(v));                                                                             \
      break;                                                                                       \
    case EW_Exp:                                                                                   \
      EW_MAP(exp(v));                                                                              \
      break;                                                                                       \
    case EW_Log:                                                                                   \
      EW_MAP(log(v));                                                                              \
      break;                                                                                       \
    case EW_Reciprocal:                                                                            \
      EW_MAP(one / v);                                                                             \
      break;                                                                                       \
    case EW_Floor:                                                                                 \
      EW_MAP(floor(v));                                                                            \
      break;                                                                                       \
    case EW_Ceil:                                                                                  \
      EW_MAP(ceil(v));                                                                             \
      break;                                                                                       \
    case EW_Round:                                                                                 \
      EW_MAP(nearbyint(v));                                                                        \
      break;                                                                                       \
    case EW_Sin:                                                                                   \
      EW_MAP(sin(v));                                                                              \
      break;                                                                                       \
    case EW_Cos:                                                                                   \
      EW_MAP(cos(v));                                                                              \
      break;                                                                                       \
    case EW_Tan:                                                                                   \
      EW_MAP(tan(v));                                                                              \
      break;                                                                                       \
    case EW_Asin:                                                                                  \
      EW_MAP(asin(v));                                                                             \
      break;                                                                                       \
    case EW_Acos:                                                                                  \
      EW_MAP(acos(v));                                                                             \
      break;                                                                                       \
    case EW_Atan:                                                                                  \
      EW_MAP(atan(v));                                                                             \
      break;                                                                                       \
    case EW_Sinh:                                                                                  \
      EW_MAP(sinh(v));                                                                             \
      break;                                                                                       \
    case EW_Cosh:                                                                                  \
      EW_MAP(cosh(v));                                                                             \
      break;                                                                                       \
    case EW_Asinh:                                                                                 \
      EW_MAP(asinh(v));                                                                            \
      break;                                                                                       \
    case EW_Acosh:                                                                                 \
      EW_MAP(acosh(v));                                                                            \
      break;                                                                                       \
    case EW_Atanh:                                                                                 \
      EW_MAP(atanh(v));                                                                            \
      break;                                                                                       \
    case EW_Erf:                                                                                   \
      EW_MAP(erf(v));                                                                              \
      break;                                                                                       \
    case EW_Sigmoid:                                                                               \
      EW_MAP(v >= zero ? one / (one + exp(-v)) : exp(v) / (one + exp(v)));                         \
      break;                                                                                       \
    case EW_Tanh:                                                                                  \
      EW_MAP(tanh(v));                                                                             \
      break;                                                                                       \
    case EW_HardSigmoid:                                                                           \
      EW_MAP(fmax(zero, fmin(one, beta + alpha * v)));                                             \
      break;                                                                                       \
    case EW_HardSwish:                                                                             \
      EW_MAP(fmax(zero, fmin(one, v / (T)6 + half)) * v);                                          \
      break;                                                                                       \
    case EW_LeakyRelu:                                                                             \
      EW_MAP(v < zero ? alpha * v : v);                                                            \
      break;                                                                                       \
    case EW_Elu:                                                                                   \
      EW_MAP(v < zero ? alpha * (exp(v) - one) : v);                                               \
      break;                                                                                       \
    case EW_Selu:                                                                                  \
      EW_MAP(v > zero ? gamma * v : gamma * (alpha * exp(v) - alpha));                             \
      break;                                                                                       \
    case EW_Celu:                                                                                  \
      EW_MAP(fmax(zero, v) + fmin(zero, alpha * (exp(v / alpha) - one)));                          \
      break;                                                                                       \
    case EW_Softplus:                                                                              \
      EW_MAP(v > zero ? v + log1p(exp(-v)) : log1p(exp(v)));                                       \
      break;                                                                                       \
    case EW_Softsign:                                                                              \
      EW_MAP(v / (one + fabs(v)));                                                                 \
      break;                                                                                       \
    case EW_ThresholdedRelu:                                                                       \
      EW_MAP(v > alpha ? v : zero);                                                                \
      break;                                                                                       \
    case EW_Mish:                                                                                  \
      EW_MAP(tanh(v > zero ? v + log1p(exp(-v)) : log1p(exp(v))) * v);                             \
      break;                                                                                       \
    case EW_Gelu:                                                                                  \
      if (p->gelu_tanh) {                                                                          \
        const T k = (T)(M_2_SQRTPI * M_SQRT1_2);                                                   \
        EW_MAP((one + tanh(k * (v + (T)0.044715 * v * v * v))) * v * half);                        \
      } else {                                                                                     \
        EW_MAP((one + erf(v * (T)M_SQRT1_2)) * v * half);                                          \
      }                                                                                            \
      break;                                                                                       \
    default:                                                                                       \
      return PARE_ERR;                                                                             \
    }                                                                                              \
    return PARE_OK;                                                                                \
  }

EW_DEFINE_UNARY_FLOAT(ew_unary_f32, float)
EW_DEFINE_UNARY_FLOAT(ew_unary_f64, double)

/* IsNaN / IsInf: float in, bool out. */
#define EW_DEFINE_CLASSIFY(NAME, TT)                                                               \
  static void NAME(ew_code code, const ew_params *p, const TT *x, uint8_t *y, int64_t n) {         \
    for (int64_t i = 0; i < n; i++) {                                                              \
      TT v = x[i];                                                                                 \
      if (code == EW_IsNaN)                                                                        \
        y[i] = isnan(v) != 0;                                                                      \
      else                                                                                         \
        y[i] = isinf(v) && (v > 0 ? p->detect_pos : p->detect_neg);                                \
    }                                                                                              \
  }

EW_DEFINE_CLASSIFY(ew_classify_f32, float)
EW_DEFINE_CLASSIFY(ew_classify_f64, double)

/* Integer unary ops; T and W come from the enclosing case block. */
#define EW_IMAP(EXPR)                                                                              \
  do {                                                                                             \
    const T *x = in->data;                                                                         \
    T *y = out->data;                                                                              \
    for (int64_t i_ = 0; i_ < n; i_++) {                                                           \
      const T v = x[i_];                                                                           \
      y[i_] = (T)(EXPR);                                                                           \
    }                                                                                              \
  } while (0)

static int ew_unary_int(ew_code code, const ew_params *p, const pare_tensor *in, pare_tensor *out,
                        pare_err *err) {
  int64_t n = pare_tensor_numel(in);
  pare_dtype dt = in->dtype;
  if (code == EW_Shrink) { /* numpy promotes to float and casts back */
    for (int64_t i = 0; i < n; i++) {
      double v = ew_num_f64(ew_read(in, i));
      ew_write_f64(out, i, v < -p->lambd ? v + p->bias : v > p->lambd ? v - p->bias : 0);
    }
    return PARE_OK;
  }
  switch (code) {
  case EW_Not:
    switch (dt) {
      EW_CASE_BOOL(EW_IMAP(!v))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Neg:
    switch (dt) {
      EW_CASE_INT(EW_IMAP(0 - (W)v))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Abs:
    switch (dt) {
      EW_CASE_SINT(EW_IMAP(v < 0 ? 0 - (W)v : (W)v))
      EW_CASE_UINT(EW_IMAP(v))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Sign:
    switch (dt) {
      EW_CASE_SINT(EW_IMAP((v > 0) - (v < 0)))
      EW_CASE_UINT(EW_IMAP(v != 0))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_Relu:
    switch (dt) {
      EW_CASE_SINT(EW_IMAP(v < 0 ? 0 : v))
      EW_CASE_UINT(EW_IMAP(v))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  case EW_BitwiseNot:
    switch (dt) {
      EW_CASE_INT(EW_IMAP(~(W)v))
      EW_CASE_BOOL(EW_IMAP(!v))
    default:
      return ew_bad_dtype(code, dt, err);
    }
    break;
  default:
    return ew_bad_dtype(code, dt, err);
  }
  return PARE_OK;
}

static int kernel_unary(ew_code code, const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, pare_err *err) {
  if (ew_need(code, in, n_in, 0, err)) return PARE_ERR;
  const pare_tensor *x = in[0];
  ew_params p = ew_read_params(code, node);
  int64_t n = pare_tensor_numel(x);
  if (code == EW_IsNaN || code == EW_IsInf) {
    if (x->dtype == PARE_F32)
      ew_classify_f32(code, &p, x->data, out->data, n);
    else if (x->dtype == PARE_F64)
      ew_classify_f64(code, &p, x->data, out->data, n);
    else
      return ew_bad_dtype(code, x->dtype, err);
    return PARE_OK;
  }
  if (x->dtype != out->dtype) return ew_same_dtype(code, x, out, err);
  if (x->dtype == PARE_F32) {
    if (ew_unary_f32(code, &p, x->data, out->data, n)) return ew_bad_dtype(code, x->dtype, err);
    return PARE_OK;
  }
  if (x->dtype == PARE_F64) {
    if (ew_unary_f64(code, &p, x->data, out->data, n)) return ew_bad_dtype(code, x->dtype, err);
    return PARE_OK;
  }
  if (code == EW_Not && x->dtype != PARE_BOOL) return ew_bad_dtype(code, x->dtype, err);
  return ew_unary_int(code, &p, x, out, err);
}

/* ------------------------------------------------------ Clip, Where, Cast */

static int kernel_clip(ew_code code, const pare_node *node, const pare_tensor *const *in, int n_in,
                       pare_tensor *out, pare_err *err) {
  (void)node;
  if (ew_need(code, in, n_in, 0, err)) return PARE_ERR;
  const pare_tensor *x = in[0];
  const pare_tensor *lo_t = n_in > 1 && in[1] && pare_tensor_numel(in[1]) > 0 ? in[1] : NULL;
  const pare_tensor *hi_t = n_in > 2 && in[2] && pare_tensor_numel(in[2]) > 0 ? in[2] : NULL;
  if ((lo_t && lo_t->dtype != x->dtype) || (hi_t && hi_t->dtype != x->dtype))
    return ew_same_dtype(code, x, lo_t && lo_t->dtype != x->dtype ? lo_t : hi_t, err);
  if (out->dtype != x->dtype) return ew_same_dtype(code, x, out, err);
  int64_t n = pare_tensor_numel(x);
  /* NaN inputs fail both comparisons and pass through, as in numpy.clip. */
#define EW_CLIP_BODY                                                                               \
  {                                                                                                \
    const T *xs = x->data;                                                                         \
    T *ys = out->data;                                                                             \
    const T lo = lo_t ? *(const T *)lo_t->data : 0, hi = hi_t ? *(const T *)hi_t->data : 0;        \
    for (int64_t i = 0; i < n; i++) {                                                              \
      T v = xs[i];                                                                                 \
      if (lo_t && v < lo) v = lo;                                                                  \
      if (hi_t && v > hi) v = hi;                                                                  \
      ys[i] = v;                                                                                   \
    }                                                                                              \
  }
  switch (x->dtype) {
    EW_CASE_FLOAT(EW_CLIP_BODY)
    EW_CASE_INT(EW_CLIP_BODY)
  default:
    return ew_bad_dtype(code, x->dtype, err);
  }
#undef EW_CLIP_BODY
  return PARE_OK;
}

static int kernel_where(ew_code code, const pare_node *node, const pare_tensor *const *in, int n_in,
                        pare_tensor *out, pare_err *err) {
  (void)node;
  for (int i = 0; i < 3; i++)
    if (ew_need(code, in, n_in, i, err)) return PARE_ERR;
  if (in[0]->dtype != PARE_BOOL) return pare_errf(err, "Where: condition must be bool");
  if (in[1]->dtype != in[2]->dtype) return ew_same_dtype(code, in[1], in[2], err);
  if (in[1]->dtype != out->dtype) return ew_same_dtype(code, in[1], out, err);
  ew_bcast bc = {0};
  if (ew_bcast_init(&bc, &out->shape, in, 3, err)) return pare_err_prefix(err, "Where");
  const uint8_t *c = in[0]->data;
  switch (pare_dtype_size(out->dtype)) {
#define EW_SELECT(TT)                                                                              \
  {                                                                                                \
    const TT *xs = in[1]->data, *ys = in[2]->data;                                                 \
    TT *o = out->data;                                                                             \
    EW_LOOP(&bc, o[EW_IO] = c[EW_IA] ? xs[EW_IB] : ys[EW_IC]);                                     \
  }                                                                                                \
  break;
  case 1:
    EW_SELECT(uint8_t)
  case 2:
    EW_SELECT(uint16_t)
  case 4:
    EW_SELECT(uint32_t)
  case 8:
    EW_SELECT(uint64_t)
#undef EW_SELECT
  default:
    return ew_bad_dtype(code, out->dtype, err);
  }
  return PARE_OK;
}

static int eval_cast(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  ew_code code = ew_lookup(node);
  if (ew_need(code, in, n_in, 0, err)) return PARE_ERR;
  if (n_out < 1) return pare_errf(err, "%s: expected 1 output", node->op);
  const pare_tensor *x = in[0];
  if (!ew_castable(x->dtype) || !ew_castable(out->dtype))
    return pare_errf(err, "%s: cannot cast %s to %s", node->op, pare_dtype_name(x->dtype),
                     pare_dtype_name(out->dtype));
  int64_t n = pare_tensor_numel(x);
  if (x->dtype == out->dtype) {
    if (n > 0) memcpy(out->data, x->data, (size_t)n * pare_dtype_size(x->dtype));
    return PARE_OK;
  }
  if (x->dtype == PARE_F32 && out->dtype == PARE_F16) {
    const float *s = x->data;
    uint16_t *d = out->data;
    for (int64_t i = 0; i < n; i++) d[i] = ew_f64_to_f16(s[i]);
    return PARE_OK;
  }
  if (x->dtype == PARE_F16 && out->dtype == PARE_F32) {
    const uint16_t *s = x->data;
    float *d = out->data;
    for (int64_t i = 0; i < n; i++) d[i] = (float)(double)pare_f16_to_f32(s[i]);
    return PARE_OK;
  }
  for (int64_t i = 0; i < n; i++) ew_write(out, i, ew_read(x, i));
  return PARE_OK;
}

/* ------------------------------------------------------ registry glue */

#define EW_EVAL(kind)                                                                              \
  static int eval_##kind(const pare_node *node, const pare_tensor *const *in, int n_in,            \
                         pare_tensor *out, int n_out, pare_err *err) {                             \
    return ew_run(kernel_##kind, node, in, n_in, out, n_out, err);                                 \
  }
EW_EVAL(binary)
EW_EVAL(prelu)
EW_EVAL(variadic)
EW_EVAL(unary)
EW_EVAL(clip)
EW_EVAL(where)
#undef EW_EVAL

const pare_op_def pare_ops_elementwise[] = {
#define EW_DEF(name, kind, mask) {#name, infer_##kind, eval_##kind},
    EW_OPS(EW_DEF)
#undef EW_DEF
        {0, 0, 0},
};
