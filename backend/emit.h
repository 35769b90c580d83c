/*
 * emit.h - pieces the kernel emitters share with each other (internal to
 * backend/): the elementwise loop builder and the GEMM microkernel.
 */
#ifndef PARE_BACKEND_EMIT_H
#define PARE_BACKEND_EMIT_H

#include "backend/cg.h"

/* Computes one output vector (width w) from the operand vectors x[0..n). */
typedef LLVMValueRef (*ew_body_fn)(cg *c, LLVMValueRef *x, int n, int w, void *user);

void ew_operand_of_value(cg *c, int v, ew_operand *o);
/* Emits the loop nest writing out[i] = body(ops[i]...) with broadcasting. */
int ew_emit_loop(cg *c, const ew_operand *ops, int n, const ew_operand *out, ew_body_fn body,
                 void *user, pare_err *err);
/* x[0] * *(float *)user. */
LLVMValueRef ew_body_scale(cg *c, LLVMValueRef *x, int n, int w, void *user);
/* x[0] * x[1] + x[2]. */
LLVMValueRef ew_body_affine(cg *c, LLVMValueRef *x, int n, int w, void *user);
/* The arithmetic of elementwise node nd on operand vectors x (width w). */
int ew_apply(cg *c, const pare_node *nd, LLVMValueRef *x, int n, int w, LLVMValueRef *out,
             pare_err *err);
/* Plain copy of input 0 to output 0 (any dtype). */
int cg_emit_copy(cg *c, int k, pare_err *err);

/*
 * GEMM: C[m][n] = epilogue(sum_k A[m][k] * B[k][n] + bias) for constant M, N, K.
 * A is read as scalars broadcast across a vector (row stride lda, column
 * stride a_cs), B as vectors along n (row stride ldb, unit column stride),
 * C with row stride ldc. bias (may be NULL) is per row (bias_per_row) or per
 * column. A register-blocked microkernel of GEMM_MR rows by GEMM_NV vectors
 * keeps the accumulators in registers; tails use narrower variants.
 */
#define GEMM_MR 6
#define GEMM_NV 2
#define GEMM_NR (GEMM_NV * CG_VW) /* columns of one register block */

typedef struct gemm_desc {
  int64_t M, N, K;
  LLVMValueRef A, B, C, bias;
  int64_t lda, a_cs, ldb, ldc;
  int bias_per_row;
  int accumulate; /* C += product instead of C = product */
  int a_packed;   /* A is a gemm_pack_a panel array (lda, a_cs unused) */
  int b_packed;   /* B is a gemm_pack_b panel array (ldb unused) */
  float alpha;    /* product scale (0 is read as 1) */
  /* Fused epilogue: stored values go through cg_epilogue_apply with
   * coordinates (epi_b, epi_r0 + m, n). */
  int epilogue;
  LLVMValueRef epi_b, epi_r0, epi_p0; /* epi_p0 is added to the column */
} gemm_desc;

void gemm_emit(cg *c, const gemm_desc *d);
/* Packs A[m][k] = a[m*lda + k*a_cs] into GEMM_MR-row panels, [ceil(M/MR)][K][MR],
 * zero-padded; what a_packed kernels read. NULL + err on failure. */
pare_tensor *gemm_pack_a(const float *a, int64_t M, int64_t K, int64_t lda, int64_t a_cs,
                         pare_err *err);
/* Packs B[k][n] = b[k*ldb + n*b_cs] into GEMM_NR-column panels,
 * [ceil(N/NR)][K][NR], zero-padded; what b_packed kernels read. */
pare_tensor *gemm_pack_b(const float *b, int64_t K, int64_t N, int64_t ldb, int64_t b_cs,
                         pare_err *err);

/* QUANT / CODEBOOK weights (emit_quant.c): the kernels' form of a weight
 * viewed as W[r][k] (R output channels, reduction K), decoded a panel at
 * a time into scratch for the fp32 microkernel. */
typedef struct quant_w {
  const pare_encoding *e;
  int b_side; /* B panels [ceil(R/16)][K][16], else A rows [R][kp] */
  int kn;     /* the IR stores the weight as [K][R] */
  int64_t R, K, kp, panels;
  int bits, sym, codebook, scaled, per_tensor;
  int per_k;          /* CODEBOOK on the B side: one codebook per reduction index */
  int b_rows;         /* B side stored as channel rows [16 * panels][kp] (per-channel codebooks) */
  int64_t gs, groups; /* scale groups: gs consecutive k of a channel */
  LLVMValueRef packed, scales, zeros, table;
  int scales_f16, zeros_f16, table_f16;
  int64_t table_n;
  int outliers;
  LLVMValueRef o_ptr, o_off, o_val;
} quant_w;

/* Pixels per implicit-im2col panel of a conv with such a weight: the row
 * panels are decoded once per panel, so wider than GEMM_NR amortizes it. */
#define QUANT_PANEL_NR (4 * GEMM_NR)
/* If value v has a QUANT or CODEBOOK encoding the kernels take, emits its
 * kernel form (at the builder's position: the kernel entry) and returns 1;
 * 0: compile it dense; PARE_ERR on failure. */
int quant_weight(cg *c, int v, int b_side, int kn, int64_t R, int64_t K, quant_w *q, pare_err *err);
/* Decodes rows [r0, r0+nr) (A side) into dst [nr][kp]. */
void quant_decode_rows(cg *c, const quant_w *q, LLVMValueRef r0, int nr, LLVMValueRef dst);
/* Decodes column panel p (B side) into dst [K][16]. */
void quant_decode_panel(cg *c, const quant_w *q, LLVMValueRef p, LLVMValueRef dst);
/* A float (n == 1) or <n x float> parameter load from f32 or f16 data. */
LLVMValueRef quant_load_param(cg *c, LLVMValueRef base, int f16, LLVMValueRef idx, int n);
/* d with A = rows [row0, row0 + d->M) of q: per row panel, decode and
 * run the GEMM over all of B (d->A, a_packed, lda unused). */
void quant_gemm_a(cg *c, const gemm_desc *d, const quant_w *q, LLVMValueRef row0);
/* d with B = q: per column panel, decode and run the GEMM for all rows of
 * A, in `batches` batches (A and C advanced by a_stride, c_stride; epi_b
 * the batch). */
void quant_gemm_b(cg *c, const gemm_desc *d, const quant_w *q, int64_t batches, int64_t a_stride,
                  int64_t c_stride);

/* Fusion (emit_fused.c). cg_fuse groups g's nodes and builds the planning
 * graph; cg_emit_group emits a standalone group's kernel. An anchor's
 * emitter calls cg_epilogue_begin in its entry block and passes every value
 * it stores through cg_epilogue_apply with the element's [B, R, P]
 * coordinates (see the file comment of emit_fused.c). */
int cg_fuse(const pare_graph *g, int enable, cg_fusion *f, pare_err *err);
void cg_fusion_free(cg_fusion *f);
int cg_emit_group(cg *c, const cg_group *gr, pare_err *err);
int cg_epilogue_begin(cg *c, pare_err *err);
/* Int8 (emit_int8.c): whether anchor node k of g is a QDQ Conv/Gemm/MatMul
 * the int8 kernels run (fills *q), and those kernels. */
int cg_int8_match(const pare_graph *g, int k, cg_qdq *q);
int cg_emit_int8(cg *c, int k, pare_err *err);
LLVMValueRef cg_epilogue_apply(cg *c, LLVMValueRef v, LLVMValueRef b, LLVMValueRef r,
                               LLVMValueRef p, int w);

#endif /* PARE_BACKEND_EMIT_H */
