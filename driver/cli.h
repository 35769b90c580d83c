/*
 * cli.h - pieces shared by the pare subcommands.
 */
#ifndef PARE_DRIVER_CLI_H
#define PARE_DRIVER_CLI_H

#include "ir/ir.h"
#include "passes/passes.h"

#define EXIT_MODEL_ERROR 1 /* model, input or output problem */
#define EXIT_USAGE       2 /* bad command line */

/* One --input-shape NAME=D1,D2,... binding. */
typedef struct input_shape {
  char *name;
  pare_shape shape;
} input_shape;

typedef struct input_shapes {
  int n;
  input_shape *items;
} input_shapes;

/* Parses "NAME=D1,D2,..." (the name may itself contain '='; the last one splits). */
int cli_parse_input_shape(const char *arg, input_shapes *list, pare_err *err);
void cli_free_input_shapes(input_shapes *list);
const input_shape *cli_find_input_shape(const input_shapes *list, const char *name);

/* Loads MODEL, applies --input-shape bindings (every name must be a graph
 * input) and, unless `defer_static`, folds constants and infers shapes.
 * Returns NULL with err set. */
pare_graph *cli_load_model(const char *path, const input_shapes *shapes, pare_err *err);
/* Folds constants and infers shapes once all inputs are bound. */
int cli_make_static(pare_graph *g, const char *path, pare_err *err);

/* One candidate an automatic search measured (driver/search.h), for the
 * report's error-vs-size plot. */
typedef struct cli_search_point {
  double bytes, error;
  int chosen;
} cli_search_point;

/* The pass-manager flags shared by compile, run and inspect. */
typedef struct pass_flags {
  pare_pipeline pipeline;
  pare_pm_opts pm;
  const char *report;      /* --report FILE.json */
  const char *report_html; /* --report FILE.html (both may be given) */
  const char *calib;       /* --calib DIR */
  const char *calib_sets;  /* --calib-sets K or A-B */
  /* The candidates of a search that chose the pipeline, for the report. */
  const cli_search_point *search_points;
  int n_search_points;
} pass_flags;

extern const char cli_pass_usage[];
/* If argv[*i] is a pass-manager flag, consumes it (and its value) and
 * returns 1; 0 if it is not one; -1 after printing a usage error. */
int cli_parse_pass_flag(int argc, char **argv, int *i, pass_flags *f);
/* The flags every model subcommand takes: the pass-manager flags, the
 * limit flags (limits.h) and -h/--help, which prints usage, then both flag
 * lists, and exits 0. Returns 1 when argv[*i] was one (consumed with its
 * value), 0 if not, -1 after printing a usage error. */
int cli_parse_common_flag(int argc, char **argv, int *i, pass_flags *f, const char *usage);

/* The whole file at path, NUL-terminated, as a malloc'd string; NULL with
 * err set when it cannot be read or would take more than `max` bytes. */
char *cli_read_file(const char *path, size_t max, pare_err *err);

/* Runs the pipeline (if any) on g; errors are prefixed with path. */
int cli_run_passes(pare_graph *g, const pass_flags *f, const char *path, pare_err *err);
void cli_free_pass_flags(pass_flags *f);

/* Prints "pare: <msg>" to stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

int cmd_run(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_passes(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
