/*
 * cli.c - option helpers and model preparation shared by subcommands.
 */
#include "driver/cli.h"

#include "frontend/onnx.h"
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

pare_graph *cli_load_model(const char *path, const input_shapes *shapes, pare_err *err) {
  pare_graph *g = pare_onnx_load(path, err);
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
