/*
 * fuzz_onnx.c - libFuzzer target: ONNX ModelProto bytes through the frontend.
 *
 * pare_onnx_load_buffer on the input; when it loads, the graph must pass
 * pare_graph_verify and (for inputs up to 64 KB) its textual IR must
 * round-trip: print -> parse -> print identical, the promise of ir/text.h,
 * here for graphs built by the frontend rather than by the parser. Then every
 * unknown dim of a graph input is bound to a small size (1, or 2 for the dims
 * after the first), and shape inference and constant folding run with a
 * small cap on folded tensors, the way `pare run` makes a graph static. Any
 * error is a clean rejection; a sanitizer report, a crash, a leak, a hang, or
 * a graph failing the checks (abort) is a finding.
 */
#include "frontend/onnx.h"
#include "fuzz/round_trip.h"
#include "ir/text.h"
#include "ops/ops.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  FOLD_CAP = 1 << 20,
  /* Round-trip only inputs up to this size: printing and parsing every
   * weight of the real-model seeds in full would cut the rate tenfold. */
  TEXT_CHECK_MAX = 64 << 10,
};

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

/* A loaded graph is valid IR and its text form reads back to the same text. */
static void check_graph(const pare_graph *g) {
  pare_err err;
  if (pare_graph_verify(g, &err) != PARE_OK) {
    fprintf(stderr, "the frontend built a graph that fails pare_graph_verify: %s\n", err.msg);
    abort();
  }
  char *first = pare_graph_to_text(g, NULL, &err);
  if (!first) return; /* out of memory */
  fuzz_check_round_trip(first, NULL);
  free(first);
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
  if (size <= TEXT_CHECK_MAX) check_graph(g);
  bind_small(g);
  if (pare_infer_shapes(g, &err) == PARE_OK) (void)pare_fold_constants(g, FOLD_CAP, NULL, &err);
  pare_graph_free(g);
  return 0;
}
