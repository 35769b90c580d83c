/*
 * inspect.c - `pare inspect`: the model as pare IR plus a summary.
 */
#include "driver/cli.h"
#include "driver/summary.h"
#include "ir/text.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Constants with more elements than this print as a checksum unless --weights. */
#define ELIDE_ABOVE 16

typedef struct inspect_opts {
  const char *model;
  int json;
  int all_weights;
  input_shapes shapes;
  pass_flags passes;
} inspect_opts;

static const char inspect_usage[] =
    "usage: pare inspect MODEL [--input-shape NAME=D1,D2,...]... [--format text|json]\n"
    "                    [--weights] [--passes PIPELINE] [pass manager flags]\n"
    "MODEL is an .onnx file or pare textual IR (.pir). The IR is printed after\n"
    "binding shapes, folding constants and running --passes.\n";

static int parse_inspect_args(int argc, char **argv, inspect_opts *o) {
  pare_err err;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    int pf = cli_parse_common_flag(argc, argv, &i, &o->passes, inspect_usage);
    if (pf < 0) return EXIT_USAGE;
    if (pf) continue;
    if (strcmp(a, "--stats") == 0) {
      o->passes.pm.stats = 1;
    } else if (strcmp(a, "--format") == 0 && has_value) {
      const char *f = argv[++i];
      if (strcmp(f, "json") == 0)
        o->json = 1;
      else if (strcmp(f, "text") == 0)
        o->json = 0;
      else {
        cli_error("--format '%s': expected text or json", f);
        return EXIT_USAGE;
      }
    } else if (strcmp(a, "--weights") == 0) {
      o->all_weights = 1;
    } else if (strcmp(a, "--input-shape") == 0 && has_value) {
      if (cli_parse_input_shape(argv[++i], &o->shapes, &err)) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
      }
    } else if (a[0] == '-' && a[1]) {
      cli_error("inspect: unknown option '%s' or missing value", a);
      return EXIT_USAGE;
    } else if (!o->model) {
      o->model = a;
    } else {
      cli_error("inspect: more than one model given ('%s' and '%s')", o->model, a);
      return EXIT_USAGE;
    }
  }
  if (!o->model) {
    fputs(inspect_usage, stderr);
    return EXIT_USAGE;
  }
  return 0;
}

static void print_summary_text(const pare_graph *g, const pare_summary *s) {
  printf("\n# summary of %s\n", g->name);
  printf("# nodes: %d\n", s->nodes);
  for (int i = 0; i < s->n_ops; i++) printf("#   %-24s %d\n", s->ops[i].op, s->ops[i].count);
  printf("# constants: %d\n", s->constants);
  printf("# parameters: %lld\n", (long long)s->parameters);
  printf("# weight bytes: %lld\n", (long long)s->weight_bytes);
  if (s->unknown_shapes) {
    printf("# MACs, FLOPs: unknown: %d nodes have symbolic or unknown shapes "
           "(bind them with --input-shape)\n",
           s->unknown_shapes);
    return;
  }
  printf("# MACs: %lld\n", (long long)s->macs);
  printf("# FLOPs: %lld\n", (long long)s->flops);
}

static cJSON *summary_json(const pare_summary *s) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "nodes", s->nodes);
  cJSON *ops = cJSON_AddObjectToObject(o, "ops");
  for (int i = 0; i < s->n_ops; i++) cJSON_AddNumberToObject(ops, s->ops[i].op, s->ops[i].count);
  cJSON_AddNumberToObject(o, "constants", s->constants);
  cJSON_AddNumberToObject(o, "parameters", (double)s->parameters);
  cJSON_AddNumberToObject(o, "weight_bytes", (double)s->weight_bytes);
  if (s->unknown_shapes) {
    cJSON_AddNullToObject(o, "macs");
    cJSON_AddNullToObject(o, "flops");
  } else {
    cJSON_AddNumberToObject(o, "macs", (double)s->macs);
    cJSON_AddNumberToObject(o, "flops", (double)s->flops);
  }
  return o;
}

int cmd_inspect(int argc, char **argv) {
  inspect_opts o;
  memset(&o, 0, sizeof o);
  int rc = parse_inspect_args(argc, argv, &o);
  if (rc) {
    cli_free_input_shapes(&o.shapes);
    cli_free_pass_flags(&o.passes);
    return rc;
  }
  pare_err err = {{0}};
  pare_summary s = {0};
  pare_graph *g = cli_load_model(o.model, &o.shapes, &err);
  rc = EXIT_MODEL_ERROR;
  if (!g || cli_make_static(g, o.model, &err)) goto out;
  if (cli_run_passes(g, &o.passes, o.model, &err)) goto out;
  if (pare_summarize(g, &s)) {
    pare_errf(&err, "out of memory");
    goto out;
  }
  if (o.json) {
    cJSON *root = pare_graph_to_cjson(g, &err);
    if (!root) goto out;
    cJSON_AddStringToObject(root, "model", o.model);
    cJSON_AddItemToObject(root, "summary", summary_json(&s));
    char *text = cJSON_Print(root);
    if (text) puts(text);
    free(text);
    cJSON_Delete(root);
  } else {
    pare_print_opts popts = {.elide_above = o.all_weights ? 0 : ELIDE_ABOVE};
    if (pare_graph_print(stdout, g, &popts, &err)) goto out;
    print_summary_text(g, &s);
  }
  if (fflush(stdout) != 0) {
    pare_errf(&err, "writing to standard output failed");
    goto out;
  }
  rc = 0;
out:
  if (rc) cli_error("%s", err.msg);
  pare_summary_free(&s);
  pare_graph_free(g);
  cli_free_input_shapes(&o.shapes);
  cli_free_pass_flags(&o.passes);
  return rc;
}
