/*
 * search.c - budget-driven automatic compression (see search.h for the
 * outline).
 *
 * Sizes are what the generated code stores: the read-only weight bytes the
 * backend reports for a build (pare_cg_stats.weight_bytes), measured for
 * every candidate, so a candidate over the target is never chosen however
 * the encodings' own byte counts add up. The percentage is of the
 * uncompressed build of the same model (no passes).
 *
 * Calibration and held-out sets. The passes calibrate on the --calib sets
 * minus the held-out ones (by default the last fifth, at least one); every
 * end-to-end measurement runs the candidate on the held-out sets and
 * compares its outputs with the original model's there. With a single
 * calibration set there is nothing to hold out: the search then measures
 * on that set and says so.
 *
 * The error the search minimizes is the relative squared error of all
 * outputs, sum ||y - y0||^2 / sum ||y0||^2 over the held-out sets (y0 the
 * original's outputs); it is reported as its square root (relative L2).
 *
 * Candidates are spliced, not re-run: each menu alternative was applied to
 * its own copy of the graph once (step 1 of search.h), and a candidate
 * swaps the chosen layers' weights (dense value and encoding) of those
 * copies into the base graph for one JIT build at -O1 and swaps them back.
 * The printed pipeline runs the alternatives one after another after a
 * calib-snapshot pass, so that each calibrates on the base graph's weights
 * as its column did, not on what the earlier ones made of them: then it
 * rebuilds the spliced candidate (on the recognizer at 15%, calibrating
 * each alternative on the graph the earlier ones had changed instead
 * doubled the relative error, 0.040 spliced against 0.085). The last step
 * runs the pipeline from scratch and measures it; that measurement is what
 * the search reports.
 *
 * Determinism: everything but --time-limit is deterministic for a fixed
 * seed (the passes are, the JIT is, and the evolutionary search draws from
 * its own generator); a search the time limit cuts short says so.
 */
#include "driver/search.h"

#include "driver/calib.h"
#include "driver/engine.h"
#include "frontend/onnx.h"
#include "ir/strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The default alternatives: widths and group sizes that span 1.5 to 8
 * stored bits per weight, and the codebook settings that worked on the
 * PP-OCR models (issue 5's measurements). */
static const char default_menu[] =
    "quantize<bits=8>,quantize<bits=6;group=64>,quantize<bits=5;group=64>,"
    "quantize<bits=4;group=32>,quantize<bits=4;group=128>,quantize<bits=3;group=32>,"
    "quantize<bits=3;group=64;outliers=0.002>,quantize<bits=2;group=32>,"
    "quantize<bits=2;group=64>,quantize<bits=1;group=64>,cluster<bits=4>,"
    "cluster<bits=3;shared-bits=6;outliers=0.002>,cluster<bits=2;outliers=0.005>";

/* Steps of the knapsack's byte budget. */
enum { KNAPSACK_STEPS = 20000 };
/* A layer with at least this share of the weight bytes gets its own
 * sensitivity run; smaller ones take the median ratio. */
#define PROBE_SHARE 0.005
/* Budget shrink steps when a knapsack solution measures over the target. */
enum { MAX_SHRINK = 12 };

/* One alternative of the menu and the graph it produced over all layers. */
typedef struct column {
  char *text; /* "quantize<bits=4;group=32>" */
  pare_graph *g;
  double seconds;
} column;

/* One way to store a layer: column (-1: f32), its bytes and layer error. */
typedef struct option {
  int col;
  int64_t bytes;
  double err;  /* relative output error of the layer on the calibration data */
  double cost; /* predicted end-to-end squared error */
} option;

typedef struct slayer {
  int value; /* the weight's value index, the same in every copy */
  int64_t f32_bytes;
  char **names; /* per column: the name its pass gave the layer, or NULL */
  option *opts; /* bytes ascending, error descending; the last is f32 */
  int n_opts;
  double sens; /* end-to-end squared error per unit of squared layer error */
} slayer;

/* A candidate's measurement. */
typedef struct measure {
  double sq;     /* relative squared error of all outputs */
  double metric; /* the bound's metric (when there is a bound) */
  int64_t bytes; /* weight bytes of the build */
} measure;

typedef struct search {
  const search_opts *o;
  search_result *r;
  calib_data calib; /* the sets the passes calibrate on */
  long *held;       /* held-out sets of the calib folder */
  int n_held;
  pare_graph *base; /* after the prefix; candidates are spliced into it */
  column *cols;
  int n_cols;
  slayer *ls;
  int n_l;
  int64_t numel; /* all Conv/Gemm/MatMul weight elements the search may change */
  int n_in, n_out;
  pare_tensor **in;  /* [held set][input] */
  pare_tensor **ref; /* [held set][output]: the original model's outputs */
  metric_ctx *mc;
  double t0;
  uint64_t rng;
} search;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void logf_(const search *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void logf_(const search *s, const char *fmt, ...) {
  if (!s->o->log) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(s->o->log, "pare: search: [%5.0f s] ", now() - s->t0);
  vfprintf(s->o->log, fmt, ap);
  fputc('\n', s->o->log);
  va_end(ap);
}

/* splitmix64: the search's own generator, so results depend on the seed only. */
static uint64_t next_rand(search *s) {
  uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int rand_below(search *s, int n) {
  return (int)(next_rand(s) % (uint64_t)n);
}

/* --------------------------------------------------------------- errors */

int search_parse_error(const char *s, search_error *e, pare_err *err) {
  memset(e, 0, sizeof *e);
  const char *eq = strrchr(s, '=');
  char name[64];
  if (!eq || eq == s || (size_t)(eq - s) >= sizeof name)
    return pare_errf(err, "'%s': expected METRIC=VALUE, e.g. rel-l2=0.05 or ctc=0.006", s);
  snprintf(name, sizeof name, "%.*s", (int)(eq - s), s);
  char *end;
  e->bound = strtod(eq + 1, &end);
  if (end == eq + 1 || *end || !(e->bound >= 0))
    return pare_errf(err, "'%s': the bound '%s' is not a number >= 0", s, eq + 1);
  if (strcmp(name, "rel-l2") == 0) {
    e->rel_l2 = 1;
    return PARE_OK;
  }
  if (metric_parse(name, &e->metric, err)) return PARE_ERR;
  if (e->metric.kind == METRIC_NONE)
    return pare_errf(err, "'%s': expected rel-l2, top1, ctc or mask<T>", s);
  return PARE_OK;
}

static const char *error_name(const search_error *e) {
  return e->rel_l2 ? "rel-l2" : metric_kind_name(e->metric.kind);
}

/* ----------------------------------------------------------- the graphs */

static int run_pipeline_text(search *s, pare_graph *g, const char *text, pare_pm_opts *pm,
                             pare_err *err) {
  pare_pipeline p = {0};
  int rc = pare_pipeline_parse(text, &p, err);
  if (rc == PARE_OK) rc = pare_pipeline_run(&p, g, pm, err);
  pare_pipeline_free(&p);
  (void)s;
  return rc;
}

/* The model loaded and made static, with the prefix pipeline run on it
 * when `prefix`. */
static pare_graph *load(search *s, int prefix, pare_err *err) {
  pare_graph *g = cli_load_model(s->o->model, s->o->shapes, err);
  if (!g) return NULL;
  int rc = cli_make_static(g, s->o->model, err);
  if (!rc && prefix && s->o->prefix[0]) {
    pare_pm_opts pm = {.calib = &s->calib.base};
    rc = run_pipeline_text(s, g, s->o->prefix, &pm, err);
  }
  if (rc) {
    pare_graph_free(g);
    return NULL;
  }
  return g;
}

/* ------------------------------------------------------------- measuring */

/* Runs g (through the JIT at -O1) on the held-out sets. With ref == NULL
 * the outputs become the reference. */
static int measure_graph(search *s, const pare_graph *g, measure *m, pare_err *err) {
  engine e;
  if (engine_open(&e, ENGINE_JIT, g, 1, err)) return PARE_ERR;
  pare_tensor **out = calloc((size_t)s->n_out + 1, sizeof *out);
  double *diff = calloc((size_t)s->n_out + 1, sizeof *diff);
  double *energy = calloc((size_t)s->n_out + 1, sizeof *energy);
  metric_acc acc = {0};
  int rc = out && diff && energy ? PARE_OK : pare_errf(err, "out of memory");
  for (int h = 0; rc == PARE_OK && h < s->n_held; h++) {
    rc = engine_run(&e, s->in + (size_t)h * (size_t)s->n_in, out, err);
    for (int j = 0; rc == PARE_OK && j < s->n_out; j++) {
      pare_tensor **ref = &s->ref[(size_t)h * (size_t)s->n_out + (size_t)j];
      if (!*ref) {
        *ref = pare_tensor_clone(out[j], err);
        if (!*ref) rc = PARE_ERR;
        continue;
      }
      if (out[j]->dtype != PARE_F32) continue;
      const float *a = out[j]->data, *b = (*ref)->data;
      int64_t n = pare_tensor_numel(out[j]);
      for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        diff[j] += d * d;
        energy[j] += (double)b[i] * (double)b[i];
      }
      if (j == 0 && s->mc) rc = metric_compare(s->mc, out[0], *ref, &acc, err);
    }
    if (rc) pare_err_prefix(err, "held-out set %ld", s->held[h]);
  }
  double sq = 0;
  for (int j = 0; j < s->n_out && diff; j++) sq += energy[j] > 0 ? diff[j] / energy[j] : diff[j];
  m->sq = s->n_out ? sq / s->n_out : 0;
  m->bytes = e.stats.weight_bytes;
  m->metric = sqrt(m->sq);
  if (s->mc) {
    double v = metric_value(&acc);
    /* ctc: edit distance over the original's characters; the others agree. */
    m->metric = s->o->bound.metric.kind == METRIC_CTC ? v : 1 - v;
  }
  for (int j = 0; out && j < s->n_out; j++) pare_tensor_free(out[j]);
  free(out);
  free(diff);
  free(energy);
  engine_close(&e);
  return rc;
}

/* Swaps the chosen columns' weights of every layer into (or back out of)
 * the base graph. */
static void splice(search *s, const int *choice) {
  for (int i = 0; i < s->n_l; i++) {
    int c = s->ls[i].opts[choice[i]].col;
    if (c < 0) continue;
    pare_value *a = s->base->values[s->ls[i].value], *b = s->cols[c].g->values[s->ls[i].value];
    pare_tensor *t = a->init;
    pare_encoding *e = a->enc;
    a->init = b->init, a->enc = b->enc;
    b->init = t, b->enc = e;
  }
}

static int add_point(search *s, const measure *m, int chosen) {
  search_result *r = s->r;
  cli_search_point *p = realloc(r->points, ((size_t)r->n_points + 1) * sizeof *p);
  if (!p) return PARE_ERR;
  r->points = p;
  p[r->n_points++] = (cli_search_point){(double)m->bytes, sqrt(m->sq), chosen};
  return PARE_OK;
}

static int measure_choice(search *s, const int *choice, measure *m, pare_err *err) {
  splice(s, choice);
  int rc = measure_graph(s, s->base, m, err);
  splice(s, choice);
  s->r->evaluations++;
  if (rc == PARE_OK && add_point(s, m, 0)) rc = pare_errf(err, "out of memory");
  return rc;
}

/* --------------------------------------------------------------- setup */

/* The held-out sets and the calibration sets of the passes. */
static int split_sets(search *s, pare_err *err) {
  const search_opts *o = s->o;
  long lo = 0, hi = 0x7fffffffL;
  if (o->calib_sets && metric_parse_range(o->calib_sets, &lo, &hi))
    return pare_errf(err, "--calib-sets '%s': expected K or A-B", o->calib_sets);
  long *sets = NULL;
  int n = 0;
  if (metric_list_sets(o->calib, lo, hi, &sets, &n, err)) return PARE_ERR;
  char range[64];
  if (o->search_sets) {
    long a, b;
    if (metric_parse_range(o->search_sets, &a, &b)) {
      free(sets);
      return pare_errf(err, "--search-sets '%s': expected K or A-B", o->search_sets);
    }
    if (metric_list_sets(o->calib, a, b, &s->held, &s->n_held, err)) {
      free(sets);
      return PARE_ERR;
    }
    snprintf(range, sizeof range, "%ld-%ld", sets[0], sets[n - 1]);
  } else if (n == 1) {
    s->held = malloc(sizeof *s->held);
    if (!s->held) return pare_errf(err, "out of memory");
    s->held[0] = sets[0];
    s->n_held = 1;
    snprintf(range, sizeof range, "%ld", sets[0]);
  } else {
    int nh = n / 5 > 0 ? n / 5 : 1;
    s->held = malloc((size_t)nh * sizeof *s->held);
    if (!s->held) return pare_errf(err, "out of memory");
    memcpy(s->held, sets + (n - nh), (size_t)nh * sizeof *s->held);
    s->n_held = nh;
    snprintf(range, sizeof range, "%ld-%ld", sets[0], sets[n - nh - 1]);
  }
  free(sets);
  s->r->calib_sets = strdup(range);
  s->r->n_held_out = s->n_held;
  if (!s->r->calib_sets) return pare_errf(err, "out of memory");
  return calib_open(&s->calib, o->calib, range, err);
}

static int read_held_out(search *s, const pare_graph *g, pare_err *err) {
  s->n_in = g->n_inputs;
  s->n_out = g->n_outputs;
  s->in = calloc((size_t)s->n_held * (size_t)s->n_in + 1, sizeof *s->in);
  s->ref = calloc((size_t)s->n_held * (size_t)s->n_out + 1, sizeof *s->ref);
  if (!s->in || !s->ref) return pare_errf(err, "out of memory");
  for (int h = 0; h < s->n_held; h++)
    for (int i = 0; i < s->n_in; i++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/test_data_set_%ld/input_%d.pb", s->o->calib, s->held[h], i);
      pare_tensor *t = pare_tensor_read_pb(path, err);
      if (!t) return PARE_ERR;
      s->in[(size_t)h * (size_t)s->n_in + (size_t)i] = t;
    }
  return PARE_OK;
}

/* The layer error decisions of one column run. */
typedef struct capture {
  int n, cap;
  char **names;
  double *errs;
} capture;

static void on_decision(void *user, const char *pass, const char *layer, const char *key,
                        double number, const char *value) {
  (void)pass;
  capture *c = user;
  if (value || strcmp(key, "calib_output_error") != 0) return;
  if (c->n == c->cap) {
    int cap = c->cap ? 2 * c->cap : 64;
    char **names = realloc(c->names, (size_t)cap * sizeof *names);
    if (names) c->names = names;
    double *errs = realloc(c->errs, (size_t)cap * sizeof *errs);
    if (errs) c->errs = errs;
    if (!names || !errs) return;
    c->cap = cap;
  }
  c->names[c->n] = strdup(layer);
  if (c->names[c->n]) c->errs[c->n++] = number;
}

/* The weight value of the Conv/Gemm/MatMul node a pass named `layer`: the
 * node's name, or its output's or weight's name for unnamed nodes. */
static int layer_value(const pare_graph *g, const char *layer) {
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    if (n->n_inputs < 2 || n->inputs[1] < 0) continue;
    if (strcmp(n->op, "Conv") && strcmp(n->op, "Gemm") && strcmp(n->op, "MatMul")) continue;
    int named = n->name && n->name[0];
    if ((named && strcmp(n->name, layer) == 0) ||
        (!named && ((n->n_outputs > 0 && n->outputs[0] >= 0 &&
                     strcmp(g->values[n->outputs[0]]->name, layer) == 0) ||
                    strcmp(g->values[n->inputs[1]]->name, layer) == 0)))
      return n->inputs[1];
  }
  return -1;
}

static slayer *find_or_add_layer(search *s, int value) {
  for (int i = 0; i < s->n_l; i++)
    if (s->ls[i].value == value) return &s->ls[i];
  slayer *ls = realloc(s->ls, ((size_t)s->n_l + 1) * sizeof *ls);
  if (!ls) return NULL;
  s->ls = ls;
  slayer *l = &ls[s->n_l];
  memset(l, 0, sizeof *l);
  l->value = value;
  l->names = calloc((size_t)s->n_cols, sizeof *l->names);
  l->opts = calloc((size_t)s->n_cols + 1, sizeof *l->opts);
  if (!l->names || !l->opts) return NULL;
  const pare_tensor *t = s->base->values[value]->init;
  l->f32_bytes = (int64_t)t->nbytes;
  s->numel += pare_tensor_numel(t);
  s->n_l++;
  return l;
}

/* Splits the menu into one pass string per alternative, each checked: one
 * pass with a `layers` option, which it must leave to the search. */
static int parse_menu(search *s, pare_err *err) {
  const char *menu = s->o->menu ? s->o->menu : default_menu;
  for (const char *p = menu; *p;) {
    size_t n = strcspn(p, ",");
    char *text = strndup(p, n);
    column *cols = realloc(s->cols, ((size_t)s->n_cols + 1) * sizeof *cols);
    if (!text || !cols) {
      free(text);
      return pare_errf(err, "out of memory");
    }
    s->cols = cols;
    s->cols[s->n_cols++] = (column){text, NULL, 0};
    pare_pipeline pl = {0};
    int rc = pare_pipeline_parse(text, &pl, err);
    int has_layers = 0;
    for (int i = 0;
         rc == PARE_OK && pl.entries[0].pass->options && pl.entries[0].pass->options[i].name; i++)
      if (strcmp(pl.entries[0].pass->options[i].name, "layers") == 0) {
        has_layers = 1;
        if (pl.entries[0].args[i].s[0])
          rc = pare_errf(err, "'%s': the search sets 'layers' itself", text);
      }
    if (rc == PARE_OK && !has_layers)
      rc = pare_errf(err,
                     "'%s': pass '%s' has no 'layers' option, so the search cannot apply it "
                     "to chosen layers (quantize and cluster can)",
                     text, pl.entries[0].pass->name);
    pare_pipeline_free(&pl);
    if (rc) return pare_err_prefix(err, "--search-menu");
    p += n + (p[n] == ',');
  }
  if (s->n_cols == 0) return pare_errf(err, "--search-menu: no alternatives");
  return PARE_OK;
}

/* Step 1: every alternative over all layers, once. */
static int run_columns(search *s, pare_err *err) {
  for (int c = 0; c < s->n_cols; c++) {
    double t = now();
    capture cap = {0};
    pare_graph *g = load(s, 1, err);
    int rc = g ? PARE_OK : PARE_ERR;
    if (rc == PARE_OK && (g->n_values != s->base->n_values || g->n_nodes != s->base->n_nodes))
      rc = pare_errf(err, "the model does not load the same way twice");
    pare_pm_opts pm = {.calib = &s->calib.base, .on_decision = on_decision, .user = &cap};
    if (rc == PARE_OK) rc = run_pipeline_text(s, g, s->cols[c].text, &pm, err);
    s->cols[c].g = g;
    for (int i = 0; rc == PARE_OK && i < cap.n; i++) {
      int v = layer_value(g, cap.names[i]);
      if (v < 0 || !g->values[v]->enc || !s->base->values[v]->init || s->base->values[v]->enc)
        continue;
      slayer *l = find_or_add_layer(s, v);
      if (!l) {
        rc = pare_errf(err, "out of memory");
        break;
      }
      if (l->names[c]) continue;
      l->names[c] = cap.names[i];
      cap.names[i] = NULL;
      l->opts[l->n_opts++] =
          (option){c, (int64_t)pare_encoding_bytes(g->values[v]->enc), cap.errs[i], 0};
    }
    for (int i = 0; i < cap.n; i++) free(cap.names[i]);
    free(cap.names);
    free(cap.errs);
    if (rc) return pare_err_prefix(err, "search alternative '%s'", s->cols[c].text);
    s->cols[c].seconds = now() - t;
    logf_(s, "alternative %d/%d %s: %.1f s", c + 1, s->n_cols, s->cols[c].text, s->cols[c].seconds);
  }
  if (s->n_l == 0) return pare_errf(err, "no layer any alternative of the menu compresses");
  return PARE_OK;
}

static int cmp_option(const void *a, const void *b) {
  const option *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? -1 : 1;
  if (x->err != y->err) return x->err < y->err ? -1 : 1;
  return x->col - y->col;
}

/* Each layer's options by bytes, dominated ones (as large, no smaller
 * error) dropped, f32 last. */
static void order_options(search *s) {
  for (int i = 0; i < s->n_l; i++) {
    slayer *l = &s->ls[i];
    l->opts[l->n_opts++] = (option){-1, l->f32_bytes, 0, 0};
    qsort(l->opts, (size_t)l->n_opts, sizeof *l->opts, cmp_option);
    int k = 0;
    for (int j = 0; j < l->n_opts; j++) {
      while (k > 0 && l->opts[k - 1].err <= l->opts[j].err) {
        if (l->opts[k - 1].bytes <= l->opts[j].bytes) goto dominated;
        k--;
      }
      l->opts[k++] = l->opts[j];
    dominated:;
    }
    l->n_opts = k;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Step 2: each large layer alone at the option nearest the average
 * compression the budget needs; its measured error over its squared layer
 * error is its sensitivity. */
static int probe_layers(search *s, double ratio, int *choice, pare_err *err) {
  int64_t total = 0;
  for (int i = 0; i < s->n_l; i++) total += s->ls[i].f32_bytes;
  double *ratios = malloc(((size_t)s->n_l + 1) * sizeof *ratios);
  if (!ratios) return pare_errf(err, "out of memory");
  int n_r = 0, n_probed = 0;
  for (int i = 0; i < s->n_l; i++) choice[i] = s->ls[i].n_opts - 1;
  for (int i = 0; i < s->n_l; i++) {
    slayer *l = &s->ls[i];
    l->sens = -1;
    if ((double)l->f32_bytes < PROBE_SHARE * (double)total || l->n_opts < 2) continue;
    int best = 0;
    double want = ratio * (double)l->f32_bytes;
    for (int j = 0; j < l->n_opts - 1; j++)
      if (fabs((double)l->opts[j].bytes - want) < fabs((double)l->opts[best].bytes - want))
        best = j;
    choice[i] = best;
    measure m;
    int rc = measure_choice(s, choice, &m, err);
    choice[i] = l->n_opts - 1;
    if (rc) return free(ratios), PARE_ERR;
    n_probed++;
    double e2 = l->opts[best].err * l->opts[best].err;
    if (e2 > 0) {
      l->sens = m.sq / e2;
      ratios[n_r++] = l->sens;
    }
  }
  double med = 1;
  if (n_r) {
    qsort(ratios, (size_t)n_r, sizeof *ratios, cmp_double);
    med = ratios[n_r / 2];
  }
  for (int i = 0; i < s->n_l; i++)
    if (s->ls[i].sens < 0) s->ls[i].sens = med;
  free(ratios);
  logf_(s, "sensitivity of %d of %d layers measured end to end (median %.3g)", n_probed, s->n_l,
        med);
  return PARE_OK;
}

/* Step 3: the knapsack over the layers' options, within `budget` bytes. */
static int allocate(search *s, int64_t budget, int *choice, pare_err *err) {
  int nc = 0;
  for (int i = 0; i < s->n_l; i++)
    if (s->ls[i].n_opts > nc) nc = s->ls[i].n_opts;
  size_t cells = (size_t)s->n_l * (size_t)nc;
  int64_t *bytes = malloc(cells * sizeof *bytes);
  double *cost = malloc(cells * sizeof *cost);
  if (!bytes || !cost) {
    free(bytes);
    free(cost);
    return pare_errf(err, "out of memory");
  }
  for (int i = 0; i < s->n_l; i++)
    for (int c = 0; c < nc; c++) {
      const slayer *l = &s->ls[i];
      size_t at = (size_t)i * (size_t)nc + (size_t)c;
      bytes[at] = c < l->n_opts ? l->opts[c].bytes : -1;
      cost[at] = c < l->n_opts ? l->sens * l->opts[c].err * l->opts[c].err : INFINITY;
    }
  int rc = pare_knapsack(s->n_l, nc, bytes, cost, budget, KNAPSACK_STEPS, choice, err);
  free(bytes);
  free(cost);
  return rc;
}

static int64_t layer_bytes(const search *s, const int *choice) {
  int64_t b = 0;
  for (int i = 0; i < s->n_l; i++) b += s->ls[i].opts[choice[i]].bytes;
  return b;
}

/* ------------------------------------------------------------- pipeline */

/* The prefix, then each used alternative with layers= its layers. */
static char *pipeline_text(const search *s, const int *choice) {
  pare_strbuf b = {0};
  pare_strbuf_printf(&b, "%s%scalib-snapshot", s->o->prefix, s->o->prefix[0] ? "," : "");
  for (int c = 0; c < s->n_cols; c++) {
    int any = 0;
    for (int i = 0; i < s->n_l; i++) {
      if (s->ls[i].opts[choice[i]].col != c) continue;
      if (!any) {
        const char *t = s->cols[c].text;
        size_t n = strlen(t);
        int has_opts = n > 0 && t[n - 1] == '>';
        pare_strbuf_printf(&b, ",%.*s%slayers=", (int)(n - (size_t)has_opts), t,
                           has_opts ? ";" : "<");
      }
      pare_strbuf_printf(&b, "%s%s", any ? "+" : "", s->ls[i].names[c]);
      any = 1;
    }
    if (any) pare_strbuf_printf(&b, ">");
  }
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* Layer names the pipeline syntax cannot carry are left f32. */
static void drop_unnameable(search *s) {
  for (int i = 0; i < s->n_l; i++) {
    slayer *l = &s->ls[i];
    int k = 0;
    for (int j = 0; j < l->n_opts; j++) {
      int c = l->opts[j].col;
      if (c >= 0 && strpbrk(l->names[c], "+,;<>")) continue;
      l->opts[k++] = l->opts[j];
    }
    if (k < l->n_opts)
      logf_(s, "layer '%s' stays f32: its name cannot be written in a pipeline",
            s->base->values[l->value]->name);
    l->n_opts = k;
  }
}

/* ----------------------------------------------------------- the search */

static int feasible(const search *s, const measure *m) {
  return s->r->target <= 0 || m->bytes <= s->r->target;
}

static int within_bound(const search *s, const measure *m) {
  return !s->o->has_bound || m->metric <= s->o->bound.bound;
}

/* The knapsack at the layers' budget, shrunk until the build measures
 * within the target. */
static int allocate_feasible(search *s, int64_t budget, int *choice, measure *m, pare_err *err) {
  for (int k = 0; k < MAX_SHRINK; k++) {
    if (allocate(s, budget, choice, err) || measure_choice(s, choice, m, err)) return PARE_ERR;
    if (feasible(s, m)) return PARE_OK;
    int64_t over = m->bytes - s->r->target;
    logf_(s, "knapsack solution measures %lld bytes over the target; budget lowered",
          (long long)over);
    budget -= over + budget / 1000;
  }
  return pare_errf(err, "no allocation measured within the target after %d tries", MAX_SHRINK);
}

/* Step 4: (1+1) evolution. A mutation raises 1-3 random layers one level
 * (more bytes, less error) and lowers random others until the layers fit
 * the budget again; the child replaces the parent when it measures better
 * and within the target. */
static int evolve(search *s, int64_t budget, int *best, measure *bm, double reserve,
                  pare_err *err) {
  int n = s->n_l;
  int *child = malloc(((size_t)n + 1) * sizeof *child);
  if (!child) return pare_errf(err, "out of memory");
  int rc = PARE_OK, improved = 0;
  for (int gen = 0; gen < s->o->generations; gen++) {
    if (s->o->time_limit > 0 && now() - s->t0 + reserve > s->o->time_limit) {
      s->r->time_limited = 1;
      logf_(s, "time limit: evolution stopped after %d generations", gen);
      break;
    }
    memcpy(child, best, (size_t)n * sizeof *child);
    int ups = 1 + rand_below(s, 3), changed = 0;
    for (int u = 0; u < ups; u++) {
      int i = rand_below(s, n);
      if (child[i] + 1 < s->ls[i].n_opts) child[i]++, changed = 1;
    }
    for (int tries = 0; layer_bytes(s, child) > budget && tries < 64 * n; tries++) {
      int j = rand_below(s, n);
      if (child[j] > 0 && child[j] <= best[j]) child[j]--, changed = 1;
    }
    if (!changed || layer_bytes(s, child) > budget) continue;
    measure m;
    if ((rc = measure_choice(s, child, &m, err))) break;
    s->r->generations = gen + 1;
    if (feasible(s, &m) && m.sq < bm->sq) {
      memcpy(best, child, (size_t)n * sizeof *best);
      *bm = m;
      improved++;
      logf_(s, "generation %d: %lld bytes, relative error %.4g", gen + 1, (long long)m.bytes,
            sqrt(m.sq));
    }
  }
  free(child);
  if (!rc) logf_(s, "evolution: %d improvements", improved);
  return rc;
}

/* With only a bound: the smallest budget whose allocation meets it
 * (bisection over the layers' bytes). */
static int smallest_within(search *s, int64_t least, int64_t most, int *best, measure *bm,
                           pare_err *err) {
  int *c = malloc(((size_t)s->n_l + 1) * sizeof *c);
  if (!c) return pare_errf(err, "out of memory");
  int found = 0, rc = PARE_OK;
  for (int i = 0; i < s->n_l; i++) best[i] = s->ls[i].n_opts - 1;
  int64_t lo = least, hi = most;
  for (int step = 0; step < 14 && hi - lo > most / 1000; step++) {
    int64_t mid = lo + (hi - lo) / 2;
    measure m;
    if (allocate(s, mid, c, err)) { /* below what the rounded choices reach */
      lo = mid;
      continue;
    }
    if ((rc = measure_choice(s, c, &m, err))) break;
    logf_(s, "budget %lld bytes: %s %.4g", (long long)m.bytes, error_name(&s->o->bound), m.metric);
    if (within_bound(s, &m)) {
      hi = mid;
      memcpy(best, c, (size_t)s->n_l * sizeof *c);
      *bm = m;
      found = 1;
    } else {
      lo = mid;
    }
  }
  free(c);
  if (!rc && !found) rc = measure_choice(s, best, bm, err);
  return rc;
}

/* Step 5: the pipeline from scratch, measured. */
static int verify(search *s, const char *text, measure *m, pare_err *err) {
  pare_graph *g = load(s, 0, err);
  if (!g) return PARE_ERR;
  pare_pm_opts pm = {.calib = &s->calib.base};
  int rc = run_pipeline_text(s, g, text, &pm, err);
  if (rc == PARE_OK) rc = measure_graph(s, g, m, err);
  pare_graph_free(g);
  return rc;
}

static int run(search *s, pare_err *err) {
  const search_opts *o = s->o;
  search_result *r = s->r;
  if (split_sets(s, err) || parse_menu(s, err)) return PARE_ERR;
  if (s->n_held == 1 && !o->search_sets && s->calib.n_sets == 1)
    logf_(s, "one calibration set: nothing to hold out, the search measures on set %ld",
          s->held[0]);
  if (o->has_bound && !o->bound.rel_l2 && !(s->mc = metric_open(&o->bound.metric, err)))
    return PARE_ERR;

  /* The original model: the reference outputs and the size base. */
  pare_graph *orig = load(s, 0, err);
  if (!orig) return PARE_ERR;
  measure m0;
  int rc = read_held_out(s, orig, err);
  if (rc == PARE_OK) rc = measure_graph(s, orig, &m0, err);
  pare_graph_free(orig);
  if (rc) return rc;
  r->base_bytes = m0.bytes;

  if (!(s->base = load(s, 1, err)) || run_columns(s, err)) return PARE_ERR;
  order_options(s);
  drop_unnameable(s);

  int *choice = malloc(((size_t)s->n_l + 1) * sizeof *choice);
  if (!choice) return pare_errf(err, "out of memory");
  int64_t f32 = 0, least = 0;
  for (int i = 0; i < s->n_l; i++) {
    choice[i] = s->ls[i].n_opts - 1;
    f32 += s->ls[i].f32_bytes;
    least += s->ls[i].opts[0].bytes;
  }
  measure mf;
  if ((rc = measure_choice(s, choice, &mf, err))) goto done;
  int64_t fixed = mf.bytes - f32; /* what the layers' weights leave (biases, tables) */
  if (o->target_bytes > 0)
    r->target = o->target_bytes;
  else if (o->target_percent > 0)
    r->target = (int64_t)floor(o->target_percent / 100.0 * (double)r->base_bytes);
  else if (o->bits_per_weight > 0)
    r->target = fixed + (int64_t)floor(o->bits_per_weight * (double)s->numel / 8.0);
  int64_t budget = r->target > 0 ? r->target - fixed : f32;
  if (r->target > 0 && budget < least) {
    rc = pare_errf(err,
                   "the target (%lld bytes) is below the smallest the menu reaches: %lld bytes "
                   "of layers plus %lld of other constants",
                   (long long)r->target, (long long)least, (long long)fixed);
    goto done;
  }
  logf_(s, "%d layers, %lld of %lld weight bytes; target %lld bytes (layers %lld)", s->n_l,
        (long long)f32, (long long)r->base_bytes, (long long)r->target, (long long)budget);
  /* Without a target, sensitivities are probed at a quarter of f32. */
  double ratio = r->target > 0 ? (double)budget / (double)f32 : 0.25;
  if ((rc = probe_layers(s, ratio, choice, err))) goto done;

  measure best;
  double reserve = 0;
  if (r->target > 0) {
    if ((rc = allocate_feasible(s, budget, choice, &best, err))) goto done;
    logf_(s, "knapsack: %lld bytes, relative error %.4g", (long long)best.bytes, sqrt(best.sq));
    for (int c = 0; c < s->n_cols; c++) reserve += s->cols[c].seconds;
    reserve = 1.5 * reserve / s->n_cols * 4 + 10; /* a few alternatives to re-run, and a build */
    /* The layers' budget as the build counts it: the target less what the
     * knapsack's solution measured beyond its layers' encoded bytes. */
    int64_t evolve_budget = r->target - (best.bytes - layer_bytes(s, choice));
    if ((rc = evolve(s, evolve_budget, choice, &best, reserve, err))) goto done;
  } else if ((rc = smallest_within(s, least, f32, choice, &best, err))) {
    goto done;
  }

  r->pipeline = pipeline_text(s, choice);
  if (!r->pipeline) {
    rc = pare_errf(err, "out of memory");
    goto done;
  }
  measure fin;
  if ((rc = verify(s, r->pipeline, &fin, err))) goto done;
  if (add_point(s, &fin, 1)) rc = pare_errf(err, "out of memory");
  r->bytes = fin.bytes;
  r->rel_l2 = sqrt(fin.sq);
  r->metric = fin.metric;
  logf_(s, "chosen pipeline, run from scratch: %lld bytes, relative error %.4g (spliced: %.4g)",
        (long long)fin.bytes, r->rel_l2, sqrt(best.sq));
  if (!rc && r->target > 0 && fin.bytes > r->target)
    rc = pare_errf(err, "the chosen pipeline builds to %lld bytes, over the target %lld",
                   (long long)fin.bytes, (long long)r->target);
  if (!rc && !within_bound(s, &fin))
    rc = pare_errf(err,
                   "no pipeline found within the target meets %s <= %g: the best measured "
                   "%s %g on the held-out sets",
                   error_name(&o->bound), o->bound.bound, error_name(&o->bound), fin.metric);
done:
  free(choice);
  return rc;
}

int search_run(const search_opts *o, search_result *r, pare_err *err) {
  memset(r, 0, sizeof *r);
  search s;
  memset(&s, 0, sizeof s);
  s.o = o;
  s.r = r;
  s.t0 = now();
  s.rng = o->seed;
  int rc = o->calib ? run(&s, err) : pare_errf(err, "a search needs --calib DIR");
  r->seconds = now() - s.t0;
  if (rc) pare_err_prefix(err, "%s: search", o->model);
  calib_close(&s.calib);
  free(s.held);
  for (int c = 0; c < s.n_cols; c++) {
    free(s.cols[c].text);
    pare_graph_free(s.cols[c].g);
  }
  free(s.cols);
  for (int i = 0; i < s.n_l; i++) {
    for (int c = 0; c < s.n_cols; c++) free(s.ls[i].names[c]);
    free(s.ls[i].names);
    free(s.ls[i].opts);
  }
  free(s.ls);
  for (size_t i = 0; s.in && i < (size_t)s.n_held * (size_t)s.n_in; i++) pare_tensor_free(s.in[i]);
  for (size_t i = 0; s.ref && i < (size_t)s.n_held * (size_t)s.n_out; i++)
    pare_tensor_free(s.ref[i]);
  free(s.in);
  free(s.ref);
  metric_close(s.mc);
  pare_graph_free(s.base);
  return rc;
}

void search_result_free(search_result *r) {
  free(r->pipeline);
  free(r->calib_sets);
  free(r->points);
  memset(r, 0, sizeof *r);
}
