/*
 * calib.h - calibration data for the passes (`--calib DIR`): the
 * test_data_set_K folders of DIR (the layout `pare run` reads), run through
 * the generated code (the JIT) so that statistics over many samples cost
 * little; through the interpreter when the backend cannot compile the graph.
 */
#ifndef PARE_DRIVER_CALIB_H
#define PARE_DRIVER_CALIB_H

#include "passes/passes.h"

typedef struct calib_data {
  pare_calib base; /* what the passes see */
  char *dir;
  int n_sets;
  int *sets;    /* K of each test_data_set_K used, ascending */
  int progress; /* report progress on stderr (it is a terminal) */
} calib_data;

/* Finds the sets in dir; `range` ("K", "A-B", inclusive, or NULL for all)
 * keeps those whose K is in it. Errors name the folder. */
int calib_open(calib_data *c, const char *dir, const char *range, pare_err *err);
void calib_close(calib_data *c);

#endif
