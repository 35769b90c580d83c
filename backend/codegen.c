/*
 * codegen.c - the graph into an LLVM module: constants, one kernel function
 * per node, and the NAME_run / NAME_workspace_size entry points. See cg.h for
 * the shape of the generated code.
 */
#include "backend/backend.h"
#include "backend/backend_internal.h"
#include "backend/cg.h"
#include "backend/emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KERNEL_ARGS 256

/* ------------------------------------------------------------- op table */

/* cg_ops_misc first: it takes the non-f32 nodes of ops cg_ops_elementwise also lists. */
static const cg_op *const op_tables[] = {cg_ops_misc,  cg_ops_elementwise, cg_ops_linear,
                                         cg_ops_shape, cg_ops_reduce,      cg_ops_int8};

const cg_op *cg_find_op(const char *op) {
  for (size_t t = 0; t < sizeof op_tables / sizeof op_tables[0]; t++)
    for (const cg_op *o = op_tables[t]; o->op; o++)
      if (strcmp(o->op, op) == 0) return o;
  return NULL;
}

int pare_backend_supports(const char *op) {
  return cg_find_op(op) != NULL;
}

/* Whether the comma-separated feature list holds exactly `f`. */
static int has_feature(const char *list, const char *f) {
  size_t n = strlen(f);
  for (const char *p = list; p && *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncmp(p, f, n) == 0) return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

/* A named CPU's features are implied, not listed (the C API cannot list
 * them): the x86 CPUs with AVX2, and those of them with 256-bit VNNI
 * (AVX-VNNI, or AVX512-VNNI with VL), for the emitters that use x86
 * intrinsics. Unknown names get neither (generic IR only). */
static int cpu_in(const char *cpu, const char *const *list) {
  for (; cpu && *list; list++)
    if (strcmp(cpu, *list) == 0) return 1;
  return 0;
}

static const char *const cpus_vnni[] = {
    "cascadelake",  "cooperlake",     "icelake-client", "icelake-server", "tigerlake",
    "rocketlake",   "sapphirerapids", "emeraldrapids",  "graniterapids",  "alderlake",
    "raptorlake",   "meteorlake",     "arrowlake",      "lunarlake",      "gracemont",
    "sierraforest", "grandridge",     "znver4",         "znver5",         NULL};
static const char *const cpus_avx2[] = {"x86-64-v3", "x86-64-v4",      "haswell",    "broadwell",
                                        "skylake",   "skylake-avx512", "cannonlake", "znver1",
                                        "znver2",    "znver3",         "bdver4",     NULL};

/* ------------------------------------------------------------ constants */

/* A constant global of the module holding exactly these bytes, or NULL.
 * Two layers reading one shared weight each pack it the same way, and
 * equal tables recur: such data is emitted (and counted) once. */
static LLVMValueRef same_bytes_global(cg *c, const void *data, size_t nbytes) {
  for (LLVMValueRef g = LLVMGetFirstGlobal(c->mod); g; g = LLVMGetNextGlobal(g)) {
    if (!LLVMIsGlobalConstant(g) || LLVMGetAlignment(g) != 64) continue;
    LLVMValueRef init = LLVMGetInitializer(g);
    if (!init || !LLVMIsAConstantDataSequential(init)) continue;
    size_t len = 0;
    const char *have = LLVMGetAsString(init, &len);
    if (len == nbytes && memcmp(have, data, nbytes) == 0) return g;
  }
  return NULL;
}

LLVMValueRef cg_const_bytes(cg *c, const void *data, size_t nbytes, const char *name) {
  LLVMValueRef same = nbytes >= 64 ? same_bytes_global(c, data, nbytes) : NULL;
  if (same) return same;
  LLVMValueRef init = LLVMConstStringInContext(c->ctx, data, (unsigned)nbytes, 1);
  char gname[96];
  snprintf(gname, sizeof gname, "w.%s", name ? name : "t");
  LLVMValueRef g = LLVMAddGlobal(c->mod, LLVMTypeOf(init), gname);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  LLVMSetAlignment(g, 64);
  c->const_bytes += (int64_t)nbytes;
  return g;
}

LLVMValueRef cg_const_tensor(cg *c, const pare_tensor *t, const char *name) {
  return cg_const_bytes(c, t->data, t->nbytes, name);
}

static LLVMValueRef value_global(cg *c, int v) {
  if (!c->const_global[v]) {
    const pare_value *val = c->g->values[v];
    c->const_global[v] = cg_const_tensor(c, val->init, val->name);
  }
  return c->const_global[v];
}

/* --------------------------------------------------------------- kernels */

LLVMValueRef cg_value_ptr(cg *c, int v) {
  if (c->g->values[v]->init) return value_global(c, v);
  for (int i = 0; i < c->n_args; i++)
    if (c->args_value[i] == v) return LLVMGetParam(c->fn, (unsigned)(i + 1));
  /* An emitter asked for a value that is not one of its kernel's tensors:
   * a bug in the emitter, never input-dependent. */
  fprintf(stderr, "pare: internal error: kernel for value '%s' has no argument for it\n",
          c->g->values[v]->name);
  abort();
}

LLVMValueRef cg_scratch(cg *c, int64_t bytes) {
  int64_t off = c->scratch_base + c->scratch_used;
  c->scratch_used += (bytes + 63) & ~(int64_t)63;
  if (c->scratch_used > c->scratch_max) c->scratch_max = c->scratch_used;
  LLVMValueRef idx = cg_i64(c, off);
  return LLVMBuildInBoundsGEP2(c->b, c->i8, c->ws, &idx, 1, "scratch");
}

/* The buffer a value's bytes live in: values sharing a slot (aliases,
 * in-place outputs) map to the same root. */
static int buffer_root(const pare_plan *p, int v) {
  while (p->values[v].shares >= 0) v = p->values[v].shares;
  return v;
}

static int add_arg(cg *c, int v, pare_err *err) {
  if (v < 0 || c->g->values[v]->init) return PARE_OK;
  for (int i = 0; i < c->n_args; i++)
    if (c->args_value[i] == v) return PARE_OK;
  if (c->n_args == MAX_KERNEL_ARGS)
    return pare_errf(err, "more than %d tensors in one kernel", MAX_KERNEL_ARGS);
  c->args_value[c->n_args++] = v;
  return PARE_OK;
}

/* Creates the kernel function for node k with one pointer argument per
 * distinct non-constant tensor it reads or writes. */
static int kernel_begin(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  c->n_args = 0;
  c->node = nd;
  c->scratch_used = 0;
  for (int i = 0; i < nd->n_inputs; i++)
    if (add_arg(c, nd->inputs[i], err)) return PARE_ERR;
  for (int i = 0; i < nd->n_outputs; i++)
    if (add_arg(c, nd->outputs[i], err)) return PARE_ERR;
  LLVMTypeRef params[MAX_KERNEL_ARGS + 1];
  for (int i = 0; i <= c->n_args; i++) params[i] = c->ptr;
  LLVMTypeRef ft = LLVMFunctionType(c->void_t, params, (unsigned)(c->n_args + 1), 0);
  char fname[128];
  snprintf(fname, sizeof fname, "k%d.%s", k, nd->op);
  c->fn = LLVMAddFunction(c->mod, fname, ft);
  LLVMSetLinkage(c->fn, LLVMInternalLinkage);
  /* Kernels stay separate functions: nothing is gained across kernels, and
   * profiles and the emitted assembly then show one symbol per kernel. */
  static const char *const fn_attrs[] = {"nounwind", "noinline"};
  for (int i = 0; i < 2; i++) {
    unsigned kind = LLVMGetEnumAttributeKindForName(fn_attrs[i], strlen(fn_attrs[i]));
    LLVMAddAttributeAtIndex(c->fn, LLVMAttributeFunctionIndex,
                            LLVMCreateEnumAttribute(c->ctx, kind, 0));
  }
  /* noalias where no other argument shares the buffer: the caller's inputs,
   * outputs and workspace never overlap (the header says so). */
  unsigned noalias = LLVMGetEnumAttributeKindForName("noalias", 7);
  for (int i = 0; i < c->n_args; i++) {
    int shared = 0;
    int ri = buffer_root(c->plan, c->args_value[i]);
    for (int j = 0; j < c->n_args && !shared; j++)
      shared = j != i && buffer_root(c->plan, c->args_value[j]) == ri;
    if (!shared)
      LLVMAddAttributeAtIndex(c->fn, (unsigned)(i + 2),
                              LLVMCreateEnumAttribute(c->ctx, noalias, 0));
  }
  c->ws = LLVMGetParam(c->fn, 0);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "entry");
  LLVMPositionBuilderAtEnd(c->b, entry);
  return PARE_OK;
}

/* A view op whose output aliases its input needs no code. */
static int is_free_view(cg *c, const pare_node *nd) {
  return nd->n_outputs == 1 && nd->outputs[0] >= 0 &&
         c->plan->values[nd->outputs[0]].kind == PARE_MEM_ALIAS;
}

static int check_static(const pare_graph *g, pare_err *err) {
  for (int v = 0; v < g->n_values; v++) {
    const pare_value *val = g->values[v];
    if (val->producer < 0 && !val->is_graph_input && !val->init) continue;
    if (!pare_shape_is_static(&val->shape)) {
      char s[128];
      pare_shape_str(&val->shape, s, sizeof s);
      return pare_errf(err,
                       "value '%s' has shape %s: the backend needs static shapes (bind the "
                       "inputs with --input-shape; shapes computed from data at run time "
                       "are unsupported)",
                       val->name, s);
    }
  }
  return PARE_OK;
}

static int check_inputs_bound(const pare_graph *g, pare_err *err) {
  for (int i = 0; i < g->n_inputs; i++) {
    const pare_value *val = g->values[g->inputs[i]];
    if (pare_shape_is_static(&val->shape)) continue;
    char s[128];
    pare_shape_str(&val->shape, s, sizeof s);
    return pare_errf(err, "input '%s' has shape %s: bind it with --input-shape %s=D1,D2,...",
                     val->name, s, val->name);
  }
  return PARE_OK;
}

/* Lists every node no emitter handles, all at once. */
static int check_supported(const pare_graph *g, pare_err *err) {
  char list[PARE_ERR_LEN];
  size_t len = 0;
  int n_bad = 0;
  list[0] = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *nd = g->nodes[k];
    int ok = (nd->domain == NULL || nd->domain[0] == 0) && cg_find_op(nd->op);
    if (ok) continue;
    if (len + 80 < sizeof list)
      len += (size_t)snprintf(list + len, sizeof list - len, "%s%s (node '%s')", n_bad ? ", " : "",
                              nd->op, nd->name ? nd->name : "");
    n_bad++;
  }
  if (!n_bad) return PARE_OK;
  return pare_errf(err, "%d node%s unsupported by the backend: %s", n_bad, n_bad > 1 ? "s" : "",
                   list);
}

/* ----------------------------------------------------------- entry points */

static LLVMValueRef load_ptr_at(cg *c, LLVMValueRef arr, int i) {
  LLVMValueRef idx = cg_i64(c, i);
  LLVMValueRef p = LLVMBuildInBoundsGEP2(c->b, c->ptr, arr, &idx, 1, "");
  return LLVMBuildLoad2(c->b, c->ptr, p, "");
}

/* The pointer each value needs inside NAME_run. */
static LLVMValueRef run_value_ptr(cg *c, LLVMValueRef *in_ptrs, LLVMValueRef *out_ptrs,
                                  LLVMValueRef ws, int v) {
  const pare_plan_value *pv = &c->plan->values[v];
  const pare_graph *g = c->g;
  switch (pv->kind) {
  case PARE_MEM_INPUT:
    for (int i = 0; i < g->n_inputs; i++)
      if (g->inputs[i] == v) return in_ptrs[i];
    break;
  case PARE_MEM_OUTPUT:
    for (int j = 0; j < g->n_outputs; j++)
      if (g->outputs[j] == v) return out_ptrs[j];
    break;
  case PARE_MEM_INTERMEDIATE:
  case PARE_MEM_ALIAS: {
    LLVMValueRef idx = cg_i64(c, pv->offset);
    return LLVMBuildInBoundsGEP2(c->b, c->i8, ws, &idx, 1, "");
  }
  default:
    break;
  }
  return LLVMConstNull(c->ptr);
}

/* Continues when p is not null, else branches to `fail`. */
static void null_check(cg *c, LLVMValueRef p, LLVMBasicBlockRef fail) {
  LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "ok");
  LLVMValueRef is_null = LLVMBuildIsNull(c->b, p, "");
  LLVMBuildCondBr(c->b, is_null, fail, ok);
  LLVMPositionBuilderAtEnd(c->b, ok);
}

static void emit_run(cg *c, LLVMValueRef *kernels, int **kernel_args, int *kernel_nargs) {
  const pare_graph *g = c->g;
  LLVMTypeRef params[3] = {c->ptr, c->ptr, c->ptr};
  LLVMTypeRef ft = LLVMFunctionType(c->i32, params, 3, 0);
  char name[160];
  snprintf(name, sizeof name, "%srun", c->prefix);
  LLVMValueRef fn = LLVMAddFunction(c->mod, name, ft);
  c->fn = fn;
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, fn, "entry"));
  LLVMValueRef inputs = LLVMGetParam(fn, 0), outputs = LLVMGetParam(fn, 1);
  LLVMValueRef ws = LLVMGetParam(fn, 2);
  LLVMValueRef *in_ptrs = calloc((size_t)g->n_inputs + 1, sizeof *in_ptrs);
  LLVMValueRef *out_ptrs = calloc((size_t)g->n_outputs + 1, sizeof *out_ptrs);
  /* Status 1: no workspace though one is needed; 2: a missing buffer. */
  LLVMBasicBlockRef fail_ws = LLVMAppendBasicBlockInContext(c->ctx, fn, "no_workspace");
  LLVMBasicBlockRef fail_buf = LLVMAppendBasicBlockInContext(c->ctx, fn, "no_buffer");
  if (c->scratch_base + c->scratch_max > 0) null_check(c, ws, fail_ws);
  if (g->n_inputs) null_check(c, inputs, fail_buf);
  if (g->n_outputs) null_check(c, outputs, fail_buf);
  for (int i = 0; i < g->n_inputs; i++)
    null_check(c, in_ptrs[i] = load_ptr_at(c, inputs, i), fail_buf);
  for (int j = 0; j < g->n_outputs; j++)
    null_check(c, out_ptrs[j] = load_ptr_at(c, outputs, j), fail_buf);
  for (int k = 0; k < g->n_nodes; k++) {
    if (!kernels[k]) continue;
    LLVMValueRef args[MAX_KERNEL_ARGS + 1];
    args[0] = ws;
    for (int a = 0; a < kernel_nargs[k]; a++)
      args[a + 1] = run_value_ptr(c, in_ptrs, out_ptrs, ws, kernel_args[k][a]);
    LLVMBuildCall2(c->b, LLVMGlobalGetValueType(kernels[k]), kernels[k], args,
                   (unsigned)(kernel_nargs[k] + 1), "");
  }
  /* Graph outputs the kernels did not write: inputs or constants passed
   * through, and a value listed as output more than once. */
  for (int j = 0; j < g->n_outputs; j++) {
    int v = g->outputs[j];
    const pare_plan_value *pv = &c->plan->values[v];
    int first = j;
    for (int i = 0; i < j; i++)
      if (g->outputs[i] == v) first = i;
    LLVMValueRef src = NULL;
    if (first != j)
      src = out_ptrs[first];
    else if (pv->kind == PARE_MEM_INPUT)
      src = run_value_ptr(c, in_ptrs, out_ptrs, ws, v);
    else if (pv->kind == PARE_MEM_CONSTANT)
      src = value_global(c, v);
    if (src) cg_memcpy(c, out_ptrs[j], src, pv->bytes);
  }
  LLVMBuildRet(c->b, LLVMConstInt(c->i32, 0, 0));
  LLVMPositionBuilderAtEnd(c->b, fail_ws);
  LLVMBuildRet(c->b, LLVMConstInt(c->i32, 1, 0));
  LLVMPositionBuilderAtEnd(c->b, fail_buf);
  LLVMBuildRet(c->b, LLVMConstInt(c->i32, 2, 0));
  free(in_ptrs);
  free(out_ptrs);
}

static void emit_workspace_size(cg *c, int64_t bytes) {
  LLVMTypeRef ft = LLVMFunctionType(c->i64, NULL, 0, 0);
  char name[160];
  snprintf(name, sizeof name, "%sworkspace_size", c->prefix);
  LLVMValueRef fn = LLVMAddFunction(c->mod, name, ft);
  LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, fn, "entry"));
  LLVMBuildRet(c->b, cg_i64(c, bytes));
}

/* ------------------------------------------------------------------ main */

static void types_init(cg *c) {
  c->f32 = LLVMFloatTypeInContext(c->ctx);
  c->f64 = LLVMDoubleTypeInContext(c->ctx);
  c->i1 = LLVMInt1TypeInContext(c->ctx);
  c->i8 = LLVMInt8TypeInContext(c->ctx);
  c->i32 = LLVMInt32TypeInContext(c->ctx);
  c->i64 = LLVMInt64TypeInContext(c->ctx);
  c->ptr = LLVMPointerTypeInContext(c->ctx, 0);
  c->vf = LLVMVectorType(c->f32, CG_VW);
  c->vd = LLVMVectorType(c->f64, CG_VW);
  c->void_t = LLVMVoidTypeInContext(c->ctx);
}

static int emit_kernels(cg *c, const cg_fusion *f, pare_module *m, pare_err *err) {
  const pare_graph *g = c->g;
  LLVMValueRef *kernels = calloc((size_t)g->n_nodes + 1, sizeof *kernels);
  int **kargs = calloc((size_t)g->n_nodes + 1, sizeof *kargs);
  int *nargs = calloc((size_t)g->n_nodes + 1, sizeof *nargs);
  int rc = kernels && kargs && nargs ? PARE_OK : pare_errf(err, "out of memory");
  for (int k = 0; rc == PARE_OK && k < g->n_nodes; k++) {
    const pare_node *nd = g->nodes[k];
    if (!nd->op || is_free_view(c, nd)) continue;
    c->group = f->group_at[k] >= 0 ? &f->groups[f->group_at[k]] : NULL;
    c->qdq = f->qdq && f->qdq[k].active ? &f->qdq[k] : NULL;
    c->epi_active = 0;
    c->epi.failed = 0;
    rc = kernel_begin(c, k, err);
    if (rc == PARE_OK && c->group && c->group->anchor < 0)
      rc = cg_emit_group(c, c->group, err);
    else if (rc == PARE_OK)
      rc = cg_find_op(nd->op)->emit(c, k, err);
    if (rc == PARE_OK && c->epi.failed)
      rc = pare_errf(err, "a fused elementwise op failed to lower");
    if (rc) {
      pare_err_prefix(err, "node '%s' (%s) unsupported by the backend", nd->name ? nd->name : "",
                      nd->op);
      break;
    }
    LLVMBuildRetVoid(c->b);
    kernels[k] = c->fn;
    nargs[k] = c->n_args;
    kargs[k] = malloc((size_t)c->n_args * sizeof(int) + 1);
    if (!kargs[k])
      rc = pare_errf(err, "out of memory");
    else
      memcpy(kargs[k], c->args_value, (size_t)c->n_args * sizeof(int));
    c->n_kernels++;
  }
  if (rc == PARE_OK) {
    int64_t scratch = (c->scratch_max + 63) & ~(int64_t)63;
    m->stats.scratch_bytes = scratch;
    m->stats.workspace_bytes = c->scratch_base + scratch;
    emit_run(c, kernels, kargs, nargs);
    emit_workspace_size(c, m->stats.workspace_bytes);
  }
  for (int k = 0; kargs && k < g->n_nodes; k++) free(kargs[k]);
  free(kargs);
  free(nargs);
  free(kernels);
  return rc;
}

pare_module *pare_codegen(const pare_graph *g, const pare_cg_opts *opts, pare_err *err) {
  /* The likeliest cause first: an input left unbound leaves shape ops
   * behind that would otherwise be reported as unsupported. */
  if (check_inputs_bound(g, err) || check_supported(g, err) || check_static(g, err)) return NULL;
  pare_module *m = calloc(1, sizeof *m);
  if (!m) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  m->opts = *opts;
  if (cg_target_create(m, err)) {
    pare_module_free(m);
    return NULL;
  }
  cg c;
  memset(&c, 0, sizeof c);
  pare_plan plan;
  memset(&plan, 0, sizeof plan);
  cg_fusion fusion;
  int rc = cg_fuse(g, !opts->no_fusion, &fusion, err);
  if (!rc) rc = pare_plan_memory(&fusion.plan_graph, NULL, &plan, err);
  char prefix[128];
  snprintf(prefix, sizeof prefix, "%s_", opts->name);
  c.ctx = m->ctx;
  c.mod = m->mod;
  c.b = LLVMCreateBuilderInContext(m->ctx);
  c.g = &fusion.plan_graph;
  c.src = g;
  c.plan = &plan;
  c.prefix = prefix;
  c.scratch_base = plan.workspace_bytes;
  c.const_global = calloc((size_t)g->n_values + 1, sizeof *c.const_global);
  if (!rc && !c.const_global) rc = pare_errf(err, "out of memory");
  types_init(&c);
  c.x86_vnni = has_feature(m->features, "+avxvnni") ||
               (has_feature(m->features, "+avx512vnni") && has_feature(m->features, "+avx512vl")) ||
               cpu_in(m->cpu, cpus_vnni);
  c.x86_avx2 = has_feature(m->features, "+avx2") || cpu_in(m->cpu, cpus_avx2) || c.x86_vnni;
  if (!rc) rc = emit_kernels(&c, &fusion, m, err);
  m->stats.n_fused = fusion.n_fused;
  m->stats.n_int8 = fusion.n_int8;
  m->stats.planned_bytes = plan.workspace_bytes;
  m->stats.naive_bytes = plan.naive_bytes;
  m->stats.weight_bytes = c.const_bytes;
  m->stats.n_kernels = c.n_kernels;
  LLVMDisposeBuilder(c.b);
  free(c.const_global);
  pare_plan_free(&plan);
  cg_fusion_free(&fusion);
  if (rc) {
    pare_module_free(m);
    return NULL;
  }
  return m;
}

const pare_cg_stats *pare_module_stats(const pare_module *m) {
  return &m->stats;
}
