/*
 * engine.c - see engine.h.
 */
#include "driver/engine.h"

#include "interp/interp.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENGINE_SYMBOL "pare_model"

int engine_kind_from_name(const char *name) {
  if (strcmp(name, "interp") == 0) return ENGINE_INTERP;
  if (strcmp(name, "jit") == 0) return ENGINE_JIT;
  if (strcmp(name, "aot") == 0) return ENGINE_AOT;
  return -1;
}

const char *engine_kind_name(engine_kind kind) {
  static const char *const names[] = {"interp", "jit", "aot"};
  return kind >= ENGINE_INTERP && kind <= ENGINE_AOT ? names[kind] : "?";
}

static int open_aot(engine *e, pare_module *m, pare_err *err) {
  const char *tmpdir = getenv("TMPDIR");
  char tmpl[512];
  snprintf(tmpl, sizeof tmpl, "%s/pare-aot-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(tmpl)) return pare_errf(err, "cannot create a temporary folder in %s", tmpl);
  e->tmpdir = strdup(tmpl);
  if (!e->tmpdir) return pare_errf(err, "out of memory");
  char obj[600], so[600];
  snprintf(obj, sizeof obj, "%s/model.o", tmpl);
  snprintf(so, sizeof so, "%s/model.so", tmpl);
  if (pare_module_emit(m, PARE_EMIT_OBJ, obj, err)) return PARE_ERR;
  if (pare_link_shared(obj, so, err)) return PARE_ERR;
  e->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!e->dl) return pare_errf(err, "dlopen %s: %s", so, dlerror());
  void *run = dlsym(e->dl, ENGINE_SYMBOL "_run");
  if (!run) return pare_errf(err, "%s has no %s_run", so, ENGINE_SYMBOL);
  e->run = (pare_run_fn)(uintptr_t)run;
  return PARE_OK;
}

int engine_open(engine *e, engine_kind kind, const pare_graph *g, int opt_level, pare_err *err) {
  memset(e, 0, sizeof *e);
  e->kind = kind;
  e->g = g;
  if (kind == ENGINE_INTERP) return PARE_OK;
  pare_cg_opts o = {.name = ENGINE_SYMBOL, .opt_level = opt_level};
  pare_module *m = pare_codegen(g, &o, err);
  if (!m) return PARE_ERR;
  e->stats = *pare_module_stats(m);
  int rc = pare_module_optimize(m, err);
  if (!rc && kind == ENGINE_JIT) {
    e->jit = pare_jit_create(m, err);
    m = NULL;
    if (!e->jit)
      rc = PARE_ERR;
    else
      e->run = pare_jit_run_fn(e->jit);
  } else if (!rc) {
    rc = open_aot(e, m, err);
  }
  pare_module_free(m);
  if (!rc) {
    e->workspace_bytes = (size_t)e->stats.workspace_bytes;
    e->workspace = pare_aligned_alloc(e->workspace_bytes ? e->workspace_bytes : 64);
    /* Over --max-memory, say so; otherwise the heap itself is exhausted. */
    if (!e->workspace && pare_memory_check(e->workspace_bytes, "the workspace", err))
      rc = PARE_ERR;
    else if (!e->workspace)
      rc = pare_errf(err, "cannot allocate a %zu-byte workspace", e->workspace_bytes);
  }
  return rc;
}

int engine_open_library(engine *e, const char *path, const char *name, const pare_graph *g,
                        pare_err *err) {
  memset(e, 0, sizeof *e);
  e->kind = ENGINE_AOT;
  e->g = g;
  /* A bare file name would make dlopen search the library path instead. */
  char local[4096];
  snprintf(local, sizeof local, "%s%s", strchr(path, '/') ? "" : "./", path);
  e->dl = dlopen(local, RTLD_NOW | RTLD_LOCAL);
  if (!e->dl) return pare_errf(err, "dlopen %s: %s", path, dlerror());
  char sym[300];
  snprintf(sym, sizeof sym, "%s_run", name);
  void *run = dlsym(e->dl, sym);
  snprintf(sym, sizeof sym, "%s_workspace_size", name);
  void *ws = dlsym(e->dl, sym);
  if (!run || !ws)
    return pare_errf(err, "%s has no %s_run and %s_workspace_size", path, name, name);
  e->run = (pare_run_fn)(uintptr_t)run;
  e->workspace_bytes = ((pare_ws_fn)(uintptr_t)ws)();
  e->stats.workspace_bytes = (int64_t)e->workspace_bytes;
  e->workspace = pare_aligned_alloc(e->workspace_bytes ? e->workspace_bytes : 64);
  if (!e->workspace && pare_memory_check(e->workspace_bytes, "the workspace", err)) return PARE_ERR;
  if (!e->workspace)
    return pare_errf(err, "cannot allocate a %zu-byte workspace", e->workspace_bytes);
  return PARE_OK;
}

int engine_run(engine *e, pare_tensor *const *inputs, pare_tensor **outputs, pare_err *err) {
  const pare_graph *g = e->g;
  if (e->kind == ENGINE_INTERP) {
    for (int j = 0; j < g->n_outputs; j++) {
      pare_tensor_free(outputs[j]);
      outputs[j] = NULL;
    }
    return pare_interp_run(g, inputs, outputs, err);
  }
  const void *in[256];
  void *out[256];
  if (g->n_inputs > 256 || g->n_outputs > 256)
    return pare_errf(err, "more than 256 inputs or outputs");
  for (int i = 0; i < g->n_inputs; i++) {
    const pare_value *v = g->values[g->inputs[i]];
    if (!pare_shape_equal(&inputs[i]->shape, &v->shape) || inputs[i]->dtype != v->dtype) {
      char a[128], b[128];
      pare_shape_str(&inputs[i]->shape, a, sizeof a);
      pare_shape_str(&v->shape, b, sizeof b);
      return pare_errf(err, "input '%s' has shape %s, the compiled model takes %s", v->name, a, b);
    }
    in[i] = inputs[i]->data;
  }
  for (int j = 0; j < g->n_outputs; j++) {
    const pare_value *v = g->values[g->outputs[j]];
    if (!outputs[j]) outputs[j] = pare_tensor_new(v->dtype, &v->shape, err);
    if (!outputs[j]) return PARE_ERR;
    out[j] = outputs[j]->data;
  }
  int rc = e->run(in, out, e->workspace);
  return rc ? pare_errf(err, "generated code returned %d", rc) : PARE_OK;
}

void engine_close(engine *e) {
  if (e->dl) dlclose(e->dl);
  pare_jit_free(e->jit);
  if (e->tmpdir) {
    char p[600];
    snprintf(p, sizeof p, "%s/model.o", e->tmpdir);
    unlink(p);
    snprintf(p, sizeof p, "%s/model.so", e->tmpdir);
    unlink(p);
    rmdir(e->tmpdir);
    free(e->tmpdir);
  }
  pare_aligned_free(e->workspace);
  memset(e, 0, sizeof *e);
}
