/*
 * pare_runtime.h - the small C runtime that goes with code pare generates.
 *
 * Generated code itself needs only libc's memcpy/memset and a few libm
 * functions (tanhf, erff, powf, ... for the ops that use them): it keeps no
 * state and allocates nothing. This library adds what callers commonly
 * want around it: a correctly aligned workspace allocation and a message for
 * a status code. It depends on libc only.
 */
#ifndef PARE_RUNTIME_H
#define PARE_RUNTIME_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PARE_RT_WORKSPACE_ALIGNMENT 64

/* A workspace of at least `bytes` bytes (a NAME_workspace_size() value),
 * 64-byte aligned; NULL if out of memory. `bytes` may be 0. */
void *pare_rt_workspace_alloc(size_t bytes);
void pare_rt_workspace_free(void *workspace);

/* A short message for a status NAME_run returned. */
const char *pare_rt_status_string(int status);

/* The runtime's version, "MAJOR.MINOR.PATCH". */
const char *pare_rt_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PARE_RUNTIME_H */
