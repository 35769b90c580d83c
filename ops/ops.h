/*
 * ops.h - the operator registry: what each op means.
 *
 * Each supported op has one pare_op_def with two functions:
 *
 *   infer: given the node and its input tensors, set dtype and shape of every
 *          output. Inputs always carry dtype and shape; their data is non-NULL
 *          only when the value is known (a constant at compile time, or any
 *          input when the interpreter runs). An op whose output shape depends
 *          on input data that is NULL returns PARE_UNKNOWN (not an error).
 *          Unknown input dims (-1) propagate to the outputs they determine
 *          (PARE_OK); PARE_UNKNOWN means the data needed to compute the shape
 *          is missing (the rank may then be -1 too).
 *          Invalid attributes or incompatible shapes: PARE_ERR with a message
 *          (the caller prefixes the node name).
 *   eval:  the reference kernel. Inputs have data; outputs were allocated by
 *          the caller with the dtype/shape infer produced (zeroed). Plain,
 *          obviously correct C: this is the oracle every optimized kernel and
 *          every compression pass is checked against.
 *
 * in[i] is NULL for an omitted optional input (node->inputs[i] == -1) and for
 * i >= node->n_inputs. n_out is node->n_outputs (an omitted optional output
 * still gets a tensor to write to, so kernels need not check).
 *
 * Canonical forms. The IR always uses the latest ONNX (opset 18) form of each
 * op; the frontend rewrites older forms when loading (see frontend/onnx.h):
 *   - Clip min/max, Pad pads/constant_value, Slice starts/ends/axes/steps,
 *     Split split, Squeeze/Unsqueeze axes, Reduce* axes, Resize roi/scales/sizes
 *     are inputs, never attributes.
 *   - Softmax/LogSoftmax/Hardmax operate along one axis (opset-13 semantics).
 *   - Upsample is rewritten to Resize; Dropout/Identity stay as Identity-like ops.
 * Kernels therefore implement one semantics per op.
 */
#ifndef PARE_OPS_H
#define PARE_OPS_H

#include "ir/ir.h"

typedef int (*pare_infer_fn)(const pare_node *node, const pare_tensor *const *in, int n_in,
                             pare_tensor *out, int n_out, pare_err *err);
typedef int (*pare_eval_fn)(const pare_node *node, const pare_tensor *const *in, int n_in,
                            pare_tensor *out, int n_out, pare_err *err);

typedef struct pare_op_def {
  const char *name; /* ONNX op type in domain ai.onnx */
  pare_infer_fn infer;
  pare_eval_fn eval;
} pare_op_def;

/* Looks an op up by type (domain ai.onnx or ""). NULL if unsupported. */
const pare_op_def *pare_op_find(const char *op_type);
/* Iteration over all registered ops: returns NULL past the end. */
const pare_op_def *pare_op_at(int index);

/*
 * Op families. Each ops/<family>.c defines one NULL-name-terminated table;
 * ops/registry.c concatenates them. Adding a family = a new file plus one line
 * in registry.c.
 */
extern const pare_op_def pare_ops_elementwise[]; /* ops/elementwise.c */
extern const pare_op_def pare_ops_nn[];          /* ops/nn.c */
extern const pare_op_def pare_ops_shape[];       /* ops/shape.c */
extern const pare_op_def pare_ops_reduce[];      /* ops/reduce.c */
extern const pare_op_def pare_ops_loss[];        /* ops/loss.c */
extern const pare_op_def pare_ops_misc[];        /* ops/misc.c */
extern const pare_op_def pare_ops_rnn[];         /* ops/rnn.c */
extern const pare_op_def pare_ops_signal[];      /* ops/signal.c */
extern const pare_op_def pare_ops_quant[];       /* ops/quant.c */

/*
 * Helpers shared by op implementations (ops/helpers.c).
 */
/*
 * Sliding-window geometry of Conv, ConvTranspose and the pools over the
 * spatial dims of X = [N, C, D1, ..., Dk]. A dim of -1 is unknown (shape
 * inference only); every derived size is then -1 too.
 */
typedef struct pare_window {
  int nsp; /* number of spatial dims k */
  int64_t in[PARE_MAX_RANK];
  int64_t out[PARE_MAX_RANK];
  int64_t kernel[PARE_MAX_RANK];
  int64_t stride[PARE_MAX_RANK];
  int64_t dil[PARE_MAX_RANK];
  int64_t pad_lo[PARE_MAX_RANK]; /* padding before the first element */
  int64_t pad_hi[PARE_MAX_RANK]; /* padding after the last element */
} pare_window;

/*
 * Reads strides, dilations, pads and auto_pad of `node` for input shape x and
 * the given kernel, and computes the output sizes the way Conv and the pools
 * do (ceil_mode only for pools). `op` names the op in messages.
 */
int pare_nn_window(const pare_node *node, const char *op, const pare_shape *x,
                   const int64_t *kernel, int ceil_mode, pare_window *w, pare_err *err);

/* numpy broadcasting of a and b into *out; PARE_ERR if incompatible. */
int pare_broadcast_shape(const pare_shape *a, const pare_shape *b, pare_shape *out, pare_err *err);
/* Normalizes a possibly negative axis against rank; PARE_ERR if out of range. */
int pare_norm_axis(int64_t axis, int rank, int *out, pare_err *err);
/* Row-major strides of a shape (elements). */
void pare_strides(const pare_shape *s, int64_t *strides);
/* Reads an int tensor (i32/i64) into a freshly malloc'd int64 array; *n = numel. */
int pare_tensor_to_i64s(const pare_tensor *t, int64_t **out, int64_t *n, pare_err *err);
/* Requires in[i] present; PARE_ERR naming the input otherwise. */
int pare_need_input(const pare_tensor *const *in, int n_in, int i, pare_err *err);

/*
 * Resize for code generators (ops/shape_resize.c): the taps the reference
 * kernel uses along one axis, so compiled code does the same arithmetic.
 * Output index y of the axis is
 *   ex[y] ? extrapolation : sum over k < n of w[y*n + k] * x[idx[y*n + k]]
 * Mode nearest has one tap of weight 1 (an exact copy, any dtype); linear and
 * cubic interpolate one axis at a time, last to first, skipping identity
 * axes. in[] are the node's inputs: X needs only its dtype and shape; roi,
 * scales and sizes need their data.
 */
typedef struct pare_resize_taps {
  int nearest;       /* mode 'nearest' */
  int identity;      /* the taps reproduce the input axis unchanged */
  int n;             /* taps per output element */
  int64_t n_out;     /* output extent of the axis */
  int64_t *idx;      /* [n_out * n] input indices, clamped to the axis */
  double *w;         /* [n_out * n] weights */
  unsigned char *ex; /* [n_out] 1 = the extrapolation value instead */
  double extrapolation;
} pare_resize_taps;

/* Fills *t for axis `axis` (release with pare_resize_taps_free, also after
 * an error). PARE_ERR for invalid attributes or inputs. */
int pare_resize_axis_taps(const pare_node *node, const pare_tensor *const *in, int n_in, int axis,
                          pare_resize_taps *t, pare_err *err);
void pare_resize_taps_free(pare_resize_taps *t);

/*
 * Graph-level analyses built on the registry (ops/graph.c).
 */
/* Shape inference over the whole graph in node order. Values whose shape
 * cannot be determined keep -1 dims. Errors name the node. */
int pare_infer_shapes(pare_graph *g, pare_err *err);
/* Evaluates every node whose inputs are all constant (and Shape/Size of
 * statically shaped values), turning its outputs into constants, then removes
 * the dead nodes. *changed (if non-NULL) is set when anything folded.
 * Bound on folded tensor size: max_bytes per output (0 = no bound). */
int pare_fold_constants(pare_graph *g, size_t max_bytes, int *changed, pare_err *err);

#endif /* PARE_OPS_H */
