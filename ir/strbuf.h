/*
 * strbuf.h - a growing text buffer written with printf (the C header of a
 * compiled model, the HTML report): no error per call; a failed allocation
 * sets `oom`, later writes do nothing, and the caller checks it once.
 */
#ifndef PARE_IR_STRBUF_H
#define PARE_IR_STRBUF_H

#include <stddef.h>

/* Zero-initialize; s is NUL-terminated once anything was written; the
 * caller frees s. */
typedef struct pare_strbuf {
  char *s;
  size_t len, cap;
  int oom;
} pare_strbuf;

void pare_strbuf_printf(pare_strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif /* PARE_IR_STRBUF_H */
