/*
 * report.h - the per-layer JSON report of a pass pipeline (see report.c).
 */
#ifndef PARE_DRIVER_REPORT_H
#define PARE_DRIVER_REPORT_H

#include "ir/ir.h"

#include <cjson/cJSON.h>

typedef struct report {
  cJSON *root, *layers, *passes;
} report;

/* Snapshots g's layers before the pipeline. */
int report_begin(report *r, const pare_graph *g, const char *model, const char *pipeline);
/* Observers for pare_pm_opts (user = the report). */
void report_on_decision(void *user, const char *pass, const char *layer, const char *key,
                        double number, const char *value);
void report_on_pass(void *user, const char *pass, double seconds, int changed);
void report_on_stat(void *user, const char *pass, const char *what, int64_t value);
/* Adds the figures after the pipeline and writes the report to path. */
int report_end(report *r, const pare_graph *g, const char *path, pare_err *err);
void report_free(report *r);

#endif
