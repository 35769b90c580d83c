/*
 * plan.h - static memory planning for generated code.
 *
 * The backend emits code in which every intermediate tensor lives at a fixed
 * offset inside one workspace the caller provides. pare_plan_memory decides
 * those offsets for a graph whose shapes are all static.
 *
 * Where each value lives (pare_mem_kind):
 *   INPUT         graph input: a caller buffer, not in the workspace.
 *   OUTPUT        produced by a node and listed as a graph output: a caller
 *                 buffer (the caller reads it after the graph ran).
 *   CONSTANT      has constant data: read-only data emitted with the code.
 *   INTERMEDIATE  produced by a node, none of the above: a workspace slot.
 *   ALIAS         output of a view op (Reshape, Flatten, Squeeze, Unsqueeze,
 *                 Identity) whose data input is in the workspace: the same
 *                 bytes at the same offset, no copy. `shares` names the input.
 *   NONE          defined by nothing and read by nothing that needs memory
 *                 (a declared-only value, an omitted slot, or the output of a
 *                 dead node: op NULL, e.g. a node the backend fused away).
 * A graph input that is also a graph output stays INPUT; a constant listed as
 * output stays CONSTANT (the backend copies it out).
 *
 * Lifetimes are node indices in graph order: a value is live from `first`
 * (its producing node; -1 for inputs and constants) through `last` (its last
 * reading node; n_nodes when it is a graph output; `first` when nothing reads
 * it, since its producer still writes it). An alias extends the lifetime of
 * the value it views: the viewed value's `last` covers every reader of its
 * aliases.
 *
 * In-place reuse: the output of an op in opts->inplace_ops (elementwise
 * unary/binary ops) may take the slot of one of its workspace inputs when
 * that input (with all values sharing its slot) is last read by this node and
 * has exactly the same byte size and element size. Such an output is an
 * INTERMEDIATE with `shares` set to that input; its `first` equals the
 * input's `last`.
 *
 * Placement: values that share a slot (through aliases and in-place reuse)
 * form one buffer live over the union of their lifetimes. Buffers are placed
 * greedily by size, largest first, each at the lowest aligned offset that
 * overlaps in memory no already placed buffer live at the same time (the
 * TFLite arena "greedy by size" strategy, first fit). Ties in size go to the
 * buffer that starts first, then to the lower value index, so plans are
 * deterministic.
 */
#ifndef PARE_BACKEND_PLAN_H
#define PARE_BACKEND_PLAN_H

#include <stdint.h>

#include "ir/ir.h"

#define PARE_PLAN_DEFAULT_ALIGNMENT 64

typedef enum pare_mem_kind {
  PARE_MEM_NONE = 0,
  PARE_MEM_INTERMEDIATE = 1,
  PARE_MEM_INPUT = 2,
  PARE_MEM_OUTPUT = 3,
  PARE_MEM_CONSTANT = 4,
  PARE_MEM_ALIAS = 5,
} pare_mem_kind;

const char *pare_mem_kind_name(pare_mem_kind k); /* "intermediate", "alias", ... */

/* NULL-terminated lists of ai.onnx op names: the defaults for the options. */
extern const char *const pare_plan_default_inplace_ops[];
extern const char *const pare_plan_default_alias_ops[];

typedef struct pare_plan_opts {
  /* Offset alignment in bytes, a power of two; 0 = PARE_PLAN_DEFAULT_ALIGNMENT. */
  int64_t alignment;
  /* NULL-terminated op names whose output may reuse an input's slot; NULL =
   * pare_plan_default_inplace_ops. A list holding only NULL disables reuse. */
  const char *const *inplace_ops;
  /* NULL-terminated view op names whose output aliases input 0; NULL =
   * pare_plan_default_alias_ops. A list holding only NULL disables aliasing. */
  const char *const *alias_ops;
} pare_plan_opts;

typedef struct pare_plan_value {
  pare_mem_kind kind;
  int64_t offset; /* workspace offset for INTERMEDIATE and ALIAS, else -1 */
  int64_t bytes;  /* element count * element size (0 for NONE) */
  int first;      /* see "Lifetimes" above */
  int last;
  int shares; /* value whose slot this one reuses (ALIAS or in-place), else -1 */
} pare_plan_value;

/* Owned by the caller; release with pare_plan_free. values has one entry per
 * graph value, indexed like graph->values. */
typedef struct pare_plan {
  int n_values;
  pare_plan_value *values;
  int64_t alignment;
  /* Workspace size: the end of the highest buffer, rounded up to alignment. */
  int64_t workspace_bytes;
  /* What one buffer per value would take: the sum of `bytes` over every
   * INTERMEDIATE and ALIAS value (unaligned). For --stats. */
  int64_t naive_bytes;
} pare_plan;

/* Plans g (not modified) into *out, which the caller later passes to
 * pare_plan_free (also after an error: *out is then empty). opts may be NULL
 * for the defaults. PARE_ERR naming the value when a value that needs memory
 * has a non-static shape or an unsupported dtype. */
int pare_plan_memory(const pare_graph *g, const pare_plan_opts *opts, pare_plan *out,
                     pare_err *err);

/* Frees p's arrays and empties it; p itself is the caller's. NULL ok. */
void pare_plan_free(pare_plan *p);

/* Checks p against g independently of how it was made: kinds match the
 * graph, byte sizes match the shapes, lifetimes cover every use recomputed
 * from the graph, workspace offsets are aligned and inside the workspace, and
 * no two values live at the same node overlap in memory, except values holding
 * the same data through alias chains and an in-place output with the input
 * it overwrites (their lifetimes may meet only at the overwriting node).
 * PARE_ERR naming the values otherwise. */
int pare_plan_check(const pare_graph *g, const pare_plan *p, pare_err *err);

#endif /* PARE_BACKEND_PLAN_H */
