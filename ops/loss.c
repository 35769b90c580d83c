/*
 * loss.c - ops of the loss family (infer + reference eval):
 *   NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 13).
 *
 * Both see the input as [N, C, D] where D is the product of the trailing
 * dims d1..dk (1 when there are none) and the target as [N, D]. SCE is
 * LogSoftmax over C followed by NLL, so both share one kernel: per element
 *   loss[n][d] = -w[t] * in[n][t][d],  t = target[n][d], w = weight or 1,
 * with loss 0 and weight 0 where t == ignore_index. Reduction "mean"
 * divides the sum by the sum of the weights of the elements not ignored
 * (0/0 = NaN when every element is ignored, as ONNX's reference does).
 * Computation runs in double.
 */
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum loss_reduction { RED_NONE, RED_SUM, RED_MEAN } loss_reduction;

/* What the attributes and input shapes of one loss node say. */
typedef struct loss_plan {
  loss_reduction reduction;
  int has_ignore;
  int64_t ignore_index;
  int64_t n, c, d; /* valid only when the input shape is static */
} loss_plan;

static int is_loss_float(pare_dtype dt) {
  return dt == PARE_F32 || dt == PARE_F64;
}

/* Shape of what infer can say about target: the input's dims without C. */
static pare_shape target_shape_from_input(const pare_shape *x) {
  pare_shape s = pare_shape_make(x->rank - 1, NULL);
  s.dims[0] = x->dims[0];
  for (int i = 2; i < x->rank; i++) s.dims[i - 1] = x->dims[i];
  return s;
}

/* Validates inputs and attributes. in[0]: scores/log-probs [N, C, d...],
 * in[1]: target [N, d...], in[2]: optional weight [C]. */
static int loss_plan_make(const char *op, const pare_node *node, const pare_tensor *const *in,
                          int n_in, loss_plan *p, pare_err *err) {
  memset(p, 0, sizeof *p);
  const char *red = pare_attr_string(node, "reduction", "mean");
  if (strcmp(red, "none") == 0)
    p->reduction = RED_NONE;
  else if (strcmp(red, "sum") == 0)
    p->reduction = RED_SUM;
  else if (strcmp(red, "mean") == 0)
    p->reduction = RED_MEAN;
  else
    return pare_errf(err, "%s: unknown reduction '%s'", op, red);
  p->has_ignore = pare_node_attr(node, "ignore_index") != NULL;
  p->ignore_index = pare_attr_int(node, "ignore_index", 0);

  if (pare_need_input(in, n_in, 0, err) || pare_need_input(in, n_in, 1, err))
    return pare_err_prefix(err, "%s", op);
  const pare_tensor *x = in[0], *t = in[1], *w = n_in > 2 ? in[2] : NULL;
  if (!is_loss_float(x->dtype))
    return pare_errf(err, "%s: unsupported input dtype %s", op, pare_dtype_name(x->dtype));
  if (t->dtype != PARE_I32 && t->dtype != PARE_I64)
    return pare_errf(err, "%s: target must be i32 or i64, got %s", op, pare_dtype_name(t->dtype));
  if (w && w->dtype != x->dtype)
    return pare_errf(err, "%s: weight dtype %s differs from input dtype %s", op,
                     pare_dtype_name(w->dtype), pare_dtype_name(x->dtype));
  const pare_shape *xs = &x->shape, *ts = &t->shape;
  if (xs->rank >= 0 && xs->rank < 2)
    return pare_errf(err, "%s: input has rank %d, expected at least 2 ([N, C, ...])", op, xs->rank);
  if (xs->rank >= 0 && ts->rank >= 0) {
    if (ts->rank != xs->rank - 1)
      return pare_errf(err, "%s: target has rank %d, expected %d", op, ts->rank, xs->rank - 1);
    pare_shape want = target_shape_from_input(xs);
    for (int i = 0; i < ts->rank; i++)
      if (ts->dims[i] >= 0 && want.dims[i] >= 0 && ts->dims[i] != want.dims[i]) {
        char a[128], b[128];
        pare_shape_str(xs, a, sizeof a);
        pare_shape_str(ts, b, sizeof b);
        return pare_errf(err, "%s: target shape %s does not match input shape %s", op, b, a);
      }
  }
  if (w && w->shape.rank >= 0) {
    if (w->shape.rank != 1) return pare_errf(err, "%s: weight must be 1-D", op);
    if (xs->rank >= 0 && xs->dims[1] >= 0 && w->shape.dims[0] >= 0 &&
        w->shape.dims[0] != xs->dims[1])
      return pare_errf(err, "%s: weight has %lld values, input has %lld classes", op,
                       (long long)w->shape.dims[0], (long long)xs->dims[1]);
  }
  if (pare_shape_is_static(xs)) {
    p->n = xs->dims[0];
    p->c = xs->dims[1];
    p->d = 1;
    for (int i = 2; i < xs->rank; i++) p->d *= xs->dims[i];
  }
  return PARE_OK;
}

/* Sets the loss output: target's shape for "none" (filling unknown dims
 * from the input), a scalar otherwise. */
static int loss_infer_output(const loss_plan *p, const pare_tensor *const *in, pare_tensor *out) {
  out->dtype = in[0]->dtype;
  if (p->reduction != RED_NONE) {
    out->shape = pare_shape_make(0, NULL);
    return PARE_OK;
  }
  const pare_shape *xs = &in[0]->shape, *ts = &in[1]->shape;
  if (ts->rank < 0 && xs->rank < 0) {
    out->shape = pare_shape_unknown();
    return PARE_UNKNOWN;
  }
  pare_shape s = ts->rank >= 0 ? *ts : target_shape_from_input(xs);
  if (xs->rank >= 0) {
    pare_shape from_x = target_shape_from_input(xs);
    for (int i = 0; i < s.rank; i++)
      if (s.dims[i] < 0) s.dims[i] = from_x.dims[i];
  }
  out->shape = s;
  return pare_shape_is_static(&s) ? PARE_OK : PARE_UNKNOWN;
}

/*
 * The shared NLL kernel over in = [N, C, D] doubles (log-probabilities).
 * Writes the per-element losses (reduction none) or the reduced scalar.
 */
static int nll_kernel(const char *op, const loss_plan *p, const double *inp,
                      const pare_tensor *target, const pare_tensor *weight, pare_tensor *out,
                      pare_err *err) {
  double sum = 0, wsum = 0;
  for (int64_t n = 0; n < p->n; n++) {
    for (int64_t d = 0; d < p->d; d++) {
      int64_t at = n * p->d + d;
      int64_t t = pare_tensor_get_i64(target, at);
      double loss = 0, w = 0;
      if (!(p->has_ignore && t == p->ignore_index)) {
        if (t < 0 || t >= p->c)
          return pare_errf(err, "%s: target %lld out of range [0, %lld)", op, (long long)t,
                           (long long)p->c);
        w = weight ? pare_tensor_get_f64(weight, t) : 1.0;
        loss = -inp[(n * p->c + t) * p->d + d] * w;
      }
      if (p->reduction == RED_NONE) pare_tensor_set_f64(out, at, loss);
      sum += loss;
      wsum += w;
    }
  }
  if (p->reduction == RED_SUM) pare_tensor_set_f64(out, 0, sum);
  if (p->reduction == RED_MEAN) pare_tensor_set_f64(out, 0, sum / wsum);
  return PARE_OK;
}

/* Input as [N, C, D] doubles, or its log-softmax over C. NULL on OOM. */
static double *load_input(const loss_plan *p, const pare_tensor *x, int log_softmax) {
  int64_t total = p->n * p->c * p->d;
  double *v = malloc((size_t)(total > 0 ? total : 1) * sizeof *v);
  if (!v) return NULL;
  for (int64_t i = 0; i < total; i++) v[i] = pare_tensor_get_f64(x, i);
  if (!log_softmax) return v;
  for (int64_t n = 0; n < p->n; n++) {
    for (int64_t d = 0; d < p->d; d++) {
      double *base = v + n * p->c * p->d + d;
      double mx = -INFINITY, s = 0;
      for (int64_t c = 0; c < p->c; c++)
        if (base[c * p->d] > mx) mx = base[c * p->d];
      for (int64_t c = 0; c < p->c; c++) s += exp(base[c * p->d] - mx);
      double lse = mx + log(s);
      for (int64_t c = 0; c < p->c; c++) base[c * p->d] -= lse;
    }
  }
  return v;
}

/* ------------------------------------------------ NegativeLogLikelihoodLoss */

static int nll_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  (void)n_out;
  loss_plan p;
  if (loss_plan_make("NegativeLogLikelihoodLoss", node, in, n_in, &p, err)) return PARE_ERR;
  return loss_infer_output(&p, in, &out[0]);
}

static int nll_eval(const pare_node *node, const pare_tensor *const *in, int n_in, pare_tensor *out,
                    int n_out, pare_err *err) {
  (void)n_out;
  const char *op = "NegativeLogLikelihoodLoss";
  loss_plan p;
  if (loss_plan_make(op, node, in, n_in, &p, err)) return PARE_ERR;
  double *inp = load_input(&p, in[0], 0);
  if (!inp) return pare_errf(err, "%s: out of memory", op);
  int rc = nll_kernel(op, &p, inp, in[1], n_in > 2 ? in[2] : NULL, &out[0], err);
  free(inp);
  return rc;
}

/* -------------------------------------------------- SoftmaxCrossEntropyLoss */

static int sce_infer(const pare_node *node, const pare_tensor *const *in, int n_in,
                     pare_tensor *out, int n_out, pare_err *err) {
  loss_plan p;
  if (loss_plan_make("SoftmaxCrossEntropyLoss", node, in, n_in, &p, err)) return PARE_ERR;
  int rc = loss_infer_output(&p, in, &out[0]);
  if (n_out > 1) {
    out[1].dtype = in[0]->dtype;
    out[1].shape = in[0]->shape;
    if (!pare_shape_is_static(&out[1].shape)) rc = PARE_UNKNOWN;
  }
  return rc;
}

static int sce_eval(const pare_node *node, const pare_tensor *const *in, int n_in, pare_tensor *out,
                    int n_out, pare_err *err) {
  const char *op = "SoftmaxCrossEntropyLoss";
  loss_plan p;
  if (loss_plan_make(op, node, in, n_in, &p, err)) return PARE_ERR;
  double *logp = load_input(&p, in[0], 1);
  if (!logp) return pare_errf(err, "%s: out of memory", op);
  int rc = nll_kernel(op, &p, logp, in[1], n_in > 2 ? in[2] : NULL, &out[0], err);
  if (rc == PARE_OK && n_out > 1) {
    int64_t total = p.n * p.c * p.d;
    for (int64_t i = 0; i < total; i++) pare_tensor_set_f64(&out[1], i, logp[i]);
  }
  free(logp);
  return rc;
}

/* ---------------------------------------------------------------- table */

const pare_op_def pare_ops_loss[] = {
    {"NegativeLogLikelihoodLoss", nll_infer, nll_eval},
    {"SoftmaxCrossEntropyLoss", sce_infer, sce_eval},
    {0, 0, 0},
};
