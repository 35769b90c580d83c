/*
 * metrics.c - see metrics.h.
 */
#include "driver/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ text files */

typedef struct text_lines {
  char *buf;
  char **line;
  int n;
} text_lines;

static void text_lines_free(text_lines *t) {
  free(t->buf);
  free(t->line);
  memset(t, 0, sizeof *t);
}

/* Reads a text file into lines (without "\n" or "\r\n"). A final line
 * without a newline counts; the empty string after a final newline does not. */
static int read_lines(const char *path, text_lines *out, pare_err *err) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return pare_errf(err, "%s: %s", path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (len + 1 >= cap) {
      char *grown = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
      if (!grown) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = grown;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - 1 - len, f);
    len += got;
    if (got == 0) break;
  }
  int read_error = ferror(f);
  fclose(f);
  if (!buf) return pare_errf(err, "%s: out of memory or file too large", path);
  if (read_error) {
    free(buf);
    return pare_errf(err, "%s: read error", path);
  }
  buf[len] = 0;
  if (memchr(buf, 0, len)) {
    free(buf);
    return pare_errf(err, "%s: contains NUL bytes, not a text file", path);
  }
  int n = 0;
  for (size_t i = 0; i < len; i++) n += buf[i] == '\n';
  if (len > 0 && buf[len - 1] != '\n') n++;
  out->line = malloc(((size_t)n + 1) * sizeof *out->line);
  if (!out->line) {
    free(buf);
    return pare_errf(err, "%s: out of memory", path);
  }
  out->buf = buf;
  char *p = buf;
  for (int k = 0; k < n; k++) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = 0;
    size_t l = strlen(p);
    if (l > 0 && p[l - 1] == '\r') p[l - 1] = 0;
    out->line[k] = p;
    p = nl ? nl + 1 : p + l;
  }
  out->n = n;
  return PARE_OK;
}

/* Decodes UTF-8 into code points; an invalid byte becomes U+FFFD. *cps is
 * malloc'd (at least one element so it is never NULL on success). */
static int utf8_decode(const char *s, uint32_t **cps, size_t *n) {
  size_t len = strlen(s);
  uint32_t *out = malloc((len + 1) * sizeof *out);
  if (!out) return PARE_ERR;
  size_t k = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned c = *p;
    int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    uint32_t cp = extra == 0 ? c : extra == 1 ? c & 0x1f : extra == 2 ? c & 0x0f : c & 0x07;
    int ok = extra >= 0;
    for (int i = 1; ok && i <= extra; i++) {
      ok = (p[i] & 0xc0) == 0x80;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (ok) {
      out[k++] = cp;
      p += 1 + extra;
    } else {
      out[k++] = 0xfffd;
      p++;
    }
  }
  *cps = out;
  *n = k;
  return PARE_OK;
}

/* Levenshtein distance between code point strings. PARE_ERR on OOM. */
static int edit_distance(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                         int64_t *dist) {
  int64_t *prev = malloc((nb + 1) * sizeof *prev), *cur = malloc((nb + 1) * sizeof *cur);
  if (!prev || !cur) {
    free(prev);
    free(cur);
    return PARE_ERR;
  }
  for (size_t j = 0; j <= nb; j++) prev[j] = (int64_t)j;
  for (size_t i = 1; i <= na; i++) {
    cur[0] = (int64_t)i;
    for (size_t j = 1; j <= nb; j++) {
      int64_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      int64_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    int64_t *t = prev;
    prev = cur;
    cur = t;
  }
  *dist = prev[nb];
  free(prev);
  free(cur);
  return PARE_OK;
}

/* Appends code points to a growable buffer. */
typedef struct cp_buf {
  uint32_t *cp;
  size_t n, cap;
} cp_buf;

static int cp_append(cp_buf *b, const uint32_t *cp, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n) cap *= 2;
    uint32_t *grown = realloc(b->cp, cap * sizeof *grown);
    if (!grown) return PARE_ERR;
    b->cp = grown;
    b->cap = cap;
  }
  memcpy(b->cp + b->n, cp, n * sizeof *cp);
  b->n += n;
  return PARE_OK;
}

/* Writes code points as UTF-8 into buf (truncating), for messages. */
static void utf8_encode(const uint32_t *cp, size_t n, char *buf, size_t len) {
  size_t k = 0;
  for (size_t i = 0; i < n && k + 5 < len; i++) {
    uint32_t c = cp[i];
    if (c < 0x80) {
      buf[k++] = (char)c;
    } else if (c < 0x800) {
      buf[k++] = (char)(0xc0 | (c >> 6));
      buf[k++] = (char)(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      buf[k++] = (char)(0xe0 | (c >> 12));
      buf[k++] = (char)(0x80 | ((c >> 6) & 0x3f));
      buf[k++] = (char)(0x80 | (c & 0x3f));
    } else {
      buf[k++] = (char)(0xf0 | (c >> 18));
      buf[k++] = (char)(0x80 | ((c >> 12) & 0x3f));
      buf[k++] = (char)(0x80 | ((c >> 6) & 0x3f));
      buf[k++] = (char)(0x80 | (c & 0x3f));
    }
  }
  if (len > 0) buf[k < len ? k : len - 1] = 0;
}

/* ------------------------------------------------------------ data sets */

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

int metric_parse_range(const char *s, long *lo, long *hi) {
  char *end;
  errno = 0;
  *lo = strtol(s, &end, 10);
  if (end == s || *lo < 0 || errno) return PARE_ERR;
  *hi = *lo;
  if (*end == '-') {
    const char *q = end + 1;
    *hi = strtol(q, &end, 10);
    if (end == q || *hi < *lo || errno) return PARE_ERR;
  }
  return *end ? PARE_ERR : PARE_OK;
}

int metric_list_sets(const char *dir, long lo, long hi, long **sets, int *n, pare_err *err) {
  *sets = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return pare_errf(err, "%s: %s", dir, strerror(errno));
  const char *prefix = "test_data_set_";
  size_t plen = strlen(prefix);
  int cap = 0, seen = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *s = e->d_name;
    if (strncmp(s, prefix, plen) != 0) continue;
    s += plen;
    if (!*s || (s[0] == '0' && s[1]) || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
      continue;
    seen++;
    long k = strtol(s, NULL, 10);
    if (k < lo || k > hi) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      long *grown = realloc(*sets, (size_t)cap * sizeof *grown);
      if (!grown) {
        closedir(d);
        free(*sets);
        *sets = NULL;
        return pare_errf(err, "out of memory");
      }
      *sets = grown;
    }
    (*sets)[(*n)++] = k;
  }
  closedir(d);
  if (*n == 0) {
    free(*sets);
    *sets = NULL;
    if (!seen) return pare_errf(err, "%s: no test_data_set_K folders", dir);
    return pare_errf(err, "%s: no test_data_set_K with K in %ld-%ld", dir, lo, hi);
  }
  qsort(*sets, (size_t)*n, sizeof **sets, cmp_long);
  return PARE_OK;
}

/* --------------------------------------------------------------- metrics */

struct metric_ctx {
  const metric_spec *spec;
  text_lines labels;    /* empty when there are none */
  text_lines label_map; /* top1 with a label map: one entry per class */
  /* ctc: code points of each class (index = class), from the vocabulary */
  uint32_t **class_cp;
  size_t *class_len;
  int n_classes;
};

const char *metric_kind_name(metric_kind kind) {
  static const char *const names[] = {"none", "top1", "ctc", "mask"};
  return kind >= METRIC_NONE && kind <= METRIC_MASK ? names[kind] : "?";
}

int metric_parse(const char *name, metric_spec *spec, pare_err *err) {
  spec->threshold = 0;
  if (strcmp(name, "none") == 0) {
    spec->kind = METRIC_NONE;
  } else if (strcmp(name, "top1") == 0) {
    spec->kind = METRIC_TOP1;
  } else if (strcmp(name, "ctc") == 0) {
    spec->kind = METRIC_CTC;
  } else if (strncmp(name, "mask", 4) == 0) {
    char *end;
    const char *t = name + 4;
    double v = strtod(t, &end);
    if (end == t || *end || !isfinite(v))
      return pare_errf(err, "metric '%s': mask needs a threshold, e.g. mask0.3", name);
    spec->kind = METRIC_MASK;
    spec->threshold = v;
  } else {
    return pare_errf(err, "unknown metric '%s' (expected top1, ctc, mask<threshold> or none)",
                     name);
  }
  return PARE_OK;
}

void metric_close(metric_ctx *m) {
  if (!m) return;
  text_lines_free(&m->labels);
  text_lines_free(&m->label_map);
  for (int k = 0; k < m->n_classes; k++) free(m->class_cp[k]);
  free(m->class_cp);
  free(m->class_len);
  free(m);
}

/* Splits a label map "0,180" into entries (reusing text_lines storage). */
static int parse_label_map(const char *spec, text_lines *out, pare_err *err) {
  memset(out, 0, sizeof *out);
  out->buf = pare_strdup(spec);
  int n = 1;
  for (const char *p = spec; *p; p++) n += *p == ',';
  out->line = malloc((size_t)n * sizeof *out->line);
  if (!out->buf || !out->line) {
    text_lines_free(out);
    return pare_errf(err, "out of memory");
  }
  char *p = out->buf;
  for (int k = 0; k < n; k++) {
    char *c = strchr(p, ',');
    if (c) *c = 0;
    if (!*p) {
      text_lines_free(out);
      return pare_errf(err, "--label-map '%s': empty entry", spec);
    }
    out->line[k] = p;
    p = c ? c + 1 : p + strlen(p);
  }
  out->n = n;
  return PARE_OK;
}

/* Loads the vocabulary: class 0 = blank (no text), class k = line k-1,
 * class n_lines+1 = space. */
static int load_vocab(metric_ctx *m, const char *path, pare_err *err) {
  text_lines v;
  if (read_lines(path, &v, err)) return PARE_ERR;
  int n = v.n + 2;
  m->class_cp = calloc((size_t)n, sizeof *m->class_cp);
  m->class_len = calloc((size_t)n, sizeof *m->class_len);
  if (!m->class_cp || !m->class_len) {
    text_lines_free(&v);
    return pare_errf(err, "%s: out of memory", path);
  }
  m->n_classes = n;
  int rc = PARE_OK;
  for (int k = 0; k < n && rc == PARE_OK; k++) {
    const char *text = k == 0 ? "" : k <= v.n ? v.line[k - 1] : " ";
    if (utf8_decode(text, &m->class_cp[k], &m->class_len[k]))
      rc = pare_errf(err, "%s: out of memory", path);
  }
  text_lines_free(&v);
  return rc;
}

metric_ctx *metric_open(const metric_spec *spec, pare_err *err) {
  metric_ctx *m = calloc(1, sizeof *m);
  if (!m) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  m->spec = spec;
  int rc = PARE_OK;
  if (spec->kind == METRIC_CTC && !spec->vocab) rc = pare_errf(err, "metric ctc needs --vocab");
  if (rc == PARE_OK && spec->labels && spec->kind != METRIC_NONE && spec->kind != METRIC_MASK)
    rc = read_lines(spec->labels, &m->labels, err);
  if (rc == PARE_OK && spec->kind == METRIC_TOP1 && spec->label_map)
    rc = parse_label_map(spec->label_map, &m->label_map, err);
  if (rc == PARE_OK && spec->kind == METRIC_CTC) rc = load_vocab(m, spec->vocab, err);
  if (rc) {
    metric_close(m);
    return NULL;
  }
  return m;
}

int metric_has_labels(const metric_ctx *m) {
  return m->labels.buf != NULL;
}

static int argmax_row(const float *row, int64_t n) {
  int64_t best = 0;
  for (int64_t c = 1; c < n; c++)
    if (row[c] > row[best]) best = c;
  return (int)best;
}

/* Parses label line `set` into class indices; *n = count. */
static int top1_labels(const metric_ctx *m, long set, int64_t **cls, int64_t *n, pare_err *err) {
  const metric_spec *o = m->spec;
  if (set >= m->labels.n)
    return pare_errf(err, "%s has %d lines, no label line for set %ld", o->labels, m->labels.n,
                     set);
  const char *line = m->labels.line[set];
  size_t len = strlen(line);
  int64_t *out = malloc((len / 2 + 2) * sizeof *out);
  if (!out) return pare_errf(err, "out of memory");
  int64_t k = 0;
  const char *seps = " \t,";
  const char *p = line + strspn(line, seps);
  while (*p) {
    size_t tl = strcspn(p, seps);
    char tok[64];
    if (tl >= sizeof tok) {
      free(out);
      return pare_errf(err, "%s line %ld: label too long", o->labels, set + 1);
    }
    memcpy(tok, p, tl);
    tok[tl] = 0;
    int64_t c = -1;
    if (m->label_map.n > 0) {
      for (int i = 0; i < m->label_map.n && c < 0; i++)
        if (strcmp(tok, m->label_map.line[i]) == 0) c = i;
      if (c < 0) {
        free(out);
        return pare_errf(err, "%s line %ld: label '%s' is not in --label-map %s", o->labels,
                         set + 1, tok, o->label_map);
      }
    } else {
      char *end;
      long long v = strtoll(tok, &end, 10);
      if (*end || v < 0) {
        free(out);
        return pare_errf(err, "%s line %ld: label '%s' is not a class index", o->labels, set + 1,
                         tok);
      }
      c = v;
    }
    out[k++] = c;
    p += tl;
    p += strspn(p, seps);
  }
  *cls = out;
  *n = k;
  return PARE_OK;
}

static int top1_shape(const pare_tensor *t, pare_err *err) {
  if (t->dtype == PARE_F32 && t->shape.rank == 2) return PARE_OK;
  char s[128];
  pare_shape_str(&t->shape, s, sizeof s);
  return pare_errf(err, "top1 needs an f32 [N,C] output, got %s %s", pare_dtype_name(t->dtype), s);
}

static int top1_score(const metric_ctx *m, long set, const pare_tensor *t, metric_acc *acc,
                      pare_err *err) {
  if (top1_shape(t, err)) return PARE_ERR;
  int64_t rows = t->shape.dims[0], cols = t->shape.dims[1], n = 0;
  int64_t *cls = NULL;
  if (top1_labels(m, set, &cls, &n, err)) return PARE_ERR;
  if (n != rows) {
    free(cls);
    return pare_errf(err, "%s line %ld has %lld labels, the output has %lld rows", m->spec->labels,
                     set + 1, (long long)n, (long long)rows);
  }
  for (int64_t r = 0; r < rows; r++) {
    if (cls[r] >= cols) {
      int64_t c = cls[r];
      free(cls);
      return pare_errf(err, "%s line %ld: class %lld out of range for %lld outputs",
                       m->spec->labels, set + 1, (long long)c, (long long)cols);
    }
    acc->hits += argmax_row((const float *)t->data + r * cols, cols) == cls[r];
    acc->total++;
  }
  free(cls);
  acc->sets++;
  return PARE_OK;
}

/* Greedy CTC decoding of t into pred. */
static int ctc_decode(const metric_ctx *m, const pare_tensor *t, cp_buf *pred, pare_err *err) {
  if (t->dtype != PARE_F32 || t->shape.rank != 3 || t->shape.dims[0] != 1) {
    char s[128];
    pare_shape_str(&t->shape, s, sizeof s);
    return pare_errf(err, "ctc needs an f32 [1,T,C] output, got %s %s", pare_dtype_name(t->dtype),
                     s);
  }
  int64_t steps = t->shape.dims[1], classes = t->shape.dims[2];
  if (classes != m->n_classes)
    return pare_errf(err,
                     "output has %lld classes, vocabulary %s gives %d (blank + %d lines + space)",
                     (long long)classes, m->spec->vocab, m->n_classes, m->n_classes - 2);
  int prev = -1;
  for (int64_t s = 0; s < steps; s++) {
    int c = argmax_row((const float *)t->data + s * classes, classes);
    if (c != 0 && c != prev && cp_append(pred, m->class_cp[c], m->class_len[c]))
      return pare_errf(err, "out of memory");
    prev = c;
  }
  return PARE_OK;
}

/* Adds the edit distance of pred from want to acc. */
static int ctc_add(const cp_buf *pred, const cp_buf *want, metric_acc *acc, int64_t *dist,
                   pare_err *err) {
  if (edit_distance(pred->cp, pred->n, want->cp, want->n, dist))
    return pare_errf(err, "out of memory");
  acc->hits += *dist;
  acc->total += (int64_t)want->n;
  acc->exact += *dist == 0;
  acc->lines++;
  acc->sets++;
  return PARE_OK;
}

static int ctc_score(const metric_ctx *m, long set, const pare_tensor *t, metric_acc *acc,
                     FILE *log, const char *tag, pare_err *err) {
  if (set >= m->labels.n)
    return pare_errf(err, "%s has %d lines, no label for set %ld", m->spec->labels, m->labels.n,
                     set);
  cp_buf pred = {0}, label = {0};
  int64_t dist = 0;
  int rc = ctc_decode(m, t, &pred, err);
  if (rc == PARE_OK && utf8_decode(m->labels.line[set], &label.cp, &label.n))
    rc = pare_errf(err, "out of memory");
  if (rc == PARE_OK) rc = ctc_add(&pred, &label, acc, &dist, err);
  if (rc == PARE_OK && log && dist) {
    char text[1024];
    utf8_encode(pred.cp, pred.n, text, sizeof text);
    fprintf(log, "  set %ld %s: \"%s\" for \"%s\" (distance %lld)\n", set, tag, text,
            m->labels.line[set], (long long)dist);
  }
  free(pred.cp);
  free(label.cp);
  return rc;
}

int metric_score(const metric_ctx *m, long set, const pare_tensor *t, metric_acc *acc, FILE *log,
                 const char *tag, pare_err *err) {
  if (!metric_has_labels(m)) return PARE_OK;
  switch (m->spec->kind) {
  case METRIC_TOP1:
    return top1_score(m, set, t, acc, err);
  case METRIC_CTC:
    return ctc_score(m, set, t, acc, log, tag, err);
  default:
    return PARE_OK;
  }
}

int metric_compare(const metric_ctx *m, const pare_tensor *a, const pare_tensor *b, metric_acc *acc,
                   pare_err *err) {
  if (m->spec->kind == METRIC_NONE) return PARE_OK;
  if (a->dtype != b->dtype || !pare_shape_equal(&a->shape, &b->shape)) {
    char sa[128], sb[128];
    pare_shape_str(&a->shape, sa, sizeof sa);
    pare_shape_str(&b->shape, sb, sizeof sb);
    return pare_errf(err, "cannot compare %s %s with %s %s", pare_dtype_name(a->dtype), sa,
                     pare_dtype_name(b->dtype), sb);
  }
  if (m->spec->kind == METRIC_TOP1) {
    if (top1_shape(a, err)) return PARE_ERR;
    int64_t rows = a->shape.dims[0], cols = a->shape.dims[1];
    for (int64_t r = 0; r < rows; r++)
      acc->hits += argmax_row((const float *)a->data + r * cols, cols) ==
                   argmax_row((const float *)b->data + r * cols, cols);
    acc->total += rows;
    acc->sets++;
    return PARE_OK;
  }
  if (m->spec->kind == METRIC_CTC) {
    cp_buf pa = {0}, pb = {0};
    int64_t dist;
    int rc = ctc_decode(m, a, &pa, err);
    if (rc == PARE_OK) rc = ctc_decode(m, b, &pb, err);
    if (rc == PARE_OK) rc = ctc_add(&pa, &pb, acc, &dist, err);
    free(pa.cp);
    free(pb.cp);
    return rc;
  }
  /* mask */
  if (a->dtype != PARE_F32)
    return pare_errf(err, "mask needs f32 maps, got %s", pare_dtype_name(a->dtype));
  const float *x = a->data, *y = b->data;
  float t = (float)m->spec->threshold; /* in the maps' precision: 0.3f is not above 0.3 */
  int64_t n = pare_tensor_numel(a);
  for (int64_t i = 0; i < n; i++) {
    int in_a = x[i] > t, in_b = y[i] > t;
    acc->hits += in_a && in_b;
    acc->total += in_a || in_b;
  }
  acc->sets++;
  return PARE_OK;
}

double metric_value(const metric_acc *a) {
  return a->total ? (double)a->hits / (double)a->total : 0.0;
}

double metric_exact(const metric_acc *a) {
  return a->lines ? (double)a->exact / (double)a->lines : 0.0;
}

void metric_str(metric_kind kind, const metric_acc *a, char *buf, size_t len) {
  if (kind == METRIC_TOP1)
    snprintf(buf, len, "top1 %.6f (%lld/%lld)", metric_value(a), (long long)a->hits,
             (long long)a->total);
  else if (kind == METRIC_CTC)
    snprintf(buf, len, "CER %.6f (%lld/%lld), exact %.6f (%lld/%lld)", metric_value(a),
             (long long)a->hits, (long long)a->total, metric_exact(a), (long long)a->exact,
             (long long)a->lines);
  else if (kind == METRIC_MASK)
    snprintf(buf, len, "IoU %.6f (%lld/%lld)", metric_value(a), (long long)a->hits,
             (long long)a->total);
  else
    snprintf(buf, len, "no metric");
}
