/*
 * cg.c - small builders the kernel emitters share: loops, constants,
 * vector loads and stores, intrinsics, a vectorized exp.
 */
#include "backend/cg.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- loops */

LLVMValueRef cg_for_begin(cg *c, cg_loop *l, int64_t start, int64_t end, int64_t step) {
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->b);
  l->header = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "loop");
  l->body = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "body");
  l->exit = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "done");
  l->step = step;
  LLVMBuildBr(c->b, l->header);
  LLVMPositionBuilderAtEnd(c->b, l->header);
  l->iv = LLVMBuildPhi(c->b, c->i64, "i");
  LLVMValueRef init = cg_i64(c, start);
  LLVMAddIncoming(l->iv, &init, &pre, 1);
  LLVMValueRef more = LLVMBuildICmp(c->b, LLVMIntSLT, l->iv, cg_i64(c, end), "");
  LLVMBuildCondBr(c->b, more, l->body, l->exit);
  LLVMPositionBuilderAtEnd(c->b, l->body);
  return l->iv;
}

void cg_for_end(cg *c, cg_loop *l) {
  LLVMValueRef next = LLVMBuildNSWAdd(c->b, l->iv, cg_i64(c, l->step), "");
  LLVMBasicBlockRef from = LLVMGetInsertBlock(c->b);
  LLVMAddIncoming(l->iv, &next, &from, 1);
  LLVMBuildBr(c->b, l->header);
  LLVMPositionBuilderAtEnd(c->b, l->exit);
}

/* ------------------------------------------------------------ constants */

LLVMValueRef cg_i64(cg *c, int64_t v) {
  return LLVMConstInt(c->i64, (unsigned long long)v, 1);
}

LLVMValueRef cg_f32c(cg *c, float v) {
  return LLVMConstReal(c->f32, v);
}

LLVMTypeRef cg_ftype(cg *c, int w) {
  return w == 1 ? c->f32 : LLVMVectorType(c->f32, (unsigned)w);
}

LLVMValueRef cg_splat(cg *c, LLVMValueRef s, int w) {
  if (w == 1) return s;
  if (LLVMIsConstant(s)) {
    LLVMValueRef elts[64];
    for (int i = 0; i < w; i++) elts[i] = s;
    return LLVMConstVector(elts, (unsigned)w);
  }
  LLVMTypeRef vt = cg_ftype(c, w);
  LLVMValueRef v =
      LLVMBuildInsertElement(c->b, LLVMGetUndef(vt), s, LLVMConstInt(c->i32, 0, 0), "");
  LLVMValueRef mask = LLVMConstNull(LLVMVectorType(c->i32, (unsigned)w));
  return LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(vt), mask, "splat");
}

LLVMValueRef cg_fconst(cg *c, float v, int w) {
  return cg_splat(c, cg_f32c(c, v), w);
}

/* ------------------------------------------------------------ addresses */

LLVMValueRef cg_gep(cg *c, LLVMTypeRef elt, LLVMValueRef base, LLVMValueRef idx) {
  if (LLVMIsConstant(idx) && LLVMConstIntGetSExtValue(idx) == 0) return base;
  return LLVMBuildInBoundsGEP2(c->b, elt, base, &idx, 1, "");
}

LLVMValueRef cg_add(cg *c, LLVMValueRef a, LLVMValueRef b) {
  if (LLVMIsConstant(a) && LLVMConstIntGetSExtValue(a) == 0) return b;
  if (LLVMIsConstant(b) && LLVMConstIntGetSExtValue(b) == 0) return a;
  return LLVMBuildNSWAdd(c->b, a, b, "");
}

LLVMValueRef cg_madd(cg *c, LLVMValueRef idx, int64_t scale, LLVMValueRef add) {
  LLVMValueRef m;
  if (scale == 0) return add;
  if (scale == 1)
    m = idx;
  else
    m = LLVMBuildNSWMul(c->b, idx, cg_i64(c, scale), "");
  return cg_add(c, m, add);
}

LLVMValueRef cg_loadf(cg *c, LLVMValueRef base, LLVMValueRef idx, int w) {
  LLVMValueRef p = cg_gep(c, c->f32, base, idx);
  LLVMValueRef v = LLVMBuildLoad2(c->b, cg_ftype(c, w), p, "");
  LLVMSetAlignment(v, 4);
  return v;
}

void cg_storef(cg *c, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx, int w) {
  LLVMValueRef p = cg_gep(c, c->f32, base, idx);
  LLVMValueRef s = LLVMBuildStore(c->b, v, p);
  (void)w;
  LLVMSetAlignment(s, 4);
}

/* ----------------------------------------------------------- intrinsics */

LLVMValueRef cg_intrin(cg *c, const char *name, LLVMTypeRef t, LLVMValueRef *args, int n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(c->mod, id, &t, 1);
  LLVMTypeRef ft = LLVMIntrinsicGetType(c->ctx, id, &t, 1);
  return LLVMBuildCall2(c->b, ft, fn, args, (unsigned)n, "");
}

LLVMValueRef cg_fma(cg *c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef acc) {
  LLVMValueRef args[3] = {a, b, acc};
  return cg_intrin(c, "llvm.fmuladd", LLVMTypeOf(acc), args, 3);
}

LLVMValueRef cg_fmax(cg *c, LLVMValueRef a, LLVMValueRef b) {
  LLVMValueRef args[2] = {a, b};
  return cg_intrin(c, "llvm.maxnum", LLVMTypeOf(a), args, 2);
}

LLVMValueRef cg_fmin(cg *c, LLVMValueRef a, LLVMValueRef b) {
  LLVMValueRef args[2] = {a, b};
  return cg_intrin(c, "llvm.minnum", LLVMTypeOf(a), args, 2);
}

LLVMValueRef cg_clamp_lo(cg *c, LLVMValueRef x, LLVMValueRef lo) {
  return LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOLT, x, lo, ""), lo, x, "");
}

LLVMValueRef cg_clamp_hi(cg *c, LLVMValueRef x, LLVMValueRef hi) {
  return LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, x, hi, ""), hi, x, "");
}

/* Cephes expf: range reduction by ln 2, degree-5 polynomial, scale by 2^n.
 * Relative error about 2e-7 over the clamped range; NaN gives NaN. */
LLVMValueRef cg_exp(cg *c, LLVMValueRef x, int w) {
  LLVMBuilderRef b = c->b;
  LLVMValueRef x_in = x;
  /* Below 88.37 the exponent n stays <= 127 (2^128 would be the bit pattern of inf). */
  x = cg_fmin(c, x, cg_fconst(c, 88.37f, w));
  x = cg_fmax(c, x, cg_fconst(c, -87.3365447504f, w));
  LLVMValueRef fx = cg_fma(c, x, cg_fconst(c, 1.44269504088896341f, w), cg_fconst(c, 0.5f, w));
  LLVMValueRef arg = fx;
  fx = cg_intrin(c, "llvm.floor", LLVMTypeOf(fx), &arg, 1);
  x = cg_fma(c, fx, cg_fconst(c, -0.693359375f, w), x);
  x = cg_fma(c, fx, cg_fconst(c, 2.12194440e-4f, w), x);
  static const float p[6] = {1.9875691500E-4f, 1.3981999507E-3f, 8.3334519073E-3f,
                             4.1665795894E-2f, 1.6666665459E-1f, 5.0000001201E-1f};
  LLVMValueRef y = cg_fconst(c, p[0], w);
  for (int i = 1; i < 6; i++) y = cg_fma(c, y, x, cg_fconst(c, p[i], w));
  LLVMValueRef xx = LLVMBuildFMul(b, x, x, "");
  y = cg_fma(c, y, xx, x);
  y = LLVMBuildFAdd(b, y, cg_fconst(c, 1.0f, w), "");
  LLVMTypeRef it = w == 1 ? c->i32 : LLVMVectorType(c->i32, (unsigned)w);
  LLVMValueRef n = LLVMBuildFPToSI(b, fx, it, "");
  LLVMValueRef bias = w == 1 ? LLVMConstInt(c->i32, 127, 0) : LLVMConstNull(it);
  if (w > 1) {
    LLVMValueRef e[64];
    for (int i = 0; i < w; i++) e[i] = LLVMConstInt(c->i32, 127, 0);
    bias = LLVMConstVector(e, (unsigned)w);
  }
  n = LLVMBuildAdd(b, n, bias, "");
  LLVMValueRef sh = w == 1 ? LLVMConstInt(c->i32, 23, 0) : NULL;
  if (w > 1) {
    LLVMValueRef e[64];
    for (int i = 0; i < w; i++) e[i] = LLVMConstInt(c->i32, 23, 0);
    sh = LLVMConstVector(e, (unsigned)w);
  }
  n = LLVMBuildShl(b, n, sh, "");
  LLVMValueRef pow2n = LLVMBuildBitCast(b, n, cg_ftype(c, w), "");
  LLVMValueRef r = LLVMBuildFMul(b, y, pow2n, "exp");
  LLVMValueRef nan = LLVMBuildFCmp(b, LLVMRealUNO, x_in, x_in, "");
  return LLVMBuildSelect(b, nan, x_in, r, "");
}

static LLVMValueRef libm_decl(cg *c, const char *fname, int arity, LLVMTypeRef *ft) {
  LLVMTypeRef params[2] = {c->f32, c->f32};
  *ft = LLVMFunctionType(c->f32, params, (unsigned)arity, 0);
  LLVMValueRef fn = LLVMGetNamedFunction(c->mod, fname);
  if (!fn) fn = LLVMAddFunction(c->mod, fname, *ft);
  return fn;
}

static LLVMValueRef per_lane(cg *c, const char *fname, LLVMValueRef x, LLVMValueRef y, int w) {
  LLVMTypeRef ft;
  LLVMValueRef fn = libm_decl(c, fname, y ? 2 : 1, &ft);
  if (w == 1) {
    LLVMValueRef args[2] = {x, y};
    return LLVMBuildCall2(c->b, ft, fn, args, y ? 2 : 1, "");
  }
  LLVMValueRef r = LLVMGetUndef(cg_ftype(c, w));
  for (int i = 0; i < w; i++) {
    LLVMValueRef lane = LLVMConstInt(c->i32, (unsigned long long)i, 0);
    LLVMValueRef args[2] = {LLVMBuildExtractElement(c->b, x, lane, ""),
                            y ? LLVMBuildExtractElement(c->b, y, lane, "") : NULL};
    LLVMValueRef v = LLVMBuildCall2(c->b, ft, fn, args, y ? 2 : 1, "");
    r = LLVMBuildInsertElement(c->b, r, v, lane, "");
  }
  return r;
}

LLVMValueRef cg_libm1(cg *c, const char *fname, LLVMValueRef x, int w) {
  return per_lane(c, fname, x, NULL, w);
}

LLVMValueRef cg_libm2(cg *c, const char *fname, LLVMValueRef x, LLVMValueRef y, int w) {
  return per_lane(c, fname, x, y, w);
}

LLVMValueRef cg_hsum(cg *c, LLVMValueRef v, int w) {
  if (w == 1) return v;
  /* In-order reduction keeps results independent of vector width choices. */
  LLVMValueRef args[2] = {cg_f32c(c, -0.0f), v};
  return cg_intrin(c, "llvm.vector.reduce.fadd", LLVMTypeOf(v), args, 2);
}

LLVMValueRef cg_hmax(cg *c, LLVMValueRef v, int w) {
  if (w == 1) return v;
  return cg_intrin(c, "llvm.vector.reduce.fmax", LLVMTypeOf(v), &v, 1);
}

/* --------------------------------------------------------------- memory */

void cg_memcpy(cg *c, LLVMValueRef dst, LLVMValueRef src, int64_t bytes) {
  if (bytes <= 0) return;
  LLVMBuildMemCpy(c->b, dst, 1, src, 1, cg_i64(c, bytes));
}

void cg_copy_floats(cg *c, LLVMValueRef dst, LLVMValueRef src, int64_t n) {
  int64_t vec_end = n / CG_VW * CG_VW;
  if (vec_end > 0) {
    cg_loop l;
    LLVMValueRef i = vec_end == CG_VW ? cg_i64(c, 0) : cg_for_begin(c, &l, 0, vec_end, CG_VW);
    cg_storef(c, cg_loadf(c, src, i, CG_VW), dst, i, CG_VW);
    if (vec_end != CG_VW) cg_for_end(c, &l);
  }
  for (int64_t i = vec_end; i < n; i++)
    cg_storef(c, cg_loadf(c, src, cg_i64(c, i), 1), dst, cg_i64(c, i), 1);
}

void cg_zero_floats(cg *c, LLVMValueRef dst, int64_t n) {
  int64_t vec_end = n / CG_VW * CG_VW;
  if (vec_end > 0) {
    cg_loop l;
    LLVMValueRef i = vec_end == CG_VW ? cg_i64(c, 0) : cg_for_begin(c, &l, 0, vec_end, CG_VW);
    cg_storef(c, cg_fconst(c, 0.0f, CG_VW), dst, i, CG_VW);
    if (vec_end != CG_VW) cg_for_end(c, &l);
  }
  for (int64_t i = vec_end; i < n; i++) cg_storef(c, cg_f32c(c, 0.0f), dst, cg_i64(c, i), 1);
}

void cg_memset0(cg *c, LLVMValueRef dst, int64_t bytes) {
  if (bytes <= 0) return;
  LLVMBuildMemSet(c->b, dst, LLVMConstInt(c->i8, 0, 0), cg_i64(c, bytes), 1);
}

/* --------------------------------------------------------------- values */

const pare_shape *cg_shape(cg *c, int v) {
  return &c->g->values[v]->shape;
}

int64_t cg_numel(cg *c, int v) {
  const pare_shape *s = cg_shape(c, v);
  int64_t n = 1;
  for (int d = 0; d < s->rank; d++) n *= s->dims[d];
  return n;
}

const pare_tensor *cg_const(cg *c, int v) {
  return v >= 0 ? c->g->values[v]->init : NULL;
}

LLVMValueRef cg_alloca(cg *c, LLVMTypeRef t) {
  LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(c->fn);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->ctx);
  LLVMValueRef first = LLVMGetFirstInstruction(entry);
  if (first)
    LLVMPositionBuilderBefore(b, first);
  else
    LLVMPositionBuilderAtEnd(b, entry);
  LLVMValueRef a = LLVMBuildAlloca(b, t, "acc");
  LLVMDisposeBuilder(b);
  return a;
}
