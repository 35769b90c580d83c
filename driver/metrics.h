/*
 * metrics.h - task metrics of a model's outputs on labeled data sets, shared
 * by `pare eval` and the real-model tests (tests/real_models.c), and the
 * listing of a folder's test_data_set_K.
 *
 *   top1:  output [N,C]; line K of the labels holds the N labels of set K,
 *          separated by spaces or commas. A label is the class index, or
 *          with a label map ("0,180") its position in that list. Scored:
 *          hits = rows whose argmax is the label, total = rows.
 *   ctc:   output [1,T,C] character probabilities; greedy decode (argmax per
 *          step, merge repeats, drop blank 0); class k is line k-1 of the
 *          vocabulary and class C-1 (one past it) is a space, as PaddleOCR's
 *          use_space_char. Scored: hits = Levenshtein distance over code
 *          points to line K of the labels, total = its code points (so
 *          hits/total is the CER), exact/lines = lines decoded exactly.
 *   mask:  maps compared with each other, not with labels (metric_compare):
 *          a value > threshold is in the mask; hits = pixels in both masks,
 *          total = pixels in either (hits/total is the IoU over all sets).
 *
 * Compared (metric_compare), top1 counts the rows whose argmax agrees
 * between two outputs of the same shape.
 */
#ifndef PARE_DRIVER_METRICS_H
#define PARE_DRIVER_METRICS_H

#include "ir/ir.h"

#include <stdint.h>
#include <stdio.h>

typedef enum metric_kind { METRIC_NONE, METRIC_TOP1, METRIC_CTC, METRIC_MASK } metric_kind;

typedef struct metric_spec {
  metric_kind kind;
  double threshold;      /* mask: values above it are in the mask */
  const char *labels;    /* top1, ctc: the labels file (line K = set K) */
  const char *label_map; /* top1: label text of class 0, 1, ... comma-separated */
  const char *vocab;     /* ctc: the vocabulary file (line k = class k+1) */
} metric_spec;

/* Sums over the sets scored (see the top of this file for each kind). */
typedef struct metric_acc {
  int64_t hits, total, exact, lines;
  int sets;
} metric_acc;

typedef struct metric_ctx metric_ctx;

/* "top1", "ctc", "mask<T>" (e.g. "mask0.3") or "none" into spec->kind and
 * spec->threshold (the file fields are left alone). */
int metric_parse(const char *name, metric_spec *spec, pare_err *err);
const char *metric_kind_name(metric_kind kind);

/* Reads the labels (and vocabulary) spec names; spec must outlive it. ctc
 * needs the vocabulary. For mask, or without labels, there is nothing to
 * score against: the context then only compares (metric_has_labels is 0). */
metric_ctx *metric_open(const metric_spec *spec, pare_err *err);
void metric_close(metric_ctx *m);
int metric_has_labels(const metric_ctx *m);

/* Scores output t of set K against the labels into acc. With log, a CTC
 * line decoded wrong is printed there, tagged with tag. */
int metric_score(const metric_ctx *m, long set, const pare_tensor *t, metric_acc *acc, FILE *log,
                 const char *tag, pare_err *err);
/* Compares output a with output b of the same shape into acc: top1
 * agreement, mask IoU; for ctc, a's decoding against b's (hits = edit
 * distance, total = b's code points). */
int metric_compare(const metric_ctx *m, const pare_tensor *a, const pare_tensor *b, metric_acc *acc,
                   pare_err *err);

/* hits/total and exact/lines (0 when empty). */
double metric_value(const metric_acc *a);
double metric_exact(const metric_acc *a);
/* "top1 0.977100 (7817/8000)", "CER 0.003934 (9/2288), exact 0.946667
 * (142/150)", "IoU 0.981000 (981/1000)". */
void metric_str(metric_kind kind, const metric_acc *a, char *buf, size_t len);

/* The K of every test_data_set_K in dir with lo <= K <= hi, ascending.
 * Names with leading zeros or trailing junk are ignored. Errors name the
 * folder; none matching is an error. */
int metric_list_sets(const char *dir, long lo, long hi, long **sets, int *n, pare_err *err);
/* "K" or "A-B" (inclusive) into *lo, *hi. */
int metric_parse_range(const char *s, long *lo, long *hi);

#endif
