/*
 * limits.h - --max-memory, the memory cap shared by run, inspect and compile.
 */
#ifndef PARE_DRIVER_LIMITS_H
#define PARE_DRIVER_LIMITS_H

#include <stddef.h>

extern const char cli_limit_usage[];
/* "BYTES" with an optional K, M, G or T suffix (powers of 1024). 0 if valid. */
int cli_parse_bytes(const char *s, size_t *out);
/* If argv[*i] is --max-memory, consumes it and its value, sets the cap and
 * returns 1; 0 if it is not; -1 after printing a usage error. */
int cli_parse_limit_flag(int argc, char **argv, int *i);

#endif
