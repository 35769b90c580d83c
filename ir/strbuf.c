/*
 * strbuf.c - see strbuf.h.
 */
#include "ir/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void pare_strbuf_printf(pare_strbuf *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->oom = 1;
      return;
    }
    if (b->s && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = (b->cap + (size_t)n + 1) * 2;
    char *grown = realloc(b->s, cap);
    if (!grown) {
      b->oom = 1;
      return;
    }
    b->s = grown;
    b->cap = cap;
  }
}
