/*
 * emit_misc.c - ops on dtypes other than f32 and the indexing, sorting and
 * loss ops:
 *   - elementwise with numpy broadcasting on f32, f64, integers and bool:
 *     comparisons (Equal, Less, LessOrEqual, Greater, GreaterOrEqual), logic
 *     (And, Or, Xor, Not), IsNaN, IsInf, Where, and integer arithmetic (Add,
 *     Sub, Mul, Div, Mod, Pow, Neg, Abs, Max, Min, Sum, Mean);
 *   - the f32 libm functions emit_elementwise.c lacks (Tan, Asin, Acos, Atan,
 *     Sinh, Cosh, Asinh, Acosh, Atanh) and Shrink;
 *   - ArgMax, ArgMin, TopK, CumSum, Trilu, GatherElements, ScatterElements,
 *     GatherND, ScatterND, OneHot, EyeLike, ConstantOfShape, Range,
 *     ReverseSequence, the Hann, Hamming and Blackman windows;
 *   - LRN, GridSample, NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss.
 * Semantics are the reference kernels' (ops/elementwise.c, ops/reduce.c,
 * ops/shape*.c, ops/nn_norm.c, ops/misc_sample.c, ops/loss.c, and
 * ops/signal.c, which computes the windows at compile time), down to the
 * arithmetic: float sums, LRN, GridSample's interpolation and the losses
 * run in double as the reference does, integer division and modulo by 0
 * (and by -1) give the reference's results instead of trapping.
 *
 * Precedence. Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean, Neg and Abs are
 * in cg_ops_elementwise too; codegen.c scans this table first, and emit_typed
 * hands a node whose operands are all f32 to the elementwise emitter, so f32
 * code (and fusion, which never consults the tables) stays what it was.
 *
 * The typed loop (tx_*) is the broadcast loop of emit_elementwise.c for any
 * element type: operands are loaded in their own LLVM type (bool as i8 0/1),
 * the body computes the output's, and the innermost dim runs in vectors of
 * CG_VW lanes when every operand is contiguous or broadcast along it.
 *
 * Bad indices. The reference rejects an index out of range (Gather*,
 * Scatter*, a loss target, a ReverseSequence length); generated code cannot
 * report one, so constant indices out of range are refused at compile time
 * and run-time ones are clamped into their axis (as Gather in emit_shape.c
 * does), never read or written out of bounds. OneHot skips out-of-range
 * indices like the reference.
 *
 * Sizes from the output. Where an input only sets an extent (TopK's K,
 * Range's limit, a window's size, OneHot's depth), the static output shape
 * supplies it and the input is not read.
 */
#include "backend/cg.h"
#include "backend/emit.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- element types */

/* The type a dtype computes in (bool as i8 0/1); NULL for f16 and strings. */
static LLVMTypeRef num_type(cg *c, pare_dtype dt) {
  switch (dt) {
  case PARE_F32:
    return c->f32;
  case PARE_F64:
    return c->f64;
  case PARE_BOOL:
  case PARE_U8:
  case PARE_I8:
    return c->i8;
  case PARE_U16:
  case PARE_I16:
    return LLVMInt16TypeInContext(c->ctx);
  case PARE_I32:
  case PARE_U32:
    return c->i32;
  case PARE_I64:
  case PARE_U64:
    return c->i64;
  default:
    return NULL;
  }
}

/* An integer of the dtype's size, for ops that only move elements. */
static LLVMTypeRef bits_type(cg *c, pare_dtype dt) {
  size_t es = pare_dtype_size(dt);
  return es ? LLVMIntTypeInContext(c->ctx, (unsigned)(8 * es)) : NULL;
}

static int is_fp(pare_dtype dt) {
  return dt == PARE_F32 || dt == PARE_F64;
}

static int is_unsigned(pare_dtype dt) {
  return dt == PARE_BOOL || dt == PARE_U8 || dt == PARE_U16 || dt == PARE_U32 || dt == PARE_U64;
}

static pare_dtype dtype_of(cg *c, int v) {
  return c->g->values[v]->dtype;
}

static int is_index_dtype(pare_dtype dt) {
  return dt == PARE_I32 || dt == PARE_I64;
}

static LLVMTypeRef vec_of(LLVMTypeRef t, int w) {
  return w == 1 ? t : LLVMVectorType(t, (unsigned)w);
}

static unsigned elt_bytes(LLVMTypeRef t) {
  switch (LLVMGetTypeKind(t)) {
  case LLVMFloatTypeKind:
    return 4;
  case LLVMDoubleTypeKind:
    return 8;
  default:
    return LLVMGetIntTypeWidth(t) / 8;
  }
}

/* s (any scalar type) in every one of w lanes; w == 1: s. */
static LLVMValueRef splat(cg *c, LLVMValueRef s, int w) {
  if (w == 1) return s;
  if (LLVMIsConstant(s)) {
    LLVMValueRef e[64];
    for (int i = 0; i < w; i++) e[i] = s;
    return LLVMConstVector(e, (unsigned)w);
  }
  LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(s), (unsigned)w);
  LLVMValueRef v =
      LLVMBuildInsertElement(c->b, LLVMGetUndef(vt), s, LLVMConstInt(c->i32, 0, 0), "");
  return LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(vt),
                                LLVMConstNull(LLVMVectorType(c->i32, (unsigned)w)), "");
}

static LLVMValueRef iconst(LLVMTypeRef t, int64_t v) {
  return LLVMConstInt(t, (unsigned long long)v, 1);
}

static LLVMValueRef iconst_w(cg *c, LLVMTypeRef t, int64_t v, int w) {
  return splat(c, iconst(t, v), w);
}

static LLVMValueRef fconst_w(cg *c, LLVMTypeRef t, double v, int w) {
  return splat(c, LLVMConstReal(t, v), w);
}

/* <start, start + 1, ...> as w i64 lanes. */
static LLVMValueRef lane_index(cg *c, LLVMValueRef start, int w) {
  if (w == 1) return start;
  LLVMValueRef e[64];
  for (int i = 0; i < w; i++) e[i] = cg_i64(c, i);
  return LLVMBuildAdd(c->b, splat(c, start, w), LLVMConstVector(e, (unsigned)w), "");
}

/* w elements (w == 1: a scalar) of type et at base[idx], unaligned. */
static LLVMValueRef load_at(cg *c, LLVMTypeRef et, int w, LLVMValueRef base, LLVMValueRef idx) {
  LLVMValueRef v = LLVMBuildLoad2(c->b, vec_of(et, w), cg_gep(c, et, base, idx), "");
  LLVMSetAlignment(v, elt_bytes(et));
  return v;
}

static void store_at(cg *c, LLVMValueRef v, LLVMTypeRef et, LLVMValueRef base, LLVMValueRef idx) {
  LLVMValueRef s = LLVMBuildStore(c->b, v, cg_gep(c, et, base, idx));
  LLVMSetAlignment(s, elt_bytes(et));
}

/* x != 0, per lane. */
static LLVMValueRef truth(cg *c, LLVMValueRef x) {
  return LLVMBuildICmp(c->b, LLVMIntNE, x, LLVMConstNull(LLVMTypeOf(x)), "");
}

/* An i1 (per lane) as a bool byte. */
static LLVMValueRef bool_byte(cg *c, LLVMValueRef b, int w) {
  return LLVMBuildZExt(c->b, b, vec_of(c->i8, w), "");
}

static LLVMValueRef is_nan(cg *c, LLVMValueRef x) {
  return LLVMBuildFCmp(c->b, LLVMRealUNO, x, x, "");
}

/* The element type of a scalar or vector value. */
static LLVMTypeRef scalar_type(LLVMValueRef v) {
  LLVMTypeRef t = LLVMTypeOf(v);
  return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? LLVMGetElementType(t) : t;
}

/* An integer of dtype dt (any width) as i64: sign- or zero-extended. */
static LLVMValueRef widen_i64(cg *c, LLVMValueRef x, pare_dtype dt, int w) {
  LLVMTypeRef t = vec_of(c->i64, w);
  if (LLVMGetIntTypeWidth(scalar_type(x)) == 64) return x;
  return is_unsigned(dt) ? LLVMBuildZExt(c->b, x, t, "") : LLVMBuildSExt(c->b, x, t, "");
}

/* A number of dtype dt as double. */
static LLVMValueRef to_f64(cg *c, LLVMValueRef x, pare_dtype dt, int w) {
  LLVMTypeRef t = vec_of(c->f64, w);
  if (dt == PARE_F64) return x;
  if (dt == PARE_F32) return LLVMBuildFPExt(c->b, x, t, "");
  return is_unsigned(dt) ? LLVMBuildUIToFP(c->b, x, t, "") : LLVMBuildSIToFP(c->b, x, t, "");
}

/* v (double) to a signed integer of `bits` bits truncating toward zero; NaN
 * and out-of-range values give the integer's minimum, like x86's cvtt (the
 * reference's ew_f2i32 / ew_f2i64). */
static LLVMValueRef f64_to_int(cg *c, LLVMValueRef v, int bits, int w) {
  LLVMTypeRef t = vec_of(LLVMIntTypeInContext(c->ctx, (unsigned)bits), w);
  double lim = ldexp(1.0, bits - 1);
  /* i32 rounds toward zero from just below -2^31; i64 cannot go below -2^63. */
  LLVMValueRef lo = bits == 32
                        ? LLVMBuildFCmp(c->b, LLVMRealOGT, v, fconst_w(c, c->f64, -lim - 1, w), "")
                        : LLVMBuildFCmp(c->b, LLVMRealOGE, v, fconst_w(c, c->f64, -lim, w), "");
  LLVMValueRef ok = LLVMBuildAnd(
      c->b, lo, LLVMBuildFCmp(c->b, LLVMRealOLT, v, fconst_w(c, c->f64, lim, w), ""), "");
  LLVMValueRef min = splat(
      c, LLVMConstInt(LLVMIntTypeInContext(c->ctx, (unsigned)bits), 1ull << (bits - 1), 0), w);
  return LLVMBuildSelect(c->b, ok, LLVMBuildFPToSI(c->b, v, t, ""), min, "");
}

/* A double stored into dtype dt the way the reference's ew_write does. */
static LLVMValueRef from_f64(cg *c, LLVMValueRef v, pare_dtype dt, int w) {
  LLVMTypeRef et = num_type(c, dt);
  switch (dt) {
  case PARE_F64:
    return v;
  case PARE_F32:
    return LLVMBuildFPTrunc(c->b, v, vec_of(c->f32, w), "");
  case PARE_BOOL:
    return bool_byte(c, LLVMBuildFCmp(c->b, LLVMRealUNE, v, fconst_w(c, c->f64, 0, w), ""), w);
  case PARE_I64:
    return f64_to_int(c, v, 64, w);
  case PARE_U32:
    return LLVMBuildTrunc(c->b, f64_to_int(c, v, 64, w), vec_of(et, w), "");
  case PARE_U64: {
    /* [2^63, 2^64) converts unsigned; beyond, the "indefinite" 2^63. */
    LLVMValueRef big =
        LLVMBuildFCmp(c->b, LLVMRealOGE, v, fconst_w(c, c->f64, ldexp(1, 63), w), "");
    LLVMValueRef fits =
        LLVMBuildFCmp(c->b, LLVMRealOLT, v, fconst_w(c, c->f64, ldexp(1, 64), w), "");
    LLVMValueRef hi = LLVMBuildSelect(c->b, fits, LLVMBuildFPToUI(c->b, v, vec_of(c->i64, w), ""),
                                      iconst_w(c, c->i64, INT64_MIN, w), "");
    return LLVMBuildSelect(c->b, big, hi, f64_to_int(c, v, 64, w), "");
  }
  default: { /* i32 and narrower: through a 32-bit conversion */
    LLVMValueRef r = f64_to_int(c, v, 32, w);
    return et == c->i32 ? r : LLVMBuildTrunc(c->b, r, vec_of(et, w), "");
  }
  }
}

/* Calls the double libm function `name` on n arguments (scalars). */
static LLVMValueRef libm_f64(cg *c, const char *name, LLVMValueRef *args, int n) {
  LLVMTypeRef params[2] = {c->f64, c->f64};
  LLVMTypeRef ft = LLVMFunctionType(c->f64, params, (unsigned)n, 0);
  LLVMValueRef fn = LLVMGetNamedFunction(c->mod, name);
  if (!fn) fn = LLVMAddFunction(c->mod, name, ft);
  return LLVMBuildCall2(c->b, ft, fn, args, (unsigned)n, "");
}

/* A number at base[idx] (dtype dt) as double. */
static LLVMValueRef load_f64(cg *c, LLVMValueRef base, pare_dtype dt, LLVMValueRef idx) {
  return to_f64(c, load_at(c, num_type(c, dt), 1, base, idx), dt, 1);
}

/* *slot += v (doubles); returns the sum. */
static LLVMValueRef add_to(cg *c, LLVMValueRef slot, LLVMValueRef v) {
  LLVMValueRef s = LLVMBuildFAdd(c->b, LLVMBuildLoad2(c->b, c->f64, slot, ""), v, "");
  LLVMBuildStore(c->b, s, slot);
  return s;
}

/* ------------------------------------------------------------ loop helpers */

/* A loop over [0, n), or just the constant 0 when n == 1. */
static LLVMValueRef loop_begin(cg *c, cg_loop *l, int64_t n) {
  l->body = NULL;
  return n == 1 ? cg_i64(c, 0) : cg_for_begin(c, l, 0, n, 1);
}

static void loop_end(cg *c, cg_loop *l) {
  if (l->body) cg_for_end(c, l);
}

/* Calls fn(c, i, w, ctx) covering [0, n): blocks of w lanes, then single
 * lanes for the tail. */
typedef void (*lanes_fn)(cg *c, LLVMValueRef i, int w, void *ctx);

static void lanes_span(cg *c, int64_t start, int64_t end, int w, lanes_fn fn, void *ctx) {
  if (end <= start) return;
  cg_loop l;
  int looped = end - start > w;
  LLVMValueRef i = looped ? cg_for_begin(c, &l, start, end, w) : cg_i64(c, start);
  fn(c, i, w, ctx);
  if (looped) cg_for_end(c, &l);
}

static void over_lanes(cg *c, int64_t n, int w, lanes_fn fn, void *ctx) {
  int64_t vend = w > 1 ? n / w * w : 0;
  lanes_span(c, 0, vend, w, fn, ctx);
  lanes_span(c, vend, n, 1, fn, ctx);
}

/* Continues in a block that runs only when cond holds; if_end joins. */
static LLVMBasicBlockRef if_begin(cg *c, LLVMValueRef cond) {
  LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "then");
  LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "join");
  LLVMBuildCondBr(c->b, cond, then, join);
  LLVMPositionBuilderAtEnd(c->b, then);
  return join;
}

static void if_end(cg *c, LLVMBasicBlockRef join) {
  LLVMBuildBr(c->b, join);
  LLVMPositionBuilderAtEnd(c->b, join);
}

/* outer * n * inner around axis of shape s. */
static void split_at(const pare_shape *s, int axis, int64_t *outer, int64_t *n, int64_t *inner) {
  *outer = *inner = 1;
  for (int d = 0; d < axis; d++) *outer *= s->dims[d];
  for (int d = axis + 1; d < s->rank; d++) *inner *= s->dims[d];
  *n = s->dims[axis];
}

typedef struct fill_job {
  LLVMValueRef dst, v;
  LLVMTypeRef et;
} fill_job;

static void fill_lanes(cg *c, LLVMValueRef i, int w, void *ctx) {
  const fill_job *f = ctx;
  store_at(c, splat(c, f->v, w), f->et, f->dst, i);
}

/* dst[0..n) = v (a scalar of type et). */
static void fill(cg *c, LLVMValueRef dst, LLVMTypeRef et, LLVMValueRef v, int64_t n) {
  if (LLVMIsNull(v)) {
    cg_memset0(c, dst, n * (int64_t)elt_bytes(et));
    return;
  }
  fill_job f = {.dst = dst, .v = v, .et = et};
  over_lanes(c, n, CG_VW, fill_lanes, &f);
}

/* ----------------------------------------------------------- typed loop */

typedef struct tx_operand {
  LLVMValueRef base;
  LLVMTypeRef et; /* element type as loaded */
  pare_shape shape;
} tx_operand;

/* Computes one output value (w lanes) from the operand values x[0..n). */
typedef LLVMValueRef (*tx_body_fn)(cg *c, LLVMValueRef *x, int n, int w, void *user);

typedef struct tx_loop {
  const tx_operand *ops, *out;
  int n, max_w;
  tx_body_fn body;
  void *user;
  int rank;
  int64_t dims[PARE_MAX_RANK];
  int64_t st[EW_MAX_OPERANDS + 1][PARE_MAX_RANK]; /* [n]: the output */
  LLVMValueRef off[EW_MAX_OPERANDS + 1];          /* innermost run: its first elements */
  LLVMValueRef held[EW_MAX_OPERANDS];             /* operands broadcast along it */
} tx_loop;

/* Strides of shape s read through output shape o (0 along broadcast dims). */
static void bcast_strides(const pare_shape *s, const pare_shape *o, int64_t *st) {
  int64_t own[PARE_MAX_RANK];
  pare_strides(s, own);
  for (int d = 0; d < o->rank; d++) {
    int sd = d - (o->rank - s->rank);
    st[d] = sd >= 0 && s->dims[sd] != 1 ? own[sd] : 0;
  }
}

/* Drops size-1 dims; a dim joins the one outside it when every operand
 * steps through the two as through one. */
static void tx_simplify(tx_loop *t) {
  int r = 0;
  for (int d = 0; d < t->rank; d++) {
    if (t->dims[d] == 1) continue;
    int merge = r > 0;
    for (int i = 0; merge && i <= t->n; i++) merge = t->st[i][r - 1] == t->st[i][d] * t->dims[d];
    if (merge)
      t->dims[r - 1] *= t->dims[d];
    else
      t->dims[r++] = t->dims[d];
    for (int i = 0; i <= t->n; i++) t->st[i][r - 1] = t->st[i][d];
  }
  if (r == 0) {
    t->dims[0] = 1;
    for (int i = 0; i <= t->n; i++) t->st[i][0] = 0;
    r = 1;
  }
  t->rank = r;
}

static void tx_lanes(cg *c, LLVMValueRef i, int w, void *ctx) {
  tx_loop *t = ctx;
  const int last = t->rank - 1;
  LLVMValueRef x[EW_MAX_OPERANDS];
  for (int k = 0; k < t->n; k++)
    x[k] = t->held[k] ? splat(c, t->held[k], w)
                      : load_at(c, t->ops[k].et, w, t->ops[k].base,
                                cg_madd(c, i, t->st[k][last], t->off[k]));
  store_at(c, t->body(c, x, t->n, w, t->user), t->out->et, t->out->base,
           cg_add(c, t->off[t->n], i));
}

static void tx_level(cg *c, tx_loop *t, int d, LLVMValueRef *off) {
  const int last = t->rank - 1;
  if (d == last) {
    int w = t->max_w;
    for (int k = 0; k <= t->n; k++) {
      t->off[k] = off[k];
      if (t->st[k][last] > 1) w = 1;
      if (k < t->n)
        t->held[k] = t->st[k][last] ? NULL : load_at(c, t->ops[k].et, 1, t->ops[k].base, off[k]);
    }
    over_lanes(c, t->dims[last], w, tx_lanes, t);
    return;
  }
  cg_loop l;
  LLVMValueRef iv = loop_begin(c, &l, t->dims[d]), sub[EW_MAX_OPERANDS + 1];
  for (int k = 0; k <= t->n; k++) sub[k] = cg_madd(c, iv, t->st[k][d], off[k]);
  tx_level(c, t, d + 1, sub);
  loop_end(c, &l);
}

/* out[i] = body(ops[i]...) over out's shape, the operands broadcast. */
static int tx_emit(cg *c, const tx_operand *ops, int n, const tx_operand *out, int max_w,
                   tx_body_fn body, void *user, pare_err *err) {
  if (n > EW_MAX_OPERANDS) return pare_errf(err, "more than %d operands", EW_MAX_OPERANDS);
  tx_loop t = {.ops = ops, .out = out, .n = n, .max_w = max_w, .body = body, .user = user};
  t.rank = out->shape.rank;
  int64_t count = 1;
  for (int d = 0; d < t.rank; d++) count *= t.dims[d] = out->shape.dims[d];
  if (count == 0) return PARE_OK;
  for (int k = 0; k < n; k++) {
    pare_shape b;
    if (pare_broadcast_shape(&ops[k].shape, &out->shape, &b, err)) return PARE_ERR;
    bcast_strides(&ops[k].shape, &out->shape, t.st[k]);
  }
  bcast_strides(&out->shape, &out->shape, t.st[n]);
  tx_simplify(&t);
  LLVMValueRef off[EW_MAX_OPERANDS + 1];
  for (int k = 0; k <= n; k++) off[k] = cg_i64(c, 0);
  tx_level(c, &t, 0, off);
  return PARE_OK;
}

static void tx_operand_of(cg *c, int v, LLVMTypeRef et, tx_operand *o) {
  o->base = cg_value_ptr(c, v);
  o->et = et;
  o->shape = *cg_shape(c, v);
}

/* -------------------------------------------------- typed elementwise ops */

typedef enum tx_kind { TX_COMPARE, TX_LOGIC, TX_CLASSIFY, TX_WHERE, TX_ARITH, TX_POW } tx_kind;

/* What a typed body needs to know about its node. */
typedef struct tx_node {
  const pare_node *nd;
  tx_kind kind;
  pare_dtype dt;  /* what the op computes on: input 0's (Where: input 1's) */
  pare_dtype dt1; /* Pow: the exponent's */
} tx_node;

static int op_is(const tx_node *t, const char *op) {
  return strcmp(t->nd->op, op) == 0;
}

typedef struct cmp_def {
  const char *op;
  LLVMRealPredicate f; /* ordered: NaN compares false, as in C */
  LLVMIntPredicate s, u;
} cmp_def;

static const cmp_def cmp_defs[] = {
    {"Equal", LLVMRealOEQ, LLVMIntEQ, LLVMIntEQ},
    {"Less", LLVMRealOLT, LLVMIntSLT, LLVMIntULT},
    {"LessOrEqual", LLVMRealOLE, LLVMIntSLE, LLVMIntULE},
    {"Greater", LLVMRealOGT, LLVMIntSGT, LLVMIntUGT},
    {"GreaterOrEqual", LLVMRealOGE, LLVMIntSGE, LLVMIntUGE},
};

static LLVMValueRef body_compare(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  const tx_node *t = user;
  const cmp_def *d = cmp_defs;
  (void)n;
  while (!op_is(t, d->op)) d++;
  LLVMValueRef r;
  if (is_fp(t->dt))
    r = LLVMBuildFCmp(c->b, d->f, x[0], x[1], "");
  else if (t->dt == PARE_BOOL) /* any nonzero byte is true */
    r = LLVMBuildICmp(c->b, d->u, truth(c, x[0]), truth(c, x[1]), "");
  else
    r = LLVMBuildICmp(c->b, is_unsigned(t->dt) ? d->u : d->s, x[0], x[1], "");
  return bool_byte(c, r, w);
}

static LLVMValueRef body_logic(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  const tx_node *t = user;
  LLVMValueRef a = truth(c, x[0]), r;
  (void)n;
  if (op_is(t, "Not"))
    r = LLVMBuildNot(c->b, a, "");
  else if (op_is(t, "And"))
    r = LLVMBuildAnd(c->b, a, truth(c, x[1]), "");
  else if (op_is(t, "Or"))
    r = LLVMBuildOr(c->b, a, truth(c, x[1]), "");
  else
    r = LLVMBuildXor(c->b, a, truth(c, x[1]), "");
  return bool_byte(c, r, w);
}

static LLVMValueRef body_classify(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  const tx_node *t = user;
  LLVMTypeRef ft = scalar_type(x[0]);
  (void)n;
  if (op_is(t, "IsNaN")) return bool_byte(c, is_nan(c, x[0]), w);
  LLVMValueRef r = LLVMConstNull(vec_of(c->i1, w));
  if (pare_attr_int(t->nd, "detect_positive", 1))
    r = LLVMBuildOr(c->b, r,
                    LLVMBuildFCmp(c->b, LLVMRealOEQ, x[0], fconst_w(c, ft, INFINITY, w), ""), "");
  if (pare_attr_int(t->nd, "detect_negative", 1))
    r = LLVMBuildOr(c->b, r,
                    LLVMBuildFCmp(c->b, LLVMRealOEQ, x[0], fconst_w(c, ft, -INFINITY, w), ""), "");
  return bool_byte(c, r, w);
}

static LLVMValueRef body_where(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  (void)n, (void)w, (void)user;
  return LLVMBuildSelect(c->b, truth(c, x[0]), x[1], x[2], "");
}

/* Integer a / b or a % b as the reference computes them: division by 0
 * gives 0, by -1 (signed) the wrapped negation, and modulo by 0 or -1 gives
 * 0; the divisor is made safe first, since LLVM's division by 0 (or
 * INT_MIN / -1) is undefined even when its result is then discarded.
 * floor: Mod with fmod=0, the result taking the divisor's sign. */
static LLVMValueRef int_divmod(cg *c, LLVMValueRef a, LLVMValueRef b, int sgn, int mod, int floor,
                               int w) {
  LLVMTypeRef t = scalar_type(a);
  LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(a));
  LLVMValueRef bad = LLVMBuildICmp(c->b, LLVMIntEQ, b, zero, ""), m1 = NULL;
  if (sgn) {
    m1 = LLVMBuildICmp(c->b, LLVMIntEQ, b, iconst_w(c, t, -1, w), "");
    bad = LLVMBuildOr(c->b, bad, m1, "");
  }
  LLVMValueRef safe = LLVMBuildSelect(c->b, bad, iconst_w(c, t, 1, w), b, "");
  if (!mod) {
    LLVMValueRef q = sgn ? LLVMBuildSDiv(c->b, a, safe, "") : LLVMBuildUDiv(c->b, a, safe, "");
    if (sgn) q = LLVMBuildSelect(c->b, m1, LLVMBuildSub(c->b, zero, a, ""), q, "");
    return LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntEQ, b, zero, ""), zero, q, "");
  }
  LLVMValueRef r = sgn ? LLVMBuildSRem(c->b, a, safe, "") : LLVMBuildURem(c->b, a, safe, "");
  if (sgn && floor) {
    LLVMValueRef rneg = LLVMBuildICmp(c->b, LLVMIntSLT, r, zero, "");
    LLVMValueRef bneg = LLVMBuildICmp(c->b, LLVMIntSLT, b, zero, "");
    LLVMValueRef adj = LLVMBuildAnd(c->b, LLVMBuildICmp(c->b, LLVMIntNE, r, zero, ""),
                                    LLVMBuildXor(c->b, rneg, bneg, ""), "");
    r = LLVMBuildSelect(c->b, adj, LLVMBuildAdd(c->b, r, b, ""), r, "");
  }
  return LLVMBuildSelect(c->b, bad, zero, r, "");
}

/* Float Mod: C's fmod (fmod=1), or numpy's floor modulo (fmod=0), which
 * the reference computes in double. */
static LLVMValueRef float_mod(cg *c, LLVMValueRef a, LLVMValueRef b, pare_dtype dt, int fmod_mode,
                              int w) {
  if (fmod_mode) return LLVMBuildFRem(c->b, a, b, "");
  LLVMValueRef ad = to_f64(c, a, dt, w), bd = to_f64(c, b, dt, w), zero = fconst_w(c, c->f64, 0, w);
  LLVMValueRef r = LLVMBuildFRem(c->b, ad, bd, "");
  LLVMValueRef adj = LLVMBuildAnd(c->b, LLVMBuildFCmp(c->b, LLVMRealUNE, r, zero, ""),
                                  LLVMBuildXor(c->b, LLVMBuildFCmp(c->b, LLVMRealOLT, r, zero, ""),
                                               LLVMBuildFCmp(c->b, LLVMRealOLT, bd, zero, ""), ""),
                                  "");
  r = LLVMBuildSelect(c->b, adj, LLVMBuildFAdd(c->b, r, bd, ""), r, "");
  return from_f64(c, r, dt, w);
}

/* Max / Min of the reference: a (the running result) is kept when it is
 * NaN or not beaten. */
static LLVMValueRef min_max(cg *c, LLVMValueRef a, LLVMValueRef b, pare_dtype dt, int is_max) {
  LLVMValueRef keep;
  if (is_fp(dt))
    keep = LLVMBuildOr(c->b, is_nan(c, a),
                       LLVMBuildFCmp(c->b, is_max ? LLVMRealOGE : LLVMRealOLE, a, b, ""), "");
  else if (is_unsigned(dt))
    keep = LLVMBuildICmp(c->b, is_max ? LLVMIntUGE : LLVMIntULE, a, b, "");
  else
    keep = LLVMBuildICmp(c->b, is_max ? LLVMIntSGE : LLVMIntSLE, a, b, "");
  return LLVMBuildSelect(c->b, keep, a, b, "");
}

static LLVMValueRef arith2(cg *c, const tx_node *t, LLVMValueRef a, LLVMValueRef b, int w) {
  int fp = is_fp(t->dt), sgn = !is_unsigned(t->dt);
  if (op_is(t, "Sub")) return fp ? LLVMBuildFSub(c->b, a, b, "") : LLVMBuildSub(c->b, a, b, "");
  if (op_is(t, "Mul")) return fp ? LLVMBuildFMul(c->b, a, b, "") : LLVMBuildMul(c->b, a, b, "");
  if (op_is(t, "Div"))
    return fp ? LLVMBuildFDiv(c->b, a, b, "") : int_divmod(c, a, b, sgn, 0, 0, w);
  if (op_is(t, "Mod")) {
    int fm = pare_attr_int(t->nd, "fmod", 0) != 0;
    return fp ? float_mod(c, a, b, t->dt, fm, w) : int_divmod(c, a, b, sgn, 1, !fm, w);
  }
  if (op_is(t, "Max") || op_is(t, "Min")) return min_max(c, a, b, t->dt, op_is(t, "Max"));
  return fp ? LLVMBuildFAdd(c->b, a, b, "") : LLVMBuildAdd(c->b, a, b, ""); /* Add, Sum, Mean */
}

/* Arithmetic in the operands' dtype; integers wrap. Variadic ops fold left. */
static LLVMValueRef body_arith(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  const tx_node *t = user;
  int fp = is_fp(t->dt);
  LLVMValueRef r = x[0], zero = LLVMConstNull(LLVMTypeOf(x[0]));
  if (op_is(t, "Neg")) return fp ? LLVMBuildFNeg(c->b, r, "") : LLVMBuildSub(c->b, zero, r, "");
  if (op_is(t, "Abs")) {
    if (fp) return cg_intrin(c, "llvm.fabs", LLVMTypeOf(r), &r, 1);
    if (is_unsigned(t->dt)) return r;
    LLVMValueRef neg = LLVMBuildICmp(c->b, LLVMIntSLT, r, zero, "");
    return LLVMBuildSelect(c->b, neg, LLVMBuildSub(c->b, zero, r, ""), r, "");
  }
  for (int i = 1; i < n; i++) r = arith2(c, t, r, x[i], w);
  if (op_is(t, "Mean") && n > 1) {
    LLVMTypeRef et = scalar_type(r);
    if (fp) return LLVMBuildFDiv(c->b, r, fconst_w(c, et, n, w), "");
    LLVMValueRef d = iconst_w(c, et, n, w);
    return is_unsigned(t->dt) ? LLVMBuildUDiv(c->b, r, d, "") : LLVMBuildSDiv(c->b, r, d, "");
  }
  return r;
}

/* Integer base^e wrapping like the reference's ew_ipow (square and
 * multiply over the exponent's 63 value bits); a negative exponent gives
 * 1 for base 1, +-1 for base -1, else 0. Scalars. */
static LLVMValueRef int_pow(cg *c, LLVMValueRef base, pare_dtype bdt, LLVMValueRef e,
                            pare_dtype edt) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef b64 = widen_i64(c, base, bdt, 1), e64 = widen_i64(c, e, edt, 1);
  LLVMValueRef zero = cg_i64(c, 0), one = cg_i64(c, 1);
  if (edt == PARE_U64) /* exponents past INT64_MAX saturate */
    e64 = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, e64, zero, ""), cg_i64(c, INT64_MAX), e64,
                          "");
  LLVMValueRef rs = cg_alloca(c, c->i64), bs = cg_alloca(c, c->i64);
  LLVMBuildStore(b, one, rs);
  LLVMBuildStore(b, b64, bs);
  cg_loop l;
  LLVMValueRef bit = cg_for_begin(c, &l, 0, 63, 1);
  LLVMValueRef set = LLVMBuildICmp(
      b, LLVMIntNE, LLVMBuildAnd(b, LLVMBuildLShr(b, e64, bit, ""), one, ""), zero, "");
  LLVMValueRef r = LLVMBuildLoad2(b, c->i64, rs, ""), sq = LLVMBuildLoad2(b, c->i64, bs, "");
  LLVMBuildStore(b, LLVMBuildSelect(b, set, LLVMBuildMul(b, r, sq, ""), r, ""), rs);
  LLVMBuildStore(b, LLVMBuildMul(b, sq, sq, ""), bs);
  cg_for_end(c, &l);
  r = LLVMBuildLoad2(b, c->i64, rs, "");
  LLVMValueRef m1 = is_unsigned(bdt) ? LLVMConstInt(c->i1, 0, 0)
                                     : LLVMBuildICmp(b, LLVMIntEQ, b64, cg_i64(c, -1), "");
  LLVMValueRef odd = LLVMBuildICmp(b, LLVMIntNE, LLVMBuildAnd(b, e64, one, ""), zero, "");
  LLVMValueRef neg =
      LLVMBuildSelect(b, m1, LLVMBuildSelect(b, odd, cg_i64(c, -1), one, ""), zero, "");
  neg = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, b64, one, ""), one, neg, "");
  r = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, e64, zero, ""), neg, r, "");
  LLVMTypeRef bt = LLVMTypeOf(base);
  return bt == c->i64 ? r : LLVMBuildTrunc(b, r, bt, "");
}

/* Pow on mixed dtypes (the result has the base's): through double pow
 * when either side is a float, as the reference does; scalars only. */
static LLVMValueRef body_pow(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  const tx_node *t = user;
  (void)n, (void)w;
  if (!is_fp(t->dt) && !is_fp(t->dt1)) return int_pow(c, x[0], t->dt, x[1], t->dt1);
  LLVMValueRef args[2] = {to_f64(c, x[0], t->dt, 1), to_f64(c, x[1], t->dt1, 1)};
  return from_f64(c, libm_f64(c, "pow", args, 2), t->dt, 1);
}

static const tx_body_fn tx_bodies[] = {body_compare, body_logic, body_classify,
                                       body_where,   body_arith, body_pow};

/* The emitter of cg_ops_elementwise for nd when every operand is f32. */
static const cg_op *f32_emitter(cg *c, const pare_node *nd) {
  for (int i = 0; i < nd->n_inputs; i++)
    if (nd->inputs[i] >= 0 && dtype_of(c, nd->inputs[i]) != PARE_F32) return NULL;
  if (nd->outputs[0] < 0 || dtype_of(c, nd->outputs[0]) != PARE_F32) return NULL;
  for (const cg_op *o = cg_ops_elementwise; o->op; o++)
    if (strcmp(o->op, nd->op) == 0) return o;
  return NULL;
}

/* The dtypes a typed op accepts, recorded in t. */
/* How many inputs a typed op takes; 0: one or more (Sum, Mean, Max, Min). */
static int tx_arity(const tx_node *t) {
  static const char *const unary[] = {"Not", "IsNaN", "IsInf", "Neg", "Abs"};
  static const char *const variadic[] = {"Sum", "Mean", "Max", "Min"};
  for (int i = 0; i < 5; i++)
    if (op_is(t, unary[i])) return 1;
  for (int i = 0; i < 4; i++)
    if (op_is(t, variadic[i])) return 0;
  return t->kind == TX_WHERE ? 3 : 2;
}

static int tx_check(cg *c, const pare_node *nd, tx_node *t, pare_err *err) {
  t->nd = nd;
  int arity = tx_arity(t);
  if (nd->n_inputs < 1 || (arity && nd->n_inputs != arity) || nd->n_outputs < 1 ||
      nd->outputs[0] < 0)
    return pare_errf(err, "%d inputs, %d outputs", nd->n_inputs, nd->n_outputs);
  for (int i = 0; i < nd->n_inputs; i++) {
    if (nd->inputs[i] < 0) return pare_errf(err, "input %d omitted", i);
    pare_dtype dt = dtype_of(c, nd->inputs[i]);
    int values = t->kind == TX_WHERE && i > 0; /* only moved: any element size */
    if (values ? !bits_type(c, dt) : !num_type(c, dt))
      return pare_errf(err, "input %d has dtype %s", i, pare_dtype_name(dt));
  }
  t->dt = dtype_of(c, nd->inputs[t->kind == TX_WHERE && nd->n_inputs > 1 ? 1 : 0]);
  t->dt1 = nd->n_inputs > 1 ? dtype_of(c, nd->inputs[1]) : t->dt;
  int same = 1, bools = 1;
  for (int i = 0; i < nd->n_inputs; i++) {
    pare_dtype dt = dtype_of(c, nd->inputs[i]);
    same &= dt == dtype_of(c, nd->inputs[0]);
    bools &= dt == PARE_BOOL;
  }
  switch (t->kind) {
  case TX_LOGIC:
    return bools ? PARE_OK : pare_errf(err, "inputs must be bool");
  case TX_CLASSIFY:
    return is_fp(t->dt) ? PARE_OK : pare_errf(err, "input is %s", pare_dtype_name(t->dt));
  case TX_WHERE:
    if (dtype_of(c, nd->inputs[0]) != PARE_BOOL || dtype_of(c, nd->inputs[2]) != t->dt)
      return pare_errf(err, "expects a bool condition and two values of one dtype");
    return PARE_OK;
  case TX_POW:
    if (t->dt == PARE_BOOL || t->dt1 == PARE_BOOL)
      return pare_errf(err, "Pow of %s by %s", pare_dtype_name(t->dt), pare_dtype_name(t->dt1));
    return PARE_OK;
  case TX_ARITH:
    if (t->dt == PARE_BOOL) return pare_errf(err, "arithmetic on bool");
    /* fall through */
  default:
    return same ? PARE_OK : pare_errf(err, "inputs of different dtypes");
  }
}

/* Elementwise ops on any dtype; f32-only ones go to emit_elementwise.c. */
static int emit_typed(cg *c, int k, tx_kind kind, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const cg_op *f32 = f32_emitter(c, nd);
  if (f32) return f32->emit(c, k, err);
  tx_node t = {.kind = kind};
  if (tx_check(c, nd, &t, err)) return PARE_ERR;
  if (nd->n_inputs > EW_MAX_OPERANDS) return pare_errf(err, "%d inputs", nd->n_inputs);
  tx_operand ops[EW_MAX_OPERANDS], out;
  for (int i = 0; i < nd->n_inputs; i++) {
    pare_dtype dt = dtype_of(c, nd->inputs[i]);
    tx_operand_of(c, nd->inputs[i],
                  t.kind == TX_WHERE && i > 0 ? bits_type(c, dt) : num_type(c, dt), &ops[i]);
  }
  pare_dtype odt = dtype_of(c, nd->outputs[0]);
  LLVMTypeRef ot = t.kind == TX_WHERE ? bits_type(c, odt) : num_type(c, odt);
  if (!ot) return pare_errf(err, "output dtype %s", pare_dtype_name(odt));
  tx_operand_of(c, nd->outputs[0], ot, &out);
  return tx_emit(c, ops, nd->n_inputs, &out, t.kind == TX_POW ? 1 : CG_VW, tx_bodies[t.kind], &t,
                 err);
}

/* The table's entries for the typed ops, one per kind of body. */
static int emit_compare(cg *c, int k, pare_err *err) {
  return emit_typed(c, k, TX_COMPARE, err);
}

static int emit_logic(cg *c, int k, pare_err *err) {
  return emit_typed(c, k, TX_LOGIC, err);
}

static int emit_classify(cg *c, int k, pare_err *err) {
  return emit_typed(c, k, TX_CLASSIFY, err);
}

static int emit_where(cg *c, int k, pare_err *err) {
  return emit_typed(c, k, TX_WHERE, err);
}

static int emit_arith(cg *c, int k, pare_err *err) {
  return emit_typed(c, k, TX_ARITH, err);
}

static int emit_pow(cg *c, int k, pare_err *err) {
  return emit_typed(c, k, TX_POW, err);
}

/* ------------------------------------------------------- f32 unary ops */

typedef struct libm_def {
  const char *op, *fn;
} libm_def;

/* The reference calls these through <tgmath.h>: the same float functions. */
static const libm_def libm_defs[] = {
    {"Tan", "tanf"},     {"Asin", "asinf"}, {"Acos", "acosf"},   {"Atan", "atanf"},
    {"Sinh", "sinhf"},   {"Cosh", "coshf"}, {"Asinh", "asinhf"}, {"Acosh", "acoshf"},
    {"Atanh", "atanhf"}, {NULL, NULL},
};

static LLVMValueRef body_libm(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  (void)n;
  return cg_libm1(c, user, x[0], w);
}

/* x < -lambd ? x + bias : x > lambd ? x - bias : 0. */
static LLVMValueRef body_shrink(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  const float *p = user; /* lambd, bias */
  (void)n;
  LLVMValueRef bias = cg_fconst(c, p[1], w);
  LLVMValueRef lo = LLVMBuildFCmp(c->b, LLVMRealOLT, x[0], cg_fconst(c, -p[0], w), "");
  LLVMValueRef hi = LLVMBuildFCmp(c->b, LLVMRealOGT, x[0], cg_fconst(c, p[0], w), "");
  LLVMValueRef r =
      LLVMBuildSelect(c->b, hi, LLVMBuildFSub(c->b, x[0], bias, ""), cg_fconst(c, 0, w), "");
  return LLVMBuildSelect(c->b, lo, LLVMBuildFAdd(c->b, x[0], bias, ""), r, "");
}

/* One f32 input, one f32 output, through emit_elementwise.c's loop. */
static int emit_f32_unary(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  if (dtype_of(c, nd->inputs[0]) != PARE_F32 || dtype_of(c, nd->outputs[0]) != PARE_F32)
    return pare_errf(err, "input is %s; compiled for f32 only",
                     pare_dtype_name(dtype_of(c, nd->inputs[0])));
  ew_operand in, out;
  ew_operand_of_value(c, nd->inputs[0], &in);
  ew_operand_of_value(c, nd->outputs[0], &out);
  if (strcmp(nd->op, "Shrink") == 0) {
    float p[2] = {pare_attr_float(nd, "lambd", 0.5f), pare_attr_float(nd, "bias", 0.0f)};
    return ew_emit_loop(c, &in, 1, &out, body_shrink, p, err);
  }
  const libm_def *d = libm_defs;
  while (strcmp(d->op, nd->op) != 0) d++;
  return ew_emit_loop(c, &in, 1, &out, body_libm, (void *)d->fn, err);
}

/* ------------------------------------------------- ArgMax, ArgMin, TopK */

/* a > b in the reference's order (cmp_elems): NaN above every number. */
static LLVMValueRef ord_gt(cg *c, pare_dtype dt, LLVMValueRef a, LLVMValueRef b) {
  if (!is_fp(dt)) return LLVMBuildICmp(c->b, is_unsigned(dt) ? LLVMIntUGT : LLVMIntSGT, a, b, "");
  LLVMValueRef nan_a =
      LLVMBuildAnd(c->b, is_nan(c, a), LLVMBuildFCmp(c->b, LLVMRealORD, b, b, ""), "");
  return LLVMBuildOr(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, a, b, ""), nan_a, "");
}

/* a == b in the same order: NaN equals NaN. */
static LLVMValueRef ord_eq(cg *c, pare_dtype dt, LLVMValueRef a, LLVMValueRef b) {
  if (!is_fp(dt)) return LLVMBuildICmp(c->b, LLVMIntEQ, a, b, "");
  LLVMValueRef nans = LLVMBuildAnd(c->b, is_nan(c, a), is_nan(c, b), "");
  return LLVMBuildOr(c->b, LLVMBuildFCmp(c->b, LLVMRealOEQ, a, b, ""), nans, "");
}

/* Input 0 of a node as [outer][n][inner] around an axis, walked as lines
 * along the axis, w neighbouring lines at a time; the output has yn
 * elements along the axis. */
typedef struct axis_job {
  LLVMValueRef x, y, y2; /* input, output, TopK's indices */
  LLVMValueRef xo, yo;   /* offsets of the current outer index */
  LLVMTypeRef et;        /* the input's element type */
  pare_dtype dt;
  int64_t outer, n, inner, yn;
  int opt[2]; /* ArgMax: want_max, select_last_index; CumSum: exclusive, reverse; TopK: largest */
} axis_job;

/* A numeric (not bool) input 0 split at the axis `axis` normalizes to. */
static int axis_setup(cg *c, const pare_node *nd, int64_t axis, axis_job *a, pare_err *err) {
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int ax;
  memset(a, 0, sizeof *a);
  a->dt = dtype_of(c, nd->inputs[0]);
  a->et = a->dt == PARE_BOOL ? NULL : num_type(c, a->dt);
  if (!a->et) return pare_errf(err, "input is %s", pare_dtype_name(a->dt));
  if (pare_norm_axis(axis, xs->rank, &ax, err)) return PARE_ERR;
  split_at(xs, ax, &a->outer, &a->n, &a->inner);
  a->yn = cg_shape(c, nd->outputs[0])->rank == xs->rank ? cg_shape(c, nd->outputs[0])->dims[ax] : 1;
  a->x = cg_value_ptr(c, nd->inputs[0]);
  a->y = cg_value_ptr(c, nd->outputs[0]);
  return PARE_OK;
}

/* fn over every line: blocks of up to max_w neighbours per outer index. */
static void axis_walk(cg *c, axis_job *a, int max_w, lanes_fn fn) {
  cg_loop l;
  LLVMValueRef o = loop_begin(c, &l, a->outer);
  a->xo = cg_madd(c, o, a->n * a->inner, cg_i64(c, 0));
  a->yo = cg_madd(c, o, a->yn * a->inner, cg_i64(c, 0));
  over_lanes(c, a->inner, max_w, fn, a);
  loop_end(c, &l);
}

/* w neighbouring lines: the index of the first (or, with
 * select_last_index, the last) extreme element of each. */
static void arg_lanes(cg *c, LLVMValueRef i, int w, void *ctx) {
  const axis_job *a = ctx;
  LLVMValueRef base = cg_add(c, a->xo, i);
  LLVMTypeRef vt = vec_of(a->et, w), it = vec_of(c->i64, w);
  LLVMValueRef bv = cg_alloca(c, vt), bi = cg_alloca(c, it);
  LLVMBuildStore(c->b, load_at(c, a->et, w, a->x, base), bv);
  LLVMBuildStore(c->b, LLVMConstNull(it), bi);
  if (a->n > 1) {
    cg_loop l;
    LLVMValueRef k = cg_for_begin(c, &l, 1, a->n, 1);
    LLVMValueRef x = load_at(c, a->et, w, a->x, cg_madd(c, k, a->inner, base));
    LLVMValueRef cur = LLVMBuildLoad2(c->b, vt, bv, "");
    LLVMValueRef take = a->opt[0] ? ord_gt(c, a->dt, x, cur) : ord_gt(c, a->dt, cur, x);
    if (a->opt[1]) take = LLVMBuildOr(c->b, take, ord_eq(c, a->dt, x, cur), "");
    LLVMBuildStore(c->b, LLVMBuildSelect(c->b, take, x, cur, ""), bv);
    LLVMValueRef idx = LLVMBuildLoad2(c->b, it, bi, "");
    LLVMBuildStore(c->b, LLVMBuildSelect(c->b, take, splat(c, k, w), idx, ""), bi);
    cg_for_end(c, &l);
  }
  store_at(c, LLVMBuildLoad2(c->b, it, bi, ""), c->i64, a->y, cg_add(c, a->yo, i));
}

/* ArgMax / ArgMin: keepdims only changes the output's shape, not its layout. */
static int emit_arg(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  axis_job a;
  if (axis_setup(c, nd, pare_attr_int(nd, "axis", 0), &a, err)) return PARE_ERR;
  if (a.n == 0) return pare_errf(err, "over an empty axis");
  a.yn = 1;
  a.opt[0] = strcmp(nd->op, "ArgMax") == 0;
  a.opt[1] = pare_attr_int(nd, "select_last_index", 0) != 0;
  axis_walk(c, &a, CG_VW, arg_lanes);
  return PARE_OK;
}

/* (x, ix) precedes (y, iy) in TopK's output: the better value first, equal
 * values by index, as the reference's sort orders them. */
static LLVMValueRef topk_before(cg *c, const axis_job *a, LLVMValueRef x, LLVMValueRef ix,
                                LLVMValueRef y, LLVMValueRef iy) {
  LLVMValueRef gt = a->opt[0] ? ord_gt(c, a->dt, x, y) : ord_gt(c, a->dt, y, x);
  LLVMValueRef tie =
      LLVMBuildAnd(c->b, ord_eq(c, a->dt, x, y), LLVMBuildICmp(c->b, LLVMIntSLT, ix, iy, ""), "");
  return LLVMBuildOr(c->b, gt, tie, "");
}

/* One line (w == 1): output r is the first element, in output order, that
 * comes after output r - 1. The order is total, so K scans of the line
 * need no scratch. */
static void topk_lanes(cg *c, LLVMValueRef i, int w, void *ctx) {
  const axis_job *a = ctx;
  LLVMBuilderRef b = c->b;
  LLVMValueRef base = cg_add(c, a->xo, i), zero = cg_i64(c, 0);
  LLVMValueRef pv = cg_alloca(c, a->et), pi = cg_alloca(c, c->i64);
  LLVMValueRef bv = cg_alloca(c, a->et), bi = cg_alloca(c, c->i64);
  (void)w;
  LLVMBuildStore(b, LLVMConstNull(a->et), pv);
  LLVMBuildStore(b, cg_i64(c, -1), pi); /* -1: no previous output / no candidate yet */
  cg_loop rl, el;
  LLVMValueRef r = loop_begin(c, &rl, a->yn);
  LLVMBuildStore(b, LLVMConstNull(a->et), bv);
  LLVMBuildStore(b, cg_i64(c, -1), bi);
  LLVMValueRef e = loop_begin(c, &el, a->n);
  LLVMValueRef x = load_at(c, a->et, 1, a->x, cg_madd(c, e, a->inner, base));
  LLVMValueRef p = LLVMBuildLoad2(b, a->et, pv, ""), ip = LLVMBuildLoad2(b, c->i64, pi, "");
  LLVMValueRef best = LLVMBuildLoad2(b, a->et, bv, ""), ib = LLVMBuildLoad2(b, c->i64, bi, "");
  LLVMValueRef after = LLVMBuildOr(b, LLVMBuildICmp(b, LLVMIntSLT, ip, zero, ""),
                                   topk_before(c, a, p, ip, x, e), "");
  LLVMValueRef first = LLVMBuildOr(b, LLVMBuildICmp(b, LLVMIntSLT, ib, zero, ""),
                                   topk_before(c, a, x, e, best, ib), "");
  LLVMValueRef take = LLVMBuildAnd(b, after, first, "");
  LLVMBuildStore(b, LLVMBuildSelect(b, take, x, best, ""), bv);
  LLVMBuildStore(b, LLVMBuildSelect(b, take, e, ib, ""), bi);
  loop_end(c, &el);
  best = LLVMBuildLoad2(b, a->et, bv, "");
  ib = LLVMBuildLoad2(b, c->i64, bi, "");
  LLVMValueRef at = cg_madd(c, r, a->inner, cg_add(c, a->yo, i));
  store_at(c, best, a->et, a->y, at);
  store_at(c, ib, c->i64, a->y2, at);
  LLVMBuildStore(b, best, pv);
  LLVMBuildStore(b, ib, pi);
  loop_end(c, &rl);
}

/* TopK: K is the static output extent along the axis; sorted=0 gives the
 * sorted order too, as in the reference. */
static int emit_topk(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  axis_job a;
  if (nd->n_outputs != 2 || nd->outputs[0] < 0 || nd->outputs[1] < 0)
    return pare_errf(err, "both outputs are needed");
  if (axis_setup(c, nd, pare_attr_int(nd, "axis", -1), &a, err)) return PARE_ERR;
  a.y2 = cg_value_ptr(c, nd->outputs[1]);
  a.opt[0] = pare_attr_int(nd, "largest", 1) != 0;
  if (a.yn > 0) axis_walk(c, &a, 1, topk_lanes);
  return PARE_OK;
}

/* ---------------------------------------------------------------- CumSum */

/* w neighbouring lines; floats sum in double like the reference. */
static void cum_lanes(cg *c, LLVMValueRef i, int w, void *ctx) {
  const axis_job *a = ctx;
  int fp = is_fp(a->dt), rev = a->opt[1];
  LLVMTypeRef st = vec_of(fp ? c->f64 : a->et, w);
  LLVMValueRef acc = cg_alloca(c, st), first = cg_add(c, a->xo, i);
  LLVMBuildStore(c->b, LLVMConstNull(st), acc);
  if (rev) first = cg_add(c, first, cg_i64(c, (a->n - 1) * a->inner));
  cg_loop l;
  LLVMValueRef e = loop_begin(c, &l, a->n);
  LLVMValueRef pos = cg_madd(c, e, rev ? -a->inner : a->inner, first);
  LLVMValueRef v = load_at(c, a->et, w, a->x, pos), s = LLVMBuildLoad2(c->b, st, acc, "");
  if (fp) v = to_f64(c, v, a->dt, w);
  LLVMValueRef next = fp ? LLVMBuildFAdd(c->b, s, v, "") : LLVMBuildAdd(c->b, s, v, "");
  LLVMValueRef y = a->opt[0] ? s : next;
  store_at(c, fp ? from_f64(c, y, a->dt, w) : y, a->et, a->y, pos);
  LLVMBuildStore(c->b, next, acc);
  loop_end(c, &l);
}

static int emit_cumsum(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_tensor *at = nd->n_inputs > 1 ? cg_const(c, nd->inputs[1]) : NULL;
  axis_job a;
  if (!at || pare_tensor_numel(at) != 1) return pare_errf(err, "axis must be a constant scalar");
  if (axis_setup(c, nd, pare_tensor_get_i64(at, 0), &a, err)) return PARE_ERR;
  a.opt[0] = pare_attr_int(nd, "exclusive", 0) != 0;
  a.opt[1] = pare_attr_int(nd, "reverse", 0) != 0;
  if (a.n > 0) axis_walk(c, &a, CG_VW, cum_lanes);
  return PARE_OK;
}

/* ----------------------------------------------------------------- Trilu */

typedef struct trilu_job {
  LLVMValueRef x, y, k, row, at; /* row index i and the offset of its first element */
  LLVMTypeRef et;
  int upper;
} trilu_job;

/* Keeps x[i][j] where j - i >= k (upper) or j - i <= k (lower), else 0. */
static void trilu_lanes(cg *c, LLVMValueRef j, int w, void *ctx) {
  const trilu_job *t = ctx;
  LLVMValueRef at = cg_add(c, t->at, j);
  LLVMValueRef d = LLVMBuildSub(c->b, lane_index(c, j, w), splat(c, t->row, w), "");
  LLVMValueRef keep =
      LLVMBuildICmp(c->b, t->upper ? LLVMIntSGE : LLVMIntSLE, d, splat(c, t->k, w), "");
  LLVMValueRef x = load_at(c, t->et, w, t->x, at);
  store_at(c, LLVMBuildSelect(c->b, keep, x, LLVMConstNull(LLVMTypeOf(x)), ""), t->et, t->y, at);
}

/* A scalar i32/i64 input as i64: its value when constant, else loaded. */
static int scalar_i64(cg *c, int v, LLVMValueRef *out, pare_err *err) {
  pare_dtype dt = dtype_of(c, v);
  if (!is_index_dtype(dt) || cg_numel(c, v) != 1)
    return pare_errf(err, "expects a scalar i32/i64 input, got %s", pare_dtype_name(dt));
  const pare_tensor *t = cg_const(c, v);
  *out = t ? cg_i64(c, pare_tensor_get_i64(t, 0))
           : widen_i64(c, load_at(c, num_type(c, dt), 1, cg_value_ptr(c, v), cg_i64(c, 0)), dt, 1);
  return PARE_OK;
}

static int emit_trilu(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  trilu_job t = {.upper = pare_attr_int(nd, "upper", 1) != 0, .k = cg_i64(c, 0)};
  if (xs->rank < 2) return pare_errf(err, "input of rank %d", xs->rank);
  if (nd->n_inputs > 1 && nd->inputs[1] >= 0 && scalar_i64(c, nd->inputs[1], &t.k, err))
    return PARE_ERR;
  if (!(t.et = bits_type(c, dtype_of(c, nd->inputs[0])))) return pare_errf(err, "bad dtype");
  int64_t rows = xs->dims[xs->rank - 2], cols = xs->dims[xs->rank - 1];
  if (rows * cols == 0) return PARE_OK;
  int64_t mats = cg_numel(c, nd->inputs[0]) / (rows * cols);
  t.x = cg_value_ptr(c, nd->inputs[0]);
  t.y = cg_value_ptr(c, nd->outputs[0]);
  cg_loop ml, rl;
  LLVMValueRef m = loop_begin(c, &ml, mats);
  t.row = loop_begin(c, &rl, rows);
  t.at = cg_madd(c, cg_madd(c, m, rows, t.row), cols, cg_i64(c, 0));
  over_lanes(c, cols, CG_VW, trilu_lanes, &t);
  loop_end(c, &rl);
  loop_end(c, &ml);
  return PARE_OK;
}

/* -------------------------------------------------------------- indexing */

typedef enum scat_red { SR_NONE, SR_ADD, SR_MUL, SR_MAX, SR_MIN } scat_red;

static int scatter_reduction(const pare_node *nd, scat_red *red, pare_err *err) {
  static const char *const names[] = {"none", "add", "mul", "max", "min"};
  const char *s = pare_attr_string(nd, "reduction", "none");
  for (int i = 0; i < 5; i++)
    if (strcmp(s, names[i]) == 0) {
      *red = (scat_red)i;
      return PARE_OK;
    }
  return pare_errf(err, "unknown reduction '%s'", s);
}

/* a (red) b as the reference's reduce_elem: integers wrap, a NaN update
 * wins max and min, bools stay 0/1. */
static LLVMValueRef combine(cg *c, scat_red red, pare_dtype dt, LLVMValueRef a, LLVMValueRef b) {
  int fp = is_fp(dt), u = is_unsigned(dt);
  LLVMValueRef r;
  switch (red) {
  case SR_NONE:
    return b;
  case SR_ADD:
    r = fp ? LLVMBuildFAdd(c->b, a, b, "") : LLVMBuildAdd(c->b, a, b, "");
    break;
  case SR_MUL:
    r = fp ? LLVMBuildFMul(c->b, a, b, "") : LLVMBuildMul(c->b, a, b, "");
    break;
  default: {
    int max = red == SR_MAX;
    LLVMValueRef take;
    if (fp)
      take = LLVMBuildOr(c->b, LLVMBuildFCmp(c->b, max ? LLVMRealOGT : LLVMRealOLT, b, a, ""),
                         is_nan(c, b), "");
    else
      take = LLVMBuildICmp(
          c->b, max ? (u ? LLVMIntUGT : LLVMIntSGT) : (u ? LLVMIntULT : LLVMIntSLT), b, a, "");
    r = LLVMBuildSelect(c->b, take, b, a, "");
  }
  }
  return dt == PARE_BOOL ? bool_byte(c, truth(c, r), 1) : r;
}

/* x clamped into [0, hi]. */
static LLVMValueRef clamp_i64(cg *c, LLVMValueRef x, int64_t hi) {
  x = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, x, cg_i64(c, 0), ""), cg_i64(c, 0), x,
                      "");
  return LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSGT, x, cg_i64(c, hi), ""), cg_i64(c, hi),
                         x, "");
}

/* Entry pos of run-time indices into an axis of dim elements: negative
 * ones count from the end, the rest is clamped (see the file comment). */
static LLVMValueRef axis_index(cg *c, LLVMValueRef ind, pare_dtype dt, LLVMValueRef pos,
                               int64_t dim) {
  LLVMValueRef x = widen_i64(c, load_at(c, num_type(c, dt), 1, ind, pos), dt, 1);
  LLVMValueRef neg = LLVMBuildICmp(c->b, LLVMIntSLT, x, cg_i64(c, 0), "");
  x = LLVMBuildSelect(c->b, neg, LLVMBuildAdd(c->b, x, cg_i64(c, dim), ""), x, "");
  return clamp_i64(c, x, dim - 1);
}

/* Constant indices must lie in [-dim, dim) of the axis each entry indexes,
 * dims[e % cycle] for entry e, as the reference requires. */
static int check_const_indices(cg *c, int v, const int64_t *dims, int64_t cycle, pare_err *err) {
  const pare_tensor *t = cg_const(c, v);
  for (int64_t e = 0; t && e < pare_tensor_numel(t); e++) {
    int64_t i = pare_tensor_get_i64(t, e), dim = dims[e % cycle];
    if (i < -dim || i >= dim)
      return pare_errf(err, "index %lld out of range for an axis of size %lld", (long long)i,
                       (long long)dim);
  }
  return PARE_OK;
}

typedef struct index_job index_job;

/* Called for each entry (Elements) or tuple (ND) of the indices: pos counts
 * them, off is the data element (the slice's first) they address. */
typedef void (*index_fn)(cg *c, const index_job *j, LLVMValueRef pos, LLVMValueRef off);

struct index_job {
  LLVMValueRef ind, src, dst, upd;
  pare_dtype ind_dt, dt;
  LLVMTypeRef et;
  scat_red red;
  int xrank, irank, axis;
  int64_t xdims[PARE_MAX_RANK], xst[PARE_MAX_RANK], idims[PARE_MAX_RANK], ist[PARE_MAX_RANK];
  int64_t batches, tuples, k, slice, xbatch; /* ND: see nd_walk */
  index_fn fn;
};

/* Data (input 0), indices (input 1), updates (input 2 of a Scatter) and
 * the output of nd. A reduction needs arithmetic, else elements just move. */
static int index_setup(cg *c, const pare_node *nd, index_job *j, int scatter, pare_err *err) {
  memset(j, 0, sizeof *j);
  if (nd->n_inputs < 2 + scatter) return pare_errf(err, "%d inputs", nd->n_inputs);
  if (scatter && scatter_reduction(nd, &j->red, err)) return PARE_ERR;
  j->dt = dtype_of(c, nd->inputs[0]);
  j->ind_dt = dtype_of(c, nd->inputs[1]);
  j->et = j->red == SR_NONE ? bits_type(c, j->dt) : num_type(c, j->dt);
  if (!j->et) return pare_errf(err, "data of dtype %s", pare_dtype_name(j->dt));
  if (!is_index_dtype(j->ind_dt))
    return pare_errf(err, "indices of dtype %s", pare_dtype_name(j->ind_dt));
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *is = cg_shape(c, nd->inputs[1]);
  j->xrank = xs->rank;
  j->irank = is->rank;
  memcpy(j->xdims, xs->dims, sizeof j->xdims);
  memcpy(j->idims, is->dims, sizeof j->idims);
  pare_strides(xs, j->xst);
  pare_strides(is, j->ist);
  j->ind = cg_value_ptr(c, nd->inputs[1]);
  j->src = cg_value_ptr(c, nd->inputs[0]);
  j->dst = cg_value_ptr(c, nd->outputs[0]);
  if (scatter) {
    j->upd = cg_value_ptr(c, nd->inputs[2]);
    cg_memcpy(c, j->dst, j->src, cg_numel(c, nd->inputs[0]) * (int64_t)pare_dtype_size(j->dt));
  }
  return PARE_OK;
}

/* Loops over the indices' dims d..; off collects the data offset of every
 * dim but the axis, which the index itself supplies. */
static void elements_level(cg *c, const index_job *j, int d, LLVMValueRef pos, LLVMValueRef off) {
  if (d == j->irank) {
    LLVMValueRef i = axis_index(c, j->ind, j->ind_dt, pos, j->xdims[j->axis]);
    j->fn(c, j, pos, cg_madd(c, i, j->xst[j->axis], off));
    return;
  }
  cg_loop l;
  LLVMValueRef iv = loop_begin(c, &l, j->idims[d]);
  elements_level(c, j, d + 1, cg_madd(c, iv, j->ist[d], pos),
                 d == j->axis ? off : cg_madd(c, iv, j->xst[d], off));
  loop_end(c, &l);
}

static void gather_one(cg *c, const index_job *j, LLVMValueRef pos, LLVMValueRef off) {
  store_at(c, load_at(c, j->et, 1, j->src, off), j->et, j->dst, pos);
}

/* dst[off] = dst[off] (red) upd[pos], in index order as the reference. */
static void scatter_one(cg *c, const index_job *j, LLVMValueRef pos, LLVMValueRef off) {
  LLVMValueRef cur = load_at(c, j->et, 1, j->dst, off), u = load_at(c, j->et, 1, j->upd, pos);
  store_at(c, combine(c, j->red, j->dt, cur, u), j->et, j->dst, off);
}

/* GatherElements / ScatterElements. */
static int emit_elements(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  int scatter = strcmp(nd->op, "ScatterElements") == 0;
  index_job j;
  if (index_setup(c, nd, &j, scatter, err) ||
      pare_norm_axis(pare_attr_int(nd, "axis", 0), j.xrank, &j.axis, err))
    return PARE_ERR;
  if (j.irank != j.xrank) return pare_errf(err, "indices of rank %d", j.irank);
  if (cg_numel(c, nd->inputs[1]) == 0) return PARE_OK;
  if (j.xdims[j.axis] == 0) return pare_errf(err, "indices into an empty axis");
  if (check_const_indices(c, nd->inputs[1], &j.xdims[j.axis], 1, err)) return PARE_ERR;
  j.fn = scatter ? scatter_one : gather_one;
  elements_level(c, &j, 0, cg_i64(c, 0), cg_i64(c, 0));
  return PARE_OK;
}

/* Loops over batches and index tuples; a tuple's k indices address the
 * slice at the data offset they and the batch give. */
static void nd_walk(cg *c, const index_job *j, int b) {
  cg_loop bl, tl;
  LLVMValueRef bi = loop_begin(c, &bl, j->batches), t = loop_begin(c, &tl, j->tuples);
  LLVMValueRef row = cg_madd(c, bi, j->tuples, t);
  LLVMValueRef off = cg_madd(c, bi, j->xbatch, cg_i64(c, 0));
  for (int q = 0; q < j->k; q++) {
    LLVMValueRef at = cg_madd(c, row, j->k, cg_i64(c, q));
    LLVMValueRef i = axis_index(c, j->ind, j->ind_dt, at, j->xdims[b + q]);
    off = cg_madd(c, i, j->xst[b + q], off);
  }
  j->fn(c, j, row, off);
  loop_end(c, &tl);
  loop_end(c, &bl);
}

static void gather_slice(cg *c, const index_job *j, LLVMValueRef row, LLVMValueRef off) {
  LLVMValueRef dst = cg_gep(c, j->et, j->dst, cg_madd(c, row, j->slice, cg_i64(c, 0)));
  cg_memcpy(c, dst, cg_gep(c, j->et, j->src, off), j->slice * (int64_t)elt_bytes(j->et));
}

static void scatter_slice(cg *c, const index_job *j, LLVMValueRef row, LLVMValueRef off) {
  cg_loop l;
  LLVMValueRef e = loop_begin(c, &l, j->slice);
  scatter_one(c, j, cg_madd(c, row, j->slice, e), cg_add(c, off, e));
  loop_end(c, &l);
}

static int64_t prod(const int64_t *d, int n) {
  int64_t p = 1;
  for (int i = 0; i < n; i++) p *= d[i];
  return p;
}

/* GatherND (batch_dims) / ScatterND. */
static int emit_nd(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  int scatter = strcmp(nd->op, "ScatterND") == 0;
  int b = scatter ? 0 : (int)pare_attr_int(nd, "batch_dims", 0);
  index_job j;
  if (index_setup(c, nd, &j, scatter, err)) return PARE_ERR;
  j.k = j.irank > 0 ? j.idims[j.irank - 1] : 0;
  if (b < 0 || b >= j.irank || j.k < 1 || b + j.k > j.xrank)
    return pare_errf(err, "indices of shape [..., %lld] with batch_dims %d", (long long)j.k, b);
  j.batches = prod(j.idims, b);
  j.tuples = prod(j.idims + b, j.irank - 1 - b);
  j.slice = prod(j.xdims + b + j.k, j.xrank - b - (int)j.k);
  j.xbatch = prod(j.xdims + b, j.xrank - b);
  if (j.batches * j.tuples == 0) return PARE_OK;
  for (int q = 0; q < j.k; q++)
    if (j.xdims[b + q] == 0) return pare_errf(err, "indices into an empty axis");
  if (check_const_indices(c, nd->inputs[1], j.xdims + b, j.k, err)) return PARE_ERR;
  j.fn = scatter ? scatter_slice : gather_slice;
  nd_walk(c, &j, b);
  return PARE_OK;
}

/* A numeric index of any dtype as i64, as pare_tensor_get_i64 reads one:
 * floats truncate, NaN gives 0, huge values saturate. */
static LLVMValueRef index_i64(cg *c, LLVMValueRef x, pare_dtype dt) {
  if (!is_fp(dt)) return widen_i64(c, x, dt, 1);
  LLVMBuilderRef b = c->b;
  LLVMValueRef v = to_f64(c, x, dt, 1), zero = LLVMConstReal(c->f64, 0);
  LLVMValueRef hi = LLVMBuildFCmp(b, LLVMRealOGE, v, LLVMConstReal(c->f64, 9.2e18), "");
  LLVMValueRef lo = LLVMBuildFCmp(b, LLVMRealOLE, v, LLVMConstReal(c->f64, -9.2e18), "");
  LLVMValueRef nan = is_nan(c, v);
  LLVMValueRef odd = LLVMBuildOr(b, LLVMBuildOr(b, hi, lo, ""), nan, "");
  LLVMValueRef r = LLVMBuildFPToSI(b, LLVMBuildSelect(b, odd, zero, v, ""), c->i64, "");
  r = LLVMBuildSelect(b, lo, cg_i64(c, INT64_MIN), r, "");
  return LLVMBuildSelect(b, hi, cg_i64(c, INT64_MAX), r, "");
}

/* OneHot: values[0] everywhere, values[1] where the index (negative counted
 * from the end) falls inside the depth; the depth is the output's extent. */
static int emit_onehot(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *ys = cg_shape(c, nd->outputs[0]);
  pare_dtype idt = dtype_of(c, nd->inputs[0]);
  LLVMTypeRef it = num_type(c, idt), et = bits_type(c, dtype_of(c, nd->outputs[0]));
  int axis;
  if (!it || !et) return pare_errf(err, "unsupported dtypes");
  if (nd->n_inputs < 3 || cg_numel(c, nd->inputs[2]) != 2)
    return pare_errf(err, "values must hold [off, on]");
  if (pare_norm_axis(pare_attr_int(nd, "axis", -1), ys->rank, &axis, err)) return PARE_ERR;
  int64_t outer, depth, inner;
  split_at(ys, axis, &outer, &depth, &inner);
  LLVMValueRef vals = cg_value_ptr(c, nd->inputs[2]), y = cg_value_ptr(c, nd->outputs[0]);
  LLVMValueRef ind = cg_value_ptr(c, nd->inputs[0]);
  LLVMValueRef on = load_at(c, et, 1, vals, cg_i64(c, 1));
  fill(c, y, et, load_at(c, et, 1, vals, cg_i64(c, 0)), cg_numel(c, nd->outputs[0]));
  if (outer * inner * depth == 0) return PARE_OK;
  cg_loop ol, il;
  LLVMValueRef o = loop_begin(c, &ol, outer), i = loop_begin(c, &il, inner);
  LLVMValueRef v = index_i64(c, load_at(c, it, 1, ind, cg_madd(c, o, inner, i)), idt);
  LLVMValueRef neg = LLVMBuildICmp(c->b, LLVMIntSLT, v, cg_i64(c, 0), "");
  v = LLVMBuildSelect(c->b, neg, LLVMBuildAdd(c->b, v, cg_i64(c, depth), ""), v, "");
  LLVMValueRef in = LLVMBuildAnd(c->b, LLVMBuildICmp(c->b, LLVMIntSGE, v, cg_i64(c, 0), ""),
                                 LLVMBuildICmp(c->b, LLVMIntSLT, v, cg_i64(c, depth), ""), "");
  LLVMBasicBlockRef join = if_begin(c, in);
  store_at(c, on, et, y, cg_madd(c, o, depth * inner, cg_madd(c, v, inner, i)));
  if_end(c, join);
  loop_end(c, &il);
  loop_end(c, &ol);
  return PARE_OK;
}

/* The value 1 in dtype dt, and the type it is stored as. */
static LLVMValueRef one_of(cg *c, pare_dtype dt, LLVMTypeRef *t) {
  if (dt == PARE_F16) {
    *t = bits_type(c, dt);
    return LLVMConstInt(*t, 0x3C00, 0); /* 1.0 in binary16 */
  }
  *t = num_type(c, dt);
  return is_fp(dt) ? LLVMConstReal(*t, 1.0) : LLVMConstInt(*t, 1, 0);
}

/* EyeLike: zeros, and ones on diagonal k. */
static int emit_eyelike(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *ys = cg_shape(c, nd->outputs[0]);
  pare_dtype dt = dtype_of(c, nd->outputs[0]);
  LLVMTypeRef t;
  LLVMValueRef one = num_type(c, dt) || dt == PARE_F16 ? one_of(c, dt, &t) : NULL;
  if (!one || ys->rank != 2) return pare_errf(err, "output of dtype %s", pare_dtype_name(dt));
  int64_t rows = ys->dims[0], cols = ys->dims[1], d = pare_attr_int(nd, "k", 0);
  LLVMValueRef y = cg_value_ptr(c, nd->outputs[0]);
  cg_memset0(c, y, rows * cols * (int64_t)pare_dtype_size(dt));
  if (d >= cols || d <= -rows) return PARE_OK; /* no diagonal inside (and -d cannot overflow) */
  int64_t i0 = d < 0 ? -d : 0, i1 = cols - d < rows ? cols - d : rows;
  cg_loop l;
  LLVMValueRef i = cg_for_begin(c, &l, i0, i1, 1);
  store_at(c, one, t, y, cg_madd(c, i, cols + 1, cg_i64(c, d)));
  cg_for_end(c, &l);
  return PARE_OK;
}

/* ConstantOfShape: the 'value' attribute (f32 0 when absent) everywhere. */
static int emit_constant_of_shape(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_attr *a = pare_node_attr(nd, "value");
  pare_dtype dt = dtype_of(c, nd->outputs[0]);
  LLVMTypeRef et = bits_type(c, dt);
  uint64_t bits = 0;
  if (!et || elt_bytes(et) > sizeof bits) return pare_errf(err, "dtype %s", pare_dtype_name(dt));
  if (a) {
    if (a->type != PARE_ATTR_TENSOR || !a->t || !a->t->data || a->t->dtype != dt ||
        pare_tensor_numel(a->t) != 1)
      return pare_errf(err, "attribute 'value' must be a one-element %s tensor",
                       pare_dtype_name(dt));
    memcpy(&bits, a->t->data, elt_bytes(et)); /* little-endian, like the target */
  }
  fill(c, cg_value_ptr(c, nd->outputs[0]), et, LLVMConstInt(et, bits, 0),
       cg_numel(c, nd->outputs[0]));
  return PARE_OK;
}

/* Range: start + i * delta, in double for floats and wrapping i64 for
 * integers, as the reference; the count is the static output extent. */
static int emit_range(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  pare_dtype dt = dtype_of(c, nd->outputs[0]);
  LLVMTypeRef et = dt == PARE_BOOL ? NULL : num_type(c, dt);
  int64_t n = cg_numel(c, nd->outputs[0]);
  if (!et || nd->n_inputs != 3) return pare_errf(err, "dtype %s", pare_dtype_name(dt));
  if (n == 0) return PARE_OK;
  LLVMValueRef s = load_at(c, et, 1, cg_value_ptr(c, nd->inputs[0]), cg_i64(c, 0));
  LLVMValueRef d = load_at(c, et, 1, cg_value_ptr(c, nd->inputs[2]), cg_i64(c, 0));
  LLVMValueRef y = cg_value_ptr(c, nd->outputs[0]), v;
  cg_loop l;
  LLVMValueRef i = loop_begin(c, &l, n);
  if (is_fp(dt)) {
    LLVMValueRef step =
        LLVMBuildFMul(c->b, LLVMBuildSIToFP(c->b, i, c->f64, ""), to_f64(c, d, dt, 1), "");
    v = from_f64(c, LLVMBuildFAdd(c->b, to_f64(c, s, dt, 1), step, ""), dt, 1);
  } else {
    v = LLVMBuildAdd(c->b, widen_i64(c, s, dt, 1),
                     LLVMBuildMul(c->b, i, widen_i64(c, d, dt, 1), ""), "");
    if (et != c->i64) v = LLVMBuildTrunc(c->b, v, et, "");
  }
  store_at(c, v, et, y, i);
  loop_end(c, &l);
  return PARE_OK;
}

/* The windows: their length is the static output extent (as TopK's K),
 * so the values are known at compile time; the reference kernel computes
 * them there and the kernel copies the table. */
static int emit_window(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_op_def *def = pare_op_find(nd->op);
  int y = nd->outputs[0];
  if (!def || nd->n_inputs != 1 || cg_shape(c, y)->rank != 1)
    return pare_errf(err, "expects one input and a 1-D output");
  pare_tensor *size = pare_tensor_new(dtype_of(c, nd->inputs[0]), cg_shape(c, nd->inputs[0]), err);
  pare_tensor *out = size ? pare_tensor_new(dtype_of(c, y), cg_shape(c, y), err) : NULL;
  int rc = PARE_ERR;
  if (out && pare_tensor_numel(size) == 1) {
    pare_tensor_set_f64(size, 0, (double)cg_numel(c, y));
    const pare_tensor *in[1] = {size};
    rc = def->eval(nd, in, 1, out, 1, err);
  } else if (out) {
    rc = pare_errf(err, "size must be a scalar");
  }
  if (rc == PARE_OK)
    cg_memcpy(c, cg_value_ptr(c, y), cg_const_tensor(c, out, "window"), (int64_t)out->nbytes);
  pare_tensor_free(size);
  pare_tensor_free(out);
  return rc;
}

/* ReverseSequence: the first lens[b] steps of sequence b reversed, the
 * rest copied; a length outside [0, T] is clamped into it (the reference
 * rejects it, see the file comment). */
static int emit_reverse_sequence(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int64_t tb = pare_attr_int(nd, "time_axis", 0), bb = pare_attr_int(nd, "batch_axis", 1);
  pare_dtype ldt = dtype_of(c, nd->inputs[1]);
  size_t es = pare_dtype_size(dtype_of(c, nd->inputs[0]));
  if (xs->rank < 2 || tb + bb != 1 || tb * bb != 0 || !is_index_dtype(ldt) || !es)
    return pare_errf(err, "expects time and batch axes 0 and 1 and i32/i64 lengths");
  int64_t nb = xs->dims[bb], nt = xs->dims[tb], inner = prod(xs->dims + 2, xs->rank - 2);
  LLVMValueRef x = cg_value_ptr(c, nd->inputs[0]), y = cg_value_ptr(c, nd->outputs[0]);
  int64_t block = inner * (int64_t)es;
  cg_memcpy(c, y, x, nb * nt * block);
  if (nb * nt * block == 0) return PARE_OK;
  cg_loop bl, tl;
  LLVMValueRef b = loop_begin(c, &bl, nb);
  LLVMValueRef len = clamp_i64(
      c, widen_i64(c, load_at(c, num_type(c, ldt), 1, cg_value_ptr(c, nd->inputs[1]), b), ldt, 1),
      nt);
  LLVMValueRef t = loop_begin(c, &tl, nt);
  LLVMBasicBlockRef join = if_begin(c, LLVMBuildICmp(c->b, LLVMIntSLT, t, len, ""));
  LLVMValueRef from = LLVMBuildSub(c->b, LLVMBuildSub(c->b, len, cg_i64(c, 1), ""), t, "");
  /* element offsets of (t, b) and (from, b), in blocks of `inner` */
  LLVMValueRef dpos = tb == 0 ? cg_madd(c, t, nb, b) : cg_madd(c, b, nt, t);
  LLVMValueRef spos = tb == 0 ? cg_madd(c, from, nb, b) : cg_madd(c, b, nt, from);
  cg_memcpy(c, cg_gep(c, c->i8, y, cg_madd(c, dpos, block, cg_i64(c, 0))),
            cg_gep(c, c->i8, x, cg_madd(c, spos, block, cg_i64(c, 0))), block);
  if_end(c, join);
  loop_end(c, &tl);
  loop_end(c, &bl);
  return PARE_OK;
}

typedef struct lrn_job {
  LLVMValueRef x, y, b, ch; /* batch and channel indices */
  pare_dtype dt;
  int64_t c, inner, size;
  double alpha_n, beta, bias; /* alpha_n: alpha / size, as the reference divides */
} lrn_job;

/* One element (w == 1: pow is a libm call): the squares of the channels
 * ch - (size-1)/2 .. ch + size/2 that exist, summed in double in channel
 * order, then x / pow(bias + alpha / size * sum, beta). */
static void lrn_lanes(cg *c, LLVMValueRef i, int w, void *ctx) {
  const lrn_job *j = ctx;
  LLVMBuilderRef b = c->b;
  LLVMValueRef sum = cg_alloca(c, c->f64), zero = LLVMConstReal(c->f64, 0);
  (void)w;
  LLVMBuildStore(b, zero, sum);
  cg_loop l;
  LLVMValueRef q = loop_begin(c, &l, j->size);
  LLVMValueRef ch =
      LLVMBuildAdd(b, j->ch, LLVMBuildSub(b, q, cg_i64(c, (j->size - 1) / 2), ""), "");
  LLVMValueRef in = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntSGE, ch, cg_i64(c, 0), ""),
                                 LLVMBuildICmp(b, LLVMIntSLT, ch, cg_i64(c, j->c), ""), "");
  LLVMValueRef at = cg_madd(c, cg_madd(c, j->b, j->c, clamp_i64(c, ch, j->c - 1)), j->inner, i);
  LLVMValueRef v = load_f64(c, j->x, j->dt, at);
  add_to(c, sum, LLVMBuildSelect(b, in, LLVMBuildFMul(b, v, v, ""), zero, ""));
  loop_end(c, &l);
  LLVMValueRef s = LLVMBuildLoad2(b, c->f64, sum, "");
  LLVMValueRef args[2] = {LLVMBuildFAdd(b, LLVMConstReal(c->f64, j->bias),
                                        LLVMBuildFMul(b, LLVMConstReal(c->f64, j->alpha_n), s, ""),
                                        ""),
                          LLVMConstReal(c->f64, j->beta)};
  LLVMValueRef here = cg_madd(c, cg_madd(c, j->b, j->c, j->ch), j->inner, i);
  LLVMValueRef r =
      LLVMBuildFDiv(b, load_f64(c, j->x, j->dt, here), libm_f64(c, "pow", args, 2), "");
  store_at(c, from_f64(c, r, j->dt, 1), num_type(c, j->dt), j->y, here);
}

/* LRN across channels (f32, f64), in double like the reference. */
static int emit_lrn(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  lrn_job j = {.dt = dtype_of(c, nd->inputs[0]), .size = pare_attr_int(nd, "size", 0)};
  if (!is_fp(j.dt) || xs->rank < 2 || j.size < 1)
    return pare_errf(err, "expects f32/f64 [N, C, ...] and size >= 1");
  j.alpha_n = (double)pare_attr_float(nd, "alpha", 1e-4f) / (double)j.size;
  j.beta = pare_attr_float(nd, "beta", 0.75f);
  j.bias = pare_attr_float(nd, "bias", 1.0f);
  j.c = xs->dims[1];
  j.inner = prod(xs->dims + 2, xs->rank - 2);
  j.x = cg_value_ptr(c, nd->inputs[0]);
  j.y = cg_value_ptr(c, nd->outputs[0]);
  if (cg_numel(c, nd->inputs[0]) == 0) return PARE_OK;
  cg_loop bl, cl;
  j.b = loop_begin(c, &bl, xs->dims[0]);
  j.ch = loop_begin(c, &cl, j.c);
  over_lanes(c, j.inner, 1, lrn_lanes, &j);
  loop_end(c, &cl);
  loop_end(c, &bl);
  return PARE_OK;
}

/* ------------------------------------------------------------ GridSample */

/* GridSample (4-D), following ops/misc_sample.c step by step: sample
 * coordinates in float, interpolation in double. The taps of an output
 * point do not depend on the channel, so they are computed once per point
 * and the channel loop only loads and weighs. */
typedef enum gs_mode { GS_LINEAR, GS_NEAREST, GS_CUBIC } gs_mode;
typedef enum gs_pad { GS_ZEROS, GS_BORDER, GS_REFLECTION } gs_pad;

#define GS_TAPS 4

/* The taps along one dim of an output point. */
typedef struct gs_taps {
  int n;
  LLVMValueRef ok[GS_TAPS], idx[GS_TAPS], w[GS_TAPS]; /* ok: inside (zeros padding) */
} gs_taps;

typedef struct gs_job {
  gs_mode mode;
  gs_pad pad;
  int align;
  int64_t size[2];    /* 0: y (H), 1: x (W) */
  float lo[2], hi[2]; /* reflection borders */
} gs_job;

static LLVMValueRef fsel(cg *c, LLVMValueRef cond, LLVMValueRef a, LLVMValueRef b) {
  return LLVMBuildSelect(c->b, cond, a, b, "");
}

/* gs_reflect: x (float) reflected by the nearer border into [lo, hi]. */
static LLVMValueRef gs_reflect(cg *c, LLVMValueRef x, float lo, float hi) {
  LLVMBuilderRef b = c->b;
  float range = hi - lo;
  if (range <= 0) return cg_f32c(c, lo);
  LLVMValueRef flo = cg_f32c(c, lo), fhi = cg_f32c(c, hi), dr = LLVMConstReal(c->f64, range);
  LLVMValueRef below = LLVMBuildFCmp(b, LLVMRealOLT, x, flo, "");
  LLVMValueRef above = LLVMBuildFCmp(b, LLVMRealOGT, x, fhi, "");
  LLVMValueRef dx = fsel(c, below, LLVMBuildFSub(b, flo, x, ""), LLVMBuildFSub(b, x, fhi, ""));
  LLVMValueRef dxd = LLVMBuildFPExt(b, dx, c->f64, "");
  LLVMValueRef q = LLVMBuildFDiv(b, dxd, dr, "");
  LLVMValueRef n = cg_intrin(c, "llvm.floor", c->f64, &q, 1);
  LLVMValueRef r =
      LLVMBuildFPTrunc(b, LLVMBuildFSub(b, dxd, LLVMBuildFMul(b, n, dr, ""), ""), c->f32, "");
  LLVMValueRef even =
      LLVMBuildFCmp(b, LLVMRealOEQ, LLVMBuildFRem(b, n, LLVMConstReal(c->f64, 2), ""),
                    LLVMConstReal(c->f64, 0), "");
  LLVMValueRef lo_r = LLVMBuildFAdd(b, flo, r, ""), hi_r = LLVMBuildFSub(b, fhi, r, "");
  LLVMValueRef v = fsel(c, above, fsel(c, even, hi_r, lo_r), x);
  v = fsel(c, below, fsel(c, even, lo_r, hi_r), v);
  LLVMValueRef ax = cg_intrin(c, "llvm.fabs", c->f32, &x, 1);
  LLVMValueRef finite = LLVMBuildFCmp(b, LLVMRealOLT, ax, cg_f32c(c, INFINITY), "");
  return fsel(c, finite, v, flo);
}

/* x clamped into [lo, hi] (floats; NaN never reaches here). */
static LLVMValueRef fclamp(cg *c, LLVMValueRef x, float lo, float hi) {
  x = fsel(c, LLVMBuildFCmp(c->b, LLVMRealOLT, x, cg_f32c(c, lo), ""), cg_f32c(c, lo), x);
  return fsel(c, LLVMBuildFCmp(c->b, LLVMRealOGT, x, cg_f32c(c, hi), ""), cg_f32c(c, hi), x);
}

/* gs_coord: grid value g (float) to a sample coordinate along dim d. */
static LLVMValueRef gs_coord(cg *c, const gs_job *j, LLVMValueRef g, int d) {
  LLVMBuilderRef b = c->b;
  float size = (float)j->size[d], lo = j->lo[d], hi = j->hi[d];
  LLVMValueRef g1 = LLVMBuildFAdd(b, g, cg_f32c(c, 1), ""), v;
  if (j->align)
    v = LLVMBuildFMul(b, LLVMBuildFDiv(b, g1, cg_f32c(c, 2), ""), cg_f32c(c, size - 1), "");
  else
    v = LLVMBuildFDiv(
        b, LLVMBuildFSub(b, LLVMBuildFMul(b, g1, cg_f32c(c, size), ""), cg_f32c(c, 1), ""),
        cg_f32c(c, 2), "");
  v = fsel(c, is_nan(c, v), cg_f32c(c, lo - 8), v);
  if (j->mode == GS_NEAREST) v = cg_intrin(c, "llvm.nearbyint", c->f32, &v, 1);
  LLVMValueRef out = LLVMBuildOr(b, LLVMBuildFCmp(b, LLVMRealOLT, v, cg_f32c(c, lo), ""),
                                 LLVMBuildFCmp(b, LLVMRealOGT, v, cg_f32c(c, hi), ""), "");
  if (j->pad == GS_BORDER) v = fsel(c, out, fclamp(c, v, 0, size - 1), v);
  if (j->pad == GS_REFLECTION) v = fsel(c, out, gs_reflect(c, v, lo, hi), v);
  return fclamp(c, v, lo - 8, hi + 8);
}

/* gs_index: pixel i (i64) of dim d under the padding rule; *ok is false
 * where zeros padding reads 0 (the index is then a safe 0). */
static LLVMValueRef gs_index(cg *c, const gs_job *j, LLVMValueRef i, int d, LLVMValueRef *ok) {
  int64_t size = j->size[d];
  *ok = LLVMConstInt(c->i1, 1, 0);
  if (j->pad == GS_ZEROS) {
    *ok = LLVMBuildAnd(c->b, LLVMBuildICmp(c->b, LLVMIntSGE, i, cg_i64(c, 0), ""),
                       LLVMBuildICmp(c->b, LLVMIntSLT, i, cg_i64(c, size), ""), "");
    return fsel(c, *ok, i, cg_i64(c, 0));
  }
  if (j->pad == GS_REFLECTION) {
    LLVMValueRef f = gs_reflect(c, LLVMBuildSIToFP(c->b, i, c->f32, ""), j->lo[d], j->hi[d]);
    i = LLVMBuildFPToSI(c->b, f, c->i64, "");
  }
  return clamp_i64(c, i, size - 1);
}

/* Keys cubic weights (A = -0.75): outer taps at distance u in (1, 2), inner ones in [0, 1]. */
static LLVMValueRef keys_outer(cg *c, LLVMValueRef u) {
  LLVMBuilderRef b = c->b;
  const double a = -0.75;
  LLVMValueRef v = LLVMBuildFSub(b, LLVMBuildFMul(b, LLVMConstReal(c->f64, a), u, ""),
                                 LLVMConstReal(c->f64, 5 * a), "");
  v = LLVMBuildFAdd(b, LLVMBuildFMul(b, v, u, ""), LLVMConstReal(c->f64, 8 * a), "");
  return LLVMBuildFSub(b, LLVMBuildFMul(b, v, u, ""), LLVMConstReal(c->f64, 4 * a), "");
}

static LLVMValueRef keys_inner(cg *c, LLVMValueRef u) {
  LLVMBuilderRef b = c->b;
  const double a = -0.75;
  LLVMValueRef v = LLVMBuildFSub(b, LLVMBuildFMul(b, LLVMConstReal(c->f64, a + 2), u, ""),
                                 LLVMConstReal(c->f64, a + 3), "");
  v = LLVMBuildFMul(b, LLVMBuildFMul(b, v, u, ""), u, "");
  return LLVMBuildFAdd(b, v, LLVMConstReal(c->f64, 1), "");
}

/* The taps of coordinate v (float) along dim d: its pixel (nearest), the
 * two around it (linear) or four (cubic), with their weights. */
static void gs_taps_of(cg *c, const gs_job *j, LLVMValueRef v, int d, gs_taps *t) {
  LLVMBuilderRef b = c->b;
  if (j->mode == GS_NEAREST) {
    t->n = 1;
    t->idx[0] = gs_index(c, j, LLVMBuildFPToSI(b, v, c->i64, ""), d, &t->ok[0]);
    return;
  }
  LLVMValueRef vd = LLVMBuildFPExt(b, v, c->f64, "");
  LLVMValueRef fl = cg_intrin(c, "llvm.floor", c->f64, &vd, 1), one = LLVMConstReal(c->f64, 1);
  LLVMValueRef i0 = LLVMBuildFPToSI(b, fl, c->i64, ""), frac = LLVMBuildFSub(b, vd, fl, "");
  int first = j->mode == GS_CUBIC ? -1 : 0;
  t->n = j->mode == GS_CUBIC ? 4 : 2;
  for (int k = 0; k < t->n; k++)
    t->idx[k] = gs_index(c, j, LLVMBuildAdd(b, i0, cg_i64(c, first + k), ""), d, &t->ok[k]);
  if (j->mode == GS_LINEAR) {
    t->w[0] = LLVMBuildFSub(b, one, frac, "");
    t->w[1] = frac;
    return;
  }
  LLVMValueRef two = LLVMConstReal(c->f64, 2);
  t->w[0] = keys_outer(c, LLVMBuildFAdd(b, frac, one, ""));
  t->w[1] = keys_inner(c, frac);
  t->w[2] = keys_inner(c, LLVMBuildFSub(b, one, frac, ""));
  t->w[3] = keys_outer(c, LLVMBuildFSub(b, two, frac, ""));
}

/* acc + w * v, or the product alone when acc is NULL; nearest has no weights. */
static LLVMValueRef weigh(cg *c, LLVMValueRef acc, LLVMValueRef w, LLVMValueRef v) {
  LLVMValueRef t = w ? LLVMBuildFMul(c->b, w, v, "") : v;
  return acc ? LLVMBuildFAdd(c->b, acc, t, "") : t;
}

/* The interpolated value of one channel plane at the taps: rows of taps
 * weighed along x, then the rows along y, in the reference's order (cubic
 * sums start from 0, linear ones from the first product). */
static LLVMValueRef gs_value(cg *c, const gs_job *j, LLVMValueRef x, pare_dtype xdt,
                             LLVMValueRef plane, const gs_taps *ty, const gs_taps *tx) {
  LLVMValueRef zero = LLVMConstReal(c->f64, 0), v = j->mode == GS_CUBIC ? zero : NULL;
  for (int r = 0; r < ty->n; r++) {
    LLVMValueRef row = j->mode == GS_CUBIC ? zero : NULL;
    LLVMValueRef at = cg_madd(c, ty->idx[r], j->size[1], plane);
    for (int k = 0; k < tx->n; k++) {
      LLVMValueRef ok = LLVMBuildAnd(c->b, ty->ok[r], tx->ok[k], "");
      LLVMValueRef p = fsel(c, ok, load_f64(c, x, xdt, cg_add(c, at, tx->idx[k])), zero);
      row = weigh(c, row, j->mode == GS_NEAREST ? NULL : tx->w[k], p);
    }
    v = weigh(c, v, j->mode == GS_NEAREST ? NULL : ty->w[r], row);
  }
  return v;
}

static int gs_parse(const pare_node *nd, gs_job *j, pare_err *err) {
  static const char *const modes[] = {"bilinear", "nearest", "bicubic", "linear", NULL, "cubic"};
  static const char *const pads[] = {"zeros", "border", "reflection"};
  const char *m = pare_attr_string(nd, "mode", "bilinear");
  const char *p = pare_attr_string(nd, "padding_mode", "zeros");
  int mi = 0, pi = 0;
  while (mi < 6 && !(modes[mi] && strcmp(m, modes[mi]) == 0)) mi++;
  while (pi < 3 && strcmp(p, pads[pi]) != 0) pi++;
  if (mi == 6 || pi == 3) return pare_errf(err, "mode '%s', padding_mode '%s'", m, p);
  j->mode = (gs_mode)(mi % 3);
  j->pad = (gs_pad)pi;
  j->align = pare_attr_int(nd, "align_corners", 0) != 0;
  return PARE_OK;
}

static int emit_gridsample(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *gs = cg_shape(c, nd->inputs[1]);
  pare_dtype xdt = dtype_of(c, nd->inputs[0]), gdt = dtype_of(c, nd->inputs[1]);
  gs_job j;
  if (gs_parse(nd, &j, err)) return PARE_ERR;
  if (!is_fp(xdt) || !is_fp(gdt) || xs->rank != 4 || gs->rank != 4 || gs->dims[3] != 2)
    return pare_errf(err, "expects X [N, C, H, W] and grid [N, H_out, W_out, 2] of floats");
  int64_t nb = xs->dims[0], nc = xs->dims[1], points = gs->dims[1] * gs->dims[2];
  for (int d = 0; d < 2; d++) {
    j.size[d] = xs->dims[2 + d];
    j.lo[d] = j.align ? 0.0f : -0.5f;
    j.hi[d] = j.align ? (float)(j.size[d] - 1) : (float)j.size[d] - 0.5f;
  }
  if (nb * nc * points == 0) return PARE_OK;
  if (j.size[0] * j.size[1] == 0) return pare_errf(err, "an empty image");
  LLVMValueRef x = cg_value_ptr(c, nd->inputs[0]), grid = cg_value_ptr(c, nd->inputs[1]);
  LLVMValueRef y = cg_value_ptr(c, nd->outputs[0]);
  cg_loop bl, pl, cl;
  LLVMValueRef b = loop_begin(c, &bl, nb), p = loop_begin(c, &pl, points);
  LLVMValueRef g = cg_madd(c, cg_madd(c, b, points, p), 2, cg_i64(c, 0));
  LLVMValueRef gx = load_at(c, num_type(c, gdt), 1, grid, g);
  LLVMValueRef gy = load_at(c, num_type(c, gdt), 1, grid, cg_add(c, g, cg_i64(c, 1)));
  if (gdt == PARE_F64) {
    gx = LLVMBuildFPTrunc(c->b, gx, c->f32, "");
    gy = LLVMBuildFPTrunc(c->b, gy, c->f32, "");
  }
  gs_taps tx, ty;
  gs_taps_of(c, &j, gs_coord(c, &j, gx, 1), 1, &tx);
  gs_taps_of(c, &j, gs_coord(c, &j, gy, 0), 0, &ty);
  LLVMValueRef ch = loop_begin(c, &cl, nc), bc = cg_madd(c, b, nc, ch);
  LLVMValueRef v =
      gs_value(c, &j, x, xdt, cg_madd(c, bc, j.size[0] * j.size[1], cg_i64(c, 0)), &ty, &tx);
  store_at(c, from_f64(c, v, xdt, 1), num_type(c, xdt), y, cg_madd(c, bc, points, p));
  loop_end(c, &cl);
  loop_end(c, &pl);
  loop_end(c, &bl);
  return PARE_OK;
}

/* ---------------------------------------------------------------- losses */

typedef enum loss_red { LR_NONE, LR_SUM, LR_MEAN } loss_red;

/* The input seen as [N, C, D] (D: the product of the trailing dims) and the
 * target as [N, D], as in ops/loss.c. */
typedef struct loss_job {
  int64_t n, c, d;
  LLVMValueRef x, lp, target, weight, out;
  pare_dtype xdt, lp_dt, tdt, odt; /* lp: the log-probabilities NLL reads */
  loss_red red;
  int has_ignore;
  int64_t ignore;
} loss_job;

static int loss_setup(cg *c, const pare_node *nd, loss_job *j, pare_err *err) {
  static const char *const reds[] = {"none", "sum", "mean"};
  const char *red = pare_attr_string(nd, "reduction", "mean");
  memset(j, 0, sizeof *j);
  j->red = LR_MEAN + 1;
  for (int i = 0; i < 3; i++)
    if (strcmp(red, reds[i]) == 0) j->red = (loss_red)i;
  if (j->red > LR_MEAN) return pare_errf(err, "unknown reduction '%s'", red);
  j->has_ignore = pare_node_attr(nd, "ignore_index") != NULL;
  j->ignore = pare_attr_int(nd, "ignore_index", 0);
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  j->xdt = j->lp_dt = dtype_of(c, nd->inputs[0]);
  j->tdt = dtype_of(c, nd->inputs[1]);
  j->odt = dtype_of(c, nd->outputs[0]);
  int w = nd->n_inputs > 2 ? nd->inputs[2] : -1;
  if (!is_fp(j->xdt) || !is_fp(j->odt) || !is_index_dtype(j->tdt) ||
      (w >= 0 && dtype_of(c, w) != j->xdt))
    return pare_errf(err, "input %s, target %s", pare_dtype_name(j->xdt), pare_dtype_name(j->tdt));
  if (xs->rank < 2) return pare_errf(err, "input of rank %d", xs->rank);
  j->n = xs->dims[0];
  j->c = xs->dims[1];
  j->d = prod(xs->dims + 2, xs->rank - 2);
  if (j->c == 0 && j->n * j->d > 0) return pare_errf(err, "no classes");
  j->x = j->lp = cg_value_ptr(c, nd->inputs[0]);
  j->target = cg_value_ptr(c, nd->inputs[1]);
  j->weight = w >= 0 ? cg_value_ptr(c, w) : NULL;
  j->out = cg_value_ptr(c, nd->outputs[0]);
  return PARE_OK;
}

/* loss[n][d] = -lp[n][t][d] * weight[t] (weight 0 and loss 0 where t is
 * ignore_index), then none / sum / mean (sum over the summed weights), in
 * double as the reference. A target out of [0, C) that is not ignored is
 * clamped into it. */
static void nll_emit(cg *c, const loss_job *j) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef sum = cg_alloca(c, c->f64), wsum = cg_alloca(c, c->f64);
  LLVMValueRef zero = LLVMConstReal(c->f64, 0);
  LLVMBuildStore(b, zero, sum);
  LLVMBuildStore(b, zero, wsum);
  cg_loop nl, dl;
  LLVMValueRef n = loop_begin(c, &nl, j->n), d = loop_begin(c, &dl, j->d);
  LLVMValueRef at = cg_madd(c, n, j->d, d);
  LLVMValueRef t = widen_i64(c, load_at(c, num_type(c, j->tdt), 1, j->target, at), j->tdt, 1);
  LLVMValueRef ign = j->has_ignore ? LLVMBuildICmp(b, LLVMIntEQ, t, cg_i64(c, j->ignore), "")
                                   : LLVMConstInt(c->i1, 0, 0);
  t = clamp_i64(c, t, j->c - 1);
  LLVMValueRef w = j->weight ? load_f64(c, j->weight, j->xdt, t) : LLVMConstReal(c->f64, 1);
  w = LLVMBuildSelect(b, ign, zero, w, "");
  LLVMValueRef x = load_f64(c, j->lp, j->lp_dt, cg_madd(c, cg_madd(c, n, j->c, t), j->d, d));
  LLVMValueRef loss =
      LLVMBuildSelect(b, ign, zero, LLVMBuildFMul(b, LLVMBuildFNeg(b, x, ""), w, ""), "");
  if (j->red == LR_NONE) store_at(c, from_f64(c, loss, j->odt, 1), num_type(c, j->odt), j->out, at);
  add_to(c, sum, loss);
  add_to(c, wsum, w);
  loop_end(c, &dl);
  loop_end(c, &nl);
  if (j->red == LR_NONE) return;
  LLVMValueRef r = LLVMBuildLoad2(b, c->f64, sum, "");
  if (j->red == LR_MEAN) r = LLVMBuildFDiv(b, r, LLVMBuildLoad2(b, c->f64, wsum, ""), "");
  store_at(c, from_f64(c, r, j->odt, 1), num_type(c, j->odt), j->out, cg_i64(c, 0));
}

static int emit_nll(cg *c, int k, pare_err *err) {
  loss_job j;
  if (loss_setup(c, c->g->nodes[k], &j, err)) return PARE_ERR;
  nll_emit(c, &j);
  return PARE_OK;
}

/* The log-softmax over C of the input at (n, d) with first element base:
 * max, sum of exp(x - max), then x - (max + log(sum)), in double like the
 * reference, into the double scratch lp and the optional f32/f64 log_prob. */
static void log_softmax_at(cg *c, const loss_job *j, LLVMValueRef base, LLVMValueRef log_prob,
                           pare_dtype lpo_dt) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef mx = cg_alloca(c, c->f64), s = cg_alloca(c, c->f64);
  LLVMBuildStore(b, LLVMConstReal(c->f64, -INFINITY), mx);
  LLVMBuildStore(b, LLVMConstReal(c->f64, 0), s);
  cg_loop l;
  LLVMValueRef ci = loop_begin(c, &l, j->c);
  LLVMValueRef v = load_f64(c, j->x, j->xdt, cg_madd(c, ci, j->d, base));
  LLVMValueRef m = LLVMBuildLoad2(b, c->f64, mx, "");
  LLVMBuildStore(b, LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, v, m, ""), v, m, ""), mx);
  loop_end(c, &l);
  LLVMValueRef top = LLVMBuildLoad2(b, c->f64, mx, "");
  ci = loop_begin(c, &l, j->c);
  LLVMValueRef arg =
      LLVMBuildFSub(b, load_f64(c, j->x, j->xdt, cg_madd(c, ci, j->d, base)), top, "");
  add_to(c, s, libm_f64(c, "exp", &arg, 1));
  loop_end(c, &l);
  arg = LLVMBuildLoad2(b, c->f64, s, "");
  LLVMValueRef lse = LLVMBuildFAdd(b, top, libm_f64(c, "log", &arg, 1), "");
  ci = loop_begin(c, &l, j->c);
  LLVMValueRef at = cg_madd(c, ci, j->d, base);
  LLVMValueRef lp = LLVMBuildFSub(b, load_f64(c, j->x, j->xdt, at), lse, "");
  store_at(c, lp, c->f64, j->lp, at);
  if (log_prob) store_at(c, from_f64(c, lp, lpo_dt, 1), num_type(c, lpo_dt), log_prob, at);
  loop_end(c, &l);
}

/* SoftmaxCrossEntropyLoss: the log-softmax into scratch, then NLL on it. */
static int emit_sce(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  loss_job j;
  if (loss_setup(c, nd, &j, err)) return PARE_ERR;
  int lpo = nd->n_outputs > 1 ? nd->outputs[1] : -1;
  if (lpo >= 0 && !is_fp(dtype_of(c, lpo))) return pare_errf(err, "log_prob dtype");
  j.lp = cg_scratch(c, j.n * j.c * j.d * (int64_t)sizeof(double));
  j.lp_dt = PARE_F64;
  cg_loop nl, dl;
  LLVMValueRef n = loop_begin(c, &nl, j.n), d = loop_begin(c, &dl, j.d);
  log_softmax_at(c, &j, cg_madd(c, n, j.c * j.d, d), lpo >= 0 ? cg_value_ptr(c, lpo) : NULL,
                 lpo >= 0 ? dtype_of(c, lpo) : PARE_F64);
  loop_end(c, &dl);
  loop_end(c, &nl);
  nll_emit(c, &j);
  return PARE_OK;
}

/* ----------------------------------------------------------------- table */

const cg_op cg_ops_misc[] = {
    {"Equal", emit_compare},
    {"Less", emit_compare},
    {"LessOrEqual", emit_compare},
    {"Greater", emit_compare},
    {"GreaterOrEqual", emit_compare},
    {"And", emit_logic},
    {"Or", emit_logic},
    {"Xor", emit_logic},
    {"Not", emit_logic},
    {"IsNaN", emit_classify},
    {"IsInf", emit_classify},
    {"Where", emit_where},
    /* Also in cg_ops_elementwise, which gets them when all operands are f32. */
    {"Add", emit_arith},
    {"Sub", emit_arith},
    {"Mul", emit_arith},
    {"Div", emit_arith},
    {"Pow", emit_pow},
    {"Max", emit_arith},
    {"Min", emit_arith},
    {"Sum", emit_arith},
    {"Mean", emit_arith},
    {"Neg", emit_arith},
    {"Abs", emit_arith},
    {"Mod", emit_arith},
    {"Tan", emit_f32_unary},
    {"Asin", emit_f32_unary},
    {"Acos", emit_f32_unary},
    {"Atan", emit_f32_unary},
    {"Sinh", emit_f32_unary},
    {"Cosh", emit_f32_unary},
    {"Asinh", emit_f32_unary},
    {"Acosh", emit_f32_unary},
    {"Atanh", emit_f32_unary},
    {"Shrink", emit_f32_unary},
    {"ArgMax", emit_arg},
    {"ArgMin", emit_arg},
    {"TopK", emit_topk},
    {"CumSum", emit_cumsum},
    {"Trilu", emit_trilu},
    {"GatherElements", emit_elements},
    {"ScatterElements", emit_elements},
    {"GatherND", emit_nd},
    {"ScatterND", emit_nd},
    {"OneHot", emit_onehot},
    {"EyeLike", emit_eyelike},
    {"ConstantOfShape", emit_constant_of_shape},
    {"Range", emit_range},
    {"HannWindow", emit_window},
    {"HammingWindow", emit_window},
    {"BlackmanWindow", emit_window},
    {"ReverseSequence", emit_reverse_sequence},
    {"LRN", emit_lrn},
    {"GridSample", emit_gridsample},
    {"NegativeLogLikelihoodLoss", emit_nll},
    {"SoftmaxCrossEntropyLoss", emit_sce},
    {NULL, NULL},
};
