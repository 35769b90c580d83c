/*
 * runtime.c - see pare_runtime.h.
 */
#include "pare_runtime.h"

#include <stdlib.h>

#ifndef PARE_VERSION
#define PARE_VERSION "unknown"
#endif

void *pare_rt_workspace_alloc(size_t bytes) {
  size_t a = PARE_RT_WORKSPACE_ALIGNMENT;
  size_t rounded = (bytes + a - 1) / a * a;
  if (rounded < bytes) return NULL; /* overflow */
  return aligned_alloc(a, rounded ? rounded : a);
}

void pare_rt_workspace_free(void *workspace) {
  free(workspace);
}

const char *pare_rt_status_string(int status) {
  switch (status) {
  case 0:
    return "success";
  case 1:
    return "workspace is NULL";
  case 2:
    return "an input or output pointer (or array) is NULL";
  default:
    return "unknown status";
  }
}

const char *pare_rt_version(void) {
  return PARE_VERSION;
}
