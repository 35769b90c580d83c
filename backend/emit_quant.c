/*
 * emit_quant.c - QUANT and CODEBOOK weights (ir.h) in the generated code:
 * the object holds the packed integers (indices) and their scales, zero
 * points or codebooks, never the fp32 tensor; the GEMM kernels decode one
 * panel of it at a time into kernel scratch and run the fp32 microkernel
 * of emit_linear.c on that.
 *
 * The weight is viewed as W[r][k]: r the output channel (Conv's CO, the
 * N of Gemm/MatMul), k the reduction. Its integers are repacked, at the
 * same bit width, in one of two kernel layouts made of 16-element chunks
 * (16 b-bit fields are exactly 2b bytes, so every chunk is byte aligned
 * whatever b):
 *   A side (Conv, the broadcast-scalar operand): row r is ceil(K/16)
 *     chunks along k; a row panel of GEMM_MR rows is decoded into scratch
 *     [MR][Kp] (Kp = K rounded up to 16) and the GEMM runs it against all
 *     the columns of B. Padding: R * (Kp - K) fields.
 *   B side (Gemm/MatMul, the vector operand): panel p is K chunks, chunk
 *     k holding W[16p .. 16p+16)[k]; a panel is decoded into scratch
 *     [K][16] and the GEMM runs all the rows of A on it. Padding:
 *     (16 * ceil(R/16) - R) * K fields. Per-channel codebooks on the B
 *     side are stored by rows like the A side's (R padded to whole
 *     panels: 16 * ceil(R/16) * Kp fields): a panel's 16 channels are
 *     each looked up in their own codebook 16 k at a time and transposed
 *     16x16 into the panel.
 * Decoding a chunk: the 2b bytes are loaded as one vector, two byte
 * shuffles fetch each lane's low and high byte (constant masks: lane j's
 * field starts at bit j*b), then a variable shift and a mask isolate the
 * field (sign extended for symmetric QUANT), sitofp, and (q - zero) * scale
 * as the reference decoder computes it (no contraction: the decoded weights
 * are bit for bit those of pare_weight_decode). CODEBOOK indices look up
 * the codebook (times the channel's scale when scaled): with AVX2 and at
 * most 16 entries shared by the chunk's lanes (per layer, scaled, or any
 * A-side or B-side channel row, or a B side with one codebook per
 * reduction index k) from two registers by vpermps, else (wider indices,
 * no AVX2) by a gather.
 *
 * Cost: each weight is decoded once per kernel call (B side: once per
 * 16-column panel, then run for every row of A and every batch; A side:
 * once per 6-row panel, run for every column of B) - except on the
 * implicit-im2col conv path (im2col over 256 KiB), where the B panels are
 * built QUANT_PANEL_NR = 64 pixels at a time (fewer when K * 64 floats
 * would pass 256 KiB) and the rows are decoded per
 * such panel: decode there costs about 1/64 of the block's FMA work per
 * weight decoded. Scratch is one panel (B: 64*K bytes, A: 24*Kp). The
 * decode is 16 lanes wide: a byte shuffle pair, shift, mask and convert
 * per 16 weights (~10 instructions); grouped parameters are loaded once
 * per group. Measured (AMD EPYC Zen 3, CPU time, medians of 30 JIT runs,
 * pare_quant_e2e --bench; fp32 / 8-bit / 4-bit / 4-bit g32 asym f16 /
 * 2-bit / codebook-4 scaled / codebook-4 per channel, ms):
 *   MatMul 1x1024x1024    0.19 / 0.12 / 0.15 / 0.15 / 0.15 / 0.21 / 0.25
 *   MatMul 64x1024x1024   2.29 / 1.26 / 1.27 / 1.43 / 1.39 / 1.50 / 1.82
 *   conv 3x3 64ch 56x56   2.63 / 2.68 / 2.54 / 2.83 / 2.57 / 2.63 / 2.61
 *   conv 1x1 128ch 28x28  0.33 / 0.33 / 0.35 / 0.38 / 0.34 / 0.37 / 0.40
 * (the 64-row MatMul gains because the dense kernel reads B in place with
 * a 4 KiB row stride while a decoded panel is contiguous; B-side
 * per-channel codebooks took 0.53 ms on the gemv with a 16-codebook
 * gather per chunk, before the row layout and transpose).
 * Whole models, every Conv/Gemm/MatMul weight encoded (pare_quant_e2e
 * --model --time 30, fp32 / encoded CPU ms, +-10% run to run on this
 * shared machine): MNIST CNN batch 100 at 8/4/2 bits 15.5/15.5,
 * 13.2/12.1, 14.8/15.8, codebook-4 per channel 15.8/15.8, scaled
 * 16.6/15.6; PP-OCRv4 rec 1x3x48x320 17.9/18.6, 19.5/18.9, 19.3/18.5,
 * 19.4/19.6, 18.8/20.3: low-bit weights run at fp32 speed.
 *
 * Parameters. Scales and zero points per tensor stay as the encoding has
 * them (a scalar). Per channel (and per group of gs consecutive k of a
 * channel, ir.h) the A side reads the encoding's arrays as they are (index
 * r * groups + k / gs; with gs a multiple of 16 a chunk lies in one group);
 * the B side re-lays them out [panel][group][16] so that a chunk's 16
 * lanes load as one vector (padding: the missing lanes of the last panel).
 * f16 parameters stay f16 and are widened in the kernel (integer ops,
 * exact). Codebooks are read as stored; f16 codebooks are widened into
 * scratch once per call (groups * 2^b floats). Outliers (a SPARSE part)
 * are added into the decoded panel: per panel (B) or row (A) i32 run
 * pointers, i32 offsets into the decoded scratch and f32 values, so
 * 4 * (panels or rows + 1) + 8 * nnz bytes.
 *
 * Forms the kernels do not take (another channel axis, but for codebooks
 * per reduction index on the B side; per-tensor groups
 * that do not align with rows, A-side groups not a multiple of 16, f64
 * parameters) are compiled from the dense tensor as before.
 */
#include "backend/cg.h"
#include "backend/emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QCHUNK 16

/* --------------------------------------------------------- compile time */

static uint32_t get_bits(const uint8_t *p, size_t nbytes, int64_t k, int bits) {
  uint64_t pos = (uint64_t)k * (uint64_t)bits;
  uint32_t v = 0;
  for (int b = 0; b < bits; b++, pos++) {
    size_t byte = (size_t)(pos >> 3);
    if (byte >= nbytes) break;
    v |= (uint32_t)((p[byte] >> (pos & 7)) & 1u) << b;
  }
  return v;
}

static void put_bits(uint8_t *p, int64_t k, int bits, uint32_t v) {
  uint64_t pos = (uint64_t)k * (uint64_t)bits;
  for (int b = 0; b < bits; b++, pos++)
    if (v >> b & 1u) p[pos >> 3] |= (uint8_t)(1u << (pos & 7));
}

static int param_ok(const pare_tensor *t, int64_t need) {
  return t && t->data && (t->dtype == PARE_F32 || t->dtype == PARE_F16) &&
         pare_tensor_numel(t) >= need;
}

/* IR element index of W[r][k]: stored [R][K] (row major over the trailing
 * dims for convs) or, kn, [K][R]. */
static int64_t elem(const quant_w *q, int64_t r, int64_t k) {
  return q->kn ? k * q->R + r : r * q->K + k;
}

/* Emits `n` elements of t (f32 or f16) chosen by idx[] (NULL: -1 pads). */
static LLVMValueRef emit_param(cg *c, const pare_tensor *t, const int64_t *idx, int64_t n,
                               const char *name) {
  size_t es = t->dtype == PARE_F16 ? 2 : 4;
  uint8_t *buf = calloc((size_t)n + 1, es);
  if (!buf) return NULL;
  for (int64_t i = 0; i < n; i++)
    if (idx[i] >= 0) memcpy(buf + (size_t)i * es, (const uint8_t *)t->data + idx[i] * es, es);
  LLVMValueRef g = cg_const_bytes(c, buf, (size_t)n * es, name);
  free(buf);
  return g;
}

/* A parameter array for the B side: [panel][group][16] from the encoding's
 * r * groups + g order. */
static LLVMValueRef param_b(cg *c, const quant_w *q, const pare_tensor *t, int64_t groups,
                            const char *name) {
  int64_t n = q->panels * groups * QCHUNK;
  int64_t *idx = malloc((size_t)n * sizeof *idx + 1);
  if (!idx) return NULL;
  for (int64_t i = 0; i < n; i++) {
    int64_t lane = i % QCHUNK, g = i / QCHUNK % groups, p = i / QCHUNK / groups;
    int64_t r = p * QCHUNK + lane;
    idx[i] = r < q->R ? r * groups + g : -1;
  }
  LLVMValueRef v = emit_param(c, t, idx, n, name);
  free(idx);
  return v;
}

static LLVMValueRef param_as_is(cg *c, const pare_tensor *t, const char *name) {
  return cg_const_bytes(c, t->data, t->nbytes, name);
}

/* The outliers as runs per panel (B) or row (A) of (offset into the decoded
 * scratch, value), in the CSR's order (so repeated positions add in the
 * reference's order). */
static int emit_outliers(cg *c, quant_w *q, const pare_encoding *o, const char *vname,
                         pare_err *err) {
  int64_t d0 = q->kn ? q->K : q->R, rest = q->kn ? q->R : q->K;
  if (o->kind != PARE_ENC_SPARSE || !o->row_ptr || !o->col_idx || !o->values ||
      o->row_ptr->dtype != PARE_I64 || o->col_idx->dtype != PARE_I32 ||
      o->values->dtype != PARE_F32 || pare_tensor_numel(o->row_ptr) != d0 + 1)
    return 0;
  const int64_t *rp = o->row_ptr->data;
  const int32_t *ci = o->col_idx->data;
  const float *vals = o->values->data;
  int64_t nnz = rp[d0];
  if (nnz < 0 || nnz > INT32_MAX || pare_tensor_numel(o->col_idx) < nnz ||
      pare_tensor_numel(o->values) < nnz)
    return 0;
  int64_t runs = q->b_side ? q->panels : q->R;
  int32_t *ptr = calloc((size_t)runs + 1, 4);
  int32_t *off = malloc((size_t)nnz * 4 + 4);
  float *val = malloc((size_t)nnz * 4 + 4);
  int64_t *run_of = malloc((size_t)nnz * 8 + 8), *offs = malloc((size_t)nnz * 8 + 8);
  int rc = 1;
  if (!ptr || !off || !val || !run_of || !offs) {
    rc = pare_errf(err, "out of memory");
    goto done;
  }
  for (int64_t a = 0; a < d0; a++)
    for (int64_t t = rp[a]; t < rp[a + 1]; t++) {
      int64_t b = ci[t];
      if (t < 0 || t >= nnz || b < 0 || b >= rest) {
        rc = 0; /* malformed: the dense path reports nothing either */
        goto done;
      }
      int64_t r = q->kn ? b : a, k = q->kn ? a : b;
      run_of[t] = q->b_side ? r / QCHUNK : r;
      offs[t] = q->b_side ? k * QCHUNK + r % QCHUNK : k;
      ptr[run_of[t] + 1]++;
    }
  for (int64_t i = 0; i < runs; i++) ptr[i + 1] += ptr[i];
  {
    int32_t *fill = malloc((size_t)runs * 4 + 4);
    if (!fill) {
      rc = pare_errf(err, "out of memory");
      goto done;
    }
    memcpy(fill, ptr, (size_t)runs * 4);
    for (int64_t t = 0; t < nnz; t++) {
      int32_t at = fill[run_of[t]]++;
      off[at] = (int32_t)offs[t];
      val[at] = vals[t];
    }
    free(fill);
  }
  char name[256];
  snprintf(name, sizeof name, "%s.outlier_ptr", vname);
  q->o_ptr = cg_const_bytes(c, ptr, ((size_t)runs + 1) * 4, name);
  snprintf(name, sizeof name, "%s.outlier_off", vname);
  q->o_off = cg_const_bytes(c, off, (size_t)nnz * 4, name);
  snprintf(name, sizeof name, "%s.outlier_val", vname);
  q->o_val = cg_const_bytes(c, val, (size_t)nnz * 4, name);
  q->outliers = nnz > 0;
done:
  free(ptr);
  free(off);
  free(val);
  free(run_of);
  free(offs);
  return rc;
}

/* Checks the encoding of value v against the forms the kernels take, and
 * fills q's shape fields; 1 if taken. */
static int classify(cg *c, int v, quant_w *q) {
  const pare_value *val = c->g->values[v];
  const pare_encoding *e = val->enc;
  if (!e || (e->kind != PARE_ENC_QUANT && e->kind != PARE_ENC_CODEBOOK)) return 0;
  if (e->bits < 1 || e->bits > 8 || !e->packed || !e->packed->data) return 0;
  int64_t numel = q->R * q->K;
  if (numel <= 0 || cg_numel(c, v) != numel) return 0;
  if ((int64_t)e->packed->nbytes < (numel * e->bits + 7) / 8) return 0;
  const pare_encoding *o = e->outliers;
  if (o &&
      (o->kind != PARE_ENC_SPARSE || !o->row_ptr || !o->col_idx || !o->values ||
       o->row_ptr->dtype != PARE_I64 || o->col_idx->dtype != PARE_I32 ||
       o->values->dtype != PARE_F32 || pare_tensor_numel(o->row_ptr) != (q->kn ? q->K : q->R) + 1))
    return 0; /* other outlier forms: compiled dense */
  int natural = q->kn ? val->shape.rank - 1 : 0;
  q->e = e;
  q->bits = e->bits;
  q->codebook = e->kind == PARE_ENC_CODEBOOK;
  q->sym = !q->codebook && e->symmetric;
  q->gs = q->K, q->groups = 1, q->per_tensor = 0;
  if (q->codebook) {
    int64_t entries = (int64_t)1 << e->bits;
    q->scaled = e->scales != NULL && e->axis >= 0;
    /* One codebook per reduction index k of a 2-D B (the cluster pass's
     * per-input-row codebooks of a [K, N] head whose columns are short):
     * a chunk's 16 lanes share the codebook of their k. */
    q->per_k = q->b_side && !q->scaled && val->shape.rank == 2 && e->axis == (q->kn ? 0 : 1);
    if (e->axis >= 0 && e->axis != natural && !q->per_k) return 0;
    q->per_tensor = e->axis < 0;
    int64_t tables = q->per_tensor || q->scaled ? 1 : q->per_k ? q->K : q->R;
    if (!param_ok(e->codebook, tables * entries)) return 0;
    if (q->scaled && !param_ok(e->scales, q->R)) return 0;
    return 1;
  }
  if (e->axis < 0) {
    if (e->group_size <= 0) {
      q->per_tensor = 1;
    } else {
      /* Per-tensor groups are rows' groups when they tile the rows. */
      if (q->kn || q->K % e->group_size) return 0;
      q->gs = e->group_size, q->groups = q->K / e->group_size;
    }
  } else {
    if (e->axis != natural) return 0;
    if (e->group_size > 0)
      q->gs = e->group_size, q->groups = (q->K + e->group_size - 1) / e->group_size;
  }
  if (!q->b_side && q->groups > 1 && q->gs % QCHUNK) return 0;
  int64_t need = q->per_tensor ? 1 : q->R * q->groups;
  if (!param_ok(e->scales, need) || (!q->sym && !param_ok(e->zeros, need))) return 0;
  return 1;
}

static int weight_setup(cg *c, int v, quant_w *q, pare_err *err) {
  if (!classify(c, v, q)) return 0;
  const pare_encoding *e = q->e;
  const char *vname = c->g->values[v]->name;
  char name[256];
  int b = q->bits;
  q->kp = (q->K + QCHUNK - 1) / QCHUNK * QCHUNK;
  q->panels = (q->R + QCHUNK - 1) / QCHUNK;
  /* B-side per-channel codebooks keep the A side's rows (see
   * decode_panel_rows), padded to whole panels. */
  q->b_rows = q->b_side && q->codebook && !q->per_tensor && !q->scaled && !q->per_k;
  int64_t fields = q->b_rows   ? q->panels * QCHUNK * q->kp
                   : q->b_side ? q->panels * QCHUNK * q->K
                               : q->R * q->kp;
  size_t bytes = (size_t)(fields / QCHUNK * 2 * b);
  uint8_t *bits = calloc(bytes + 1, 1);
  if (!bits) return pare_errf(err, "out of memory");
  const uint8_t *src = e->packed->data;
  for (int64_t r = 0; r < q->R; r++)
    for (int64_t k = 0; k < q->K; k++) {
      uint32_t x = get_bits(src, e->packed->nbytes, elem(q, r, k), b);
      int64_t at =
          q->b_side && !q->b_rows ? (r / QCHUNK * q->K + k) * QCHUNK + r % QCHUNK : r * q->kp + k;
      put_bits(bits, at, b, x);
    }
  snprintf(name, sizeof name, "%s.%s", vname, q->codebook ? "indices" : "packed");
  q->packed = cg_const_bytes(c, bits, bytes, name);
  free(bits);
  /* Parameters. */
  const pare_tensor *sc = e->scales, *zp = q->sym || q->codebook ? NULL : e->zeros;
  int vec = q->b_side && !q->per_tensor; /* per-lane on the B side */
  if (q->codebook) {
    snprintf(name, sizeof name, "%s.codebook", vname);
    q->table = param_as_is(c, e->codebook, name);
    q->table_f16 = e->codebook->dtype == PARE_F16;
    q->table_n = pare_tensor_numel(e->codebook);
    sc = q->scaled ? e->scales : NULL;
  }
  if (sc) {
    snprintf(name, sizeof name, "%s.scales", vname);
    q->scales =
        vec ? param_b(c, q, sc, q->codebook ? 1 : q->groups, name) : param_as_is(c, sc, name);
    q->scales_f16 = sc->dtype == PARE_F16;
  }
  if (zp) {
    snprintf(name, sizeof name, "%s.zeros", vname);
    q->zeros = vec ? param_b(c, q, zp, q->groups, name) : param_as_is(c, zp, name);
    q->zeros_f16 = zp->dtype == PARE_F16;
  }
  if ((sc && !q->scales) || (zp && !q->zeros)) return pare_errf(err, "out of memory");
  if (e->outliers) {
    int rc = emit_outliers(c, q, e->outliers, vname, err);
    if (rc <= 0) return rc < 0 ? PARE_ERR : pare_errf(err, "%s: malformed outliers", vname);
  }
  return 1;
}

int quant_weight(cg *c, int v, int b_side, int kn, int64_t R, int64_t K, quant_w *q,
                 pare_err *err) {
  memset(q, 0, sizeof *q);
  q->b_side = b_side, q->kn = kn, q->R = R, q->K = K;
  int rc = weight_setup(c, v, q, err);
  if (rc <= 0) return rc;
  /* f16 codebooks: widened into scratch once per call, here (the kernel's
   * entry). */
  if (q->table_f16) {
    LLVMValueRef t = cg_scratch(c, q->table_n * 4);
    cg_loop l;
    LLVMValueRef i = cg_for_begin(c, &l, 0, q->table_n, 1);
    cg_storef(c, quant_load_param(c, q->table, 1, i, 1), t, i, 1);
    cg_for_end(c, &l);
    q->table = t, q->table_f16 = 0;
  }
  return 1;
}

/* ------------------------------------------------------------ run time */

static LLVMValueRef ivec(LLVMTypeRef et, const int64_t *v, int n) {
  LLVMValueRef e[64];
  for (int i = 0; i < n; i++) e[i] = LLVMConstInt(et, (unsigned long long)v[i], 1);
  return LLVMConstVector(e, (unsigned)n);
}

static LLVMValueRef isplat(LLVMTypeRef et, int64_t x, int n) {
  int64_t v[64];
  for (int i = 0; i < n; i++) v[i] = x;
  return ivec(et, v, n);
}

/* binary16 bits (i16 or <n x i16>) to float: the exponent rebiased by a
 * multiply by 2^112 (exact for normals and subnormals), Inf/NaN by
 * setting the exponent, then the sign. */
static LLVMValueRef f16_to_f32(cg *c, LLVMValueRef h, int n) {
  LLVMTypeRef it = n == 1 ? c->i32 : LLVMVectorType(c->i32, (unsigned)n);
  LLVMValueRef x = LLVMBuildZExt(c->b, h, it, "");
#define IC(v) (n == 1 ? LLVMConstInt(c->i32, (v), 0) : isplat(c->i32, (v), n))
  LLVMValueRef sign = LLVMBuildShl(c->b, LLVMBuildAnd(c->b, x, IC(0x8000), ""), IC(16), "");
  LLVMValueRef em = LLVMBuildAnd(c->b, x, IC(0x7fff), "");
  LLVMValueRef sh = LLVMBuildShl(c->b, em, IC(13), "");
  LLVMValueRef f = LLVMBuildBitCast(c->b, sh, cg_ftype(c, n), "");
  f = LLVMBuildFMul(c->b, f, cg_fconst(c, 0x1p112f, n), "");
  LLVMValueRef fb = LLVMBuildBitCast(c->b, f, it, "");
  LLVMValueRef special = LLVMBuildICmp(c->b, LLVMIntUGE, em, IC(0x7c00), "");
  fb = LLVMBuildSelect(c->b, special, LLVMBuildOr(c->b, sh, IC(0x7f800000), ""), fb, "");
  fb = LLVMBuildOr(c->b, fb, sign, "");
#undef IC
  return LLVMBuildBitCast(c->b, fb, cg_ftype(c, n), "");
}

LLVMValueRef quant_load_param(cg *c, LLVMValueRef base, int f16, LLVMValueRef idx, int n) {
  if (!f16) return cg_loadf(c, base, idx, n);
  LLVMTypeRef t = n == 1 ? LLVMInt16TypeInContext(c->ctx)
                         : LLVMVectorType(LLVMInt16TypeInContext(c->ctx), (unsigned)n);
  LLVMValueRef v =
      LLVMBuildLoad2(c->b, t, cg_gep(c, LLVMInt16TypeInContext(c->ctx), base, idx), "");
  LLVMSetAlignment(v, 2);
  return f16_to_f32(c, v, n);
}

/* The 16 b-bit fields of the chunk at byte pointer p as <16 x i32>
 * (sign-extended when sym). */
static LLVMValueRef extract16(cg *c, LLVMValueRef p, int bits, int sym) {
  int nb = 2 * bits;
  LLVMTypeRef bt = LLVMVectorType(c->i8, (unsigned)nb);
  LLVMValueRef raw = LLVMBuildLoad2(c->b, bt, p, "");
  LLVMSetAlignment(raw, 1);
  LLVMValueRef lo[QCHUNK], hi[QCHUNK];
  int64_t sh[QCHUNK];
  int need_hi = 0;
  for (int j = 0; j < QCHUNK; j++) {
    int bit = j * bits;
    lo[j] = LLVMConstInt(c->i32, (unsigned)(bit >> 3), 0);
    /* Index nb is the zero vector's first byte (no read past the chunk). */
    hi[j] = LLVMConstInt(c->i32, (unsigned)((bit >> 3) + 1), 0);
    sh[j] = bit & 7;
    need_hi |= (bit & 7) + bits > 8;
  }
  LLVMValueRef zero = LLVMConstNull(bt);
  LLVMTypeRef vt = LLVMVectorType(c->i32, QCHUNK);
  LLVMValueRef x = LLVMBuildZExt(
      c->b, LLVMBuildShuffleVector(c->b, raw, zero, LLVMConstVector(lo, QCHUNK), ""), vt, "");
  if (need_hi) {
    LLVMValueRef h = LLVMBuildZExt(
        c->b, LLVMBuildShuffleVector(c->b, raw, zero, LLVMConstVector(hi, QCHUNK), ""), vt, "");
    x = LLVMBuildOr(c->b, x, LLVMBuildShl(c->b, h, isplat(c->i32, 8, QCHUNK), ""), "");
  }
  if (bits % 8) x = LLVMBuildLShr(c->b, x, ivec(c->i32, sh, QCHUNK), "");
  if (sym) {
    LLVMValueRef s = isplat(c->i32, 32 - bits, QCHUNK);
    x = LLVMBuildAShr(c->b, LLVMBuildShl(c->b, x, s, ""), s, "");
  } else if (bits < 8 || need_hi) {
    x = LLVMBuildAnd(c->b, x, isplat(c->i32, (1 << bits) - 1, QCHUNK), "");
  }
  return x;
}

static LLVMValueRef gather16(cg *c, LLVMValueRef base, LLVMValueRef idx) {
  LLVMValueRef ptrs = LLVMBuildGEP2(c->b, c->f32, base, &idx, 1, "");
  LLVMTypeRef vf = cg_ftype(c, QCHUNK);
  LLVMTypeRef tys[2] = {vf, LLVMTypeOf(ptrs)};
  const char *nm = "llvm.masked.gather";
  unsigned id = LLVMLookupIntrinsicID(nm, strlen(nm));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(c->mod, id, tys, 2);
  LLVMTypeRef ft = LLVMIntrinsicGetType(c->ctx, id, tys, 2);
  LLVMValueRef args[4] = {ptrs, LLVMConstInt(c->i32, 4, 0),
                          LLVMConstAllOnes(LLVMVectorType(c->i1, QCHUNK)), LLVMGetUndef(vf)};
  return LLVMBuildCall2(c->b, ft, fn, args, 4, "");
}

/* A codebook of at most 16 entries held in two <8 x float> registers
 * (AVX2: looked up by vpermps, two and a blend per 8 lanes, instead of a
 * gather), loaded from table + at; NULLs when the target lacks AVX2 or
 * the codebook is larger. */
static void lut_load(cg *c, const quant_w *q, LLVMValueRef at, LLVMValueRef *lut) {
  lut[0] = lut[1] = NULL;
  int entries = 1 << q->bits;
  if (!c->x86_avx2 || entries > 16) return;
  for (int h = 0; h < (entries > 8 ? 2 : 1); h++) {
    int n = entries < 8 ? entries : 8;
    LLVMValueRef v = cg_loadf(c, q->table, cg_add(c, at, cg_i64(c, h * 8)), n);
    if (n == 1) v = cg_splat(c, v, 8);
    if (n > 1 && n < 8) {
      /* Lanes past the entries are never selected. */
      LLVMValueRef m[8];
      for (int i = 0; i < 8; i++) m[i] = LLVMConstInt(c->i32, (unsigned)(i % n), 0);
      v = LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(LLVMTypeOf(v)), LLVMConstVector(m, 8), "");
    }
    lut[h] = v;
  }
}

static LLVMValueRef half8(cg *c, LLVMValueRef v, int h) {
  LLVMValueRef m[8];
  for (int i = 0; i < 8; i++) m[i] = LLVMConstInt(c->i32, (unsigned)(h * 8 + i), 0);
  return LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(LLVMTypeOf(v)), LLVMConstVector(m, 8), "");
}

static LLVMValueRef permps(cg *c, LLVMValueRef t, LLVMValueRef idx) {
  const char *nm = "llvm.x86.avx2.permps";
  unsigned id = LLVMLookupIntrinsicID(nm, strlen(nm));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(c->mod, id, NULL, 0);
  LLVMTypeRef ft = LLVMIntrinsicGetType(c->ctx, id, NULL, 0);
  LLVMValueRef args[2] = {t, idx};
  return LLVMBuildCall2(c->b, ft, fn, args, 2, "");
}

static LLVMValueRef lut_lookup(cg *c, const LLVMValueRef *lut, LLVMValueRef x) {
  LLVMValueRef part[2];
  for (int h = 0; h < 2; h++) {
    LLVMValueRef xi = half8(c, x, h);
    part[h] = permps(c, lut[0], xi);
    if (lut[1]) {
      LLVMValueRef hi = permps(c, lut[1], xi);
      LLVMValueRef sel =
          LLVMBuildICmp(c->b, LLVMIntNE, LLVMBuildAnd(c->b, xi, isplat(c->i32, 8, 8), ""),
                        LLVMConstNull(LLVMVectorType(c->i32, 8)), "");
      part[h] = LLVMBuildSelect(c->b, sel, hi, part[h], "");
    }
  }
  LLVMValueRef m[16];
  for (int i = 0; i < 16; i++) m[i] = LLVMConstInt(c->i32, (unsigned)i, 0);
  return LLVMBuildShuffleVector(c->b, part[0], part[1], LLVMConstVector(m, 16), "");
}

/* Decoded floats of one chunk. x: its fields; scale / zero: float splats
 * or per-lane vectors (NULL: none); tbase: the codebook's lane offsets
 * (<16 x i32>, codebooks only); lut: the codebook in registers, or NULLs. */
static LLVMValueRef chunk_value(cg *c, const quant_w *q, LLVMValueRef x, LLVMValueRef scale,
                                LLVMValueRef zero, LLVMValueRef tbase, const LLVMValueRef *lut) {
  LLVMValueRef w;
  if (q->codebook) {
    if (lut && lut[0]) {
      w = lut_lookup(c, lut, x);
    } else {
      if (tbase) x = LLVMBuildAdd(c->b, x, tbase, "");
      w = gather16(c, q->table, x);
    }
    return scale ? LLVMBuildFMul(c->b, scale, w, "") : w;
  }
  w = LLVMBuildSIToFP(c->b, x, cg_ftype(c, QCHUNK), "");
  if (zero) w = LLVMBuildFSub(c->b, w, zero, "");
  return LLVMBuildFMul(c->b, scale, w, "");
}

/* dst[off[t]] += val[t] over run `run`. */
static void add_outliers(cg *c, const quant_w *q, LLVMValueRef run, LLVMValueRef dst) {
  LLVMValueRef rp = cg_gep(c, c->i32, q->o_ptr, run);
  LLVMValueRef b = LLVMBuildLoad2(c->b, c->i32, rp, "");
  LLVMValueRef e = LLVMBuildLoad2(c->b, c->i32, cg_gep(c, c->i32, rp, cg_i64(c, 1)), "");
  LLVMSetAlignment(b, 4);
  LLVMSetAlignment(e, 4);
  b = LLVMBuildSExt(c->b, b, c->i64, "");
  e = LLVMBuildSExt(c->b, e, c->i64, "");
  LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->b);
  LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "oloop");
  LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "obody");
  LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "odone");
  LLVMBuildBr(c->b, head);
  LLVMPositionBuilderAtEnd(c->b, head);
  LLVMValueRef t = LLVMBuildPhi(c->b, c->i64, "");
  LLVMAddIncoming(t, &b, &pre, 1);
  LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, t, e, ""), body, done);
  LLVMPositionBuilderAtEnd(c->b, body);
  LLVMValueRef o = LLVMBuildLoad2(c->b, c->i32, cg_gep(c, c->i32, q->o_off, t), "");
  LLVMSetAlignment(o, 4);
  o = LLVMBuildSExt(c->b, o, c->i64, "");
  LLVMValueRef s = LLVMBuildFAdd(c->b, cg_loadf(c, dst, o, 1), cg_loadf(c, q->o_val, t, 1), "");
  cg_storef(c, s, dst, o, 1);
  LLVMValueRef next = cg_add(c, t, cg_i64(c, 1));
  LLVMBasicBlockRef from = LLVMGetInsertBlock(c->b);
  LLVMAddIncoming(t, &next, &from, 1);
  LLVMBuildBr(c->b, head);
  LLVMPositionBuilderAtEnd(c->b, done);
}

/* Chunks [kc0, kc0 + count) of rows[0..nr) with the given parameters. */
static void rows_range(cg *c, const quant_w *q, const LLVMValueRef *rows, int nr, LLVMValueRef kc0,
                       int64_t count, const LLVMValueRef *scale, const LLVMValueRef *zero,
                       const LLVMValueRef *tbase, LLVMValueRef (*lut)[2], LLVMValueRef dst) {
  int64_t chunks = q->kp / QCHUNK;
  cg_loop kl;
  LLVMValueRef kc = cg_add(c, kc0, cg_for_begin(c, &kl, 0, count, 1));
  for (int i = 0; i < nr; i++) {
    LLVMValueRef byte = cg_madd(c, cg_madd(c, rows[i], chunks, kc), 2 * q->bits, cg_i64(c, 0));
    LLVMValueRef x = extract16(c, cg_gep(c, c->i8, q->packed, byte), q->bits, q->sym);
    LLVMValueRef w = chunk_value(c, q, x, scale[i], zero[i], tbase[i], lut[i]);
    cg_storef(c, w, dst, cg_madd(c, kc, QCHUNK, cg_i64(c, i * q->kp)), QCHUNK);
  }
  cg_for_end(c, &kl);
}

void quant_decode_rows(cg *c, const quant_w *q, LLVMValueRef r0, int nr, LLVMValueRef dst) {
  int64_t chunks = q->kp / QCHUNK, entries = (int64_t)1 << q->bits;
  LLVMValueRef scale[GEMM_MR] = {0}, zero[GEMM_MR] = {0}, tbase[GEMM_MR] = {0};
  LLVMValueRef lut[GEMM_MR][2] = {{0}};
  LLVMValueRef rows[GEMM_MR];
  for (int i = 0; i < nr; i++) {
    rows[i] = cg_add(c, r0, cg_i64(c, i));
    /* Per-row constants, loaded once. */
    if (q->codebook) {
      lut_load(c, q,
               q->per_tensor || q->scaled ? cg_i64(c, 0)
                                          : cg_madd(c, rows[i], entries, cg_i64(c, 0)),
               lut[i]);
      if (q->scaled)
        scale[i] = cg_splat(c, quant_load_param(c, q->scales, q->scales_f16, rows[i], 1), QCHUNK);
      else if (!q->per_tensor) {
        LLVMValueRef b =
            LLVMBuildTrunc(c->b, LLVMBuildMul(c->b, rows[i], cg_i64(c, entries), ""), c->i32, "");
        LLVMValueRef v = LLVMBuildInsertElement(c->b, LLVMGetUndef(LLVMVectorType(c->i32, 16)), b,
                                                LLVMConstInt(c->i32, 0, 0), "");
        tbase[i] = LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(LLVMTypeOf(v)),
                                          LLVMConstNull(LLVMVectorType(c->i32, 16)), "");
      }
    } else if (q->per_tensor || q->groups == 1) {
      LLVMValueRef g = q->per_tensor ? cg_i64(c, 0) : rows[i];
      scale[i] = cg_splat(c, quant_load_param(c, q->scales, q->scales_f16, g, 1), QCHUNK);
      if (q->zeros)
        zero[i] = cg_splat(c, quant_load_param(c, q->zeros, q->zeros_f16, g, 1), QCHUNK);
    }
  }
  if (q->codebook || q->per_tensor || q->groups == 1) {
    rows_range(c, q, rows, nr, cg_i64(c, 0), chunks, scale, zero, tbase, lut, dst);
  } else {
    /* Groups of gs (a multiple of 16) k: gs/16 chunks each, the last one
     * shorter; each group's parameters are loaded once per row. */
    int64_t cpg = q->gs / QCHUNK, full = chunks / cpg, tail = chunks % cpg;
    for (int part = 0; part < 2; part++) {
      if ((part == 0 && full == 0) || (part == 1 && tail == 0)) continue;
      cg_loop gl;
      LLVMValueRef grp = part == 0 ? cg_for_begin(c, &gl, 0, full, 1) : cg_i64(c, full);
      for (int i = 0; i < nr; i++) {
        LLVMValueRef gi = cg_madd(c, rows[i], q->groups, grp);
        scale[i] = cg_splat(c, quant_load_param(c, q->scales, q->scales_f16, gi, 1), QCHUNK);
        if (q->zeros)
          zero[i] = cg_splat(c, quant_load_param(c, q->zeros, q->zeros_f16, gi, 1), QCHUNK);
      }
      rows_range(c, q, rows, nr, cg_madd(c, grp, cpg, cg_i64(c, 0)), part == 0 ? cpg : tail, scale,
                 zero, tbase, lut, dst);
      if (part == 0) cg_for_end(c, &gl);
    }
  }
  if (q->outliers)
    for (int i = 0; i < nr; i++)
      add_outliers(c, q, rows[i], cg_gep(c, c->f32, dst, cg_i64(c, i * q->kp)));
}

/* Rows [k0, k0 + count) of panel p with the given parameters. */
static void panel_range(cg *c, const quant_w *q, LLVMValueRef p, LLVMValueRef k0, int64_t count,
                        LLVMValueRef scale, LLVMValueRef zero, LLVMValueRef tbase,
                        const LLVMValueRef *lut, LLVMValueRef dst) {
  cg_loop kl;
  LLVMValueRef k = cg_add(c, k0, cg_for_begin(c, &kl, 0, count, 1));
  LLVMValueRef byte = cg_madd(c, cg_madd(c, p, q->K, k), 2 * q->bits, cg_i64(c, 0));
  LLVMValueRef x = extract16(c, cg_gep(c, c->i8, q->packed, byte), q->bits, q->sym);
  LLVMValueRef klut[2];
  if (q->per_k) {
    /* Row k's codebook: in registers, or the gather's offset. */
    LLVMValueRef at = cg_madd(c, k, (int64_t)1 << q->bits, cg_i64(c, 0));
    lut_load(c, q, at, klut);
    lut = klut;
    if (!klut[0]) {
      LLVMTypeRef vt = LLVMVectorType(c->i32, QCHUNK);
      LLVMValueRef v =
          LLVMBuildInsertElement(c->b, LLVMGetUndef(vt), LLVMBuildTrunc(c->b, at, c->i32, ""),
                                 LLVMConstInt(c->i32, 0, 0), "");
      tbase = LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(vt), LLVMConstNull(vt), "");
    }
  }
  cg_storef(c, chunk_value(c, q, x, scale, zero, tbase, lut), dst,
            cg_madd(c, k, QCHUNK, cg_i64(c, 0)), QCHUNK);
  cg_for_end(c, &kl);
}

/* Transposes the 16x16 tile v[i][j] in place: four stages, stage d
 * swapping bit d of the row and column indices (64 shuffles). */
static void transpose16(cg *c, LLVMValueRef *v) {
  for (int d = 1; d < QCHUNK; d *= 2) {
    LLVMValueRef lo[QCHUNK], hi[QCHUNK];
    for (int k = 0; k < QCHUNK; k++) {
      lo[k] = LLVMConstInt(c->i32, (unsigned)(k & d ? QCHUNK + k - d : k), 0);
      hi[k] = LLVMConstInt(c->i32, (unsigned)(k & d ? QCHUNK + k : k + d), 0);
    }
    LLVMValueRef ml = LLVMConstVector(lo, QCHUNK), mh = LLVMConstVector(hi, QCHUNK);
    for (int i = 0; i < QCHUNK; i++) {
      if (i & d) continue;
      LLVMValueRef a = v[i], b = v[i + d];
      v[i] = LLVMBuildShuffleVector(c->b, a, b, ml, "");
      v[i + d] = LLVMBuildShuffleVector(c->b, a, b, mh, "");
    }
  }
}

/* A per-channel codebook on the B side: the 16 lanes of a [K][16] panel
 * row would read 16 codebooks (a gather). Instead the indices are stored
 * by channel rows like the A side's, each channel's 16-k chunk is looked
 * up in its own codebook (in registers), and 16 such chunks are transposed
 * into 16 panel rows. */
static void decode_panel_rows(cg *c, const quant_w *q, LLVMValueRef p, LLVMValueRef dst) {
  int64_t chunks = q->kp / QCHUNK, entries = (int64_t)1 << q->bits;
  cg_loop kl;
  LLVMValueRef kc = cg_for_begin(c, &kl, 0, chunks, 1);
  LLVMValueRef v[QCHUNK];
  for (int j = 0; j < QCHUNK; j++) {
    LLVMValueRef n = cg_madd(c, p, QCHUNK, cg_i64(c, j));
    /* Rows past R are zero indices into the last channel's codebook. */
    LLVMValueRef last = cg_i64(c, q->R - 1);
    LLVMValueRef t =
        LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSGT, n, last, ""), last, n, "");
    LLVMValueRef byte = cg_madd(c, cg_madd(c, n, chunks, kc), 2 * q->bits, cg_i64(c, 0));
    LLVMValueRef x = extract16(c, cg_gep(c, c->i8, q->packed, byte), q->bits, q->sym);
    LLVMValueRef at = cg_madd(c, t, entries, cg_i64(c, 0)), lut[2], tbase = NULL;
    lut_load(c, q, at, lut);
    if (!lut[0]) {
      LLVMTypeRef vt = LLVMVectorType(c->i32, QCHUNK);
      LLVMValueRef s =
          LLVMBuildInsertElement(c->b, LLVMGetUndef(vt), LLVMBuildTrunc(c->b, at, c->i32, ""),
                                 LLVMConstInt(c->i32, 0, 0), "");
      tbase = LLVMBuildShuffleVector(c->b, s, LLVMGetUndef(vt), LLVMConstNull(vt), "");
    }
    v[j] = chunk_value(c, q, x, NULL, NULL, tbase, lut);
  }
  transpose16(c, v);
  for (int i = 0; i < QCHUNK; i++)
    cg_storef(c, v[i], dst, cg_madd(c, kc, QCHUNK * QCHUNK, cg_i64(c, i * QCHUNK)), QCHUNK);
  cg_for_end(c, &kl);
  if (q->outliers) add_outliers(c, q, p, dst);
}

void quant_decode_panel(cg *c, const quant_w *q, LLVMValueRef p, LLVMValueRef dst) {
  if (q->b_rows) {
    decode_panel_rows(c, q, p, dst);
    return;
  }
  int64_t entries = (int64_t)1 << q->bits;
  LLVMValueRef scale = NULL, zero = NULL, tbase = NULL, lut[2] = {NULL, NULL};
  if (q->codebook) {
    /* One codebook for all lanes: in registers; per-channel ones gather. */
    if (q->per_tensor || q->scaled) lut_load(c, q, cg_i64(c, 0), lut);
    if (q->scaled)
      scale = quant_load_param(c, q->scales, q->scales_f16, cg_madd(c, p, QCHUNK, cg_i64(c, 0)),
                               QCHUNK);
    if (!q->per_tensor && !q->scaled && !q->per_k) {
      /* Lane j reads channel min(16p + j, R - 1)'s codebook (padded lanes
       * are never read by the GEMM). */
      int64_t lanes[QCHUNK];
      for (int j = 0; j < QCHUNK; j++) lanes[j] = j;
      LLVMValueRef r0 = LLVMBuildTrunc(c->b, cg_madd(c, p, QCHUNK, cg_i64(c, 0)), c->i32, "");
      LLVMTypeRef vt = LLVMVectorType(c->i32, QCHUNK);
      LLVMValueRef v =
          LLVMBuildInsertElement(c->b, LLVMGetUndef(vt), r0, LLVMConstInt(c->i32, 0, 0), "");
      v = LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(vt), LLVMConstNull(vt), "");
      v = LLVMBuildAdd(c->b, v, ivec(c->i32, lanes, QCHUNK), "");
      LLVMValueRef last = isplat(c->i32, q->R - 1, QCHUNK);
      v = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntSGT, v, last, ""), last, v, "");
      tbase = LLVMBuildMul(c->b, v, isplat(c->i32, entries, QCHUNK), "");
    }
  } else if (q->per_tensor) {
    scale = cg_splat(c, quant_load_param(c, q->scales, q->scales_f16, cg_i64(c, 0), 1), QCHUNK);
    if (q->zeros)
      zero = cg_splat(c, quant_load_param(c, q->zeros, q->zeros_f16, cg_i64(c, 0), 1), QCHUNK);
  } else if (q->groups == 1) {
    LLVMValueRef at = cg_madd(c, p, QCHUNK, cg_i64(c, 0));
    scale = quant_load_param(c, q->scales, q->scales_f16, at, QCHUNK);
    if (q->zeros) zero = quant_load_param(c, q->zeros, q->zeros_f16, at, QCHUNK);
  }
  if (q->codebook || q->per_tensor || q->groups == 1) {
    panel_range(c, q, p, cg_i64(c, 0), q->K, scale, zero, tbase, lut, dst);
  } else {
    /* Groups of gs k, the last one shorter: parameters loaded per group. */
    int64_t full = q->K / q->gs, tail = q->K % q->gs;
    for (int part = 0; part < 2; part++) {
      if ((part == 0 && full == 0) || (part == 1 && tail == 0)) continue;
      cg_loop gl;
      LLVMValueRef grp = part == 0 ? cg_for_begin(c, &gl, 0, full, 1) : cg_i64(c, full);
      LLVMValueRef at = cg_madd(c, cg_madd(c, p, q->groups, grp), QCHUNK, cg_i64(c, 0));
      LLVMValueRef s = quant_load_param(c, q->scales, q->scales_f16, at, QCHUNK);
      LLVMValueRef z = q->zeros ? quant_load_param(c, q->zeros, q->zeros_f16, at, QCHUNK) : NULL;
      panel_range(c, q, p, cg_madd(c, grp, q->gs, cg_i64(c, 0)), part == 0 ? q->gs : tail, s, z,
                  NULL, lut, dst);
      if (part == 0) cg_for_end(c, &gl);
    }
  }
  if (q->outliers) add_outliers(c, q, p, dst);
}

/* ----------------------------------------------------------------- GEMM */

/* The row panel at m0 (nr rows): decode, then the GEMM over all columns. */
static void gemm_a_panel(cg *c, const gemm_desc *d, const quant_w *q, LLVMValueRef row0,
                         LLVMValueRef m0, int nr, LLVMValueRef rows) {
  quant_decode_rows(c, q, cg_add(c, row0, m0), nr, rows);
  gemm_desc dd = *d;
  dd.M = nr, dd.A = rows, dd.a_packed = 0, dd.lda = q->kp, dd.a_cs = 1;
  dd.C = cg_gep(c, c->f32, d->C, cg_madd(c, m0, d->ldc, cg_i64(c, 0)));
  if (d->bias && d->bias_per_row) dd.bias = cg_gep(c, c->f32, d->bias, m0);
  dd.epi_r0 = cg_add(c, d->epi_r0 ? d->epi_r0 : cg_i64(c, 0), m0);
  gemm_emit(c, &dd);
}

void quant_gemm_a(cg *c, const gemm_desc *d, const quant_w *q, LLVMValueRef row0) {
  LLVMValueRef rows = cg_scratch(c, GEMM_MR * q->kp * 4);
  int64_t full = d->M / GEMM_MR * GEMM_MR;
  if (full > 0) {
    cg_loop ml;
    LLVMValueRef m0 = cg_for_begin(c, &ml, 0, full, GEMM_MR);
    gemm_a_panel(c, d, q, row0, m0, GEMM_MR, rows);
    cg_for_end(c, &ml);
  }
  if (d->M > full) gemm_a_panel(c, d, q, row0, cg_i64(c, full), (int)(d->M - full), rows);
}

static void gemm_b_panel(cg *c, const gemm_desc *d, const quant_w *q, LLVMValueRef p, int width,
                         int64_t batches, int64_t a_stride, int64_t c_stride, LLVMValueRef panel) {
  quant_decode_panel(c, q, p, panel);
  LLVMValueRef n0 = cg_madd(c, p, QCHUNK, cg_i64(c, 0));
  cg_loop bl;
  LLVMValueRef bi = batches > 1 ? cg_for_begin(c, &bl, 0, batches, 1) : cg_i64(c, 0);
  gemm_desc dd = *d;
  dd.N = width, dd.B = panel, dd.ldb = QCHUNK, dd.b_packed = 0;
  dd.A = cg_gep(c, c->f32, d->A, cg_madd(c, bi, a_stride, cg_i64(c, 0)));
  dd.C = cg_gep(c, c->f32, d->C, cg_madd(c, bi, c_stride, n0));
  if (d->bias && !d->bias_per_row) dd.bias = cg_gep(c, c->f32, d->bias, n0);
  dd.epi_p0 = cg_add(c, d->epi_p0 ? d->epi_p0 : cg_i64(c, 0), n0);
  if (batches > 1) dd.epi_b = bi;
  gemm_emit(c, &dd);
  if (batches > 1) cg_for_end(c, &bl);
}

void quant_gemm_b(cg *c, const gemm_desc *d, const quant_w *q, int64_t batches, int64_t a_stride,
                  int64_t c_stride) {
  LLVMValueRef panel = cg_scratch(c, q->kp * QCHUNK * 4);
  int64_t full = d->N / QCHUNK;
  if (full > 0) {
    cg_loop pl;
    LLVMValueRef p = cg_for_begin(c, &pl, 0, full, 1);
    gemm_b_panel(c, d, q, p, QCHUNK, batches, a_stride, c_stride, panel);
    cg_for_end(c, &pl);
  }
  if (d->N > full * QCHUNK)
    gemm_b_panel(c, d, q, cg_i64(c, full), (int)(d->N - full * QCHUNK), batches, a_stride, c_stride,
                 panel);
}
