/*
 * cg.h - internal interface of the LLVM code generator, shared by the files
 * of backend/ (not part of the backend's public header, backend.h).
 *
 * Code shape. For a graph whose shapes are all static, codegen.c emits one
 * LLVM module holding
 *   - one private constant global per constant value a kernel reads
 *     (64-byte aligned, in the form the encodings give it);
 *   - one internal function per kernel (a node, or a group of fused nodes):
 *       void kN(ptr ws, ptr a0, ptr a1, ...)
 *     whose pointer arguments are the kernel's tensors in the order the
 *     kernel's emitter asked for them (cg_kernel_arg);
 *   - NAME_run(inputs, outputs, workspace) calling the kernels in order, and
 *     NAME_workspace_size().
 * Inside a kernel every shape and stride is a compile-time constant; loops
 * are emitted with cg_for_begin/cg_for_end and explicit <W x float> vectors
 * (W = CG_VW) where the kernel is vectorized, so that LLVM selects the
 * target's vector instructions (AVX2/FMA here) without relying on the
 * auto-vectorizer.
 *
 * Scratch. A kernel that needs temporary memory (im2col buffers, packed
 * panels) asks cg_scratch for it; scratch lives past the planned workspace
 * and is only valid during that kernel, so every kernel reuses it.
 */
#ifndef PARE_BACKEND_CG_H
#define PARE_BACKEND_CG_H

#include "backend/plan.h"
#include "ir/ir.h"

#include <llvm-c/Core.h>

#define CG_VW 8 /* floats per vector: one AVX2 register; LLVM splits or widens elsewhere */

#define EW_MAX_OPERANDS 16
#define CG_MAX_GROUP    32

/* One operand of an elementwise loop: a float tensor at `base` with a shape
 * that broadcasts to the output's, or a constant scalar. */
typedef struct ew_operand {
  LLVMValueRef base;
  pare_shape shape;
  int is_scalar;
  float scalar;
} ew_operand;

/* A fused group (emit_fused.c): elementwise members run in one loop, or in
 * the store epilogue of an anchor (Conv, Gemm, MatMul). Node indices are
 * the source graph's. */
typedef struct cg_group {
  int anchor; /* -1: a standalone elementwise group */
  int n_members;
  int members[CG_MAX_GROUP];
  int out; /* the value the group writes */
} cg_group;

/* A Conv, Gemm or MatMul whose input and weight arrive through ONNX QDQ
 * nodes (x -> QuantizeLinear -> DequantizeLinear, w_q -> DequantizeLinear)
 * and that runs on the int8 kernels of emit_int8.c: the planning graph's
 * node reads x and w_q directly and the Q/DQ nodes are dead. */
typedef struct cg_qdq {
  int active;
  int owned;   /* the planning node is a copy cg_fusion_free frees */
  int x;       /* the f32 value QuantizeLinear reads */
  int w_q;     /* the i8 constant weight */
  int w_scale; /* its f32 scales: one, or one per output channel */
  int w_axis;
  float x_scale;
  int x_zp; /* u8 zero point (an i8 one plus 128) */
} cg_qdq;

typedef struct cg_fusion {
  pare_graph plan_graph; /* shares the source's values; see emit_fused.c */
  int n_groups, n_fused;
  cg_group *groups;
  int *group_at; /* per node: the group whose kernel runs there, or -1 */
  cg_qdq *qdq;   /* per node: the int8 rewrite of an anchor (active), if any */
  int n_int8;
} cg_fusion;

/* A group's operands while its kernel is emitted. */
typedef struct cg_epi {
  const cg_group *group;
  int anchor_out;
  int n_ops;
  ew_operand ops[EW_MAX_OPERANDS];
  int op_value[EW_MAX_OPERANDS];  /* graph value, -1 for a BatchNorm constant */
  int64_t st[EW_MAX_OPERANDS][3]; /* epilogue strides in the [B, R, P] view */
  int bn_slot[CG_MAX_GROUP];      /* per member: first of its two BN operands */
  int failed;
} cg_epi;

typedef struct cg {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTypeRef f32, f64, i1, i8, i32, i64, ptr, vf, vd, void_t;

  const pare_graph *g;   /* the planning graph: kernels are its live nodes */
  const pare_graph *src; /* the graph being compiled (same values as g) */
  const pare_plan *plan;
  const char *prefix; /* symbol prefix (NAME_) */

  LLVMValueRef *const_global; /* per value: its constant global, once emitted */
  int64_t const_bytes;        /* bytes of all constant globals emitted */
  int64_t scratch_base;       /* workspace offset where kernel scratch starts */
  int64_t scratch_max;        /* largest scratch any kernel asked for */
  int64_t scratch_used;       /* scratch taken so far by the current kernel */

  /* The kernel being emitted. */
  LLVMValueRef fn;
  LLVMValueRef ws;     /* its workspace argument */
  int n_args;          /* pointer arguments after ws */
  int args_value[256]; /* graph value each argument carries */
  const pare_node *node;
  const cg_group *group; /* the current kernel's fused group, or NULL */
  cg_epi epi;            /* its operands, when an anchor emits an epilogue */
  int epi_active;
  int n_kernels;
  /* The target machine's features include AVX2: emitters may use x86 AVX2
   * intrinsics (else only generic IR, which LLVM lowers for any target). */
  int x86_avx2;
  /* VNNI (vpdpbusd on 256-bit vectors: AVX-VNNI, or AVX512-VNNI with VL). */
  int x86_vnni;
  const cg_qdq *qdq; /* the current kernel's int8 rewrite, or NULL */
} cg;

/* ------------------------------------------------------------- kernels */

/* An emitter: lowers node `k` of c->g into the current kernel function.
 * Called with the builder positioned in the kernel's entry block; it must
 * leave the builder in a block without terminator (cg_kernel_end adds
 * ret void). PARE_ERR with a reason (the caller names the node). */
typedef int (*cg_emit_fn)(cg *c, int k, pare_err *err);

typedef struct cg_op {
  const char *op;
  cg_emit_fn emit;
} cg_op;

/* Emitter tables, NULL-terminated, one per file (codegen.c scans them). */
extern const cg_op cg_ops_elementwise[]; /* emit_elementwise.c */
extern const cg_op cg_ops_linear[];      /* emit_linear.c: Conv, ConvTranspose, Gemm, MatMul */
extern const cg_op cg_ops_shape[];       /* emit_shape.c: data movement */
extern const cg_op cg_ops_reduce[];      /* emit_reduce.c: reductions, softmax, pooling, norms */
extern const cg_op cg_ops_misc[];        /* emit_misc.c: other dtypes, indexing, sorting, losses */
extern const cg_op cg_ops_int8[];        /* emit_int8.c: QuantizeLinear, DequantizeLinear */

const cg_op *cg_find_op(const char *op);

/* The pointer to value v's data inside the current kernel: the constant
 * global for constants, else the kernel argument carrying v (added on first
 * use). v must be a value of c->g. */
LLVMValueRef cg_value_ptr(cg *c, int v);
/* The constant global holding `t` (a tensor the emitter made, e.g. packed
 * weights); `name` is a readable suffix. Takes no ownership. */
LLVMValueRef cg_const_tensor(cg *c, const pare_tensor *t, const char *name);
/* Same for raw bytes of any element type. */
LLVMValueRef cg_const_bytes(cg *c, const void *data, size_t nbytes, const char *name);
/* A pointer to `bytes` of kernel-local scratch, 64-byte aligned; several
 * calls in one kernel get disjoint regions. */
LLVMValueRef cg_scratch(cg *c, int64_t bytes);

/* -------------------------------------------------------------- helpers */

/* Counted loop for (iv = start; iv < end; iv += step) with constant bounds.
 * cg_for_begin leaves the builder in the body and returns iv (i64). */
typedef struct cg_loop {
  LLVMBasicBlockRef header, body, exit;
  LLVMValueRef iv;
  int64_t step;
  LLVMBasicBlockRef latch_from; /* set by cg_for_end */
} cg_loop;

LLVMValueRef cg_for_begin(cg *c, cg_loop *l, int64_t start, int64_t end, int64_t step);
void cg_for_end(cg *c, cg_loop *l);

LLVMValueRef cg_i64(cg *c, int64_t v);
LLVMValueRef cg_f32c(cg *c, float v);                /* scalar float constant */
LLVMValueRef cg_splat(cg *c, LLVMValueRef s, int w); /* scalar to <w x float>; w==1: s */
LLVMValueRef cg_fconst(cg *c, float v, int w);       /* constant float or <w x float> */
LLVMTypeRef cg_ftype(cg *c, int w);                  /* float or <w x float> */

/* Address of element `idx` (i64 value) of type `elt` at base. */
LLVMValueRef cg_gep(cg *c, LLVMTypeRef elt, LLVMValueRef base, LLVMValueRef idx);
/* idx * scale + add, folding constants. */
LLVMValueRef cg_madd(cg *c, LLVMValueRef idx, int64_t scale, LLVMValueRef add);
LLVMValueRef cg_add(cg *c, LLVMValueRef a, LLVMValueRef b);
/* Loads/stores `w` floats at base[idx] (w==1: a scalar), unaligned. */
LLVMValueRef cg_loadf(cg *c, LLVMValueRef base, LLVMValueRef idx, int w);
void cg_storef(cg *c, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx, int w);

/* Calls the overloaded intrinsic `name` (e.g. "llvm.fmuladd") on args of type t. */
LLVMValueRef cg_intrin(cg *c, const char *name, LLVMTypeRef t, LLVMValueRef *args, int n);
LLVMValueRef cg_fma(cg *c, LLVMValueRef a, LLVMValueRef b, LLVMValueRef acc);
/* C fmaxf/fminf semantics (a NaN operand is ignored), as the reference
 * kernels use them; three instructions on x86. */
LLVMValueRef cg_fmax(cg *c, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_fmin(cg *c, LLVMValueRef a, LLVMValueRef b);
/* x < lo ? lo : x and x > hi ? hi : x: NaN passes through (numpy.clip, the
 * reference Clip); one maxps/minps on x86. */
LLVMValueRef cg_clamp_lo(cg *c, LLVMValueRef x, LLVMValueRef lo);
LLVMValueRef cg_clamp_hi(cg *c, LLVMValueRef x, LLVMValueRef hi);
/* exp(x) for float or <w x float>, vectorized (Cephes polynomial). */
LLVMValueRef cg_exp(cg *c, LLVMValueRef x, int w);
/* A scalar libm function float f(float) applied per lane. */
LLVMValueRef cg_libm1(cg *c, const char *fname, LLVMValueRef x, int w);
LLVMValueRef cg_libm2(cg *c, const char *fname, LLVMValueRef x, LLVMValueRef y, int w);
/* Horizontal sum of <w x float> to a float. */
LLVMValueRef cg_hsum(cg *c, LLVMValueRef v, int w);
LLVMValueRef cg_hmax(cg *c, LLVMValueRef v, int w);

/* A stack slot in the kernel's entry block (promoted to registers by mem2reg). */
LLVMValueRef cg_alloca(cg *c, LLVMTypeRef t);

/* memcpy / memset of constant size (libc calls for large sizes). */
void cg_memcpy(cg *c, LLVMValueRef dst, LLVMValueRef src, int64_t bytes);
/* Copies / zeroes n floats with inline vector moves: for the many short
 * rows of image copies, where a libc call per row costs more than the copy. */
void cg_copy_floats(cg *c, LLVMValueRef dst, LLVMValueRef src, int64_t n);
void cg_zero_floats(cg *c, LLVMValueRef dst, int64_t n);
void cg_memset0(cg *c, LLVMValueRef dst, int64_t bytes);

/* The static shape of value v and its element count. */
const pare_shape *cg_shape(cg *c, int v);
int64_t cg_numel(cg *c, int v);
/* Constant data of value v, or NULL. */
const pare_tensor *cg_const(cg *c, int v);

#endif /* PARE_BACKEND_CG_H */
