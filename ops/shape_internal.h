/*
 * shape_internal.h - shared pieces of the shape op family (ops/shape*.c);
 * private to it.
 *
 * The shape family moves elements without looking at them, so its kernels
 * copy pare_dtype_size(dtype) bytes per element and work for every dtype.
 */
#ifndef PARE_OPS_SHAPE_INTERNAL_H
#define PARE_OPS_SHAPE_INTERNAL_H

#include "ops/ops.h"

/* Views built by the kernels may have up to twice the tensor rank (Tile). */
#define PARE_SHAPE_VIEW_RANK (2 * PARE_MAX_RANK)

/* PARE_UNKNOWN if any of the first n outputs has a non-static shape, else PARE_OK. */
int pare_shapeop_result(const pare_tensor *out, int n_out);

/* Element size of t's dtype; PARE_ERR for dtypes that have none (string). */
int pare_shapeop_elem_size(const pare_tensor *t, size_t *es, pare_err *err);

/*
 * Reads the integer tensor t (scalar or 1-D) into v[0..cap): `what` names it
 * in messages. PARE_UNKNOWN (no message) if t's data is unknown; PARE_ERR if
 * it is not an integer tensor or holds more than cap values.
 */
int pare_shapeop_read_ints(const pare_tensor *t, const char *what, int64_t *v, int cap, int *n,
                           pare_err *err);

/* True when the optional input i is present with at least one element (ONNX
 * uses zero-element tensors to mean "absent" for some inputs). */
int pare_shapeop_has_input(const pare_tensor *const *in, int n_in, int i);

/*
 * Copies the strided view of src (element offset `offset`, per-axis element
 * strides that may be negative or zero) in row-major order into contiguous
 * dst. rank <= PARE_SHAPE_VIEW_RANK; es is the element size in bytes.
 */
void pare_shapeop_copy_view(void *dst, const void *src, size_t es, int rank, const int64_t *dims,
                            const int64_t *strides, int64_t offset);

/* a * b and a + b for non-negative counts; PARE_ERR ("element count
 * overflows") past INT64_MAX / 16, the bound pare_shape_numel uses. */
int pare_shapeop_mul(int64_t a, int64_t b, int64_t *out, pare_err *err);
int pare_shapeop_add(int64_t a, int64_t b, int64_t *out, pare_err *err);

/* Product of dims[0..n): -1 if any is unknown (and none is 0). */
int pare_shapeop_prod(const int64_t *dims, int n, int64_t *out, pare_err *err);

/* Formats n integers as "[1,-1,3]" into buf. */
void pare_shapeop_ints_str(const int64_t *v, int n, char *buf, size_t len);

/* True if the element at p (of dtype dt) is non-zero (NaN counts as non-zero,
 * -0.0 as zero). */
int pare_shapeop_elem_nonzero(pare_dtype dt, const void *p);

/* Family members defined in the other ops/shape_*.c files. */
#define PARE_SHAPE_DECL(name)                                                                      \
  int pare_shapeop_infer_##name(const pare_node *node, const pare_tensor *const *in, int n_in,     \
                                pare_tensor *out, int n_out, pare_err *err);                       \
  int pare_shapeop_eval_##name(const pare_node *node, const pare_tensor *const *in, int n_in,      \
                               pare_tensor *out, int n_out, pare_err *err);

/* ops/shape_index.c */
PARE_SHAPE_DECL(gather)
PARE_SHAPE_DECL(gather_elements)
PARE_SHAPE_DECL(gather_nd)
PARE_SHAPE_DECL(scatter_elements)
PARE_SHAPE_DECL(scatter_nd)
PARE_SHAPE_DECL(onehot)
PARE_SHAPE_DECL(nonzero)
PARE_SHAPE_DECL(compress)
PARE_SHAPE_DECL(reverse_sequence)
PARE_SHAPE_DECL(trilu)
PARE_SHAPE_DECL(eyelike)
/* ops/shape_resize.c */
PARE_SHAPE_DECL(resize)

#endif /* PARE_OPS_SHAPE_INTERNAL_H */
