/*
 * ir.h - pare's graph IR: tensors, weight encodings, values, nodes, graphs.
 *
 * Ownership rules (they hold everywhere in pare):
 *   - A graph owns its values and nodes; a value owns its constant tensor and
 *     its weight encoding; a node owns its attributes.
 *   - Every char* stored in the IR is a heap copy owned by the object holding it.
 *   - Functions that can fail return PARE_OK (0) or PARE_ERR (-1) and fill a
 *     caller-provided pare_err with one human-readable line.
 *
 * Values and nodes are addressed by index into graph->values / graph->nodes.
 * The arrays hold pointers, so a pare_value* stays valid while the graph grows.
 * Nodes are kept in topological order (pare_graph_toposort restores it).
 * A constant value's init always holds its dense value; when enc is set too,
 * init equals pare_weight_decode(enc) exactly, so the interpreter and the
 * folding passes see the compressed semantics.
 */
#ifndef PARE_IR_H
#define PARE_IR_H

#include <stddef.h>
#include <stdint.h>

#define PARE_OK      0
#define PARE_ERR     (-1)
#define PARE_UNKNOWN 1 /* shape inference: result depends on data not known yet */

#define PARE_MAX_RANK 8
#define PARE_ERR_LEN  1024

/* Error sink: one line, no trailing newline. */
typedef struct pare_err {
  char msg[PARE_ERR_LEN];
} pare_err;

/* Formats into err (if non-NULL) and returns PARE_ERR. */
int pare_errf(pare_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prepends "prefix: " to an existing message. Returns PARE_ERR. */
int pare_err_prefix(pare_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---------------------------------------------------------------- dtypes */

/* Numeric values equal ONNX TensorProto.DataType so the frontend maps 1:1. */
typedef enum pare_dtype {
  PARE_UNDEFINED = 0,
  PARE_F32 = 1,
  PARE_U8 = 2,
  PARE_I8 = 3,
  PARE_U16 = 4,
  PARE_I16 = 5,
  PARE_I32 = 6,
  PARE_I64 = 7,
  PARE_STRING = 8, /* not supported for computation; recognised to refuse cleanly */
  PARE_BOOL = 9,   /* stored as one byte, 0 or 1 */
  PARE_F16 = 10,   /* storage only */
  PARE_F64 = 11,
  PARE_U32 = 12,
  PARE_U64 = 13,
} pare_dtype;

size_t pare_dtype_size(pare_dtype dt);             /* bytes per element; 0 if unsupported */
const char *pare_dtype_name(pare_dtype dt);        /* "f32", "i64", "bool", ... */
pare_dtype pare_dtype_from_name(const char *name); /* PARE_UNDEFINED if unknown */
int pare_dtype_is_float(pare_dtype dt);
int pare_dtype_is_int(pare_dtype dt); /* signed or unsigned integer, not bool */
/* IEEE binary16 <-> binary32: exact widening; narrowing rounds to nearest even. */
float pare_f16_to_f32(uint16_t h);
uint16_t pare_f32_to_f16(float f);

/* ---------------------------------------------------------------- shapes */

/* rank == -1: rank unknown. dims[i] == -1: that dim unknown (symbolic or not inferred). */
typedef struct pare_shape {
  int rank;
  int64_t dims[PARE_MAX_RANK];
} pare_shape;

pare_shape pare_shape_make(int rank, const int64_t *dims);
pare_shape pare_shape_unknown(void);
int pare_shape_is_static(const pare_shape *s); /* known rank and every dim >= 0 */
int pare_shape_equal(const pare_shape *a, const pare_shape *b);
/* Element count of a static shape into *out; PARE_ERR on overflow past INT64_MAX/16. */
int pare_shape_numel(const pare_shape *s, int64_t *out, pare_err *err);
/* Writes "[1,3,?,4]" (or "[*]" for unknown rank) into buf. */
void pare_shape_str(const pare_shape *s, char *buf, size_t len);

/* --------------------------------------------------------------- tensors */

/* A dense row-major tensor. data is 64-byte aligned and owned by the tensor. */
typedef struct pare_tensor {
  pare_dtype dtype;
  pare_shape shape;
  void *data; /* may be NULL in shape inference (value unknown) */
  size_t nbytes;
} pare_tensor;

/* Upper bound on any single allocation sized from a file; --max-memory sets
 * it to the memory cap. pare_tensor_alloc refuses larger requests. */
extern size_t pare_max_tensor_bytes;

/* Memory cap (--max-memory, default PARE_DEFAULT_MAX_MEMORY): the most bytes
 * of pare_aligned_alloc buffers (all tensor data: weights, constants, inputs,
 * intermediates and outputs, and the generated code's workspace) live at
 * once. pare_tensor_alloc and pare_aligned_alloc refuse what would cross it;
 * the frontend also checks file sizes, protobuf-c's parse and declared
 * initializer sizes against it before allocating tensors. Kernel scratch
 * (malloc'd, at most a small multiple of one tensor) and LLVM's own memory
 * are not counted. */
#define PARE_DEFAULT_MAX_MEMORY ((size_t)8 << 30)
extern size_t pare_max_memory;
/* Sets the cap, and pare_max_tensor_bytes to the cap. */
void pare_set_max_memory(size_t bytes);
/* Bytes of pare_aligned_alloc buffers live now. */
size_t pare_memory_in_use(void);
/* PARE_OK if nbytes more stay within the cap; else an error naming `what`,
 * the bytes and the limit. */
int pare_memory_check(size_t nbytes, const char *what, pare_err *err);

/* Allocate a zeroed tensor of a static shape. NULL + err on overflow/too large/OOM. */
pare_tensor *pare_tensor_new(pare_dtype dt, const pare_shape *shape, pare_err *err);
/* Allocate t->data for t->dtype/t->shape (t->data must be NULL). Zeroed. */
int pare_tensor_alloc(pare_tensor *t, pare_err *err);
pare_tensor *pare_tensor_clone(const pare_tensor *t, pare_err *err);
void pare_tensor_free(pare_tensor *t);    /* frees struct and data; NULL ok */
void pare_tensor_release(pare_tensor *t); /* frees data only, keeps struct */
int64_t pare_tensor_numel(const pare_tensor *t);
/* Element i converted to double / int64 (any numeric dtype, f16 included;
 * storing into f16 goes through f32). */
double pare_tensor_get_f64(const pare_tensor *t, int64_t i);
int64_t pare_tensor_get_i64(const pare_tensor *t, int64_t i);
void pare_tensor_set_f64(pare_tensor *t, int64_t i, double v);
/* CRC-32 of the raw bytes, used by the textual IR to name elided weights. */
uint32_t pare_tensor_crc32(const pare_tensor *t);
void *pare_aligned_alloc(size_t nbytes); /* 64-byte aligned, zeroed; free with pare_aligned_free */
void pare_aligned_free(void *p);

/* ------------------------------------------------------ weight encodings */

/*
 * How a constant weight is stored. The dense tensor (value->init) is the
 * semantic value; an encoding says how compression passes chose to store it,
 * and the backend emits exactly that form. pare_weight_decode reconstructs
 * the dense float tensor (the reference semantics of every encoding).
 *
 *   QUANT:    w[i] = scale[g] * (q[i] - zero[g]); q are `bits`-bit integers
 *             (signed range if symmetric) packed little-endian in `packed`.
 *             Scales are per tensor (axis -1; groups of group_size
 *             consecutive elements if > 0) or per channel of `axis`; with
 *             group_size > 0, each channel's elements, taken in row-major
 *             order over the other dims, form groups of group_size
 *             consecutive ones: g = channel * ceil(numel / dims[axis] /
 *             group_size) + position / group_size. For axis 0 of [N, K]
 *             (Conv, Gemm transB=1) the groups run along K within a row; for
 *             axis 1 of [K, N] (MatMul B, Gemm transB=0) they run down a
 *             column, along K.
 *   SPARSE:   CSR over the weight viewed as [dim0, rest]: row_ptr (i64, dim0+1),
 *             col_idx (i32), values (f32 or another encoding via `values_enc`).
 *             Pattern N:M is recorded in nm_n/nm_m when the structure holds.
 *   CODEBOOK: w[i] = codebook[g][idx[i]]; idx are `bits`-bit packed, codebook is
 *             f32 [groups, 2^bits] (one group per layer unless per-channel:
 *             axis >= 0 gives one codebook per channel of that axis). With
 *             `scales` (one per channel of `axis`), one codebook is shared
 *             over channel-normalized weights: w[i] = scales[c] * codebook[idx[i]].
 * `outliers` optionally holds a sparse high-precision part added to the result
 * (SpQR-style), itself a SPARSE encoding. Scales, zero points and codebooks
 * may be f32 or f16 (half the bytes; decoding widens them exactly).
 */
typedef enum pare_enc_kind {
  PARE_ENC_DENSE = 0,
  PARE_ENC_QUANT = 1,
  PARE_ENC_SPARSE = 2,
  PARE_ENC_CODEBOOK = 3,
} pare_enc_kind;

typedef struct pare_encoding {
  pare_enc_kind kind;
  int bits;              /* QUANT / CODEBOOK index width, 1..8 */
  int symmetric;         /* QUANT: 1 = zero points implied */
  int axis;              /* QUANT / CODEBOOK: channel axis of per-channel params, -1 = per tensor */
  int64_t group_size;    /* QUANT: 0 = whole channel */
  int nm_n, nm_m;        /* SPARSE: N:M pattern if any, else 0 */
  pare_tensor *packed;   /* QUANT / CODEBOOK: u8 bitstream */
  pare_tensor *scales;   /* QUANT; optional per-channel scales of CODEBOOK (f32 or f16) */
  pare_tensor *zeros;    /* QUANT: f32 or f16 zero points, NULL if symmetric */
  pare_tensor *codebook; /* CODEBOOK: f32 or f16 [groups, 2^bits] */
  pare_tensor *row_ptr;  /* SPARSE */
  pare_tensor *col_idx;  /* SPARSE */
  pare_tensor *values;   /* SPARSE: f32 nonzeros */
  struct pare_encoding *outliers; /* optional SPARSE part added on top */
} pare_encoding;

void pare_encoding_free(pare_encoding *e);
const char *pare_enc_kind_name(pare_enc_kind k);
/* Bytes the encoded form occupies (all parts). */
size_t pare_encoding_bytes(const pare_encoding *e);
/* Decode `e` for a weight of dtype f32 and shape `shape` into a new tensor. */
pare_tensor *pare_weight_decode(const pare_encoding *e, const pare_shape *shape, pare_err *err);

/* --------------------------------------------------------------- values */

typedef struct pare_value {
  char *name;
  pare_dtype dtype;
  pare_shape shape;
  char *dim_param[PARE_MAX_RANK]; /* symbolic dim names from the model, or NULL */
  pare_tensor *init;              /* constant data (initializer, Constant, folded), or NULL */
  pare_encoding *enc;             /* NULL = stored dense as init */
  int producer;                   /* index of the node producing it, -1 if none */
  int is_graph_input;
  int is_graph_output;
} pare_value;

/* ----------------------------------------------------------- attributes */

typedef enum pare_attr_type {
  PARE_ATTR_INT = 1,
  PARE_ATTR_FLOAT = 2,
  PARE_ATTR_STRING = 3,
  PARE_ATTR_TENSOR = 4,
  PARE_ATTR_INTS = 5,
  PARE_ATTR_FLOATS = 6,
  PARE_ATTR_STRINGS = 7,
} pare_attr_type;

typedef struct pare_attr {
  char *name;
  pare_attr_type type;
  int64_t i;
  float f;
  char *s;
  int64_t n; /* element count for INTS / FLOATS / STRINGS */
  int64_t *ints;
  float *floats;
  char **strings;
  pare_tensor *t;
} pare_attr;

/* ---------------------------------------------------------------- nodes */

typedef struct pare_node {
  char *name;
  char *op;     /* ONNX op type, canonical (latest-opset) form; see ops/ops.h */
  char *domain; /* NULL or "" for ai.onnx */
  int n_inputs;
  int *inputs; /* value indices; -1 = omitted optional input */
  int n_outputs;
  int *outputs; /* value indices; -1 = omitted optional output */
  int n_attrs;
  pare_attr *attrs;
} pare_node;

/* Attribute lookup. The getters return the default when absent. */
const pare_attr *pare_node_attr(const pare_node *n, const char *name);
int64_t pare_attr_int(const pare_node *n, const char *name, int64_t def);
float pare_attr_float(const pare_node *n, const char *name, float def);
const char *pare_attr_string(const pare_node *n, const char *name, const char *def);
/* INTS: returns element count (or -1 if absent) and sets *out to the array. */
int64_t pare_attr_ints(const pare_node *n, const char *name, const int64_t **out);
int64_t pare_attr_floats(const pare_node *n, const char *name, const float **out);

/* Setters replace an existing attribute of the same name. */
int pare_node_set_int(pare_node *n, const char *name, int64_t v, pare_err *err);
int pare_node_set_float(pare_node *n, const char *name, float v, pare_err *err);
int pare_node_set_string(pare_node *n, const char *name, const char *v, pare_err *err);
int pare_node_set_ints(pare_node *n, const char *name, const int64_t *v, int64_t count,
                       pare_err *err);
int pare_node_set_floats(pare_node *n, const char *name, const float *v, int64_t count,
                         pare_err *err);
/* Takes ownership of t. */
int pare_node_set_tensor(pare_node *n, const char *name, pare_tensor *t, pare_err *err);
void pare_node_remove_attr(pare_node *n, const char *name);
void pare_attr_clear(pare_attr *a);

/* ---------------------------------------------------------------- graph */

typedef struct pare_graph {
  char *name;
  int64_t opset; /* ai.onnx opset the model declared (after normalization: informative) */
  int n_values, cap_values;
  pare_value **values;
  int n_nodes, cap_nodes;
  pare_node **nodes;
  int n_inputs;
  int *inputs; /* value indices of graph inputs (initializers excluded) */
  int n_outputs;
  int *outputs;
} pare_graph;

pare_graph *pare_graph_new(const char *name);
void pare_graph_free(pare_graph *g);

/* Adds a value; returns its index or PARE_ERR. The name must be unique
 * (pare_graph_find_value); pass NULL to get a fresh name "%tN". */
int pare_graph_add_value(pare_graph *g, const char *name, pare_dtype dt, const pare_shape *shape,
                         pare_err *err);
/* Adds a constant value holding t (ownership taken). Returns index or PARE_ERR. */
int pare_graph_add_const(pare_graph *g, const char *name, pare_tensor *t, pare_err *err);
int pare_graph_find_value(const pare_graph *g, const char *name); /* -1 if absent */
/* Appends a node; input/output arrays are copied. Sets producer of outputs.
 * Returns node index or PARE_ERR. */
int pare_graph_add_node(pare_graph *g, const char *op, const char *name, const int *inputs,
                        int n_inputs, const int *outputs, int n_outputs, pare_err *err);
int pare_graph_add_input(pare_graph *g, int value, pare_err *err);
int pare_graph_add_output(pare_graph *g, int value, pare_err *err);

/* Mark node i dead (op set to NULL); pare_graph_compact then drops dead nodes
 * and values no longer referenced by any node or graph input/output,
 * renumbering indices. */
void pare_graph_kill_node(pare_graph *g, int node);
int pare_graph_compact(pare_graph *g, pare_err *err);
/* Reorders nodes topologically; PARE_ERR naming a node on a cycle. Recomputes producers. */
int pare_graph_toposort(pare_graph *g, pare_err *err);
/* Recomputes value->producer from nodes. */
void pare_graph_update_producers(pare_graph *g);
/* Number of nodes reading value v, counting graph outputs as readers. */
int pare_graph_use_count(const pare_graph *g, int v);
/* Replace every use of value `from` by `to` (node inputs and graph outputs). */
void pare_graph_replace_uses(pare_graph *g, int from, int to);

/* Structural checks: indices in range, each value produced at most once,
 * every node input defined before use (graph input, constant or earlier
 * node output), graph outputs defined, names unique, constant tensors
 * consistent with the value's dtype/shape. */
int pare_graph_verify(const pare_graph *g, pare_err *err);

/* Writes len bytes to path atomically: a temporary file in the same folder
 * (pare_temp_path_for: "DIR/.BASE.XXXXXX", a mkstemp template the caller
 * frees) is renamed over path once complete; on error nothing is left. */
int pare_write_file_atomic(const char *path, const void *buf, size_t len, pare_err *err);
/* Writes len bytes to path directly (mode 0644): for a path that is itself
 * temporary, such as a staged output about to be renamed into place. */
int pare_write_file(const char *path, const void *buf, size_t len, pare_err *err);
char *pare_temp_path_for(const char *path);

/* String helpers (abort-free: return NULL on OOM). */
char *pare_strdup(const char *s);

#endif /* PARE_IR_H */
