/*
 * run.c - `pare run`: run a model with the reference interpreter on
 * test_data_set-style folders.
 */
#include "driver/cli.h"

#include "frontend/onnx.h"
#include "driver/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct run_opts {
  const char *model;
  const char *inputs_dir;
  const char *output_dir;
  input_shapes shapes;
  int repeat; /* --repeat N: run N times, report the median time */
  engine_kind engine;
  int opt_level;
  pass_flags passes;
} run_opts;

static const char run_usage[] =
    "usage: pare run MODEL --inputs DIR --output OUTDIR [--input-shape NAME=D1,D2,...]...\n"
    "                [--engine interp|jit|aot] [-O0..-O3] [--repeat N]\n"
    "                [--passes PIPELINE] [pass manager flags] [--stats]\n"
    "  --engine E  interp: the reference interpreter (default); jit: the code\n"
    "              `pare compile` generates, run in-process through LLVM's ORC\n"
    "              JIT; aot: that code compiled to a shared library and loaded\n"
    "  -O0..-O3    LLVM optimization level of the generated code (default -O3)\n"
    "  --repeat N  run the model N times and print the median run time (model\n"
    "              loading, compilation and file I/O excluded) on stderr\n";

/* Returns 0 on success, EXIT_USAGE after printing the problem. */
static int parse_run_args(int argc, char **argv, run_opts *o) {
  pare_err err;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    int pf = cli_parse_common_flag(argc, argv, &i, &o->passes, run_usage);
    if (pf < 0) return EXIT_USAGE;
    if (pf) continue;
    if (strcmp(a, "--stats") == 0) {
      o->passes.pm.stats = 1;
    } else if (strcmp(a, "--inputs") == 0 && has_value) {
      o->inputs_dir = argv[++i];
    } else if ((strcmp(a, "--output") == 0 || strcmp(a, "-o") == 0) && has_value) {
      o->output_dir = argv[++i];
    } else if (strcmp(a, "--input-shape") == 0 && has_value) {
      if (cli_parse_input_shape(argv[++i], &o->shapes, &err)) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--repeat") == 0 && has_value) {
      char *end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > 100000) {
        cli_error("--repeat '%s': expected a count from 1 to 100000", argv[i]);
        return EXIT_USAGE;
      }
      o->repeat = (int)n;
    } else if (strcmp(a, "--engine") == 0 && has_value) {
      const char *e = argv[++i];
      int kind = engine_kind_from_name(e);
      if (kind < 0) {
        cli_error("--engine '%s': expected interp, jit or aot", e);
        return EXIT_USAGE;
      }
      o->engine = (engine_kind)kind;
    } else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
      o->opt_level = a[2] - '0';
    } else if (a[0] == '-' && a[1]) {
      cli_error("run: unknown option '%s' or missing value", a);
      return EXIT_USAGE;
    } else if (!o->model) {
      o->model = a;
    } else {
      cli_error("run: more than one model given ('%s' and '%s')", o->model, a);
      return EXIT_USAGE;
    }
  }
  if (!o->model || !o->inputs_dir || !o->output_dir) {
    fputs(run_usage, stderr);
    return EXIT_USAGE;
  }
  return 0;
}

/* Reads DIR/input_K.pb for every graph input and binds unbound dims from them. */
static int read_inputs(pare_graph *g, const run_opts *o, pare_tensor **inputs, pare_err *err) {
  for (int i = 0; i < g->n_inputs; i++) {
    const pare_value *val = g->values[g->inputs[i]];
    char path[4096];
    snprintf(path, sizeof path, "%s/input_%d.pb", o->inputs_dir, i);
    inputs[i] = pare_tensor_read_pb(path, err);
    if (!inputs[i]) return PARE_ERR;
    const input_shape *given = cli_find_input_shape(&o->shapes, val->name);
    if (given && !pare_shape_equal(&given->shape, &inputs[i]->shape)) {
      char a[128], b[128];
      pare_shape_str(&inputs[i]->shape, a, sizeof a);
      pare_shape_str(&given->shape, b, sizeof b);
      return pare_errf(err, "%s: tensor has shape %s but --input-shape gives %s for '%s'", path, a,
                       b, val->name);
    }
    if (inputs[i]->dtype != val->dtype)
      return pare_errf(err, "%s: tensor is %s but input '%s' of %s is %s", path,
                       pare_dtype_name(inputs[i]->dtype), val->name, o->model,
                       pare_dtype_name(val->dtype));
    if (!given && pare_bind_input_shape(g, val->name, &inputs[i]->shape, err))
      return pare_err_prefix(err, "%s", path);
  }
  return PARE_OK;
}

static int ensure_dir(const char *dir, pare_err *err) {
  struct stat st;
  if (stat(dir, &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return pare_errf(err, "%s: exists and is not a directory", dir);
    return PARE_OK;
  }
  if (mkdir(dir, 0777) != 0) return pare_errf(err, "%s: cannot create: %s", dir, strerror(errno));
  return PARE_OK;
}

/* Writes every output; on failure removes the ones this call wrote. */
static int write_outputs(const pare_graph *g, const char *dir, pare_tensor **outputs,
                         pare_err *err) {
  if (ensure_dir(dir, err)) return PARE_ERR;
  for (int j = 0; j < g->n_outputs; j++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/output_%d.pb", dir, j);
    if (pare_tensor_write_pb(path, outputs[j], g->values[g->outputs[j]]->name, err)) {
      for (int m = 0; m < j; m++) {
        snprintf(path, sizeof path, "%s/output_%d.pb", dir, m);
        unlink(path);
      }
      return PARE_ERR;
    }
  }
  return PARE_OK;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Runs the engine `repeat` times, keeping the last outputs; prints the
 * median time when repeat > 1. */
static int run_timed(engine *e, pare_tensor **inputs, pare_tensor **outputs, int repeat,
                     pare_err *err) {
  double *times = calloc((size_t)repeat, sizeof *times);
  if (!times) return pare_errf(err, "out of memory");
  int rc = PARE_OK;
  for (int r = 0; r < repeat && rc == PARE_OK; r++) {
    double t0 = now_ms();
    rc = engine_run(e, inputs, outputs, err);
    times[r] = now_ms() - t0;
  }
  if (rc == PARE_OK && repeat > 1) {
    qsort(times, (size_t)repeat, sizeof *times, cmp_double);
    fprintf(stderr, "pare: %s median %.3f ms over %d runs (min %.3f, max %.3f)\n",
            engine_kind_name(e->kind), times[repeat / 2], repeat, times[0], times[repeat - 1]);
  }
  free(times);
  return rc;
}

int cmd_run(int argc, char **argv) {
  run_opts o;
  memset(&o, 0, sizeof o);
  o.repeat = 1;
  o.opt_level = 3;
  int rc = parse_run_args(argc, argv, &o);
  if (rc) {
    cli_free_input_shapes(&o.shapes);
    cli_free_pass_flags(&o.passes);
    return rc;
  }
  pare_err err = {{0}};
  pare_tensor **inputs = NULL, **outputs = NULL;
  pare_graph *g = cli_load_model(o.model, &o.shapes, &err);
  rc = EXIT_MODEL_ERROR;
  if (!g) goto out;
  inputs = calloc((size_t)g->n_inputs + 1, sizeof *inputs);
  outputs = calloc((size_t)g->n_outputs + 1, sizeof *outputs);
  if (!inputs || !outputs) {
    pare_errf(&err, "out of memory");
    goto out;
  }
  if (read_inputs(g, &o, inputs, &err)) goto out;
  if (cli_make_static(g, o.model, &err)) goto out;
  if (cli_run_passes(g, &o.passes, o.model, &err)) goto out;
  engine eng;
  if (engine_open(&eng, o.engine, g, o.opt_level, &err)) {
    engine_close(&eng);
    pare_err_prefix(&err, "%s", o.model);
    goto out;
  }
  int run_rc = run_timed(&eng, inputs, outputs, o.repeat, &err);
  engine_close(&eng);
  if (run_rc) {
    pare_err_prefix(&err, "%s", o.model);
    goto out;
  }
  if (write_outputs(g, o.output_dir, outputs, &err)) goto out;
  rc = 0;
out:
  if (rc) cli_error("%s", err.msg);
  if (g) {
    for (int i = 0; inputs && i < g->n_inputs; i++) pare_tensor_free(inputs[i]);
    for (int j = 0; outputs && j < g->n_outputs; j++) pare_tensor_free(outputs[j]);
  }
  free(inputs);
  free(outputs);
  pare_graph_free(g);
  cli_free_input_shapes(&o.shapes);
  cli_free_pass_flags(&o.passes);
  return rc;
}
