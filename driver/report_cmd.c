/*
 * report_cmd.c - `pare report FILE.json -o FILE.html`: a JSON report that
 * --report wrote (or a search added points to) drawn as the HTML page, so a
 * report can be looked at again without rerunning the pipeline.
 */
#include "driver/cli.h"
#include "driver/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char report_usage[] =
    "usage: pare report REPORT.json -o REPORT.html\n"
    "Draws a JSON report written by --report (compile, run, inspect, eval) as one\n"
    "self-contained HTML page: the model summary, bytes by layer before and after,\n"
    "the error-vs-size points of a search when the report has a \"search\" array of\n"
    "{\"bytes\", \"error\", \"chosen\"}, the per-layer table and the passes' times.\n";

int cmd_report(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(report_usage, stdout);
      return 0;
    } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
      out = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      cli_error("report: unknown option '%s' or missing value", a);
      return EXIT_USAGE;
    } else if (!in) {
      in = a;
    } else {
      cli_error("report: more than one report given ('%s' and '%s')", in, a);
      return EXIT_USAGE;
    }
  }
  if (!in || !out) {
    fputs(report_usage, stderr);
    return EXIT_USAGE;
  }
  if (!report_is_html(out)) {
    cli_error("report: -o '%s': expected a .html or .htm file", out);
    return EXIT_USAGE;
  }
  pare_err err;
  char *text = cli_read_file(in, (size_t)256 << 20, &err);
  if (!text) {
    cli_error("%s", err.msg);
    return EXIT_MODEL_ERROR;
  }
  cJSON *root = cJSON_Parse(text);
  free(text);
  int rc = PARE_OK;
  if (!root || !cJSON_IsArray(cJSON_GetObjectItem(root, "layers")))
    rc = pare_errf(&err, "%s: not a pare JSON report (no \"layers\" array)", in);
  if (rc == PARE_OK) rc = report_html_write(root, out, &err);
  cJSON_Delete(root);
  if (rc) {
    cli_error("%s", err.msg);
    return EXIT_MODEL_ERROR;
  }
  return 0;
}
