/*
 * round_trip.h - the check the fuzz targets share: printed IR text parses
 * back to a graph that prints the same text. A difference aborts (a
 * finding); running out of memory is not one.
 */
#ifndef PARE_FUZZ_ROUND_TRIP_H
#define PARE_FUZZ_ROUND_TRIP_H

#include "ir/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* first: pare_graph_to_text of some graph (not freed here). */
static inline void fuzz_check_round_trip(const char *first, const pare_parse_opts *opts) {
  pare_err err;
  pare_graph *again = pare_graph_parse(first, "printed.pir", opts, &err);
  if (!again) {
    fprintf(stderr, "printed text does not parse back: %s\n--- printed:\n%s\n", err.msg, first);
    abort();
  }
  char *second = pare_graph_to_text(again, NULL, &err);
  pare_graph_free(again);
  if (second && strcmp(first, second) != 0) {
    fprintf(stderr, "print -> parse -> print differs\n--- first:\n%s\n--- second:\n%s\n", first,
            second);
    abort();
  }
  free(second);
}

#endif
