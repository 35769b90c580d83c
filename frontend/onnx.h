/*
 * onnx.h - the ONNX frontend: .onnx models and .pb tensors into pare's IR.
 *
 * pare_onnx_load reads a ModelProto with protobuf-c and builds a pare_graph:
 *   - graph inputs (initializers excluded) with dtype, shape and symbolic dims;
 *   - initializers and Constant nodes (every value* form) become constant values;
 *   - external data is read relative to the model's folder; absolute paths and
 *     paths leaving that folder (.., symlinks) are refused;
 *   - opset-dependent forms are rewritten to the canonical forms of ops/ops.h;
 *   - every unsupported op is listed in one error, each with its node name.
 * Errors name the file, and the node where there is one.
 */
#ifndef PARE_FRONTEND_ONNX_H
#define PARE_FRONTEND_ONNX_H

#include "ir/ir.h"

/* Returns a new graph or NULL with err set. */
pare_graph *pare_onnx_load(const char *path, pare_err *err);
/* Same, from bytes in memory; external data is refused (no folder). */
pare_graph *pare_onnx_load_buffer(const void *data, size_t len, const char *label, pare_err *err);

/* The files loading `path` reads: the model, then each external-data file
 * (joined to the model's folder), without duplicates; call after a
 * successful pare_onnx_load. Free with pare_free_file_list. */
int pare_onnx_input_files(const char *path, char ***files, int *n_files, pare_err *err);
void pare_free_file_list(char **files, int n);

/* Reads one TensorProto file (test_data_set_* input_K.pb / output_K.pb). */
pare_tensor *pare_tensor_read_pb(const char *path, pare_err *err);
pare_tensor *pare_tensor_parse_pb(const void *data, size_t len, const char *label, pare_err *err);
/* Writes t as a TensorProto with raw_data (and `name` if non-NULL), atomically
 * (temporary file in the same folder, then rename). */
int pare_tensor_write_pb(const char *path, const pare_tensor *t, const char *name, pare_err *err);

/*
 * Binds symbolic/unknown dims of graph inputs. `name` is the input's name;
 * shape must be static and agree with every known dim of the declared shape.
 * After binding all inputs, run pare_infer_shapes and pare_fold_constants
 * (ops/ops.h) to make the graph static.
 */
int pare_bind_input_shape(pare_graph *g, const char *name, const pare_shape *shape, pare_err *err);

#endif /* PARE_FRONTEND_ONNX_H */
