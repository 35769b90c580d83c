/*
 * target.c - the LLVM target machine, the optimization pipeline and
 * emission of objects, assembly, IR and bitcode.
 */
#include "backend/backend_internal.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <llvm-c/ErrorHandling.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* LLVM reports some errors (an impossible target configuration, say) by
 * calling this and exiting; say what happened in pare's format first. */
static void on_llvm_fatal(const char *reason) {
  fprintf(stderr, "pare: LLVM error: %s\n", reason);
}

static void init_llvm_targets(void) {
  static int done;
  if (done) return;
  done = 1;
  LLVMInstallFatalErrorHandler(on_llvm_fatal);
  LLVMInitializeAllTargetInfos();
  LLVMInitializeAllTargets();
  LLVMInitializeAllTargetMCs();
  LLVMInitializeAllAsmPrinters();
}

/* Do two normalized triples name the same machine? The vendor field is
 * ignored: x86_64-linux-gnu normalizes to x86_64-unknown-linux-gnu while the
 * host says x86_64-pc-linux-gnu. */
static int same_machine(const char *a, const char *b) {
  for (int field = 0;; field++) {
    size_t la = strcspn(a, "-"), lb = strcspn(b, "-");
    if (field != 1 && (la != lb || strncmp(a, b, la) != 0)) return 0;
    a += la, b += lb;
    if (!*a || !*b) return !*a && !*b;
    a++, b++;
  }
}

/* Creates the target machine. The C API cannot validate a CPU or feature
 * name, and LLVM only warns on stderr about an unknown one (then may fail
 * fatally later): capture that warning and refuse instead. */
static LLVMTargetMachineRef create_checked(LLVMTargetRef target, const char *triple,
                                           const char *cpu, const char *features,
                                           LLVMCodeGenOptLevel level, pare_err *err) {
  FILE *cap = tmpfile();
  int saved = cap ? dup(2) : -1;
  if (saved >= 0) {
    fflush(stderr);
    dup2(fileno(cap), 2);
  }
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, cpu, features, level,
                                                    LLVMRelocPIC, LLVMCodeModelDefault);
  char said[512] = "";
  if (saved >= 0) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(cap);
    size_t n = fread(said, 1, sizeof said - 1, cap);
    said[n] = 0;
  }
  if (cap) fclose(cap);
  if (!tm) {
    pare_errf(err, "cannot create a target machine for '%s'", triple);
    return NULL;
  }
  if (strstr(said, "not a recognized processor") || strstr(said, "not a recognized feature")) {
    LLVMDisposeTargetMachine(tm);
    pare_errf(err, "unknown CPU or feature for target '%s': --mcpu '%s' (LLVM: %.*s)", triple, cpu,
              (int)strcspn(said, "\n"), said);
    return NULL;
  }
  return tm;
}

int cg_target_create(pare_module *m, pare_err *err) {
  init_llvm_targets();
  char *host = LLVMGetDefaultTargetTriple();
  char *triple = LLVMNormalizeTargetTriple(m->opts.triple ? m->opts.triple : host);
  char *host_norm = LLVMNormalizeTargetTriple(host);
  int is_host = m->opts.triple == NULL || same_machine(triple, host_norm);
  LLVMDisposeMessage(host_norm);
  LLVMDisposeMessage(host);
  m->triple = strdup(triple);
  LLVMDisposeMessage(triple);
  if (!m->triple) return pare_errf(err, "out of memory");
  LLVMTargetRef target;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(m->triple, &target, &msg)) {
    pare_errf(err, "unknown target '%s': %s", m->opts.triple ? m->opts.triple : m->triple,
              msg ? msg : "");
    LLVMDisposeMessage(msg);
    return PARE_ERR;
  }
  char *cpu = NULL, *features = NULL;
  const char *want = m->opts.cpu && m->opts.cpu[0] ? m->opts.cpu : NULL;
  if (want && strcmp(want, "native") == 0 && !is_host)
    return pare_errf(err, "--mcpu native needs the host target; name a CPU for '%s'", m->triple);
  if (!want && !is_host) want = "generic"; /* the default for another machine */
  if (!want || strcmp(want, "native") == 0) {
    cpu = LLVMGetHostCPUName();
    features = LLVMGetHostCPUFeatures();
  } else if (strcmp(want, "generic") == 0) {
    cpu = LLVMCreateMessage("generic");
    features = LLVMCreateMessage("");
  } else {
    cpu = LLVMCreateMessage(m->opts.cpu);
    features = LLVMCreateMessage(m->opts.features ? m->opts.features : "");
  }
  static const LLVMCodeGenOptLevel levels[4] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                                LLVMCodeGenLevelDefault,
                                                LLVMCodeGenLevelAggressive};
  int o = m->opts.opt_level < 0 ? 0 : m->opts.opt_level > 3 ? 3 : m->opts.opt_level;
  m->tm = create_checked(target, m->triple, cpu, features, levels[o], err);
  m->cpu = strdup(cpu);
  m->features = strdup(features);
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(features);
  if (!m->tm) return PARE_ERR;
  if (!m->cpu || !m->features) return pare_errf(err, "out of memory");
  m->ctx = LLVMContextCreate();
  m->mod = LLVMModuleCreateWithNameInContext(m->opts.name, m->ctx);
  LLVMSetTarget(m->mod, m->triple);
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(m->tm);
  char *layout = LLVMCopyStringRepOfTargetData(td);
  LLVMSetDataLayout(m->mod, layout);
  LLVMDisposeMessage(layout);
  LLVMDisposeTargetData(td);
  return PARE_OK;
}

/* Every defined function carries the CPU and features, so the optimizer's
 * cost model and any later code generator (the JIT's too) agree. */
static void tag_functions(pare_module *m) {
  for (LLVMValueRef f = LLVMGetFirstFunction(m->mod); f; f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f)) continue;
    LLVMAttributeRef a =
        LLVMCreateStringAttribute(m->ctx, "target-cpu", 10, m->cpu, (unsigned)strlen(m->cpu));
    LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, a);
    if (m->features[0]) {
      a = LLVMCreateStringAttribute(m->ctx, "target-features", 15, m->features,
                                    (unsigned)strlen(m->features));
      LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, a);
    }
  }
}

int pare_module_optimize(pare_module *m, pare_err *err) {
  if (m->optimized) return PARE_OK;
  char *msg = NULL;
  if (LLVMVerifyModule(m->mod, LLVMReturnStatusAction, &msg)) {
    pare_errf(err, "internal error: generated LLVM IR is invalid: %.400s", msg ? msg : "");
    LLVMDisposeMessage(msg);
    return PARE_ERR;
  }
  LLVMDisposeMessage(msg);
  tag_functions(m);
  char pipeline[32];
  int o = m->opts.opt_level < 0 ? 0 : m->opts.opt_level > 3 ? 3 : m->opts.opt_level;
  snprintf(pipeline, sizeof pipeline, "default<O%d>", o);
  LLVMPassBuilderOptionsRef pbo = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(pbo, o >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(pbo, o >= 2);
  LLVMPassBuilderOptionsSetLoopUnrolling(pbo, o >= 2);
  LLVMErrorRef e = LLVMRunPasses(m->mod, pipeline, m->tm, pbo);
  LLVMDisposePassBuilderOptions(pbo);
  if (e) {
    char *em = LLVMGetErrorMessage(e);
    pare_errf(err, "LLVM pass pipeline failed: %s", em);
    LLVMDisposeErrorMessage(em);
    return PARE_ERR;
  }
  m->optimized = 1;
  return PARE_OK;
}

int pare_module_emit(pare_module *m, pare_emit_kind kind, const char *path, pare_err *err) {
  if (kind == PARE_EMIT_LLVM) {
    char *text = LLVMPrintModuleToString(m->mod);
    int rc = pare_write_file(path, text, strlen(text), err);
    LLVMDisposeMessage(text);
    return rc ? pare_err_prefix(err, "%s", path) : PARE_OK;
  }
  LLVMMemoryBufferRef buf = NULL;
  if (kind == PARE_EMIT_BC) {
    buf = LLVMWriteBitcodeToMemoryBuffer(m->mod);
  } else {
    char *msg = NULL;
    LLVMCodeGenFileType ft = kind == PARE_EMIT_ASM ? LLVMAssemblyFile : LLVMObjectFile;
    if (LLVMTargetMachineEmitToMemoryBuffer(m->tm, m->mod, ft, &msg, &buf)) {
      pare_errf(err, "code generation failed: %s", msg ? msg : "");
      LLVMDisposeMessage(msg);
      return PARE_ERR;
    }
  }
  int rc = pare_write_file(path, LLVMGetBufferStart(buf), LLVMGetBufferSize(buf), err);
  LLVMDisposeMemoryBuffer(buf);
  return rc ? pare_err_prefix(err, "%s", path) : PARE_OK;
}

void pare_module_free(pare_module *m) {
  if (!m) return;
  if (m->mod) LLVMDisposeModule(m->mod);
  if (m->ctx) LLVMContextDispose(m->ctx);
  if (m->tm) LLVMDisposeTargetMachine(m->tm);
  free(m->triple);
  free(m->cpu);
  free(m->features);
  free(m);
}
