/*
 * backend.h - LLVM code generation: a static graph into native code.
 *
 * pare_codegen lowers a graph whose shapes are all static (after binding
 * input shapes and folding constants) into an LLVM module through the LLVM C
 * API, one kernel per node or fused group, specialized to its shapes, with
 * every intermediate at a planned offset in one caller-provided workspace
 * (backend/plan.h). pare_module_optimize runs LLVM's new-pass-manager
 * pipeline for the chosen -O level; pare_module_emit writes it as an object
 * file, assembly, LLVM IR or bitcode. The generated entry points are
 *
 *   size_t NAME_workspace_size(void);
 *   int    NAME_run(const void *const inputs[], void *const outputs[], void *workspace);
 *
 * (pare_header_write writes the matching C header). The code keeps no
 * mutable global state: weights are read-only globals.
 */
#ifndef PARE_BACKEND_H
#define PARE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"

typedef enum pare_emit_kind {
  PARE_EMIT_OBJ = 0,
  PARE_EMIT_ASM = 1,
  PARE_EMIT_LLVM = 2,
  PARE_EMIT_BC = 3,
} pare_emit_kind;

typedef struct pare_cg_opts {
  const char *name;     /* symbol prefix, a C identifier */
  int opt_level;        /* 0..3 */
  const char *triple;   /* NULL = the host's */
  const char *cpu;      /* NULL or "native" = the host CPU with its features */
  const char *features; /* with a named CPU: LLVM features to add ("+avx2,+fma"), or NULL */
  int no_fusion;        /* 1: one kernel per node (for debugging and tests) */
} pare_cg_opts;

typedef struct pare_cg_stats {
  int64_t workspace_bytes; /* what NAME_workspace_size returns */
  int64_t planned_bytes;   /* the planned intermediates alone */
  int64_t naive_bytes;     /* one buffer per intermediate, no reuse */
  int64_t scratch_bytes;   /* kernel scratch (im2col, packing) after the plan */
  int64_t weight_bytes;    /* read-only data emitted for weights and tables */
  int n_kernels;           /* kernel functions emitted */
  int n_fused;             /* nodes folded into another node's kernel */
  int n_int8;              /* QDQ Conv/Gemm/MatMul run on the int8 kernels */
} pare_cg_stats;

typedef struct pare_module pare_module;

/* Ops the backend can lower (for tools that want to refuse early). */
int pare_backend_supports(const char *op);

/* Lowers g (not modified). Errors name the node and why it cannot be
 * compiled (unsupported op, dtype or attribute). */
pare_module *pare_codegen(const pare_graph *g, const pare_cg_opts *opts, pare_err *err);
/* Verifies the module, then runs the O0..O3 pipeline for the target. */
int pare_module_optimize(pare_module *m, pare_err *err);
/* Writes the module to path (directly: callers that publish outputs stage
 * them under a temporary name and rename, as `pare compile` does). */
int pare_module_emit(pare_module *m, pare_emit_kind kind, const char *path, pare_err *err);
const pare_cg_stats *pare_module_stats(const pare_module *m);
void pare_module_free(pare_module *m);

/* Writes the C header for g compiled with prefix `name` to path (directly). */
int pare_header_write(const pare_graph *g, const char *name, const pare_cg_stats *stats,
                      const char *path, pare_err *err);

/* Links object file obj into a shared library (mode 0755) / a static
 * archive (0644) at path, with the system's C compiler driver ($CC, split
 * into words, default cc) / ar. path is written directly (replaced if it
 * exists). SIGINT, SIGTERM and SIGHUP are held while the tool runs, so a
 * handler that removes staged files runs only once the tool has exited. */
int pare_link_shared(const char *obj, const char *path, pare_err *err);
int pare_archive_static(const char *obj, const char *path, pare_err *err);

/* In-process execution of the generated code through LLVM's ORC JIT. */
typedef int (*pare_run_fn)(const void *const *inputs, void *const *outputs, void *workspace);
typedef size_t (*pare_ws_fn)(void);

typedef struct pare_jit pare_jit;
/* Takes ownership of m (freed even on failure); m must be optimized. */
pare_jit *pare_jit_create(pare_module *m, pare_err *err);
pare_run_fn pare_jit_run_fn(const pare_jit *j);
pare_ws_fn pare_jit_ws_fn(const pare_jit *j);
void pare_jit_free(pare_jit *j);

#endif /* PARE_BACKEND_H */
