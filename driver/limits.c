/*
 * limits.c - --max-memory: parses the cap and hands it to the IR's allocator
 * (ir/ir.h, pare_set_max_memory), which every tensor goes through.
 */
#include "driver/limits.h"

#include "driver/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char cli_limit_usage[] =
    "memory:\n"
    "  --max-memory BYTES     refuse (exit 1) a model, input or intermediate that would\n"
    "                         take the tensor data pare holds at once over BYTES\n"
    "                         (K, M, G, T suffixes: powers of 1024; default 8G);\n"
    "                         declared weight sizes and file sizes are checked before\n"
    "                         anything is allocated\n";

int cli_parse_bytes(const char *s, size_t *out) {
  if (!isdigit((unsigned char)s[0])) return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s) return -1;
  unsigned shift = 0;
  switch (toupper((unsigned char)*end)) {
  case 0:
    break;
  case 'K':
    shift = 10;
    break;
  case 'M':
    shift = 20;
    break;
  case 'G':
    shift = 30;
    break;
  case 'T':
    shift = 40;
    break;
  default:
    return -1;
  }
  if (*end && end[1]) return -1;
  if (v == 0 || v > (SIZE_MAX >> shift)) return -1;
  *out = (size_t)v << shift;
  return 0;
}

int cli_parse_limit_flag(int argc, char **argv, int *i) {
  const char *a = argv[*i], *v;
  static const char flag[] = "--max-memory";
  size_t n = sizeof flag - 1;
  if (strncmp(a, flag, n) != 0) return 0;
  if (a[n] == '=')
    v = a + n + 1;
  else if (a[n] == 0 && *i + 1 < argc)
    v = argv[++*i];
  else if (a[n] == 0) {
    cli_error("--max-memory: missing value");
    return -1;
  } else
    return 0;
  size_t bytes;
  if (cli_parse_bytes(v, &bytes)) {
    cli_error("--max-memory '%s': expected a positive byte count, optionally with K, M, G or T", v);
    return -1;
  }
  pare_set_max_memory(bytes);
  return 1;
}
