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
/* One candidate an automatic search measured end to end: its weight bytes
 * and error, and whether it is the one chosen. The report's "search" array
 * holds them as {"bytes", "error", "chosen"}; the HTML report plots them. */
int report_add_search_point(report *r, double bytes, double error, int chosen);
/* Adds the figures after the pipeline and writes the report to path (JSON,
 * or HTML when path ends in .html or .htm); path may be NULL. */
int report_end(report *r, const pare_graph *g, const char *path, pare_err *err);
/* Writes the finished report to path, in the format its extension says. */
int report_write(const report *r, const char *path, pare_err *err);
/* 1 if path names an HTML report (.html or .htm). */
int report_is_html(const char *path);
/* The JSON report as one self-contained HTML page (report_html.c). */
int report_html_write(const cJSON *root, const char *path, pare_err *err);
void report_free(report *r);

#endif
