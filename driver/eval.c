/*
 * eval.c - `pare eval`: what a compression cost. The original model and its
 * compressed form (a --passes pipeline, or a shared library `pare compile
 * --emit shared` built) run on the same test_data_set_K folders; per output
 * the error of the compressed outputs against the original's, and the task
 * metric (driver/metrics.h) of both.
 *
 * The model is loaded and made static once for the shapes of the first
 * set's inputs; every set must have those shapes. The errors are over all
 * sets' elements together: max and mean |c - o|, ||c - o|| / ||o|| and the
 * cosine of the angle between c and o.
 */
#include "driver/cli.h"
#include "driver/engine.h"
#include "driver/metrics.h"

#include "frontend/onnx.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct eval_opts {
  const char *model;
  const char *data;
  const char *sets;       /* --sets A-B */
  const char *compressed; /* --compressed LIB */
  const char *header;     /* --header FILE */
  const char *metric_name;
  metric_spec metric;
  engine_kind engine;
  int json;
  input_shapes shapes;
  pass_flags passes;
} eval_opts;

static const char eval_usage[] =
    "usage: pare eval MODEL --data DIR [--passes PIPELINE [--calib DIR [--calib-sets A-B]]\n"
    "                 | --compressed LIB [--header FILE]] [--sets A-B]\n"
    "                 [--metric top1|ctc|mask<T>] [--labels FILE] [--vocab FILE]\n"
    "                 [--label-map A,B,...] [--engine interp|jit]\n"
    "                 [--input-shape NAME=D1,D2,...]... [--json]\n"
    "Runs MODEL and its compressed form on every DIR/test_data_set_K (K ascending;\n"
    "input_N.pb in graph-input order) and prints, per output, the compressed\n"
    "outputs' error against the original's over all sets: max and mean absolute\n"
    "error, relative L2 error ||c - o|| / ||o|| and cosine similarity; then the\n"
    "task metric of output 0 when --metric is given.\n"
    "  --passes P        the compressed model is MODEL after this pipeline (see\n"
    "                    'pare passes'), run by the same engine as MODEL\n"
    "  --compressed LIB  the compressed model is a shared library built by\n"
    "                    'pare compile MODEL --emit shared' (with any --passes),\n"
    "                    loaded with dlopen. Its header (LIB with its extension\n"
    "                    replaced by .h, or --header FILE) gives the symbol prefix\n"
    "                    and the inputs' and outputs' dtypes and shapes, which must\n"
    "                    be MODEL's for DIR's inputs (compile with --input-shape).\n"
    "                    That LIB was built from MODEL is not checked beyond that.\n"
    "                    Without --passes or --compressed only MODEL runs: its\n"
    "                    task metric alone.\n"
    "  --data DIR        folder of test_data_set_K (the layout 'pare run' reads)\n"
    "  --sets K|A-B      only the sets with K in the range (inclusive)\n"
    "  --metric top1     output 0 [N,C]: rows whose argmax agrees between the\n"
    "                    compressed model and MODEL, and with --labels the accuracy\n"
    "                    of both (line K of FILE: the N labels of set K, class\n"
    "                    indices, or names given by --label-map, e.g. 0,180)\n"
    "  --metric ctc      output 0 [1,T,C]: greedy CTC decoding (argmax per step,\n"
    "                    merge repeats, drop blank 0; class k is line k-1 of\n"
    "                    --vocab, class C-1 a space); with --labels (line K: the\n"
    "                    text of set K) the CER (Levenshtein distance over code\n"
    "                    points / label code points) and exact-line rate of both;\n"
    "                    and the compressed decoding's CER against MODEL's\n"
    "  --metric maskT    output 0: IoU of the maps thresholded at T (value > T),\n"
    "                    compressed against MODEL, over all sets' elements; e.g.\n"
    "                    mask0.3\n"
    "  --engine E        what runs MODEL (and the --passes result): jit (default;\n"
    "                    the generated code through LLVM's ORC JIT) or interp\n"
    "                    (the reference interpreter)\n"
    "  --json            print one JSON object on stdout instead of text (an\n"
    "                    infinite or NaN error is null)\n"
    "Each model's weight bytes (of its generated code, the library's header, or\n"
    "the IR's constants under interp) and run time per set are printed too.\n"
    "Progress goes to stderr when it is a terminal. Exit status: 0 evaluated,\n"
    "1 model, data or library error (one line on stderr), 2 usage error.\n";

/* ------------------------------------------------------------ options */

static int parse_eval_args(int argc, char **argv, eval_opts *o) {
  pare_err err;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    int pf = cli_parse_common_flag(argc, argv, &i, &o->passes, eval_usage);
    if (pf < 0) return EXIT_USAGE;
    if (pf) continue;
    if (strcmp(a, "--json") == 0) {
      o->json = 1;
    } else if (strcmp(a, "--data") == 0 && has_value) {
      o->data = argv[++i];
    } else if (strcmp(a, "--sets") == 0 && has_value) {
      long lo, hi;
      o->sets = argv[++i];
      if (metric_parse_range(o->sets, &lo, &hi)) {
        cli_error("--sets '%s': expected K or A-B", o->sets);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--compressed") == 0 && has_value) {
      o->compressed = argv[++i];
    } else if (strcmp(a, "--header") == 0 && has_value) {
      o->header = argv[++i];
    } else if (strcmp(a, "--metric") == 0 && has_value) {
      o->metric_name = argv[++i];
      if (metric_parse(o->metric_name, &o->metric, &err)) {
        cli_error("--metric: %s", err.msg);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--labels") == 0 && has_value) {
      o->metric.labels = argv[++i];
    } else if (strcmp(a, "--vocab") == 0 && has_value) {
      o->metric.vocab = argv[++i];
    } else if (strcmp(a, "--label-map") == 0 && has_value) {
      o->metric.label_map = argv[++i];
    } else if (strcmp(a, "--engine") == 0 && has_value) {
      const char *e = argv[++i];
      int kind = engine_kind_from_name(e);
      if (kind != ENGINE_INTERP && kind != ENGINE_JIT) {
        cli_error("--engine '%s': expected interp or jit", e);
        return EXIT_USAGE;
      }
      o->engine = (engine_kind)kind;
    } else if (strcmp(a, "--input-shape") == 0 && has_value) {
      if (cli_parse_input_shape(argv[++i], &o->shapes, &err)) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
      }
    } else if (a[0] == '-' && a[1]) {
      cli_error("eval: unknown option '%s' or missing value", a);
      return EXIT_USAGE;
    } else if (!o->model) {
      o->model = a;
    } else {
      cli_error("eval: more than one model given ('%s' and '%s')", o->model, a);
      return EXIT_USAGE;
    }
  }
  const char *why = NULL;
  metric_kind k = o->metric.kind;
  int compared = o->passes.pipeline.n > 0 || o->compressed;
  if (!o->model || !o->data)
    why = "eval: MODEL and --data DIR are required";
  else if (o->passes.pipeline.n > 0 && o->compressed)
    why = "eval: --passes and --compressed exclude each other (compile LIB with the passes)";
  else if (o->header && !o->compressed)
    why = "eval: --header applies to --compressed only";
  else if (o->passes.calib && o->passes.pipeline.n == 0)
    why = "eval: --calib applies to --passes only";
  else if ((o->passes.report || o->passes.report_html) && o->passes.pipeline.n == 0)
    why = "eval: --report applies to --passes only";
  else if ((o->metric.labels || o->metric.vocab || o->metric.label_map) && k == METRIC_NONE)
    why = "eval: --labels, --vocab and --label-map need --metric";
  else if (o->metric.vocab && k != METRIC_CTC)
    why = "eval: --vocab applies to --metric ctc only";
  else if (o->metric.label_map && k != METRIC_TOP1)
    why = "eval: --label-map applies to --metric top1 only";
  else if (k == METRIC_CTC && !o->metric.vocab)
    why = "eval: --metric ctc needs --vocab FILE";
  else if (k == METRIC_MASK && o->metric.labels)
    why = "eval: --metric mask compares with the original model; it takes no --labels";
  else if (k != METRIC_NONE && !compared && !o->metric.labels)
    why = "eval: without --passes or --compressed there is nothing to compare: --metric "
          "needs --labels";
  if (why) {
    cli_error("%s", why);
    return EXIT_USAGE;
  }
  return 0;
}

/* ------------------------------------------------------------ the models */

/* The bytes of the graph's constants as stored (an encoded one counts its
 * encoded size). */
static int64_t graph_weight_bytes(const pare_graph *g) {
  int64_t bytes = 0;
  for (int v = 0; v < g->n_values; v++) {
    const pare_value *val = g->values[v];
    if (!val->init) continue;
    bytes += val->enc ? (int64_t)pare_encoding_bytes(val->enc) : (int64_t)val->init->nbytes;
  }
  return bytes;
}

static int read_set_inputs(const eval_opts *o, long set, int n, pare_tensor **in, pare_err *err) {
  for (int i = 0; i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/test_data_set_%ld/input_%d.pb", o->data, set, i);
    in[i] = pare_tensor_read_pb(path, err);
    if (!in[i]) return PARE_ERR;
  }
  return PARE_OK;
}

static void free_tensors(pare_tensor **t, int n) {
  for (int i = 0; t && i < n; i++) {
    pare_tensor_free(t[i]);
    t[i] = NULL;
  }
}

/* Loads MODEL, binds the inputs that --input-shape leaves unbound to the
 * shapes of `first` and makes the graph static. */
static pare_graph *load_static(const eval_opts *o, pare_tensor **first, int n_first,
                               pare_err *err) {
  pare_graph *g = cli_load_model(o->model, &o->shapes, err);
  if (!g) return NULL;
  if (g->n_inputs != n_first) {
    pare_errf(err, "%s: %d inputs, but %s/test_data_set_K has %d input_N.pb", o->model, g->n_inputs,
              o->data, n_first);
    goto fail;
  }
  for (int i = 0; i < g->n_inputs; i++) {
    const pare_value *v = g->values[g->inputs[i]];
    if (first[i]->dtype != v->dtype) {
      pare_errf(err, "input_%d.pb is %s but input '%s' of %s is %s", i,
                pare_dtype_name(first[i]->dtype), v->name, o->model, pare_dtype_name(v->dtype));
      goto fail;
    }
    if (!cli_find_input_shape(&o->shapes, v->name) &&
        pare_bind_input_shape(g, v->name, &first[i]->shape, err)) {
      pare_err_prefix(err, "%s", o->model);
      goto fail;
    }
  }
  if (cli_make_static(g, o->model, err)) goto fail;
  return g;
fail:
  pare_graph_free(g);
  return NULL;
}

/* Inputs of a later set must have the shapes the model was made static for. */
static int check_inputs(const eval_opts *o, const pare_graph *g, long set, pare_tensor **in,
                        pare_err *err) {
  for (int i = 0; i < g->n_inputs; i++) {
    const pare_value *v = g->values[g->inputs[i]];
    if (in[i]->dtype == v->dtype && pare_shape_equal(&in[i]->shape, &v->shape)) continue;
    char a[128], b[128];
    pare_shape_str(&in[i]->shape, a, sizeof a);
    pare_shape_str(&v->shape, b, sizeof b);
    return pare_errf(
        err, "%s/test_data_set_%ld/input_%d.pb: %s %s, but the model was bound to %s %s", o->data,
        set, i, pare_dtype_name(in[i]->dtype), a, pare_dtype_name(v->dtype), b);
  }
  return PARE_OK;
}

/* Outputs of the compressed graph must be the original's. */
static int check_outputs(const pare_graph *orig, const pare_graph *comp, pare_err *err) {
  if (orig->n_outputs != comp->n_outputs)
    return pare_errf(err, "mismatched outputs: the original model has %d, the compressed %d",
                     orig->n_outputs, comp->n_outputs);
  for (int j = 0; j < orig->n_outputs; j++) {
    const pare_value *a = orig->values[orig->outputs[j]], *b = comp->values[comp->outputs[j]];
    if (a->dtype == b->dtype && pare_shape_equal(&a->shape, &b->shape)) continue;
    char sa[128], sb[128];
    pare_shape_str(&a->shape, sa, sizeof sa);
    pare_shape_str(&b->shape, sb, sizeof sb);
    return pare_errf(err,
                     "mismatched outputs: output %d is %s %s in the original, %s %s compressed", j,
                     pare_dtype_name(a->dtype), sa, pare_dtype_name(b->dtype), sb);
  }
  return PARE_OK;
}

/* ------------------------------------------------------- the library */

/* What the header of a `pare compile` library says. */
typedef struct lib_header {
  char *text;
  char name[128], upper[128];
  int64_t weight_bytes;
} lib_header;

/* The value of "#define KEY " in the header, or NULL. */
static const char *header_define(const lib_header *h, const char *suffix) {
  char key[300];
  snprintf(key, sizeof key, "#define %s_%s ", h->upper, suffix);
  const char *p = strstr(h->text, key);
  return p ? p + strlen(key) : NULL;
}

/* Reads the header and finds the symbol prefix from its NAME_workspace_size
 * declaration. */
static int header_read(lib_header *h, const char *path, pare_err *err) {
  memset(h, 0, sizeof *h);
  h->text = cli_read_file(path, (size_t)64 << 20, err);
  if (!h->text) return pare_err_prefix(err, "header (give --header FILE)");
  const char *decl = strstr(h->text, "_workspace_size(void);");
  const char *start = decl;
  while (start && start > h->text && (isalnum((unsigned char)start[-1]) || start[-1] == '_'))
    start--;
  size_t n = decl ? (size_t)(decl - start) : 0;
  if (!decl || n == 0 || n >= sizeof h->name)
    return pare_errf(err, "%s: not a header from 'pare compile' (no NAME_workspace_size)", path);
  memcpy(h->name, start, n);
  h->name[n] = 0;
  for (size_t i = 0; i <= n; i++) h->upper[i] = (char)toupper((unsigned char)h->name[i]);
  const char *wb = header_define(h, "WEIGHT_BYTES");
  h->weight_bytes = wb ? strtoll(wb, NULL, 10) : -1;
  return PARE_OK;
}

/* Checks one input or output the header declares against value v. */
static int header_check_value(const lib_header *h, const char *path, const char *kind, int idx,
                              const pare_value *v, const char *model, pare_err *err) {
  char key[64];
  snprintf(key, sizeof key, "%s_%d_DTYPE", kind, idx);
  const char *dt = header_define(h, key);
  snprintf(key, sizeof key, "%s_%d_SHAPE", kind, idx);
  const char *sh = header_define(h, key);
  if (!dt || !sh || *sh != '{')
    return pare_errf(err, "%s: no dtype and shape for %s %d", path, kind, idx);
  pare_shape s = {0};
  const char *p = sh + 1;
  while (*p && *p != '}' && s.rank < PARE_MAX_RANK) {
    char *end;
    s.dims[s.rank++] = strtoll(p, &end, 10);
    if (end == p) return pare_errf(err, "%s: unreadable shape of %s %d", path, kind, idx);
    p = end;
    while (*p == ',' || *p == ' ') p++;
  }
  int dtype = atoi(dt);
  if (dtype == (int)v->dtype && pare_shape_equal(&s, &v->shape)) return PARE_OK;
  char a[128], b[128];
  pare_shape_str(&s, a, sizeof a);
  pare_shape_str(&v->shape, b, sizeof b);
  return pare_errf(err,
                   "mismatched %ss: %s declares %s %d as %s %s, %s with the data's inputs "
                   "gives %s %s",
                   kind[0] == 'I' ? "input" : "output", path, kind[0] == 'I' ? "input" : "output",
                   idx, pare_dtype_name((pare_dtype)dtype), a, model, pare_dtype_name(v->dtype), b);
}

static int header_check(const lib_header *h, const char *path, const pare_graph *g,
                        const char *model, pare_err *err) {
  const char *ni = header_define(h, "NUM_INPUTS"), *no = header_define(h, "NUM_OUTPUTS");
  if (!ni || !no) return pare_errf(err, "%s: no NUM_INPUTS / NUM_OUTPUTS", path);
  if (atoi(ni) != g->n_inputs)
    return pare_errf(err, "mismatched inputs: %s declares %d, %s has %d", path, atoi(ni), model,
                     g->n_inputs);
  if (atoi(no) != g->n_outputs)
    return pare_errf(err, "mismatched outputs: %s declares %d, %s has %d", path, atoi(no), model,
                     g->n_outputs);
  for (int i = 0; i < g->n_inputs; i++)
    if (header_check_value(h, path, "INPUT", i, g->values[g->inputs[i]], model, err))
      return PARE_ERR;
  for (int j = 0; j < g->n_outputs; j++)
    if (header_check_value(h, path, "OUTPUT", j, g->values[g->outputs[j]], model, err))
      return PARE_ERR;
  return PARE_OK;
}

/* LIB with its extension replaced by .h. */
static char *default_header(const char *lib) {
  const char *slash = strrchr(lib, '/');
  const char *dot = strrchr(lib, '.');
  size_t n = dot && (!slash || dot > slash + 1) ? (size_t)(dot - lib) : strlen(lib);
  char *r = malloc(n + 3);
  if (r) {
    memcpy(r, lib, n);
    strcpy(r + n, ".h");
  }
  return r;
}

/* ------------------------------------------------------------ errors */

/* Sums over all sets of one output: compressed c against original o. */
typedef struct diff_acc {
  double max_abs, sum_abs, sum_d2, sum_o2, sum_c2, sum_oc;
  int64_t n;
  long max_set; /* set of max_abs */
} diff_acc;

static void diff_add(diff_acc *d, const pare_tensor *orig, const pare_tensor *comp, long set) {
  int64_t n = pare_tensor_numel(orig);
  for (int64_t i = 0; i < n; i++) {
    double a, b;
    if (orig->dtype == PARE_F32) {
      a = ((const float *)orig->data)[i];
      b = ((const float *)comp->data)[i];
    } else {
      a = pare_tensor_get_f64(orig, i);
      b = pare_tensor_get_f64(comp, i);
    }
    double e;
    if (isnan(a) || isnan(b))
      e = isnan(a) && isnan(b) ? 0 : INFINITY;
    else
      e = a == b ? 0 : fabs(a - b); /* also equal infinities */
    if (e > d->max_abs || d->n == 0) {
      if (e > d->max_abs) d->max_set = set;
      d->max_abs = e > d->max_abs ? e : d->max_abs;
    }
    d->sum_abs += e;
    d->sum_d2 += e * e;
    if (isfinite(a) && isfinite(b)) {
      d->sum_o2 += a * a;
      d->sum_c2 += b * b;
      d->sum_oc += a * b;
    }
  }
  d->n += n;
}

static double diff_mean(const diff_acc *d) {
  return d->n ? d->sum_abs / (double)d->n : 0;
}

/* ||c - o|| / ||o||; 0 when both are zero, infinite when only o is. */
static double diff_rel_l2(const diff_acc *d) {
  if (d->sum_o2 > 0) return sqrt(d->sum_d2) / sqrt(d->sum_o2);
  return d->sum_d2 > 0 ? INFINITY : 0;
}

/* 1 when both are zero vectors (they agree), 0 when only one is. */
static double diff_cosine(const diff_acc *d) {
  if (d->sum_o2 > 0 && d->sum_c2 > 0) return d->sum_oc / (sqrt(d->sum_o2) * sqrt(d->sum_c2));
  return d->sum_o2 == 0 && d->sum_c2 == 0 ? 1 : 0;
}

/* ------------------------------------------------------------ the run */

typedef struct eval_state {
  const eval_opts *o;
  pare_graph *orig, *comp; /* comp: NULL unless --passes */
  engine e_orig, e_comp;
  int has_comp; /* a compressed model runs (--passes or --compressed) */
  lib_header lib;
  char *header_path;
  metric_ctx *metric;
  long *sets;
  int n_sets;
  diff_acc *diff; /* per output */
  metric_acc m_orig, m_comp, m_agree;
  double s_orig, s_comp; /* run time, summed */
} eval_state;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int open_models(eval_state *s, pare_err *err) {
  const eval_opts *o = s->o;
  long lo = 0, hi = 1L << 30;
  if (o->sets) metric_parse_range(o->sets, &lo, &hi);
  if (metric_list_sets(o->data, lo, hi, &s->sets, &s->n_sets, err))
    return pare_err_prefix(err, "--data");
  if (o->metric.kind != METRIC_NONE && !(s->metric = metric_open(&o->metric, err))) return PARE_ERR;
  /* The first set's inputs: as many input_N.pb as there are. */
  pare_tensor *first[64] = {0};
  int n_first = 0;
  for (; n_first < 64; n_first++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/test_data_set_%ld/input_%d.pb", o->data, s->sets[0], n_first);
    if (access(path, F_OK) != 0) break;
  }
  if (n_first == 0)
    return pare_errf(err, "%s/test_data_set_%ld: no input_0.pb", o->data, s->sets[0]);
  int rc = read_set_inputs(o, s->sets[0], n_first, first, err);
  if (rc == PARE_OK && !(s->orig = load_static(o, first, n_first, err))) rc = PARE_ERR;
  if (rc == PARE_OK && o->passes.pipeline.n > 0) {
    if (!(s->comp = load_static(o, first, n_first, err)) ||
        cli_run_passes(s->comp, &o->passes, o->model, err) || check_outputs(s->orig, s->comp, err))
      rc = PARE_ERR;
  }
  free_tensors(first, n_first);
  if (rc) return PARE_ERR;
  if (engine_open(&s->e_orig, o->engine, s->orig, 3, err))
    return pare_err_prefix(err, "%s: %s engine", o->model, engine_kind_name(o->engine));
  if (s->comp) {
    s->has_comp = 1;
    if (engine_open(&s->e_comp, o->engine, s->comp, 3, err))
      return pare_err_prefix(err, "%s after --passes: %s engine", o->model,
                             engine_kind_name(o->engine));
  } else if (o->compressed) {
    s->has_comp = 1;
    s->header_path = o->header ? pare_strdup(o->header) : default_header(o->compressed);
    if (!s->header_path) return pare_errf(err, "out of memory");
    if (header_read(&s->lib, s->header_path, err) ||
        header_check(&s->lib, s->header_path, s->orig, o->model, err) ||
        engine_open_library(&s->e_comp, o->compressed, s->lib.name, s->orig, err))
      return pare_err_prefix(err, "--compressed %s", o->compressed);
  }
  s->diff = calloc((size_t)s->orig->n_outputs + 1, sizeof *s->diff);
  return s->diff ? PARE_OK : pare_errf(err, "out of memory");
}

static int score_set(eval_state *s, long set, pare_tensor **out_o, pare_tensor **out_c,
                     pare_err *err) {
  const pare_graph *g = s->orig;
  if (s->has_comp)
    for (int j = 0; j < g->n_outputs; j++) diff_add(&s->diff[j], out_o[j], out_c[j], set);
  if (!s->metric) return PARE_OK;
  int rc = metric_score(s->metric, set, out_o[0], &s->m_orig, NULL, "original", err);
  if (rc == PARE_OK && s->has_comp)
    rc = metric_score(s->metric, set, out_c[0], &s->m_comp, NULL, "compressed", err);
  if (rc == PARE_OK && s->has_comp)
    rc = metric_compare(s->metric, out_c[0], out_o[0], &s->m_agree, err);
  return rc ? pare_err_prefix(err, "set %ld: --metric %s", set, s->o->metric_name) : PARE_OK;
}

static int run_sets(eval_state *s, pare_err *err) {
  const pare_graph *g = s->orig;
  int ni = g->n_inputs, no = g->n_outputs;
  pare_tensor **in = calloc((size_t)ni + 1, sizeof *in);
  pare_tensor **out_o = calloc((size_t)no + 1, sizeof *out_o);
  pare_tensor **out_c = calloc((size_t)no + 1, sizeof *out_c);
  int rc = in && out_o && out_c ? PARE_OK : pare_errf(err, "out of memory");
  int progress = isatty(2);
  for (int k = 0; rc == PARE_OK && k < s->n_sets; k++) {
    long set = s->sets[k];
    if (progress)
      fprintf(stderr, "\rpare eval: set %d/%d (test_data_set_%ld)", k + 1, s->n_sets, set);
    rc = read_set_inputs(s->o, set, ni, in, err);
    if (rc == PARE_OK) rc = check_inputs(s->o, g, set, in, err);
    double t0 = now_seconds();
    if (rc == PARE_OK && engine_run(&s->e_orig, in, out_o, err))
      rc = pare_err_prefix(err, "set %ld: original model", set);
    double t1 = now_seconds();
    if (rc == PARE_OK && s->has_comp && engine_run(&s->e_comp, in, out_c, err))
      rc = pare_err_prefix(err, "set %ld: compressed model", set);
    double t2 = now_seconds();
    s->s_orig += t1 - t0, s->s_comp += t2 - t1;
    if (rc == PARE_OK) rc = score_set(s, set, out_o, out_c, err);
    free_tensors(in, ni);
  }
  if (progress) fprintf(stderr, "\n");
  free_tensors(out_o, no);
  free_tensors(out_c, no);
  free(in);
  free(out_o);
  free(out_c);
  return rc;
}

static void close_models(eval_state *s) {
  if (s->e_orig.g) engine_close(&s->e_orig);
  if (s->e_comp.g) engine_close(&s->e_comp);
  pare_graph_free(s->orig);
  pare_graph_free(s->comp);
  metric_close(s->metric);
  free(s->lib.text);
  free(s->header_path);
  free(s->sets);
  free(s->diff);
}

/* ------------------------------------------------------------ output */

/* The weight bytes of each side: the generated code's when it was compiled,
 * the header's for a library, the IR constants' for the interpreter. */
static int64_t weight_bytes(const eval_state *s, int compressed, const char **source) {
  if (compressed && s->o->compressed) {
    *source = "library header";
    return s->lib.weight_bytes;
  }
  const engine *e = compressed ? &s->e_comp : &s->e_orig;
  if (e->kind == ENGINE_JIT) {
    *source = "generated code";
    return e->stats.weight_bytes;
  }
  *source = "IR constants";
  return graph_weight_bytes(compressed ? s->comp : s->orig);
}

static cJSON *metric_json(metric_kind kind, const metric_acc *a, int agreement) {
  cJSON *m = cJSON_CreateObject();
  if (kind == METRIC_TOP1) {
    cJSON_AddNumberToObject(m, agreement ? "agreement" : "accuracy", metric_value(a));
    cJSON_AddNumberToObject(m, agreement ? "agree" : "correct", (double)a->hits);
    cJSON_AddNumberToObject(m, "rows", (double)a->total);
  } else if (kind == METRIC_CTC) {
    cJSON_AddNumberToObject(m, "cer", metric_value(a));
    cJSON_AddNumberToObject(m, "edits", (double)a->hits);
    cJSON_AddNumberToObject(m, "chars", (double)a->total);
    cJSON_AddNumberToObject(m, "exact", metric_exact(a));
    cJSON_AddNumberToObject(m, "exact_lines", (double)a->exact);
    cJSON_AddNumberToObject(m, "lines", (double)a->lines);
  } else {
    cJSON_AddNumberToObject(m, "iou", metric_value(a));
    cJSON_AddNumberToObject(m, "intersection", (double)a->hits);
    cJSON_AddNumberToObject(m, "union", (double)a->total);
  }
  return m;
}

/* JSON has no infinity: a non-finite number becomes null. */
static void add_number(cJSON *o, const char *key, double v) {
  if (isfinite(v))
    cJSON_AddNumberToObject(o, key, v);
  else
    cJSON_AddNullToObject(o, key);
}

static int print_json(const eval_state *s, pare_err *err) {
  const eval_opts *o = s->o;
  const pare_graph *g = s->orig;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "model", o->model);
  cJSON_AddStringToObject(root, "data", o->data);
  cJSON_AddStringToObject(root, "engine", engine_kind_name(o->engine));
  cJSON_AddNumberToObject(root, "sets", s->n_sets);
  if (s->comp) {
    char *text = pare_pipeline_string(&o->passes.pipeline);
    cJSON *c = cJSON_AddObjectToObject(root, "compressed");
    cJSON_AddStringToObject(c, "passes", text ? text : "");
    free(text);
  } else if (o->compressed) {
    cJSON *c = cJSON_AddObjectToObject(root, "compressed");
    cJSON_AddStringToObject(c, "library", o->compressed);
    cJSON_AddStringToObject(c, "header", s->header_path);
    cJSON_AddStringToObject(c, "name", s->lib.name);
  } else {
    cJSON_AddNullToObject(root, "compressed");
  }
  for (int side = 0; side <= s->has_comp; side++) {
    const char *source;
    int64_t bytes = weight_bytes(s, side, &source);
    cJSON *w = cJSON_AddObjectToObject(root, side ? "compressed_model" : "original_model");
    cJSON_AddNumberToObject(w, "weight_bytes", (double)bytes);
    cJSON_AddStringToObject(w, "weight_bytes_from", source);
    cJSON_AddNumberToObject(w, "seconds_per_set", (side ? s->s_comp : s->s_orig) / s->n_sets);
  }
  cJSON *outs = cJSON_AddArrayToObject(root, "outputs");
  for (int j = 0; s->has_comp && j < g->n_outputs; j++) {
    const pare_value *v = g->values[g->outputs[j]];
    const diff_acc *d = &s->diff[j];
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "index", j);
    cJSON_AddStringToObject(x, "name", v->name);
    cJSON *shape = cJSON_AddArrayToObject(x, "shape");
    for (int k = 0; k < v->shape.rank; k++)
      cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)v->shape.dims[k]));
    add_number(x, "max_abs_error", d->max_abs);
    add_number(x, "mean_abs_error", diff_mean(d));
    add_number(x, "rel_l2_error", diff_rel_l2(d));
    add_number(x, "cosine", diff_cosine(d));
    cJSON_AddItemToArray(outs, x);
  }
  if (s->metric) {
    metric_kind k = o->metric.kind;
    cJSON *m = cJSON_AddObjectToObject(root, "metric");
    cJSON_AddStringToObject(m, "name", o->metric_name);
    if (metric_has_labels(s->metric)) {
      cJSON_AddItemToObject(m, "original", metric_json(k, &s->m_orig, 0));
      if (s->has_comp) cJSON_AddItemToObject(m, "compressed", metric_json(k, &s->m_comp, 0));
    }
    if (s->has_comp)
      cJSON_AddItemToObject(m, "compressed_vs_original", metric_json(k, &s->m_agree, 1));
  }
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text) return pare_errf(err, "out of memory");
  puts(text);
  free(text);
  return PARE_OK;
}

static void print_text(const eval_state *s) {
  const eval_opts *o = s->o;
  const pare_graph *g = s->orig;
  printf("model: %s (%s), %d sets from %s\n", o->model, engine_kind_name(o->engine), s->n_sets,
         o->data);
  if (s->comp) {
    char *text = pare_pipeline_string(&o->passes.pipeline);
    printf("compressed: --passes '%s'\n", text ? text : "");
    free(text);
  } else if (o->compressed) {
    printf("compressed: %s (%s_run, header %s)\n", o->compressed, s->lib.name, s->header_path);
  } else {
    printf("compressed: none (no --passes or --compressed): the original alone\n");
  }
  for (int side = 0; side <= s->has_comp; side++) {
    const char *source;
    int64_t bytes = weight_bytes(s, side, &source);
    printf("%s: %lld weight bytes (%s), %.2f ms/set\n", side ? "compressed" : "original",
           (long long)bytes, source, (side ? s->s_comp : s->s_orig) / s->n_sets * 1e3);
  }
  for (int j = 0; s->has_comp && j < g->n_outputs; j++) {
    const pare_value *v = g->values[g->outputs[j]];
    const diff_acc *d = &s->diff[j];
    char shape[128];
    pare_shape_str(&v->shape, shape, sizeof shape);
    printf("output %d '%s' %s: max |err| %.4g (set %ld), mean |err| %.4g, rel L2 %.4g, cosine "
           "%.9f\n",
           j, v->name, shape, d->max_abs, d->max_set, diff_mean(d), diff_rel_l2(d), diff_cosine(d));
  }
  if (!s->metric) return;
  metric_kind k = o->metric.kind;
  char buf[256];
  if (metric_has_labels(s->metric)) {
    metric_str(k, &s->m_orig, buf, sizeof buf);
    printf("metric %s: original %s\n", o->metric_name, buf);
    if (s->has_comp) {
      metric_str(k, &s->m_comp, buf, sizeof buf);
      printf("metric %s: compressed %s\n", o->metric_name, buf);
    }
  }
  if (s->has_comp) {
    metric_str(k, &s->m_agree, buf, sizeof buf);
    printf("metric %s: compressed vs original %s%s\n", o->metric_name,
           k == METRIC_TOP1 ? "agreement " : "", buf);
  }
}

int cmd_eval(int argc, char **argv) {
  eval_opts o;
  memset(&o, 0, sizeof o);
  o.engine = ENGINE_JIT;
  int rc = parse_eval_args(argc, argv, &o);
  if (rc) {
    cli_free_input_shapes(&o.shapes);
    cli_free_pass_flags(&o.passes);
    return rc;
  }
  pare_err err = {{0}};
  eval_state s;
  memset(&s, 0, sizeof s);
  s.o = &o;
  rc = open_models(&s, &err);
  if (rc == PARE_OK) rc = run_sets(&s, &err);
  if (rc == PARE_OK) {
    if (o.json)
      rc = print_json(&s, &err);
    else
      print_text(&s);
  }
  if (rc) cli_error("%s", err.msg);
  close_models(&s);
  cli_free_input_shapes(&o.shapes);
  cli_free_pass_flags(&o.passes);
  return rc ? EXIT_MODEL_ERROR : 0;
}
