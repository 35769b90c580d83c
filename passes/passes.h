/*
 * passes.h - the pass manager and the passes over pare's IR.
 *
 * A pipeline is a string in the style of LLVM's new pass manager:
 *
 *   fold-constants,fold-batchnorm,prune<sparsity=0.5;pattern=2:4>
 *
 * a comma-separated list of registered pass names, each with optional
 * options in <...> separated by ';'. Every pass is registered once, with its
 * name, a one-line summary and typed options with defaults (`pare passes`
 * lists them); an unknown pass or option, or a value that does not parse as
 * the option's type, is an error naming it.
 *
 * Running a pipeline applies the passes in order to one graph. After each
 * pass the manager re-infers shapes; instrumentation prints the IR before or
 * after chosen passes (or only after passes that changed it), times each
 * pass, verifies the graph after each one, and collects the counters passes
 * report (pare_pass_stat) for --stats.
 */
#ifndef PARE_PASSES_H
#define PARE_PASSES_H

#include <stdint.h>
#include <stdio.h>

#include "ir/ir.h"

/* ------------------------------------------------------------- options */

typedef enum pare_opt_type {
  PARE_OPT_INT = 0,
  PARE_OPT_FLOAT = 1,
  PARE_OPT_BOOL = 2,   /* 0/1, true/false */
  PARE_OPT_STRING = 3, /* one of `choices` if set, else any text without ; < > , */
  PARE_OPT_NM = 4,     /* an N:M pattern such as 2:4, or "none" (0:0) */
} pare_opt_type;

typedef struct pare_pass_option {
  const char *name;
  pare_opt_type type;
  const char *def;     /* default, in the same syntax as the pipeline */
  const char *choices; /* PARE_OPT_STRING: "a|b|c", or NULL */
  const char *help;
} pare_pass_option;

/* A parsed option value. */
typedef struct pare_opt_value {
  int64_t i; /* INT, BOOL; NM: n */
  int64_t m; /* NM: m */
  double f;  /* FLOAT */
  char *s;   /* STRING (owned by the pipeline) */
} pare_opt_value;

/* --------------------------------------------------------- calibration */

/* Calibration inputs and a way to run a graph on them (`--calib DIR`),
 * provided by the driver: the passes module does not know how models run.
 * A pass that needs activations asks for the values it wants; the run
 * streams each sample's tensors of those values to the visitor, so that
 * statistics accumulate without every activation held at once. */
typedef struct pare_calib pare_calib;

/* Called once per (sample, wanted value) in sample order; t is valid only
 * during the call. A non-zero return stops the run with that error. */
typedef int (*pare_calib_visit)(void *user, int sample, int k, const pare_tensor *t, pare_err *err);

struct pare_calib {
  int n_samples;
  /* Runs g (static shapes) on every sample and visits values[0..n) of each.
   * g may be modified during the call (observed values made outputs) and
   * is restored before it returns. */
  int (*run)(const pare_calib *self, pare_graph *g, const int *values, int n,
             pare_calib_visit visit, void *user, pare_err *err);
  void *impl;
};

/* ------------------------------------------------------------- passes */

typedef struct pare_pass_ctx pare_pass_ctx;

typedef struct pare_pass_info {
  const char *name;
  const char *summary;
  const pare_pass_option *options; /* NULL-name-terminated, or NULL */
  /* Transforms g; sets *changed when the graph changed. args[i] is the value
   * of options[i]. Errors name the node and why. */
  int (*run)(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx, int *changed,
             pare_err *err);
} pare_pass_info;

/* Pass families: each passes/<family>.c defines one NULL-name-terminated
 * table; passes/registry.c lists the tables. */
extern const pare_pass_info pare_passes_manager[];      /* passes/manager.c: calib-snapshot */
extern const pare_pass_info pare_passes_canonicalize[]; /* passes/canonicalize.c */
extern const pare_pass_info pare_passes_prune[];        /* passes/prune.c */
extern const pare_pass_info pare_passes_lowrank[];      /* passes/lowrank.c */
extern const pare_pass_info pare_passes_structured[];   /* passes/structured.c */
extern const pare_pass_info pare_passes_slice[];        /* passes/slice.c */
extern const pare_pass_info pare_passes_w8a8[];         /* passes/w8a8.c */
extern const pare_pass_info pare_passes_cluster[];      /* passes/cluster.c */
extern const pare_pass_info pare_passes_quantize[];     /* passes/quantize.c */

/* The i-th registered pass, NULL past the end; lookup by name. */
const pare_pass_info *pare_pass_at(int i);
const pare_pass_info *pare_pass_find(const char *name);

/* The calibration data of the pipeline run, or NULL when none was given. */
const pare_calib *pare_pass_calib(const pare_pass_ctx *ctx);

/* Adds `delta` to the counter `what` of the running pass (for --stats). */
void pare_pass_stat(pare_pass_ctx *ctx, const char *what, int64_t delta);
/* Records what the running pass decided for one layer (the node that holds
 * the layer's weights, by name): key = value, for the --report. */
void pare_pass_decide(pare_pass_ctx *ctx, const char *layer, const char *key, double value);
void pare_pass_decide_str(pare_pass_ctx *ctx, const char *layer, const char *key,
                          const char *value);

/* The multiple-choice knapsack of a size allocation (passes/knapsack.c):
 * item i takes one of nc choices, bytes[i * nc + c] and cost[i * nc + c]
 * (bytes < 0 or cost INFINITY: not available); writes the choices of least
 * summed cost whose summed bytes are within budget to choice[0..n). Exact
 * over the budget cut into `steps` steps, each choice's bytes rounded up
 * (so never over the budget). An infeasible budget is an error giving the
 * least the choices reach. At most 255 choices. */
int pare_knapsack(int n, int nc, const int64_t *bytes, const double *cost, int64_t budget,
                  int steps, int *choice, pare_err *err);

/* ------------------------------------------------------------ pipeline */

typedef struct pare_pipeline_entry {
  const pare_pass_info *pass;
  pare_opt_value *args; /* one per option */
} pare_pipeline_entry;

typedef struct pare_pipeline {
  int n;
  pare_pipeline_entry *entries;
} pare_pipeline;

/* Parses text into *out (freed with pare_pipeline_free, also after an
 * error). An empty string is an empty pipeline. */
int pare_pipeline_parse(const char *text, pare_pipeline *out, pare_err *err);
void pare_pipeline_free(pare_pipeline *p);
/* The canonical pipeline string (every option spelled out), malloc'd (the
 * caller frees it); NULL when out of memory. */
char *pare_pipeline_string(const pare_pipeline *p);

/* ----------------------------------------------------------- instrument */

typedef struct pare_pm_opts {
  FILE *out;                 /* where IR dumps, timings and stats go (stderr if NULL) */
  int print_after_all;       /* --print-after-all */
  int print_changed;         /* --print-changed: after passes that changed the IR */
  const char *print_after;   /* --print-after=NAME[,NAME...] */
  const char *print_before;  /* --print-before=NAME[,NAME...] */
  int time_passes;           /* --time-passes */
  int stats;                 /* --stats */
  int verify_each;           /* --verify-each */
  int64_t print_elide_above; /* constants larger than this print elided (0 = all) */
  const pare_calib *calib;   /* --calib: sample inputs for passes that need them, or NULL */
  /* Observers (may be NULL), e.g. for a report: each decision a pass
   * records (value is NULL for numbers), each pass's time, each counter. */
  void (*on_decision)(void *user, const char *pass, const char *layer, const char *key,
                      double number, const char *value);
  void (*on_pass)(void *user, const char *pass, double seconds, int changed);
  void (*on_stat)(void *user, const char *pass, const char *what, int64_t value);
  void *user;
} pare_pm_opts;

/* Runs p on g. opts may be NULL. Errors name the pass. */
int pare_pipeline_run(const pare_pipeline *p, pare_graph *g, const pare_pm_opts *opts,
                      pare_err *err);

/* Writes the list of passes with their options (for `pare passes`). */
void pare_passes_describe(FILE *f);

#endif /* PARE_PASSES_H */
