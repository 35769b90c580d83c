/*
 * frontend_internal.h - pieces shared by the files of the ONNX frontend.
 *
 * Error convention inside the frontend: helpers write a message without the
 * file name ("initializer 'w': ..."); the public entry points prefix the file
 * path (or label) once.
 */
#ifndef PARE_FRONTEND_INTERNAL_H
#define PARE_FRONTEND_INTERNAL_H

#include "frontend/onnx.h"
#include "onnx/onnx.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* protobuf messages cannot exceed 2 GiB, so no valid .onnx / .pb file is larger. */
#define PARE_FE_MAX_FILE_BYTES ((size_t)2 << 30)

/* ------------------------------------------------------------ file_io.c */

/* Reads a whole regular, non-empty file of at most PARE_FE_MAX_FILE_BYTES.
 * *data is malloc'd. Messages do not name the file (callers prefix it). */
int pare_fe_read_file(const char *path, uint8_t **data, size_t *len, pare_err *err);
/* Folder part of path ("." if none), malloc'd; NULL on OOM. */
char *pare_fe_dirname(const char *path);

/* ---------------------------------------------------------- tensor_pb.c */

/* ONNX TensorProto.DataType -> pare dtype; PARE_ERR for string/complex/bf16. */
int pare_fe_dtype(int32_t onnx_type, pare_dtype *out, pare_err *err);
/* Decodes a TensorProto (raw_data, typed fields or external data) into a new
 * tensor. `dir` is the model folder for external data; NULL refuses it. */
int pare_fe_decode_tensor(const Onnx__TensorProto *tp, const char *dir, pare_tensor **out,
                          pare_err *err);
/* Densifies a SparseTensorProto (indices linearized [NNZ] or [NNZ, rank]). */
int pare_fe_densify_sparse(const Onnx__SparseTensorProto *sp, const char *dir, pare_tensor **out,
                           pare_err *err);
/* Byte size a tensor of dtype/dims would need, checked against overflow and
 * pare_max_tensor_bytes before anything is allocated. Fills *shape. */
int pare_fe_check_dims(pare_dtype dt, const int64_t *dims, size_t n_dims, pare_shape *shape,
                       size_t *nbytes, pare_err *err);
/* Converts little-endian element bytes in t->data to host order (no-op on LE hosts). */
void pare_fe_le_to_host(pare_tensor *t);

/* ------------------------------------------------------ external_data.c */

/* Fills t->data (already allocated, t->nbytes long) from the external file
 * described by tp->external_data, relative to dir. */
int pare_fe_read_external(const Onnx__TensorProto *tp, const char *dir, pare_tensor *t,
                          pare_err *err);

/* ----------------------------------------------------------- node_attrs.c */

/* Copies every attribute of np into n, skipping GRAPH/GRAPHS/SPARSE_TENSOR(S)/
 * TENSORS/TYPE_PROTO(S) ones (the loader reports such nodes as unsupported). */
int pare_fe_node_attrs(pare_node *n, const Onnx__NodeProto *np, const char *dir, pare_err *err);
/* 1 if the attribute holds a subgraph, sparse tensor or type (pare cannot represent it). */
int pare_fe_attr_unrepresentable(const Onnx__AttributeProto *ap);
/* Tensor value of a Constant node (value, value_float(s), value_int(s), sparse_value). */
int pare_fe_constant_value(const Onnx__NodeProto *np, const char *dir, pare_tensor **out,
                           pare_err *err);

/* ------------------------------------------------------------ normalize.c */

/* Rewrites opset-dependent forms into the canonical forms of ops/ops.h.
 * Nodes may be appended; the caller toposorts afterwards. */
int pare_fe_normalize(pare_graph *g, int64_t opset, pare_err *err);

/* ------------------------------------------------------------ onnx_load.c */

/* Loader flags, for tests: skip the unsupported-op check so normalization can
 * be tested while the op registry is incomplete. */
#define PARE_FE_ALLOW_UNSUPPORTED 1

/* Refuses models whose recursive messages (subgraphs, nested types) nest
 * deeper than max_depth, before protobuf-c's recursive parser sees them. */
int pare_fe_check_nesting(const void *data, size_t len, int max_depth, pare_err *err);

/* Loads a model from bytes; dir (may be NULL) is the folder for external data.
 * Errors are prefixed with label. */
pare_graph *pare_fe_load_bytes(const void *data, size_t len, const char *label, const char *dir,
                               int flags, pare_err *err);

#endif /* PARE_FRONTEND_INTERNAL_H */
