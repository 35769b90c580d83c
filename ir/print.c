/*
 * print.c - writes a pare_graph in the textual IR described in ir/text.h.
 *
 * The printer never fails on a malformed graph: it prints what it finds
 * (bad indices show as %"<bad value N>") so it can be used to debug the very
 * graphs pare_graph_verify rejects. Only verified graphs are promised to
 * parse back.
 */
#include "ir/text.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ output sink */

/* Either a FILE or a growing buffer; `failed` latches the first error. */
typedef struct out {
  FILE *f;
  char *buf;
  size_t len, cap;
  int failed;
} out;

static void out_write(out *o, const char *s, size_t n) {
  if (o->failed || n == 0) return;
  if (o->f) {
    if (fwrite(s, 1, n, o->f) != n) o->failed = 1;
    return;
  }
  if (o->len + n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + n + 1) cap *= 2;
    char *grown = realloc(o->buf, cap);
    if (!grown) {
      o->failed = 1;
      return;
    }
    o->buf = grown;
    o->cap = cap;
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
  o->buf[o->len] = 0;
}

static void out_puts(out *o, const char *s) {
  out_write(o, s, strlen(s));
}

static void out_printf(out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void out_printf(out *o, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    o->failed = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    out_write(o, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    o->failed = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  out_write(o, big, (size_t)n);
  free(big);
}

/* ------------------------------------------------------------------ names */

static int is_value_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '-';
}

/* Value, node and graph names print bare when the parser's bare-name rule
 * reads them back whole: [A-Za-z0-9_.:/-]+ not ending in ':' (so "%x: f32"
 * written by hand still means x). */
static int is_bare_name(const char *s) {
  if (!*s) return 0;
  size_t n = 0;
  for (; s[n]; n++)
    if (!is_value_name_char((unsigned char)s[n])) return 0;
  return s[n - 1] != ':';
}

/* Op, domain, attribute and dim-param names: [A-Za-z_][A-Za-z0-9_.]*. */
static int is_ident(const char *s) {
  unsigned char c = (unsigned char)*s;
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return 0;
  for (s++; *s; s++) {
    c = (unsigned char)*s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.'))
      return 0;
  }
  return 1;
}

static void print_quoted(out *o, const char *s) {
  out_write(o, "\"", 1);
  const char *run = s;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    const char *esc = NULL;
    char hex[8];
    switch (c) {
    case '"':
      esc = "\\\"";
      break;
    case '\\':
      esc = "\\\\";
      break;
    case '\n':
      esc = "\\n";
      break;
    case '\t':
      esc = "\\t";
      break;
    case '\r':
      esc = "\\r";
      break;
    default:
      if (c < 0x20 || c == 0x7f) {
        snprintf(hex, sizeof hex, "\\x%02x", c);
        esc = hex;
      }
    }
    if (esc) {
      out_write(o, run, (size_t)(s - run));
      out_puts(o, esc);
      run = s + 1;
    }
  }
  out_write(o, run, (size_t)(s - run));
  out_write(o, "\"", 1);
}

static void print_name(out *o, const char *s) {
  if (!s) s = "";
  if (is_bare_name(s))
    out_puts(o, s);
  else
    print_quoted(o, s);
}

static void print_ident(out *o, const char *s) {
  if (!s) s = "";
  if (is_ident(s))
    out_puts(o, s);
  else
    print_quoted(o, s);
}

static void print_value_ref(out *o, const pare_graph *g, int v) {
  if (v == -1) {
    out_puts(o, "_");
    return;
  }
  out_puts(o, "%");
  if (v < 0 || v >= g->n_values || !g->values[v]) {
    char bad[48];
    snprintf(bad, sizeof bad, "<bad value %d>", v);
    print_quoted(o, bad);
    return;
  }
  print_name(o, g->values[v]->name);
}

/* ---------------------------------------------------------------- numbers */

static uint32_t f32_bits(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

static uint64_t f64_bits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

/*
 * Shortest round-trip decimals. The 17 significant digits of x are produced
 * once with snprintf; candidates with fewer digits are rounded from that
 * string (half-up) and checked by reading them back, so whatever is printed is
 * guaranteed to reproduce the exact bits, and the choice depends only on x
 * (print -> parse -> print is stable). Layout follows Python's repr: fixed
 * notation for decimal exponents in [-5, 16), else d.ddde+XX.
 */
typedef struct decimal {
  int neg;
  char digits[18]; /* d0 d1 ... d16, x ~ d0.d1d2... * 10^exp */
  int exp;
} decimal;

static void decimal_of(double x, decimal *d) {
  char sci[48];
  d->neg = signbit(x) != 0;
  snprintf(sci, sizeof sci, "%.16e", fabs(x));
  d->digits[0] = sci[0];
  memcpy(d->digits + 1, sci + 2, 16);
  d->digits[17] = 0;
  const char *e = strchr(sci, 'e');
  d->exp = e ? atoi(e + 1) : 0;
}

/* Writes d rounded to p significant digits (1..17) into buf. */
static void format_decimal(const decimal *d, int p, char *buf, size_t len) {
  char dig[19];
  int exp = d->exp;
  memcpy(dig, d->digits, (size_t)p);
  dig[p] = 0;
  if (p < 17 && d->digits[p] >= '5') {
    int i = p - 1;
    while (i >= 0 && dig[i] == '9') dig[i--] = '0';
    if (i >= 0) {
      dig[i]++;
    } else { /* 99.9 -> 100: one more leading digit, same count */
      memmove(dig + 1, dig, (size_t)p - 1);
      dig[0] = '1';
      exp++;
    }
  }
  int n = p;
  while (n > 1 && dig[n - 1] == '0') n--;
  if (dig[0] == '0') exp = 0; /* zero */
  char out[64];
  size_t k = 0;
  if (d->neg) out[k++] = '-';
  if (exp >= -5 && exp < 16) {
    if (exp < 0) {
      out[k++] = '0';
      out[k++] = '.';
      for (int z = -1; z > exp; z--) out[k++] = '0';
      for (int i = 0; i < n; i++) out[k++] = dig[i];
    } else {
      for (int i = 0; i <= exp; i++) out[k++] = i < n ? dig[i] : '0';
      if (n > exp + 1) {
        out[k++] = '.';
        for (int i = exp + 1; i < n; i++) out[k++] = dig[i];
      }
    }
    out[k] = 0;
  } else {
    out[k++] = dig[0];
    if (n > 1) {
      out[k++] = '.';
      for (int i = 1; i < n; i++) out[k++] = dig[i];
    }
    snprintf(out + k, sizeof out - k, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  }
  snprintf(buf, len, "%s", out);
}

typedef int (*reads_back_fn)(const char *s, const void *want);

static int f32_reads_back(const char *s, const void *want) {
  return f32_bits(strtof(s, NULL)) == *(const uint32_t *)want;
}

static int f64_reads_back(const char *s, const void *want) {
  return f64_bits(strtod(s, NULL)) == *(const uint64_t *)want;
}

static int f16_reads_back(const char *s, const void *want) {
  return pare_f32_to_f16(strtof(s, NULL)) == *(const uint16_t *)want;
}

/* Fewest digits in [1, maxp] that read back (binary search: reading back
 * is monotone in the digit count up to rare binade edges, and every answer
 * is checked). Falls back to %.17g, which always reads back. */
static void fmt_shortest(char *buf, size_t len, double x, int maxp, reads_back_fn ok,
                         const void *want) {
  decimal d;
  decimal_of(x, &d);
  int lo = 1, hi = maxp;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    format_decimal(&d, mid, buf, len);
    if (ok(buf, want))
      hi = mid;
    else
      lo = mid + 1;
  }
  format_decimal(&d, hi, buf, len);
  if (!ok(buf, want)) snprintf(buf, len, "%.17g", x);
}

static void fmt_f32(char *buf, size_t len, float x) {
  uint32_t bits = f32_bits(x);
  if (isnan(x)) {
    if (bits == 0x7fc00000u)
      snprintf(buf, len, "nan");
    else if (bits == 0xffc00000u)
      snprintf(buf, len, "-nan");
    else
      snprintf(buf, len, "nan:0x%08x", (unsigned)bits);
    return;
  }
  if (isinf(x)) {
    snprintf(buf, len, x < 0 ? "-inf" : "inf");
    return;
  }
  fmt_shortest(buf, len, (double)x, 9, f32_reads_back, &bits);
}

static void fmt_f64(char *buf, size_t len, double x) {
  uint64_t bits = f64_bits(x);
  if (isnan(x)) {
    if (bits == 0x7ff8000000000000ull)
      snprintf(buf, len, "nan");
    else if (bits == 0xfff8000000000000ull)
      snprintf(buf, len, "-nan");
    else
      snprintf(buf, len, "nan:0x%016llx", (unsigned long long)bits);
    return;
  }
  if (isinf(x)) {
    snprintf(buf, len, x < 0 ? "-inf" : "inf");
    return;
  }
  fmt_shortest(buf, len, x, 17, f64_reads_back, &bits);
}

static void fmt_f16(char *buf, size_t len, uint16_t h) {
  if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) {
    if (h == 0x7e00)
      snprintf(buf, len, "nan");
    else if (h == 0xfe00)
      snprintf(buf, len, "-nan");
    else
      snprintf(buf, len, "nan:0x%04x", (unsigned)h);
    return;
  }
  float x = pare_f16_to_f32(h);
  if (isinf(x)) {
    snprintf(buf, len, x < 0 ? "-inf" : "inf");
    return;
  }
  fmt_shortest(buf, len, (double)x, 9, f16_reads_back, &h);
}

/* Element i of raw data of dtype dt, formatted. */
static void fmt_elem(char *buf, size_t len, pare_dtype dt, const void *data, int64_t i) {
  const unsigned char *p = (const unsigned char *)data + (size_t)i * pare_dtype_size(dt);
  switch (dt) {
  case PARE_F32: {
    float x;
    memcpy(&x, p, sizeof x);
    fmt_f32(buf, len, x);
    return;
  }
  case PARE_F64: {
    double x;
    memcpy(&x, p, sizeof x);
    fmt_f64(buf, len, x);
    return;
  }
  case PARE_F16: {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    fmt_f16(buf, len, h);
    return;
  }
  case PARE_BOOL:
    if (*p <= 1)
      snprintf(buf, len, "%s", *p ? "true" : "false");
    else
      snprintf(buf, len, "%u", (unsigned)*p);
    return;
  case PARE_U64: {
    uint64_t x;
    memcpy(&x, p, sizeof x);
    snprintf(buf, len, "%llu", (unsigned long long)x);
    return;
  }
  default: {
    pare_tensor view = {.dtype = dt, .data = (void *)p};
    snprintf(buf, len, "%lld", (long long)pare_tensor_get_i64(&view, 0));
    return;
  }
  }
}

/* ------------------------------------------------------------- types/data */

static void print_type(out *o, pare_dtype dt, const pare_shape *s, char *const *dim_param) {
  out_puts(o, pare_dtype_name(dt));
  if (s->rank < 0) {
    out_puts(o, "[*]");
    return;
  }
  out_puts(o, "[");
  int rank = s->rank <= PARE_MAX_RANK ? s->rank : PARE_MAX_RANK;
  for (int i = 0; i < rank; i++) {
    if (i) out_puts(o, ",");
    const char *param = dim_param ? dim_param[i] : NULL;
    if (param) {
      print_ident(o, param);
      if (s->dims[i] != -1) out_printf(o, "=%lld", (long long)s->dims[i]);
    } else if (s->dims[i] == -1) {
      out_puts(o, "?");
    } else {
      out_printf(o, "%lld", (long long)s->dims[i]);
    }
  }
  out_puts(o, "]");
}

/* Elements the data buffer really holds (guards against inconsistent tensors). */
static int64_t printable_elems(const pare_tensor *t) {
  size_t es = pare_dtype_size(t->dtype);
  if (!t->data || es == 0 || t->shape.rank < 0) return 0;
  int64_t n = pare_tensor_numel(t);
  int64_t have = (int64_t)(t->nbytes / es);
  return n < have ? n : have;
}

static int is_splat(const pare_tensor *t, int64_t n) {
  size_t es = pare_dtype_size(t->dtype);
  const unsigned char *p = t->data;
  for (int64_t i = 1; i < n; i++)
    if (memcmp(p, p + (size_t)i * es, es) != 0) return 0;
  return 1;
}

static void print_data(out *o, const pare_tensor *t, const pare_print_opts *opts) {
  int64_t numel = t->shape.rank >= 0 ? pare_tensor_numel(t) : 0;
  int64_t n = printable_elems(t);
  char buf[64];
  if (numel > 0 && n < numel) { /* broken tensor: say so rather than print garbage */
    out_printf(o, "nodata<%lld of %lld>", (long long)n, (long long)numel);
    return;
  }
  if (n > 1 && is_splat(t, n))
    n = 1;
  else if (opts && opts->elide_above > 0 && n > opts->elide_above) {
    out_printf(o, "elided<crc32=0x%08x>", (unsigned)pare_tensor_crc32(t));
    return;
  }
  out_puts(o, "dense<");
  for (int64_t i = 0; i < n; i++) {
    if (i) out_puts(o, ", ");
    fmt_elem(buf, sizeof buf, t->dtype, t->data, i);
    out_puts(o, buf);
  }
  out_puts(o, ">");
}

static void print_tensor(out *o, const pare_tensor *t, const pare_print_opts *opts) {
  if (!t) {
    out_puts(o, "nodata<null>");
    return;
  }
  print_type(o, t->dtype, &t->shape, NULL);
  out_puts(o, " ");
  print_data(o, t, opts);
}

static void print_encoding(out *o, const pare_encoding *e, const pare_print_opts *opts) {
  out_puts(o, pare_enc_kind_name(e->kind));
  /* Fields the kind uses always print; others only when set, so nothing is lost. */
  int q = e->kind == PARE_ENC_QUANT, c = e->kind == PARE_ENC_CODEBOOK,
      s = e->kind == PARE_ENC_SPARSE;
  struct {
    const char *name;
    int64_t v;
    int relevant;
  } fields[] = {
      {"bits", e->bits, q || c},        {"symmetric", e->symmetric, q}, {"axis", e->axis, q || c},
      {"group_size", e->group_size, q}, {"nm_n", e->nm_n, s},           {"nm_m", e->nm_m, s},
  };
  out_puts(o, "<");
  int first = 1;
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (!fields[i].relevant && fields[i].v == 0) continue;
    out_printf(o, "%s%s=%lld", first ? "" : ", ", fields[i].name, (long long)fields[i].v);
    first = 0;
  }
  out_puts(o, "> {");
  struct {
    const char *name;
    const pare_tensor *t;
  } parts[] = {{"packed", e->packed},     {"scales", e->scales},   {"zeros", e->zeros},
               {"codebook", e->codebook}, {"row_ptr", e->row_ptr}, {"col_idx", e->col_idx},
               {"values", e->values}};
  first = 1;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    if (!parts[i].t) continue;
    out_printf(o, "%s%s = ", first ? "" : ", ", parts[i].name);
    print_tensor(o, parts[i].t, opts);
    first = 0;
  }
  if (e->outliers) {
    out_puts(o, first ? "outliers = " : ", outliers = ");
    print_encoding(o, e->outliers, opts);
  }
  out_puts(o, "}");
}

/* -------------------------------------------------------------- attributes */

static void print_attr(out *o, const pare_attr *a, const pare_print_opts *opts) {
  char buf[64];
  print_ident(o, a->name);
  out_puts(o, " = ");
  switch (a->type) {
  case PARE_ATTR_INT:
    out_printf(o, "%lld : int", (long long)a->i);
    return;
  case PARE_ATTR_FLOAT:
    fmt_f32(buf, sizeof buf, a->f);
    out_printf(o, "%s : float", buf);
    return;
  case PARE_ATTR_STRING:
    print_quoted(o, a->s ? a->s : "");
    out_puts(o, " : string");
    return;
  case PARE_ATTR_TENSOR:
    print_tensor(o, a->t, opts);
    out_puts(o, " : tensor");
    return;
  case PARE_ATTR_INTS:
  case PARE_ATTR_FLOATS:
  case PARE_ATTR_STRINGS:
    out_puts(o, "[");
    for (int64_t k = 0; k < a->n; k++) {
      if (k) out_puts(o, ", ");
      if (a->type == PARE_ATTR_INTS) {
        out_printf(o, "%lld", a->ints ? (long long)a->ints[k] : 0LL);
      } else if (a->type == PARE_ATTR_FLOATS) {
        fmt_f32(buf, sizeof buf, a->floats ? a->floats[k] : 0.0f);
        out_puts(o, buf);
      } else {
        print_quoted(o, a->strings && a->strings[k] ? a->strings[k] : "");
      }
    }
    out_puts(o, a->type == PARE_ATTR_INTS     ? "] : ints"
                : a->type == PARE_ATTR_FLOATS ? "] : floats"
                                              : "] : strings");
    return;
  }
  out_printf(o, "\"<bad attribute type %d>\"", (int)a->type);
}

/* ------------------------------------------------------------- statements */

static void print_value_type(out *o, const pare_value *v) {
  print_type(o, v->dtype, &v->shape, v->dim_param);
}

static void print_node(out *o, const pare_graph *g, const pare_node *n,
                       const pare_print_opts *opts) {
  if (!n->op) {
    out_puts(o, "# dead node");
    if (n->name) {
      out_puts(o, " @");
      print_name(o, n->name);
    }
    return;
  }
  if (n->n_outputs == 0) out_puts(o, "()");
  for (int j = 0; j < n->n_outputs; j++) {
    if (j) out_puts(o, ", ");
    int v = n->outputs[j];
    print_value_ref(o, g, v);
    if (v >= 0 && v < g->n_values && g->values[v]) {
      out_puts(o, " : ");
      print_value_type(o, g->values[v]);
    }
  }
  out_puts(o, " = ");
  if (n->domain && *n->domain) {
    print_ident(o, n->domain);
    out_puts(o, "::");
  }
  print_ident(o, n->op);
  out_puts(o, "(");
  for (int j = 0; j < n->n_inputs; j++) {
    if (j) out_puts(o, ", ");
    print_value_ref(o, g, n->inputs[j]);
  }
  out_puts(o, ")");
  if (n->n_attrs > 0) {
    out_puts(o, " {");
    for (int a = 0; a < n->n_attrs; a++) {
      if (a) out_puts(o, ", ");
      print_attr(o, &n->attrs[a], opts);
    }
    out_puts(o, "}");
  }
  if (n->name) {
    out_puts(o, " @");
    print_name(o, n->name);
  }
}

static void print_graph(out *o, const pare_graph *g, const pare_print_opts *opts) {
  /* Which values some node defines: they print with their node. */
  char *by_node = calloc((size_t)g->n_values + 1, 1);
  if (!by_node) {
    o->failed = 1;
    return;
  }
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    if (!n || !n->op) continue;
    for (int j = 0; j < n->n_outputs; j++)
      if (n->outputs[j] >= 0 && n->outputs[j] < g->n_values) by_node[n->outputs[j]] = 1;
  }

  out_puts(o, "graph ");
  if (g->name) {
    out_puts(o, "@");
    print_name(o, g->name);
    out_puts(o, " ");
  }
  out_printf(o, "opset %lld {\n", (long long)g->opset);
  for (int j = 0; j < g->n_inputs; j++) {
    int v = g->inputs[j];
    out_puts(o, "  input ");
    print_value_ref(o, g, v);
    if (v >= 0 && v < g->n_values) {
      out_puts(o, " : ");
      print_value_type(o, g->values[v]);
    }
    out_puts(o, "\n");
  }
  for (int i = 0; i < g->n_values; i++) {
    const pare_value *v = g->values[i];
    if (!v->init && !v->enc) continue;
    out_puts(o, "  const ");
    print_value_ref(o, g, i);
    out_puts(o, " : ");
    print_value_type(o, v);
    out_puts(o, " = ");
    if (v->init) print_data(o, v->init, opts);
    if (v->init && v->enc) out_puts(o, " ");
    if (v->enc) print_encoding(o, v->enc, opts);
    out_puts(o, "\n");
  }
  for (int i = 0; i < g->n_values; i++) {
    const pare_value *v = g->values[i];
    if (v->init || v->enc || v->is_graph_input || by_node[i]) continue;
    out_puts(o, "  value ");
    print_value_ref(o, g, i);
    out_puts(o, " : ");
    print_value_type(o, v);
    out_puts(o, "\n");
  }
  for (int k = 0; k < g->n_nodes; k++) {
    out_puts(o, "  ");
    print_node(o, g, g->nodes[k], opts);
    out_puts(o, "\n");
  }
  for (int j = 0; j < g->n_outputs; j++) {
    out_puts(o, "  output ");
    print_value_ref(o, g, g->outputs[j]);
    out_puts(o, "\n");
  }
  out_puts(o, "}\n");
  free(by_node);
}

/* ------------------------------------------------------------------- API */

int pare_graph_print(FILE *f, const pare_graph *g, const pare_print_opts *opts, pare_err *err) {
  out o = {.f = f};
  print_graph(&o, g, opts);
  if (o.failed || ferror(f)) return pare_errf(err, "error writing the graph's text");
  return PARE_OK;
}

char *pare_graph_to_text(const pare_graph *g, const pare_print_opts *opts, pare_err *err) {
  out o = {0};
  print_graph(&o, g, opts);
  if (o.failed) {
    free(o.buf);
    pare_errf(err, "out of memory printing the graph");
    return NULL;
  }
  return o.buf;
}

char *pare_node_to_text(const pare_graph *g, int node, const pare_print_opts *opts) {
  if (node < 0 || node >= g->n_nodes || !g->nodes[node]) return NULL;
  out o = {0};
  print_node(&o, g, g->nodes[node], opts);
  out_puts(&o, "");
  if (o.failed || !o.buf) {
    free(o.buf);
    return NULL;
  }
  return o.buf;
}
