/*
 * jit.c - running the generated code in-process through LLVM's ORC LLJIT.
 *
 * The optimized module goes to the JIT as bitcode re-read into the JIT's
 * thread-safe context (LLJIT owns its modules' contexts); libm and libc
 * symbols the kernels call resolve against the running process.
 */
#include "backend/backend_internal.h"

#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include <stdio.h>
#include <stdlib.h>

struct pare_jit {
  LLVMOrcLLJITRef jit;
  pare_run_fn run;
  pare_ws_fn ws;
};

static int jit_error(LLVMErrorRef e, const char *what, pare_err *err) {
  char *msg = LLVMGetErrorMessage(e);
  pare_errf(err, "JIT: %s: %s", what, msg);
  LLVMDisposeErrorMessage(msg);
  return PARE_ERR;
}

static int lookup(pare_jit *j, const char *prefix, const char *sym, LLVMOrcExecutorAddress *addr,
                  pare_err *err) {
  char name[256];
  snprintf(name, sizeof name, "%s_%s", prefix, sym);
  LLVMErrorRef e = LLVMOrcLLJITLookup(j->jit, addr, name);
  return e ? jit_error(e, name, err) : PARE_OK;
}

pare_jit *pare_jit_create(pare_module *m, pare_err *err) {
  pare_jit *j = calloc(1, sizeof *j);
  LLVMOrcThreadSafeContextRef tsc = NULL;
  LLVMMemoryBufferRef bc = NULL;
  int rc = j ? PARE_OK : pare_errf(err, "out of memory");
  if (!rc) {
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&j->jit, NULL);
    if (e) rc = jit_error(e, "cannot create LLJIT", err);
  }
  LLVMModuleRef mod = NULL;
  if (!rc) {
    bc = LLVMWriteBitcodeToMemoryBuffer(m->mod);
    tsc = LLVMOrcCreateNewThreadSafeContext();
    if (LLVMParseBitcodeInContext2(LLVMOrcThreadSafeContextGetContext(tsc), bc, &mod))
      rc = pare_errf(err, "JIT: cannot re-read the module");
  }
  if (!rc) {
    LLVMOrcDefinitionGeneratorRef gen;
    char prefix = LLVMOrcLLJITGetGlobalPrefix(j->jit);
    LLVMErrorRef e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, prefix, NULL, NULL);
    if (e)
      rc = jit_error(e, "process symbols", err);
    else
      LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(j->jit), gen);
  }
  if (!rc) {
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
    mod = NULL;
    LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModule(j->jit, LLVMOrcLLJITGetMainJITDylib(j->jit), tsm);
    if (e) {
      LLVMOrcDisposeThreadSafeModule(tsm);
      rc = jit_error(e, "cannot add the module", err);
    }
  }
  LLVMOrcExecutorAddress run = 0, ws = 0;
  if (!rc) rc = lookup(j, m->opts.name, "run", &run, err);
  if (!rc) rc = lookup(j, m->opts.name, "workspace_size", &ws, err);
  if (mod) LLVMDisposeModule(mod);
  if (tsc) LLVMOrcDisposeThreadSafeContext(tsc);
  if (bc) LLVMDisposeMemoryBuffer(bc);
  pare_module_free(m);
  if (rc) {
    pare_jit_free(j);
    return NULL;
  }
  j->run = (pare_run_fn)(uintptr_t)run;
  j->ws = (pare_ws_fn)(uintptr_t)ws;
  return j;
}

pare_run_fn pare_jit_run_fn(const pare_jit *j) {
  return j->run;
}

pare_ws_fn pare_jit_ws_fn(const pare_jit *j) {
  return j->ws;
}

void pare_jit_free(pare_jit *j) {
  if (!j) return;
  if (j->jit) LLVMOrcDisposeLLJIT(j->jit);
  free(j);
}
