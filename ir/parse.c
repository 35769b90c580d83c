/*
 * parse.c - reads the textual IR of ir/text.h back into a pare_graph.
 *
 * A hand-written recursive-descent parser working on characters: every
 * accept_* / expect_* helper first skips whitespace and comments, so the
 * cursor always sits at the start of the next token. Errors carry the
 * position as "label:LINE:COL: ..." (columns count bytes, from 1).
 *
 * Ownership while parsing: pieces (names, tensors, encodings, attributes)
 * are owned by the function that built them until they are attached to the
 * graph; every error path frees what it still owns. The graph itself is
 * freed by pare_graph_parse on any error.
 */
#include "ir/text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENCODING_DEPTH 4

typedef struct parser {
  const char *src; /* the whole text */
  const char *p;   /* cursor */
  const char *label;
  int allow_elided;
  pare_err *err;
  pare_graph *g;
} parser;

/* ----------------------------------------------------------------- errors */

/* Describes the token at `at` for "found ..." in messages. */
static void describe(const char *at, char *buf, size_t len) {
  if (!*at) {
    snprintf(buf, len, "end of input");
    return;
  }
  size_t n = 0;
  while (at[n] && n < 24 && !isspace((unsigned char)at[n]) && !strchr(",()<>{}[]=", at[n])) n++;
  if (n == 0) n = 1;
  snprintf(buf, len, "'%.*s'", (int)n, at);
}

static int fail_at(parser *P, const char *at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail_at(parser *P, const char *at, const char *fmt, ...) {
  int line = 1, col = 1;
  for (const char *c = P->src; c < at && *c; c++) {
    if (*c == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  char msg[PARE_ERR_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return pare_errf(P->err, "%s:%d:%d: %s", P->label, line, col, msg);
}

static int oom(parser *P) {
  return fail_at(P, P->p, "out of memory");
}

/* ------------------------------------------------------------------ lexing */

static void skip_ws(parser *P) {
  for (;;) {
    while (isspace((unsigned char)*P->p)) P->p++;
    if (*P->p != '#') return;
    while (*P->p && *P->p != '\n') P->p++;
  }
}

static int expected(parser *P, const char *what) {
  skip_ws(P);
  char found[48];
  describe(P->p, found, sizeof found);
  return fail_at(P, P->p, "expected %s, found %s", what, found);
}

static int accept(parser *P, char c) {
  skip_ws(P);
  if (*P->p != c) return 0;
  P->p++;
  return 1;
}

static int expect(parser *P, char c) {
  if (accept(P, c)) return PARE_OK;
  char what[8] = {'\'', c, '\'', 0};
  return expected(P, what);
}

static int is_ident_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(unsigned char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static int is_value_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '-';
}

/* Length of the identifier at p ([A-Za-z_][A-Za-z0-9_.]*), 0 if none. */
static size_t ident_len(const char *p) {
  if (!is_ident_start((unsigned char)*p)) return 0;
  size_t n = 1;
  while (is_ident_char((unsigned char)p[n])) n++;
  return n;
}

/* Is the next token exactly the keyword kw? (does not consume) */
static int at_kw(parser *P, const char *kw) {
  skip_ws(P);
  size_t n = ident_len(P->p);
  return n == strlen(kw) && memcmp(P->p, kw, n) == 0;
}

static int accept_kw(parser *P, const char *kw) {
  if (!at_kw(P, kw)) return 0;
  P->p += strlen(kw);
  return 1;
}

static int expect_kw(parser *P, const char *kw) {
  if (accept_kw(P, kw)) return PARE_OK;
  char what[64];
  snprintf(what, sizeof what, "'%s'", kw);
  return expected(P, what);
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads a "..." string at the cursor (which must be at the quote) into a
 * malloc'd C string. */
static char *read_string(parser *P) {
  const char *start = P->p;
  const char *s = P->p + 1;
  size_t cap = 16, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    oom(P);
    return NULL;
  }
  for (;;) {
    char c = *s;
    if (c == 0 || c == '\n') {
      free(buf);
      fail_at(P, start, "unterminated string");
      return NULL;
    }
    s++;
    if (c == '"') break;
    if (c == '\\') {
      const char *esc = s - 1;
      switch (*s++) {
      case '"':
        c = '"';
        break;
      case '\\':
        c = '\\';
        break;
      case 'n':
        c = '\n';
        break;
      case 't':
        c = '\t';
        break;
      case 'r':
        c = '\r';
        break;
      case 'x': {
        int hi = hex_digit(s[0]), lo = hi >= 0 ? hex_digit(s[1]) : -1;
        if (hi < 0 || lo < 0 || (hi | lo) == 0) {
          free(buf);
          fail_at(P, esc, "bad escape: \\x needs two hex digits, not 00");
          return NULL;
        }
        c = (char)(hi * 16 + lo);
        s += 2;
        break;
      }
      default:
        free(buf);
        fail_at(P, esc, "unknown escape '\\%c' in string", s[-1] ? s[-1] : ' ');
        return NULL;
      }
    }
    if (n + 2 > cap) {
      cap *= 2;
      char *grown = realloc(buf, cap);
      if (!grown) {
        free(buf);
        oom(P);
        return NULL;
      }
      buf = grown;
    }
    buf[n++] = c;
  }
  buf[n] = 0;
  P->p = s;
  return buf;
}

static char *copy_span(parser *P, const char *s, size_t n) {
  char *out = malloc(n + 1);
  if (!out) {
    oom(P);
    return NULL;
  }
  memcpy(out, s, n);
  out[n] = 0;
  return out;
}

/* An identifier or a quoted string (op, domain, attribute, dim-param names). */
static char *read_ident(parser *P, const char *what) {
  skip_ws(P);
  if (*P->p == '"') return read_string(P);
  size_t n = ident_len(P->p);
  if (n == 0) {
    expected(P, what);
    return NULL;
  }
  char *s = copy_span(P, P->p, n);
  if (s) P->p += n;
  return s;
}

/* A value/node/graph name right after '%' or '@' (no space allowed between). */
static char *read_name(parser *P, const char *what) {
  if (*P->p == '"') return read_string(P);
  size_t n = 0;
  while (is_value_name_char((unsigned char)P->p[n])) n++;
  while (n > 0 && P->p[n - 1] == ':') n--; /* "%x: f32" means x */
  if (n == 0) {
    expected(P, what);
    return NULL;
  }
  char *s = copy_span(P, P->p, n);
  if (s) P->p += n;
  return s;
}

/* "_" standing alone (omitted input/output). */
static int accept_underscore(parser *P) {
  skip_ws(P);
  if (P->p[0] != '_' || is_ident_char((unsigned char)P->p[1])) return 0;
  P->p++;
  return 1;
}

/* ----------------------------------------------------------------- numbers */

/* End of the number literal at p (p itself if there is none). Accepts
 * [+-] then inf | nan[:0xHEX] | digits[.digits][e[+-]digits]. */
static const char *scan_number(const char *p) {
  const char *s = p;
  if (*s == '+' || *s == '-') s++;
  if (strncmp(s, "inf", 3) == 0) return s + 3;
  if (strncmp(s, "nan", 3) == 0) {
    s += 3;
    if (s[0] == ':' && s[1] == '0' && s[2] == 'x' && hex_digit(s[3]) >= 0) {
      s += 3;
      while (hex_digit(*s) >= 0) s++;
    }
    return s;
  }
  const char *digits = s;
  while (isdigit((unsigned char)*s)) s++;
  int int_digits = s != digits;
  int frac_digits = 0;
  if (*s == '.') {
    const char *f = ++s;
    while (isdigit((unsigned char)*s)) s++;
    frac_digits = s != f;
  }
  if (!int_digits && !frac_digits) return p;
  if (*s == 'e' || *s == 'E') {
    const char *q = s + 1;
    if (*q == '+' || *q == '-') q++;
    if (isdigit((unsigned char)*q)) {
      while (isdigit((unsigned char)*q)) q++;
      s = q;
    }
  }
  return s;
}

static int span_is_float(const char *s, const char *e) {
  for (; s < e; s++)
    if (strchr(".eEin", *s)) return 1;
  return 0;
}

/* The number literal at the cursor: sets [*s, *e) or fails with "expected what". */
static int number_span(parser *P, const char **s, const char **e, const char *what) {
  skip_ws(P);
  const char *end = scan_number(P->p);
  if (end == P->p) return expected(P, what);
  if (is_ident_char((unsigned char)*end)) return fail_at(P, P->p, "malformed number");
  *s = P->p;
  *e = end;
  return PARE_OK;
}

/* Span -> integer. Messages are left to the caller via the return code:
 * 0 ok, 1 not an integer, 2 out of range. */
static int span_i64(const char *s, const char *e, int64_t *out) {
  if (span_is_float(s, e)) return 1;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end != e) return 1;
  if (errno == ERANGE) return 2;
  *out = v;
  return 0;
}

static int span_u64(const char *s, const char *e, uint64_t *out) {
  if (span_is_float(s, e)) return 1;
  if (*s == '-') return 2;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end != e) return 1;
  if (errno == ERANGE) return 2;
  *out = v;
  return 0;
}

/* Parses nan forms; returns 1 if [s,e) is one (bits in *bits), -1 if it is a
 * malformed one, 0 if it is no nan. width in bits: 16, 32 or 64. */
static int span_nan(const char *s, const char *e, int width, uint64_t *bits) {
  int neg = *s == '-';
  const char *t = (*s == '-' || *s == '+') ? s + 1 : s;
  if (strncmp(t, "nan", 3) != 0) return 0;
  uint64_t sign = (uint64_t)1 << (width - 1);
  uint64_t quiet = width == 16 ? 0x7e00 : width == 32 ? 0x7fc00000u : 0x7ff8000000000000ull;
  if (t + 3 == e) {
    *bits = quiet | (neg ? sign : 0);
    return 1;
  }
  if (t != s) return -1; /* a sign before nan:0x... */
  uint64_t v = 0;
  int digits = 0;
  for (const char *h = t + 6; h < e; h++, digits++) v = v << 4 | (uint64_t)hex_digit(*h);
  uint64_t exp_mask = width == 16 ? 0x7c00 : width == 32 ? 0x7f800000u : 0x7ff0000000000000ull;
  uint64_t man_mask = width == 16 ? 0x3ff : width == 32 ? 0x7fffffu : 0xfffffffffffffull;
  if (digits == 0 || digits > width / 4 || (v & exp_mask) != exp_mask || !(v & man_mask)) return -1;
  *bits = v;
  return 1;
}

/* 0 ok, 1 malformed, 2 out of range. */
static int span_f32(const char *s, const char *e, float *out) {
  uint64_t bits;
  int nan = span_nan(s, e, 32, &bits);
  if (nan < 0) return 1;
  if (nan > 0) {
    uint32_t b = (uint32_t)bits;
    memcpy(out, &b, sizeof b);
    return 0;
  }
  char *end;
  float v = strtof(s, &end); /* ERANGE on underflow is fine: subnormals are exact */
  if (end != e) return 1;
  const char *t = (*s == '-' || *s == '+') ? s + 1 : s;
  if (isinf(v) && strncmp(t, "inf", 3) != 0) return 2;
  *out = v;
  return 0;
}

static int span_f64(const char *s, const char *e, double *out) {
  uint64_t bits;
  int nan = span_nan(s, e, 64, &bits);
  if (nan < 0) return 1;
  if (nan > 0) {
    memcpy(out, &bits, sizeof bits);
    return 0;
  }
  char *end;
  double v = strtod(s, &end);
  if (end != e) return 1;
  const char *t = (*s == '-' || *s == '+') ? s + 1 : s;
  if (isinf(v) && strncmp(t, "inf", 3) != 0) return 2;
  *out = v;
  return 0;
}

static int span_f16(const char *s, const char *e, uint16_t *out) {
  uint64_t bits;
  int nan = span_nan(s, e, 16, &bits);
  if (nan < 0) return 1;
  if (nan > 0) {
    *out = (uint16_t)bits;
    return 0;
  }
  float f;
  int rc = span_f32(s, e, &f);
  if (rc) return rc;
  uint16_t h = pare_f32_to_f16(f);
  if ((h & 0x7fff) == 0x7c00 && !isinf(f)) return 2;
  *out = h;
  return 0;
}

/* An integer at the cursor. */
static int parse_int(parser *P, int64_t *out, const char *what) {
  const char *s, *e;
  if (number_span(P, &s, &e, what)) return PARE_ERR;
  int rc = span_i64(s, e, out);
  if (rc == 1) return fail_at(P, s, "expected %s, found '%.*s'", what, (int)(e - s), s);
  if (rc == 2) return fail_at(P, s, "integer '%.*s' is out of range", (int)(e - s), s);
  P->p = e;
  return PARE_OK;
}

static int parse_int_in(parser *P, int64_t lo, int64_t hi, int *out, const char *what) {
  const char *at = (skip_ws(P), P->p);
  int64_t v;
  if (parse_int(P, &v, what)) return PARE_ERR;
  if (v < lo || v > hi)
    return fail_at(P, at, "%s must be in [%lld, %lld]", what, (long long)lo, (long long)hi);
  *out = (int)v;
  return PARE_OK;
}

/* One tensor element of dtype dt at the cursor, written to dst. */
static int parse_elem(parser *P, pare_dtype dt, void *dst) {
  skip_ws(P);
  if (dt == PARE_BOOL) {
    if (accept_kw(P, "true")) {
      *(uint8_t *)dst = 1;
      return PARE_OK;
    }
    if (accept_kw(P, "false")) {
      *(uint8_t *)dst = 0;
      return PARE_OK;
    }
  }
  const char *s, *e;
  if (number_span(P, &s, &e, "a number")) return PARE_ERR;
  int rc = 0;
  const char *dtn = pare_dtype_name(dt);
  switch (dt) {
  case PARE_F32: {
    float v;
    rc = span_f32(s, e, &v);
    if (!rc) memcpy(dst, &v, sizeof v);
    break;
  }
  case PARE_F64: {
    double v;
    rc = span_f64(s, e, &v);
    if (!rc) memcpy(dst, &v, sizeof v);
    break;
  }
  case PARE_F16: {
    uint16_t v;
    rc = span_f16(s, e, &v);
    if (!rc) memcpy(dst, &v, sizeof v);
    break;
  }
  case PARE_U64: {
    uint64_t v;
    rc = span_u64(s, e, &v);
    if (!rc) memcpy(dst, &v, sizeof v);
    break;
  }
  default: {
    int64_t v, lo = 0, hi = 0;
    switch (dt) {
    case PARE_I8:
      lo = INT8_MIN, hi = INT8_MAX;
      break;
    case PARE_U8:
    case PARE_BOOL:
      lo = 0, hi = UINT8_MAX;
      break;
    case PARE_I16:
      lo = INT16_MIN, hi = INT16_MAX;
      break;
    case PARE_U16:
      lo = 0, hi = UINT16_MAX;
      break;
    case PARE_I32:
      lo = INT32_MIN, hi = INT32_MAX;
      break;
    case PARE_U32:
      lo = 0, hi = UINT32_MAX;
      break;
    case PARE_I64:
      lo = INT64_MIN, hi = INT64_MAX;
      break;
    default:
      return fail_at(P, s, "%s tensors cannot hold data", dtn);
    }
    rc = span_i64(s, e, &v);
    if (!rc && (v < lo || v > hi)) rc = 2;
    if (rc) break;
    switch (dt) {
    case PARE_I8:
      *(int8_t *)dst = (int8_t)v;
      break;
    case PARE_U8:
    case PARE_BOOL:
      *(uint8_t *)dst = (uint8_t)v;
      break;
    case PARE_I16: {
      int16_t x = (int16_t)v;
      memcpy(dst, &x, sizeof x);
      break;
    }
    case PARE_U16: {
      uint16_t x = (uint16_t)v;
      memcpy(dst, &x, sizeof x);
      break;
    }
    case PARE_I32: {
      int32_t x = (int32_t)v;
      memcpy(dst, &x, sizeof x);
      break;
    }
    case PARE_U32: {
      uint32_t x = (uint32_t)v;
      memcpy(dst, &x, sizeof x);
      break;
    }
    default:
      memcpy(dst, &v, sizeof v);
      break;
    }
  }
  }
  if (rc == 1)
    return fail_at(P, s, "'%.*s' is not a valid %s %s", (int)(e - s), s, dtn,
                   pare_dtype_is_float(dt) ? "number" : "integer");
  if (rc == 2) return fail_at(P, s, "'%.*s' is out of range for %s", (int)(e - s), s, dtn);
  P->p = e;
  return PARE_OK;
}

/* ------------------------------------------------------------ types, data */

static void free_params(char **params) {
  for (int i = 0; i < PARE_MAX_RANK; i++) {
    free(params[i]);
    params[i] = NULL;
  }
}

/* DTYPE "[" dims "]". params (PARE_MAX_RANK slots, NULL-initialized) receives
 * symbolic names; pass NULL where only static tensor types are allowed. */
static int parse_type(parser *P, pare_dtype *dt, pare_shape *shape, char **params) {
  skip_ws(P);
  const char *at = P->p;
  size_t n = ident_len(P->p);
  char word[16];
  if (n == 0) return expected(P, "a dtype (f32, i64, ...)");
  if (n >= sizeof word) return fail_at(P, at, "unknown dtype '%.*s'", (int)n, at);
  memcpy(word, at, n);
  word[n] = 0;
  *dt = strcmp(word, "undef") == 0 ? PARE_UNDEFINED : pare_dtype_from_name(word);
  if (*dt == PARE_UNDEFINED && strcmp(word, "undef") != 0)
    return fail_at(P, at, "unknown dtype '%s'", word);
  P->p += n;
  if (expect(P, '[')) return PARE_ERR;
  *shape = pare_shape_make(0, NULL);
  if (accept(P, '*')) {
    if (!params) return fail_at(P, P->p - 1, "a tensor needs a known rank");
    *shape = pare_shape_unknown();
    return expect(P, ']');
  }
  if (accept(P, ']')) return PARE_OK;
  for (;;) {
    skip_ws(P);
    const char *dim_at = P->p;
    if (shape->rank == PARE_MAX_RANK)
      return fail_at(P, dim_at, "more than %d dimensions", PARE_MAX_RANK);
    int64_t d = -1;
    if (accept(P, '?')) {
      d = -1;
    } else if (*P->p == '"' || is_ident_start((unsigned char)*P->p)) {
      if (!params) return fail_at(P, dim_at, "a tensor's dims must be integers");
      char *name = read_ident(P, "a dim name");
      if (!name) return PARE_ERR;
      params[shape->rank] = name;
      if (accept(P, '=') && parse_int(P, &d, "a dim size")) return PARE_ERR;
    } else if (parse_int(P, &d, "a dim (integer, '?' or a name)")) {
      return PARE_ERR;
    }
    if (!params && d < 0) return fail_at(P, dim_at, "a tensor's dims must be known");
    shape->dims[shape->rank++] = d;
    if (accept(P, ']')) return PARE_OK;
    if (expect(P, ',')) return PARE_ERR;
  }
}

static int at_data(parser *P) {
  return at_kw(P, "dense") || at_kw(P, "elided");
}

/* dense<...> | elided<crc32=0x...> into t (allocated, zeroed, of its type). */
static int parse_data(parser *P, pare_tensor *t) {
  skip_ws(P);
  const char *at = P->p;
  if (accept_kw(P, "elided")) {
    if (expect(P, '<') || expect_kw(P, "crc32") || expect(P, '=')) return PARE_ERR;
    skip_ws(P);
    if (P->p[0] != '0' || P->p[1] != 'x' || hex_digit(P->p[2]) < 0)
      return expected(P, "a hex crc32 (0x...)");
    P->p += 2;
    int digits = 0;
    while (hex_digit(*P->p) >= 0) P->p++, digits++;
    if (digits > 8) return fail_at(P, P->p - digits, "crc32 has more than 8 hex digits");
    if (expect(P, '>')) return PARE_ERR;
    if (!P->allow_elided)
      return fail_at(P, at,
                     "constant data was elided when printed; it cannot be read back "
                     "(parse with allow_elided to get zeros)");
    return PARE_OK;
  }
  if (!accept_kw(P, "dense")) return expected(P, "dense<...> or elided<...>");
  if (expect(P, '<')) return PARE_ERR;
  int64_t numel = pare_tensor_numel(t), count = 0;
  size_t es = pare_dtype_size(t->dtype);
  unsigned char *data = t->data;
  if (!accept(P, '>')) {
    for (;;) {
      skip_ws(P);
      if (count >= numel) {
        char sb[128];
        pare_shape_str(&t->shape, sb, sizeof sb);
        return fail_at(P, P->p, "more elements than the %lld of type %s%s", (long long)numel,
                       pare_dtype_name(t->dtype), sb);
      }
      if (parse_elem(P, t->dtype, data + (size_t)count * es)) return PARE_ERR;
      count++;
      if (accept(P, '>')) break;
      if (expect(P, ',')) return PARE_ERR;
    }
  }
  if (count == 1 && numel > 1) { /* splat */
    for (int64_t i = 1; i < numel; i++) memcpy(data + (size_t)i * es, data, es);
  } else if (count != numel) {
    char sb[128];
    pare_shape_str(&t->shape, sb, sizeof sb);
    return fail_at(P, at, "dense data has %lld elements but type %s%s has %lld", (long long)count,
                   pare_dtype_name(t->dtype), sb, (long long)numel);
  }
  return PARE_OK;
}

/* A static tensor type followed by its data; *out owned by the caller. */
static int parse_tensor(parser *P, pare_tensor **out) {
  skip_ws(P);
  const char *at = P->p;
  pare_dtype dt;
  pare_shape shape;
  if (parse_type(P, &dt, &shape, NULL)) return PARE_ERR;
  pare_err aerr;
  pare_tensor *t = pare_tensor_new(dt, &shape, &aerr);
  if (!t) return fail_at(P, at, "%s", aerr.msg);
  if (parse_data(P, t)) {
    pare_tensor_free(t);
    return PARE_ERR;
  }
  *out = t;
  return PARE_OK;
}

/* -------------------------------------------------------------- encodings */

static int parse_encoding(parser *P, pare_encoding **out, int depth);

static int parse_encoding_body(parser *P, pare_encoding *e, int depth) {
  /* <fields> */
  if (expect(P, '<')) return PARE_ERR;
  unsigned seen = 0;
  if (!accept(P, '>')) {
    for (;;) {
      skip_ws(P);
      const char *at = P->p;
      static const char *const names[] = {"bits",       "symmetric", "axis",
                                          "group_size", "nm_n",      "nm_m"};
      size_t n = ident_len(P->p);
      int f = -1;
      for (int k = 0; k < 6; k++)
        if (n == strlen(names[k]) && memcmp(P->p, names[k], n) == 0) f = k;
      if (f < 0)
        return expected(P, "an encoding field (bits, symmetric, axis, group_size, nm_n, nm_m)");
      if (seen & (1u << f)) return fail_at(P, at, "field '%s' given twice", names[f]);
      seen |= 1u << f;
      P->p += n;
      if (expect(P, '=')) return PARE_ERR;
      int rc = PARE_OK;
      switch (f) {
      case 0:
        rc = parse_int_in(P, INT32_MIN, INT32_MAX, &e->bits, "bits");
        break;
      case 1:
        rc = parse_int_in(P, INT32_MIN, INT32_MAX, &e->symmetric, "symmetric");
        break;
      case 2:
        rc = parse_int_in(P, INT32_MIN, INT32_MAX, &e->axis, "axis");
        break;
      case 3:
        rc = parse_int(P, &e->group_size, "group_size");
        break;
      case 4:
        rc = parse_int_in(P, INT32_MIN, INT32_MAX, &e->nm_n, "nm_n");
        break;
      case 5:
        rc = parse_int_in(P, INT32_MIN, INT32_MAX, &e->nm_m, "nm_m");
        break;
      }
      if (rc) return PARE_ERR;
      if (accept(P, '>')) break;
      if (expect(P, ',')) return PARE_ERR;
    }
  }
  /* {parts} */
  if (expect(P, '{')) return PARE_ERR;
  if (accept(P, '}')) return PARE_OK;
  for (;;) {
    skip_ws(P);
    const char *at = P->p;
    size_t n = ident_len(P->p);
    if (n == 8 && memcmp(P->p, "outliers", 8) == 0) {
      if (e->outliers) return fail_at(P, at, "part 'outliers' given twice");
      P->p += n;
      if (expect(P, '=') || parse_encoding(P, &e->outliers, depth + 1)) return PARE_ERR;
    } else {
      struct {
        const char *name;
        pare_tensor **slot;
      } parts[] = {{"packed", &e->packed},     {"scales", &e->scales},   {"zeros", &e->zeros},
                   {"codebook", &e->codebook}, {"row_ptr", &e->row_ptr}, {"col_idx", &e->col_idx},
                   {"values", &e->values}};
      pare_tensor **slot = NULL;
      for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
        if (n == strlen(parts[k].name) && memcmp(P->p, parts[k].name, n) == 0) slot = parts[k].slot;
      if (!slot)
        return expected(P, "an encoding part (packed, scales, zeros, codebook, row_ptr, col_idx, "
                           "values, outliers)");
      if (*slot) return fail_at(P, at, "part '%.*s' given twice", (int)n, at);
      P->p += n;
      if (expect(P, '=') || parse_tensor(P, slot)) return PARE_ERR;
    }
    if (accept(P, '}')) return PARE_OK;
    if (expect(P, ',')) return PARE_ERR;
  }
}

static int at_encoding(parser *P) {
  return at_kw(P, "quant") || at_kw(P, "sparse") || at_kw(P, "codebook");
}

static int parse_encoding(parser *P, pare_encoding **out, int depth) {
  skip_ws(P);
  if (depth > MAX_ENCODING_DEPTH) return fail_at(P, P->p, "encodings nested too deeply");
  pare_enc_kind kind;
  if (accept_kw(P, "quant"))
    kind = PARE_ENC_QUANT;
  else if (accept_kw(P, "sparse"))
    kind = PARE_ENC_SPARSE;
  else if (accept_kw(P, "codebook"))
    kind = PARE_ENC_CODEBOOK;
  else
    return expected(P, "an encoding (quant, sparse or codebook)");
  pare_encoding *e = calloc(1, sizeof *e);
  if (!e) return oom(P);
  e->kind = kind;
  if (parse_encoding_body(P, e, depth)) {
    pare_encoding_free(e);
    return PARE_ERR;
  }
  *out = e;
  return PARE_OK;
}

/* -------------------------------------------------------------- attributes */

/* One list element or scalar as written: a number span or a string. */
typedef struct raw_item {
  const char *s, *e; /* number literal, or NULL */
  char *str;         /* string literal, or NULL */
} raw_item;

static void free_items(raw_item *items, int64_t n) {
  for (int64_t k = 0; k < n; k++) free(items[k].str);
  free(items);
}

static int parse_raw_item(parser *P, raw_item *it) {
  skip_ws(P);
  it->s = it->e = NULL;
  it->str = NULL;
  if (*P->p == '"') {
    it->str = read_string(P);
    return it->str ? PARE_OK : PARE_ERR;
  }
  if (number_span(P, &it->s, &it->e, "a number or a string")) return PARE_ERR;
  P->p = it->e;
  return PARE_OK;
}

static const struct {
  const char *name;
  pare_attr_type type;
} attr_types[] = {{"int", PARE_ATTR_INT},        {"float", PARE_ATTR_FLOAT},
                  {"string", PARE_ATTR_STRING},  {"tensor", PARE_ATTR_TENSOR},
                  {"ints", PARE_ATTR_INTS},      {"floats", PARE_ATTR_FLOATS},
                  {"strings", PARE_ATTR_STRINGS}};

/* Optional ": TYPE" after an attribute value; 0 when absent. */
static int parse_attr_type(parser *P, pare_attr_type *type) {
  *type = 0;
  if (!accept(P, ':')) return PARE_OK;
  skip_ws(P);
  size_t n = ident_len(P->p);
  for (size_t k = 0; k < sizeof attr_types / sizeof attr_types[0]; k++) {
    if (n == strlen(attr_types[k].name) && memcmp(P->p, attr_types[k].name, n) == 0) {
      *type = attr_types[k].type;
      P->p += n;
      return PARE_OK;
    }
  }
  return expected(P, "an attribute type (int, float, string, tensor, ints, floats, strings)");
}

/* Converts item k (number) to the attribute's element type. */
static int item_to_int(parser *P, const raw_item *it, int64_t *out) {
  int rc = span_i64(it->s, it->e, out);
  if (rc == 1)
    return fail_at(P, it->s, "expected an integer, found '%.*s'", (int)(it->e - it->s), it->s);
  if (rc == 2)
    return fail_at(P, it->s, "integer '%.*s' is out of range", (int)(it->e - it->s), it->s);
  return PARE_OK;
}

static int item_to_float(parser *P, const raw_item *it, float *out) {
  int rc = span_f32(it->s, it->e, out);
  if (rc == 1) return fail_at(P, it->s, "'%.*s' is not a valid float", (int)(it->e - it->s), it->s);
  if (rc == 2)
    return fail_at(P, it->s, "'%.*s' is out of range for f32", (int)(it->e - it->s), it->s);
  return PARE_OK;
}

/* attr := name "=" value [":" TYPE], filled into *a (zeroed by the caller). */
static int parse_attr(parser *P, pare_attr *a) {
  a->name = read_ident(P, "an attribute name");
  if (!a->name || expect(P, '=')) return PARE_ERR;
  skip_ws(P);
  const char *at = P->p;
  pare_attr_type marked;

  /* Tensor: dtype word followed by '['. */
  size_t n = ident_len(P->p);
  if (n > 0 && !(n == 3 && (memcmp(P->p, "inf", 3) == 0 || memcmp(P->p, "nan", 3) == 0))) {
    if (parse_tensor(P, &a->t)) return PARE_ERR;
    a->type = PARE_ATTR_TENSOR;
    if (parse_attr_type(P, &marked)) return PARE_ERR;
    if (marked && marked != PARE_ATTR_TENSOR)
      return fail_at(P, at, "attribute '%s' holds a tensor but is marked otherwise", a->name);
    return PARE_OK;
  }

  /* Scalars and lists: read as written, convert once the type is known. */
  int is_list = accept(P, '[');
  raw_item *items = NULL;
  int64_t count = 0, cap = 0;
  int rc = PARE_ERR;
  if (is_list && !accept(P, ']')) {
    for (;;) {
      if (count == cap) {
        cap = cap ? cap * 2 : 8;
        raw_item *grown = realloc(items, (size_t)cap * sizeof *items);
        if (!grown) {
          oom(P);
          goto out;
        }
        items = grown;
      }
      if (parse_raw_item(P, &items[count])) goto out;
      count++;
      if (accept(P, ']')) break;
      if (expect(P, ',')) goto out;
    }
  } else if (!is_list) {
    items = calloc(1, sizeof *items);
    if (!items) {
      oom(P);
      goto out;
    }
    if (parse_raw_item(P, &items[0])) goto out;
    count = 1;
  }
  int n_str = 0, n_float = 0;
  for (int64_t k = 0; k < count; k++) {
    if (items[k].str)
      n_str++;
    else if (span_is_float(items[k].s, items[k].e))
      n_float++;
  }
  if (parse_attr_type(P, &marked)) goto out;
  if (n_str && n_str != count) {
    fail_at(P, at, "attribute '%s' mixes strings and numbers", a->name);
    goto out;
  }
  pare_attr_type type = marked;
  if (!type) {
    if (is_list && count == 0) {
      fail_at(P, at, "empty list attribute '%s' needs a type (: ints, : floats or : strings)",
              a->name);
      goto out;
    }
    type = n_str     ? (is_list ? PARE_ATTR_STRINGS : PARE_ATTR_STRING)
           : n_float ? (is_list ? PARE_ATTR_FLOATS : PARE_ATTR_FLOAT)
                     : (is_list ? PARE_ATTR_INTS : PARE_ATTR_INT);
  }
  int want_list = type == PARE_ATTR_INTS || type == PARE_ATTR_FLOATS || type == PARE_ATTR_STRINGS;
  int want_str = type == PARE_ATTR_STRING || type == PARE_ATTR_STRINGS;
  if (type == PARE_ATTR_TENSOR || want_list != is_list || (count > 0 && !want_str != !n_str)) {
    fail_at(P, at, "attribute '%s': value does not match its type", a->name);
    goto out;
  }
  a->type = type;
  a->n = want_list ? count : 0;
  size_t alloc_n = (size_t)(count ? count : 1);
  switch (type) {
  case PARE_ATTR_INT:
    if (item_to_int(P, &items[0], &a->i)) goto out;
    break;
  case PARE_ATTR_FLOAT:
    if (item_to_float(P, &items[0], &a->f)) goto out;
    break;
  case PARE_ATTR_STRING:
    a->s = items[0].str;
    items[0].str = NULL;
    break;
  case PARE_ATTR_INTS:
    a->ints = calloc(alloc_n, sizeof *a->ints);
    if (!a->ints) {
      oom(P);
      goto out;
    }
    for (int64_t k = 0; k < count; k++)
      if (item_to_int(P, &items[k], &a->ints[k])) goto out;
    break;
  case PARE_ATTR_FLOATS:
    a->floats = calloc(alloc_n, sizeof *a->floats);
    if (!a->floats) {
      oom(P);
      goto out;
    }
    for (int64_t k = 0; k < count; k++)
      if (item_to_float(P, &items[k], &a->floats[k])) goto out;
    break;
  case PARE_ATTR_STRINGS:
    a->strings = calloc(alloc_n, sizeof *a->strings);
    if (!a->strings) {
      oom(P);
      goto out;
    }
    for (int64_t k = 0; k < count; k++) {
      a->strings[k] = items[k].str;
      items[k].str = NULL;
    }
    break;
  default:
    break;
  }
  rc = PARE_OK;
out:
  free_items(items, count);
  return rc;
}

/* "{" attr {"," attr} "}" appended to *attrs / *n_attrs (owned by the caller). */
static int parse_attrs(parser *P, pare_attr **attrs, int *n_attrs) {
  if (accept(P, '}')) return PARE_OK;
  for (;;) {
    skip_ws(P);
    const char *at = P->p;
    pare_attr *grown = realloc(*attrs, (size_t)(*n_attrs + 1) * sizeof *grown);
    if (!grown) return oom(P);
    *attrs = grown;
    pare_attr *a = &grown[*n_attrs];
    memset(a, 0, sizeof *a);
    (*n_attrs)++;
    if (parse_attr(P, a)) return PARE_ERR;
    for (int k = 0; k < *n_attrs - 1; k++)
      if (strcmp((*attrs)[k].name, a->name) == 0)
        return fail_at(P, at, "attribute '%s' given twice", a->name);
    if (accept(P, '}')) return PARE_OK;
    if (expect(P, ',')) return PARE_ERR;
  }
}

/* -------------------------------------------------------------- statements */

/* A value being declared: name, type and where it was written. */
typedef struct decl {
  const char *at;
  char *name;
  pare_dtype dtype;
  pare_shape shape;
  char *params[PARE_MAX_RANK];
} decl;

static void decl_clear(decl *d) {
  free(d->name);
  free_params(d->params);
  memset(d, 0, sizeof *d);
}

/* "%" name [":" type] into d. */
static int parse_decl(parser *P, decl *d, int with_type) {
  skip_ws(P);
  d->at = P->p;
  if (*P->p != '%') return expected(P, "a value (%name)");
  P->p++;
  d->name = read_name(P, "a value name after '%'");
  if (!d->name) return PARE_ERR;
  if (!with_type) return PARE_OK;
  if (expect(P, ':')) return PARE_ERR;
  return parse_type(P, &d->dtype, &d->shape, d->params);
}

/* Adds the declared value to the graph (taking d's name and params). */
static int define_value(parser *P, decl *d) {
  if (pare_graph_find_value(P->g, d->name) >= 0)
    return fail_at(P, d->at, "value %%%s is defined twice", d->name);
  pare_err aerr;
  int v = pare_graph_add_value(P->g, d->name, d->dtype, &d->shape, &aerr);
  if (v < 0) return fail_at(P, d->at, "%s", aerr.msg);
  pare_value *val = P->g->values[v];
  for (int i = 0; i < PARE_MAX_RANK; i++) {
    val->dim_param[i] = d->params[i];
    d->params[i] = NULL;
  }
  return v;
}

/* "%name" of an already defined value, or "_" when allow_omitted. */
static int parse_use(parser *P, int allow_omitted, int *out) {
  if (allow_omitted && accept_underscore(P)) {
    *out = -1;
    return PARE_OK;
  }
  decl d = {0};
  if (parse_decl(P, &d, 0)) {
    decl_clear(&d);
    return PARE_ERR;
  }
  int v = pare_graph_find_value(P->g, d.name);
  if (v < 0)
    fail_at(P, d.at,
            "value %%%s is not defined before this use (statements must define values "
            "before they are used)",
            d.name);
  decl_clear(&d);
  if (v < 0) return PARE_ERR;
  *out = v;
  return PARE_OK;
}

static int parse_input(parser *P) {
  decl d = {0};
  int v = parse_decl(P, &d, 1) ? PARE_ERR : define_value(P, &d);
  decl_clear(&d);
  if (v < 0) return PARE_ERR;
  pare_err aerr;
  if (pare_graph_add_input(P->g, v, &aerr)) return fail_at(P, P->p, "%s", aerr.msg);
  return PARE_OK;
}

static int parse_value_decl(parser *P) {
  decl d = {0};
  int v = parse_decl(P, &d, 1) ? PARE_ERR : define_value(P, &d);
  decl_clear(&d);
  return v < 0 ? PARE_ERR : PARE_OK;
}

static int parse_const(parser *P) {
  decl d = {0};
  pare_tensor *t = NULL;
  pare_encoding *e = NULL;
  int rc = PARE_ERR;
  if (parse_decl(P, &d, 1)) goto out;
  if (!pare_shape_is_static(&d.shape)) {
    fail_at(P, d.at, "constant %%%s needs a static shape", d.name);
    goto out;
  }
  if (expect(P, '=')) goto out;
  skip_ws(P);
  const char *body_at = P->p;
  if (at_data(P)) {
    pare_err aerr;
    t = pare_tensor_new(d.dtype, &d.shape, &aerr);
    if (!t) {
      fail_at(P, body_at, "constant %%%s: %s", d.name, aerr.msg);
      goto out;
    }
    if (parse_data(P, t)) goto out;
    if (at_encoding(P) && parse_encoding(P, &e, 0)) goto out;
  } else if (at_encoding(P)) {
    if (parse_encoding(P, &e, 0)) goto out;
  } else {
    expected(P, "constant data (dense<...>, elided<...>) or an encoding");
    goto out;
  }
  int v = define_value(P, &d);
  if (v < 0) goto out;
  P->g->values[v]->init = t;
  P->g->values[v]->enc = e;
  t = NULL;
  e = NULL;
  rc = PARE_OK;
out:
  decl_clear(&d);
  pare_tensor_free(t);
  pare_encoding_free(e);
  return rc;
}

static int parse_output(parser *P) {
  int v;
  if (parse_use(P, 0, &v)) return PARE_ERR;
  pare_err aerr;
  if (pare_graph_add_output(P->g, v, &aerr)) return fail_at(P, P->p, "%s", aerr.msg);
  return PARE_OK;
}

/* A node statement being assembled. */
typedef struct pending_node {
  decl *results; /* name NULL = omitted output */
  int n_results;
  char *domain, *op, *name;
  int has_name;
  int *inputs;
  int n_inputs;
  pare_attr *attrs;
  int n_attrs;
} pending_node;

static void pending_clear(pending_node *pn) {
  for (int k = 0; k < pn->n_results; k++) decl_clear(&pn->results[k]);
  free(pn->results);
  free(pn->domain);
  free(pn->op);
  free(pn->name);
  free(pn->inputs);
  for (int k = 0; k < pn->n_attrs; k++) pare_attr_clear(&pn->attrs[k]);
  free(pn->attrs);
}

static int parse_node_parts(parser *P, pending_node *pn) {
  /* results "=" */
  if (accept(P, '(')) {
    if (expect(P, ')')) return PARE_ERR;
  } else {
    for (;;) {
      decl *grown = realloc(pn->results, (size_t)(pn->n_results + 1) * sizeof *grown);
      if (!grown) return oom(P);
      pn->results = grown;
      decl *d = &pn->results[pn->n_results++];
      memset(d, 0, sizeof *d);
      if (!accept_underscore(P) && parse_decl(P, d, 1)) return PARE_ERR;
      if (!accept(P, ',')) break;
    }
  }
  if (expect(P, '=')) return PARE_ERR;
  /* [domain "::"] op */
  pn->op = read_ident(P, "an op name");
  if (!pn->op) return PARE_ERR;
  if (P->p[0] == ':' && P->p[1] == ':') {
    P->p += 2;
    pn->domain = pn->op;
    pn->op = read_ident(P, "an op name after '::'");
    if (!pn->op) return PARE_ERR;
  }
  /* "(" operands ")" */
  if (expect(P, '(')) return PARE_ERR;
  if (!accept(P, ')')) {
    for (;;) {
      int *grown = realloc(pn->inputs, (size_t)(pn->n_inputs + 1) * sizeof *grown);
      if (!grown) return oom(P);
      pn->inputs = grown;
      if (parse_use(P, 1, &pn->inputs[pn->n_inputs])) return PARE_ERR;
      pn->n_inputs++;
      if (accept(P, ')')) break;
      if (expect(P, ',')) return PARE_ERR;
    }
  }
  if (accept(P, '{') && parse_attrs(P, &pn->attrs, &pn->n_attrs)) return PARE_ERR;
  if (accept(P, '@')) {
    pn->name = read_name(P, "a node name after '@'");
    if (!pn->name) return PARE_ERR;
    pn->has_name = 1;
  }
  return PARE_OK;
}

static int parse_node(parser *P) {
  pending_node pn = {0};
  int *outputs = NULL;
  int rc = PARE_ERR;
  if (parse_node_parts(P, &pn)) goto out;
  outputs = malloc(((size_t)pn.n_results + 1) * sizeof *outputs);
  if (!outputs) {
    oom(P);
    goto out;
  }
  /* Results are defined after the operands were resolved: a node cannot read
   * its own output. */
  for (int k = 0; k < pn.n_results; k++) {
    outputs[k] = -1;
    if (!pn.results[k].name) continue;
    outputs[k] = define_value(P, &pn.results[k]);
    if (outputs[k] < 0) goto out;
  }
  pare_err aerr;
  int idx = pare_graph_add_node(P->g, pn.op, pn.name, pn.inputs, pn.n_inputs, outputs, pn.n_results,
                                &aerr);
  if (idx < 0) {
    fail_at(P, P->p, "%s", aerr.msg);
    goto out;
  }
  pare_node *n = P->g->nodes[idx];
  /* add_node invents a name for NULL/"": keep exactly what was written. */
  free(n->name);
  n->name = pn.name;
  pn.name = NULL;
  if (pn.domain && *pn.domain) {
    n->domain = pn.domain;
    pn.domain = NULL;
  }
  n->attrs = pn.attrs;
  n->n_attrs = pn.n_attrs;
  pn.attrs = NULL;
  pn.n_attrs = 0;
  rc = PARE_OK;
out:
  free(outputs);
  pending_clear(&pn);
  return rc;
}

static int parse_graph(parser *P) {
  if (expect_kw(P, "graph")) return PARE_ERR;
  if (accept(P, '@')) {
    char *name = read_name(P, "a graph name after '@'");
    if (!name) return PARE_ERR;
    free(P->g->name);
    P->g->name = name;
  } else {
    free(P->g->name);
    P->g->name = NULL;
  }
  if (expect_kw(P, "opset") || parse_int(P, &P->g->opset, "an opset version") || expect(P, '{'))
    return PARE_ERR;
  for (;;) {
    skip_ws(P);
    int rc;
    if (accept(P, '}'))
      break;
    else if (accept_kw(P, "input"))
      rc = parse_input(P);
    else if (accept_kw(P, "const"))
      rc = parse_const(P);
    else if (accept_kw(P, "value"))
      rc = parse_value_decl(P);
    else if (accept_kw(P, "output"))
      rc = parse_output(P);
    else if (*P->p == '%' || *P->p == '(' ||
             (P->p[0] == '_' && !is_ident_char((unsigned char)P->p[1])))
      rc = parse_node(P);
    else
      rc = expected(P, "a statement (input, const, value, output, a node) or '}'");
    if (rc) return PARE_ERR;
  }
  skip_ws(P);
  if (*P->p) return expected(P, "end of input after the graph's '}'");
  return PARE_OK;
}

/* ------------------------------------------------------------------- API */

pare_graph *pare_graph_parse(const char *text, const char *label, const pare_parse_opts *opts,
                             pare_err *err) {
  parser P = {.src = text, .p = text, .label = label ? label : "<text>", .err = err};
  P.allow_elided = opts ? opts->allow_elided : 0;
  P.g = pare_graph_new(NULL);
  if (!P.g) {
    pare_errf(err, "%s: out of memory", P.label);
    return NULL;
  }
  if (parse_graph(&P)) {
    pare_graph_free(P.g);
    return NULL;
  }
  if (pare_graph_verify(P.g, err)) {
    pare_err_prefix(err, "%s", P.label);
    pare_graph_free(P.g);
    return NULL;
  }
  return P.g;
}

pare_graph *pare_graph_parse_file(const char *path, const pare_parse_opts *opts, pare_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    pare_errf(err, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
    if (len + 1 < cap) break;
    char *grown = realloc(buf, cap * 2);
    if (!grown) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = grown;
    cap *= 2;
  }
  int read_error = ferror(f);
  fclose(f);
  if (!buf || read_error) {
    pare_errf(err, "%s: %s", path, buf ? "read error" : "out of memory");
    free(buf);
    return NULL;
  }
  buf[len] = 0;
  if (memchr(buf, 0, len)) {
    free(buf);
    pare_errf(err, "%s: contains a NUL byte; not a text IR file", path);
    return NULL;
  }
  pare_graph *g = pare_graph_parse(buf, path, opts, err);
  free(buf);
  return g;
}
