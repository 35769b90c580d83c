/*
 * engine.h - running a model in `pare run`: the reference interpreter, the
 * generated code through the JIT, or the generated code compiled to a shared
 * library and loaded (aot). One interface so run, bench and tests compare
 * the three on the same inputs.
 */
#ifndef PARE_DRIVER_ENGINE_H
#define PARE_DRIVER_ENGINE_H

#include "backend/backend.h"
#include "ir/ir.h"

typedef enum engine_kind { ENGINE_INTERP = 0, ENGINE_JIT = 1, ENGINE_AOT = 2 } engine_kind;

typedef struct engine {
  engine_kind kind;
  const pare_graph *g;
  pare_jit *jit;
  void *dl;     /* aot: the loaded library */
  char *tmpdir; /* aot: folder of the object and library, removed on close */
  pare_run_fn run;
  void *workspace;
  size_t workspace_bytes;
  pare_cg_stats stats;
} engine;

/* Parses "interp", "jit" or "aot"; -1 if none. */
int engine_kind_from_name(const char *name);
const char *engine_kind_name(engine_kind kind);
/* Prepares g (static, not modified afterwards, must outlive the engine). */
int engine_open(engine *e, engine_kind kind, const pare_graph *g, int opt_level, pare_err *err);
/* Loads a shared library `pare compile --emit shared --name NAME` built and
 * runs its NAME_run (kind ENGINE_AOT). g gives the shapes of the inputs and
 * outputs: the caller checks that they are the library's (its header). */
int engine_open_library(engine *e, const char *path, const char *name, const pare_graph *g,
                        pare_err *err);
/* Runs once; outputs[j] are allocated on the first call and reused. */
int engine_run(engine *e, pare_tensor *const *inputs, pare_tensor **outputs, pare_err *err);
void engine_close(engine *e);

#endif
