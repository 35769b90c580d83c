/*
 * cli.c - option helpers and model preparation shared by subcommands.
 */
#include "driver/cli.h"

#include "driver/calib.h"
#include "driver/limits.h"
#include "driver/report.h"
#include "frontend/onnx.h"
#include "ir/text.h"
#include "ops/ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest constant that folding may materialize; bigger results stay as nodes. */
#define FOLD_MAX_BYTES ((size_t)256 << 20)

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("pare: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int cli_parse_input_shape(const char *arg, input_shapes *list, pare_err *err) {
  const char *eq = strrchr(arg, '=');
  if (!eq || eq == arg) return pare_errf(err, "--input-shape '%s': expected NAME=D1,D2,...", arg);
  input_shape item;
  memset(&item, 0, sizeof item);
  item.shape.rank = 0;
  const char *p = eq + 1;
  while (*p) {
    if (item.shape.rank == PARE_MAX_RANK)
      return pare_errf(err, "--input-shape '%s': more than %d dims", arg, PARE_MAX_RANK);
    char *end;
    errno = 0;
    long long d = strtoll(p, &end, 10);
    if (end == p || errno || d <= 0 || (*end && *end != ','))
      return pare_errf(err, "--input-shape '%s': dims must be positive integers", arg);
    item.shape.dims[item.shape.rank++] = d;
    p = *end ? end + 1 : end;
    if (*end == ',' && !*p) return pare_errf(err, "--input-shape '%s': trailing comma", arg);
  }
  item.name = malloc((size_t)(eq - arg) + 1);
  if (!item.name) return pare_errf(err, "out of memory");
  memcpy(item.name, arg, (size_t)(eq - arg));
  item.name[eq - arg] = 0;
  if (cli_find_input_shape(list, item.name)) {
    free(item.name);
    return pare_errf(err, "--input-shape given twice for '%.*s'", (int)(eq - arg), arg);
  }
  input_shape *grown = realloc(list->items, (size_t)(list->n + 1) * sizeof *grown);
  if (!grown) {
    free(item.name);
    return pare_errf(err, "out of memory");
  }
  list->items = grown;
  list->items[list->n++] = item;
  return PARE_OK;
}

void cli_free_input_shapes(input_shapes *list) {
  for (int i = 0; i < list->n; i++) free(list->items[i].name);
  free(list->items);
  list->items = NULL;
  list->n = 0;
}

const input_shape *cli_find_input_shape(const input_shapes *list, const char *name) {
  for (int i = 0; i < list->n; i++)
    if (strcmp(list->items[i].name, name) == 0) return &list->items[i];
  return NULL;
}

static int has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

pare_graph *cli_load_model(const char *path, const input_shapes *shapes, pare_err *err) {
  /* A .pir file is pare's own textual IR: what pass tests are written in. */
  pare_graph *g =
      has_suffix(path, ".pir") ? pare_graph_parse_file(path, NULL, err) : pare_onnx_load(path, err);
  if (!g) return NULL;
  for (int i = 0; i < shapes->n; i++) {
    const input_shape *b = &shapes->items[i];
    int v = pare_graph_find_value(g, b->name);
    if (v < 0 || !g->values[v]->is_graph_input) {
      pare_errf(err, "%s: --input-shape names '%s', which is not a graph input", path, b->name);
      pare_graph_free(g);
      return NULL;
    }
    if (pare_bind_input_shape(g, b->name, &b->shape, err)) {
      pare_err_prefix(err, "%s", path);
      pare_graph_free(g);
      return NULL;
    }
  }
  return g;
}

int cli_make_static(pare_graph *g, const char *path, pare_err *err) {
  if (pare_fold_constants(g, FOLD_MAX_BYTES, NULL, err)) return pare_err_prefix(err, "%s", path);
  return PARE_OK;
}

/* ------------------------------------------------------ pass manager */

const char cli_pass_usage[] =
    "pass pipeline (see 'pare passes'):\n"
    "  --passes PIPELINE      e.g. 'fold-batchnorm,cleanup,dce'; runs after shapes are bound\n"
    "  --print-after-all      print the IR after every pass (stderr)\n"
    "  --print-after NAMES    ... after the named passes (comma-separated)\n"
    "  --print-before NAMES   ... before the named passes\n"
    "  --print-changed        ... after passes that changed it\n"
    "  --time-passes          time each pass\n"
    "  --verify-each          verify the IR after each pass\n"
    "  --report FILE.json     per layer: parameters, bytes and FLOPs before and after\n"
    "                         the pipeline, and what each pass decided\n"
    "  --report FILE.html     the same as one self-contained page (tables and SVG\n"
    "                         plots, no scripts or network); give both to get both\n"
    "  --calib DIR            calibration inputs (DIR/test_data_set_K/input_N.pb) for\n"
    "                         passes that use activations; run through the JIT\n"
    "  --calib-sets K|A-B     use only the sets with K in the range (inclusive)\n";

/* "--flag=value" or "--flag value": the value, advancing *i for the latter. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag) {
  size_t n = strlen(flag);
  const char *a = argv[*i];
  if (strncmp(a, flag, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] == 0 && *i + 1 < argc) return argv[++*i];
  return NULL;
}

int cli_parse_pass_flag(int argc, char **argv, int *i, pass_flags *f) {
  const char *a = argv[*i], *v;
  if (strcmp(a, "--print-after-all") == 0)
    f->pm.print_after_all = 1;
  else if (strcmp(a, "--print-changed") == 0)
    f->pm.print_changed = 1;
  else if (strcmp(a, "--time-passes") == 0)
    f->pm.time_passes = 1;
  else if (strcmp(a, "--verify-each") == 0)
    f->pm.verify_each = 1;
  else if ((v = flag_value(argc, argv, i, "--print-after")))
    f->pm.print_after = v;
  else if ((v = flag_value(argc, argv, i, "--print-before")))
    f->pm.print_before = v;
  else if ((v = flag_value(argc, argv, i, "--report"))) {
    if (report_is_html(v))
      f->report_html = v;
    else
      f->report = v;
  } else if ((v = flag_value(argc, argv, i, "--calib-sets")))
    f->calib_sets = v;
  else if ((v = flag_value(argc, argv, i, "--calib")))
    f->calib = v;
  else if ((v = flag_value(argc, argv, i, "--passes"))) {
    pare_err err;
    pare_pipeline_free(&f->pipeline);
    if (pare_pipeline_parse(v, &f->pipeline, &err)) {
      cli_error("--passes: %s", err.msg);
      return -1;
    }
  } else {
    return 0;
  }
  return 1;
}

int cli_run_passes(pare_graph *g, const pass_flags *f, const char *path, pare_err *err) {
  const char *first = f->report ? f->report : f->report_html;
  if (f->pipeline.n == 0 && !first) return PARE_OK;
  pare_pm_opts o = f->pm;
  o.print_elide_above = 64;
  report r = {0};
  if (first) {
    char *text = pare_pipeline_string(&f->pipeline);
    int bad = !text || report_begin(&r, g, path, text);
    free(text);
    if (bad) {
      report_free(&r);
      return pare_errf(err, "out of memory");
    }
    o.on_decision = report_on_decision, o.on_pass = report_on_pass, o.on_stat = report_on_stat;
    o.user = &r;
  }
  calib_data calib = {0};
  int rc = PARE_OK;
  if (f->calib) {
    rc = calib_open(&calib, f->calib, f->calib_sets, err);
    o.calib = &calib.base;
  } else if (f->calib_sets) {
    rc = pare_errf(err, "--calib-sets without --calib");
  }
  if (rc == PARE_OK) rc = pare_pipeline_run(&f->pipeline, g, &o, err);
  calib_close(&calib);
  if (rc) pare_err_prefix(err, "%s", path);
  for (int i = 0; !rc && first && i < f->n_search_points; i++)
    if (report_add_search_point(&r, f->search_points[i].bytes, f->search_points[i].error,
                                f->search_points[i].chosen))
      rc = pare_errf(err, "out of memory");
  if (!rc && first) rc = report_end(&r, g, first, err);
  if (!rc && f->report && f->report_html) rc = report_write(&r, f->report_html, err);
  report_free(&r);
  return rc;
}

void cli_free_pass_flags(pass_flags *f) {
  pare_pipeline_free(&f->pipeline);
}

int cmd_passes(int argc, char **argv) {
  (void)argv;
  if (argc > 1) {
    cli_error("passes: takes no arguments");
    return EXIT_USAGE;
  }
  printf("passes (use in --passes as name<option=value;...>, comma-separated):\n");
  pare_passes_describe(stdout);
  return 0;
}

int cli_parse_common_flag(int argc, char **argv, int *i, pass_flags *f, const char *usage) {
  int pf = cli_parse_pass_flag(argc, argv, i, f);
  if (!pf) pf = cli_parse_limit_flag(argc, argv, i);
  if (pf) return pf;
  const char *a = argv[*i];
  if (strcmp(a, "-h") != 0 && strcmp(a, "--help") != 0) return 0;
  fputs(usage, stdout);
  fputs(cli_pass_usage, stdout);
  fputs(cli_limit_usage, stdout);
  exit(0);
}

char *cli_read_file(const char *path, size_t max, pare_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    pare_errf(err, "%s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + len, 1, cap - 1 - len, f);
    len += got;
    if (got == 0) break;
    if (len + 1 == cap) {
      char *grown = cap < max ? realloc(buf, cap * 2) : NULL;
      if (!grown) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = grown;
      cap *= 2;
    }
  }
  fclose(f);
  if (!buf) {
    pare_errf(err, "%s: out of memory or file too large", path);
    return NULL;
  }
  buf[len] = 0;
  return buf;
}
