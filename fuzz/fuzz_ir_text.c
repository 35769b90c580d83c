/*
 * fuzz_ir_text.c - libFuzzer target: the textual IR parser, and the promise
 * of ir/text.h that print -> parse -> print is byte-identical.
 *
 * The input (made NUL-terminated) is parsed with elided data allowed; when it
 * parses, the graph is printed in full, that text parsed again and printed
 * again. A second parse that fails or a second print that differs from the
 * first aborts: that is a finding, like a sanitizer report. The JSON export
 * of the parsed graph runs too.
 */
#include "fuzz/round_trip.h"
#include "ir/text.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int configured;
  if (!configured) {
    pare_max_tensor_bytes = (size_t)64 << 20;
    configured = 1;
  }
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  pare_err err;
  const pare_parse_opts opts = {.allow_elided = 1};
  pare_graph *g = pare_graph_parse(text, "fuzz.pir", &opts, &err);
  free(text);
  if (!g) return 0;

  char *json = pare_graph_to_json(g, &err);
  free(json);
  char *first = pare_graph_to_text(g, NULL, &err);
  pare_graph_free(g);
  if (!first) return 0; /* out of memory */
  fuzz_check_round_trip(first, &opts);
  free(first);
  return 0;
}
