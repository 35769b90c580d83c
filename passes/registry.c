/*
 * registry.c - the pass families, in the order `pare passes` lists them.
 */
#include "passes/passes.h"

#include <stddef.h>

static const pare_pass_info *const families[] = {
    pare_passes_canonicalize, pare_passes_manager,    pare_passes_prune,
    pare_passes_lowrank,      pare_passes_structured, pare_passes_slice,
    pare_passes_w8a8,         pare_passes_cluster,    pare_passes_quantize};

const pare_pass_info *pare_pass_at(int i) {
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
    for (const pare_pass_info *p = families[f]; p->name; p++)
      if (i-- == 0) return p;
  return NULL;
}
