/*
 * emit_elementwise.c - elementwise float ops with numpy broadcasting.
 *
 * One loop nest over the output; dims that every operand walks contiguously
 * are merged first, so most ops become one flat loop. The innermost loop
 * runs on <CG_VW x float> vectors with a scalar tail; an operand that is
 * broadcast along the innermost dim is loaded once per outer iteration and
 * splatted, and a constant scalar operand (Add(x, 3), Clip bounds) becomes an
 * immediate. The arithmetic of each op is in ew_apply, which the fused
 * kernels of emit_fused.c reuse.
 */
#include "backend/cg.h"
#include "backend/emit.h"
#include "ops/ops.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ arithmetic */

static LLVMValueRef attr_const(cg *c, const pare_node *nd, const char *name, float def, int w) {
  return cg_fconst(c, pare_attr_float(nd, name, def), w);
}

static LLVMValueRef sigmoid(cg *c, LLVMValueRef x, int w) {
  LLVMValueRef e = cg_exp(c, LLVMBuildFNeg(c->b, x, ""), w);
  return LLVMBuildFDiv(c->b, cg_fconst(c, 1.0f, w),
                       LLVMBuildFAdd(c->b, cg_fconst(c, 1.0f, w), e, ""), "");
}

static LLVMValueRef select_gt0(cg *c, LLVMValueRef x, LLVMValueRef pos, LLVMValueRef neg, int w) {
  LLVMValueRef gt = LLVMBuildFCmp(c->b, LLVMRealOGT, x, cg_fconst(c, 0.0f, w), "");
  return LLVMBuildSelect(c->b, gt, pos, neg, "");
}

static LLVMValueRef clamp(cg *c, LLVMValueRef x, float lo, float hi, int w) {
  if (lo > -INFINITY) x = cg_fmax(c, x, cg_fconst(c, lo, w));
  if (hi < INFINITY) x = cg_fmin(c, x, cg_fconst(c, hi, w));
  return x;
}

static LLVMValueRef powc(cg *c, LLVMValueRef x, float e, int w) {
  if (e == 1.0f) return x;
  if (e == 2.0f) return LLVMBuildFMul(c->b, x, x, "");
  if (e == 3.0f) return LLVMBuildFMul(c->b, LLVMBuildFMul(c->b, x, x, ""), x, "");
  if (e == 0.5f) return cg_intrin(c, "llvm.sqrt", LLVMTypeOf(x), &x, 1);
  return cg_libm2(c, "powf", x, cg_fconst(c, e, w), w);
}

int ew_apply(cg *c, const pare_node *nd, LLVMValueRef *x, int n, int w, LLVMValueRef *out,
             pare_err *err) {
  LLVMBuilderRef b = c->b;
  const char *op = nd->op;
  LLVMValueRef r = NULL, one = cg_fconst(c, 1.0f, w), zero = cg_fconst(c, 0.0f, w);
  if (strcmp(op, "Add") == 0 || strcmp(op, "Sum") == 0 || strcmp(op, "Mean") == 0) {
    r = x[0];
    for (int i = 1; i < n; i++) r = LLVMBuildFAdd(b, r, x[i], "");
    if (op[0] == 'M') r = LLVMBuildFDiv(b, r, cg_fconst(c, (float)n, w), "");
  } else if (strcmp(op, "Sub") == 0) {
    r = LLVMBuildFSub(b, x[0], x[1], "");
  } else if (strcmp(op, "Mul") == 0) {
    r = LLVMBuildFMul(b, x[0], x[1], "");
  } else if (strcmp(op, "Div") == 0) {
    r = LLVMBuildFDiv(b, x[0], x[1], "");
  } else if (strcmp(op, "Max") == 0 || strcmp(op, "Min") == 0) {
    r = x[0];
    for (int i = 1; i < n; i++) {
      /* NaN in any operand gives NaN, as numpy's maximum does. */
      LLVMValueRef args[2] = {r, x[i]};
      r = cg_intrin(c, op[1] == 'a' ? "llvm.maximum" : "llvm.minimum", LLVMTypeOf(r), args, 2);
    }
  } else if (strcmp(op, "Pow") == 0) {
    const pare_tensor *t = nd->n_inputs > 1 ? cg_const(c, nd->inputs[1]) : NULL;
    if (t && pare_tensor_numel(t) == 1)
      r = powc(c, x[0], (float)pare_tensor_get_f64(t, 0), w);
    else
      r = cg_libm2(c, "powf", x[0], x[1], w);
  } else if (strcmp(op, "PRelu") == 0) {
    r = select_gt0(c, x[0], x[0], LLVMBuildFMul(b, x[0], x[1], ""), w);
  } else if (strcmp(op, "Relu") == 0) {
    r = select_gt0(c, x[0], x[0], zero, w);
  } else if (strcmp(op, "LeakyRelu") == 0) {
    r = select_gt0(c, x[0], x[0], LLVMBuildFMul(b, x[0], attr_const(c, nd, "alpha", 0.01f, w), ""),
                   w);
  } else if (strcmp(op, "Sigmoid") == 0) {
    r = sigmoid(c, x[0], w);
  } else if (strcmp(op, "HardSigmoid") == 0 || strcmp(op, "HardSwish") == 0) {
    float alpha = op[4] == 'S' && op[5] == 'w' ? 1.0f / 6 : pare_attr_float(nd, "alpha", 0.2f);
    float beta = op[4] == 'S' && op[5] == 'w' ? 0.5f : pare_attr_float(nd, "beta", 0.5f);
    r = clamp(c, cg_fma(c, x[0], cg_fconst(c, alpha, w), cg_fconst(c, beta, w)), 0, 1, w);
    if (op[5] == 'w') r = LLVMBuildFMul(b, x[0], r, "");
  } else if (strcmp(op, "Clip") == 0) {
    /* Bounds are operands 1 and 2 (constants arrive as immediates). */
    r = x[0];
    if (n > 1 && nd->inputs[1] >= 0) r = cg_clamp_lo(c, r, x[1]);
    if (n > 2 && nd->inputs[2] >= 0) r = cg_clamp_hi(c, r, x[2]);
  } else if (strcmp(op, "Tanh") == 0) {
    r = cg_libm1(c, "tanhf", x[0], w);
  } else if (strcmp(op, "Elu") == 0) {
    LLVMValueRef em1 = LLVMBuildFSub(b, cg_exp(c, x[0], w), one, "");
    r = select_gt0(c, x[0], x[0], LLVMBuildFMul(b, em1, attr_const(c, nd, "alpha", 1.0f, w), ""),
                   w);
  } else if (strcmp(op, "Selu") == 0) {
    LLVMValueRef alpha = attr_const(c, nd, "alpha", 1.67326319217681884765625f, w);
    LLVMValueRef gamma = attr_const(c, nd, "gamma", 1.05070102214813232421875f, w);
    LLVMValueRef neg = LLVMBuildFMul(b, alpha, LLVMBuildFSub(b, cg_exp(c, x[0], w), one, ""), "");
    r = LLVMBuildFMul(b, gamma, select_gt0(c, x[0], x[0], neg, w), "");
  } else if (strcmp(op, "Softplus") == 0) {
    r = cg_libm1(c, "log1pf", cg_exp(c, x[0], w), w);
  } else if (strcmp(op, "Softsign") == 0) {
    LLVMValueRef a = cg_intrin(c, "llvm.fabs", LLVMTypeOf(x[0]), x, 1);
    r = LLVMBuildFDiv(b, x[0], LLVMBuildFAdd(b, one, a, ""), "");
  } else if (strcmp(op, "Neg") == 0) {
    r = LLVMBuildFNeg(b, x[0], "");
  } else if (strcmp(op, "Abs") == 0) {
    r = cg_intrin(c, "llvm.fabs", LLVMTypeOf(x[0]), x, 1);
  } else if (strcmp(op, "Exp") == 0) {
    r = cg_libm1(c, "expf", x[0], w);
  } else if (strcmp(op, "Log") == 0) {
    r = cg_libm1(c, "logf", x[0], w);
  } else if (strcmp(op, "Sqrt") == 0) {
    r = cg_intrin(c, "llvm.sqrt", LLVMTypeOf(x[0]), x, 1);
  } else if (strcmp(op, "Reciprocal") == 0) {
    r = LLVMBuildFDiv(b, one, x[0], "");
  } else if (strcmp(op, "Floor") == 0 || strcmp(op, "Ceil") == 0) {
    r = cg_intrin(c, op[0] == 'F' ? "llvm.floor" : "llvm.ceil", LLVMTypeOf(x[0]), x, 1);
  } else if (strcmp(op, "Round") == 0) {
    r = cg_intrin(c, "llvm.roundeven", LLVMTypeOf(x[0]), x, 1);
  } else if (strcmp(op, "Erf") == 0) {
    r = cg_libm1(c, "erff", x[0], w);
  } else if (strcmp(op, "Sin") == 0 || strcmp(op, "Cos") == 0) {
    r = cg_libm1(c, op[0] == 'S' ? "sinf" : "cosf", x[0], w);
  } else if (strcmp(op, "Gelu") == 0) {
    const char *approx = pare_attr_string(nd, "approximate", "none");
    if (strcmp(approx, "tanh") == 0) {
      LLVMValueRef x3 = LLVMBuildFMul(b, LLVMBuildFMul(b, x[0], x[0], ""), x[0], "");
      LLVMValueRef in = cg_fma(c, x3, cg_fconst(c, 0.044715f, w), x[0]);
      in = LLVMBuildFMul(b, in, cg_fconst(c, 0.7978845608028654f, w), "");
      LLVMValueRef t = LLVMBuildFAdd(b, one, cg_libm1(c, "tanhf", in, w), "");
      r = LLVMBuildFMul(b, LLVMBuildFMul(b, x[0], cg_fconst(c, 0.5f, w), ""), t, "");
    } else {
      LLVMValueRef e =
          cg_libm1(c, "erff", LLVMBuildFMul(b, x[0], cg_fconst(c, 0.70710678118654752f, w), ""), w);
      r = LLVMBuildFMul(b, LLVMBuildFMul(b, x[0], cg_fconst(c, 0.5f, w), ""),
                        LLVMBuildFAdd(b, one, e, ""), "");
    }
  } else if (strcmp(op, "Mish") == 0) {
    LLVMValueRef sp = cg_libm1(c, "log1pf", cg_exp(c, x[0], w), w);
    r = LLVMBuildFMul(b, x[0], cg_libm1(c, "tanhf", sp, w), "");
  } else if (strcmp(op, "Celu") == 0) {
    LLVMValueRef alpha = attr_const(c, nd, "alpha", 1.0f, w);
    LLVMValueRef e = cg_exp(c, LLVMBuildFDiv(b, x[0], alpha, ""), w);
    LLVMValueRef neg = LLVMBuildFMul(b, alpha, LLVMBuildFSub(b, e, one, ""), "");
    r = LLVMBuildFAdd(b, cg_fmax(c, x[0], zero), cg_fmin(c, zero, neg), "");
  } else if (strcmp(op, "ThresholdedRelu") == 0) {
    LLVMValueRef gt = LLVMBuildFCmp(b, LLVMRealOGT, x[0], attr_const(c, nd, "alpha", 1.0f, w), "");
    r = LLVMBuildSelect(b, gt, x[0], zero, "");
  } else if (strcmp(op, "Sign") == 0) {
    LLVMValueRef lt = LLVMBuildFCmp(b, LLVMRealOLT, x[0], zero, "");
    r = select_gt0(c, x[0], one, LLVMBuildSelect(b, lt, cg_fconst(c, -1.0f, w), zero, ""), w);
  } else if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0) {
    r = x[0];
  } else {
    return pare_errf(err, "no elementwise lowering for %s", op);
  }
  *out = r;
  return PARE_OK;
}

/* -------------------------------------------------------- broadcast loop */

void ew_operand_of_value(cg *c, int v, ew_operand *o) {
  memset(o, 0, sizeof *o);
  o->shape = *cg_shape(c, v);
  const pare_tensor *t = cg_const(c, v);
  if (t && t->dtype == PARE_F32 && pare_tensor_numel(t) == 1) {
    o->is_scalar = 1;
    o->scalar = ((const float *)t->data)[0];
  } else {
    o->base = cg_value_ptr(c, v);
  }
}

/* Broadcast strides of an operand against out (rank r), in elements. */
static void operand_strides(const pare_shape *s, const pare_shape *out, int64_t *st) {
  int off = out->rank - s->rank;
  int64_t acc = 1;
  for (int d = out->rank - 1; d >= 0; d--) {
    int sd = d - off;
    if (sd < 0 || s->dims[sd] == 1) {
      st[d] = 0;
    } else {
      st[d] = acc;
      acc *= s->dims[sd];
    }
  }
}

typedef struct ew_nest {
  int rank;
  int64_t dims[PARE_MAX_RANK];
  int64_t st[EW_MAX_OPERANDS + 1][PARE_MAX_RANK]; /* operand strides; [n] = output */
} ew_nest;

/* Merges dim d into d+1 wherever every operand steps through both as one. */
static void collapse(ew_nest *nest, int n_st) {
  int r = 0;
  for (int d = 0; d < nest->rank; d++) {
    if (nest->dims[d] == 1 && nest->rank > 1) continue;
    int merge = r > 0;
    for (int i = 0; merge && i < n_st; i++)
      merge = nest->st[i][r - 1] == nest->st[i][d] * nest->dims[d];
    if (merge) {
      nest->dims[r - 1] *= nest->dims[d];
      for (int i = 0; i < n_st; i++) nest->st[i][r - 1] = nest->st[i][d];
    } else {
      nest->dims[r] = nest->dims[d];
      for (int i = 0; i < n_st; i++) nest->st[i][r] = nest->st[i][d];
      r++;
    }
  }
  if (r == 0) {
    nest->dims[0] = 1;
    for (int i = 0; i < n_st; i++) nest->st[i][0] = 0;
    r = 1;
  }
  nest->rank = r;
}

typedef struct ew_ctx {
  cg *c;
  const ew_operand *ops;
  int n;
  const ew_operand *out;
  ew_body_fn body;
  void *user;
  ew_nest nest;
} ew_ctx;

static void inner(ew_ctx *e, LLVMValueRef *off, int64_t len) {
  cg *c = e->c;
  const int n = e->n, last = e->nest.rank - 1;
  LLVMValueRef x[EW_MAX_OPERANDS], y;
  /* Operands broadcast along the inner dim: one load per outer iteration. */
  LLVMValueRef bcast[EW_MAX_OPERANDS] = {0};
  for (int i = 0; i < n; i++)
    if (!e->ops[i].is_scalar && e->nest.st[i][last] == 0)
      bcast[i] = cg_loadf(c, e->ops[i].base, off[i], 1);
  const int64_t vec_end = len / CG_VW * CG_VW;
  for (int pass = 0; pass < 2; pass++) {
    const int w = pass == 0 ? CG_VW : 1;
    const int64_t start = pass == 0 ? 0 : vec_end, end = pass == 0 ? vec_end : len;
    if (end <= start) continue;
    cg_loop l;
    LLVMValueRef iv = end - start == w ? cg_i64(c, start) : cg_for_begin(c, &l, start, end, w);
    for (int i = 0; i < n; i++) {
      if (e->ops[i].is_scalar)
        x[i] = cg_fconst(c, e->ops[i].scalar, w);
      else if (bcast[i])
        x[i] = cg_splat(c, bcast[i], w);
      else
        x[i] = cg_loadf(c, e->ops[i].base, cg_add(c, off[i], iv), w);
    }
    y = e->body(c, x, n, w, e->user);
    if (y) cg_storef(c, y, e->out->base, cg_add(c, off[n], iv), w);
    if (end - start != w) cg_for_end(c, &l);
  }
}

static void nest_level(ew_ctx *e, int d, LLVMValueRef *off) {
  cg *c = e->c;
  if (d == e->nest.rank - 1) {
    inner(e, off, e->nest.dims[d]);
    return;
  }
  cg_loop l;
  LLVMValueRef iv = cg_for_begin(c, &l, 0, e->nest.dims[d], 1);
  LLVMValueRef sub[EW_MAX_OPERANDS + 1];
  for (int i = 0; i <= e->n; i++) sub[i] = cg_madd(c, iv, e->nest.st[i][d], off[i]);
  nest_level(e, d + 1, sub);
  cg_for_end(c, &l);
}

int ew_emit_loop(cg *c, const ew_operand *ops, int n, const ew_operand *out, ew_body_fn body,
                 void *user, pare_err *err) {
  if (n > EW_MAX_OPERANDS) return pare_errf(err, "more than %d operands", EW_MAX_OPERANDS);
  ew_ctx e = {.c = c, .ops = ops, .n = n, .out = out, .body = body, .user = user};
  e.nest.rank = out->shape.rank;
  for (int d = 0; d < out->shape.rank; d++) e.nest.dims[d] = out->shape.dims[d];
  for (int i = 0; i < n; i++) {
    pare_shape bs;
    if (pare_broadcast_shape(&ops[i].shape, &out->shape, &bs, err)) return PARE_ERR;
    operand_strides(&ops[i].shape, &out->shape, e.nest.st[i]);
  }
  operand_strides(&out->shape, &out->shape, e.nest.st[n]);
  collapse(&e.nest, n + 1);
  LLVMValueRef off[EW_MAX_OPERANDS + 1];
  for (int i = 0; i <= n; i++) off[i] = cg_i64(c, 0);
  nest_level(&e, 0, off);
  return PARE_OK;
}

/* ------------------------------------------------------------- emitters */

typedef struct node_body {
  const pare_node *nd;
  pare_err *err;
  int failed;
} node_body;

static LLVMValueRef apply_node(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  node_body *nb = user;
  LLVMValueRef r = NULL;
  if (ew_apply(c, nb->nd, x, n, w, &r, nb->err)) {
    nb->failed = 1;
    return cg_fconst(c, 0, w);
  }
  return r;
}

/* How many leading inputs are operands (Dropout's ratio and mode are not). */
static int data_inputs(const pare_node *nd) {
  if (strcmp(nd->op, "Dropout") == 0) return 1;
  return nd->n_inputs;
}

static int emit_ew(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  int n = data_inputs(nd);
  ew_operand ops[EW_MAX_OPERANDS], out;
  if (n > EW_MAX_OPERANDS) return pare_errf(err, "more than %d inputs", EW_MAX_OPERANDS);
  for (int i = 0; i < n; i++) {
    if (nd->inputs[i] < 0 && i > 0) {
      /* An omitted optional operand (Clip's bounds): never read. */
      memset(&ops[i], 0, sizeof ops[i]);
      ops[i].is_scalar = 1;
      continue;
    }
    if (nd->inputs[i] < 0) return pare_errf(err, "input %d omitted", i);
    if (c->g->values[nd->inputs[i]]->dtype != PARE_F32)
      return pare_errf(err, "input %d is %s; the backend's elementwise kernels take f32", i,
                       pare_dtype_name(c->g->values[nd->inputs[i]]->dtype));
    ew_operand_of_value(c, nd->inputs[i], &ops[i]);
  }
  ew_operand_of_value(c, nd->outputs[0], &out);
  node_body nb = {.nd = nd, .err = err};
  if (ew_emit_loop(c, ops, n, &out, apply_node, &nb, err)) return PARE_ERR;
  /* Dropout's optional mask output: all ones (inference). */
  if (strcmp(nd->op, "Dropout") == 0 && nd->n_outputs > 1 && nd->outputs[1] >= 0) {
    LLVMValueRef m = cg_value_ptr(c, nd->outputs[1]);
    LLVMBuildMemSet(c->b, m, LLVMConstInt(c->i8, 1, 0), cg_i64(c, cg_numel(c, nd->outputs[1])), 1);
  }
  return nb.failed ? PARE_ERR : PARE_OK;
}

/* Identity-like ops on any dtype whose output did not become an alias. */
static int emit_copy(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  int in = nd->inputs[0], out = nd->outputs[0];
  (void)err;
  size_t es = pare_dtype_size(c->g->values[in]->dtype);
  cg_memcpy(c, cg_value_ptr(c, out), cg_value_ptr(c, in), cg_numel(c, in) * (int64_t)es);
  return PARE_OK;
}

static int emit_identity(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  if (c->g->values[nd->inputs[0]]->dtype == PARE_F32 && strcmp(nd->op, "Dropout") == 0)
    return emit_ew(c, k, err);
  return emit_copy(c, k, err);
}

int cg_emit_copy(cg *c, int k, pare_err *err) {
  return emit_copy(c, k, err);
}

/* (x - mean) / sqrt(var + eps) * scale + bias, for run-time statistics. */
static LLVMValueRef bn_body(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  (void)n;
  LLVMValueRef v = LLVMBuildFAdd(c->b, x[4], cg_fconst(c, *(const float *)user, w), "");
  v = cg_intrin(c, "llvm.sqrt", LLVMTypeOf(v), &v, 1);
  LLVMValueRef y = LLVMBuildFDiv(c->b, LLVMBuildFSub(c->b, x[0], x[3], ""), v, "");
  return cg_fma(c, y, x[1], x[2]);
}

/* BatchNormalization (inference). With constant statistics, y = x * s[c] +
 * t[c] with s and t folded at compile time; otherwise the formula per
 * element. The [C] parameters broadcast as [1,C,1,...]. */
static int emit_batchnorm(cg *c, int k, pare_err *err) {
  const pare_node *nd = c->g->nodes[k];
  const pare_shape *xs = cg_shape(c, nd->inputs[0]);
  if (xs->rank < 2) return pare_errf(err, "input of rank %d", xs->rank);
  int64_t ch = xs->dims[1];
  const pare_tensor *p[4];
  int all_const = 1;
  for (int i = 0; i < 4; i++) {
    int v = nd->n_inputs > i + 1 ? nd->inputs[i + 1] : -1;
    if (v < 0 || c->g->values[v]->dtype != PARE_F32 || cg_numel(c, v) != ch)
      return pare_errf(err, "parameter %d must be f32 with %lld elements", i + 1, (long long)ch);
    p[i] = cg_const(c, v);
    all_const = all_const && p[i];
  }
  pare_shape ps = {.rank = xs->rank};
  for (int d = 0; d < xs->rank; d++) ps.dims[d] = d == 1 ? ch : 1;
  float eps = pare_attr_float(nd, "epsilon", 1e-5f);
  ew_operand ops[5], out;
  ew_operand_of_value(c, nd->inputs[0], &ops[0]);
  ew_operand_of_value(c, nd->outputs[0], &out);
  if (!all_const) {
    for (int i = 1; i < 5; i++) {
      memset(&ops[i], 0, sizeof ops[i]);
      ops[i].base = cg_value_ptr(c, nd->inputs[i]);
      ops[i].shape = ps;
    }
    return ew_emit_loop(c, ops, 5, &out, bn_body, &eps, err);
  }
  pare_tensor *s = pare_tensor_new(PARE_F32, &ps, err), *t = pare_tensor_new(PARE_F32, &ps, err);
  if (!s || !t) {
    pare_tensor_free(s);
    pare_tensor_free(t);
    return PARE_ERR;
  }
  for (int64_t i = 0; i < ch; i++) {
    double sc = pare_tensor_get_f64(p[0], i) / sqrt(pare_tensor_get_f64(p[3], i) + (double)eps);
    ((float *)s->data)[i] = (float)sc;
    ((float *)t->data)[i] =
        (float)(pare_tensor_get_f64(p[1], i) - pare_tensor_get_f64(p[2], i) * sc);
  }
  memset(&ops[1], 0, 2 * sizeof ops[1]);
  ops[1].shape = ops[2].shape = ps;
  ops[1].base = cg_const_tensor(c, s, "bn.scale");
  ops[2].base = cg_const_tensor(c, t, "bn.shift");
  pare_tensor_free(s);
  pare_tensor_free(t);
  return ew_emit_loop(c, ops, 3, &out, ew_body_affine, NULL, err);
}

LLVMValueRef ew_body_affine(cg *c, LLVMValueRef *x, int n, int w, void *user) {
  (void)n, (void)w, (void)user;
  return cg_fma(c, x[0], x[1], x[2]);
}

const cg_op cg_ops_elementwise[] = {
    {"Add", emit_ew},
    {"Sub", emit_ew},
    {"Mul", emit_ew},
    {"Div", emit_ew},
    {"Pow", emit_ew},
    {"Max", emit_ew},
    {"Min", emit_ew},
    {"Sum", emit_ew},
    {"Mean", emit_ew},
    {"PRelu", emit_ew},
    {"Relu", emit_ew},
    {"LeakyRelu", emit_ew},
    {"Sigmoid", emit_ew},
    {"HardSigmoid", emit_ew},
    {"HardSwish", emit_ew},
    {"Clip", emit_ew},
    {"Tanh", emit_ew},
    {"Elu", emit_ew},
    {"Selu", emit_ew},
    {"Softplus", emit_ew},
    {"Softsign", emit_ew},
    {"Neg", emit_ew},
    {"Abs", emit_ew},
    {"Exp", emit_ew},
    {"Log", emit_ew},
    {"Sqrt", emit_ew},
    {"Reciprocal", emit_ew},
    {"Floor", emit_ew},
    {"Ceil", emit_ew},
    {"Round", emit_ew},
    {"Erf", emit_ew},
    {"Sin", emit_ew},
    {"Cos", emit_ew},
    {"Gelu", emit_ew},
    {"Mish", emit_ew},
    {"Celu", emit_ew},
    {"ThresholdedRelu", emit_ew},
    {"Sign", emit_ew},
    {"Identity", emit_identity},
    {"Dropout", emit_identity},
    {"BatchNormalization", emit_batchnorm},
    {NULL, NULL},
};
