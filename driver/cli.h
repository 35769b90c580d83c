/*
 * cli.h - pieces shared by the pare subcommands.
 */
#ifndef PARE_DRIVER_CLI_H
#define PARE_DRIVER_CLI_H

#include "ir/ir.h"

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

/* Prints "pare: <msg>" to stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

int cmd_run(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_compile(int argc, char **argv);

#endif
