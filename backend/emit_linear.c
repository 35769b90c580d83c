/*
 * emit_linear.c - the heavy ops: a register-blocked GEMM microkernel and the
 * Conv, ConvTranspose, Gemm and MatMul kernels built on it.
 *
 * Conv lowers to GEMM: weights (constant) are packed at compile time into
 * GEMM_MR-row panels; the input is used in place for 1x1 stride-1 unpadded
 * convs, otherwise copied into a zero-padded scratch image and unfolded
 * (im2col) into a [C*KH*KW][OH*OW] scratch matrix. Depthwise convs get a
 * direct kernel over the padded image instead (im2col would only add
 * traffic). Bias and a Relu/Clip activation are applied as the accumulators
 * are stored. Weights with a SPARSE encoding (the prune pass) run on the
 * sparse kernels of "sparse GEMM" below when sparse enough, else on the
 * dense kernel over weights stored as bitmask + nonzeros ("compressed
 * dense weights"). QUANT and CODEBOOK weights keep their packed form and
 * are decoded a panel at a time by emit_quant.c.
 */
#include "backend/cg.h"
#include "backend/emit.h"
#include "ops/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ GEMM */

pare_tensor *gemm_pack_a(const float *a, int64_t M, int64_t K, int64_t lda, int64_t a_cs,
                         pare_err *err) {
  int64_t panels = (M + GEMM_MR - 1) / GEMM_MR;
  pare_shape s = {.rank = 1, .dims = {panels * K * GEMM_MR}};
  pare_tensor *t = pare_tensor_new(PARE_F32, &s, err);
  if (!t) return NULL;
  float *p = t->data;
  for (int64_t m = 0; m < M; m++)
    for (int64_t k = 0; k < K; k++)
      p[(m / GEMM_MR) * K * GEMM_MR + k * GEMM_MR + m % GEMM_MR] = a[m * lda + k * a_cs];
  return t;
}

static LLVMValueRef a_index(cg *c, const gemm_desc *d, LLVMValueRef m0, int r, LLVMValueRef k) {
  if (d->a_packed) {
    /* m0 is a multiple of MR: panel m0/MR starts at m0*K. */
    LLVMValueRef base = cg_madd(c, m0, d->K, cg_i64(c, r));
    return cg_madd(c, k, GEMM_MR, base);
  }
  LLVMValueRef row = cg_madd(c, m0, d->lda, cg_i64(c, r * d->lda));
  return cg_madd(c, k, d->a_cs, row);
}

/* Index of B[k][n0] (n0 is a multiple of GEMM_NR unless constant). */
static LLVMValueRef b_row(cg *c, const gemm_desc *d, LLVMValueRef k, LLVMValueRef n0) {
  if (!d->b_packed) return cg_madd(c, k, d->ldb, n0);
  if (LLVMIsConstant(n0)) {
    int64_t col = LLVMConstIntGetSExtValue(n0);
    int64_t base = col / GEMM_NR * GEMM_NR * d->K + col % GEMM_NR;
    return cg_madd(c, k, GEMM_NR, cg_i64(c, base));
  }
  return cg_madd(c, k, GEMM_NR, cg_madd(c, n0, d->K, cg_i64(c, 0)));
}

pare_tensor *gemm_pack_b(const float *b, int64_t K, int64_t N, int64_t ldb, int64_t b_cs,
                         pare_err *err) {
  int64_t panels = (N + GEMM_NR - 1) / GEMM_NR;
  pare_shape s = {.rank = 1, .dims = {panels * K * GEMM_NR}};
  pare_tensor *t = pare_tensor_new(PARE_F32, &s, err);
  if (!t) return NULL;
  float *p = t->data;
  for (int64_t k = 0; k < K; k++)
    for (int64_t n = 0; n < N; n++)
      p[(n / GEMM_NR) * K * GEMM_NR + k * GEMM_NR + n % GEMM_NR] = b[k * ldb + n * b_cs];
  return t;
}

/* One block of mr rows by nv vectors of width w at (m0, n0). */
static void gemm_block(cg *c, const gemm_desc *d, int mr, int nv, int w, LLVMValueRef m0,
                       LLVMValueRef n0) {
  LLVMTypeRef vt = cg_ftype(c, w);
  LLVMValueRef acc[GEMM_MR][8];
  for (int r = 0; r < mr; r++)
    for (int j = 0; j < nv; j++) {
      acc[r][j] = cg_alloca(c, vt);
      LLVMBuildStore(c->b, cg_fconst(c, 0.0f, w), acc[r][j]);
    }
  cg_loop kl;
  LLVMValueRef k = cg_for_begin(c, &kl, 0, d->K, 1);
  LLVMValueRef bv[8];
  LLVMValueRef brow = b_row(c, d, k, n0);
  for (int j = 0; j < nv; j++) bv[j] = cg_loadf(c, d->B, cg_add(c, brow, cg_i64(c, j * w)), w);
  for (int r = 0; r < mr; r++) {
    LLVMValueRef a = cg_splat(c, cg_loadf(c, d->A, a_index(c, d, m0, r, k), 1), w);
    for (int j = 0; j < nv; j++) {
      LLVMValueRef cur = LLVMBuildLoad2(c->b, vt, acc[r][j], "");
      LLVMBuildStore(c->b, cg_fma(c, a, bv[j], cur), acc[r][j]);
    }
  }
  cg_for_end(c, &kl);
  for (int r = 0; r < mr; r++) {
    LLVMValueRef m = cg_add(c, m0, cg_i64(c, r));
    LLVMValueRef crow = cg_madd(c, m, d->ldc, n0);
    LLVMValueRef rbias = NULL;
    if (d->bias && d->bias_per_row) rbias = cg_splat(c, cg_loadf(c, d->bias, m, 1), w);
    for (int j = 0; j < nv; j++) {
      LLVMValueRef idx = cg_add(c, crow, cg_i64(c, j * w));
      LLVMValueRef v = LLVMBuildLoad2(c->b, vt, acc[r][j], "");
      if (d->alpha != 0 && d->alpha != 1) v = LLVMBuildFMul(c->b, v, cg_fconst(c, d->alpha, w), "");
      if (rbias)
        v = LLVMBuildFAdd(c->b, v, rbias, "");
      else if (d->bias)
        v = LLVMBuildFAdd(c->b, v, cg_loadf(c, d->bias, cg_add(c, n0, cg_i64(c, j * w)), w), "");
      if (d->accumulate) v = LLVMBuildFAdd(c->b, v, cg_loadf(c, d->C, idx, w), "");
      if (d->epilogue)
        v = cg_epilogue_apply(c, v, d->epi_b, cg_add(c, d->epi_r0, m),
                              cg_add(c, d->epi_p0, cg_add(c, n0, cg_i64(c, j * w))), w);
      cg_storef(c, v, d->C, idx, w);
    }
  }
}

/* All rows for one column block: full MR blocks in a loop, then the tail. */
static void gemm_rows(cg *c, const gemm_desc *d, int nv, int w, LLVMValueRef n0) {
  int64_t m_full = d->M / GEMM_MR * GEMM_MR;
  if (m_full == GEMM_MR) {
    gemm_block(c, d, GEMM_MR, nv, w, cg_i64(c, 0), n0);
  } else if (m_full > 0) {
    cg_loop ml;
    LLVMValueRef m0 = cg_for_begin(c, &ml, 0, m_full, GEMM_MR);
    gemm_block(c, d, GEMM_MR, nv, w, m0, n0);
    cg_for_end(c, &ml);
  }
  if (d->M > m_full) gemm_block(c, d, (int)(d->M - m_full), nv, w, cg_i64(c, m_full), n0);
}

void gemm_emit(cg *c, const gemm_desc *d) {
  const int64_t nr = GEMM_NR;
  int64_t n_full = d->N / nr * nr;
  if (n_full == nr) {
    gemm_rows(c, d, GEMM_NV, CG_VW, cg_i64(c, 0));
  } else if (n_full > 0) {
    cg_loop nl;
    LLVMValueRef n0 = cg_for_begin(c, &nl, 0, n_full, nr);
    gemm_rows(c, d, GEMM_NV, CG_VW, n0);
    cg_for_end(c, &nl);
  }
  int64_t rest = d->N - n_full;
  int nvec = (int)(rest / CG_VW);
  if (nvec > 0) gemm_rows(c, d, nvec, CG_VW, cg_i64(c, n_full));
  int tail = (int)(rest % CG_VW);
  if (tail > 0) gemm_rows(c, d, tail, 1, cg_i64(c, n_full + (int64_t)nvec * CG_VW));
}

/* ---------------------------------------------------------- sparse GEMM */

/*
 * Weights with a SPARSE encoding (ir.h: CSR over [dim0, rest]) run on a
 * sparse kernel when their density is at most SPARSE_*_MAX_DENSITY; only
 * the CSR arrays reach the object file, never the dense tensor. The kernel
 * computes C[m][n] = sum over the nonzeros (k, v) of weight row m of
 * v * B[k][n]. Columns go in blocks of SPARSE_NB: B's block [K][NB] is an
 * L1-resident panel (copied from a strided B, laid out so by whoever built
 * B, or the padded image itself); per weight row the nonzeros are streamed
 * (index, value) and each adds v * B[k][n0..n0+NB) to vector accumulators,
 * SPARSE_UNROLL nonzeros at a time into as many accumulator sets (one row
 * alone is a dependency chain). A last partial block runs as whole vectors
 * over the zero-padded panel and stores only its valid lanes. The epilogue
 * (bias, fused elementwise ops) runs on the stored values as in the dense
 * path.
 *
 * Conv: the weight [CO][C/G*KH*KW] is the GEMM's A operand as stored. At
 * stride 1 the kernel reads B straight from the padded image (im2col row k
 * is the image shifted by a constant, so each column index is emitted as
 * that offset), an output row at a time; other strides go through the
 * im2col matrix (whole) or panels like the dense path. Gemm/MatMul: the
 * weight must be the left operand, so the product is computed transposed,
 * out^T = W * A^T, with W's rows the output features ([N][K]: Gemm with
 * transB=1 as stored, transposed at compile time from [K][N] otherwise)
 * and A^T built at run time in scratch, block by block ([M/NB][K][NB], 8x8
 * register transposes; Gemm transA=1 has A^T in place, copied per block).
 * Stores then go lane by lane through the epilogue with the output's
 * coordinates. Depthwise convs keep their direct dense kernel.
 *
 * The emitted form (sparse_w): row pointers i32, column indices (or image
 * offsets) i32 and values f32, in the orientation above, rows split in
 * reduction chunks and padded with zeros to whole SPARSE_UNROLL steps; a
 * few percent more than the encoding's bytes.
 *
 * Thresholds, measured on the MNIST CNN (AMD EPYC Zen 3, AVX2; per-kernel
 * CPU time, medians, every pruned layer forced sparse or dense): conv2
 * (3x3, 32->64, K=288, 14x14) breaks even near density 0.37 (0.5: 0.76x
 * the dense speed, 0.3: 1.7x, 0.1: 3.4x, 0.05: 5.3x); fc1 (Gemm
 * 3136->128, batch 100) near 0.45 (0.5: 0.9x, 0.3: 1.7x, 0.1: 2.2x,
 * 0.05: 2.6x). The density compared is that of the padded entries, so
 * rows of very few nonzeros (conv1: 3x3 over one channel) stay dense.
 * Above the thresholds the dense kernel runs, on the dense array stored
 * as bitmask + nonzeros and expanded at run time (see "compressed dense
 * weights" below).
 */
#define SPARSE_CONV_MAX_DENSITY 0.35
#define SPARSE_GEMM_MAX_DENSITY 0.40
#define SPARSE_NV               2 /* vectors per column block */
#define SPARSE_NB               (SPARSE_NV * CG_VW)
#define SPARSE_UNROLL           2   /* interleaved accumulator sets */
#define SPARSE_KC               384 /* reduction chunk: a [KC][NB] slice of B is 24 KiB */

/* The CSR as the kernels read it. With K > SPARSE_KC the reduction is cut
 * into chunks of SPARSE_KC and the nonzeros ordered (chunk, row, k): row
 * r's nonzeros of chunk h are [row_ptr[h*rows + r], row_ptr[h*rows + r + 1]),
 * so each pass over the rows touches one L1-sized slice of B. */
typedef struct sparse_w {
  int64_t rows, cols, nnz, chunks;
  LLVMValueRef row_ptr, col_idx, values; /* i32 [chunks*rows+1], i32 [nnz], f32 [nnz] */
} sparse_w;

typedef enum sparse_b {
  SPARSE_B_STRIDED = 0, /* B[k][n] at B + k*ldb + n: copied block by block into a panel */
  SPARSE_B_BLOCKED = 1, /* block-major [N/NB][K][NB], zero-padded (ldb unused) */
} sparse_b;

typedef struct sparse_desc {
  const sparse_w *w;
  int64_t M;         /* weight rows to compute */
  LLVMValueRef row0; /* first weight row (i64) */
  int64_t N;         /* columns of the product */
  LLVMValueRef B, C;
  sparse_b b_layout;
  int b_offsets; /* col_idx holds element offsets into the block's B, not k */
  int64_t ldb, ldc;
  int transposed;        /* C[n][m] at C + n*ldc + m instead of C + m*ldc + n */
  LLVMValueRef bias;     /* per weight row (indexed by m), or NULL */
  LLVMValueRef bias_col; /* transposed only: per column, or NULL */
  float alpha;           /* 0 is read as 1 */
  int accumulate;
  /* Epilogue coordinates: not transposed (epi_b, epi_r0 + m, epi_p0 + n);
   * transposed (epi_b, n, m), or (n / epi_rows, n % epi_rows, m) when
   * epi_rows > 0 (MatMul with a batch dim). */
  int epilogue;
  LLVMValueRef epi_b, epi_r0, epi_p0;
  int64_t epi_rows;
} sparse_desc;

/* for (iv = start; iv < end; iv += step) with run-time bounds; closed by
 * cg_for_end. After the loop, l->iv holds the first value not run. */
static LLVMValueRef rt_for_begin(cg *c, cg_loop *l, LLVMValueRef start, LLVMValueRef end,
                                 int64_t step) {
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->b);
  l->header = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "sloop");
  l->body = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "sbody");
  l->exit = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "sdone");
  l->step = step;
  LLVMBuildBr(c->b, l->header);
  LLVMPositionBuilderAtEnd(c->b, l->header);
  l->iv = LLVMBuildPhi(c->b, c->i64, "t");
  LLVMAddIncoming(l->iv, &start, &pre, 1);
  LLVMValueRef more = LLVMBuildICmp(c->b, LLVMIntSLT, l->iv, end, "");
  LLVMBuildCondBr(c->b, more, l->body, l->exit);
  LLVMPositionBuilderAtEnd(c->b, l->body);
  return l->iv;
}

static LLVMValueRef load_i32(cg *c, LLVMValueRef base, LLVMValueRef idx) {
  LLVMValueRef v = LLVMBuildLoad2(c->b, c->i32, cg_gep(c, c->i32, base, idx), "");
  LLVMSetAlignment(v, 4);
  return LLVMBuildSExt(c->b, v, c->i64, "");
}

/* acc[j] += v * panel[k*NB + j*8] for the nonzero at index t. */
static void sparse_step(cg *c, const sparse_desc *d, int nv, LLVMValueRef panel, LLVMValueRef t,
                        LLVMValueRef *acc) {
  LLVMTypeRef vt = cg_ftype(c, CG_VW);
  LLVMValueRef k = load_i32(c, d->w->col_idx, t);
  LLVMValueRef v = cg_splat(c, cg_loadf(c, d->w->values, t, 1), CG_VW);
  LLVMValueRef brow = d->b_offsets ? k : cg_madd(c, k, SPARSE_NB, cg_i64(c, 0));
  for (int j = 0; j < nv; j++) {
    LLVMValueRef b = cg_loadf(c, panel, cg_add(c, brow, cg_i64(c, j * CG_VW)), CG_VW);
    LLVMValueRef cur = LLVMBuildLoad2(c->b, vt, acc[j], "");
    LLVMBuildStore(c->b, cg_fma(c, v, b, cur), acc[j]);
  }
}

/* Can a partial vector run through the epilogue whole? Yes when no fused
 * operand is read along the columns (per-channel and scalar operands only):
 * its loads then stay in bounds whatever the lanes. */
static int epilogue_lanes_free(const cg *c) {
  if (!c->epi_active) return 1;
  for (int k = 0; k < c->epi.n_ops; k++)
    if (!c->epi.ops[k].is_scalar && c->epi.st[k][2] != 0) return 0;
  return 1;
}

/* Stores the first `valid` lanes of v at base[idx] in pieces of 4, 2 and 1
 * lanes (masked stores are slow on some x86 cores). */
static void store_lanes(cg *c, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx, int valid) {
  int at = 0;
  for (int piece = 4; piece >= 1; piece /= 2) {
    if (valid - at < piece) continue;
    LLVMValueRef lanes[4];
    for (int l = 0; l < piece; l++) lanes[l] = LLVMConstInt(c->i32, (unsigned)(at + l), 0);
    LLVMValueRef part = piece == 1
                            ? LLVMBuildExtractElement(c->b, v, lanes[0], "")
                            : LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(LLVMTypeOf(v)),
                                                     LLVMConstVector(lanes, (unsigned)piece), "");
    cg_storef(c, part, base, cg_add(c, idx, cg_i64(c, at)), piece);
    at += piece;
  }
}

/* Stores the finished vector v of weight row m, columns n..n+8, of which
 * the first `valid` are real. */
static void sparse_store(cg *c, const sparse_desc *d, LLVMValueRef v, int valid, LLVMValueRef m,
                         LLVMValueRef n) {
  const int w = CG_VW;
  if (d->alpha != 0 && d->alpha != 1) v = LLVMBuildFMul(c->b, v, cg_fconst(c, d->alpha, w), "");
  if (d->bias) v = LLVMBuildFAdd(c->b, v, cg_splat(c, cg_loadf(c, d->bias, m, 1), w), "");
  if (!d->transposed && (valid == w || (!d->accumulate && epilogue_lanes_free(c)))) {
    LLVMValueRef idx = cg_madd(c, m, d->ldc, n);
    if (d->accumulate) v = LLVMBuildFAdd(c->b, v, cg_loadf(c, d->C, idx, w), "");
    if (d->epilogue)
      v = cg_epilogue_apply(c, v, d->epi_b, cg_add(c, d->epi_r0, m), cg_add(c, d->epi_p0, n), w);
    if (valid == w)
      cg_storef(c, v, d->C, idx, w);
    else
      store_lanes(c, v, d->C, idx, valid);
    return;
  }
  /* Lane by lane: partial vectors, and transposed stores (column n + l of
   * the product is row n + l of the output). */
  for (int l = 0; l < valid; l++) {
    LLVMValueRef col = cg_add(c, n, cg_i64(c, l));
    LLVMValueRef s = LLVMBuildExtractElement(c->b, v, LLVMConstInt(c->i32, (unsigned)l, 0), "");
    LLVMValueRef idx = d->transposed ? cg_madd(c, col, d->ldc, m) : cg_madd(c, m, d->ldc, col);
    if (d->bias_col) s = LLVMBuildFAdd(c->b, s, cg_loadf(c, d->bias_col, col, 1), "");
    if (d->accumulate) s = LLVMBuildFAdd(c->b, s, cg_loadf(c, d->C, idx, 1), "");
    if (d->epilogue && !d->transposed) {
      s = cg_epilogue_apply(c, s, d->epi_b, cg_add(c, d->epi_r0, m), cg_add(c, d->epi_p0, col), 1);
    } else if (d->epilogue) {
      LLVMValueRef b = d->epi_b, r = col;
      if (d->epi_rows > 0) {
        b = LLVMBuildSDiv(c->b, col, cg_i64(c, d->epi_rows), "");
        r = LLVMBuildSRem(c->b, col, cg_i64(c, d->epi_rows), "");
      }
      s = cg_epilogue_apply(c, s, b, r, m, 1);
    }
    cg_storef(c, s, d->C, idx, 1);
  }
}

/* Every weight row for one block of nv vectors at column n0 whose B is
 * `panel` ([K][NB]); `valid` of its nv*8 columns are real. */
static void sparse_rows(cg *c, const sparse_desc *d, int nv, int valid, LLVMValueRef n0,
                        LLVMValueRef panel) {
  LLVMTypeRef vt = cg_ftype(c, CG_VW);
  enum { U = SPARSE_UNROLL };
  LLVMValueRef acc[U][SPARSE_NV];
  for (int u = 0; u < U; u++)
    for (int j = 0; j < nv; j++) acc[u][j] = cg_alloca(c, vt);
  /* Several chunks: partial sums of the block wait in a [M][NB] tile. */
  int64_t chunks = d->w->chunks;
  LLVMValueRef tile = chunks > 1 ? cg_scratch(c, d->M * SPARSE_NB * 4) : NULL;
  cg_loop hl, ml, tl;
  LLVMValueRef h = chunks > 1 ? cg_for_begin(c, &hl, 0, chunks, 1) : cg_i64(c, 0);
  LLVMValueRef m = cg_for_begin(c, &ml, 0, d->M, 1);
  LLVMValueRef row = cg_madd(c, h, d->w->rows, cg_add(c, d->row0, m));
  LLVMValueRef start = load_i32(c, d->w->row_ptr, row);
  LLVMValueRef end = load_i32(c, d->w->row_ptr, cg_add(c, row, cg_i64(c, 1)));
  for (int u = 0; u < U; u++)
    for (int j = 0; j < nv; j++) LLVMBuildStore(c->b, cg_fconst(c, 0.0f, CG_VW), acc[u][j]);
  /* U nonzeros at a time into U accumulator sets (runs are padded to a
   * multiple of U). */
  LLVMValueRef t = rt_for_begin(c, &tl, start, end, U);
  for (int u = 0; u < U; u++) sparse_step(c, d, nv, panel, cg_add(c, t, cg_i64(c, u)), acc[u]);
  cg_for_end(c, &tl);
  LLVMValueRef v[SPARSE_NV];
  for (int j = 0; j < nv; j++) {
    v[j] = LLVMBuildLoad2(c->b, vt, acc[0][j], "");
    for (int u = 1; u < U; u++)
      v[j] = LLVMBuildFAdd(c->b, v[j], LLVMBuildLoad2(c->b, vt, acc[u][j], ""), "");
  }
  LLVMBasicBlockRef done = NULL;
  if (chunks > 1) {
    /* Chunk 0 starts the tile, later ones add to it; the last stores. */
    LLVMValueRef first = LLVMBuildICmp(c->b, LLVMIntEQ, h, cg_i64(c, 0), "");
    LLVMValueRef last = LLVMBuildICmp(c->b, LLVMIntEQ, h, cg_i64(c, chunks - 1), "");
    LLVMValueRef trow = cg_madd(c, m, SPARSE_NB, cg_i64(c, 0));
    for (int j = 0; j < nv; j++) {
      LLVMValueRef prev = cg_loadf(c, tile, cg_add(c, trow, cg_i64(c, j * CG_VW)), CG_VW);
      v[j] = LLVMBuildSelect(c->b, first, v[j], LLVMBuildFAdd(c->b, v[j], prev, ""), "");
    }
    LLVMBasicBlockRef keep = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "partial");
    LLVMBasicBlockRef fin = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "final");
    done = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "stored");
    LLVMBuildCondBr(c->b, last, fin, keep);
    LLVMPositionBuilderAtEnd(c->b, keep);
    for (int j = 0; j < nv; j++)
      cg_storef(c, v[j], tile, cg_add(c, trow, cg_i64(c, j * CG_VW)), CG_VW);
    LLVMBuildBr(c->b, done);
    LLVMPositionBuilderAtEnd(c->b, fin);
  }
  for (int j = 0; j < nv; j++) {
    int lanes = valid - j * CG_VW;
    sparse_store(c, d, v[j], lanes < CG_VW ? lanes : CG_VW, m, cg_add(c, n0, cg_i64(c, j * CG_VW)));
  }
  if (done) {
    LLVMBuildBr(c->b, done);
    LLVMPositionBuilderAtEnd(c->b, done);
  }
  cg_for_end(c, &ml);
  if (chunks > 1) cg_for_end(c, &hl);
}

/* One column block: its panel, then the rows. */
static void sparse_block(cg *c, const sparse_desc *d, LLVMValueRef panel, int nv, int valid,
                         LLVMValueRef n0) {
  int64_t K = d->w->cols;
  if (d->b_layout == SPARSE_B_BLOCKED) {
    /* Block n0/NB starts at n0*K. */
    sparse_rows(c, d, nv, valid, n0, cg_gep(c, c->f32, d->B, cg_madd(c, n0, K, cg_i64(c, 0))));
    return;
  }
  cg_loop kl;
  LLVMValueRef k = cg_for_begin(c, &kl, 0, K, 1);
  LLVMValueRef dst = cg_gep(c, c->f32, panel, cg_madd(c, k, SPARSE_NB, cg_i64(c, 0)));
  cg_copy_floats(c, dst, cg_gep(c, c->f32, d->B, cg_madd(c, k, d->ldb, n0)), valid);
  if (valid < nv * CG_VW)
    cg_zero_floats(c, cg_gep(c, c->f32, dst, cg_i64(c, valid)), nv * CG_VW - valid);
  cg_for_end(c, &kl);
  sparse_rows(c, d, nv, valid, n0, panel);
}

static void sparse_emit(cg *c, const sparse_desc *d) {
  const int64_t nb = SPARSE_NB;
  LLVMValueRef panel =
      d->b_layout == SPARSE_B_BLOCKED ? NULL : cg_scratch(c, d->w->cols * SPARSE_NB * 4);
  int64_t n_full = d->N / nb * nb;
  if (n_full == nb) {
    sparse_block(c, d, panel, SPARSE_NV, (int)nb, cg_i64(c, 0));
  } else if (n_full > 0) {
    cg_loop nl;
    LLVMValueRef n0 = cg_for_begin(c, &nl, 0, n_full, nb);
    sparse_block(c, d, panel, SPARSE_NV, (int)nb, n0);
    cg_for_end(c, &nl);
  }
  int rest = (int)(d->N - n_full);
  if (rest > 0) sparse_block(c, d, panel, (rest + CG_VW - 1) / CG_VW, rest, cg_i64(c, n_full));
}

/* If value v has a SPARSE encoding the kernels can run at its density,
 * emits its CSR arrays into *sw (rows = output features, cols = the
 * reduction; `transpose`: the IR's [dim0, rest] is [cols, rows]; col_map,
 * if set, replaces each column index k by col_map[k]) and returns 1; 0 to
 * use the dense kernel; PARE_ERR on failure. */
static int sparse_weight(cg *c, int v, int transpose, const int32_t *col_map, double max_density,
                         sparse_w *sw, pare_err *err) {
  const pare_value *val = c->g->values[v];
  const pare_encoding *e = val->enc;
  const pare_shape *s = &val->shape;
  if (!e || e->kind != PARE_ENC_SPARSE || e->outliers || s->rank < 1 || !e->row_ptr ||
      !e->col_idx || !e->values || e->row_ptr->dtype != PARE_I64 || e->col_idx->dtype != PARE_I32 ||
      e->values->dtype != PARE_F32)
    return 0;
  int64_t numel = cg_numel(c, v), d0 = s->dims[0], rest = d0 ? numel / d0 : 0;
  const int64_t *rp = e->row_ptr->data;
  const int32_t *ci = e->col_idx->data;
  const float *vals = e->values->data;
  if (pare_tensor_numel(e->row_ptr) != d0 + 1 || numel == 0) return 0;
  int64_t nnz = rp[d0];
  if (nnz > INT32_MAX || (double)nnz > max_density * (double)numel) return 0;
  int64_t rows = transpose ? rest : d0, cols = transpose ? d0 : rest;
  int64_t chunks = (cols + SPARSE_KC - 1) / SPARSE_KC;
  if (chunks < 1) chunks = 1;
  /* Each (chunk, row) run is padded with zeros to a multiple of
   * SPARSE_UNROLL: at most chunks*rows*(U-1) more entries. */
  int64_t cap = nnz + chunks * rows * (SPARSE_UNROLL - 1);
  if (cap > INT32_MAX) return 0;
  sw->rows = rows, sw->cols = cols, sw->chunks = chunks;
  pare_shape rs = {.rank = 1, .dims = {chunks * rows + 1}}, ns = {.rank = 1, .dims = {cap}};
  pare_tensor *orp = pare_tensor_new(PARE_I32, &rs, err);
  pare_tensor *oci = orp ? pare_tensor_new(PARE_I32, &ns, err) : NULL;
  pare_tensor *ov = oci ? pare_tensor_new(PARE_F32, &ns, err) : NULL;
  /* The CSR in the kernel's orientation first (row pointers rrp, columns
   * rci, values rv), then reordered by chunk. */
  int64_t *rrp = ov ? calloc((size_t)rows + 1, sizeof *rrp) : NULL;
  int32_t *rci = rrp ? malloc((size_t)nnz * sizeof *rci + 1) : NULL;
  float *rv = rci ? malloc((size_t)nnz * sizeof *rv + 1) : NULL;
  int64_t *fill = rv ? malloc(((size_t)rows + 1) * sizeof *fill) : NULL;
  if (!fill) {
    pare_tensor_free(orp);
    pare_tensor_free(oci);
    pare_tensor_free(ov);
    free(rrp);
    free(rci);
    free(rv);
    return ov ? pare_errf(err, "out of memory") : PARE_ERR;
  }
  if (!transpose) {
    memcpy(rrp, rp, ((size_t)rows + 1) * sizeof *rrp);
    memcpy(rci, ci, (size_t)nnz * sizeof *rci);
    memcpy(rv, vals, (size_t)nnz * sizeof *rv);
    /* The IR does not require sorted columns: insertion-sort each row
     * (already sorted, as the prune pass writes them, costs one pass). */
    for (int64_t r = 0; r < rows; r++)
      for (int64_t i = rrp[r] + 1; i < rrp[r + 1]; i++)
        for (int64_t j = i; j > rrp[r] && rci[j - 1] > rci[j]; j--) {
          int32_t tc = rci[j];
          float tv = rv[j];
          rci[j] = rci[j - 1], rv[j] = rv[j - 1];
          rci[j - 1] = tc, rv[j - 1] = tv;
        }
  } else {
    /* CSR of the transpose: count per column, prefix sums, scatter (rows
     * in order, so each new row's columns come out sorted). */
    for (int64_t i = 0; i < nnz; i++) rrp[ci[i] + 1]++;
    for (int64_t r = 0; r < rows; r++) rrp[r + 1] += rrp[r];
    memcpy(fill, rrp, (size_t)rows * sizeof *fill);
    for (int64_t r = 0; r < d0; r++)
      for (int64_t i = rp[r]; i < rp[r + 1]; i++) {
        int64_t at = fill[ci[i]]++;
        rci[at] = (int32_t)r;
        rv[at] = vals[i];
      }
  }
  /* Chunk-major: each row's columns are sorted, so the part of a row in
   * chunk h is the run of columns in [h*KC, (h+1)*KC); fill[r] walks it. */
  int32_t *p = orp->data, *q = oci->data;
  float *x = ov->data;
  int64_t at = 0;
  memcpy(fill, rrp, ((size_t)rows + 1) * sizeof *fill);
  for (int64_t h = 0; h < chunks; h++)
    for (int64_t r = 0; r < rows; r++) {
      p[h * rows + r] = (int32_t)at;
      int64_t begin = at;
      for (; fill[r] < rrp[r + 1] && rci[fill[r]] < (h + 1) * SPARSE_KC; fill[r]++, at++) {
        q[at] = col_map ? col_map[rci[fill[r]]] : rci[fill[r]];
        x[at] = rv[fill[r]];
      }
      for (; (at - begin) % SPARSE_UNROLL; at++) q[at] = col_map ? col_map[0] : 0, x[at] = 0;
    }
  p[chunks * rows] = (int32_t)at;
  sw->nnz = at;
  /* Only the entries used reach the object. */
  oci->shape.dims[0] = ov->shape.dims[0] = at;
  oci->nbytes = ov->nbytes = (size_t)at * 4;
  free(rrp);
  free(rci);
  free(rv);
  free(fill);
  /* The kernel's work is the padded entries (which matters when rows hold
   * few nonzeros, e.g. a 3x3 conv over one channel). */
  if ((double)at > max_density * (double)numel) {
    pare_tensor_free(orp);
    pare_tensor_free(oci);
    pare_tensor_free(ov);
    return 0;
  }
  char name[256];
  snprintf(name, sizeof name, "%s.row_ptr", val->name);
  sw->row_ptr = cg_const_tensor(c, orp, name);
  snprintf(name, sizeof name, "%s.col_idx", val->name);
  sw->col_idx = cg_const_tensor(c, oci, name);
  snprintf(name, sizeof name, "%s.values", val->name);
  sw->values = cg_const_tensor(c, ov, name);
  pare_tensor_free(orp);
  pare_tensor_free(oci);
  pare_tensor_free(ov);
  return 1;
}

static LLVMValueRef shuffle8(cg *c, LLVMValueRef a, LLVMValueRef b, const int *mask) {
  LLVMValueRef m[8];
  for (int i = 0; i < 8; i++) m[i] = LLVMConstInt(c->i32, (unsigned)mask[i], 0);
  return LLVMBuildShuffleVector(c->b, a, b, LLVMConstVector(m, 8), "");
}

/* Transposes the 8x8 tile r[i][j] in place (r[j][i] after): unpack pairs,
 * combine pairs of pairs, swap 128-bit halves (24 shuffles). */
static void transpose8x8(cg *c, LLVMValueRef *r) {
  static const int lo[8] = {0, 8, 1, 9, 4, 12, 5, 13}, hi[8] = {2, 10, 3, 11, 6, 14, 7, 15};
  static const int lo2[8] = {0, 1, 8, 9, 4, 5, 12, 13}, hi2[8] = {2, 3, 10, 11, 6, 7, 14, 15};
  static const int low[8] = {0, 1, 2, 3, 8, 9, 10, 11}, high[8] = {4, 5, 6, 7, 12, 13, 14, 15};
  LLVMValueRef L[4], H[4], X[2][4];
  for (int p = 0; p < 4; p++) {
    L[p] = shuffle8(c, r[2 * p], r[2 * p + 1], lo);
    H[p] = shuffle8(c, r[2 * p], r[2 * p + 1], hi);
  }
  /* X[q][j]: rows 4q..4q+3 of columns j (low half) and j+4 (high half). */
  for (int q = 0; q < 2; q++) {
    X[q][0] = shuffle8(c, L[2 * q], L[2 * q + 1], lo2);
    X[q][1] = shuffle8(c, L[2 * q], L[2 * q + 1], hi2);
    X[q][2] = shuffle8(c, H[2 * q], H[2 * q + 1], lo2);
    X[q][3] = shuffle8(c, H[2 * q], H[2 * q + 1], hi2);
  }
  for (int j = 0; j < 4; j++) {
    r[j] = shuffle8(c, X[0][j], X[1][j], low);
    r[j + 4] = shuffle8(c, X[0][j], X[1][j], high);
  }
}

/* A^T for the sparse kernel in scratch, block-major [ceil(M/NB)][K][NB]
 * (SPARSE_B_BLOCKED) from A [M][K] with row stride lda; columns past M up
 * to the next multiple of 8 are zero. */
static LLVMValueRef transpose_to_blocks(cg *c, LLVMValueRef a, int64_t M, int64_t K, int64_t lda) {
  const int64_t nb = SPARSE_NB;
  int64_t blocks = (M + nb - 1) / nb;
  LLVMValueRef at = cg_scratch(c, blocks * K * nb * 4);
  int64_t k_full = K / CG_VW * CG_VW;
  for (int64_t m0 = 0; m0 < M; m0 += CG_VW) {
    int rows = M - m0 < CG_VW ? (int)(M - m0) : CG_VW;
    /* Row m0 + i of A^T's block: column (m0 % NB) + i of block m0 / NB. */
    LLVMValueRef blk = cg_gep(c, c->f32, at, cg_i64(c, m0 / nb * K * nb + m0 % nb));
    if (k_full > 0) {
      cg_loop kl;
      LLVMValueRef k0 = cg_for_begin(c, &kl, 0, k_full, CG_VW);
      LLVMValueRef r[8];
      for (int i = 0; i < CG_VW; i++)
        r[i] = i < rows ? cg_loadf(c, a, cg_madd(c, k0, 1, cg_i64(c, (m0 + i) * lda)), CG_VW)
                        : cg_fconst(c, 0.0f, CG_VW);
      transpose8x8(c, r);
      for (int j = 0; j < CG_VW; j++)
        cg_storef(c, r[j], blk, cg_madd(c, k0, nb, cg_i64(c, j * nb)), CG_VW);
      cg_for_end(c, &kl);
    }
    for (int64_t k = k_full; k < K; k++) {
      LLVMValueRef vec = LLVMConstNull(cg_ftype(c, CG_VW));
      for (int i = 0; i < rows; i++)
        vec = LLVMBuildInsertElement(c->b, vec, cg_loadf(c, a, cg_i64(c, (m0 + i) * lda + k), 1),
                                     LLVMConstInt(c->i32, (unsigned)i, 0), "");
      cg_storef(c, vec, blk, cg_i64(c, k * nb), CG_VW);
    }
  }
  return at;
}

/* -------------------------------------------- compressed dense weights */

/*
 * A SPARSE weight too dense for the sparse kernels runs on the dense
 * kernel, but is not stored dense: the array that kernel reads (its packed
 * panels, or [K][N]) is emitted as a bitmask, one bit per float (bit j of
 * byte i: float 8i + j is not +0.0), plus the floats whose bit is set, in
 * order, and MASKED_PAD spare zeros. At the start of the kernel the pair is
 * expanded into the packed array in kernel scratch and the dense kernel
 * runs on that, so its results are bit for bit those of the dense array
 * (zero is tested on the bit pattern: a -0.0 stays a value). Size:
 * ceil(numel/8) + 4*(nnz + MASKED_PAD) bytes (2.125 bytes a weight at
 * density 0.5), kept only when below the dense 4*numel (density < ~31/32).
 *
 * The expansion runs 8 floats per step. The mask byte gives the lanes, and
 * each enabled lane's value is the stream's next one: its position is the
 * popcount of the byte's lower bits (an exclusive prefix count); the stream
 * then advances by the byte's popcount. With AVX2: the 8 floats at the
 * stream position are loaded (the spare zeros cover the over-read) and
 * permuted into place by vpermps with indices from a 256-entry table (one
 * per byte, 2 KiB per module, emitted with the first layer that saves
 * more than that; disabled lanes' entries are negative, which selects
 * zero). Elsewhere (and for small layers before the table): a gather at
 * the prefix positions (vector popcount) and a select. Branch free;
 * llvm.masked.expandload says the same in one call, but without AVX-512
 * LLVM lowers it to a branch per lane, which at density 0.5 mispredicts
 * half of the time. Measured on the rec model (AMD EPYC Zen 3, AVX2; 1.24 M
 * nonzeros in 2.57 M pruned weights; medians of pare run --repeat 30,
 * configurations interleaved, run-to-run noise +-3 ms): against the
 * same pruned model with dense storage (23.3 / 25.4 ms in two sessions)
 * the table ran in 26.0 / 22.9 ms, i.e. within the noise (~0.3 ms of
 * work: 10 instructions per mask byte), the gather in 29.2 ms, expandload
 * in 35.1 ms; MASKED_EXPANDLOAD=1 builds the last for comparison.
 */
#define MASKED_PAD 7
#ifndef MASKED_EXPANDLOAD
#define MASKED_EXPANDLOAD 0
#endif

static LLVMValueRef i32_vec(cg *c, const int *v) {
  LLVMValueRef e[8];
  for (int i = 0; i < 8; i++) e[i] = LLVMConstInt(c->i32, (unsigned long long)v[i], 1);
  return LLVMConstVector(e, 8);
}

static LLVMValueRef call_intrin(cg *c, const char *name, LLVMTypeRef *tys, int n_tys,
                                LLVMValueRef *args, int n) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(c->mod, id, tys, (size_t)n_tys);
  LLVMTypeRef ft = LLVMIntrinsicGetType(c->ctx, id, tys, (size_t)n_tys);
  return LLVMBuildCall2(c->b, ft, fn, args, (unsigned)n, "");
}

/* The module's vpermps index table: entry b, lane j is the position of
 * lane j's value among the set bits of b, or -128 if bit j is clear. */
static LLVMValueRef masked_table(cg *c) {
  LLVMValueRef g = LLVMGetNamedGlobal(c->mod, "w.masked.table");
  if (g) return g;
  int8_t t[256 * 8];
  for (int b = 0; b < 256; b++)
    for (int j = 0, at = 0; j < 8; j++) t[b * 8 + j] = (int8_t)(b >> j & 1 ? at++ : -128);
  return cg_const_bytes(c, t, sizeof t, "masked.table");
}

/* Emits the expansion of the (mask, values) pair into dst: `bytes` mask
 * bytes, 8*bytes floats. */
static void masked_expand(cg *c, LLVMValueRef mask, LLVMValueRef vals, int64_t bytes,
                          LLVMValueRef dst, LLVMValueRef table) {
  static const int lane_bit[8] = {1, 2, 4, 8, 16, 32, 64, 128};
  static const int below[8] = {0, 1, 3, 7, 15, 31, 63, 127};
  LLVMTypeRef v8i32 = LLVMVectorType(c->i32, 8), vf = cg_ftype(c, 8);
  LLVMValueRef zero = cg_fconst(c, 0.0f, 8);
  LLVMValueRef off = cg_alloca(c, c->i64);
  LLVMBuildStore(c->b, cg_i64(c, 0), off);
  cg_loop l;
  LLVMValueRef i = cg_for_begin(c, &l, 0, bytes, 1);
  LLVMValueRef byte = LLVMBuildLoad2(c->b, c->i8, cg_gep(c, c->i8, mask, i), "");
  LLVMValueRef at = LLVMBuildLoad2(c->b, c->i64, off, "");
  LLVMValueRef src = cg_gep(c, c->f32, vals, at);
  LLVMValueRef v;
  if (table && !MASKED_EXPANDLOAD) {
    LLVMValueRef row = cg_madd(c, LLVMBuildZExt(c->b, byte, c->i64, ""), 8, cg_i64(c, 0));
    LLVMValueRef idx =
        LLVMBuildLoad2(c->b, LLVMVectorType(c->i8, 8), cg_gep(c, c->i8, table, row), "");
    LLVMSetAlignment(idx, 1);
    idx = LLVMBuildSExt(c->b, idx, v8i32, "");
    LLVMValueRef args[2] = {cg_loadf(c, src, cg_i64(c, 0), 8), idx};
    v = call_intrin(c, "llvm.x86.avx2.permps", NULL, 0, args, 2);
    LLVMValueRef lanes = LLVMBuildICmp(c->b, LLVMIntSGE, idx, LLVMConstNull(v8i32), "");
    v = LLVMBuildSelect(c->b, lanes, v, zero, "");
  } else {
    LLVMValueRef b32 = LLVMBuildZExt(c->b, byte, c->i32, "");
    LLVMValueRef bv =
        LLVMBuildInsertElement(c->b, LLVMGetUndef(v8i32), b32, LLVMConstInt(c->i32, 0, 0), "");
    bv = LLVMBuildShuffleVector(c->b, bv, LLVMGetUndef(v8i32), LLVMConstNull(v8i32), "");
    LLVMValueRef lanes =
        LLVMBuildICmp(c->b, LLVMIntNE, LLVMBuildAnd(c->b, bv, i32_vec(c, lane_bit), ""),
                      LLVMConstNull(v8i32), "");
    if (MASKED_EXPANDLOAD) {
      LLVMValueRef args[3] = {src, lanes, zero};
      v = call_intrin(c, "llvm.masked.expandload", &vf, 1, args, 3);
    } else {
      /* All lanes load (a disabled lane's position is the next value's,
       * at most nnz): a constant mask, which LLVM lowers without branches
       * where it has no gather instruction. */
      LLVMValueRef low = LLVMBuildAnd(c->b, bv, i32_vec(c, below), "");
      LLVMValueRef pos = cg_intrin(c, "llvm.ctpop", v8i32, &low, 1);
      LLVMValueRef ptrs = LLVMBuildGEP2(c->b, c->f32, src, &pos, 1, "");
      LLVMTypeRef tys[2] = {vf, LLVMTypeOf(ptrs)};
      LLVMValueRef args[4] = {ptrs, LLVMConstInt(c->i32, 4, 0),
                              LLVMConstAllOnes(LLVMVectorType(c->i1, 8)), LLVMGetUndef(vf)};
      v = call_intrin(c, "llvm.masked.gather", tys, 2, args, 4);
      v = LLVMBuildSelect(c->b, lanes, v, zero, "");
    }
  }
  cg_storef(c, v, dst, cg_madd(c, i, 8, cg_i64(c, 0)), 8);
  LLVMValueRef cnt = cg_intrin(c, "llvm.ctpop", c->i8, &byte, 1);
  LLVMBuildStore(c->b, cg_add(c, at, LLVMBuildZExt(c->b, cnt, c->i64, "")), off);
  cg_for_end(c, &l);
}

/* The array t that the dense kernel reads for weight value v (t: v's data
 * as stored or rearranged, e.g. packed panels): a constant global, or for
 * a SPARSE-encoded v where that is smaller, the compressed pair above and
 * its expansion into scratch at the builder's position (the kernel's
 * entry: once per call). NULL + err on OOM. */
static LLVMValueRef dense_weight(cg *c, int v, const pare_tensor *t, const char *name,
                                 pare_err *err) {
  const pare_encoding *e = c->g->values[v]->enc;
  int64_t n = pare_tensor_numel(t);
  if (!e || e->kind != PARE_ENC_SPARSE || t->dtype != PARE_F32 || n == 0)
    return cg_const_tensor(c, t, name);
  const uint32_t *bits = t->data;
  int64_t nnz = 0, bytes = (n + 7) / 8;
  for (int64_t k = 0; k < n; k++) nnz += bits[k] != 0;
  int64_t saved = (int64_t)t->nbytes - (bytes + 4 * (nnz + MASKED_PAD));
  if (saved <= 0) return cg_const_tensor(c, t, name);
  /* The table's 2 KiB once per module: taken by the first layer that
   * saves more than that (smaller ones before it use the gather). */
  int table = c->x86_avx2 && (LLVMGetNamedGlobal(c->mod, "w.masked.table") || saved > 2048);
  uint8_t *mask = calloc((size_t)bytes, 1);
  uint32_t *vals = calloc((size_t)nnz + MASKED_PAD, 4);
  if (!mask || !vals) {
    free(mask);
    free(vals);
    pare_errf(err, "out of memory");
    return NULL;
  }
  for (int64_t k = 0, at = 0; k < n; k++)
    if (bits[k]) mask[k / 8] |= (uint8_t)(1u << (k % 8)), vals[at++] = bits[k];
  char gname[256];
  snprintf(gname, sizeof gname, "%s.mask", name);
  LLVMValueRef mg = cg_const_bytes(c, mask, (size_t)bytes, gname);
  snprintf(gname, sizeof gname, "%s.nonzeros", name);
  LLVMValueRef vg = cg_const_bytes(c, vals, ((size_t)nnz + MASKED_PAD) * 4, gname);
  free(mask);
  free(vals);
  LLVMValueRef dst = cg_scratch(c, bytes * 8 * 4);
  masked_expand(c, mg, vg, bytes, dst, table ? masked_table(c) : NULL);
  return dst;
}

/* --------------------------------------------------------- conv helpers */

typedef struct conv_geom {
  int64_t N, C, H, W;     /* input */
  int64_t CO, OH, OW;     /* output */
  int64_t KH, KW, G;      /* kernel, groups */
  int64_t sh, sw, dh, dw; /* strides, dilations */
  int64_t pt, pl, pb, pr; /* pads: top, left, bottom, right */
} conv_geom;

/* Reads the 1-D or 2-D conv geometry of node nd (input x, weight w, output y). */
static int conv_geometry(cg *c, const pare_node *nd, int transpose, conv_geom *g, pare_err *err) {
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *ws = cg_shape(c, nd->inputs[1]);
  const pare_shape *ys = cg_shape(c, nd->outputs[0]);
  if (xs->rank != 3 && xs->rank != 4)
    return pare_errf(err, "only 1-D and 2-D convolutions are compiled (input rank %d)", xs->rank);
  int two = xs->rank == 4;
  memset(g, 0, sizeof *g);
  g->N = xs->dims[0], g->C = xs->dims[1];
  g->H = two ? xs->dims[2] : 1, g->W = xs->dims[xs->rank - 1];
  g->CO = ys->dims[1], g->OH = two ? ys->dims[2] : 1, g->OW = ys->dims[ys->rank - 1];
  g->KH = two ? ws->dims[2] : 1, g->KW = ws->dims[ws->rank - 1];
  g->G = pare_attr_int(nd, "group", 1);
  const int64_t *v;
  int64_t n = pare_attr_ints(nd, "strides", &v);
  g->sh = n >= 2 ? v[0] : 1, g->sw = n >= 1 ? v[n - 1] : 1;
  n = pare_attr_ints(nd, "dilations", &v);
  g->dh = n >= 2 ? v[0] : 1, g->dw = n >= 1 ? v[n - 1] : 1;
  const char *ap = pare_attr_string(nd, "auto_pad", "NOTSET");
  n = pare_attr_ints(nd, "pads", &v);
  if (strcmp(ap, "NOTSET") == 0 && n == 2 * (xs->rank - 2)) {
    if (two)
      g->pt = v[0], g->pl = v[1], g->pb = v[2], g->pr = v[3];
    else
      g->pl = v[0], g->pr = v[1];
  } else if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
    int lower = ap[5] == 'L';
    int64_t in[2] = {g->H, g->W}, k[2] = {g->KH, g->KW}, s[2] = {g->sh, g->sw},
            dl[2] = {g->dh, g->dw}, out[2] = {g->OH, g->OW}, b[2], e[2];
    for (int a = 0; a < 2; a++) {
      int64_t total;
      if (transpose)
        total = s[a] * (in[a] - 1) + (k[a] - 1) * dl[a] + 1 - out[a];
      else
        total = (out[a] - 1) * s[a] + (k[a] - 1) * dl[a] + 1 - in[a];
      if (total < 0) total = 0;
      b[a] = lower ? total - total / 2 : total / 2;
      e[a] = total - b[a];
    }
    g->pt = b[0], g->pl = b[1], g->pb = e[0], g->pr = e[1];
  }
  if (g->G < 1 || g->C % g->G || g->CO % g->G) return pare_errf(err, "bad group count");
  if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1) return pare_errf(err, "bad strides");
  if (c->g->values[nd->inputs[0]]->dtype != PARE_F32)
    return pare_errf(err, "the backend compiles f32 convolutions only");
  return PARE_OK;
}

/* Copies `len` floats src[i*stride] to dst[i] for a constant stride; vector
 * loads deinterleaved with a shuffle for strides up to 4. The source may be
 * over-read by fewer than stride*CG_VW floats past its last element. */
static void strided_copy(cg *c, LLVMValueRef dst, LLVMValueRef src, int64_t len, int64_t stride) {
  if (stride == 1) {
    cg_copy_floats(c, dst, src, len);
    return;
  }
  int64_t vec_end = stride <= 4 ? len / CG_VW * CG_VW : 0;
  if (vec_end > 0) {
    LLVMTypeRef wide = LLVMVectorType(c->f32, (unsigned)(CG_VW * stride));
    LLVMValueRef mask[CG_VW];
    for (int i = 0; i < CG_VW; i++)
      mask[i] = LLVMConstInt(c->i32, (unsigned long long)(i * stride), 0);
    cg_loop l;
    LLVMValueRef i = cg_for_begin(c, &l, 0, vec_end, CG_VW);
    LLVMValueRef p = cg_gep(c, c->f32, src, cg_madd(c, i, stride, cg_i64(c, 0)));
    LLVMValueRef v = LLVMBuildLoad2(c->b, wide, p, "");
    LLVMSetAlignment(v, 4);
    v = LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(wide), LLVMConstVector(mask, CG_VW), "");
    cg_storef(c, v, dst, i, CG_VW);
    cg_for_end(c, &l);
  }
  if (len > vec_end) {
    cg_loop l;
    LLVMValueRef i = cg_for_begin(c, &l, vec_end, len, 1);
    LLVMValueRef v = cg_loadf(c, src, cg_madd(c, i, stride, cg_i64(c, 0)), 1);
    cg_storef(c, v, dst, i, 1);
    cg_for_end(c, &l);
  }
}

/* Copies channels [0, ch) of the image at src ([ch][H][W]) into a zeroed
 * padded image dst ([ch][Hp][Wp]). */
static void pad_image(cg *c, const conv_geom *g, int64_t ch, LLVMValueRef src, LLVMValueRef dst,
                      int64_t Hp, int64_t Wp) {
  /* Every byte of the padded image is written: scratch holds other
   * kernels' data from before. */
  cg_loop cl, hl;
  LLVMValueRef ci = cg_for_begin(c, &cl, 0, ch, 1);
  LLVMValueRef plane = cg_gep(c, c->f32, dst, cg_madd(c, ci, Hp * Wp, cg_i64(c, 0)));
  cg_zero_floats(c, plane, g->pt * Wp);
  cg_zero_floats(c, cg_gep(c, c->f32, plane, cg_i64(c, (g->pt + g->H) * Wp)), g->pb * Wp);
  LLVMValueRef h = cg_for_begin(c, &hl, 0, g->H, 1);
  LLVMValueRef row = cg_madd(c, ci, g->H, h);
  LLVMValueRef s = cg_gep(c, c->f32, src, cg_madd(c, row, g->W, cg_i64(c, 0)));
  LLVMValueRef d = cg_gep(c, c->f32, plane, cg_madd(c, h, Wp, cg_i64(c, g->pt * Wp)));
  cg_zero_floats(c, d, g->pl);
  cg_copy_floats(c, cg_gep(c, c->f32, d, cg_i64(c, g->pl)), s, g->W);
  cg_zero_floats(c, cg_gep(c, c->f32, d, cg_i64(c, g->pl + g->W)), g->pr);
  cg_for_end(c, &hl);
  cg_for_end(c, &cl);
}

/* im2col: col[(ci*KH + kh)*KW + kw][oh*OW + ow] = img[ci][oh*sh + kh*dh][ow*sw + kw*dw]
 * over a padded image of Hp x Wp. */
static void im2col(cg *c, const conv_geom *g, int64_t ch, LLVMValueRef img, int64_t Hp, int64_t Wp,
                   LLVMValueRef col) {
  int64_t P = g->OH * g->OW;
  cg_loop cl, khl, kwl, ohl;
  LLVMValueRef ci = cg_for_begin(c, &cl, 0, ch, 1);
  LLVMValueRef kh = cg_for_begin(c, &khl, 0, g->KH, 1);
  LLVMValueRef kw = cg_for_begin(c, &kwl, 0, g->KW, 1);
  LLVMValueRef row = cg_madd(c, cg_madd(c, ci, g->KH, kh), g->KW, kw);
  LLVMValueRef oh = cg_for_begin(c, &ohl, 0, g->OH, 1);
  LLVMValueRef ih = cg_madd(c, oh, g->sh, cg_madd(c, kh, g->dh, cg_i64(c, 0)));
  LLVMValueRef src_idx =
      cg_madd(c, cg_madd(c, ci, Hp, ih), Wp, cg_madd(c, kw, g->dw, cg_i64(c, 0)));
  LLVMValueRef dst_idx = cg_madd(c, row, P, cg_madd(c, oh, g->OW, cg_i64(c, 0)));
  strided_copy(c, cg_gep(c, c->f32, col, dst_idx), cg_gep(c, c->f32, img, src_idx), g->OW, g->sw);
  cg_for_end(c, &ohl);
  cg_for_end(c, &kwl);
  cg_for_end(c, &khl);
  cg_for_end(c, &cl);
}

static LLVMValueRef bias_ptr(cg *c, const pare_node *nd, int i, int64_t n, pare_err *err) {
  if (nd->n_inputs <= i || nd->inputs[i] < 0) return NULL;
  int v = nd->inputs[i];
  if (c->g->values[v]->dtype != PARE_F32 || cg_numel(c, v) != n) {
    pare_errf(err, "bias must be f32 with %lld elements", (long long)n);
    return NULL;
  }
  return cg_value_ptr(c, nd->inputs[i]);
}

/* ------------------------------------------------------------ depthwise */

/* One output channel per (input channel, multiplier): out[co][oh][ow] =
 * bias[co] + sum_kh,kw w[co][kh][kw] * pad[ci][oh*sh+kh*dh][ow*sw+kw*dw], with
 * ow vectorized (deinterleaving loads for strides 2..4). */
static int emit_depthwise(cg *c, const pare_node *nd, const conv_geom *g, const quant_w *q,
                          pare_err *err) {
  LLVMValueRef bias = bias_ptr(c, nd, 2, g->CO, err);
  if (nd->n_inputs > 2 && nd->inputs[2] >= 0 && !bias) return PARE_ERR;
  if (cg_epilogue_begin(c, err)) return PARE_ERR;
  int64_t Hp = g->H + g->pt + g->pb, Wp = g->W + g->pl + g->pr;
  int64_t mult = g->CO / g->C;
  /* Strided vector reads may run a few floats past a row: padded copy. */
  int padded = g->pt || g->pl || g->pb || g->pr || g->sw > 1;
  LLVMValueRef x = cg_value_ptr(c, nd->inputs[0]), y = cg_value_ptr(c, nd->outputs[0]);
  /* A QUANT/CODEBOOK weight: each channel's taps decoded once per image. */
  LLVMValueRef w = q ? cg_scratch(c, q->kp * 4) : cg_value_ptr(c, nd->inputs[1]);
  LLVMValueRef pad = padded ? cg_scratch(c, (Hp * Wp + 8 * CG_VW) * 4) : NULL;
  cg_loop nl, cl;
  LLVMValueRef n = cg_for_begin(c, &nl, 0, g->N, 1);
  LLVMValueRef ci = cg_for_begin(c, &cl, 0, g->C, 1);
  LLVMValueRef img_idx = cg_madd(c, cg_madd(c, n, g->C, ci), g->H * g->W, cg_i64(c, 0));
  LLVMValueRef img = cg_gep(c, c->f32, x, img_idx);
  if (padded) {
    pad_image(c, g, 1, img, pad, Hp, Wp);
    img = pad;
  }
  for (int64_t mi = 0; mi < mult; mi++) {
    LLVMValueRef co = cg_madd(c, ci, mult, cg_i64(c, mi));
    LLVMValueRef out =
        cg_gep(c, c->f32, y, cg_madd(c, cg_madd(c, n, g->CO, co), g->OH * g->OW, cg_i64(c, 0)));
    LLVMValueRef wbase = q ? cg_i64(c, 0) : cg_madd(c, co, g->KH * g->KW, cg_i64(c, 0));
    if (q) quant_decode_rows(c, q, co, 1, w);
    /* The channel's taps, loaded once. */
    LLVMValueRef taps[64];
    int ntaps = (int)(g->KH * g->KW);
    if (ntaps > 64) return pare_errf(err, "depthwise kernel larger than 64 taps");
    for (int t = 0; t < ntaps; t++) taps[t] = cg_loadf(c, w, cg_add(c, wbase, cg_i64(c, t)), 1);
    LLVMValueRef b = bias ? cg_loadf(c, bias, co, 1) : cg_f32c(c, 0.0f);
    cg_loop hl;
    LLVMValueRef oh = cg_for_begin(c, &hl, 0, g->OH, 1);
    int64_t vec_end = g->sw <= 4 ? g->OW / CG_VW * CG_VW : 0;
    for (int pass = 0; pass < 2; pass++) {
      int vw = pass == 0 ? CG_VW : 1;
      int64_t start = pass == 0 ? 0 : vec_end, end = pass == 0 ? vec_end : g->OW;
      if (end <= start) continue;
      cg_loop wl;
      LLVMValueRef ow = cg_for_begin(c, &wl, start, end, vw);
      LLVMValueRef acc = cg_splat(c, b, vw);
      for (int64_t kh = 0; kh < g->KH; kh++) {
        LLVMValueRef ih = cg_madd(c, oh, g->sh, cg_i64(c, kh * g->dh));
        LLVMValueRef rowi = cg_madd(c, ih, Wp, cg_madd(c, ow, g->sw, cg_i64(c, 0)));
        for (int64_t kw = 0; kw < g->KW; kw++) {
          LLVMValueRef idx = cg_add(c, rowi, cg_i64(c, kw * g->dw));
          LLVMValueRef v;
          if (vw == 1 || g->sw == 1) {
            v = cg_loadf(c, img, idx, vw);
          } else {
            LLVMTypeRef wide = LLVMVectorType(c->f32, (unsigned)(CG_VW * g->sw));
            LLVMValueRef mask[CG_VW];
            for (int i = 0; i < CG_VW; i++)
              mask[i] = LLVMConstInt(c->i32, (unsigned long long)(i * g->sw), 0);
            v = LLVMBuildLoad2(c->b, wide, cg_gep(c, c->f32, img, idx), "");
            LLVMSetAlignment(v, 4);
            v = LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(wide), LLVMConstVector(mask, CG_VW),
                                       "");
          }
          acc = cg_fma(c, cg_splat(c, taps[kh * g->KW + kw], vw), v, acc);
        }
      }
      LLVMValueRef p = cg_madd(c, oh, g->OW, ow);
      acc = cg_epilogue_apply(c, acc, n, co, p, vw);
      cg_storef(c, acc, out, p, vw);
      cg_for_end(c, &wl);
    }
    cg_for_end(c, &hl);
  }
  cg_for_end(c, &cl);
  cg_for_end(c, &nl);
  return PARE_OK;
}

/* Packs G groups of A[m][k] = w[g*M*K + m*lda + k*a_cs] into one constant of
 * per-group panel arrays (gemm_pack_a). NULL + err on failure. */
static LLVMValueRef pack_weights(cg *c, const pare_node *nd, const float *w, int64_t G, int64_t M,
                                 int64_t K, int64_t lda, int64_t a_cs, pare_err *err) {
  int64_t group_floats = (M + GEMM_MR - 1) / GEMM_MR * K * GEMM_MR;
  pare_shape ps = {.rank = 1, .dims = {group_floats * G}};
  pare_tensor *packed = pare_tensor_new(PARE_F32, &ps, err);
  if (!packed) return NULL;
  for (int64_t gi = 0; gi < G; gi++) {
    pare_tensor *one = gemm_pack_a(w + gi * M * K, M, K, lda, a_cs, err);
    if (!one) {
      pare_tensor_free(packed);
      return NULL;
    }
    memcpy((float *)packed->data + gi * group_floats, one->data, one->nbytes);
    pare_tensor_free(one);
  }
  LLVMValueRef g = dense_weight(c, nd->inputs[1], packed, c->g->values[nd->inputs[1]]->name, err);
  pare_tensor_free(packed);
  return g;
}

/* ----------------------------------------------------------------- Conv */

#define CONV_IM2COL_MAX_BYTES (256 << 10)

/* One conv lowered to GEMM, for batch image n and group gi. */
typedef struct conv_gemm {
  const conv_geom *g;
  int64_t Cg, COg, K, P, group_floats;
  LLVMValueRef A, x, y, bias, n, gi;
  int a_packed;
  const sparse_w *sp; /* the weight runs on the sparse kernel, or NULL */
  const quant_w *q;   /* QUANT/CODEBOOK weight decoded per row panel, or NULL */
} conv_gemm;

static void conv_gemm_desc(cg *c, const conv_gemm *cv, gemm_desc *d) {
  memset(d, 0, sizeof *d);
  d->M = cv->COg, d->K = cv->K;
  d->A = cv->A ? cg_gep(c, c->f32, cv->A, cg_madd(c, cv->gi, cv->group_floats, cg_i64(c, 0)))
               : NULL; /* the sparse kernel reads no A */
  d->a_packed = cv->a_packed;
  d->lda = cv->K, d->a_cs = 1;
  d->ldc = cv->P;
  d->bias =
      cv->bias ? cg_gep(c, c->f32, cv->bias, cg_madd(c, cv->gi, cv->COg, cg_i64(c, 0))) : NULL;
  d->bias_per_row = 1;
  d->epilogue = 1, d->epi_b = cv->n, d->epi_r0 = cg_madd(c, cv->gi, cv->COg, cg_i64(c, 0));
  d->epi_p0 = cg_i64(c, 0);
}

/* The sparse kernel over B [K][N] (layout and row stride ldb) into C (row
 * stride P), whose first pixel is p0. */
static void conv_sparse(cg *c, const conv_gemm *cv, LLVMValueRef B, sparse_b layout, int64_t N,
                        int64_t ldb, LLVMValueRef C, LLVMValueRef p0) {
  sparse_desc d;
  memset(&d, 0, sizeof d);
  d.w = cv->sp;
  d.M = cv->COg, d.row0 = cg_madd(c, cv->gi, cv->COg, cg_i64(c, 0));
  d.N = N;
  d.B = B, d.b_layout = layout, d.ldb = ldb;
  d.C = C, d.ldc = cv->P;
  d.bias = cv->bias ? cg_gep(c, c->f32, cv->bias, cg_madd(c, cv->gi, cv->COg, cg_i64(c, 0))) : NULL;
  d.epilogue = 1, d.epi_b = cv->n, d.epi_r0 = d.row0, d.epi_p0 = p0;
  sparse_emit(c, &d);
}

/* The group's input image; copied into a zero-padded scratch image when the
 * conv pads or strides (strided reads may run a few floats past a row). */
static LLVMValueRef conv_image(cg *c, const conv_gemm *cv, int64_t *Hp, int64_t *Wp) {
  const conv_geom *g = cv->g;
  LLVMValueRef idx =
      cg_madd(c, cg_madd(c, cv->n, g->G, cv->gi), cv->Cg * g->H * g->W, cg_i64(c, 0));
  LLVMValueRef img = cg_gep(c, c->f32, cv->x, idx);
  *Hp = g->H, *Wp = g->W;
  if (!(g->pt || g->pl || g->pb || g->pr || g->sw > 1)) return img;
  *Hp = g->H + g->pt + g->pb, *Wp = g->W + g->pl + g->pr;
  LLVMValueRef pad = cg_scratch(c, (cv->Cg * *Hp * *Wp + 8 * CG_VW) * 4);
  pad_image(c, g, cv->Cg, img, pad, *Hp, *Wp);
  return pad;
}

static LLVMValueRef conv_out(cg *c, const conv_gemm *cv) {
  LLVMValueRef idx = cg_madd(c, cg_madd(c, cv->n, cv->g->G, cv->gi), cv->COg * cv->P, cg_i64(c, 0));
  return cg_gep(c, c->f32, cv->y, idx);
}

/* im2col of the whole image into scratch (or the input itself for 1x1
 * stride-1 unpadded convs), then one GEMM. */
static void conv_whole(cg *c, conv_gemm *cv) {
  const conv_geom *g = cv->g;
  gemm_desc d;
  conv_gemm_desc(c, cv, &d);
  d.N = cv->P, d.ldb = cv->P;
  int direct =
      g->KH == 1 && g->KW == 1 && g->sh == 1 && g->sw == 1 && !g->pt && !g->pl && !g->pb && !g->pr;
  int64_t Hp, Wp;
  if (direct) {
    d.B = conv_image(c, cv, &Hp, &Wp);
  } else {
    LLVMValueRef col = cg_scratch(c, cv->K * cv->P * 4);
    LLVMValueRef img = conv_image(c, cv, &Hp, &Wp);
    im2col(c, g, cv->Cg, img, Hp, Wp, col);
    d.B = col;
  }
  d.C = conv_out(c, cv);
  if (cv->sp)
    conv_sparse(c, cv, d.B, SPARSE_B_STRIDED, cv->P, cv->P, d.C, cg_i64(c, 0));
  else if (cv->q)
    quant_gemm_a(c, &d, cv->q, cg_madd(c, cv->gi, cv->COg, cg_i64(c, 0)));
  else
    gemm_emit(c, &d);
}

/* Fills panel[k][0..width) (row stride ldp) with the im2col rows of output
 * pixels (oh, ow0..ow0+width) for every k = (ci*KH + kh)*KW + kw; columns
 * width..ldp are zeroed. */
static void pack_panel(cg *c, const conv_gemm *cv, LLVMValueRef img, int64_t Hp, int64_t Wp,
                       LLVMValueRef oh, LLVMValueRef ow0, int64_t width, int64_t ldp,
                       LLVMValueRef panel) {
  const conv_geom *g = cv->g;
  cg_loop cl;
  LLVMValueRef ci = cg_for_begin(c, &cl, 0, cv->Cg, 1);
  LLVMValueRef plane = cg_madd(c, ci, Hp * Wp, cg_madd(c, ow0, g->sw, cg_i64(c, 0)));
  LLVMValueRef krow = cg_madd(c, ci, g->KH * g->KW * ldp, cg_i64(c, 0));
  for (int64_t kh = 0; kh < g->KH; kh++) {
    LLVMValueRef ih = cg_madd(c, oh, g->sh, cg_i64(c, kh * g->dh));
    LLVMValueRef row = cg_madd(c, ih, Wp, plane);
    for (int64_t kw = 0; kw < g->KW; kw++) {
      LLVMValueRef src = cg_gep(c, c->f32, img, cg_add(c, row, cg_i64(c, kw * g->dw)));
      LLVMValueRef dst =
          cg_gep(c, c->f32, panel, cg_add(c, krow, cg_i64(c, (kh * g->KW + kw) * ldp)));
      strided_copy(c, dst, src, width, g->sw);
      if (ldp > width) cg_zero_floats(c, cg_gep(c, c->f32, dst, cg_i64(c, width)), ldp - width);
    }
  }
  cg_for_end(c, &cl);
}

/* Per output row, per GEMM_NR-pixel panel (SPARSE_NB for the sparse
 * kernel, whose panels are always NB floats wide): pack the panel's im2col
 * rows into an L1/L2-resident buffer and run every row block of the GEMM
 * on it. */
static void conv_panels(cg *c, conv_gemm *cv) {
  const conv_geom *g = cv->g;
  /* Decoded QUANT/CODEBOOK rows are reused over up to QUANT_PANEL_NR
   * pixels (while the panel stays within 256 KiB). */
  int64_t Hp, Wp, pw = cv->sp ? SPARSE_NB : cv->q ? QUANT_PANEL_NR : GEMM_NR;
  while (cv->q && pw > GEMM_NR && cv->K * pw * 4 > CONV_IM2COL_MAX_BYTES) pw /= 2;
  LLVMValueRef img = conv_image(c, cv, &Hp, &Wp);
  LLVMValueRef panel = cg_scratch(c, cv->K * pw * 4);
  LLVMValueRef out = conv_out(c, cv);
  int64_t ow_full = g->OW / pw * pw, tail = g->OW - ow_full;
  cg_loop hl, wl;
  LLVMValueRef oh = cg_for_begin(c, &hl, 0, g->OH, 1);
  for (int part = 0; part < 2; part++) {
    int64_t width = part == 0 ? pw : tail;
    if (width == 0 || (part == 0 && ow_full == 0)) continue;
    LLVMValueRef ow0 = part == 0 ? cg_for_begin(c, &wl, 0, ow_full, pw) : cg_i64(c, ow_full);
    pack_panel(c, cv, img, Hp, Wp, oh, ow0, width, cv->sp ? pw : width, panel);
    if (cv->sp) {
      LLVMValueRef p0 = cg_madd(c, oh, g->OW, ow0);
      conv_sparse(c, cv, panel, SPARSE_B_BLOCKED, width, pw, cg_gep(c, c->f32, out, p0), p0);
      if (part == 0) cg_for_end(c, &wl);
      continue;
    }
    gemm_desc d;
    conv_gemm_desc(c, cv, &d);
    d.N = width, d.B = panel, d.ldb = width;
    LLVMValueRef p0 = cg_madd(c, oh, g->OW, ow0);
    d.C = cg_gep(c, c->f32, out, p0);
    d.epi_p0 = p0;
    if (cv->q)
      quant_gemm_a(c, &d, cv->q, cg_madd(c, cv->gi, cv->COg, cg_i64(c, 0)));
    else
      gemm_emit(c, &d);
    if (part == 0) cg_for_end(c, &wl);
  }
  cg_for_end(c, &hl);
}

/* Stride 1, sparse: the im2col row of k = (ci*KH + kh)*KW + kw is the
 * padded image shifted by ci*Hp*Wp + kh*dh*Wp + kw*dw, so each nonzero's
 * column index becomes that offset and the kernel reads B straight from
 * the padded image, one output row at a time in SPARSE_NB-pixel blocks
 * (no im2col). NULL on OOM; images whose offsets would overflow i32 are
 * refused by the caller (direct_fits). */
static int direct_fits(const conv_geom *g, int64_t Cg) {
  return Cg * (g->H + g->pt + g->pb) * (g->W + g->pl + g->pr) + 64 <= INT32_MAX;
}

static int32_t *direct_offsets(const conv_geom *g, int64_t Cg) {
  int64_t Hp = g->H + g->pt + g->pb, Wp = g->W + g->pl + g->pr;
  int64_t K = Cg * g->KH * g->KW;
  int32_t *map = malloc((size_t)K * sizeof *map + 1);
  for (int64_t k = 0; map && k < K; k++) {
    int64_t ci = k / (g->KH * g->KW), kh = k / g->KW % g->KH, kw = k % g->KW;
    map[k] = (int32_t)(ci * Hp * Wp + kh * g->dh * Wp + kw * g->dw);
  }
  return map;
}

static int emit_conv_sparse_direct(cg *c, const pare_node *nd, const conv_geom *g,
                                   const sparse_w *sw, LLVMValueRef bias, pare_err *err) {
  if (cg_epilogue_begin(c, err)) return PARE_ERR;
  int64_t Cg = g->C / g->G, COg = g->CO / g->G, P = g->OH * g->OW;
  int64_t Hp = g->H + g->pt + g->pb, Wp = g->W + g->pl + g->pr;
  /* Vectors of a row's last block read up to 7 floats past the image. */
  LLVMValueRef pad = cg_scratch(c, (Cg * Hp * Wp + 64) * 4);
  LLVMValueRef x = cg_value_ptr(c, nd->inputs[0]), y = cg_value_ptr(c, nd->outputs[0]);
  cg_loop nl, gl, hl, wl;
  LLVMValueRef n = cg_for_begin(c, &nl, 0, g->N, 1);
  LLVMValueRef gi = g->G > 1 ? cg_for_begin(c, &gl, 0, g->G, 1) : cg_i64(c, 0);
  LLVMValueRef img = cg_madd(c, cg_madd(c, n, g->G, gi), Cg * g->H * g->W, cg_i64(c, 0));
  pad_image(c, g, Cg, cg_gep(c, c->f32, x, img), pad, Hp, Wp);
  sparse_desc d;
  memset(&d, 0, sizeof d);
  d.w = sw;
  d.M = COg, d.row0 = cg_madd(c, gi, COg, cg_i64(c, 0));
  d.b_layout = SPARSE_B_BLOCKED, d.b_offsets = 1;
  d.C = cg_gep(c, c->f32, y, cg_madd(c, cg_madd(c, n, g->G, gi), COg * P, cg_i64(c, 0)));
  d.ldc = P;
  d.bias = bias ? cg_gep(c, c->f32, bias, d.row0) : NULL;
  d.epilogue = 1, d.epi_b = n, d.epi_r0 = d.row0, d.epi_p0 = cg_i64(c, 0);
  LLVMValueRef oh = cg_for_begin(c, &hl, 0, g->OH, 1);
  int64_t ow_full = g->OW / SPARSE_NB * SPARSE_NB;
  int rest = (int)(g->OW - ow_full);
  for (int part = 0; part < 2; part++) {
    if (part == 0 && ow_full == 0) continue;
    if (part == 1 && rest == 0) continue;
    LLVMValueRef ow0 = part == 0 ? cg_for_begin(c, &wl, 0, ow_full, SPARSE_NB) : cg_i64(c, ow_full);
    LLVMValueRef panel = cg_gep(c, c->f32, pad, cg_madd(c, oh, Wp, ow0));
    int nv = part == 0 ? SPARSE_NV : (rest + CG_VW - 1) / CG_VW;
    sparse_rows(c, &d, nv, part == 0 ? SPARSE_NB : rest, cg_madd(c, oh, g->OW, ow0), panel);
    if (part == 0) cg_for_end(c, &wl);
  }
  cg_for_end(c, &hl);
  if (g->G > 1) cg_for_end(c, &gl);
  cg_for_end(c, &nl);
  return PARE_OK;
}

static int emit_conv(cg *c, int k, pare_err *err) {
  if (c->qdq) return cg_emit_int8(c, k, err); /* a QDQ layer: emit_int8.c */
  const pare_node *nd = c->g->nodes[k];
  conv_geom g;
  if (conv_geometry(c, nd, 0, &g, err)) return PARE_ERR;
  if (c->g->values[nd->inputs[1]]->dtype != PARE_F32) return pare_errf(err, "weights must be f32");
  const pare_tensor *wt = cg_const(c, nd->inputs[1]);
  int64_t Cg = g.C / g.G, COg = g.CO / g.G;
  quant_w qw;
  int quant = wt ? quant_weight(c, nd->inputs[1], 0, 0, g.CO, Cg * g.KH * g.KW, &qw, err) : 0;
  if (quant < 0) return PARE_ERR;
  if (g.G == g.C && Cg == 1 && g.KH * g.KW <= 64 && g.G > 1)
    return emit_depthwise(c, nd, &g, quant ? &qw : NULL, err);
  LLVMValueRef bias = bias_ptr(c, nd, 2, g.CO, err);
  if (nd->n_inputs > 2 && nd->inputs[2] >= 0 && !bias) return PARE_ERR;
  int64_t K = Cg * g.KH * g.KW, P = g.OH * g.OW;
  /* A sparse constant weight [CO][K] runs on the sparse kernel: straight
   * from the padded image at stride 1, else over im2col as stored. */
  sparse_w sw;
  int sparse = 0;
  if (quant) {
    /* decoded per row panel (emit_quant.c) */
  } else if (wt && g.sh == 1 && g.sw == 1 && direct_fits(&g, Cg)) {
    int32_t *map = direct_offsets(&g, Cg);
    if (!map) return pare_errf(err, "out of memory");
    sparse = sparse_weight(c, nd->inputs[1], 0, map, SPARSE_CONV_MAX_DENSITY, &sw, err);
    free(map);
    if (sparse > 0) return emit_conv_sparse_direct(c, nd, &g, &sw, bias, err);
  } else if (wt) {
    sparse = sparse_weight(c, nd->inputs[1], 0, NULL, SPARSE_CONV_MAX_DENSITY, &sw, err);
  }
  if (sparse < 0) return PARE_ERR;
  /* Constant weights [CO][K] are packed per group into MR-row panels; run-time
   * weights are read in place. */
  int64_t panels = (COg + GEMM_MR - 1) / GEMM_MR;
  int64_t group_floats = wt ? panels * K * GEMM_MR : COg * K;
  LLVMValueRef A = sparse || quant ? NULL
                   : wt            ? pack_weights(c, nd, wt->data, g.G, COg, K, K, 1, err)
                                   : cg_value_ptr(c, nd->inputs[1]);
  if (!A && !sparse && !quant) return PARE_ERR;

  if (cg_epilogue_begin(c, err)) return PARE_ERR;
  conv_gemm cv = {.g = &g,
                  .Cg = Cg,
                  .COg = COg,
                  .K = K,
                  .P = P,
                  .A = A,
                  .a_packed = wt != NULL,
                  .group_floats = group_floats,
                  .bias = bias,
                  .sp = sparse ? &sw : NULL,
                  .q = quant ? &qw : NULL};
  cv.x = cg_value_ptr(c, nd->inputs[0]), cv.y = cg_value_ptr(c, nd->outputs[0]);
  cg_loop nl, gl;
  cv.n = cg_for_begin(c, &nl, 0, g.N, 1);
  cv.gi = g.G > 1 ? cg_for_begin(c, &gl, 0, g.G, 1) : cg_i64(c, 0);
  /* A whole im2col matrix that stays in L2 is cheap; bigger ones are built
   * one GEMM_NR-pixel panel at a time (implicit im2col). */
  if (K * P * 4 <= CONV_IM2COL_MAX_BYTES)
    conv_whole(c, &cv);
  else
    conv_panels(c, &cv);
  if (g.G > 1) cg_for_end(c, &gl);
  cg_for_end(c, &nl);
  return PARE_OK;
}

/* -------------------------------------------------------- ConvTranspose */

/* col[co*KH*KW + kh*KW + kw][h*W + w] = sum_c W[c][co][kh][kw] x[c][h][w] by
 * GEMM, then col2im scatters col into the output and adds the bias. */
static int emit_conv_transpose(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  conv_geom g;
  if (conv_geometry(c, nd, 1, &g, err)) return PARE_ERR;
  if (c->g->values[nd->inputs[1]]->dtype != PARE_F32) return pare_errf(err, "weights must be f32");
  const pare_tensor *wt = cg_const(c, nd->inputs[1]);
  int64_t Cg = g.C / g.G, COg = g.CO / g.G, KK = g.KH * g.KW, HW = g.H * g.W;
  int64_t M = COg * KK;
  /* A[m][c] = W[gi*Cg + c][m], W viewed as [C][COg*KK]. */
  int64_t panels = (M + GEMM_MR - 1) / GEMM_MR;
  int64_t group_floats = wt ? panels * Cg * GEMM_MR : Cg * M;
  LLVMValueRef A =
      wt ? pack_weights(c, nd, wt->data, g.G, M, Cg, 1, M, err) : cg_value_ptr(c, nd->inputs[1]);
  if (!A) return PARE_ERR;
  LLVMValueRef bias = bias_ptr(c, nd, 2, g.CO, err);
  if (nd->n_inputs > 2 && nd->inputs[2] >= 0 && !bias) return PARE_ERR;
  LLVMValueRef x = cg_value_ptr(c, nd->inputs[0]), y = cg_value_ptr(c, nd->outputs[0]);
  LLVMValueRef col = cg_scratch(c, M * HW * 4);
  int64_t OP = g.OH * g.OW;
  cg_loop nl, gl;
  LLVMValueRef n = cg_for_begin(c, &nl, 0, g.N, 1);
  LLVMValueRef gi = cg_for_begin(c, &gl, 0, g.G, 1);
  gemm_desc d = {0};
  d.M = M, d.N = HW, d.K = Cg;
  d.A = cg_gep(c, c->f32, A, cg_madd(c, gi, group_floats, cg_i64(c, 0)));
  d.a_packed = wt != NULL;
  d.lda = 1, d.a_cs = M;
  d.B = cg_gep(c, c->f32, x, cg_madd(c, cg_madd(c, n, g.G, gi), Cg * HW, cg_i64(c, 0)));
  d.ldb = HW;
  d.C = col, d.ldc = HW;
  gemm_emit(c, &d);
  /* col2im into this group's output channels, starting from the bias. */
  LLVMValueRef out =
      cg_gep(c, c->f32, y, cg_madd(c, cg_madd(c, n, g.G, gi), COg * OP, cg_i64(c, 0)));
  cg_loop col_l, khl, kwl, hl, wl;
  LLVMValueRef co = cg_for_begin(c, &col_l, 0, COg, 1);
  LLVMValueRef b = bias ? cg_loadf(c, bias, cg_madd(c, gi, COg, co), 1) : cg_f32c(c, 0.0f);
  {
    cg_loop il;
    LLVMValueRef i = cg_for_begin(c, &il, 0, OP, 1);
    cg_storef(c, b, out, cg_madd(c, co, OP, i), 1);
    cg_for_end(c, &il);
  }
  LLVMValueRef kh = cg_for_begin(c, &khl, 0, g.KH, 1);
  LLVMValueRef kw = cg_for_begin(c, &kwl, 0, g.KW, 1);
  LLVMValueRef row = cg_madd(c, cg_madd(c, co, g.KH, kh), g.KW, kw);
  LLVMValueRef h = cg_for_begin(c, &hl, 0, g.H, 1);
  LLVMValueRef oh = cg_madd(c, h, g.sh, cg_madd(c, kh, g.dh, cg_i64(c, -g.pt)));
  LLVMValueRef w = cg_for_begin(c, &wl, 0, g.W, 1);
  LLVMValueRef ow = cg_madd(c, w, g.sw, cg_madd(c, kw, g.dw, cg_i64(c, -g.pl)));
  LLVMValueRef inb =
      LLVMBuildAnd(c->b,
                   LLVMBuildAnd(c->b, LLVMBuildICmp(c->b, LLVMIntSGE, oh, cg_i64(c, 0), ""),
                                LLVMBuildICmp(c->b, LLVMIntSLT, oh, cg_i64(c, g.OH), ""), ""),
                   LLVMBuildAnd(c->b, LLVMBuildICmp(c->b, LLVMIntSGE, ow, cg_i64(c, 0), ""),
                                LLVMBuildICmp(c->b, LLVMIntSLT, ow, cg_i64(c, g.OW), ""), ""),
                   "");
  LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "scatter");
  LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "next");
  LLVMBuildCondBr(c->b, inb, then, next);
  LLVMPositionBuilderAtEnd(c->b, then);
  LLVMValueRef oidx = cg_madd(c, co, OP, cg_madd(c, oh, g.OW, ow));
  LLVMValueRef v = cg_loadf(c, col, cg_madd(c, row, HW, cg_madd(c, h, g.W, w)), 1);
  cg_storef(c, LLVMBuildFAdd(c->b, cg_loadf(c, out, oidx, 1), v, ""), out, oidx, 1);
  LLVMBuildBr(c->b, next);
  LLVMPositionBuilderAtEnd(c->b, next);
  cg_for_end(c, &wl);
  cg_for_end(c, &hl);
  cg_for_end(c, &kwl);
  cg_for_end(c, &khl);
  cg_for_end(c, &col_l);
  cg_for_end(c, &gl);
  cg_for_end(c, &nl);
  return PARE_OK;
}

/* ----------------------------------------------------------------- Gemm */

/* Gemm's C (input 2) scaled by beta: a constant per column (N), per row (M)
 * or scalar becomes *bias (*per_row set for rows); anything else is written
 * to the output first (y = beta*C broadcast) and *accumulate set. */
static int gemm_c(cg *c, const pare_node *nd, int64_t M, int64_t N, float beta, LLVMValueRef *bias,
                  int *per_row_out, int *accumulate, pare_err *err) {
  *bias = NULL, *per_row_out = 0, *accumulate = 0;
  if (nd->n_inputs <= 2 || nd->inputs[2] < 0 || beta == 0) return PARE_OK;
  int cv = nd->inputs[2];
  const pare_shape *cs = cg_shape(c, cv);
  const pare_tensor *ct = cg_const(c, cv);
  int64_t cn = cg_numel(c, cv);
  int per_col = cs->dims[cs->rank - 1] == N && cn == N;
  int per_row = cs->rank == 2 && cs->dims[0] == M && cs->dims[1] == 1 && M > 1;
  if (ct && (per_col || per_row || cn == 1)) {
    pare_shape s = {.rank = 1, .dims = {per_row ? M : N}};
    pare_tensor *t = pare_tensor_new(PARE_F32, &s, err);
    if (!t) return PARE_ERR;
    for (int64_t i = 0; i < s.dims[0]; i++)
      ((float *)t->data)[i] = beta * (float)pare_tensor_get_f64(ct, cn == 1 ? 0 : i);
    *bias = cg_const_tensor(c, t, "gemm.bias");
    *per_row_out = per_row;
    pare_tensor_free(t);
    return PARE_OK;
  }
  /* General C: y = beta*C broadcast, then accumulate the product. */
  ew_operand ops[1], out;
  ew_operand_of_value(c, cv, &ops[0]);
  ew_operand_of_value(c, nd->outputs[0], &out);
  float b = beta;
  if (ew_emit_loop(c, ops, 1, &out, ew_body_scale, &b, err)) return PARE_ERR;
  *accumulate = 1;
  return PARE_OK;
}

/* The transposed product runs vectors along the M rows of A: with fewer
 * than 8 only M of the 8 lanes work, while the dense kernel's vectors run
 * along N whatever M, so the density must be M/8 times lower to pay. */
static double gemm_max_density(int64_t M) {
  return M >= CG_VW ? SPARSE_GEMM_MAX_DENSITY : SPARSE_GEMM_MAX_DENSITY * (double)M / CG_VW;
}

/* Gemm with a sparse constant B: out^T = W * op(A)^T (see "sparse GEMM"). */
static int emit_gemm_sparse(cg *c, const pare_node *nd, const sparse_w *sw, int64_t M, int64_t N,
                            int64_t K, int ta, float alpha, float beta, pare_err *err) {
  sparse_desc d;
  memset(&d, 0, sizeof d);
  d.w = sw, d.M = N, d.row0 = cg_i64(c, 0), d.alpha = alpha;
  LLVMValueRef a = cg_value_ptr(c, nd->inputs[0]);
  d.N = M;
  if (ta) {
    /* op(A)^T is A as stored, [K][M]. */
    d.B = a, d.b_layout = SPARSE_B_STRIDED, d.ldb = M;
  } else {
    d.B = transpose_to_blocks(c, a, M, K, K), d.b_layout = SPARSE_B_BLOCKED;
  }
  d.C = cg_value_ptr(c, nd->outputs[0]), d.ldc = N, d.transposed = 1;
  LLVMValueRef bias;
  int per_row;
  if (gemm_c(c, nd, M, N, beta, &bias, &per_row, &d.accumulate, err)) return PARE_ERR;
  /* The output's columns are the weight's rows. */
  if (per_row)
    d.bias_col = bias;
  else
    d.bias = bias;
  if (cg_epilogue_begin(c, err)) return PARE_ERR;
  d.epilogue = 1, d.epi_b = cg_i64(c, 0);
  sparse_emit(c, &d);
  return PARE_OK;
}

static int emit_gemm(cg *c, int k, pare_err *err) {
  if (c->qdq) return cg_emit_int8(c, k, err); /* a QDQ layer: emit_int8.c */
  const pare_node *nd = c->g->nodes[k];
  int ta = (int)pare_attr_int(nd, "transA", 0), tb = (int)pare_attr_int(nd, "transB", 0);
  float alpha = pare_attr_float(nd, "alpha", 1.0f), beta = pare_attr_float(nd, "beta", 1.0f);
  const pare_shape *as = cg_shape(c, nd->inputs[0]), *bs = cg_shape(c, nd->inputs[1]);
  if (as->rank != 2 || bs->rank != 2) return pare_errf(err, "Gemm needs 2-D inputs");
  for (int i = 0; i < 2; i++)
    if (c->g->values[nd->inputs[i]]->dtype != PARE_F32)
      return pare_errf(err, "the backend compiles f32 Gemm only");
  int64_t M = ta ? as->dims[1] : as->dims[0], K = ta ? as->dims[0] : as->dims[1];
  int64_t N = tb ? bs->dims[0] : bs->dims[1];
  gemm_desc d = {0};
  d.M = M, d.N = N, d.K = K, d.alpha = alpha;
  const pare_tensor *bt = cg_const(c, nd->inputs[1]);
  if (bt && !cg_const(c, nd->inputs[0])) {
    /* W as [N][K]: B itself with transB, its transpose without. */
    sparse_w sw;
    int sparse = sparse_weight(c, nd->inputs[1], !tb, NULL, gemm_max_density(M), &sw, err);
    if (sparse < 0) return PARE_ERR;
    if (sparse) return emit_gemm_sparse(c, nd, &sw, M, N, K, ta, alpha, beta, err);
  }
  /* A QUANT/CODEBOOK B: decoded per 16-column panel (emit_quant.c). */
  quant_w qw;
  int quant = bt && !cg_const(c, nd->inputs[0])
                  ? quant_weight(c, nd->inputs[1], 1, !tb, N, K, &qw, err)
                  : 0;
  if (quant < 0) return PARE_ERR;
  LLVMValueRef y = cg_value_ptr(c, nd->outputs[0]);
  if (quant) {
    d.B = NULL;
  } else if (bt) {
    /* Constant B: stored [K][N] (transposed at compile time when transB). */
    pare_shape s = {.rank = 2, .dims = {K, N}};
    pare_tensor *t = pare_tensor_new(PARE_F32, &s, err);
    if (!t) return PARE_ERR;
    const float *src = bt->data;
    float *dst = t->data;
    for (int64_t kk = 0; kk < K; kk++)
      for (int64_t n = 0; n < N; n++) dst[kk * N + n] = tb ? src[n * K + kk] : src[kk * N + n];
    d.B = dense_weight(c, nd->inputs[1], t, c->g->values[nd->inputs[1]]->name, err);
    pare_tensor_free(t);
    if (!d.B) return PARE_ERR;
  } else if (tb) {
    /* Run-time B^T: transpose into scratch first. */
    LLVMValueRef src = cg_value_ptr(c, nd->inputs[1]);
    d.B = cg_scratch(c, K * N * 4);
    cg_loop kl, nl;
    LLVMValueRef kk = cg_for_begin(c, &kl, 0, K, 1);
    LLVMValueRef n = cg_for_begin(c, &nl, 0, N, 1);
    cg_storef(c, cg_loadf(c, src, cg_madd(c, n, K, kk), 1), d.B, cg_madd(c, kk, N, n), 1);
    cg_for_end(c, &nl);
    cg_for_end(c, &kl);
  } else {
    d.B = cg_value_ptr(c, nd->inputs[1]);
  }
  d.ldb = N;
  const pare_tensor *at = cg_const(c, nd->inputs[0]);
  if (at) {
    pare_tensor *p = gemm_pack_a(at->data, M, K, ta ? 1 : K, ta ? M : 1, err);
    if (!p) return PARE_ERR;
    d.A = dense_weight(c, nd->inputs[0], p, "gemm.a", err);
    d.a_packed = 1;
    pare_tensor_free(p);
    if (!d.A) return PARE_ERR;
  } else {
    d.A = cg_value_ptr(c, nd->inputs[0]);
    d.lda = ta ? 1 : K, d.a_cs = ta ? M : 1;
  }
  d.C = y, d.ldc = N;
  if (gemm_c(c, nd, M, N, beta, &d.bias, &d.bias_per_row, &d.accumulate, err)) return PARE_ERR;
  if (cg_epilogue_begin(c, err)) return PARE_ERR;
  d.epilogue = 1, d.epi_b = cg_i64(c, 0), d.epi_r0 = cg_i64(c, 0), d.epi_p0 = cg_i64(c, 0);
  if (quant)
    quant_gemm_b(c, &d, &qw, 1, 0, 0);
  else
    gemm_emit(c, &d);
  return PARE_OK;
}

LLVMValueRef ew_body_scale(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  (void)n;
  float s = *(const float *)user;
  return s == 1.0f ? x[0] : LLVMBuildFMul(c->b, x[0], cg_fconst(c, s, w), "");
}

/* --------------------------------------------------------------- MatMul */

static int emit_matmul(cg *c, int k, pare_err *err) {
  if (c->qdq) return cg_emit_int8(c, k, err); /* a QDQ layer: emit_int8.c */
  const pare_node *nd = c->g->nodes[k];
  pare_shape as = *cg_shape(c, nd->inputs[0]), bs = *cg_shape(c, nd->inputs[1]);
  for (int i = 0; i < 2; i++)
    if (c->g->values[nd->inputs[i]]->dtype != PARE_F32)
      return pare_errf(err, "the backend compiles f32 MatMul only");
  if (as.rank == 1) as = (pare_shape){.rank = 2, .dims = {1, as.dims[0]}};
  if (bs.rank == 1) bs = (pare_shape){.rank = 2, .dims = {bs.dims[0], 1}};
  int64_t M = as.dims[as.rank - 2], K = as.dims[as.rank - 1], N = bs.dims[bs.rank - 1];
  /* Batch dims broadcast like elementwise ops. */
  pare_shape ab = {.rank = as.rank - 2}, bb = {.rank = bs.rank - 2}, ob;
  memcpy(ab.dims, as.dims, sizeof(int64_t) * (size_t)ab.rank);
  memcpy(bb.dims, bs.dims, sizeof(int64_t) * (size_t)bb.rank);
  if (pare_broadcast_shape(&ab, &bb, &ob, err)) return PARE_ERR;
  int64_t sa[PARE_MAX_RANK] = {0}, sb[PARE_MAX_RANK] = {0}, so[PARE_MAX_RANK] = {0};
  int64_t acc_a = M * K, acc_b = K * N, acc_o = M * N;
  for (int d = ob.rank - 1; d >= 0; d--) {
    int da = d - (ob.rank - ab.rank), db = d - (ob.rank - bb.rank);
    if (da >= 0 && ab.dims[da] != 1) sa[d] = acc_a, acc_a *= ab.dims[da];
    if (db >= 0 && bb.dims[db] != 1) sb[d] = acc_b, acc_b *= bb.dims[db];
    so[d] = acc_o, acc_o *= ob.dims[d];
  }
  /* A sparse constant 2-D B [K][N]: out^T = B^T * A^T over A flattened to
   * [rows][K] (see "sparse GEMM"). */
  if (cg_shape(c, nd->inputs[1])->rank == 2 && cg_const(c, nd->inputs[1]) &&
      !cg_const(c, nd->inputs[0])) {
    sparse_w sw;
    int sparse = sparse_weight(c, nd->inputs[1], 1, NULL,
                               gemm_max_density(cg_numel(c, nd->inputs[0]) / K), &sw, err);
    if (sparse < 0) return PARE_ERR;
    if (sparse) {
      int64_t rows = cg_numel(c, nd->inputs[0]) / K;
      sparse_desc d;
      memset(&d, 0, sizeof d);
      d.w = &sw, d.M = N, d.row0 = cg_i64(c, 0), d.N = rows;
      d.B = transpose_to_blocks(c, cg_value_ptr(c, nd->inputs[0]), rows, K, K);
      d.b_layout = SPARSE_B_BLOCKED;
      d.C = cg_value_ptr(c, nd->outputs[0]), d.ldc = N, d.transposed = 1;
      if (cg_epilogue_begin(c, err)) return PARE_ERR;
      d.epilogue = 1, d.epi_b = cg_i64(c, 0), d.epi_rows = ob.rank > 0 ? M : 0;
      sparse_emit(c, &d);
      return PARE_OK;
    }
  }
  /* A QUANT/CODEBOOK 2-D B with A holding every batch dim: decoded per
   * 16-column panel, each panel run for all batches (emit_quant.c). */
  if (bs.rank == 2 && cg_shape(c, nd->inputs[1])->rank == 2 && cg_const(c, nd->inputs[1]) &&
      !cg_const(c, nd->inputs[0]) && ab.rank == ob.rank) {
    quant_w qw;
    int quant = quant_weight(c, nd->inputs[1], 1, 1, N, K, &qw, err);
    if (quant < 0) return PARE_ERR;
    if (quant) {
      int64_t batches = 1;
      for (int i = 0; i < ob.rank; i++) batches *= ob.dims[i];
      gemm_desc d = {0};
      d.M = M, d.N = N, d.K = K;
      d.A = cg_value_ptr(c, nd->inputs[0]), d.lda = K, d.a_cs = 1;
      d.C = cg_value_ptr(c, nd->outputs[0]), d.ldc = N;
      if (cg_epilogue_begin(c, err)) return PARE_ERR;
      d.epilogue = 1, d.epi_b = cg_i64(c, 0), d.epi_r0 = cg_i64(c, 0), d.epi_p0 = cg_i64(c, 0);
      quant_gemm_b(c, &d, &qw, batches, M * K, M * N);
      return PARE_OK;
    }
  }
  /* A constant B as stored, compressed when SPARSE-encoded (unless another
   * kernel already emitted it dense). */
  int bv = nd->inputs[1];
  LLVMValueRef A = cg_value_ptr(c, nd->inputs[0]);
  LLVMValueRef B = cg_const(c, bv) && c->g->values[bv]->enc && !c->const_global[bv]
                       ? dense_weight(c, bv, cg_const(c, bv), c->g->values[bv]->name, err)
                       : cg_value_ptr(c, bv);
  if (!B) return PARE_ERR;
  LLVMValueRef Y = cg_value_ptr(c, nd->outputs[0]);
  if (cg_epilogue_begin(c, err)) return PARE_ERR;
  LLVMValueRef oa = cg_i64(c, 0), obv = cg_i64(c, 0), oo = cg_i64(c, 0), batch = cg_i64(c, 0);
  cg_loop loops[PARE_MAX_RANK];
  for (int d = 0; d < ob.rank; d++) {
    LLVMValueRef i = cg_for_begin(c, &loops[d], 0, ob.dims[d], 1);
    batch = i; /* fusion anchors MatMul only with at most one batch dim */
    oa = cg_madd(c, i, sa[d], oa);
    obv = cg_madd(c, i, sb[d], obv);
    oo = cg_madd(c, i, so[d], oo);
  }
  gemm_desc d = {0};
  d.M = M, d.N = N, d.K = K;
  d.A = cg_gep(c, c->f32, A, oa), d.lda = K, d.a_cs = 1;
  d.B = cg_gep(c, c->f32, B, obv), d.ldb = N;
  d.C = cg_gep(c, c->f32, Y, oo), d.ldc = N;
  d.epilogue = 1, d.epi_b = batch, d.epi_r0 = cg_i64(c, 0), d.epi_p0 = cg_i64(c, 0);
  gemm_emit(c, &d);
  for (int dd = ob.rank - 1; dd >= 0; dd--) cg_for_end(c, &loops[dd]);
  return PARE_OK;
}

const cg_op cg_ops_linear[] = {
    {"Conv", emit_conv}, {"ConvTranspose", emit_conv_transpose},
    {"Gemm", emit_gemm}, {"MatMul", emit_matmul},
    {NULL, NULL},
};
