/*
 * prune.c - magnitude pruning of constant f32 weights.
 *
 *   prune<sparsity=0.5;pattern=none;scope=layer;ops=conv+gemm+matmul;min-size=0>
 *
 * The weights are the constant f32 weight operands of the chosen ops: Conv's
 * W (input 1, any group count), Gemm's B (input 1) and MatMul's right
 * operand when it is a 2-D constant. Weights with fewer than min-size
 * elements are left alone, as are weights stored in a non-sparse encoding.
 *
 * Unstructured (pattern=none): the weights of smallest |w| are set to zero.
 *   scope=layer: each weight loses round(sparsity * numel) elements;
 *   scope=global: one threshold over all chosen weights together, so that
 *   round(sparsity * total) elements go. Plain global magnitude compares
 *   weights across layers as they are: a layer whose weights are small in
 *   absolute terms (the BN-folded PP-OCR layers whose rows differ in scale
 *   by orders of magnitude, or a layer with many inputs and so small
 *   weights) can lose all of its weights. No per-layer normalization is done.
 * Ties at the threshold go in element order (first elements first), so the
 * result is deterministic. NaN magnitudes count as largest.
 *
 * N:M (pattern=N:M): in every group of M consecutive weights along the
 * reduction dimension (Conv: the flattened C/group*KH*KW of each output
 * channel, in memory order; Gemm: K, i.e. along a row of B with transB=1,
 * down a column without; MatMul: down a column of the [K, N] weight) the N
 * of largest |w| stay. A trailing group shorter than M keeps min(N, length).
 * The pattern fixes the sparsity at about 1 - N/M: sparsity and scope are
 * then ignored.
 *
 * Result: the value's dense init holds the zeros, and its encoding is SPARSE
 * (ir.h: CSR over the weight viewed as [dim0, rest], zeros not stored),
 * with nm_n/nm_m set for an N:M pattern. Orientation is always the IR's
 * [dim0, rest]; the backend re-lays it out if its kernel wants another.
 * A weight that ends with no zero element keeps no encoding.
 */
#include "passes/gram.h"
#include "passes/obs.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OP_CONV = PARE_OP_CONV, OP_GEMM = PARE_OP_GEMM, OP_MATMUL = PARE_OP_MATMUL };

/* One weight to prune. */
typedef struct layer {
  int node;         /* the (first) node reading it */
  int value;        /* the weight's value index */
  const char *name; /* the node reading it, for decisions */
  int64_t numel;
  int64_t rows, cols;    /* the IR view [dim0, rest] */
  int reduce_along_rows; /* N:M groups run down dim0 ([K, N] weights) */
} layer;

/* The weight node k reads and how, or 0. */
static int weight_of(const pare_graph *g, const pare_node *n, unsigned mask, int64_t min_size,
                     layer *out) {
  int along_rows;
  int v = pare_pass_linear_weight(g, n, mask, &along_rows);
  if (v < 0) return 0;
  const pare_value *val = g->values[v];
  const pare_tensor *t = val->init;
  if (val->enc && val->enc->kind != PARE_ENC_SPARSE) return 0;
  const pare_shape *s = &t->shape;
  int64_t numel = pare_tensor_numel(t);
  if (numel == 0 || numel < min_size || s->dims[0] <= 0) return 0;
  out->value = v;
  out->node = -1;
  out->name = n->name && n->name[0] ? n->name : val->name;
  out->numel = numel;
  out->rows = s->dims[0];
  out->cols = numel / s->dims[0];
  out->reduce_along_rows = along_rows;
  return 1;
}

/* ------------------------------------------------------------ selection */

/* |x| with NaN as +inf, so NaN weights are kept. */
static float mag(float x) {
  return isnan(x) ? INFINITY : fabsf(x);
}

/* Zeroes the `count` smallest-magnitude elements over the layers (in layer
 * order, then element order at ties). */
static int prune_smallest(pare_graph *g, const layer *ls, int n, int64_t count, pare_err *err) {
  if (count <= 0) return PARE_OK;
  int64_t total = 0;
  for (int i = 0; i < n; i++) total += ls[i].numel;
  float *m = malloc((size_t)total * sizeof *m);
  if (!m) return pare_errf(err, "out of memory");
  int64_t at = 0;
  for (int i = 0; i < n; i++) {
    const float *w = g->values[ls[i].value]->init->data;
    for (int64_t j = 0; j < ls[i].numel; j++) m[at++] = mag(w[j]);
  }
  if (count > total) count = total;
  float t = pare_select_kth_f32(m, total, count - 1);
  /* Everything below t goes, then elements equal to t in order. */
  int64_t below = 0;
  for (int64_t j = 0; j < total; j++) below += m[j] < t;
  free(m);
  int64_t ties = count - below;
  for (int i = 0; i < n; i++) {
    float *w = g->values[ls[i].value]->init->data;
    for (int64_t j = 0; j < ls[i].numel; j++) {
      float a = mag(w[j]);
      if (a < t || (a == t && ties-- > 0)) w[j] = 0.0f;
    }
  }
  return PARE_OK;
}

/* N:M: keeps the nk largest of every group of nm along the reduction dim. */
static void prune_nm(pare_graph *g, const layer *l, int nk, int nm) {
  float *w = g->values[l->value]->init->data;
  /* Element j of group `grp` in line `line`: lines are the non-reduced
   * index, the group runs along the reduced one. */
  int64_t lines = l->reduce_along_rows ? l->cols : l->rows;
  int64_t len = l->reduce_along_rows ? l->rows : l->cols;
  int64_t step = l->reduce_along_rows ? l->cols : 1, line_step = l->reduce_along_rows ? 1 : l->cols;
  for (int64_t line = 0; line < lines; line++)
    for (int64_t g0 = 0; g0 < len; g0 += nm) {
      int64_t glen = len - g0 < nm ? len - g0 : nm;
      if (glen <= nk) continue;
      float *base = w + line * line_step + g0 * step;
      /* Rank each element: it stays when fewer than nk elements beat it
       * (larger, or equal and earlier). */
      char keep[64];
      for (int64_t a = 0; a < glen; a++) {
        float ma = mag(base[a * step]);
        int better = 0;
        for (int64_t b = 0; b < glen; b++) {
          float mb = mag(base[b * step]);
          better += mb > ma || (mb == ma && b < a);
        }
        keep[a] = better < nk;
      }
      for (int64_t a = 0; a < glen; a++)
        if (!keep[a]) base[a * step] = 0.0f;
    }
}

/* ------------------------------------------------------------- encoding */

/* Replaces the weight's encoding by the CSR of its (pruned) init. Returns
 * the number of zeros, or -1 on error. */
static int64_t encode_sparse(pare_graph *g, const layer *l, int nk, int nm, pare_err *err) {
  pare_value *val = g->values[l->value];
  const float *w = val->init->data;
  int64_t nnz = 0;
  for (int64_t j = 0; j < l->numel; j++) nnz += w[j] != 0.0f;
  if (nnz > INT32_MAX || l->cols > INT32_MAX)
    return pare_errf(err, "weight '%s' is too large to store sparse", val->name);
  pare_encoding_free(val->enc);
  val->enc = NULL;
  if (nnz == l->numel) return 0;
  pare_encoding *e = calloc(1, sizeof *e);
  if (!e) return pare_errf(err, "out of memory");
  e->kind = PARE_ENC_SPARSE;
  e->axis = 0;
  e->nm_n = nk, e->nm_m = nm;
  pare_shape rs = {.rank = 1, .dims = {l->rows + 1}}, ns = {.rank = 1, .dims = {nnz}};
  e->row_ptr = pare_tensor_new(PARE_I64, &rs, err);
  e->col_idx = e->row_ptr ? pare_tensor_new(PARE_I32, &ns, err) : NULL;
  e->values = e->col_idx ? pare_tensor_new(PARE_F32, &ns, err) : NULL;
  if (!e->values) {
    pare_encoding_free(e);
    return PARE_ERR;
  }
  int64_t *rp = e->row_ptr->data;
  int32_t *ci = e->col_idx->data;
  float *vs = e->values->data;
  int64_t at = 0;
  for (int64_t r = 0; r < l->rows; r++) {
    rp[r] = at;
    for (int64_t c = 0; c < l->cols; c++) {
      float x = w[r * l->cols + c];
      if (x == 0.0f) continue;
      ci[at] = (int32_t)c;
      vs[at++] = x;
    }
  }
  rp[l->rows] = at;
  val->enc = e;
  return l->numel - nnz;
}

/* ------------------------------------------------------- reconstruction */

/* Row r of the weight as the OBS solver sees it: one output's weights over
 * the input vector's elements (gram.h), i.e. [dim0, rest] for Conv and
 * Gemm with transB, the transpose for [K, N] weights. */
/* sum over rows of d_r^T H d_r for d (rows x k): the squared output error
 * of the weight change d summed over the calibration vectors. */
static double output_energy(const double *d, int64_t rows, int64_t k, const double *h,
                            double *tmp) {
  cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, (int)rows, (int)k, 1.0, h, (int)k, d, (int)k,
              0.0, tmp, (int)k);
  double e = 0;
  for (int64_t i = 0; i < rows * k; i++) e += d[i] * tmp[i];
  return e;
}

/* The weight of group grp as the rows x k matrix the statistics describe
 * (from the f32 weight wf), into w. */
static void group_rows(const layer *l, const float *wf, int64_t outs, int64_t per_group, int64_t k,
                       int grp, double *w) {
  for (int64_t r = 0; r < per_group; r++)
    for (int64_t j = 0; j < k; j++) {
      int64_t o_idx = grp * per_group + r;
      w[r * k + j] = l->reduce_along_rows ? wf[j * outs + o_idx] : wf[o_idx * k + j];
    }
}

/* The relative error the change from `before` to the current weight causes
 * at the layer's output on the calibration data: sqrt(sum |dW x|^2 /
 * sum |W x|^2) over the calibration vectors x (gram.h). -1 when the memory
 * for it is not there. */
static double layer_output_error(const pare_graph *g, const layer *l, const pare_gram *gr,
                                 const float *before) {
  const float *after = g->values[l->value]->init->data;
  int64_t outs = l->reduce_along_rows ? l->cols : l->rows;
  int64_t k = gr->k, per_group = outs / gr->groups;
  size_t cells = (size_t)(per_group * k);
  double *a = malloc(cells * sizeof *a), *b = malloc(cells * sizeof *b);
  double *tmp = malloc(cells * sizeof *tmp);
  double energy = 0, change = 0;
  for (int grp = 0; a && b && tmp && grp < gr->groups; grp++) {
    const double *h = pare_gram_block(gr, grp);
    group_rows(l, before, outs, per_group, k, grp, b);
    group_rows(l, after, outs, per_group, k, grp, a);
    energy += output_energy(b, per_group, k, h, tmp);
    for (size_t i = 0; i < cells; i++) b[i] -= a[i];
    change += output_energy(b, per_group, k, h, tmp);
  }
  double rel = !a || !b || !tmp ? -1 : energy > 0 ? sqrt(fmax(change, 0) / energy) : 0;
  free(a);
  free(b);
  free(tmp);
  return rel;
}

/* Prunes one layer with OBS. */
static int obs_layer(pare_graph *g, const layer *l, const pare_gram *gr, double sparsity, int nk,
                     int nm, double damp, int per_row, pare_err *err) {
  float *wf = g->values[l->value]->init->data;
  int64_t outs = l->reduce_along_rows ? l->cols : l->rows;
  int64_t k = gr->k, per_group = outs / gr->groups;
  if (per_group * gr->groups != outs || per_group * k * gr->groups != l->numel)
    return pare_errf(err, "layer '%s': weight shape does not match its input statistics", l->name);
  size_t cells = (size_t)(per_group * k);
  double *w = malloc(cells * sizeof *w);
  unsigned char *zero = malloc(cells);
  int rc = w && zero ? PARE_OK : pare_errf(err, "out of memory");
  pare_obs_opts o = {
      .sparsity = sparsity, .nm_n = nm > 0 ? nk : 0, .nm_m = nm, .damp = damp, .per_row = per_row};
  for (int grp = 0; rc == PARE_OK && grp < gr->groups; grp++) {
    group_rows(l, wf, outs, per_group, k, grp, w);
    rc = pare_obs_prune(w, per_group, k, pare_gram_block(gr, grp), &o, zero, err);
    for (int64_t r = 0; rc == PARE_OK && r < per_group; r++)
      for (int64_t j = 0; j < k; j++) {
        int64_t o_idx = grp * per_group + r;
        float v = zero[r * k + j] ? 0.0f : (float)w[r * k + j];
        if (l->reduce_along_rows)
          wf[j * outs + o_idx] = v;
        else
          wf[o_idx * k + j] = v;
      }
  }
  free(w);
  free(zero);
  return rc ? pare_err_prefix(err, "layer '%s'", l->name) : PARE_OK;
}

/* Per layer, the fraction the magnitude selection would remove: the share
 * of each layer under the global threshold (scope=global) or `sparsity`. */
static int layer_sparsities(pare_graph *g, const layer *ls, int n, double sparsity, int global,
                            float *const *before, double *out, pare_err *err) {
  for (int i = 0; i < n; i++) out[i] = sparsity;
  if (!global) return PARE_OK;
  int64_t total = 0;
  for (int i = 0; i < n; i++) total += ls[i].numel;
  /* The magnitude selection runs on the weights themselves (its ties go in
   * element order), then before[] (the untouched copies) puts them back. */
  int rc = prune_smallest(g, ls, n, llround(sparsity * (double)total), err);
  for (int i = 0; i < n; i++) {
    float *w = g->values[ls[i].value]->init->data;
    int64_t zeros = 0;
    for (int64_t j = 0; j < ls[i].numel; j++) zeros += w[j] == 0.0f;
    out[i] = (double)zeros / (double)ls[i].numel;
    memcpy(w, before[i], (size_t)ls[i].numel * sizeof(float));
  }
  return rc;
}

/* Prunes every layer with OBS reconstruction from its input statistics. */
static int prune_reconstruct(pare_graph *g, const layer *ls, const pare_gram *grams,
                             float *const *before, int n, double sparsity, int global, int nk,
                             int nm, double damp, int per_row, pare_pass_ctx *ctx, pare_err *err) {
  double *sp = malloc(((size_t)n + 1) * sizeof *sp);
  int rc = sp ? PARE_OK : pare_errf(err, "out of memory");
  if (rc == PARE_OK) rc = layer_sparsities(g, ls, n, sparsity, global, before, sp, err);
  for (int i = 0; rc == PARE_OK && i < n; i++) {
    rc = obs_layer(g, &ls[i], &grams[i], sp[i], nk, nm, damp, per_row, err);
    pare_pass_decide_str(ctx, ls[i].name, "reconstruction", "obs");
  }
  free(sp);
  return rc;
}

/* With calibration data: every layer's input statistics (one run) and a
 * copy of its weights before pruning, to reconstruct and to measure what
 * each layer's change costs at its output. */
typedef struct calib_state {
  pare_gram *grams;
  float **before;
  int n;
} calib_state;

static int calib_begin(calib_state *cs, pare_graph *g, const pare_calib *calib, const layer *ls,
                       int n, pare_err *err) {
  cs->n = n;
  cs->grams = calloc((size_t)n + 1, sizeof *cs->grams);
  cs->before = calloc((size_t)n + 1, sizeof *cs->before);
  int *nodes = malloc(((size_t)n + 1) * sizeof *nodes);
  int rc = cs->grams && cs->before && nodes ? PARE_OK : pare_errf(err, "out of memory");
  for (int i = 0; rc == PARE_OK && i < n; i++) {
    nodes[i] = ls[i].node;
    size_t bytes = (size_t)ls[i].numel * sizeof(float);
    cs->before[i] = malloc(bytes);
    if (!cs->before[i]) rc = pare_errf(err, "out of memory");
    if (rc == PARE_OK) memcpy(cs->before[i], g->values[ls[i].value]->init->data, bytes);
  }
  if (rc == PARE_OK) rc = pare_gram_collect(calib, g, nodes, n, cs->grams, err);
  free(nodes);
  return rc;
}

/* Records each layer's relative output error on the calibration data (its
 * own output, with the original inputs: not end to end). */
static void calib_report(const calib_state *cs, const pare_graph *g, const layer *ls,
                         pare_pass_ctx *ctx) {
  for (int i = 0; i < cs->n; i++) {
    double rel = layer_output_error(g, &ls[i], &cs->grams[i], cs->before[i]);
    if (rel >= 0) pare_pass_decide(ctx, ls[i].name, "calib_output_error", rel);
  }
}

static void calib_end(calib_state *cs) {
  pare_gram_free(cs->grams, cs->n);
  for (int i = 0; cs->before && i < cs->n; i++) free(cs->before[i]);
  free(cs->grams);
  free(cs->before);
}

/* ------------------------------------------------------------------ run */

static int run_prune(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx, int *changed,
                     pare_err *err) {
  double sparsity = args[0].f;
  int nk = (int)args[1].i, nm = (int)args[1].m;
  int global = strcmp(args[2].s, "global") == 0;
  int64_t min_size = args[4].i;
  const char *reconstruct = args[5].s;
  double damp = args[6].f;
  int per_row = strcmp(args[7].s, "row") == 0;
  const char *only = args[8].s;
  const pare_calib *calib = pare_pass_calib(ctx);
  unsigned mask;
  if (!(sparsity >= 0 && sparsity < 1))
    return pare_errf(err, "option 'sparsity' must be in [0, 1), not %g", sparsity);
  if (pare_pass_parse_ops(args[3].s, &mask, err)) return PARE_ERR;
  if (min_size < 0) return pare_errf(err, "option 'min-size' must be >= 0");
  if (!(damp > 0 && damp < 1))
    return pare_errf(err, "option 'damp' must be in (0, 1), not %g", damp);
  int obs = strcmp(reconstruct, "obs") == 0 || (strcmp(reconstruct, "auto") == 0 && calib);
  if (obs && !calib) return pare_errf(err, "reconstruct=obs needs calibration data (--calib DIR)");

  /* The chosen weights, each once (a weight several nodes read is pruned
   * as its first reader sees it). */
  layer *ls = calloc((size_t)g->n_nodes + 1, sizeof *ls);
  if (!ls) return pare_errf(err, "out of memory");
  int n = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    layer l;
    if (!weight_of(g, g->nodes[k], mask, min_size, &l)) continue;
    if (only[0] && !pare_pass_name_in_list(only, l.name)) continue;
    l.node = k;
    int seen = 0;
    for (int i = 0; i < n && !seen; i++) seen = ls[i].value == l.value;
    if (!seen) ls[n++] = l;
  }

  calib_state cs = {0};
  int rc = calib ? calib_begin(&cs, g, calib, ls, n, err) : PARE_OK;
  if (rc != PARE_OK) {
    /* the statistics could not be gathered: nothing was pruned */
  } else if (obs) {
    rc = prune_reconstruct(g, ls, cs.grams, cs.before, n, sparsity, global, nk, nm, damp, per_row,
                           ctx, err);
  } else if (nm > 0) {
    for (int i = 0; i < n; i++) prune_nm(g, &ls[i], nk, nm);
  } else if (global) {
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += ls[i].numel;
    rc = prune_smallest(g, ls, n, llround(sparsity * (double)total), err);
  } else {
    for (int i = 0; i < n && rc == PARE_OK; i++)
      rc = prune_smallest(g, &ls[i], 1, llround(sparsity * (double)ls[i].numel), err);
  }

  int64_t removed = 0, kept = 0;
  int pruned = 0;
  for (int i = 0; i < n && rc == PARE_OK; i++) {
    const pare_encoding *before = g->values[ls[i].value]->enc;
    int had_enc = before != NULL;
    int64_t zeros = encode_sparse(g, &ls[i], nk, nm, err);
    if (zeros < 0) {
      rc = PARE_ERR;
      break;
    }
    if (zeros > 0 || had_enc) *changed = 1;
    removed += zeros;
    kept += ls[i].numel - zeros;
    if (zeros == 0) continue;
    pruned++;
    pare_pass_decide(ctx, ls[i].name, "sparsity", (double)zeros / (double)ls[i].numel);
    if (nm > 0) {
      char pat[32];
      snprintf(pat, sizeof pat, "%d:%d", nk, nm);
      pare_pass_decide_str(ctx, ls[i].name, "pattern", pat);
    }
  }
  if (rc == PARE_OK && calib) {
    calib_report(&cs, g, ls, ctx);
    pare_pass_stat(ctx, "calibration samples", calib->n_samples);
  }
  calib_end(&cs);
  free(ls);
  if (rc) return PARE_ERR;
  pare_pass_stat(ctx, "weights removed", removed);
  pare_pass_stat(ctx, "weights kept", kept);
  pare_pass_stat(ctx, "layers pruned", pruned);
  return PARE_OK;
}

/* ------------------------------------------------------------- registry */

static const pare_pass_option prune_options[] = {
    {"sparsity", PARE_OPT_FLOAT, "0.5", NULL,
     "fraction of the chosen weights set to zero, in [0, 1) (ignored with a pattern)"},
    {"pattern", PARE_OPT_NM, "none", NULL,
     "N:M: keep the N largest of every M consecutive weights along the reduction dim"},
    {"scope", PARE_OPT_STRING, "layer", "layer|global",
     "one magnitude threshold per weight, or one over all of them (plain magnitude)"},
    {"ops", PARE_OPT_STRING, "conv+gemm+matmul", NULL,
     "whose weights: conv, gemm, matmul, joined by +"},
    {"min-size", PARE_OPT_INT, "0", NULL, "leave weights with fewer elements than this dense"},
    {"reconstruct", PARE_OPT_STRING, "auto", "auto|none|obs",
     "obs: choose and update weights from the layer's input Hessian (SparseGPT); auto: obs "
     "when --calib is given"},
    {"damp", PARE_OPT_FLOAT, "0.01", NULL,
     "obs: added to the Hessian's diagonal, as a fraction of its mean"},
    {"balance", PARE_OPT_STRING, "layer", "layer|row",
     "obs: one saliency threshold per block of columns over all rows, or the same share "
     "from every output row (rows of very different scale)"},
    {"layers", PARE_OPT_STRING, "", NULL,
     "only these layers, as the report names them (node names), joined by +; empty: all"},
    {NULL, 0, NULL, NULL, NULL},
};

const pare_pass_info pare_passes_prune[] = {
    {"prune", "magnitude pruning (unstructured or N:M) of conv/gemm/matmul weights, stored sparse",
     prune_options, run_prune},
    {NULL, NULL, NULL, NULL},
};
