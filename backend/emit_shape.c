/*
 * emit_shape.c - data movement: Transpose, Slice, Concat, Split, Gather,
 * Expand, Tile, Pad, Resize, DepthToSpace, SpaceToDepth, Cast, and copies
 * for the view ops the memory planner could not alias.
 *
 * Views. Every op but interpolating Resize and Cast is described as one or
 * more views (mv_view): a box of the output whose axes each read the source
 * at an affine offset (a compile-time stride, 0 to broadcast), at offsets
 * from a compile-time table (Pad edge/reflect/wrap, nearest Resize, constant
 * Gather indices) or at run-time indices (Gather). mv_emit simplifies a view
 * before it emits the loop nest over it: tables that are affine become
 * strides, tables that step in blocks of k (integer upsampling: each entry
 * repeated k times) become a pair of strides, tables made of a few affine
 * runs (padding) are emitted run by run, size-1 axes go, and adjacent axes
 * contiguous in both source and output merge. The innermost run is then a
 * memcpy when the source is contiguous, a vector splat when it is broadcast,
 * shuffled vectors for repeats and small strides, else a scalar loop; an
 * outer broadcast axis over a contiguous output block copies the block
 * already written instead of computing it again. Elements move as integers
 * of their size, so every dtype with one works.
 *
 * Semantics are those of ops/shape.c, ops/shape_index.c and, through
 * pare_resize_axis_taps, ops/shape_resize.c. Parameters that decide which
 * elements move (Slice starts/axes/steps, Pad pads/axes, Resize roi, scales
 * and sizes) must be constants; those the static output shapes already
 * imply (Expand's shape, Tile's repeats, Split's sizes) are not read.
 */
#include "backend/cg.h"
#include "backend/emit.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MV_RANK      (2 * PARE_MAX_RANK) /* Tile views pair each axis with its repeats */
#define MV_VEC_BYTES (CG_VW * 4)         /* one vector register: CG_VW floats */
#define MV_MAX_RUNS  4                   /* tables of at most this many affine runs split */
#define RS_MAX_TAPS  64                  /* taps per output the Resize kernel unrolls */

/* ------------------------------------------------------------- elements */

static LLVMTypeRef int_type(cg *c, size_t es) {
  return LLVMIntTypeInContext(c->ctx, (unsigned)(8 * es));
}

static int vec_elems(size_t es) {
  return (int)(MV_VEC_BYTES / es);
}

static unsigned type_bytes(LLVMTypeRef t) {
  return LLVMGetTypeKind(t) == LLVMFloatTypeKind ? 4 : LLVMGetIntTypeWidth(t) / 8;
}

/* w elements (w == 1: a scalar) of type elt at base[idx]. */
static LLVMValueRef load_vec(cg *c, LLVMTypeRef elt, int w, LLVMValueRef base, LLVMValueRef idx) {
  LLVMTypeRef t = w == 1 ? elt : LLVMVectorType(elt, (unsigned)w);
  LLVMValueRef v = LLVMBuildLoad2(c->b, t, cg_gep(c, elt, base, idx), "");
  LLVMSetAlignment(v, type_bytes(elt));
  return v;
}

static void store_vec(cg *c, LLVMValueRef v, LLVMTypeRef elt, LLVMValueRef base, LLVMValueRef idx) {
  LLVMValueRef s = LLVMBuildStore(c->b, v, cg_gep(c, elt, base, idx));
  LLVMSetAlignment(s, type_bytes(elt));
}

/* <w x elt> with every lane x. */
static LLVMValueRef splat_vec(cg *c, LLVMValueRef x, int w) {
  LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(x), (unsigned)w);
  LLVMValueRef v =
      LLVMBuildInsertElement(c->b, LLVMGetUndef(vt), x, LLVMConstInt(c->i32, 0, 0), "");
  LLVMValueRef zeros = LLVMConstNull(LLVMVectorType(c->i32, (unsigned)w));
  return LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(vt), zeros, "");
}

/* cg_for_begin, or just the constant start when the loop body runs once
 * (end > start). */
static LLVMValueRef loop_begin(cg *c, cg_loop *l, int64_t start, int64_t end, int64_t step) {
  l->body = NULL;
  if (end - start <= step) return cg_i64(c, start);
  return cg_for_begin(c, l, start, end, step);
}

static void loop_end(cg *c, cg_loop *l) {
  if (l->body) cg_for_end(c, l);
}

/* Emits body(i, w) for i in [0, n): in vectors of w lanes, then in scalars
 * (w == 1) for the tail. */
typedef void (*lanes_fn)(cg *c, LLVMValueRef i, int w, void *user);

static void for_lanes(cg *c, int64_t n, int w, lanes_fn body, void *user) {
  int64_t vend = n / w * w;
  for (int pass = 0; pass < 2; pass++) {
    int lanes = pass == 0 ? w : 1;
    int64_t start = pass == 0 ? 0 : vend, end = pass == 0 ? vend : n;
    if (end <= start) continue;
    cg_loop l;
    LLVMValueRef i = loop_begin(c, &l, start, end, lanes);
    body(c, i, lanes, user);
    loop_end(c, &l);
  }
}

/* ------------------------------------------------------------ run copies */

typedef struct splat_body {
  LLVMTypeRef et;
  LLVMValueRef x, dst;
} splat_body;

static void splat_lanes(cg *c, LLVMValueRef i, int w, void *user) {
  const splat_body *s = user;
  store_vec(c, w == 1 ? s->x : splat_vec(c, s->x, w), s->et, s->dst, i);
}

/* dst[0..len) = *src. */
static void splat_run(cg *c, size_t es, LLVMValueRef dst, LLVMValueRef src, int64_t len) {
  splat_body s = {.et = int_type(c, es), .dst = dst};
  s.x = load_vec(c, s.et, 1, src, cg_i64(c, 0));
  for_lanes(c, len, vec_elems(es), splat_lanes, &s);
}

/* The full vectors of a run dst[j] = src[(j / k) * s] (s > 0, k dividing
 * the lanes of a vector): each loads the window of source elements it needs
 * and shuffles them into place. Windows never reach past the run's last
 * source element. Returns how many output elements it wrote. */
static int64_t shuffled_run(cg *c, size_t es, LLVMValueRef dst, LLVMValueRef src, int64_t len,
                            int64_t k, int64_t s) {
  int w = vec_elems(es);
  int64_t g = w / k, window = (g - 1) * s + 1, advance = g * s, last = (len - 1) / k * s;
  if (window > 4 * w) return 0; /* wide strides: a scalar loop does as well */
  int64_t nv = len / w;
  while (nv > 0 && (nv - 1) * advance + window - 1 > last) nv--;
  if (nv == 0) return 0;
  LLVMTypeRef et = int_type(c, es), wt = LLVMVectorType(et, (unsigned)window);
  LLVMValueRef mask[MV_VEC_BYTES];
  for (int i = 0; i < w; i++) mask[i] = LLVMConstInt(c->i32, (unsigned long long)(i / k * s), 0);
  cg_loop l;
  LLVMValueRef t = loop_begin(c, &l, 0, nv, 1);
  LLVMValueRef v =
      LLVMBuildLoad2(c->b, wt, cg_gep(c, et, src, cg_madd(c, t, advance, cg_i64(c, 0))), "");
  LLVMSetAlignment(v, (unsigned)es);
  v = LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(wt), LLVMConstVector(mask, (unsigned)w), "");
  store_vec(c, v, et, dst, cg_madd(c, t, w, cg_i64(c, 0)));
  loop_end(c, &l);
  return nv * w;
}

/* A contiguous output run dst[j] = src[(j / k) * s] for j < len (a
 * multiple of k): a memcpy, splats, shuffled vectors, and a scalar loop for
 * what remains. */
static void run_copy(cg *c, size_t es, LLVMValueRef dst, LLVMValueRef src, int64_t len, int64_t k,
                     int64_t s) {
  LLVMTypeRef et = int_type(c, es);
  cg_loop l;
  if (s == 0 || len <= k) {
    splat_run(c, es, dst, src, len);
    return;
  }
  if (k == 1 && s == 1) {
    cg_memcpy(c, dst, src, len * (int64_t)es);
    return;
  }
  if (vec_elems(es) % k != 0) { /* repeats that do not tile a vector: a splat each */
    LLVMValueRef q = loop_begin(c, &l, 0, len / k, 1);
    splat_run(c, es, cg_gep(c, et, dst, cg_madd(c, q, k, cg_i64(c, 0))),
              cg_gep(c, et, src, cg_madd(c, q, s, cg_i64(c, 0))), k);
    loop_end(c, &l);
    return;
  }
  int64_t done = s > 0 ? shuffled_run(c, es, dst, src, len, k, s) : 0;
  if (done == len) return;
  LLVMValueRef j = loop_begin(c, &l, done, len, 1);
  LLVMValueRef q = k == 1 ? j : LLVMBuildUDiv(c->b, j, cg_i64(c, k), "");
  store_vec(c, load_vec(c, et, 1, src, cg_madd(c, q, s, cg_i64(c, 0))), et, dst, j);
  loop_end(c, &l);
}

/* ---------------------------------------------------------------- views */

typedef enum mv_kind {
  MV_AFFINE,  /* source offset i * st */
  MV_TABLE,   /* source offset tbl[i] */
  MV_INDICES, /* source offset index[i] * st, the index read at run time */
} mv_kind;

typedef struct mv_axis {
  mv_kind kind;
  int64_t n;          /* extent */
  int64_t out_st;     /* output stride, elements */
  int64_t st;         /* AFFINE, INDICES: source stride, elements */
  const int64_t *tbl; /* TABLE: n source offsets (borrowed) */
  int ind;            /* INDICES: graph value holding n i32 or i64 indices */
  int64_t dim;        /* INDICES: size of the indexed source axis */
} mv_axis;

typedef struct mv_view {
  size_t es; /* element size, bytes */
  int rank;
  int64_t src_off, dst_off; /* elements */
  mv_axis ax[MV_RANK];
} mv_view;

static void mv_init(mv_view *v, size_t es) {
  memset(v, 0, sizeof *v);
  v->es = es;
}

static mv_axis *mv_add(mv_view *v, int64_t n, int64_t st) {
  mv_axis *a = &v->ax[v->rank++];
  a->kind = MV_AFFINE;
  a->n = n;
  a->st = st;
  return a;
}

/* Output strides of a dense row-major output of the view's extents. */
static void mv_dense(mv_view *v) {
  int64_t acc = 1;
  for (int d = v->rank - 1; d >= 0; d--) {
    v->ax[d].out_st = acc;
    acc *= v->ax[d].n;
  }
}

/* True when t[i] = t[0] + (i / k) * s1 + (i % k) * s2 for all i < n. */
static int table_steps(const int64_t *t, int64_t n, int64_t k, int64_t *s1, int64_t *s2) {
  *s1 = n > k ? t[k] - t[0] : 0;
  *s2 = k > 1 ? t[1] - t[0] : 0;
  for (int64_t i = 0; i < n; i++)
    if (t[i] != t[0] + i / k * *s1 + i % k * *s2) return 0;
  return 1;
}

/* Table axis a as one affine axis, or as two (blocks of k) when each block
 * steps evenly; writes them to out and returns how many (0: no such form). */
static int table_to_strides(const mv_axis *a, mv_axis *out, int64_t *src_off) {
  for (int64_t k = 1; k == 1 || k <= a->n / 2; k++) {
    int64_t s1, s2;
    if (a->n % k != 0 || !table_steps(a->tbl, a->n, k, &s1, &s2)) continue;
    *src_off += a->tbl[0];
    out[0] = (mv_axis){.kind = MV_AFFINE, .n = a->n / k, .st = s1, .out_st = a->out_st * k};
    if (k == 1) return 1;
    out[1] = (mv_axis){.kind = MV_AFFINE, .n = k, .st = s2, .out_st = a->out_st};
    return 2;
  }
  return 0;
}

static int mergeable(const mv_axis *outer, const mv_axis *inner) {
  return outer->kind == MV_AFFINE && inner->kind == MV_AFFINE &&
         outer->st == inner->st * inner->n && outer->out_st == inner->out_st * inner->n;
}

/* Tables to strides where they allow, size-1 axes dropped, contiguous
 * neighbours merged. 0 when the view holds no element. */
static int mv_simplify(mv_view *v) {
  mv_axis ax[MV_RANK];
  int r = 0;
  for (int d = 0; d < v->rank; d++) {
    if (v->ax[d].n == 0) return 0;
    if (v->ax[d].kind == MV_TABLE && r + 2 <= MV_RANK) {
      int got = table_to_strides(&v->ax[d], &ax[r], &v->src_off);
      r += got;
      if (got) continue;
    }
    ax[r++] = v->ax[d];
  }
  int m = 0;
  for (int d = 0; d < r; d++) {
    if (ax[d].kind == MV_AFFINE && ax[d].n == 1) continue;
    if (m > 0 && mergeable(&v->ax[m - 1], &ax[d])) {
      v->ax[m - 1].n *= ax[d].n;
      v->ax[m - 1].st = ax[d].st;
      v->ax[m - 1].out_st = ax[d].out_st;
    } else {
      v->ax[m++] = ax[d];
    }
  }
  if (m == 0) v->ax[m++] = (mv_axis){.kind = MV_AFFINE, .n = 1, .out_st = 1};
  v->rank = m;
  return 1;
}

/* Splits t[0..n) into maximal affine runs, run i starting at start[i];
 * returns their count, stopping once it passes max (start has max + 2 slots). */
static int table_runs(const int64_t *t, int64_t n, int64_t *start, int max) {
  int runs = 0;
  for (int64_t i = 0; i < n && runs <= max; runs++) {
    start[runs] = i;
    int64_t j = i + 1;
    while (j + 1 < n && t[j + 1] - t[j] == t[i + 1] - t[i]) j++;
    i = j + 1;
  }
  return runs;
}

typedef struct mv_ctx {
  cg *c;
  const mv_view *v;
  LLVMValueRef dst, src;
  LLVMTypeRef et;
  LLVMValueRef tbl[MV_RANK]; /* the constant global of each table axis */
} mv_ctx;

/* Run-time index i of an INDICES axis, negative ones counted from the end.
 * The reference rejects indices out of range; generated code cannot report
 * them, so it clamps them and never reads outside the source. */
static LLVMValueRef run_time_index(cg *c, const mv_axis *a, LLVMValueRef i) {
  int wide = c->g->values[a->ind]->dtype == PARE_I64;
  LLVMValueRef x = load_vec(c, wide ? c->i64 : c->i32, 1, cg_value_ptr(c, a->ind), i);
  if (!wide) x = LLVMBuildSExt(c->b, x, c->i64, "");
  LLVMValueRef neg = LLVMBuildICmp(c->b, LLVMIntSLT, x, cg_i64(c, 0), "");
  x = LLVMBuildSelect(c->b, neg, LLVMBuildAdd(c->b, x, cg_i64(c, a->dim), ""), x, "");
  LLVMValueRef low = LLVMBuildICmp(c->b, LLVMIntSLT, x, cg_i64(c, 0), "");
  x = LLVMBuildSelect(c->b, low, cg_i64(c, 0), x, "");
  LLVMValueRef high = LLVMBuildICmp(c->b, LLVMIntSGE, x, cg_i64(c, a->dim), "");
  return LLVMBuildSelect(c->b, high, cg_i64(c, a->dim - 1), x, "");
}

/* acc plus the source offset of index iv along axis d. */
static LLVMValueRef src_term(mv_ctx *m, int d, LLVMValueRef iv, LLVMValueRef acc) {
  cg *c = m->c;
  const mv_axis *a = &m->v->ax[d];
  if (a->kind == MV_AFFINE) return cg_madd(c, iv, a->st, acc);
  if (a->kind == MV_TABLE) return cg_add(c, load_vec(c, c->i64, 1, m->tbl[d], iv), acc);
  return cg_madd(c, run_time_index(c, a, iv), a->st, acc);
}

/* Axes d (stride s, output stride k) and d + 1 (k elements broadcast) write
 * one contiguous run: each source element repeated k times. */
static int repeat_pair(const mv_view *v, int d) {
  if (d != v->rank - 2) return 0;
  const mv_axis *a = &v->ax[d], *b = &v->ax[d + 1];
  return a->kind == MV_AFFINE && b->kind == MV_AFFINE && b->st == 0 && b->out_st == 1 &&
         a->out_st == b->n;
}

/* Axis d broadcasts over an inner block the output holds contiguously, big
 * enough that copying the first block beats computing the others. */
static int replicates(const mv_view *v, int d) {
  const mv_axis *a = &v->ax[d];
  if (a->kind != MV_AFFINE || a->st != 0 || d == v->rank - 1) return 0;
  int64_t block = 1;
  for (int j = v->rank - 1; j > d; j--) {
    if (v->ax[j].out_st != block) return 0;
    block *= v->ax[j].n;
  }
  return a->out_st == block && block * (int64_t)v->es >= MV_VEC_BYTES;
}

static void mv_innermost(mv_ctx *m, int d, LLVMValueRef so, LLVMValueRef doff) {
  cg *c = m->c;
  const mv_axis *a = &m->v->ax[d];
  size_t es = m->v->es;
  LLVMValueRef dp = cg_gep(c, m->et, m->dst, doff), sp = cg_gep(c, m->et, m->src, so);
  if (d < m->v->rank - 1) {
    int64_t k = m->v->ax[d + 1].n;
    run_copy(c, es, dp, sp, a->n * k, k, a->st);
    return;
  }
  if (a->kind == MV_AFFINE && a->out_st == 1) {
    run_copy(c, es, dp, sp, a->n, 1, a->st);
    return;
  }
  cg_loop l;
  LLVMValueRef iv = loop_begin(c, &l, 0, a->n, 1);
  LLVMValueRef x = load_vec(c, m->et, 1, sp, src_term(m, d, iv, cg_i64(c, 0)));
  store_vec(c, x, m->et, dp, cg_madd(c, iv, a->out_st, cg_i64(c, 0)));
  loop_end(c, &l);
}

/* Loops over axes d.. with source offset so and output offset doff. */
static void mv_level(mv_ctx *m, int d, LLVMValueRef so, LLVMValueRef doff) {
  cg *c = m->c;
  const mv_axis *a = &m->v->ax[d];
  cg_loop l;
  if (d == m->v->rank - 1 || repeat_pair(m->v, d)) {
    mv_innermost(m, d, so, doff);
  } else if (replicates(m->v, d)) {
    mv_level(m, d + 1, so, doff);
    LLVMValueRef first = cg_gep(c, m->et, m->dst, doff);
    LLVMValueRef iv = loop_begin(c, &l, 1, a->n, 1);
    cg_memcpy(c, cg_gep(c, m->et, m->dst, cg_madd(c, iv, a->out_st, doff)), first,
              a->out_st * (int64_t)m->v->es);
    loop_end(c, &l);
  } else {
    LLVMValueRef iv = loop_begin(c, &l, 0, a->n, 1);
    mv_level(m, d + 1, src_term(m, d, iv, so), cg_madd(c, iv, a->out_st, doff));
    loop_end(c, &l);
  }
}

/* Emits the copy of view `view` from src to dst (element pointers). */
static void mv_emit(cg *c, const mv_view *view, LLVMValueRef dst, LLVMValueRef src) {
  mv_view v = *view;
  if (!mv_simplify(&v)) return;
  for (int d = 0; d < v.rank; d++) {
    const mv_axis a = v.ax[d];
    int64_t start[MV_MAX_RUNS + 2];
    int runs = a.kind == MV_TABLE ? table_runs(a.tbl, a.n, start, MV_MAX_RUNS) : 0;
    if (runs == 0 || runs > MV_MAX_RUNS) continue;
    start[runs] = a.n;
    for (int i = 0; i < runs; i++) {
      mv_view run = v;
      run.ax[d].tbl = a.tbl + start[i];
      run.ax[d].n = start[i + 1] - start[i];
      run.dst_off += start[i] * a.out_st;
      mv_emit(c, &run, dst, src);
    }
    return;
  }
  mv_ctx m = {.c = c, .v = &v, .dst = dst, .src = src, .et = int_type(c, v.es)};
  for (int d = 0; d < v.rank; d++)
    if (v.ax[d].kind == MV_TABLE)
      m.tbl[d] = cg_const_bytes(c, v.ax[d].tbl, (size_t)v.ax[d].n * sizeof(int64_t), "idx");
  mv_level(&m, 0, cg_i64(c, v.src_off), cg_i64(c, v.dst_off));
}

/* ------------------------------------------------------- op helpers */

static int elem_size(cg *c, int v, size_t *es, pare_err *err) {
  pare_dtype dt = c->g->values[v]->dtype;
  *es = pare_dtype_size(dt);
  if (*es == 0) return pare_errf(err, "dtype %s has no element size", pare_dtype_name(dt));
  return PARE_OK;
}

/* Starts a view reading input 0 of nd; st gets that input's strides. */
static int view_begin(cg *c, const pare_node *nd, mv_view *v, int64_t *st, pare_err *err) {
  size_t es;
  if (elem_size(c, nd->inputs[0], &es, err)) return PARE_ERR;
  mv_init(v, es);
  pare_strides(cg_shape(c, nd->inputs[0]), st);
  return PARE_OK;
}

/* Emits v as the whole of output 0, dense, read from input 0. */
static int emit_dense(cg *c, const pare_node *nd, mv_view *v) {
  mv_dense(v);
  mv_emit(c, v, cg_value_ptr(c, nd->outputs[0]), cg_value_ptr(c, nd->inputs[0]));
  return PARE_OK;
}

static int norm_attr_axis(const pare_node *nd, int rank, int *axis, pare_err *err) {
  return pare_norm_axis(pare_attr_int(nd, "axis", 0), rank, axis, err);
}

/* Integer values of constant input i into v[0..cap); *n = 0 when the input
 * is omitted or empty. PARE_ERR when it is only known at run time. */
static int const_ints(cg *c, const pare_node *nd, int i, const char *what, int64_t *v, int cap,
                      int *n, pare_err *err) {
  *n = 0;
  if (i >= nd->n_inputs || nd->inputs[i] < 0 || cg_numel(c, nd->inputs[i]) == 0) return PARE_OK;
  const pare_tensor *t = cg_const(c, nd->inputs[i]);
  if (!t) return pare_errf(err, "%s must be a constant for the backend", what);
  int64_t count = pare_tensor_numel(t);
  if (count > cap) return pare_errf(err, "%s has %lld values", what, (long long)count);
  for (int64_t j = 0; j < count; j++) v[j] = pare_tensor_get_i64(t, j);
  *n = (int)count;
  return PARE_OK;
}

/* ---------------------------------------------------------- permutations */

static int emit_transpose(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *ys = cg_shape(c, nd->outputs[0]);
  int r = cg_shape(c, nd->inputs[0])->rank;
  const int64_t *perm;
  int64_t np = pare_attr_ints(nd, "perm", &perm);
  int64_t st[PARE_MAX_RANK];
  mv_view v;
  if (np >= 0 && np != r) return pare_errf(err, "perm has %lld entries", (long long)np);
  if (view_begin(c, nd, &v, st, err)) return PARE_ERR;
  for (int i = 0; i < r; i++) mv_add(&v, ys->dims[i], st[np < 0 ? r - 1 - i : perm[i]]);
  return emit_dense(c, nd, &v);
}

/* DepthToSpace: the output as [N, C', H, b, W, b] reads channel
 * c*b*b + i*b + j (CRD) or (i*b + j)*C' + c (DCR). */
static int emit_depth_to_space(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *ys = cg_shape(c, nd->outputs[0]);
  int64_t b = pare_attr_int(nd, "blocksize", 1), c2 = ys->dims[1], st[PARE_MAX_RANK];
  int crd = strcmp(pare_attr_string(nd, "mode", "DCR"), "CRD") == 0;
  mv_view v;
  if (view_begin(c, nd, &v, st, err)) return PARE_ERR;
  mv_add(&v, xs->dims[0], st[0]);
  mv_add(&v, c2, crd ? b * b * st[1] : st[1]);
  mv_add(&v, xs->dims[2], st[2]);
  mv_add(&v, b, crd ? b * st[1] : b * c2 * st[1]);
  mv_add(&v, xs->dims[3], st[3]);
  mv_add(&v, b, crd ? st[1] : c2 * st[1]);
  return emit_dense(c, nd, &v);
}

/* SpaceToDepth: the output as [N, b, b, C, H', W'] reads x[n, c, h*b + i, w*b + j]. */
static int emit_space_to_depth(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *ys = cg_shape(c, nd->outputs[0]);
  int64_t b = pare_attr_int(nd, "blocksize", 1), st[PARE_MAX_RANK];
  mv_view v;
  if (view_begin(c, nd, &v, st, err)) return PARE_ERR;
  mv_add(&v, xs->dims[0], st[0]);
  mv_add(&v, b, st[2]);
  mv_add(&v, b, st[3]);
  mv_add(&v, xs->dims[1], st[1]);
  mv_add(&v, ys->dims[2], b * st[2]);
  mv_add(&v, ys->dims[3], b * st[3]);
  return emit_dense(c, nd, &v);
}

/* ------------------------------------------------------ slicing, joining */

/* Slice start along an axis of dim elements, clamped as ONNX specifies. */
static int64_t slice_start(int64_t s, int64_t dim, int64_t step) {
  if (s < 0) s += dim;
  int64_t hi = step > 0 ? dim : dim - 1;
  return s < 0 ? 0 : s > hi ? hi : s;
}

/* Slice: the element counts are the output's; starts and steps place them. */
static int emit_slice(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *ys = cg_shape(c, nd->outputs[0]);
  int64_t starts[PARE_MAX_RANK], axes[PARE_MAX_RANK], steps[PARE_MAX_RANK], st[PARE_MAX_RANK];
  int64_t start[PARE_MAX_RANK] = {0}, step[PARE_MAX_RANK];
  int ns, na, nst, r = xs->rank;
  mv_view v;
  if (const_ints(c, nd, 1, "starts", starts, r, &ns, err) ||
      const_ints(c, nd, 3, "axes", axes, r, &na, err) ||
      const_ints(c, nd, 4, "steps", steps, r, &nst, err) || view_begin(c, nd, &v, st, err))
    return PARE_ERR;
  for (int a = 0; a < r; a++) step[a] = 1;
  for (int i = 0; i < ns; i++) {
    int a = i;
    if (na && pare_norm_axis(axes[i], r, &a, err)) return PARE_ERR;
    step[a] = nst ? steps[i] : 1;
    start[a] = slice_start(starts[i], xs->dims[a], step[a]);
  }
  for (int a = 0; a < r; a++) {
    v.src_off += start[a] * st[a];
    mv_add(&v, ys->dims[a], st[a] * step[a]);
  }
  return emit_dense(c, nd, &v);
}

/* Concat: each input is a box of the output at its offset along the axis. */
static int emit_concat(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *ys = cg_shape(c, nd->outputs[0]);
  int64_t ost[PARE_MAX_RANK], st[PARE_MAX_RANK], off = 0;
  int axis;
  size_t es;
  if (elem_size(c, nd->outputs[0], &es, err) || norm_attr_axis(nd, ys->rank, &axis, err))
    return PARE_ERR;
  pare_strides(ys, ost);
  for (int i = 0; i < nd->n_inputs; i++) {
    const pare_shape *xs = cg_shape(c, nd->inputs[i]);
    mv_view v;
    mv_init(&v, es);
    pare_strides(xs, st);
    for (int d = 0; d < xs->rank; d++) mv_add(&v, xs->dims[d], st[d])->out_st = ost[d];
    v.dst_off = off * ost[axis];
    mv_emit(c, &v, cg_value_ptr(c, nd->outputs[0]), cg_value_ptr(c, nd->inputs[i]));
    off += xs->dims[axis];
  }
  return PARE_OK;
}

/* Split: each output is a box of the input; the sizes are the outputs'. */
static int emit_split(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int64_t st[PARE_MAX_RANK], off = 0;
  int axis;
  if (norm_attr_axis(nd, xs->rank, &axis, err)) return PARE_ERR;
  for (int j = 0; j < nd->n_outputs; j++) {
    if (nd->outputs[j] < 0) return pare_errf(err, "output %d omitted", j);
    const pare_shape *os = cg_shape(c, nd->outputs[j]);
    mv_view v;
    if (view_begin(c, nd, &v, st, err)) return PARE_ERR;
    for (int d = 0; d < xs->rank; d++) mv_add(&v, os->dims[d], st[d]);
    v.src_off = off * st[axis];
    mv_dense(&v);
    mv_emit(c, &v, cg_value_ptr(c, nd->outputs[j]), cg_value_ptr(c, nd->inputs[0]));
    off += os->dims[axis];
  }
  return PARE_OK;
}

/* Source offsets of constant Gather indices along an axis of dim elements
 * with stride st (caller frees). */
static int64_t *gather_table(const pare_tensor *t, int64_t dim, int64_t st, pare_err *err) {
  int64_t n = pare_tensor_numel(t);
  int64_t *tbl = malloc((size_t)(n ? n : 1) * sizeof *tbl);
  if (!tbl) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  for (int64_t j = 0; j < n; j++) {
    int64_t i = pare_tensor_get_i64(t, j), at = i < 0 ? i + dim : i;
    if (at < 0 || at >= dim) {
      free(tbl);
      pare_errf(err, "index %lld out of range for an axis of size %lld", (long long)i,
                (long long)dim);
      return NULL;
    }
    tbl[j] = at * st;
  }
  return tbl;
}

/* Gather: [outer axes][indices, flattened][inner axes] of the data. */
static int emit_gather(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int ind = nd->inputs[1], axis;
  pare_dtype idt = c->g->values[ind]->dtype;
  const pare_tensor *t = cg_const(c, ind);
  int64_t st[PARE_MAX_RANK], *tbl = NULL, n = cg_numel(c, ind);
  mv_view v;
  if (norm_attr_axis(nd, xs->rank, &axis, err) || view_begin(c, nd, &v, st, err)) return PARE_ERR;
  if (!t && idt != PARE_I32 && idt != PARE_I64)
    return pare_errf(err, "run-time indices of dtype %s", pare_dtype_name(idt));
  if (n > 0 && xs->dims[axis] == 0) return pare_errf(err, "indices into an empty axis");
  if (t && !(tbl = gather_table(t, xs->dims[axis], st[axis], err))) return PARE_ERR;
  for (int d = 0; d < axis; d++) mv_add(&v, xs->dims[d], st[d]);
  mv_axis *a = mv_add(&v, n, st[axis]);
  a->kind = tbl ? MV_TABLE : MV_INDICES;
  a->tbl = tbl;
  a->ind = ind;
  a->dim = xs->dims[axis];
  for (int d = axis + 1; d < xs->rank; d++) mv_add(&v, xs->dims[d], st[d]);
  emit_dense(c, nd, &v);
  free(tbl);
  return PARE_OK;
}

/* ---------------------------------------------------------- broadcasting */

/* Expand: numpy broadcasting of the input to the output's shape. */
static int emit_expand(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *ys = cg_shape(c, nd->outputs[0]);
  int64_t st[PARE_MAX_RANK];
  int shift = ys->rank - xs->rank;
  mv_view v;
  if (view_begin(c, nd, &v, st, err)) return PARE_ERR;
  for (int i = 0; i < ys->rank; i++) {
    int j = i - shift;
    mv_add(&v, ys->dims[i], j >= 0 && xs->dims[j] != 1 ? st[j] : 0);
  }
  return emit_dense(c, nd, &v);
}

/* Tile: the output as [rep0, d0, rep1, d1, ...], stride 0 along repeats. */
static int emit_tile(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *ys = cg_shape(c, nd->outputs[0]);
  int64_t st[PARE_MAX_RANK];
  mv_view v;
  if (view_begin(c, nd, &v, st, err)) return PARE_ERR;
  for (int i = 0; i < xs->rank; i++) {
    mv_add(&v, xs->dims[i] ? ys->dims[i] / xs->dims[i] : 0, 0);
    mv_add(&v, xs->dims[i], st[i]);
  }
  return emit_dense(c, nd, &v);
}

/* ------------------------------------------------------------------- Pad */

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

/* Source index of output o along an axis of d elements padded by b before
 * and e after (negative pads crop), in mode edge, reflect or wrap. */
static int64_t pad_index(pad_mode mode, int64_t o, int64_t d, int64_t b, int64_t e) {
  int64_t lo = b < 0 ? -b : 0, len = d - (e < 0 ? -e : 0) - lo, j = o - b - lo;
  if (j >= 0 && j < len) return lo + j;
  if (mode == PAD_EDGE) return lo + (j < 0 ? 0 : len - 1);
  if (mode == PAD_WRAP) return lo + (j % len + len) % len;
  int64_t period = 2 * (len - 1); /* reflect: the edge element is not repeated */
  if (period == 0) return lo;
  j = (j % period + period) % period;
  return lo + (j < len ? j : period - j);
}

/* Output 0 of nd filled with Pad's constant_value (input 2; 0 when omitted). */
static void pad_fill(cg *c, const pare_node *nd, size_t es, int64_t n) {
  LLVMValueRef dst = cg_value_ptr(c, nd->outputs[0]);
  int v = nd->n_inputs > 2 ? nd->inputs[2] : -1;
  const pare_tensor *t = v >= 0 ? cg_const(c, v) : NULL;
  int zero = v < 0 || cg_numel(c, v) == 0;
  if (t && !zero) {
    const unsigned char *bytes = t->data;
    zero = 1;
    for (size_t i = 0; i < es; i++) zero &= bytes[i] == 0;
  }
  if (zero)
    cg_memset0(c, dst, n * (int64_t)es);
  else
    splat_run(c, es, dst, cg_value_ptr(c, v), n);
}

/* Constant mode: the fill, then the input's kept part as a box of the output. */
static int pad_constant(cg *c, const pare_node *nd, const int64_t *before, const int64_t *after,
                        pare_err *err) {
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *ys = cg_shape(c, nd->outputs[0]);
  int64_t st[PARE_MAX_RANK], ost[PARE_MAX_RANK], kept = 1;
  mv_view v;
  if (view_begin(c, nd, &v, st, err)) return PARE_ERR;
  pare_strides(ys, ost);
  for (int a = 0; a < xs->rank; a++) {
    int64_t lo = before[a] < 0 ? -before[a] : 0, hi = xs->dims[a] - (after[a] < 0 ? -after[a] : 0);
    int64_t n = hi > lo ? hi - lo : 0;
    mv_add(&v, n, st[a])->out_st = ost[a];
    v.src_off += lo * st[a];
    v.dst_off += (lo + before[a]) * ost[a];
    kept *= n;
  }
  if (kept < cg_numel(c, nd->outputs[0])) pad_fill(c, nd, v.es, cg_numel(c, nd->outputs[0]));
  mv_emit(c, &v, cg_value_ptr(c, nd->outputs[0]), cg_value_ptr(c, nd->inputs[0]));
  return PARE_OK;
}

/* Edge, reflect, wrap: one table of source offsets per axis. */
static int pad_tables(cg *c, const pare_node *nd, pad_mode mode, const int64_t *before,
                      const int64_t *after, pare_err *err) {
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *ys = cg_shape(c, nd->outputs[0]);
  int64_t st[PARE_MAX_RANK], sum = 1, at = 0;
  mv_view v;
  if (view_begin(c, nd, &v, st, err)) return PARE_ERR;
  for (int a = 0; a < ys->rank; a++) sum += ys->dims[a];
  int64_t *tbl = malloc((size_t)sum * sizeof *tbl);
  if (!tbl) return pare_errf(err, "out of memory");
  for (int a = 0; a < ys->rank; at += ys->dims[a], a++) {
    for (int64_t o = 0; o < ys->dims[a]; o++)
      tbl[at + o] = pad_index(mode, o, xs->dims[a], before[a], after[a]) * st[a];
    mv_axis *ax = mv_add(&v, ys->dims[a], 0);
    ax->kind = MV_TABLE;
    ax->tbl = tbl + at;
  }
  emit_dense(c, nd, &v);
  free(tbl);
  return PARE_OK;
}

static int emit_pad(cg *c, int k, pare_err *err) {
  static const char *const modes[] = {"constant", "reflect", "edge", "wrap"};
  const pare_node *nd = c->g->nodes[k];
  int r = cg_shape(c, nd->inputs[0])->rank, np, na;
  int64_t pads[2 * PARE_MAX_RANK], axes[PARE_MAX_RANK];
  int64_t before[PARE_MAX_RANK] = {0}, after[PARE_MAX_RANK] = {0};
  const char *ms = pare_attr_string(nd, "mode", "constant");
  int mode = 0;
  while (mode < 4 && strcmp(ms, modes[mode]) != 0) mode++;
  if (mode == 4) return pare_errf(err, "unknown mode '%s'", ms);
  if (const_ints(c, nd, 1, "pads", pads, 2 * r, &np, err) ||
      const_ints(c, nd, 3, "axes", axes, r, &na, err))
    return PARE_ERR;
  for (int i = 0; !na && i < r; i++) axes[i] = i;
  if (!na) na = r;
  if (np != 2 * na) return pare_errf(err, "pads has %d values for %d axes", np, na);
  for (int i = 0; i < na; i++) {
    int a;
    if (pare_norm_axis(axes[i], r, &a, err)) return PARE_ERR;
    before[a] = pads[i];
    after[a] = pads[na + i];
  }
  if (mode == PAD_CONSTANT) return pad_constant(c, nd, before, after, err);
  return pad_tables(c, nd, (pad_mode)mode, before, after, err);
}

/* ---------------------------------------------------------------- Resize */

/* Nearest: a table of source offsets per axis over the outputs that are not
 * extrapolated (tf_crop_and_resize), which the fill value covers first. */
static int resize_nearest(cg *c, const pare_node *nd, const pare_resize_taps *t, pare_err *err) {
  const pare_shape *ys = cg_shape(c, nd->outputs[0]);
  int64_t st[PARE_MAX_RANK], ost[PARE_MAX_RANK], sum = 1, at = 0, inside = 1;
  mv_view v;
  if (view_begin(c, nd, &v, st, err)) return PARE_ERR;
  pare_strides(ys, ost);
  for (int a = 0; a < ys->rank; a++) sum += ys->dims[a];
  int64_t *tbl = malloc((size_t)sum * sizeof *tbl);
  if (!tbl) return pare_errf(err, "out of memory");
  int rc = PARE_OK;
  for (int a = 0; a < ys->rank && rc == PARE_OK; a++) {
    int64_t y0 = 0, y1 = ys->dims[a];
    while (y0 < y1 && t[a].ex[y0]) y0++;
    while (y1 > y0 && t[a].ex[y1 - 1]) y1--;
    for (int64_t y = y0; y < y1; y++) {
      if (t[a].ex[y]) rc = pare_errf(err, "extrapolated outputs inside axis %d", a);
      tbl[at + y - y0] = t[a].idx[y] * st[a];
    }
    mv_axis *ax = mv_add(&v, y1 - y0, 0);
    ax->kind = MV_TABLE;
    ax->tbl = tbl + at;
    ax->out_st = ost[a];
    v.dst_off += y0 * ost[a];
    at += y1 - y0;
    inside *= y1 - y0;
  }
  LLVMValueRef dst = cg_value_ptr(c, nd->outputs[0]);
  if (rc == PARE_OK && inside < cg_numel(c, nd->outputs[0])) {
    float e = (float)t[0].extrapolation;
    if (c->g->values[nd->outputs[0]]->dtype != PARE_F32)
      rc = pare_errf(err, "extrapolation into a %s tensor",
                     pare_dtype_name(c->g->values[nd->outputs[0]]->dtype));
    else
      splat_run(c, 4, dst, cg_const_bytes(c, &e, sizeof e, "extrapolation"),
                cg_numel(c, nd->outputs[0]));
  }
  if (rc == PARE_OK) mv_emit(c, &v, dst, cg_value_ptr(c, nd->inputs[0]));
  free(tbl);
  return rc;
}

typedef struct taps_body {
  int n;
  LLVMValueRef srow[RS_MAX_TAPS], wk[RS_MAX_TAPS], drow;
} taps_body;

/* drow[i] = sum over k of wk[k] * srow[k][i]. */
static void taps_lanes(cg *c, LLVMValueRef i, int w, void *user) {
  const taps_body *t = user;
  LLVMValueRef acc =
      LLVMBuildFMul(c->b, cg_splat(c, t->wk[0], w), cg_loadf(c, t->srow[0], i, w), "");
  for (int k = 1; k < t->n; k++)
    acc = cg_fma(c, cg_splat(c, t->wk[k], w), cg_loadf(c, t->srow[k], i, w), acc);
  cg_storef(c, acc, t->drow, i, w);
}

/* drow[i] = sum over k of w[cell + k] * src[rows[cell + k] + i] for i < inner,
 * cell = y * n, in vectors along i. */
static void resize_row(cg *c, int n, LLVMValueRef rows, LLVMValueRef w, LLVMValueRef y,
                       LLVMValueRef src, LLVMValueRef drow, int64_t inner) {
  taps_body t = {.n = n, .drow = drow};
  for (int k = 0; k < n; k++) {
    LLVMValueRef cell = cg_madd(c, y, n, cg_i64(c, k));
    t.srow[k] = cg_gep(c, c->f32, src, load_vec(c, c->i64, 1, rows, cell));
    t.wk[k] = load_vec(c, c->f32, 1, w, cell);
  }
  for_lanes(c, inner, CG_VW, taps_lanes, &t);
}

/* One separable pass: the middle axis of [outer][nin][inner] floats at src
 * resized into [outer][n_out][inner] at dst. Extrapolated outputs come in
 * runs of their own and get the value; the others their taps. */
static int resize_pass(cg *c, const pare_resize_taps *t, int64_t outer, int64_t nin, int64_t inner,
                       LLVMValueRef src, LLVMValueRef dst, pare_err *err) {
  size_t cells = (size_t)(t->n_out * t->n);
  int64_t *rows = malloc((cells ? cells : 1) * sizeof *rows);
  float *w = malloc((cells ? cells : 1) * sizeof *w), e = (float)t->extrapolation;
  if (!rows || !w) {
    free(rows);
    free(w);
    return pare_errf(err, "out of memory");
  }
  for (size_t i = 0; i < cells; i++) {
    rows[i] = t->idx[i] * inner;
    w[i] = (float)t->w[i];
  }
  LLVMValueRef rows_g = cg_const_bytes(c, rows, cells * sizeof *rows, "taps");
  LLVMValueRef w_g = cg_const_bytes(c, w, cells * sizeof *w, "weights");
  LLVMValueRef e_g = cg_const_bytes(c, &e, sizeof e, "extrapolation");
  free(rows);
  free(w);
  for (int64_t y0 = 0, y1; y0 < t->n_out; y0 = y1) {
    y1 = y0 + 1;
    while (y1 < t->n_out && t->ex[y1] == t->ex[y0]) y1++;
    cg_loop ol, yl;
    LLVMValueRef o = loop_begin(c, &ol, 0, outer, 1);
    LLVMValueRef y = loop_begin(c, &yl, y0, y1, 1);
    LLVMValueRef drow =
        cg_gep(c, c->f32, dst, cg_madd(c, cg_madd(c, o, t->n_out, y), inner, cg_i64(c, 0)));
    if (t->ex[y0])
      splat_run(c, sizeof e, drow, e_g, inner);
    else
      resize_row(c, t->n, rows_g, w_g, y,
                 cg_gep(c, c->f32, src, cg_madd(c, o, nin * inner, cg_i64(c, 0))), drow, inner);
    loop_end(c, &yl);
    loop_end(c, &ol);
  }
  return PARE_OK;
}

/* Linear and cubic (f32): one pass per resized axis, last to first like the
 * reference, through scratch between passes. */
static int resize_interpolate(cg *c, const pare_node *nd, const pare_resize_taps *t,
                              pare_err *err) {
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int r = xs->rank, axes[PARE_MAX_RANK], np = 0;
  int64_t cur[PARE_MAX_RANK], biggest = 0;
  if (c->g->values[nd->inputs[0]]->dtype != PARE_F32)
    return pare_errf(err, "the backend interpolates f32 only");
  memcpy(cur, xs->dims, sizeof cur);
  for (int a = r - 1; a >= 0; a--) {
    if (t[a].identity) continue;
    if (t[a].n > RS_MAX_TAPS) return pare_errf(err, "%d taps per output", t[a].n);
    axes[np++] = a;
  }
  LLVMValueRef src = cg_value_ptr(c, nd->inputs[0]), dst = cg_value_ptr(c, nd->outputs[0]);
  if (np == 0) {
    cg_memcpy(c, dst, src, cg_numel(c, nd->inputs[0]) * (int64_t)sizeof(float));
    return PARE_OK;
  }
  for (int p = 0; p + 1 < np; p++) {
    int64_t size = 1;
    cur[axes[p]] = t[axes[p]].n_out;
    for (int a = 0; a < r; a++) size *= cur[a];
    biggest = size > biggest ? size : biggest;
  }
  memcpy(cur, xs->dims, sizeof cur);
  LLVMValueRef buf[2] = {NULL, NULL};
  for (int p = 0; p + 1 < np && p < 2; p++) /* passes alternate between two buffers */
    buf[p] = cg_scratch(c, biggest * (int64_t)sizeof(float));
  for (int p = 0; p < np; p++) {
    int a = axes[p];
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < a; d++) outer *= cur[d];
    for (int d = a + 1; d < r; d++) inner *= cur[d];
    LLVMValueRef to = p == np - 1 ? dst : buf[p % 2];
    if (resize_pass(c, &t[a], outer, cur[a], inner, src, to, err)) return PARE_ERR;
    cur[a] = t[a].n_out;
    src = to;
  }
  return PARE_OK;
}

static int emit_resize(cg *c, int k, pare_err *err) {
  static const char *const names[4] = {"X", "roi", "scales", "sizes"};
  const pare_node *nd = c->g->nodes[k];
  pare_tensor shapes[4];
  const pare_tensor *in[4] = {NULL, NULL, NULL, NULL};
  pare_resize_taps taps[PARE_MAX_RANK];
  int r = cg_shape(c, nd->inputs[0])->rank, rc = PARE_OK, got = 0;
  if (nd->n_inputs > 4) return pare_errf(err, "%d inputs", nd->n_inputs);
  if (cg_numel(c, nd->outputs[0]) == 0) return PARE_OK;
  if (r == 0) return cg_emit_copy(c, k, err);
  for (int i = 0; i < nd->n_inputs; i++) {
    int v = nd->inputs[i];
    if (v < 0) continue;
    in[i] = cg_const(c, v);
    if (in[i]) continue;
    if (i > 0 && cg_numel(c, v) > 0)
      return pare_errf(err, "%s must be a constant for the backend", names[i]);
    shapes[i] = (pare_tensor){.dtype = c->g->values[v]->dtype, .shape = *cg_shape(c, v)};
    in[i] = &shapes[i];
  }
  for (; got < r && rc == PARE_OK; got++)
    rc = pare_resize_axis_taps(nd, in, nd->n_inputs, got, &taps[got], err);
  if (rc == PARE_OK)
    rc = taps[0].nearest ? resize_nearest(c, nd, taps, err) : resize_interpolate(c, nd, taps, err);
  for (int a = 0; a < got; a++) pare_resize_taps_free(&taps[a]);
  return rc;
}

/* ------------------------------------------------------------------ Cast */

static LLVMTypeRef num_type(cg *c, pare_dtype dt) {
  return dt == PARE_F32 ? c->f32 : dt == PARE_I32 ? c->i32 : dt == PARE_I64 ? c->i64 : NULL;
}

/* x (w lanes of dtype `from`) converted to `to` like the reference: floats
 * truncate toward zero, and NaN or out-of-range floats give the integer
 * type's minimum (what x86's cvtt instructions return). */
static LLVMValueRef convert(cg *c, LLVMValueRef x, pare_dtype from, pare_dtype to, int w) {
  LLVMTypeRef et = num_type(c, to), vt = w == 1 ? et : LLVMVectorType(et, (unsigned)w);
  if (to == PARE_F32) return LLVMBuildSIToFP(c->b, x, vt, "");
  if (from != PARE_F32)
    return to == PARE_I64 ? LLVMBuildSExt(c->b, x, vt, "") : LLVMBuildTrunc(c->b, x, vt, "");
  int bits = to == PARE_I64 ? 63 : 31;
  LLVMValueRef lim = cg_fconst(c, ldexpf(1.0f, bits), w);
  LLVMValueRef ok =
      LLVMBuildAnd(c->b, LLVMBuildFCmp(c->b, LLVMRealOGE, x, LLVMBuildFNeg(c->b, lim, ""), ""),
                   LLVMBuildFCmp(c->b, LLVMRealOLT, x, lim, ""), "");
  LLVMValueRef min = LLVMConstInt(et, 1ull << bits, 0);
  if (w > 1) min = splat_vec(c, min, w);
  return LLVMBuildSelect(c->b, ok, LLVMBuildFPToSI(c->b, x, vt, ""), min, "");
}

typedef struct cast_body {
  pare_dtype from, to;
  LLVMValueRef src, dst;
} cast_body;

static void cast_lanes(cg *c, LLVMValueRef i, int w, void *user) {
  const cast_body *b = user;
  LLVMValueRef x = load_vec(c, num_type(c, b->from), w, b->src, i);
  store_vec(c, convert(c, x, b->from, b->to, w), num_type(c, b->to), b->dst, i);
}

/* Cast between f32, i32 and i64, in vectors. */
static int emit_cast(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  cast_body b = {.from = c->g->values[nd->inputs[0]]->dtype,
                 .to = c->g->values[nd->outputs[0]]->dtype};
  if (b.from == b.to) return cg_emit_copy(c, k, err);
  if (!num_type(c, b.from) || !num_type(c, b.to))
    return pare_errf(err, "cast from %s to %s (the backend casts between f32, i32 and i64)",
                     pare_dtype_name(b.from), pare_dtype_name(b.to));
  b.src = cg_value_ptr(c, nd->inputs[0]);
  b.dst = cg_value_ptr(c, nd->outputs[0]);
  for_lanes(c, cg_numel(c, nd->inputs[0]), CG_VW, cast_lanes, &b);
  return PARE_OK;
}

const cg_op cg_ops_shape[] = {
    {"Reshape", cg_emit_copy},
    {"Flatten", cg_emit_copy},
    {"Squeeze", cg_emit_copy},
    {"Unsqueeze", cg_emit_copy},
    {"Transpose", emit_transpose},
    {"DepthToSpace", emit_depth_to_space},
    {"SpaceToDepth", emit_space_to_depth},
    {"Slice", emit_slice},
    {"Concat", emit_concat},
    {"Split", emit_split},
    {"Gather", emit_gather},
    {"Expand", emit_expand},
    {"Tile", emit_tile},
    {"Pad", emit_pad},
    {"Resize", emit_resize},
    {"Cast", emit_cast},
    {NULL, NULL},
};
