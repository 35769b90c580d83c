/*
 * search.h - budget-driven automatic compression (`pare compile
 * --target-size`): which of the weight-compression passes, with which
 * settings, each layer gets, so that the weights fit a size target with the
 * least end-to-end error measured on held-out calibration inputs (or, with
 * only --max-error, the smallest size within the error bound). The answer is
 * a pipeline string that reproduces the result without a search.
 *
 * How (search.c has the details):
 *   1. every alternative of the menu (a quantize or cluster setting) is run
 *      once over all layers, calibrated; each layer's encoded bytes and
 *      relative output error under each alternative are kept;
 *   2. one end-to-end run per large layer, with only that layer compressed,
 *      turns its layer error into an end-to-end sensitivity;
 *   3. a multiple-choice knapsack picks one alternative per layer within the
 *      byte budget (least predicted error);
 *   4. a (1+1) evolutionary search (EvoPress-style level swaps) improves it
 *      on the measured end-to-end error, candidates built by splicing the
 *      layers' encoded weights into one graph;
 *   5. the chosen pipeline string is run from scratch and verified.
 */
#ifndef PARE_DRIVER_SEARCH_H
#define PARE_DRIVER_SEARCH_H

#include "driver/cli.h"
#include "driver/metrics.h"

#include <stdint.h>

/* The error a bound (--max-error) or the search measures: relative L2 of
 * all outputs against the original model's, or a task metric of output 0
 * compared with the original's (1 - top-1 agreement, CER of the decoding
 * against the original's decoding, 1 - mask IoU). */
typedef struct search_error {
  int rel_l2;         /* 1: relative L2; 0: metric below */
  metric_spec metric; /* kind, threshold, vocab */
  double bound;       /* the largest acceptable value */
} search_error;

typedef struct search_opts {
  const char *model;
  const input_shapes *shapes;
  const char *prefix;      /* pipeline run before the search's passes ("" for none) */
  const char *menu;        /* alternatives as a pipeline string, or NULL for the default */
  const char *calib;       /* --calib DIR (required) */
  const char *calib_sets;  /* --calib-sets, or NULL for all */
  const char *search_sets; /* held-out sets of DIR, or NULL: the last fifth of the calib sets */
  int64_t target_bytes;    /* weight bytes of the compiled model, or 0 */
  double target_percent;   /* ... as a percentage of the uncompressed build's, or 0 */
  double bits_per_weight;  /* ... as bits per Conv/Gemm/MatMul weight, or 0 */
  int has_bound;
  search_error bound; /* --max-error */
  double time_limit;  /* seconds for the whole search (0: none) */
  uint64_t seed;      /* of the evolutionary search */
  int generations;    /* most evolutionary steps */
  FILE *log;          /* progress lines (NULL: none) */
} search_opts;

typedef struct search_result {
  char *pipeline;     /* the --passes string (prefix included) */
  char *calib_sets;   /* the --calib-sets it calibrates on */
  int64_t bytes;      /* the chosen model's weight bytes (generated code) */
  int64_t base_bytes; /* the uncompressed build's */
  int64_t target;     /* the byte target (0 without one) */
  double rel_l2;      /* held-out relative L2 error of the chosen model */
  double metric;      /* its bound metric, when there is a bound */
  int n_points;
  cli_search_point *points; /* every measured candidate */
  int evaluations, generations, time_limited, n_held_out;
  double seconds;
} search_result;

/* Runs the search; fills r (freed with search_result_free, also after an
 * error). Errors name the model and the reason. */
int search_run(const search_opts *o, search_result *r, pare_err *err);
void search_result_free(search_result *r);

/* Parses "rel-l2=0.05", "top1=0.01", "ctc=0.006", "mask0.3=0.05". */
int search_parse_error(const char *s, search_error *e, pare_err *err);

#endif
