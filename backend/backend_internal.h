/*
 * backend_internal.h - the module object shared by codegen.c, target.c and
 * jit.c (not for other modules: they use backend.h).
 */
#ifndef PARE_BACKEND_INTERNAL_H
#define PARE_BACKEND_INTERNAL_H

#include "backend/backend.h"

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

struct pare_module {
  pare_cg_opts opts;
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMTargetMachineRef tm;
  char *triple;
  char *cpu, *features; /* what the target machine was made for */
  pare_cg_stats stats;
  int optimized;
};

/* Creates m->ctx, m->mod and m->tm for m->opts (triple, cpu, -O level),
 * and sets the module's triple and data layout. */
int cg_target_create(pare_module *m, pare_err *err);

#endif /* PARE_BACKEND_INTERNAL_H */
