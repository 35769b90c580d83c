/*
 * emit_reduce.c - reductions, softmax, pooling and normalizations (f32).
 *
 * Everything but the windowed pools is built on one primitive, the line
 * pass: walk the n elements of a line (a run along one axis), map each
 * through a small body, optionally store the result at the same offsets of
 * an output, and fold it into an accumulator. A line is either
 *   - contiguous: walked with <32 x float>, then <8 x float>, then scalar
 *     steps, the partial accumulators folded pairwise at the end (vector
 *     partial sums, which also keep long sums accurate); or
 *   - one of `lanes` neighbouring lines whose elements lie side by side in
 *     memory (the axis is not the innermost one): one <lanes x float> load
 *     per element, no horizontal step.
 * So a reduction over the innermost axes (ReduceMean for a layer norm,
 * GlobalAveragePool, Softmax over the last axis) vectorizes along the axis,
 * and one over a middle axis vectorizes over the contiguous block after it.
 *
 * MaxPool and AveragePool copy each input plane into a padded image whose
 * border (filled once per kernel with -inf or 0) covers pads and ceil_mode's
 * overhang, so the window loop has no bounds checks; output columns are
 * vectorized, with deinterleaving loads for strides up to 4. Averages
 * multiply by a compile-time table of reciprocal tap counts.
 */
#include "backend/cg.h"
#include "backend/emit.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Widths of the vector steps, widest first; 4 vectors give 4 independent
 * dependency chains in a reduction. */
static const int vec_widths[] = {4 * CG_VW, CG_VW, 1};
#define N_WIDTHS 3

static int need_f32(cg *c, int v, const char *what, pare_err *err) {
  pare_dtype dt = c->g->values[v]->dtype;
  if (dt == PARE_F32) return PARE_OK;
  return pare_errf(err, "%s is %s; the backend compiles f32 only", what, pare_dtype_name(dt));
}

/* ------------------------------------------------------------ combining */

typedef enum comb { COMB_NONE, COMB_ADD, COMB_MUL, COMB_MAX, COMB_MIN, COMB_GTMAX } comb;

/* The neutral element; -0.0 for sums so that -0.0 + x is exactly x. */
static float comb_identity(comb k) {
  switch (k) {
  case COMB_MUL:
    return 1.0f;
  case COMB_MAX:
  case COMB_GTMAX:
    return -INFINITY;
  case COMB_MIN:
    return INFINITY;
  default:
    return -0.0f;
  }
}

static LLVMValueRef comb_apply(cg *c, comb k, LLVMValueRef a, LLVMValueRef b) {
  LLVMValueRef args[2] = {a, b};
  switch (k) {
  case COMB_MUL:
    return LLVMBuildFMul(c->b, a, b, "");
  /* ReduceMax/Min propagate NaN as the reference does. */
  case COMB_MAX:
    return cg_intrin(c, "llvm.maximum", LLVMTypeOf(a), args, 2);
  case COMB_MIN:
    return cg_intrin(c, "llvm.minimum", LLVMTypeOf(a), args, 2);
  /* b > a ? b : a, the running max of the reference's pools and softmax (a
   * NaN never replaces it): one maxps. */
  case COMB_GTMAX:
    return LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, b, a, ""), b, a, "");
  default:
    return LLVMBuildFAdd(c->b, a, b, "");
  }
}

/* Lane count of a float or <w x float> value. */
static int width_of(LLVMValueRef v) {
  LLVMTypeRef t = LLVMTypeOf(v);
  return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? (int)LLVMGetVectorSize(t) : 1;
}

/* Folds v down to `to` lanes by combining halves (a pairwise tree). */
static LLVMValueRef fold(cg *c, comb k, LLVMValueRef v, int to) {
  for (int from = width_of(v); from > to; from /= 2) {
    int h = from / 2;
    LLVMValueRef lo, hi;
    if (h == 1) {
      lo = LLVMBuildExtractElement(c->b, v, LLVMConstInt(c->i32, 0, 0), "");
      hi = LLVMBuildExtractElement(c->b, v, LLVMConstInt(c->i32, 1, 0), "");
    } else {
      LLVMValueRef ml[4 * CG_VW], mh[4 * CG_VW];
      for (int i = 0; i < h; i++) {
        ml[i] = LLVMConstInt(c->i32, (unsigned long long)i, 0);
        mh[i] = LLVMConstInt(c->i32, (unsigned long long)(h + i), 0);
      }
      LLVMValueRef u = LLVMGetUndef(LLVMTypeOf(v));
      lo = LLVMBuildShuffleVector(c->b, v, u, LLVMConstVector(ml, (unsigned)h), "");
      hi = LLVMBuildShuffleVector(c->b, v, u, LLVMConstVector(mh, (unsigned)h), "");
    }
    v = comb_apply(c, k, lo, hi);
  }
  return v;
}

/* A line-pass parameter at width w: scalars (of contiguous lines) are splatted. */
static LLVMValueRef fit(cg *c, LLVMValueRef p, int w) {
  return width_of(p) == w ? p : cg_splat(c, p, w);
}

static LLVMValueRef fsqrt(cg *c, LLVMValueRef v) {
  return cg_intrin(c, "llvm.sqrt", LLVMTypeOf(v), &v, 1);
}

/* ----------------------------------------------------------- line passes */

typedef struct line {
  LLVMValueRef src, dst; /* dst: where mapped values go (same offsets), or NULL */
  LLVMValueRef off;      /* element offset of the first element (i64) */
  int64_t n, stride;     /* elements along the line and their distance */
  int lanes;             /* 0: one contiguous line (stride 1); else lines side by side */
} line;

/* Values a pass body reads besides x. */
typedef struct fparams {
  LLVMValueRef p[3];        /* scalars, or <lanes x float> when lanes > 0 */
  LLVMValueRef scale, bias; /* arrays indexed by position along a contiguous line, or NULL */
} fparams;

/* The body of a pass: x (w lanes) at position j along the line to its value. */
typedef LLVMValueRef (*line_fn)(cg *c, LLVMValueRef x, LLVMValueRef j, int w, const fparams *fp);

/* Pass bodies. */

static LLVMValueRef f_abs(cg *c, LLVMValueRef x, LLVMValueRef j, int w, const fparams *fp) {
  (void)j, (void)w, (void)fp;
  return cg_intrin(c, "llvm.fabs", LLVMTypeOf(x), &x, 1);
}

static LLVMValueRef f_sq(cg *c, LLVMValueRef x, LLVMValueRef j, int w, const fparams *fp) {
  (void)j, (void)w, (void)fp;
  return LLVMBuildFMul(c->b, x, x, "");
}

/* (x - p0)^2: the squared deviation from a mean. */
static LLVMValueRef f_dev2(cg *c, LLVMValueRef x, LLVMValueRef j, int w, const fparams *fp) {
  (void)j;
  LLVMValueRef d = LLVMBuildFSub(c->b, x, fit(c, fp->p[0], w), "");
  return LLVMBuildFMul(c->b, d, d, "");
}

/* exp(x - p0); NaN stays NaN (cg_exp's clamps would make it finite), so a
 * NaN or an all -inf line poisons its sum as in the reference. */
static LLVMValueRef f_exp(cg *c, LLVMValueRef x, LLVMValueRef j, int w, const fparams *fp) {
  (void)j;
  LLVMValueRef d = LLVMBuildFSub(c->b, x, fit(c, fp->p[0], w), "");
  LLVMValueRef nan = LLVMBuildFCmp(c->b, LLVMRealUNO, d, d, "");
  return LLVMBuildSelect(c->b, nan, d, cg_exp(c, d, w), "");
}

static LLVMValueRef f_mul(cg *c, LLVMValueRef x, LLVMValueRef j, int w, const fparams *fp) {
  (void)j;
  return LLVMBuildFMul(c->b, x, fit(c, fp->p[0], w), "");
}

/* (x - p0) - p1: log-softmax, subtracting in the reference's order. */
static LLVMValueRef f_sub2(cg *c, LLVMValueRef x, LLVMValueRef j, int w, const fparams *fp) {
  (void)j;
  LLVMValueRef d = LLVMBuildFSub(c->b, x, fit(c, fp->p[0], w), "");
  return LLVMBuildFSub(c->b, d, fit(c, fp->p[1], w), "");
}

/* (x - p0) * p1, times scale[j], plus bias[j] or p2: the normalizations. */
static LLVMValueRef f_affine(cg *c, LLVMValueRef x, LLVMValueRef j, int w, const fparams *fp) {
  LLVMValueRef t = LLVMBuildFSub(c->b, x, fit(c, fp->p[0], w), "");
  t = LLVMBuildFMul(c->b, t, fit(c, fp->p[1], w), "");
  if (fp->scale) t = LLVMBuildFMul(c->b, t, cg_loadf(c, fp->scale, j, w), "");
  if (fp->bias) return LLVMBuildFAdd(c->b, t, cg_loadf(c, fp->bias, j, w), "");
  return fp->p[2] ? LLVMBuildFAdd(c->b, t, fit(c, fp->p[2], w), "") : t;
}

/* x / p0, and 0 where p0 == 0: a zero vector stays zero (LpNormalization). */
static LLVMValueRef f_div_nz(cg *c, LLVMValueRef x, LLVMValueRef j, int w, const fparams *fp) {
  (void)j;
  LLVMValueRef d = fit(c, fp->p[0], w);
  LLVMValueRef nz = LLVMBuildFCmp(c->b, LLVMRealUNE, d, cg_fconst(c, 0.0f, w), "");
  return LLVMBuildSelect(c->b, nz, LLVMBuildFDiv(c->b, x, d, ""), cg_fconst(c, 0.0f, w), "");
}

/* Positions [start, end) in steps of `step`, w floats at off + j * stride. */
static LLVMValueRef pass_span(cg *c, const line *ln, int64_t start, int64_t end, int64_t step,
                              int w, line_fn fn, const fparams *fp, comb k) {
  int looped = end - start > step;
  LLVMTypeRef t = cg_ftype(c, w);
  LLVMValueRef acc = k ? cg_fconst(c, comb_identity(k), w) : NULL, slot = NULL;
  if (k && looped) {
    slot = cg_alloca(c, t);
    LLVMBuildStore(c->b, acc, slot);
  }
  cg_loop l;
  LLVMValueRef j = looped ? cg_for_begin(c, &l, start, end, step) : cg_i64(c, start);
  LLVMValueRef idx = cg_madd(c, j, ln->stride, ln->off);
  LLVMValueRef y = cg_loadf(c, ln->src, idx, w);
  if (fn) y = fn(c, y, j, w, fp);
  if (ln->dst) cg_storef(c, y, ln->dst, idx, w);
  if (k) {
    if (slot) acc = LLVMBuildLoad2(c->b, t, slot, "");
    acc = comb_apply(c, k, acc, y);
    if (slot) LLVMBuildStore(c->b, acc, slot);
  }
  if (looped) {
    cg_for_end(c, &l);
    if (slot) acc = LLVMBuildLoad2(c->b, t, slot, "");
  }
  return acc;
}

/* One pass over ln; returns the fold of the mapped values under k (a scalar
 * for a contiguous line, <lanes x float> otherwise), or NULL for COMB_NONE. */
static LLVMValueRef line_pass(cg *c, const line *ln, line_fn fn, const fparams *fp, comb k) {
  if (ln->lanes) {
    if (ln->n == 0) return k ? cg_fconst(c, comb_identity(k), ln->lanes) : NULL;
    return pass_span(c, ln, 0, ln->n, 1, ln->lanes, fn, fp, k);
  }
  /* exp's long polynomial already overlaps across steps; four vectors of
   * it would spill registers. */
  int max_w = fn == f_exp ? CG_VW : 4 * CG_VW;
  LLVMValueRef acc = NULL;
  int64_t start = 0;
  for (int i = 0; i < N_WIDTHS; i++) {
    int w = vec_widths[i];
    if (w > max_w) continue;
    int64_t end = start + (ln->n - start) / w * w;
    if (end > start) {
      LLVMValueRef a = pass_span(c, ln, start, end, w, w, fn, fp, k);
      if (k) acc = acc ? comb_apply(c, k, fold(c, k, acc, w), a) : a;
    }
    start = end;
  }
  if (!k) return NULL;
  return acc ? fold(c, k, acc, 1) : cg_f32c(c, comb_identity(k));
}

/* ---------------------------------------------------------- loop helpers */

/* Loops over several dims, each advancing two offsets by its strides. */
typedef struct nest {
  int n;
  int64_t dims[PARE_MAX_RANK], st[2][PARE_MAX_RANK];
  cg_loop l[PARE_MAX_RANK];
} nest;

static void nest_add(nest *ns, int64_t dim, int64_t s0, int64_t s1) {
  if (dim == 1) return;
  ns->dims[ns->n] = dim;
  ns->st[0][ns->n] = s0;
  ns->st[1][ns->n] = s1;
  ns->n++;
}

/* Opens the loops, outermost first; off[0..1] become the body's offsets. */
static void nest_open(cg *c, nest *ns, LLVMValueRef *off) {
  for (int i = 0; i < ns->n; i++) {
    LLVMValueRef iv = cg_for_begin(c, &ns->l[i], 0, ns->dims[i], 1);
    for (int s = 0; s < 2; s++) off[s] = cg_madd(c, iv, ns->st[s][i], off[s]);
  }
}

static void nest_close(cg *c, nest *ns) {
  for (int i = ns->n - 1; i >= 0; i--) cg_for_end(c, &ns->l[i]);
}

/* Calls body on blocks of w lanes at i (i64), covering [0, n) with the
 * widths of vec_widths up to max_w. */
typedef void (*chunk_fn)(cg *c, LLVMValueRef i, int w, void *ctx);

static void lane_chunks(cg *c, int64_t n, int max_w, chunk_fn body, void *ctx) {
  int64_t start = 0;
  for (int k = 0; k < N_WIDTHS; k++) {
    int w = vec_widths[k];
    if (w > max_w) continue;
    int64_t end = start + (n - start) / w * w;
    if (end > start) {
      int looped = end - start > w;
      cg_loop l;
      LLVMValueRef i = looped ? cg_for_begin(c, &l, start, end, w) : cg_i64(c, start);
      body(c, i, w, ctx);
      if (looped) cg_for_end(c, &l);
    }
    start = end;
  }
}

/* ----------------------------------------------------------- axis lines */

/* Per-line work of an op along one axis; stat indexes the line's first lane
 * in a tensor shaped like x with the axis reduced to 1. */
typedef void (*axis_fn)(cg *c, const line *ln, LLVMValueRef stat, void *ctx);

/* x and y viewed as [outer][n][inner], fn applied to every line along n. */
typedef struct axis_job {
  LLVMValueRef x, y;
  int64_t outer, n, inner;
  int max_lanes; /* widest block of neighbouring lines; 0: 4 * CG_VW */
  axis_fn fn;
  void *ctx;
  LLVMValueRef o_off, o_stat; /* offsets of the current outer index */
} axis_job;

static void axis_chunk(cg *c, LLVMValueRef i, int w, void *ctx) {
  axis_job *a = ctx;
  line ln = {.src = a->x,
             .dst = a->y,
             .off = cg_add(c, a->o_off, i),
             .n = a->n,
             .stride = a->inner,
             .lanes = w};
  a->fn(c, &ln, cg_add(c, a->o_stat, i), a->ctx);
}

/* Contiguous lines when inner == 1 and fn takes them, else blocks of
 * neighbouring lines. */
static void axis_lines(cg *c, axis_job *a, int contiguous_ok) {
  nest ns = {0};
  nest_add(&ns, a->outer, a->n * a->inner, a->inner);
  LLVMValueRef off[2] = {cg_i64(c, 0), cg_i64(c, 0)};
  nest_open(c, &ns, off);
  a->o_off = off[0], a->o_stat = off[1];
  if (a->inner == 1 && contiguous_ok) {
    line ln = {.src = a->x, .dst = a->y, .off = off[0], .n = a->n, .stride = 1, .lanes = 0};
    a->fn(c, &ln, off[1], a->ctx);
  } else {
    lane_chunks(c, a->inner, a->max_lanes ? a->max_lanes : 4 * CG_VW, axis_chunk, a);
  }
  nest_close(c, &ns);
}

/* Splits x's shape at axis into outer * n * inner. */
static void split_axis(const pare_shape *s, int axis, int64_t *outer, int64_t *n, int64_t *inner) {
  *outer = *inner = 1;
  for (int d = 0; d < axis; d++) *outer *= s->dims[d];
  for (int d = axis + 1; d < s->rank; d++) *inner *= s->dims[d];
  *n = s->dims[axis];
}

/* ---------------------------------------------------------- reductions */

typedef enum red_fin { FIN_NONE, FIN_MEAN, FIN_SQRT, FIN_LOG, FIN_LSE } red_fin;

/* A reduce op: each element mapped by pre, folded by k, finished by fin. */
typedef struct reduce_def {
  const char *op;
  line_fn pre;
  comb k;
  red_fin fin;
} reduce_def;

static const reduce_def reduce_defs[] = {
    {"ReduceSum", NULL, COMB_ADD, FIN_NONE},
    {"ReduceMean", NULL, COMB_ADD, FIN_MEAN},
    {"ReduceMax", NULL, COMB_MAX, FIN_NONE},
    {"ReduceMin", NULL, COMB_MIN, FIN_NONE},
    {"ReduceProd", NULL, COMB_MUL, FIN_NONE},
    {"ReduceL1", f_abs, COMB_ADD, FIN_NONE},
    {"ReduceL2", f_sq, COMB_ADD, FIN_SQRT},
    {"ReduceSumSquare", f_sq, COMB_ADD, FIN_NONE},
    {"ReduceLogSum", NULL, COMB_ADD, FIN_LOG},
    {"ReduceLogSumExp", NULL, COMB_MAX, FIN_LSE}, /* k: the max pass */
    {"GlobalAveragePool", NULL, COMB_ADD, FIN_MEAN},
    {"GlobalMaxPool", NULL, COMB_GTMAX, FIN_NONE},
    {NULL, NULL, COMB_NONE, FIN_NONE},
};

static const reduce_def *find_reduce_def(const char *op) {
  const reduce_def *d = reduce_defs;
  while (d->op && strcmp(d->op, op) != 0) d++;
  return d;
}

/* x with size-1 dims dropped and neighbours that are both reduced or both
 * kept merged, so it alternates kept and reduced dims. */
typedef struct red_geom {
  int rank;
  int64_t dims[PARE_MAX_RANK], xst[PARE_MAX_RANK], yst[PARE_MAX_RANK]; /* yst 0 when reduced */
  int red[PARE_MAX_RANK];
  int64_t count; /* elements folded into each output */
} red_geom;

static void red_geom_make(const pare_shape *xs, const int *reduced, red_geom *g) {
  memset(g, 0, sizeof *g);
  g->count = 1;
  int any_reduced = 0;
  for (int d = 0; d < xs->rank; d++) {
    if (reduced[d]) g->count *= xs->dims[d];
    if (xs->dims[d] == 1) continue;
    any_reduced |= reduced[d];
    if (g->rank > 0 && g->red[g->rank - 1] == reduced[d]) {
      g->dims[g->rank - 1] *= xs->dims[d];
    } else {
      g->dims[g->rank] = xs->dims[d];
      g->red[g->rank++] = reduced[d];
    }
  }
  /* Only size-1 dims reduced: each output folds its one element. */
  if (!any_reduced) {
    g->dims[g->rank] = 1;
    g->red[g->rank++] = 1;
  }
  int64_t xa = 1, ya = 1;
  for (int d = g->rank - 1; d >= 0; d--) {
    g->xst[d] = xa;
    xa *= g->dims[d];
    g->yst[d] = g->red[d] ? 0 : ya;
    if (!g->red[d]) ya *= g->dims[d];
  }
}

typedef struct reduce_job {
  const red_geom *g;
  const reduce_def *def;
  LLVMValueRef x, y;
  LLVMValueRef xoff, yoff; /* offsets of the current block of outputs */
} reduce_job;

/* Folds all the elements of the output(s) whose first element is at x[off]:
 * the innermost reduced dim is the line, the other reduced dims loop
 * around it. */
static LLVMValueRef reduce_region(cg *c, const reduce_job *r, LLVMValueRef off, int lanes,
                                  line_fn pre, const fparams *fp, comb k) {
  const red_geom *g = r->g;
  int inner = g->rank - 1;
  while (!g->red[inner]) inner--;
  nest ns = {0};
  for (int d = 0; d < inner; d++)
    if (g->red[d]) nest_add(&ns, g->dims[d], g->xst[d], 0);
  LLVMTypeRef t = cg_ftype(c, lanes ? lanes : 1);
  LLVMValueRef slot = NULL;
  if (ns.n) {
    slot = cg_alloca(c, t);
    LLVMBuildStore(c->b, cg_fconst(c, comb_identity(k), lanes ? lanes : 1), slot);
  }
  LLVMValueRef offs[2] = {off, cg_i64(c, 0)};
  nest_open(c, &ns, offs);
  line ln = {
      .src = r->x, .off = offs[0], .n = g->dims[inner], .stride = g->xst[inner], .lanes = lanes};
  LLVMValueRef acc = line_pass(c, &ln, pre, fp, k);
  if (!slot) return acc;
  LLVMBuildStore(c->b, comb_apply(c, k, LLVMBuildLoad2(c->b, t, slot, ""), acc), slot);
  nest_close(c, &ns);
  return LLVMBuildLoad2(c->b, t, slot, "");
}

/* The finished reduction (lanes outputs side by side, or one when 0). */
static LLVMValueRef reduce_value(cg *c, const reduce_job *r, LLVMValueRef off, int lanes) {
  const reduce_def *def = r->def;
  int w = lanes ? lanes : 1;
  LLVMValueRef v = reduce_region(c, r, off, lanes, def->pre, NULL, def->k);
  switch (def->fin) {
  case FIN_MEAN:
    return LLVMBuildFDiv(c->b, v, cg_fconst(c, (float)r->g->count, w), "");
  case FIN_SQRT:
    return fsqrt(c, v);
  case FIN_LOG:
    return cg_libm1(c, "logf", v, w);
  case FIN_LSE: {
    /* max + log(sum exp(x - max)); a non-finite max (NaN, +inf, or -inf when
     * every element is -inf or there are none) is the result itself, as in
     * the reference's unshifted form. */
    fparams fp = {{v}, NULL, NULL};
    LLVMValueRef s = reduce_region(c, r, off, lanes, f_exp, &fp, COMB_ADD);
    LLVMValueRef lse = LLVMBuildFAdd(c->b, v, cg_libm1(c, "logf", s, w), "");
    LLVMValueRef a = cg_intrin(c, "llvm.fabs", LLVMTypeOf(v), &v, 1);
    LLVMValueRef finite = LLVMBuildFCmp(c->b, LLVMRealOLT, a, cg_fconst(c, INFINITY, w), "");
    return LLVMBuildSelect(c->b, finite, lse, v, "");
  }
  default:
    return v;
  }
}

static void reduce_chunk(cg *c, LLVMValueRef i, int w, void *ctx) {
  reduce_job *r = ctx;
  LLVMValueRef v = reduce_value(c, r, cg_add(c, r->xoff, i), w);
  cg_storef(c, v, r->y, cg_add(c, r->yoff, i), w);
}

/* Input 0 of nd reduced over the dims flagged in `reduced` into output 0.
 * Innermost dim reduced: one contiguous line per output. Innermost dim
 * kept: blocks of neighbouring outputs reduced together as lanes. */
static int emit_reduction(cg *c, const pare_node *nd, const reduce_def *def, const int *reduced) {
  if (cg_numel(c, nd->outputs[0]) == 0) return PARE_OK;
  red_geom g;
  red_geom_make(cg_shape(c, nd->inputs[0]), reduced, &g);
  reduce_job r = {.g = &g, .def = def};
  r.x = cg_value_ptr(c, nd->inputs[0]);
  r.y = cg_value_ptr(c, nd->outputs[0]);
  int last = g.rank - 1;
  nest ns = {0};
  for (int d = 0; d < last; d++)
    if (!g.red[d]) nest_add(&ns, g.dims[d], g.xst[d], g.yst[d]);
  LLVMValueRef off[2] = {cg_i64(c, 0), cg_i64(c, 0)};
  nest_open(c, &ns, off);
  if (g.red[last]) {
    cg_storef(c, reduce_value(c, &r, off[0], 0), r.y, off[1], 1);
  } else {
    r.xoff = off[0], r.yoff = off[1];
    /* LogSumExp's exp would spill registers at four vectors. */
    lane_chunks(c, g.dims[last], def->fin == FIN_LSE ? CG_VW : 4 * CG_VW, reduce_chunk, &r);
  }
  nest_close(c, &ns);
  return PARE_OK;
}

/* Reduce*: axes from constant input 1; none means all axes, or a copy with
 * noop_with_empty_axes. */
static int emit_reduce(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  if (need_f32(c, nd->inputs[0], "the input", err)) return PARE_ERR;
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int reduced[PARE_MAX_RANK] = {0};
  int64_t n_axes = 0;
  /* Run-time axes are only known when there are none. */
  if (nd->n_inputs > 1 && nd->inputs[1] >= 0 && cg_numel(c, nd->inputs[1]) > 0) {
    const pare_tensor *axes = cg_const(c, nd->inputs[1]);
    if (!axes) return pare_errf(err, "axes must be a constant");
    n_axes = pare_tensor_numel(axes);
    for (int64_t i = 0; i < n_axes; i++) {
      int a;
      if (pare_norm_axis(pare_tensor_get_i64(axes, i), xs->rank, &a, err)) return PARE_ERR;
      reduced[a] = 1;
    }
  }
  if (n_axes == 0) {
    if (pare_attr_int(nd, "noop_with_empty_axes", 0)) return cg_emit_copy(c, k, err);
    for (int d = 0; d < xs->rank; d++) reduced[d] = 1;
  }
  return emit_reduction(c, nd, find_reduce_def(nd->op), reduced);
}

/* GlobalAveragePool / GlobalMaxPool: a reduction over the spatial dims. */
static int emit_global_pool(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  if (need_f32(c, nd->inputs[0], "the input", err)) return PARE_ERR;
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  if (xs->rank < 3) return pare_errf(err, "input of rank %d", xs->rank);
  /* Empty planes average to 0 in the reference, not 0/0. */
  if (cg_numel(c, nd->inputs[0]) == 0) {
    cg_memset0(c, cg_value_ptr(c, nd->outputs[0]), cg_numel(c, nd->outputs[0]) * 4);
    return PARE_OK;
  }
  int reduced[PARE_MAX_RANK] = {0};
  for (int d = 2; d < xs->rank; d++) reduced[d] = 1;
  return emit_reduction(c, nd, find_reduce_def(nd->op), reduced);
}

/* ------------------------------------------------ Softmax and relatives */

/* max; then exp(x - max) stored and summed; then scaled by 1 / sum. Log
 * softmax: (x - max) - log(sum). */
static void softmax_line(cg *c, const line *ln, LLVMValueRef stat, void *ctx) {
  const char *op = ctx;
  (void)stat;
  line rd = *ln;
  rd.dst = NULL;
  fparams fp = {{NULL}, NULL, NULL};
  fp.p[0] = line_pass(c, &rd, NULL, NULL, COMB_GTMAX);
  int w = width_of(fp.p[0]);
  if (strcmp(op, "Softmax") == 0) {
    LLVMValueRef s = line_pass(c, ln, f_exp, &fp, COMB_ADD);
    fp.p[0] = LLVMBuildFDiv(c->b, cg_fconst(c, 1.0f, w), s, "");
    line out = *ln;
    out.src = ln->dst;
    line_pass(c, &out, f_mul, &fp, COMB_NONE);
  } else {
    fp.p[1] = cg_libm1(c, "logf", line_pass(c, &rd, f_exp, &fp, COMB_ADD), w);
    line_pass(c, ln, f_sub2, &fp, COMB_NONE);
  }
}

static LLVMValueRef splat_i64(cg *c, LLVMValueRef s, int w) {
  if (w == 1) return s;
  LLVMTypeRef vt = LLVMVectorType(c->i64, (unsigned)w);
  LLVMValueRef v =
      LLVMBuildInsertElement(c->b, LLVMGetUndef(vt), s, LLVMConstInt(c->i32, 0, 0), "");
  LLVMValueRef mask = LLVMConstNull(LLVMVectorType(c->i32, (unsigned)w));
  return LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(vt), mask, "");
}

/* 1 at the first maximum of each line (strict >, as the reference), 0
 * elsewhere; lanes lines at once. */
static void hardmax_line(cg *c, const line *ln, LLVMValueRef stat, void *ctx) {
  (void)stat, (void)ctx;
  int w = ln->lanes;
  LLVMTypeRef ft = cg_ftype(c, w), it = w == 1 ? c->i64 : LLVMVectorType(c->i64, (unsigned)w);
  LLVMValueRef best_v = cg_alloca(c, ft), best_i = cg_alloca(c, it);
  LLVMBuildStore(c->b, cg_loadf(c, ln->src, ln->off, w), best_v);
  LLVMBuildStore(c->b, LLVMConstNull(it), best_i);
  cg_loop l;
  if (ln->n > 1) {
    LLVMValueRef j = cg_for_begin(c, &l, 1, ln->n, 1);
    LLVMValueRef x = cg_loadf(c, ln->src, cg_madd(c, j, ln->stride, ln->off), w);
    LLVMValueRef bv = LLVMBuildLoad2(c->b, ft, best_v, "");
    LLVMValueRef gt = LLVMBuildFCmp(c->b, LLVMRealOGT, x, bv, "");
    LLVMBuildStore(c->b, LLVMBuildSelect(c->b, gt, x, bv, ""), best_v);
    LLVMValueRef bi = LLVMBuildLoad2(c->b, it, best_i, "");
    LLVMBuildStore(c->b, LLVMBuildSelect(c->b, gt, splat_i64(c, j, w), bi, ""), best_i);
    cg_for_end(c, &l);
  }
  LLVMValueRef best = LLVMBuildLoad2(c->b, it, best_i, "");
  LLVMValueRef j = cg_for_begin(c, &l, 0, ln->n, 1);
  LLVMValueRef hit = LLVMBuildICmp(c->b, LLVMIntEQ, best, splat_i64(c, j, w), "");
  LLVMValueRef y = LLVMBuildSelect(c->b, hit, cg_fconst(c, 1.0f, w), cg_fconst(c, 0.0f, w), "");
  cg_storef(c, y, ln->dst, cg_madd(c, j, ln->stride, ln->off), w);
  cg_for_end(c, &l);
}

/* Softmax, LogSoftmax, Hardmax along one axis (opset-13 semantics). */
static int emit_softmax(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  if (need_f32(c, nd->inputs[0], "the input", err)) return PARE_ERR;
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int axis;
  if (pare_norm_axis(pare_attr_int(nd, "axis", -1), xs->rank, &axis, err)) return PARE_ERR;
  if (cg_numel(c, nd->inputs[0]) == 0) return PARE_OK;
  int hard = strcmp(nd->op, "Hardmax") == 0;
  /* One vector of lanes: exp's registers would spill at four. */
  axis_job a = {.x = cg_value_ptr(c, nd->inputs[0]),
                .y = cg_value_ptr(c, nd->outputs[0]),
                .max_lanes = CG_VW,
                .fn = hard ? hardmax_line : softmax_line,
                .ctx = nd->op};
  split_axis(xs, axis, &a.outer, &a.n, &a.inner);
  axis_lines(c, &a, !hard);
  return PARE_OK;
}

/* y = x / ||x||_p along the axis. */
static void lpnorm_line(cg *c, const line *ln, LLVMValueRef stat, void *ctx) {
  int p = *(const int *)ctx;
  (void)stat;
  line rd = *ln;
  rd.dst = NULL;
  LLVMValueRef s = line_pass(c, &rd, p == 1 ? f_abs : f_sq, NULL, COMB_ADD);
  fparams fp = {{p == 1 ? s : fsqrt(c, s)}, NULL, NULL};
  line_pass(c, ln, f_div_nz, &fp, COMB_NONE);
}

static int emit_lpnorm(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  if (need_f32(c, nd->inputs[0], "the input", err)) return PARE_ERR;
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int axis, p = (int)pare_attr_int(nd, "p", 2);
  if (p != 1 && p != 2) return pare_errf(err, "p must be 1 or 2, got %d", p);
  if (pare_norm_axis(pare_attr_int(nd, "axis", -1), xs->rank, &axis, err)) return PARE_ERR;
  if (cg_numel(c, nd->inputs[0]) == 0) return PARE_OK;
  axis_job a = {.x = cg_value_ptr(c, nd->inputs[0]),
                .y = cg_value_ptr(c, nd->outputs[0]),
                .fn = lpnorm_line,
                .ctx = &p};
  split_axis(xs, axis, &a.outer, &a.n, &a.inner);
  axis_lines(c, &a, 1);
  return PARE_OK;
}

/* ------------------------------------------------------- normalizations */

typedef struct norm_job {
  float eps;
  /* LayerNorm: arrays over the normalized shape (bias may be NULL);
   * InstanceNorm: per-channel vectors of `channels` elements. */
  LLVMValueRef scale, bias;
  int64_t channels;       /* 0 for LayerNorm */
  LLVMValueRef mean, inv; /* LayerNorm's optional Mean and InvStdDev outputs, or NULL */
} norm_job;

/* Two-pass statistics (mean, then squared deviations), then the affine map. */
static void norm_line(cg *c, const line *ln, LLVMValueRef stat, void *ctx) {
  const norm_job *nj = ctx;
  line rd = *ln;
  rd.dst = NULL;
  LLVMValueRef cnt = cg_f32c(c, (float)ln->n);
  fparams fp = {{NULL}, NULL, NULL};
  fp.p[0] = LLVMBuildFDiv(c->b, line_pass(c, &rd, NULL, NULL, COMB_ADD), cnt, "");
  LLVMValueRef var = LLVMBuildFDiv(c->b, line_pass(c, &rd, f_dev2, &fp, COMB_ADD), cnt, "");
  LLVMValueRef sd = fsqrt(c, LLVMBuildFAdd(c->b, var, cg_f32c(c, nj->eps), ""));
  LLVMValueRef inv = LLVMBuildFDiv(c->b, cg_f32c(c, 1.0f), sd, "");
  if (nj->channels) {
    LLVMValueRef ch = LLVMBuildSRem(c->b, stat, cg_i64(c, nj->channels), "");
    fp.p[1] = LLVMBuildFMul(c->b, cg_loadf(c, nj->scale, ch, 1), inv, "");
    fp.p[2] = cg_loadf(c, nj->bias, ch, 1);
  } else {
    fp.p[1] = inv;
    fp.scale = nj->scale;
    fp.bias = nj->bias;
  }
  line_pass(c, ln, f_affine, &fp, COMB_NONE);
  if (nj->mean) cg_storef(c, fp.p[0], nj->mean, stat, 1);
  if (nj->inv) cg_storef(c, inv, nj->inv, stat, 1);
}

/* LayerNormalization's Scale or B as an array over the normalized shape:
 * the value itself when it has that many elements, else its broadcast
 * materialized at compile time (so it must be a constant). */
static int norm_param(cg *c, int v, const pare_shape *norm, int64_t inner, const char *what,
                      LLVMValueRef *out, pare_err *err) {
  if (need_f32(c, v, what, err)) return PARE_ERR;
  if (cg_numel(c, v) == inner) {
    *out = cg_value_ptr(c, v);
    return PARE_OK;
  }
  const pare_tensor *t = cg_const(c, v);
  if (!t)
    return pare_errf(err, "%s is broadcast at run time; only a constant one is compiled", what);
  pare_shape s = {.rank = 1, .dims = {inner}};
  pare_tensor *b = pare_tensor_new(PARE_F32, &s, err);
  if (!b) return PARE_ERR;
  const pare_shape *ts = &t->shape;
  for (int64_t i = 0; i < inner; i++) {
    int64_t idx = 0, stride = 1, rem = i;
    for (int d = norm->rank - 1, sd = ts->rank - 1; sd >= 0; d--, sd--) {
      int64_t coord = rem % norm->dims[d];
      rem /= norm->dims[d];
      if (ts->dims[sd] != 1) idx += coord * stride;
      stride *= ts->dims[sd];
    }
    ((float *)b->data)[i] = ((const float *)t->data)[idx];
  }
  *out = cg_const_tensor(c, b, c->g->values[v]->name);
  pare_tensor_free(b);
  return PARE_OK;
}

/* Optional output i of nd as a pointer, or NULL when omitted. */
static int optional_output(cg *c, const pare_node *nd, int i, LLVMValueRef *out, pare_err *err) {
  *out = NULL;
  if (i >= nd->n_outputs || nd->outputs[i] < 0) return PARE_OK;
  if (need_f32(c, nd->outputs[i], i == 1 ? "the Mean output" : "the InvStdDev output", err))
    return PARE_ERR;
  *out = cg_value_ptr(c, nd->outputs[i]);
  return PARE_OK;
}

static int emit_layernorm(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  if (need_f32(c, nd->inputs[0], "the input", err)) return PARE_ERR;
  if (nd->n_inputs < 2 || nd->inputs[1] < 0) return pare_errf(err, "Scale is required");
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  int axis;
  if (pare_norm_axis(pare_attr_int(nd, "axis", -1), xs->rank, &axis, err)) return PARE_ERR;
  pare_shape norm = pare_shape_make(xs->rank - axis, xs->dims + axis);
  axis_job a = {.outer = 1, .n = 1, .inner = 1, .fn = norm_line};
  for (int d = 0; d < axis; d++) a.outer *= xs->dims[d];
  for (int d = axis; d < xs->rank; d++) a.n *= xs->dims[d];
  norm_job nj = {.eps = pare_attr_float(nd, "epsilon", 1e-5f)};
  if (norm_param(c, nd->inputs[1], &norm, a.n, "Scale", &nj.scale, err)) return PARE_ERR;
  if (nd->n_inputs > 2 && nd->inputs[2] >= 0 &&
      norm_param(c, nd->inputs[2], &norm, a.n, "B", &nj.bias, err))
    return PARE_ERR;
  if (optional_output(c, nd, 1, &nj.mean, err) || optional_output(c, nd, 2, &nj.inv, err))
    return PARE_ERR;
  if (cg_numel(c, nd->inputs[0]) == 0) return PARE_OK;
  a.x = cg_value_ptr(c, nd->inputs[0]);
  a.y = cg_value_ptr(c, nd->outputs[0]);
  a.ctx = &nj;
  axis_lines(c, &a, 1);
  return PARE_OK;
}

static int emit_instancenorm(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  if (need_f32(c, nd->inputs[0], "the input", err) || need_f32(c, nd->inputs[1], "scale", err) ||
      need_f32(c, nd->inputs[2], "B", err))
    return PARE_ERR;
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  if (xs->rank < 3) return pare_errf(err, "input of rank %d", xs->rank);
  if (cg_numel(c, nd->inputs[0]) == 0) return PARE_OK;
  norm_job nj = {.eps = pare_attr_float(nd, "epsilon", 1e-5f), .channels = xs->dims[1]};
  nj.scale = cg_value_ptr(c, nd->inputs[1]);
  nj.bias = cg_value_ptr(c, nd->inputs[2]);
  axis_job a = {.x = cg_value_ptr(c, nd->inputs[0]),
                .y = cg_value_ptr(c, nd->outputs[0]),
                .fn = norm_line,
                .ctx = &nj};
  split_axis(xs, 1, &a.outer, &a.n, &a.inner);
  /* One contiguous line per (n, c) plane. */
  a.outer *= a.n;
  a.n = a.inner;
  a.inner = 1;
  axis_lines(c, &a, 1);
  return PARE_OK;
}

/* ---------------------------------------------------------------- pools */

/* Window geometry of MaxPool / AveragePool over the spatial dims. */
typedef struct pool_geom {
  int nsp;
  int64_t planes, in_vol, out_vol, pad_vol;
  int64_t in[PARE_MAX_RANK], out[PARE_MAX_RANK], k[PARE_MAX_RANK];
  int64_t s[PARE_MAX_RANK], dil[PARE_MAX_RANK];
  int64_t lo[PARE_MAX_RANK], hi[PARE_MAX_RANK]; /* pads before and after */
  int64_t ext[PARE_MAX_RANK];                   /* padded image: pads plus ceil_mode's overhang */
} pool_geom;

/* An INTS attribute of exactly n values, or def everywhere when absent. */
static int ints_attr(const pare_node *nd, const char *name, int n, int64_t def, int64_t *out,
                     pare_err *err) {
  const int64_t *v;
  int64_t got = pare_attr_ints(nd, name, &v);
  if (got >= 0 && got != n)
    return pare_errf(err, "attribute %s has %lld values, expected %d", name, (long long)got, n);
  for (int i = 0; i < n; i++) out[i] = got < 0 ? def : v[i];
  return PARE_OK;
}

/* Pads as the reference's window computation chooses them; the output
 * sizes come from shape inference. */
static int pool_geometry(cg *c, const pare_node *nd, pool_geom *g, pare_err *err) {
  const pare_shape *xs = cg_shape(c, nd->inputs[0]), *ys = cg_shape(c, nd->outputs[0]);
  memset(g, 0, sizeof *g);
  int nsp = g->nsp = xs->rank - 2;
  if (nsp < 1) return pare_errf(err, "input of rank %d", xs->rank);
  int64_t pads[2 * PARE_MAX_RANK];
  const int64_t *ks;
  if (pare_attr_ints(nd, "kernel_shape", &ks) < 0)
    return pare_errf(err, "kernel_shape is required");
  if (ints_attr(nd, "kernel_shape", nsp, 1, g->k, err) ||
      ints_attr(nd, "strides", nsp, 1, g->s, err) ||
      ints_attr(nd, "dilations", nsp, 1, g->dil, err) ||
      ints_attr(nd, "pads", 2 * nsp, 0, pads, err))
    return PARE_ERR;
  const char *ap = pare_attr_string(nd, "auto_pad", "NOTSET");
  int same = strncmp(ap, "SAME_", 5) == 0, lower = same && strcmp(ap + 5, "LOWER") == 0;
  g->planes = xs->dims[0] * xs->dims[1];
  g->in_vol = g->out_vol = g->pad_vol = 1;
  for (int d = 0; d < nsp; d++) {
    int64_t in = xs->dims[2 + d], out = ys->dims[2 + d], eff = (g->k[d] - 1) * g->dil[d] + 1;
    if (g->k[d] < 1 || g->s[d] < 1 || g->dil[d] < 1) return pare_errf(err, "bad window");
    g->in[d] = in, g->out[d] = out;
    if (same) {
      int64_t need = (out - 1) * g->s[d] + eff - in;
      if (need < 0) need = 0;
      g->lo[d] = lower ? need - need / 2 : need / 2;
      g->hi[d] = need - g->lo[d];
    } else if (strcmp(ap, "NOTSET") == 0) {
      g->lo[d] = pads[d], g->hi[d] = pads[nsp + d];
    }
    int64_t span = (out - 1) * g->s[d] + eff;
    g->ext[d] = in + g->lo[d] + g->hi[d];
    if (span > g->ext[d]) g->ext[d] = span;
    g->in_vol *= in, g->out_vol *= out, g->pad_vol *= g->ext[d];
  }
  return PARE_OK;
}

/* Taps of window o along dim d inside the input, or inside the padded input
 * [-lo, in + hi) when `padded` (count_include_pad), counted as the reference. */
static int64_t taps_inside(const pool_geom *g, int d, int64_t o, int padded) {
  int64_t s = o * g->s[d] - g->lo[d], dl = g->dil[d];
  int64_t first = padded || s >= 0 ? 0 : (-s + dl - 1) / dl;
  int64_t lim = g->in[d] - s + (padded ? g->hi[d] : 0);
  int64_t end = lim > 0 ? (lim + dl - 1) / dl : 0;
  if (end > g->k[d]) end = g->k[d];
  return end > first ? end - first : 0;
}

/* 1 / (taps counted) for every output position of a plane. */
static float *avg_reciprocals(const pool_geom *g, int include_pad, pare_err *err) {
  float *rec = malloc(sizeof(float) * (size_t)(g->out_vol > 0 ? g->out_vol : 1));
  if (!rec) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  int64_t o[PARE_MAX_RANK] = {0};
  for (int64_t i = 0; i < g->out_vol; i++) {
    int64_t n = 1;
    for (int d = 0; d < g->nsp; d++) n *= taps_inside(g, d, o[d], include_pad);
    rec[i] = n > 0 ? 1.0f / (float)n : 0.0f; /* a window all in padding averages to 0 */
    for (int d = g->nsp - 1; d >= 0 && ++o[d] == g->out[d]; d--) o[d] = 0;
  }
  return rec;
}

typedef struct pool_job {
  const pool_geom *g;
  int is_max;
  int64_t ist[PARE_MAX_RANK]; /* strides of the image read (padded or the input) */
  LLVMValueRef img, out;      /* the current plane */
  LLVMValueRef rec;           /* reciprocal table, or NULL when uniform */
  float rec_all;
  LLVMValueRef ibase, obase; /* offsets of the current output row */
} pool_job;

/* w output columns' values of one tap at img[idx], the columns s apart:
 * one wide load deinterleaved by a shuffle. */
static LLVMValueRef tap_load(cg *c, LLVMValueRef img, LLVMValueRef idx, int w, int64_t s) {
  if (w == 1 || s == 1) return cg_loadf(c, img, idx, w);
  LLVMTypeRef wide = LLVMVectorType(c->f32, (unsigned)(w * s));
  LLVMValueRef v = LLVMBuildLoad2(c->b, wide, cg_gep(c, c->f32, img, idx), "");
  LLVMSetAlignment(v, 4);
  LLVMValueRef mask[CG_VW];
  for (int i = 0; i < w; i++) mask[i] = LLVMConstInt(c->i32, (unsigned long long)(i * s), 0);
  return LLVMBuildShuffleVector(c->b, v, LLVMGetUndef(wide), LLVMConstVector(mask, (unsigned)w),
                                "");
}

/* The window fold for w output columns whose first window starts at img[base]:
 * taps unrolled up to 64, else loops. */
static LLVMValueRef pool_taps(cg *c, const pool_job *j, LLVMValueRef base, int w) {
  const pool_geom *g = j->g;
  comb k = j->is_max ? COMB_GTMAX : COMB_ADD;
  int64_t taps = 1, s = g->s[g->nsp - 1];
  for (int d = 0; d < g->nsp; d++) taps *= g->k[d];
  LLVMValueRef acc = cg_fconst(c, comb_identity(k), w);
  if (taps <= 64) {
    int64_t t[PARE_MAX_RANK] = {0};
    for (int64_t n = 0; n < taps; n++) {
      int64_t off = 0;
      for (int d = 0; d < g->nsp; d++) off += t[d] * g->dil[d] * j->ist[d];
      acc = comb_apply(c, k, acc, tap_load(c, j->img, cg_add(c, base, cg_i64(c, off)), w, s));
      for (int d = g->nsp - 1; d >= 0 && ++t[d] == g->k[d]; d--) t[d] = 0;
    }
    return acc;
  }
  LLVMTypeRef ft = cg_ftype(c, w);
  LLVMValueRef slot = cg_alloca(c, ft);
  LLVMBuildStore(c->b, acc, slot);
  nest ns = {0};
  for (int d = 0; d < g->nsp; d++) nest_add(&ns, g->k[d], g->dil[d] * j->ist[d], 0);
  LLVMValueRef off[2] = {base, cg_i64(c, 0)};
  nest_open(c, &ns, off);
  LLVMValueRef v = tap_load(c, j->img, off[0], w, s);
  LLVMBuildStore(c->b, comb_apply(c, k, LLVMBuildLoad2(c->b, ft, slot, ""), v), slot);
  nest_close(c, &ns);
  return LLVMBuildLoad2(c->b, ft, slot, "");
}

static void pool_chunk(cg *c, LLVMValueRef ow, int w, void *ctx) {
  const pool_job *j = ctx;
  LLVMValueRef base = cg_madd(c, ow, j->g->s[j->g->nsp - 1], j->ibase);
  LLVMValueRef oidx = cg_add(c, j->obase, ow);
  LLVMValueRef v = pool_taps(c, j, base, w);
  if (!j->is_max) {
    LLVMValueRef r = j->rec ? cg_loadf(c, j->rec, oidx, w) : cg_fconst(c, j->rec_all, w);
    v = LLVMBuildFMul(c->b, v, r, "");
  }
  cg_storef(c, v, j->out, oidx, w);
}

static void fill_chunk(cg *c, LLVMValueRef i, int w, void *ctx) {
  const pool_job *j = ctx;
  cg_storef(c, cg_fconst(c, -INFINITY, w), j->img, i, w);
}

/* Row-major strides of dims[0..n). */
static void dense_strides(const int64_t *dims, int n, int64_t *st) {
  int64_t acc = 1;
  for (int d = n - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= dims[d];
  }
}

typedef struct copy_job {
  LLVMValueRef dst, src;
} copy_job;

static void copy_chunk(cg *c, LLVMValueRef i, int w, void *ctx) {
  const copy_job *cp = ctx;
  cg_storef(c, cg_loadf(c, cp->src, i, w), cp->dst, i, w);
}

/* Copies one input plane into the padded image, inside its border; rows
 * by vector moves (LLVM would call memcpy for each row). */
static void pad_copy(cg *c, const pool_job *j, LLVMValueRef src) {
  const pool_geom *g = j->g;
  int last = g->nsp - 1;
  int64_t in_st[PARE_MAX_RANK], start = 0;
  dense_strides(g->in, g->nsp, in_st);
  nest ns = {0};
  for (int d = 0; d <= last; d++) start += g->lo[d] * j->ist[d];
  for (int d = 0; d < last; d++) nest_add(&ns, g->in[d], in_st[d], j->ist[d]);
  LLVMValueRef off[2] = {cg_i64(c, 0), cg_i64(c, start)};
  nest_open(c, &ns, off);
  copy_job cp = {cg_gep(c, c->f32, j->img, off[1]), cg_gep(c, c->f32, src, off[0])};
  lane_chunks(c, g->in[last], 4 * CG_VW, copy_chunk, &cp);
  nest_close(c, &ns);
}

/* MaxPool refuses windows entirely in the padding (the reference writes 0
 * there, -inf padding would give -inf); AveragePool gets its reciprocal
 * tap counts, as a table unless they are all equal. */
static int pool_divisors(cg *c, const pare_node *nd, pool_job *j, pare_err *err) {
  const pool_geom *g = j->g;
  if (j->is_max) {
    for (int d = 0; d < g->nsp; d++)
      for (int64_t o = 0; o < g->out[d]; o++)
        if (!taps_inside(g, d, o, 0))
          return pare_errf(err, "a window lies entirely in the padding");
    return PARE_OK;
  }
  float *rec = avg_reciprocals(g, pare_attr_int(nd, "count_include_pad", 0) != 0, err);
  if (!rec) return PARE_ERR;
  int uniform = 1;
  for (int64_t i = 1; i < g->out_vol && uniform; i++) uniform = rec[i] == rec[0];
  j->rec_all = rec[0];
  if (!uniform) j->rec = cg_const_bytes(c, rec, sizeof(float) * (size_t)g->out_vol, "pool.rec");
  free(rec);
  return PARE_OK;
}

/* Every output row of the current plane, columns in vectors. */
static void pool_rows(cg *c, pool_job *j) {
  const pool_geom *g = j->g;
  int last = g->nsp - 1;
  int64_t out_st[PARE_MAX_RANK];
  dense_strides(g->out, g->nsp, out_st);
  nest ns = {0};
  for (int d = 0; d < last; d++) nest_add(&ns, g->out[d], g->s[d] * j->ist[d], out_st[d]);
  LLVMValueRef off[2] = {cg_i64(c, 0), cg_i64(c, 0)};
  nest_open(c, &ns, off);
  j->ibase = off[0], j->obase = off[1];
  lane_chunks(c, g->out[last], g->s[last] <= 4 ? CG_VW : 1, pool_chunk, j);
  nest_close(c, &ns);
}

static int emit_pool(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  int is_max = strcmp(nd->op, "MaxPool") == 0;
  if (is_max && nd->n_outputs > 1 && nd->outputs[1] >= 0)
    return pare_errf(err, "MaxPool's Indices output is not compiled");
  if (need_f32(c, nd->inputs[0], "the input", err)) return PARE_ERR;
  pool_geom g;
  if (pool_geometry(c, nd, &g, err)) return PARE_ERR;
  if (g.planes * g.out_vol == 0) return PARE_OK;
  pool_job j = {.g = &g, .is_max = is_max};
  if (pool_divisors(c, nd, &j, err)) return PARE_ERR;
  /* The padded copy also keeps the deinterleaving loads of strided columns
   * (which read up to s - 1 floats past a row's last tap) inside scratch. */
  int last = g.nsp - 1, padded = g.s[last] > 1;
  for (int d = 0; d < g.nsp; d++) padded |= g.ext[d] != g.in[d];
  dense_strides(padded ? g.ext : g.in, g.nsp, j.ist);
  if (padded) {
    j.img = cg_scratch(c, (g.pad_vol + CG_VW * g.s[last]) * 4);
    if (is_max)
      lane_chunks(c, g.pad_vol, 4 * CG_VW, fill_chunk, &j);
    else
      cg_memset0(c, j.img, g.pad_vol * 4);
  }
  LLVMValueRef x = cg_value_ptr(c, nd->inputs[0]), y = cg_value_ptr(c, nd->outputs[0]);
  cg_loop pl;
  LLVMValueRef p = cg_for_begin(c, &pl, 0, g.planes, 1);
  LLVMValueRef src = cg_gep(c, c->f32, x, cg_madd(c, p, g.in_vol, cg_i64(c, 0)));
  if (padded)
    pad_copy(c, &j, src);
  else
    j.img = src;
  j.out = cg_gep(c, c->f32, y, cg_madd(c, p, g.out_vol, cg_i64(c, 0)));
  pool_rows(c, &j);
  cg_for_end(c, &pl);
  return PARE_OK;
}

const cg_op cg_ops_reduce[] = {
    {"ReduceSum", emit_reduce},
    {"ReduceMean", emit_reduce},
    {"ReduceMax", emit_reduce},
    {"ReduceMin", emit_reduce},
    {"ReduceProd", emit_reduce},
    {"ReduceL1", emit_reduce},
    {"ReduceL2", emit_reduce},
    {"ReduceSumSquare", emit_reduce},
    {"ReduceLogSum", emit_reduce},
    {"ReduceLogSumExp", emit_reduce},
    {"GlobalAveragePool", emit_global_pool},
    {"GlobalMaxPool", emit_global_pool},
    {"MaxPool", emit_pool},
    {"AveragePool", emit_pool},
    {"Softmax", emit_softmax},
    {"LogSoftmax", emit_softmax},
    {"Hardmax", emit_softmax},
    {"LayerNormalization", emit_layernorm},
    {"InstanceNormalization", emit_instancenorm},
    {"LpNormalization", emit_lpnorm},
    {NULL, NULL},
};
