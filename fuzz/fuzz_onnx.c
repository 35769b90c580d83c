/*
 * fuzz_onnx.c - libFuzzer target: ONNX ModelProto bytes through the frontend.
 *
 * pare_onnx_load_buffer on the input; when it loads, every unknown dim of a
 * graph input is bound to a small size (1, or 2 for the dims after the
 * first), then shape inference and constant folding run with a small cap on
 * folded tensors, the way `pare run` makes a graph static. Any error is a
 * clean rejection; only a sanitizer report, a crash, a leak or a hang is a
 * finding.
 */
#include "frontend/onnx.h"
#include "ops/ops.h"

#include <stddef.h>
#include <stdint.h>

enum { FOLD_CAP = 1 << 20 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bind_small(pare_graph *g) {
  pare_err err;
  for (int i = 0; i < g->n_inputs; i++) {
    const pare_value *v = g->values[g->inputs[i]];
    if (v->shape.rank < 0 || v->shape.rank > PARE_MAX_RANK || pare_shape_is_static(&v->shape))
      continue;
    pare_shape s = v->shape;
    for (int d = 0; d < s.rank; d++)
      if (s.dims[d] < 0) s.dims[d] = d == 0 ? 1 : 2;
    /* A dim_param shared with another input may refuse; that is fine. */
    (void)pare_bind_input_shape(g, v->name, &s, &err);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int configured;
  if (!configured) {
    /* Keep single allocations well under libFuzzer's -rss_limit_mb. */
    pare_max_tensor_bytes = (size_t)64 << 20;
    configured = 1;
  }
  pare_err err;
  pare_graph *g = pare_onnx_load_buffer(data, size, "fuzz.onnx", &err);
  if (!g) return 0;
  bind_small(g);
  if (pare_infer_shapes(g, &err) == PARE_OK) (void)pare_fold_constants(g, FOLD_CAP, NULL, &err);
  pare_graph_free(g);
  return 0;
}
