/*
 * emit_int8.c - 8-bit integer kernels for QDQ Conv, Gemm and MatMul, and
 * the reference lowering of QuantizeLinear and DequantizeLinear.
 *
 * A layer in ONNX QDQ form (the w8a8 pass writes it, ONNX Runtime's
 * quantize_static too)
 *
 *   x -> QuantizeLinear(sx, zx) -> DequantizeLinear(sx, zx) -+
 *   w_q (i8) -> DequantizeLinear(sw[c]) ---------------------+-> Conv/Gemm/MatMul
 *
 * computes y = sum_k sx (q[k] - zx) * sw[c] w_q[c][k] + bias[c]. With u8
 * activations the sum is done in integers:
 *
 *   y = sx * sw[c] * (sum_k w_q[c][k] q[k] - zx * sum_k w_q[c][k]) + bias[c]
 *
 * and the layer runs here (cg_int8_match decides, emit_fused.c rewires the
 * planning graph so the Q/DQ nodes disappear): the f32 input is quantized
 * once into scratch (the QuantizeLinear is fused into the kernel's
 * packing), products are summed four at a time in 32-bit lanes, and the
 * epilogue dequantizes with the per-channel scale and bias and then runs
 * the fused elementwise members (activations, residual adds) on f32, as
 * the f32 kernels do.
 *
 * The GEMM: C[m][n] = sum over k4 of dot4(A[m][k4], B[k4][n]) where A is
 * row-major [M][K4] of 4-byte words (K padded to a multiple of 4 with zero
 * weights) and B is [K4][ldb] words, each word 4 consecutive k of one
 * column n. A word of A is broadcast, eight words of B form a vector, and
 * one "dot4" adds the four byte products of each lane into its i32
 * accumulator: vpdpbusd with VNNI; on plain AVX2 vpmaddubsw + vpmaddwd,
 * which is exact only when a pair of u8*s8 products cannot pass 32767,
 * i.e. for 7-bit weights (|w| <= 64, the w8a8 pass's reduce-range), else
 * both widened to i16 and vpmaddwd (exact, half the lanes); without AVX2
 * generic IR (widen to i32, multiply, add the four lanes), which LLVM
 * lowers for any target. Conv puts the weights in A and the im2col
 * image in B (the u8 operand, lanes along output pixels); Gemm/MatMul put
 * the quantized input rows in A (u8) and the weights in B (lanes along
 * output channels), so output rows stay contiguous either way.
 *
 * Padding: the quantized image is padded with the zero point, which is the
 * integer for 0.0, so the correction term stays the same for every pixel.
 */
#include "backend/cg.h"
#include "backend/emit.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define I8_MR    6          /* rows per register block */
#define I8_NV    2          /* vectors of 8 columns per register block */
#define I8_NB    16         /* columns per register block */
#define I8_CHUNK (96 << 10) /* bytes of packed image per GEMM */

enum { DOT_VNNI, DOT_PMADDUBSW, DOT_PMADDWD, DOT_GENERIC };

/* DOT_PMADDWD (AVX2, 8-bit weights): both operands widened to i16 and
 * multiplied pairwise by vpmaddwd, exact, half the lanes per instruction:
 * pixels 0-3 and 4-7 of a vector accumulate apart (two i32 lanes each,
 * k pairs 01 and 23) and are summed in the epilogue. Twice the
 * accumulators, so half the rows per block. */
#define I8_MR_WD 3

/* ------------------------------------------------------------ matching */

static int is_op(const pare_node *n, const char *op) {
  return n->op && (!n->domain || !n->domain[0]) && strcmp(n->op, op) == 0;
}

/* The node producing v if it is `op`, else -1. */
static int producer_op(const pare_graph *g, int v, const char *op) {
  if (v < 0) return -1;
  int p = g->values[v]->producer;
  return p >= 0 && is_op(g->nodes[p], op) ? p : -1;
}

/* A constant scalar (or one-element) input i of node n as a double. */
static int const_scalar(const pare_graph *g, const pare_node *n, int i, pare_dtype dt,
                        double *out) {
  if (n->n_inputs <= i || n->inputs[i] < 0) return 0;
  const pare_value *v = g->values[n->inputs[i]];
  if (!v->init || v->dtype != dt || pare_tensor_numel(v->init) != 1) return 0;
  *out = pare_tensor_get_f64(v->init, 0);
  return 1;
}

/* Conv geometry the int8 conv supports: 2-D (or 1-D), one group, strides up
 * to 4 along the width (the strided byte loads). */
static int conv_ok(const pare_graph *g, const pare_node *a) {
  const pare_shape *xs = &g->values[a->inputs[0]]->shape;
  const pare_shape *ws = &g->values[a->inputs[1]]->shape;
  if ((xs->rank != 4 && xs->rank != 3) || ws->rank != xs->rank) return 0;
  if (pare_attr_int(a, "group", 1) != 1) return 0;
  int64_t kernel[2] = {ws->dims[2], xs->rank == 4 ? ws->dims[3] : 1};
  pare_window w;
  pare_err err;
  if (pare_nn_window(a, "Conv", xs, kernel, 0, &w, &err)) return 0;
  int64_t sw = w.stride[w.nsp - 1];
  return sw >= 1 && sw <= 4;
}

int cg_int8_match(const pare_graph *g, int k, cg_qdq *q) {
  memset(q, 0, sizeof *q);
  const pare_node *a = g->nodes[k];
  int conv = is_op(a, "Conv"), gemm = is_op(a, "Gemm"), mm = is_op(a, "MatMul");
  if (!(conv || gemm || mm) || a->n_inputs < 2 || a->n_outputs < 1 || a->outputs[0] < 0) return 0;
  if (g->values[a->outputs[0]]->dtype != PARE_F32) return 0;
  /* The activation: x -> Q -> DQ -> here (the pair may feed other nodes
   * too, as in ONNX Runtime's QDQ models: it then stays for them). */
  int dq = producer_op(g, a->inputs[0], "DequantizeLinear");
  if (dq < 0) return 0;
  const pare_node *dqn = g->nodes[dq];
  int qi = producer_op(g, dqn->inputs[0], "QuantizeLinear");
  if (qi < 0) return 0;
  const pare_node *qn = g->nodes[qi];
  /* i8 activations run as u8 ones shifted by 128: q + 128 and zp + 128
   * have the same difference, and clamp(r + zp, -128, 127) + 128 =
   * clamp(r + zp + 128, 0, 255), so the codes are exactly the same. */
  double s1, s2, z1, z2;
  if (qn->n_inputs < 3 || qn->inputs[2] < 0) return 0;
  pare_dtype zt = g->values[qn->inputs[2]]->dtype;
  if (zt != PARE_U8 && zt != PARE_I8) return 0;
  if (!const_scalar(g, qn, 1, PARE_F32, &s1) || !const_scalar(g, dqn, 1, PARE_F32, &s2) ||
      !const_scalar(g, qn, 2, zt, &z1) || !const_scalar(g, dqn, 2, zt, &z2))
    return 0;
  if (zt == PARE_I8) z1 += 128, z2 += 128;
  if (s1 != s2 || z1 != z2 || !(s1 > 0) || !isfinite(s1)) return 0;
  int x = qn->inputs[0];
  if (x < 0 || g->values[x]->init || g->values[x]->dtype != PARE_F32) return 0;
  /* The weight: an i8 constant through DQ with zero points 0. */
  int wdq = producer_op(g, a->inputs[1], "DequantizeLinear");
  if (wdq < 0) return 0;
  const pare_node *wn = g->nodes[wdq];
  const pare_value *wq = g->values[wn->inputs[0]];
  if (!wq->init || wq->dtype != PARE_I8) return 0;
  if (wn->n_inputs < 2 || wn->inputs[1] < 0) return 0;
  const pare_value *ws = g->values[wn->inputs[1]];
  if (!ws->init || ws->dtype != PARE_F32) return 0;
  if (wn->n_inputs > 2 && wn->inputs[2] >= 0) {
    const pare_value *wz = g->values[wn->inputs[2]];
    if (!wz->init) return 0;
    for (int64_t i = 0; i < pare_tensor_numel(wz->init); i++)
      if (pare_tensor_get_i64(wz->init, i) != 0) return 0;
  }
  const pare_shape *wsh = &wq->shape;
  int axis;
  int64_t channels;
  if (conv) {
    if (!conv_ok(g, a)) return 0;
    axis = 0;
  } else if (gemm) {
    if (pare_attr_int(a, "transA", 0) || pare_attr_float(a, "alpha", 1.0f) != 1.0f) return 0;
    if (g->values[x]->shape.rank != 2 || wsh->rank != 2) return 0;
    axis = pare_attr_int(a, "transB", 0) ? 0 : 1;
    if (a->n_inputs > 2 && a->inputs[2] >= 0 && pare_attr_float(a, "beta", 1.0f) != 0) {
      const pare_value *cv = g->values[a->inputs[2]];
      int64_t n = wsh->dims[axis];
      if (!cv->init || cv->dtype != PARE_F32) return 0;
      int64_t cn = pare_tensor_numel(cv->init);
      if (cn != 1 && !(cn == n && cv->shape.dims[cv->shape.rank - 1] == n)) return 0;
    }
  } else {
    int r = g->values[x]->shape.rank;
    if (wsh->rank != 2 || (r != 2 && r != 3)) return 0;
    axis = 1;
  }
  channels = wsh->dims[axis];
  int64_t ns = pare_tensor_numel(ws->init);
  if (ns != 1) {
    int64_t wax = pare_attr_int(wn, "axis", 1);
    if (wax < 0) wax += wsh->rank;
    if (ns != channels || wax != axis) return 0;
  }
  q->active = 1;
  q->x = x;
  q->w_q = wn->inputs[0];
  q->w_scale = wn->inputs[1];
  q->w_axis = axis;
  q->x_scale = (float)s1;
  q->x_zp = (int)z1;
  return 1;
}

/* ------------------------------------------------------------- helpers */

static LLVMTypeRef vec(LLVMTypeRef t, int n) {
  return LLVMVectorType(t, (unsigned)n);
}

static LLVMValueRef i8_ptr(cg *c, LLVMValueRef base, LLVMValueRef idx) {
  return cg_gep(c, c->i8, base, idx);
}

static LLVMValueRef load_as(cg *c, LLVMTypeRef t, LLVMValueRef p) {
  LLVMValueRef v = LLVMBuildLoad2(c->b, t, p, "");
  LLVMSetAlignment(v, 1);
  return v;
}

static void store_al1(cg *c, LLVMValueRef v, LLVMValueRef p) {
  LLVMSetAlignment(LLVMBuildStore(c->b, v, p), 1);
}

static LLVMValueRef shuffle(cg *c, LLVMValueRef a, LLVMValueRef b, const int *mask, int n) {
  LLVMValueRef m[64];
  for (int i = 0; i < n; i++) m[i] = LLVMConstInt(c->i32, (unsigned long long)mask[i], 0);
  return LLVMBuildShuffleVector(c->b, a, b ? b : LLVMGetUndef(LLVMTypeOf(a)),
                                LLVMConstVector(m, (unsigned)n), "");
}

static LLVMValueRef call_named(cg *c, const char *name, LLVMValueRef *args, int n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(c->mod, id, NULL, 0);
  LLVMTypeRef ft = LLVMIntrinsicGetType(c->ctx, id, NULL, 0);
  LLVMTypeRef params[4];
  LLVMGetParamTypes(ft, params);
  LLVMValueRef a[4];
  for (int i = 0; i < n; i++) a[i] = LLVMBuildBitCast(c->b, args[i], params[i], "");
  return LLVMBuildCall2(c->b, ft, fn, a, (unsigned)n, "");
}

/* acc + the sums of four byte products per 32-bit lane of u (u8) and s (s8). */
static LLVMValueRef dot4(cg *c, int mode, LLVMValueRef acc, LLVMValueRef u, LLVMValueRef s) {
  LLVMTypeRef v8i32 = vec(c->i32, 8);
  if (mode == DOT_VNNI) {
    LLVMValueRef args[3] = {acc, u, s};
    return LLVMBuildBitCast(c->b, call_named(c, "llvm.x86.avx512.vpdpbusd.256", args, 3), v8i32,
                            "");
  }
  LLVMTypeRef v32i8 = vec(c->i8, 32);
  LLVMValueRef ub = LLVMBuildBitCast(c->b, u, v32i8, ""), sb = LLVMBuildBitCast(c->b, s, v32i8, "");
  if (mode == DOT_PMADDUBSW) {
    LLVMValueRef a1[2] = {ub, sb};
    LLVMValueRef pairs = call_named(c, "llvm.x86.avx2.pmadd.ub.sw", a1, 2);
    LLVMTypeRef i16 = LLVMInt16TypeInContext(c->ctx);
    LLVMValueRef ones[16];
    for (int i = 0; i < 16; i++) ones[i] = LLVMConstInt(i16, 1, 0);
    LLVMValueRef a2[2] = {pairs, LLVMConstVector(ones, 16)};
    LLVMValueRef quads = call_named(c, "llvm.x86.avx2.pmadd.wd", a2, 2);
    return LLVMBuildAdd(c->b, acc, LLVMBuildBitCast(c->b, quads, v8i32, ""), "");
  }
  LLVMTypeRef v32i32 = vec(c->i32, 32);
  LLVMValueRef p = LLVMBuildMul(c->b, LLVMBuildZExt(c->b, ub, v32i32, ""),
                                LLVMBuildSExt(c->b, sb, v32i32, ""), "");
  for (int j = 0; j < 4; j++) {
    int mask[8];
    for (int i = 0; i < 8; i++) mask[i] = 4 * i + j;
    acc = LLVMBuildAdd(c->b, acc, shuffle(c, p, NULL, mask, 8), "");
  }
  return acc;
}

/* DOT_PMADDWD: vpmaddwd of the zero-extended u8 and sign-extended s8
 * bytes, lanes 0-15 into half[0] (pixels 0-3), 16-31 into half[1]. */
static void pmaddwd_halves(cg *c, LLVMValueRef u, LLVMValueRef s, LLVMValueRef *half) {
  LLVMTypeRef v32i8 = vec(c->i8, 32), v16i16 = vec(LLVMInt16TypeInContext(c->ctx), 16);
  LLVMValueRef ub = LLVMBuildBitCast(c->b, u, v32i8, ""), sb = LLVMBuildBitCast(c->b, s, v32i8, "");
  for (int h = 0; h < 2; h++) {
    int idx[16];
    for (int i = 0; i < 16; i++) idx[i] = 16 * h + i;
    LLVMValueRef uw = LLVMBuildZExt(c->b, shuffle(c, ub, NULL, idx, 16), v16i16, "");
    LLVMValueRef sw = LLVMBuildSExt(c->b, shuffle(c, sb, NULL, idx, 16), v16i16, "");
    LLVMValueRef args[2] = {uw, sw};
    half[h] = LLVMBuildBitCast(c->b, call_named(c, "llvm.x86.avx2.pmadd.wd", args, 2),
                               vec(c->i32, 8), "");
  }
}

/* f32 -> u8 as QuantizeLinear: clamp(rint(x / s) + zp, 0, 255) (w lanes;
 * a NaN becomes 0 like the reference). Returns i8 or <w x i8>. */
static LLVMValueRef quantize(cg *c, LLVMValueRef x, float scale, int zp, int w) {
  LLVMValueRef q = LLVMBuildFDiv(c->b, x, cg_fconst(c, scale, w), "");
  q = cg_intrin(c, "llvm.rint", LLVMTypeOf(q), &q, 1);
  q = LLVMBuildFAdd(c->b, q, cg_fconst(c, (float)zp, w), "");
  q = cg_fmin(c, cg_fmax(c, q, cg_fconst(c, 0.0f, w)), cg_fconst(c, 255.0f, w));
  LLVMTypeRef it = w == 1 ? c->i32 : vec(c->i32, w);
  LLVMTypeRef bt = w == 1 ? c->i8 : vec(c->i8, w);
  return LLVMBuildTrunc(c->b, LLVMBuildFPToSI(c->b, q, it, ""), bt, "");
}

/* dst[i] = quantize(src[i]) for i < n (u8 bytes from floats). */
static void quantize_run(cg *c, LLVMValueRef dst, LLVMValueRef src, int64_t n, float scale,
                         int zp) {
  int64_t vend = n / CG_VW * CG_VW;
  cg_loop l;
  if (vend > 0) {
    LLVMValueRef i = cg_for_begin(c, &l, 0, vend, CG_VW);
    store_al1(c, quantize(c, cg_loadf(c, src, i, CG_VW), scale, zp, CG_VW), i8_ptr(c, dst, i));
    cg_for_end(c, &l);
  }
  if (n > vend) {
    LLVMValueRef i = cg_for_begin(c, &l, vend, n, 1);
    store_al1(c, quantize(c, cg_loadf(c, src, i, 1), scale, zp, 1), i8_ptr(c, dst, i));
    cg_for_end(c, &l);
  }
}

/* ---------------------------------------------------------------- GEMM */

typedef struct i8_gemm {
  int64_t M, N, K4, ldb, ldc;
  LLVMValueRef A, B, C;
  int a_unsigned; /* A holds the u8 operand (Gemm/MatMul), else B (Conv) */
  int mode;
  /* Epilogue constants: i32 correction, f32 scale, f32 bias (may be NULL),
   * per row (Conv) or per column, padded to ldb (columns). */
  LLVMValueRef corr, scale, bias;
  int per_row;
  LLVMValueRef epi_b, epi_r0, epi_p0;
} i8_gemm;

static LLVMValueRef per_vec(cg *c, const i8_gemm *d, LLVMValueRef arr, LLVMTypeRef elt,
                            LLVMValueRef m, LLVMValueRef n) {
  if (d->per_row) {
    LLVMValueRef s = LLVMBuildLoad2(c->b, elt, cg_gep(c, elt, arr, m), "");
    LLVMValueRef v =
        LLVMBuildInsertElement(c->b, LLVMGetUndef(vec(elt, 8)), s, LLVMConstInt(c->i32, 0, 0), "");
    int zero[8] = {0};
    return shuffle(c, v, NULL, zero, 8);
  }
  LLVMValueRef v = LLVMBuildLoad2(c->b, vec(elt, 8), cg_gep(c, elt, arr, n), "");
  LLVMSetAlignment(v, 4);
  return v;
}

static void i8_block(cg *c, const i8_gemm *d, int mr, int nv, int last_lanes, LLVMValueRef m0,
                     LLVMValueRef n0) {
  LLVMTypeRef v8i32 = vec(c->i32, 8);
  LLVMValueRef acc[I8_MR][I8_NV], acc2[I8_MR][I8_NV];
  int wd = d->mode == DOT_PMADDWD;
  for (int r = 0; r < mr; r++)
    for (int j = 0; j < nv; j++) {
      acc[r][j] = cg_alloca(c, v8i32);
      LLVMBuildStore(c->b, LLVMConstNull(v8i32), acc[r][j]);
      acc2[r][j] = wd ? cg_alloca(c, v8i32) : NULL;
      if (wd) LLVMBuildStore(c->b, LLVMConstNull(v8i32), acc2[r][j]);
    }
  cg_loop kl;
  LLVMValueRef k4 = cg_for_begin(c, &kl, 0, d->K4, 1);
  LLVMValueRef bv[I8_NV];
  LLVMValueRef brow = cg_madd(c, k4, d->ldb, n0);
  for (int j = 0; j < nv; j++) {
    LLVMValueRef p = cg_gep(c, c->i32, d->B, cg_add(c, brow, cg_i64(c, 8 * j)));
    bv[j] = LLVMBuildLoad2(c->b, v8i32, p, "");
    LLVMSetAlignment(bv[j], 4);
  }
  for (int r = 0; r < mr; r++) {
    LLVMValueRef ai = cg_madd(c, cg_add(c, m0, cg_i64(c, r)), d->K4, k4);
    LLVMValueRef a = LLVMBuildLoad2(c->b, c->i32, cg_gep(c, c->i32, d->A, ai), "");
    LLVMSetAlignment(a, 4);
    LLVMValueRef av =
        LLVMBuildInsertElement(c->b, LLVMGetUndef(v8i32), a, LLVMConstInt(c->i32, 0, 0), "");
    int zero[8] = {0};
    av = shuffle(c, av, NULL, zero, 8);
    for (int j = 0; j < nv; j++) {
      LLVMValueRef u = d->a_unsigned ? av : bv[j], sv = d->a_unsigned ? bv[j] : av;
      if (wd) {
        LLVMValueRef half[2];
        pmaddwd_halves(c, u, sv, half);
        for (int h = 0; h < 2; h++) {
          LLVMValueRef slot = h ? acc2[r][j] : acc[r][j];
          LLVMValueRef cur = LLVMBuildLoad2(c->b, v8i32, slot, "");
          LLVMBuildStore(c->b, LLVMBuildAdd(c->b, cur, half[h], ""), slot);
        }
        continue;
      }
      LLVMValueRef cur = LLVMBuildLoad2(c->b, v8i32, acc[r][j], "");
      LLVMBuildStore(c->b, dot4(c, d->mode, cur, u, sv), acc[r][j]);
    }
  }
  cg_for_end(c, &kl);
  for (int r = 0; r < mr; r++) {
    LLVMValueRef m = cg_add(c, m0, cg_i64(c, r));
    for (int j = 0; j < nv; j++) {
      LLVMValueRef n = cg_add(c, n0, cg_i64(c, 8 * j));
      LLVMValueRef v = LLVMBuildLoad2(c->b, v8i32, acc[r][j], "");
      if (wd) {
        LLVMValueRef v2 = LLVMBuildLoad2(c->b, v8i32, acc2[r][j], "");
        int ev[8], od[8];
        for (int i = 0; i < 8; i++) ev[i] = 2 * i, od[i] = 2 * i + 1;
        v = LLVMBuildAdd(c->b, shuffle(c, v, v2, ev, 8), shuffle(c, v, v2, od, 8), "");
      }
      v = LLVMBuildSub(c->b, v, per_vec(c, d, d->corr, c->i32, m, n), "");
      LLVMValueRef f = LLVMBuildSIToFP(c->b, v, c->vf, "");
      f = LLVMBuildFMul(c->b, f, per_vec(c, d, d->scale, c->f32, m, n), "");
      if (d->bias) f = LLVMBuildFAdd(c->b, f, per_vec(c, d, d->bias, c->f32, m, n), "");
      LLVMValueRef row = cg_add(c, d->epi_r0, m), col = cg_add(c, d->epi_p0, n);
      LLVMValueRef at = cg_madd(c, m, d->ldc, n);
      int lanes = j == nv - 1 ? last_lanes : 8;
      if (lanes == 8) {
        f = cg_epilogue_apply(c, f, d->epi_b, row, col, 8);
        cg_storef(c, f, d->C, at, 8);
        continue;
      }
      for (int l = 0; l < lanes; l++) {
        LLVMValueRef e = LLVMBuildExtractElement(c->b, f, LLVMConstInt(c->i32, (unsigned)l, 0), "");
        e = cg_epilogue_apply(c, e, d->epi_b, row, cg_add(c, col, cg_i64(c, l)), 1);
        cg_storef(c, e, d->C, cg_add(c, at, cg_i64(c, l)), 1);
      }
    }
  }
}

static void i8_rows(cg *c, const i8_gemm *d, int nv, int last_lanes, LLVMValueRef n0) {
  int mr = d->mode == DOT_PMADDWD ? I8_MR_WD : I8_MR;
  int64_t m_full = d->M / mr * mr;
  if (m_full > 0) {
    cg_loop ml;
    LLVMValueRef m0 = cg_for_begin(c, &ml, 0, m_full, mr);
    i8_block(c, d, mr, nv, last_lanes, m0, n0);
    cg_for_end(c, &ml);
  }
  if (d->M > m_full) i8_block(c, d, (int)(d->M - m_full), nv, last_lanes, cg_i64(c, m_full), n0);
}

static void i8_gemm_emit(cg *c, const i8_gemm *d) {
  int64_t n_full = d->N / I8_NB * I8_NB;
  if (n_full > 0) {
    cg_loop nl;
    LLVMValueRef n0 = cg_for_begin(c, &nl, 0, n_full, I8_NB);
    i8_rows(c, d, I8_NV, 8, n0);
    cg_for_end(c, &nl);
  }
  int64_t rest = d->N - n_full;
  if (rest > 0) {
    int nv = (int)((rest + 7) / 8);
    i8_rows(c, d, nv, (int)(rest - 8 * (nv - 1)), cg_i64(c, n_full));
  }
}

/* ---------------------------------------------------------- constants */

/* The weight as [R][K] int8 (R output channels) with its scales. */
typedef struct i8_weight {
  int64_t R, K;
  const int8_t *q; /* the constant as stored */
  int64_t r_stride, k_stride;
  const pare_tensor *scales;
  int lo, hi; /* value range */
} i8_weight;

static int8_t w_at(const i8_weight *w, int64_t r, int64_t k) {
  return w->q[r * w->r_stride + k * w->k_stride];
}

static void weight_range(i8_weight *w) {
  w->lo = 127, w->hi = -128;
  for (int64_t r = 0; r < w->R; r++)
    for (int64_t k = 0; k < w->K; k++) {
      int v = w_at(w, r, k);
      if (v < w->lo) w->lo = v;
      if (v > w->hi) w->hi = v;
    }
}

static int dot_mode(cg *c, const i8_weight *w) {
  if (c->x86_vnni) return DOT_VNNI;
  /* Two u8*s8 products fit vpmaddubsw's i16 sum only for |w| <= 64. */
  if (c->x86_avx2 && w->lo >= -64 && w->hi <= 64) return DOT_PMADDUBSW;
  if (c->x86_avx2) return DOT_PMADDWD;
  return DOT_GENERIC;
}

/* Per-channel epilogue constants, n of them (padded with zeros to `len`):
 * correction zp * sum_k w, scale sx * sw, and the bias (from `bias`, f32
 * per channel, or a scalar broadcast when bias_n == 1; NULL = none). */
static int channel_consts(cg *c, const i8_weight *w, int64_t len, const pare_tensor *bias,
                          float beta, LLVMValueRef *corr, LLVMValueRef *scale,
                          LLVMValueRef *bias_out, pare_err *err) {
  int32_t *cr = calloc((size_t)len, sizeof *cr);
  float *sc = calloc((size_t)len, sizeof *sc);
  float *bi = bias ? calloc((size_t)len, sizeof *bi) : NULL;
  if (!cr || !sc || (bias && !bi)) {
    free(cr);
    free(sc);
    free(bi);
    return pare_errf(err, "out of memory");
  }
  int64_t ns = pare_tensor_numel(w->scales);
  for (int64_t r = 0; r < w->R; r++) {
    int64_t sum = 0;
    for (int64_t k = 0; k < w->K; k++) sum += w_at(w, r, k);
    cr[r] = (int32_t)(sum * c->qdq->x_zp);
    sc[r] = c->qdq->x_scale * (float)pare_tensor_get_f64(w->scales, ns == 1 ? 0 : r);
    if (bi) bi[r] = beta * (float)pare_tensor_get_f64(bias, pare_tensor_numel(bias) == 1 ? 0 : r);
  }
  *corr = cg_const_bytes(c, cr, (size_t)len * 4, "int8.corr");
  *scale = cg_const_bytes(c, sc, (size_t)len * 4, "int8.scale");
  *bias_out = bi ? cg_const_bytes(c, bi, (size_t)len * 4, "int8.bias") : NULL;
  free(cr);
  free(sc);
  free(bi);
  return PARE_OK;
}

/* ---------------------------------------------------------------- Conv */

typedef struct i8_conv_geom {
  int64_t N, C, H, W, CO, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr;
} i8_conv_geom;

static int conv_geom(cg *c, const pare_node *a, i8_conv_geom *g, pare_err *err) {
  const pare_shape *xs = cg_shape(c, c->qdq->x), *ws = cg_shape(c, c->qdq->w_q);
  int two = xs->rank == 4;
  int64_t kernel[2] = {ws->dims[2], two ? ws->dims[3] : 1};
  pare_window w;
  if (pare_nn_window(a, "Conv", xs, kernel, 0, &w, err)) return PARE_ERR;
  memset(g, 0, sizeof *g);
  g->N = xs->dims[0], g->C = xs->dims[1], g->CO = ws->dims[0];
  g->H = two ? xs->dims[2] : 1, g->W = xs->dims[xs->rank - 1];
  /* A 1-D conv is a 2-D one of height 1. */
  g->KH = two ? kernel[0] : 1, g->KW = two ? kernel[1] : kernel[0];
  int h = two ? 0 : -1, x = two ? 1 : 0;
  g->OH = h >= 0 ? w.out[h] : 1, g->OW = w.out[x];
  g->sh = h >= 0 ? w.stride[h] : 1, g->sw = w.stride[x];
  g->dh = h >= 0 ? w.dil[h] : 1, g->dw = w.dil[x];
  g->pt = h >= 0 ? w.pad_lo[h] : 0, g->pb = h >= 0 ? w.pad_hi[h] : 0;
  g->pl = w.pad_lo[x], g->pr = w.pad_hi[x];
  return PARE_OK;
}

/* Packs output pixels (oh0 + i, ow0 + j), i < rows, j < cols, of the
 * quantized image img ([C][Hp][Wp] u8) into B ([K4][ldb] words, word = the
 * bytes of k = 4*k4 .. 4*k4+3 of pixel i*cols + j). Eight pixels at a
 * time; a row's last vector spills into the next row's first pixels, which
 * that row rewrites after (and into B's padding after the last). */
static void pack_image(cg *c, const i8_conv_geom *g, LLVMValueRef img, int64_t Hp, int64_t Wp,
                       int64_t K, int64_t K4, int64_t ldb, LLVMValueRef B, LLVMValueRef oh0,
                       int64_t rows, LLVMValueRef ow0, int64_t cols) {
  int64_t KK = g->KH * g->KW;
  cg_loop kl, hl, wl;
  LLVMValueRef k4 = cg_for_begin(c, &kl, 0, K4, 1);
  LLVMValueRef off[4];
  for (int s = 0; s < 4; s++) {
    /* Rows past K (zero weights) read row K-1: any bytes do. */
    LLVMValueRef k = cg_madd(c, k4, 4, cg_i64(c, s));
    LLVMValueRef last = cg_i64(c, K - 1);
    k = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSGT, k, last, ""), last, k, "");
    LLVMValueRef ci = LLVMBuildUDiv(c->b, k, cg_i64(c, KK), "");
    LLVMValueRef rem = LLVMBuildURem(c->b, k, cg_i64(c, KK), "");
    LLVMValueRef kh = LLVMBuildUDiv(c->b, rem, cg_i64(c, g->KW), "");
    LLVMValueRef kw = LLVMBuildURem(c->b, rem, cg_i64(c, g->KW), "");
    LLVMValueRef o = cg_madd(c, ci, Hp * Wp, cg_i64(c, 0));
    o = cg_madd(c, kh, g->dh * Wp, o);
    off[s] = cg_madd(c, kw, g->dw, o);
  }
  LLVMValueRef oh = cg_for_begin(c, &hl, 0, rows, 1);
  LLVMValueRef rowbase = cg_madd(c, cg_add(c, oh0, oh), g->sh * Wp, cg_i64(c, 0));
  LLVMValueRef ow = cg_for_begin(c, &wl, 0, (cols + 7) / 8 * 8, 8);
  LLVMValueRef base = cg_madd(c, cg_add(c, ow0, ow), g->sw, rowbase);
  LLVMValueRef v[4];
  LLVMTypeRef wide = vec(c->i8, (int)(8 * g->sw));
  for (int s = 0; s < 4; s++) {
    LLVMValueRef x = load_as(c, wide, i8_ptr(c, img, cg_add(c, off[s], base)));
    if (g->sw > 1) {
      int mask[8];
      for (int i = 0; i < 8; i++) mask[i] = i * (int)g->sw;
      x = shuffle(c, x, NULL, mask, 8);
    }
    v[s] = x;
  }
  int m16[16], m32[32];
  for (int i = 0; i < 16; i++) m16[i] = i;
  LLVMValueRef a01 = shuffle(c, v[0], v[1], m16, 16), a23 = shuffle(c, v[2], v[3], m16, 16);
  for (int p = 0; p < 8; p++)
    for (int s = 0; s < 4; s++) m32[4 * p + s] = s < 2 ? s * 8 + p : 16 + (s - 2) * 8 + p;
  LLVMValueRef packed = shuffle(c, a01, a23, m32, 32);
  LLVMValueRef at = cg_madd(c, k4, ldb, cg_madd(c, oh, cols, ow));
  store_al1(c, packed, cg_gep(c, c->i32, B, at));
  cg_for_end(c, &wl);
  cg_for_end(c, &hl);
  cg_for_end(c, &kl);
}

static int emit_conv_int8(cg *c, const pare_node *nd, pare_err *err) {
  const cg_qdq *q = c->qdq;
  i8_conv_geom g;
  if (conv_geom(c, nd, &g, err)) return PARE_ERR;
  int padded = g.pt || g.pl || g.pb || g.pr;
  /* 1x1 stride-1 unpadded: the image is one row of H*W pixels. */
  if (g.KH == 1 && g.KW == 1 && g.sh == 1 && g.sw == 1 && !padded)
    g.W = g.H * g.W, g.OW = g.OH * g.OW, g.H = g.OH = 1;
  int64_t K = g.C * g.KH * g.KW, K4 = (K + 3) / 4, P = g.OH * g.OW;
  /* The packed image is built and consumed in chunks of output rows (of
   * pixels for a one-row image) of about I8_CHUNK bytes, so that it stays
   * in L2 while every row block of the GEMM reads it. */
  int64_t chunk_px = I8_CHUNK / (K4 * 4);
  int64_t rows = 1, cols = g.OW;
  if (g.OH == 1)
    cols = chunk_px < I8_NB ? I8_NB : chunk_px / I8_NB * I8_NB, cols = cols > P ? P : cols;
  else
    rows = chunk_px / g.OW < 1 ? 1 : chunk_px / g.OW, rows = rows > g.OH ? g.OH : rows;
  int64_t ldb = (rows * cols + 8 + I8_NB - 1) / I8_NB * I8_NB;
  int64_t Hp = g.H + g.pt + g.pb, Wp = g.W + g.pl + g.pr;
  const pare_tensor *wt = cg_const(c, q->w_q);
  i8_weight w = {.R = g.CO, .K = K, .q = wt->data, .r_stride = K, .k_stride = 1};
  w.scales = cg_const(c, q->w_scale);
  weight_range(&w);
  /* A: [CO][K4] words. */
  int8_t *a = calloc((size_t)(g.CO * K4 * 4), 1);
  if (!a) return pare_errf(err, "out of memory");
  for (int64_t r = 0; r < g.CO; r++)
    for (int64_t k = 0; k < K; k++) a[r * K4 * 4 + k] = w_at(&w, r, k);
  i8_gemm d;
  memset(&d, 0, sizeof d);
  d.A = cg_const_bytes(c, a, (size_t)(g.CO * K4 * 4), c->g->values[q->w_q]->name);
  free(a);
  const pare_tensor *bias = NULL;
  LLVMValueRef bias_rt = NULL;
  if (nd->n_inputs > 2 && nd->inputs[2] >= 0) {
    bias = cg_const(c, nd->inputs[2]);
    if (!bias) bias_rt = cg_value_ptr(c, nd->inputs[2]);
  }
  if (channel_consts(c, &w, g.CO, bias, 1.0f, &d.corr, &d.scale, &d.bias, err)) return PARE_ERR;
  if (bias_rt) d.bias = bias_rt;
  d.per_row = 1, d.mode = dot_mode(c, &w);
  d.M = g.CO, d.K4 = K4, d.ldb = ldb, d.ldc = P;
  if (cg_epilogue_begin(c, err)) return PARE_ERR;
  LLVMValueRef x = cg_value_ptr(c, q->x), y = cg_value_ptr(c, nd->outputs[0]);
  LLVMValueRef img = cg_scratch(c, g.C * Hp * Wp + 8 * 4 * 8 + 256);
  d.B = cg_scratch(c, K4 * ldb * 4 + 64);
  cg_loop nl;
  LLVMValueRef n = cg_for_begin(c, &nl, 0, g.N, 1);
  LLVMValueRef xn = cg_gep(c, c->f32, x, cg_madd(c, n, g.C * g.H * g.W, cg_i64(c, 0)));
  if (!padded) {
    quantize_run(c, img, xn, g.C * g.H * g.W, q->x_scale, q->x_zp);
  } else {
    LLVMBuildMemSet(c->b, img, LLVMConstInt(c->i8, (unsigned long long)q->x_zp, 0),
                    cg_i64(c, g.C * Hp * Wp), 1);
    cg_loop cl, hl;
    LLVMValueRef ci = cg_for_begin(c, &cl, 0, g.C, 1);
    LLVMValueRef h = cg_for_begin(c, &hl, 0, g.H, 1);
    LLVMValueRef src = cg_gep(c, c->f32, xn, cg_madd(c, cg_madd(c, ci, g.H, h), g.W, cg_i64(c, 0)));
    LLVMValueRef dst =
        i8_ptr(c, img, cg_madd(c, ci, Hp * Wp, cg_madd(c, h, Wp, cg_i64(c, g.pt * Wp + g.pl))));
    quantize_run(c, dst, src, g.W, q->x_scale, q->x_zp);
    cg_for_end(c, &hl);
    cg_for_end(c, &cl);
  }
  LLVMValueRef yn = cg_gep(c, c->f32, y, cg_madd(c, n, g.CO * P, cg_i64(c, 0)));
  d.epi_b = n, d.epi_r0 = cg_i64(c, 0);
  /* Whole chunks in a loop, then the rest. */
  int64_t extent = g.OH == 1 ? g.OW : g.OH, step = g.OH == 1 ? cols : rows;
  int64_t full = extent / step * step;
  for (int part = 0; part < 2; part++) {
    int64_t len = part == 0 ? step : extent - full;
    if ((part == 0 && full == 0) || len == 0) continue;
    cg_loop chl;
    LLVMValueRef at = part == 0 ? cg_for_begin(c, &chl, 0, full, step) : cg_i64(c, full);
    LLVMValueRef zero = cg_i64(c, 0), p0;
    if (g.OH == 1) {
      pack_image(c, &g, img, Hp, Wp, K, K4, ldb, d.B, zero, 1, at, len);
      p0 = at, d.N = len;
    } else {
      pack_image(c, &g, img, Hp, Wp, K, K4, ldb, d.B, at, len, zero, g.OW);
      p0 = cg_madd(c, at, g.OW, zero), d.N = len * g.OW;
    }
    d.C = cg_gep(c, c->f32, yn, p0);
    d.epi_p0 = p0;
    i8_gemm_emit(c, &d);
    if (part == 0) cg_for_end(c, &chl);
  }
  cg_for_end(c, &nl);
  return PARE_OK;
}

/* ------------------------------------------------------- Gemm / MatMul */

static int emit_linear_int8(cg *c, const pare_node *nd, int gemm, pare_err *err) {
  const cg_qdq *q = c->qdq;
  const pare_shape *xs = cg_shape(c, q->x), *ws = cg_shape(c, q->w_q);
  int64_t K = xs->dims[xs->rank - 1], M = xs->dims[xs->rank - 2];
  int64_t batch = xs->rank == 3 ? xs->dims[0] : 1;
  int tb = gemm && pare_attr_int(nd, "transB", 0);
  int64_t N = tb ? ws->dims[0] : ws->dims[1];
  int64_t K4 = (K + 3) / 4, ldb = (N + I8_NB - 1) / I8_NB * I8_NB;
  const pare_tensor *wt = cg_const(c, q->w_q);
  i8_weight w = {.R = N, .K = K, .q = wt->data};
  w.r_stride = tb ? K : 1, w.k_stride = tb ? 1 : N;
  w.scales = cg_const(c, q->w_scale);
  weight_range(&w);
  /* B: [K4][ldb] words of four k of one output channel. */
  int8_t *b = calloc((size_t)(K4 * ldb * 4), 1);
  if (!b) return pare_errf(err, "out of memory");
  for (int64_t k = 0; k < K; k++)
    for (int64_t r = 0; r < N; r++) b[((k / 4) * ldb + r) * 4 + k % 4] = w_at(&w, r, k);
  i8_gemm d;
  memset(&d, 0, sizeof d);
  d.B = cg_const_bytes(c, b, (size_t)(K4 * ldb * 4), c->g->values[q->w_q]->name);
  free(b);
  const pare_tensor *bias = NULL;
  float beta = gemm ? pare_attr_float(nd, "beta", 1.0f) : 0;
  if (gemm && beta != 0 && nd->n_inputs > 2 && nd->inputs[2] >= 0)
    bias = cg_const(c, nd->inputs[2]);
  if (channel_consts(c, &w, ldb, bias, beta, &d.corr, &d.scale, &d.bias, err)) return PARE_ERR;
  d.per_row = 0, d.a_unsigned = 1, d.mode = dot_mode(c, &w);
  d.M = M, d.N = N, d.K4 = K4, d.ldb = ldb, d.ldc = N;
  if (cg_epilogue_begin(c, err)) return PARE_ERR;
  LLVMValueRef x = cg_value_ptr(c, q->x), y = cg_value_ptr(c, nd->outputs[0]);
  d.A = cg_scratch(c, M * K4 * 4 + 64);
  cg_loop bl, ml;
  LLVMValueRef bi = cg_for_begin(c, &bl, 0, batch, 1);
  LLVMValueRef m = cg_for_begin(c, &ml, 0, M, 1);
  LLVMValueRef row = cg_madd(c, bi, M, m);
  LLVMValueRef dst = i8_ptr(c, d.A, cg_madd(c, m, K4 * 4, cg_i64(c, 0)));
  quantize_run(c, dst, cg_gep(c, c->f32, x, cg_madd(c, row, K, cg_i64(c, 0))), K, q->x_scale,
               q->x_zp);
  /* The padding bytes meet zero weights; zeroed so the sums are defined. */
  for (int64_t k = K; k < K4 * 4; k++)
    store_al1(c, LLVMConstInt(c->i8, 0, 0), i8_ptr(c, dst, cg_i64(c, k)));
  cg_for_end(c, &ml);
  d.C = cg_gep(c, c->f32, y, cg_madd(c, bi, M * N, cg_i64(c, 0)));
  d.epi_b = bi, d.epi_r0 = cg_i64(c, 0), d.epi_p0 = cg_i64(c, 0);
  i8_gemm_emit(c, &d);
  cg_for_end(c, &bl);
  return PARE_OK;
}

int cg_emit_int8(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  if (strcmp(nd->op, "Conv") == 0) return emit_conv_int8(c, nd, err);
  return emit_linear_int8(c, nd, strcmp(nd->op, "Gemm") == 0, err);
}

/* ------------------------------------------- QuantizeLinear, Dequantize */

/* The channel layout of a Q/DQ node: outer x ch x inner over its input. */
static int qdq_layout(cg *c, const pare_node *nd, int64_t *outer, int64_t *ch, int64_t *inner,
                      pare_err *err) {
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int64_t ns = cg_numel(c, nd->inputs[1]);
  *outer = cg_numel(c, nd->inputs[0]), *ch = 1, *inner = 1;
  if (ns == 1) return PARE_OK;
  int axis;
  if (pare_norm_axis(pare_attr_int(nd, "axis", 1), xs->rank, &axis, err)) return PARE_ERR;
  *ch = xs->dims[axis];
  for (int d = axis + 1; d < xs->rank; d++) *inner *= xs->dims[d];
  *outer /= *ch * *inner;
  return PARE_OK;
}

static LLVMValueRef load_int(cg *c, pare_dtype dt, LLVMValueRef base, LLVMValueRef i) {
  LLVMTypeRef t = dt == PARE_I32 ? c->i32 : c->i8;
  LLVMValueRef v = LLVMBuildLoad2(c->b, t, cg_gep(c, t, base, i), "");
  if (dt == PARE_I32) return v;
  return dt == PARE_U8 ? LLVMBuildZExt(c->b, v, c->i32, "") : LLVMBuildSExt(c->b, v, c->i32, "");
}

static int emit_qdq(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  int quant = strcmp(nd->op, "QuantizeLinear") == 0;
  pare_dtype xt = c->g->values[nd->inputs[0]]->dtype;
  pare_dtype yt = c->g->values[nd->outputs[0]]->dtype;
  pare_dtype qt = quant ? yt : xt;
  if (quant ? (xt != PARE_F32 || (yt != PARE_U8 && yt != PARE_I8))
            : (xt != PARE_U8 && xt != PARE_I8 && xt != PARE_I32))
    return pare_errf(err, "%s from %s to %s is not compiled", nd->op, pare_dtype_name(xt),
                     pare_dtype_name(yt));
  int64_t outer, ch, inner;
  if (qdq_layout(c, nd, &outer, &ch, &inner, err)) return PARE_ERR;
  LLVMValueRef x = cg_value_ptr(c, nd->inputs[0]), y = cg_value_ptr(c, nd->outputs[0]);
  LLVMValueRef sc = cg_value_ptr(c, nd->inputs[1]);
  int has_zp = nd->n_inputs > 2 && nd->inputs[2] >= 0;
  LLVMValueRef zp = has_zp ? cg_value_ptr(c, nd->inputs[2]) : NULL;
  cg_loop ol, cl, il;
  LLVMValueRef o = cg_for_begin(c, &ol, 0, outer, 1);
  LLVMValueRef ci = cg_for_begin(c, &cl, 0, ch, 1);
  LLVMValueRef s = cg_loadf(c, sc, ci, 1);
  LLVMValueRef z = zp ? load_int(c, qt, zp, ci) : LLVMConstInt(c->i32, 0, 0);
  LLVMValueRef zf = LLVMBuildSIToFP(c->b, z, c->f32, "");
  LLVMValueRef i = cg_for_begin(c, &il, 0, inner, 1);
  LLVMValueRef at = cg_madd(c, cg_madd(c, o, ch, ci), inner, i);
  if (quant) {
    LLVMValueRef v = LLVMBuildFDiv(c->b, cg_loadf(c, x, at, 1), s, "");
    v = cg_intrin(c, "llvm.rint", c->f32, &v, 1);
    v = LLVMBuildFAdd(c->b, v, zf, "");
    float lo = yt == PARE_U8 ? 0 : -128, hi = yt == PARE_U8 ? 255 : 127;
    v = cg_fmin(c, cg_fmax(c, v, cg_f32c(c, lo)), cg_f32c(c, hi));
    v = LLVMBuildTrunc(c->b, LLVMBuildFPToSI(c->b, v, c->i32, ""), c->i8, "");
    LLVMBuildStore(c->b, v, cg_gep(c, c->i8, y, at));
  } else {
    LLVMValueRef v = LLVMBuildSub(c->b, load_int(c, xt, x, at), z, "");
    v = LLVMBuildFMul(c->b, LLVMBuildSIToFP(c->b, v, c->f32, ""), s, "");
    cg_storef(c, v, y, at, 1);
  }
  cg_for_end(c, &il);
  cg_for_end(c, &cl);
  cg_for_end(c, &ol);
  return PARE_OK;
}

const cg_op cg_ops_int8[] = {
    {"QuantizeLinear", emit_qdq},
    {"DequantizeLinear", emit_qdq},
    {NULL, NULL},
};
