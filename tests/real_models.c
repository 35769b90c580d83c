/*
 * real_models.c - runs one real model through pare's reference interpreter on
 * a folder of labeled data sets and checks it against ONNX Runtime.
 *
 *   pare_real_models --model M.onnx --data DIR [--metric top1|ctc --labels F
 *                    [--label-map 0,180] [--vocab KEYS]] [--expect-metric V]
 *                    [--expect-exact V] [--metric-tol T] [--atol A]
 *                    [--max-sets N] [--sets A-B] [--name NAME] [--passes PIPELINE]
 *                    [--calib DIR [--calib-sets A-B]] [--engine E] [--verbose]
 *
 * The model is loaded once, its input bound to the shape of the first set's
 * input_0.pb, then constants are folded and the --passes pipeline (the
 * syntax of `pare run --passes`) runs. Every test_data_set_K (numeric order)
 * is run; each output_J.pb present is compared by maximum absolute deviation
 * (fails above --atol). The task metric is computed from pare's outputs and,
 * when every set has output_0.pb, from ONNX Runtime's reference outputs too.
 * With --passes, a line gives the parameters and weight bytes after them,
 * and the deviation is that of the compressed model (raise --atol).
 * --calib gives the passes calibration data as `pare --calib` does; --sets
 * evaluates only the sets with K in A-B, so that calibration and evaluation
 * sets can be kept apart.
 *
 *   top1: output [N,C]; line K of --labels holds the N labels of set K,
 *         separated by spaces or commas. A label is the class index, or with
 *         --label-map its position in that comma-separated list.
 *   ctc:  output [1,T,C] character probabilities; greedy decode (argmax per
 *         step, merge repeats, drop blank 0); class k is line k-1 of --vocab
 *         and class C-1 (one past the vocabulary) is a space, as PaddleOCR's
 *         use_space_char. Metric: CER = total Levenshtein distance over code
 *         points / total label code points; also the exact-line rate.
 *
 * Expected values may be written as fractions ("7817/8000"). With --max-sets
 * the expectations are not checked (the run is partial).
 *
 * Output: one line per model, then "N passed, N failed". Exit status 0 when
 * every check passed, 1 otherwise, 2 on usage errors. A missing model or data
 * folder prints "SKIP: <path> not found" and exits 0, so the tests pass on
 * machines without the shared models.
 */
#include "frontend/onnx.h"
#include "driver/calib.h"
#include "driver/engine.h"
#include "interp/interp.h"
#include "ops/ops.h"
#include "passes/passes.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FOLD_MAX_BYTES ((size_t)256 << 20)
#define MAX_SET_ERRORS 3 /* stop after this many sets that could not run */

enum metric_kind { METRIC_NONE, METRIC_TOP1, METRIC_CTC };

typedef struct options {
  const char *model;
  const char *data;
  const char *name;
  const char *labels;
  const char *label_map;
  const char *vocab;
  enum metric_kind metric;
  double atol;
  int has_expect, has_expect_exact;
  int has_at_most, has_at_least;
  double at_most, at_least; /* --metric-at-most / --metric-at-least */
  double min_zero_fraction; /* --min-zero-fraction */
  long long max_nonzero;    /* --max-nonzero, -1 = unchecked */
  double max_weight_bits;   /* --max-weight-bits, 0 = unchecked */
  double expect, expect_exact, metric_tol;
  long max_sets; /* -1 = all */
  engine_kind engine;
  const char *passes; /* --passes PIPELINE, or NULL */
  const char *calib, *calib_sets;
  long sets_lo, sets_hi; /* --sets */
  int verbose;
} options;

static int checks_passed, checks_failed;

static void check(int ok) {
  if (ok)
    checks_passed++;
  else
    checks_failed++;
}

/* Diagnostics go to stderr after flushing stdout so the two stay in order. */
static void diag(const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void diag(const char *name, const char *fmt, ...) {
  fflush(stdout);
  fprintf(stderr, "%s: ", name);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

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

/* Lists the K of every test_data_set_K folder entry, sorted numerically.
 * Names with leading zeros or trailing junk are ignored. */
static int list_sets(const char *dir, long **sets, int *n, pare_err *err) {
  *sets = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return pare_errf(err, "%s: %s", dir, strerror(errno));
  const char *prefix = "test_data_set_";
  size_t plen = strlen(prefix);
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *s = e->d_name;
    if (strncmp(s, prefix, plen) != 0) continue;
    s += plen;
    if (!*s || (s[0] == '0' && s[1]) || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
      continue;
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
    (*sets)[(*n)++] = strtol(s, NULL, 10);
  }
  closedir(d);
  if (*n == 0) return pare_errf(err, "%s: no test_data_set_K folders", dir);
  qsort(*sets, (size_t)*n, sizeof **sets, cmp_long);
  return PARE_OK;
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* ------------------------------------------------------------ deviation */

/* Formats flat index i of shape s as "[a,b,c]". */
static void index_str(const pare_shape *s, int64_t i, char *buf, size_t len) {
  int64_t idx[PARE_MAX_RANK];
  for (int d = s->rank - 1; d >= 0; d--) {
    int64_t dim = s->dims[d] > 0 ? s->dims[d] : 1;
    idx[d] = i % dim;
    i /= dim;
  }
  size_t k = (size_t)snprintf(buf, len, "[");
  for (int d = 0; d < s->rank && k < len; d++)
    k += (size_t)snprintf(buf + k, len - k, "%s%lld", d ? "," : "", (long long)idx[d]);
  if (k < len) snprintf(buf + k, len - k, "]");
}

/* Maximum absolute deviation of got from want (same dtype and shape, else
 * PARE_ERR with the reason). A NaN on one side only counts as infinite. */
static int max_deviation(const pare_tensor *got, const pare_tensor *want, double *worst,
                         int64_t *where, pare_err *err) {
  if (got->dtype != want->dtype)
    return pare_errf(err, "dtype %s, reference %s", pare_dtype_name(got->dtype),
                     pare_dtype_name(want->dtype));
  if (!pare_shape_equal(&got->shape, &want->shape)) {
    char a[128], b[128];
    pare_shape_str(&got->shape, a, sizeof a);
    pare_shape_str(&want->shape, b, sizeof b);
    return pare_errf(err, "shape %s, reference %s", a, b);
  }
  int64_t count = pare_tensor_numel(want);
  *worst = 0;
  *where = 0;
  for (int64_t i = 0; i < count; i++) {
    double a, b;
    if (want->dtype == PARE_F32) {
      a = ((const float *)got->data)[i];
      b = ((const float *)want->data)[i];
    } else {
      a = pare_tensor_get_f64(got, i);
      b = pare_tensor_get_f64(want, i);
    }
    double d;
    if (isnan(a) || isnan(b))
      d = isnan(a) && isnan(b) ? 0 : INFINITY;
    else if (a == b)
      d = 0; /* also equal infinities */
    else
      d = fabs(a - b);
    if (d > *worst) {
      *worst = d;
      *where = i;
    }
  }
  return PARE_OK;
}

/* --------------------------------------------------------------- metrics */

/* top1: hits = correct, total = labels; ctc: hits = edit distance,
 * total = label code points, exact/lines = exactly decoded lines. */
typedef struct metric_acc {
  int64_t hits, total, exact, lines;
  int sets;
} metric_acc;

typedef struct metric_ctx {
  const options *o;
  text_lines labels;
  text_lines label_map; /* top1 with --label-map: one entry per class */
  /* ctc: code points of each class (index = class), from the vocabulary */
  uint32_t **class_cp;
  size_t *class_len;
  int n_classes;
} metric_ctx;

static void metric_ctx_free(metric_ctx *m) {
  text_lines_free(&m->labels);
  text_lines_free(&m->label_map);
  for (int k = 0; k < m->n_classes; k++) free(m->class_cp[k]);
  free(m->class_cp);
  free(m->class_len);
  memset(m, 0, sizeof *m);
}

/* Splits --label-map "0,180" into entries (reusing text_lines storage). */
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

static int metric_ctx_init(metric_ctx *m, const options *o, pare_err *err) {
  memset(m, 0, sizeof *m);
  m->o = o;
  if (o->metric == METRIC_NONE) return PARE_OK;
  if (read_lines(o->labels, &m->labels, err)) return PARE_ERR;
  if (o->metric == METRIC_TOP1 && o->label_map && parse_label_map(o->label_map, &m->label_map, err))
    return PARE_ERR;
  if (o->metric == METRIC_CTC && load_vocab(m, o->vocab, err)) return PARE_ERR;
  return PARE_OK;
}

static int argmax_row(const float *row, int64_t n) {
  int64_t best = 0;
  for (int64_t c = 1; c < n; c++)
    if (row[c] > row[best]) best = c;
  return (int)best;
}

/* Parses label line `set` into class indices; *n = count. */
static int top1_labels(const metric_ctx *m, long set, int64_t **cls, int64_t *n, pare_err *err) {
  const options *o = m->o;
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

static int top1_score(const metric_ctx *m, long set, const pare_tensor *t, metric_acc *acc,
                      pare_err *err) {
  if (t->dtype != PARE_F32 || t->shape.rank != 2) {
    char s[128];
    pare_shape_str(&t->shape, s, sizeof s);
    return pare_errf(err, "top1 needs an f32 [N,C] output, got %s %s", pare_dtype_name(t->dtype),
                     s);
  }
  int64_t rows = t->shape.dims[0], cols = t->shape.dims[1], n = 0;
  int64_t *cls = NULL;
  if (top1_labels(m, set, &cls, &n, err)) return PARE_ERR;
  if (n != rows) {
    free(cls);
    return pare_errf(err, "%s line %ld has %lld labels, the output has %lld rows", m->o->labels,
                     set + 1, (long long)n, (long long)rows);
  }
  for (int64_t r = 0; r < rows; r++) {
    if (cls[r] >= cols) {
      int64_t c = cls[r];
      free(cls);
      return pare_errf(err, "%s line %ld: class %lld out of range for %lld outputs", m->o->labels,
                       set + 1, (long long)c, (long long)cols);
    }
    acc->hits += argmax_row((const float *)t->data + r * cols, cols) == cls[r];
    acc->total++;
  }
  free(cls);
  acc->sets++;
  return PARE_OK;
}

static int ctc_score(const metric_ctx *m, long set, const pare_tensor *t, metric_acc *acc,
                     int verbose, const char *tag, pare_err *err) {
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
                     (long long)classes, m->o->vocab, m->n_classes, m->n_classes - 2);
  if (set >= m->labels.n)
    return pare_errf(err, "%s has %d lines, no label for set %ld", m->o->labels, m->labels.n, set);
  cp_buf pred = {0};
  int prev = -1, rc = PARE_OK;
  for (int64_t s = 0; s < steps && rc == PARE_OK; s++) {
    int c = argmax_row((const float *)t->data + s * classes, classes);
    if (c != 0 && c != prev && cp_append(&pred, m->class_cp[c], m->class_len[c]))
      rc = pare_errf(err, "out of memory");
    prev = c;
  }
  uint32_t *label = NULL;
  size_t label_n = 0;
  int64_t dist = 0;
  if (rc == PARE_OK && utf8_decode(m->labels.line[set], &label, &label_n))
    rc = pare_errf(err, "out of memory");
  if (rc == PARE_OK && edit_distance(pred.cp, pred.n, label, label_n, &dist))
    rc = pare_errf(err, "out of memory");
  if (rc == PARE_OK) {
    acc->hits += dist;
    acc->total += (int64_t)label_n;
    acc->exact += dist == 0;
    acc->lines++;
    acc->sets++;
    if (verbose && dist) {
      char text[1024];
      utf8_encode(pred.cp, pred.n, text, sizeof text);
      printf("  set %ld %s: \"%s\" for \"%s\" (distance %lld)\n", set, tag, text,
             m->labels.line[set], (long long)dist);
    }
  }
  free(pred.cp);
  free(label);
  return rc;
}

static int metric_score(const metric_ctx *m, long set, const pare_tensor *t, metric_acc *acc,
                        const char *tag, pare_err *err) {
  switch (m->o->metric) {
  case METRIC_TOP1:
    return top1_score(m, set, t, acc, err);
  case METRIC_CTC:
    return ctc_score(m, set, t, acc, m->o->verbose, tag, err);
  default:
    return PARE_OK;
  }
}

static double acc_value(const metric_acc *a) {
  return a->total ? (double)a->hits / (double)a->total : 0.0;
}

static double acc_exact(const metric_acc *a) {
  return a->lines ? (double)a->exact / (double)a->lines : 0.0;
}

/* "top1 0.977100 (7817/8000)" or "CER 0.003934 (9/2288), exact 0.946667 (142/150)" */
static void metric_str(const options *o, const metric_acc *a, char *buf, size_t len) {
  if (o->metric == METRIC_TOP1)
    snprintf(buf, len, "top1 %.6f (%lld/%lld)", acc_value(a), (long long)a->hits,
             (long long)a->total);
  else if (o->metric == METRIC_CTC)
    snprintf(buf, len, "CER %.6f (%lld/%lld), exact %.6f (%lld/%lld)", acc_value(a),
             (long long)a->hits, (long long)a->total, acc_exact(a), (long long)a->exact,
             (long long)a->lines);
  else
    snprintf(buf, len, "no metric");
}

/* ------------------------------------------------------------ the model */

typedef struct run_result {
  int sets_run, sets_total, set_errors;
  double worst;
  long worst_set;
  int worst_output;
  char worst_where[128];
  int compared; /* outputs compared against a reference */
  double *times;
  metric_acc pare, ref;
  int ref_complete; /* every set run had output_0.pb, scored */
  int truncated;    /* --max-sets cut the run short */
} run_result;

static pare_tensor *read_set_tensor(const char *data, long set, const char *file, pare_err *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/test_data_set_%ld/%s", data, set, file);
  return pare_tensor_read_pb(path, err);
}

/* Loads the model and makes it static for the shape of `first`. */
static pare_graph *prepare_model(const options *o, const pare_tensor *first, pare_err *err) {
  pare_graph *g = pare_onnx_load(o->model, err);
  if (!g) return NULL;
  if (g->n_inputs != 1) {
    pare_errf(err, "%s: model has %d inputs; only single-input models are supported", o->model,
              g->n_inputs);
    goto fail;
  }
  if (g->n_outputs < 1) {
    pare_errf(err, "%s: model has no outputs", o->model);
    goto fail;
  }
  const char *in_name = g->values[g->inputs[0]]->name;
  if (pare_bind_input_shape(g, in_name, &first->shape, err) || pare_infer_shapes(g, err) ||
      pare_fold_constants(g, FOLD_MAX_BYTES, NULL, err)) {
    pare_err_prefix(err, "%s", o->model);
    goto fail;
  }
  if (o->passes) {
    pare_pipeline p;
    calib_data calib = {0};
    pare_pm_opts pm = {0};
    int rc = pare_pipeline_parse(o->passes, &p, err);
    if (rc == PARE_OK && o->calib) {
      rc = calib_open(&calib, o->calib, o->calib_sets, err);
      pm.calib = &calib.base;
    }
    if (rc == PARE_OK) rc = pare_pipeline_run(&p, g, &pm, err);
    calib_close(&calib);
    pare_pipeline_free(&p);
    if (rc) {
      pare_err_prefix(err, "%s: --passes", o->model);
      goto fail;
    }
    int64_t params = 0, bytes = 0;
    for (int v = 0; v < g->n_values; v++) {
      const pare_value *val = g->values[v];
      if (!val->init) continue;
      if (pare_dtype_is_float(val->dtype)) params += pare_tensor_numel(val->init);
      bytes += val->enc ? (int64_t)pare_encoding_bytes(val->enc) : (int64_t)val->init->nbytes;
    }
    printf("%s: passes '%s': %lld parameters, %lld weight bytes\n", o->name, o->passes,
           (long long)params, (long long)bytes);
    /* Zeros in the weights of Conv/Gemm/MatMul (input 1), each once. */
    int64_t zeros = 0, total = 0, lin_bytes = 0;
    char *seen = calloc((size_t)g->n_values + 1, 1);
    for (int k = 0; seen && k < g->n_nodes; k++) {
      const pare_node *n = g->nodes[k];
      if (!n->op || n->n_inputs < 2 || n->inputs[1] < 0) continue;
      if (strcmp(n->op, "Conv") && strcmp(n->op, "Gemm") && strcmp(n->op, "MatMul")) continue;
      const pare_value *w = g->values[n->inputs[1]];
      if (!w->init || w->init->dtype != PARE_F32 || seen[n->inputs[1]]) continue;
      seen[n->inputs[1]] = 1;
      const float *d = w->init->data;
      for (int64_t j = 0; j < pare_tensor_numel(w->init); j++) zeros += d[j] == 0.0f;
      total += pare_tensor_numel(w->init);
      lin_bytes += w->enc ? (int64_t)pare_encoding_bytes(w->enc) : (int64_t)w->init->nbytes;
    }
    free(seen);
    /* As stored: encoded bytes (codes, scales, zero points, outliers). */
    double wbits = total ? 8.0 * (double)lin_bytes / (double)total : 0;
    printf("%s: Conv/Gemm/MatMul weights take %lld bytes, %.4f bits per weight\n", o->name,
           (long long)lin_bytes, wbits);
    if (o->max_weight_bits > 0) {
      if (wbits > o->max_weight_bits)
        printf("%s: FAIL: more than --max-weight-bits %g\n", o->name, o->max_weight_bits);
      check(wbits <= o->max_weight_bits);
    }
    double frac = total ? (double)zeros / (double)total : 0;
    printf("%s: %lld of %lld Conv/Gemm/MatMul weights are zero (%.2f%%)\n", o->name,
           (long long)zeros, (long long)total, 100 * frac);
    if (o->max_nonzero >= 0) {
      if (total - zeros > o->max_nonzero)
        printf("%s: FAIL: %lld non-zero weights, more than --max-nonzero %lld\n", o->name,
               (long long)(total - zeros), (long long)o->max_nonzero);
      check(total - zeros <= o->max_nonzero);
    }
    if (o->min_zero_fraction > 0) {
      if (frac < o->min_zero_fraction)
        printf("%s: FAIL: fewer zeros than --min-zero-fraction %g\n", o->name,
               o->min_zero_fraction);
      check(frac >= o->min_zero_fraction);
    }
  }
  return g;
fail:
  pare_graph_free(g);
  return NULL;
}

/* Compares output j of set `set` with output_j.pb when it exists. Returns
 * PARE_ERR (message set) when it cannot be compared; *over set when the
 * deviation exceeds atol. */
static int compare_output(const options *o, long set, int j, const pare_tensor *got,
                          pare_tensor **ref_out, run_result *r, int *over, pare_err *err) {
  char file[64], path[4096];
  snprintf(file, sizeof file, "output_%d.pb", j);
  snprintf(path, sizeof path, "%s/test_data_set_%ld/%s", o->data, set, file);
  *ref_out = NULL;
  if (!file_exists(path)) return PARE_OK;
  pare_tensor *want = pare_tensor_read_pb(path, err);
  if (!want) return PARE_ERR;
  double worst = 0;
  int64_t where = 0;
  if (max_deviation(got, want, &worst, &where, err)) {
    pare_tensor_free(want);
    return pare_err_prefix(err, "%s", path);
  }
  r->compared++;
  if (worst > r->worst || r->worst_set < 0) {
    r->worst = worst;
    r->worst_set = set;
    r->worst_output = j;
    index_str(&want->shape, where, r->worst_where, sizeof r->worst_where);
  }
  if (!(worst <= o->atol)) {
    *over = 1;
    char at[128];
    index_str(&want->shape, where, at, sizeof at);
    diag(o->name, "set %ld output %d: max |diff| %.3g at %s (pare %.9g, reference %.9g) > atol %g",
         set, j, worst, at, pare_tensor_get_f64(got, where), pare_tensor_get_f64(want, where),
         o->atol);
  }
  *ref_out = want;
  return PARE_OK;
}

/* Runs one data set. Returns PARE_OK when it ran and was scored (deviation
 * failures are reported through *ok only). */
static int run_set(const options *o, engine *e, const metric_ctx *m, long set, run_result *r,
                   int *ok, pare_err *err) {
  const pare_graph *g = e->g;
  *ok = 0;
  pare_tensor *input = read_set_tensor(o->data, set, "input_0.pb", err);
  if (!input) return PARE_ERR;
  pare_tensor **outs = calloc((size_t)g->n_outputs, sizeof *outs);
  if (!outs) {
    pare_tensor_free(input);
    return pare_errf(err, "out of memory");
  }
  double t0 = now_seconds();
  int rc = engine_run(e, &input, outs, err);
  double t1 = now_seconds();
  pare_tensor_free(input);
  if (rc) {
    for (int j = 0; j < g->n_outputs; j++) pare_tensor_free(outs[j]);
    free(outs);
    return pare_err_prefix(err, "%s engine", engine_kind_name(o->engine));
  }
  r->times[r->sets_run++] = t1 - t0;
  /* An unreadable reference fails the set but does not stop the scoring. */
  int over = 0, ref_failed = 0;
  pare_tensor *ref0 = NULL;
  for (int j = 0; j < g->n_outputs; j++) {
    pare_tensor *ref = NULL;
    pare_err ref_err;
    if (compare_output(o, set, j, outs[j], &ref, r, &over, &ref_err)) {
      diag(o->name, "set %ld: %s", set, ref_err.msg);
      ref_failed = 1;
      if (j == 0) r->ref_complete = 0;
    }
    if (j == 0)
      ref0 = ref;
    else
      pare_tensor_free(ref);
  }
  rc = metric_score(m, set, outs[0], &r->pare, "pare", err);
  if (rc == PARE_OK && ref0 && r->ref_complete) {
    pare_err ref_err;
    if (metric_score(m, set, ref0, &r->ref, "reference", &ref_err)) {
      diag(o->name, "set %ld: reference metric: %s", set, ref_err.msg);
      r->ref_complete = 0;
    }
  }
  if (!ref0) r->ref_complete = 0;
  if (o->verbose && rc == PARE_OK)
    printf("  set %ld: %.2f ms%s\n", set, (t1 - t0) * 1e3, over ? ", deviation over atol" : "");
  pare_tensor_free(ref0);
  for (int j = 0; j < g->n_outputs; j++) pare_tensor_free(outs[j]);
  free(outs);
  *ok = rc == PARE_OK && !over && !ref_failed;
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  if (n == 0) return 0;
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Checks value against an expectation; prints why when it fails. */
static void check_expect(const options *o, const char *what, double value, double expect,
                         int complete, int truncated) {
  if (truncated) return; /* partial run: expectations do not apply */
  if (!complete) {
    diag(o->name, "%s not checked against %.6f: not every set was scored", what, expect);
    check(0);
    return;
  }
  int ok = fabs(value - expect) <= o->metric_tol;
  if (!ok)
    diag(o->name, "%s %.9f, expected %.9f (tolerance %g)", what, value, expect, o->metric_tol);
  check(ok);
}

static void print_model_line(const options *o, const run_result *r, double load_s,
                             double compile_s) {
  char dev[256], met[256] = "", ref[256] = "";
  if (r->compared)
    snprintf(dev, sizeof dev, "worst |diff| %.3g at set %ld output %d %s (atol %g)", r->worst,
             r->worst_set, r->worst_output, r->worst_where, o->atol);
  else
    snprintf(dev, sizeof dev, "no reference outputs");
  if (o->metric != METRIC_NONE) {
    char s[200];
    metric_str(o, &r->pare, s, sizeof s);
    snprintf(met, sizeof met, ", %s", s);
    if (r->ref_complete && r->ref.sets > 0) {
      metric_str(o, &r->ref, s, sizeof s);
      snprintf(ref, sizeof ref, ", reference %s", s);
    }
  }
  double *times = malloc(((size_t)r->sets_run + 1) * sizeof *times);
  double med = 0;
  if (times) {
    memcpy(times, r->times, (size_t)r->sets_run * sizeof *times);
    med = median(times, r->sets_run);
    free(times);
  }
  printf("%s: %d/%d sets, %s%s%s, %s %.2f ms/set median (load+fold %.2f s, compile %.2f s)\n",
         o->name, r->sets_run, r->sets_total, dev, met, ref, engine_kind_name(o->engine), med * 1e3,
         load_s, compile_s);
}

static int run_model(const options *o) {
  pare_err err;
  long *sets = NULL;
  int n_sets = 0;
  if (list_sets(o->data, &sets, &n_sets, &err)) {
    printf("%s: not run: %s\n", o->name, err.msg);
    check(0);
    free(sets);
    return PARE_ERR;
  }
  int kept = 0;
  for (int i = 0; i < n_sets; i++)
    if (sets[i] >= o->sets_lo && sets[i] <= o->sets_hi) sets[kept++] = sets[i];
  n_sets = kept;
  if (n_sets == 0) {
    printf("%s: not run: no test_data_set_K with K in --sets\n", o->name);
    check(0);
    free(sets);
    return PARE_ERR;
  }
  metric_ctx m;
  if (metric_ctx_init(&m, o, &err)) {
    printf("%s: not run: %s\n", o->name, err.msg);
    check(0);
    metric_ctx_free(&m);
    free(sets);
    return PARE_ERR;
  }
  run_result r;
  memset(&r, 0, sizeof r);
  r.worst_set = -1;
  r.ref_complete = 1;
  r.sets_total = n_sets;
  if (o->max_sets >= 0 && o->max_sets < n_sets) {
    n_sets = (int)o->max_sets;
    r.truncated = 1;
  }
  r.times = calloc((size_t)n_sets + 1, sizeof *r.times);

  double t0 = now_seconds();
  pare_graph *g = NULL;
  pare_tensor *first = read_set_tensor(o->data, sets[0], "input_0.pb", &err);
  if (first) {
    g = prepare_model(o, first, &err);
    pare_tensor_free(first);
  }
  double load_s = now_seconds() - t0;
  check(g != NULL && r.times != NULL);
  if (!g || !r.times) {
    printf("%s: not run: %s\n", o->name, r.times ? err.msg : "out of memory");
    pare_graph_free(g);
    metric_ctx_free(&m);
    free(r.times);
    free(sets);
    return PARE_ERR;
  }

  engine e;
  t0 = now_seconds();
  if (engine_open(&e, o->engine, g, 3, &err)) {
    printf("%s: not run: %s engine: %s\n", o->name, engine_kind_name(o->engine), err.msg);
    check(0);
    engine_close(&e);
    pare_graph_free(g);
    metric_ctx_free(&m);
    free(r.times);
    free(sets);
    return PARE_ERR;
  }
  double compile_s = now_seconds() - t0;
  for (int i = 0; i < n_sets; i++) {
    int ok;
    if (run_set(o, &e, &m, sets[i], &r, &ok, &err)) {
      diag(o->name, "set %ld: %s", sets[i], err.msg);
      r.set_errors++;
    }
    check(ok);
    if (r.set_errors >= MAX_SET_ERRORS && i + 1 < n_sets) {
      diag(o->name, "stopping after %d sets that failed to run; %d sets not run", r.set_errors,
           n_sets - i - 1);
      checks_failed += n_sets - i - 1;
      break;
    }
  }
  if (r.pare.sets < n_sets) r.ref_complete = 0;

  engine_close(&e);
  print_model_line(o, &r, load_s, compile_s);
  if (o->metric != METRIC_NONE) {
    int complete = r.pare.sets == r.sets_total;
    if (o->has_expect) {
      check_expect(o, "pare metric", acc_value(&r.pare), o->expect, complete, r.truncated);
      if (r.ref_complete && !r.truncated)
        check_expect(o, "reference metric", acc_value(&r.ref), o->expect, 1, 0);
    }
    if (o->has_at_most || o->has_at_least) {
      double v = acc_value(&r.pare);
      int ok = (!o->has_at_most || v <= o->at_most) && (!o->has_at_least || v >= o->at_least);
      printf("%s: pare metric %.6f %s%s\n", o->name, v, ok ? "within" : "OUTSIDE",
             o->has_at_most && o->has_at_least ? " the bounds"
             : o->has_at_most                  ? " the upper bound"
                                               : " the lower bound");
      check(ok);
    }
    if (o->has_expect_exact && o->metric == METRIC_CTC)
      check_expect(o, "pare exact-line rate", acc_exact(&r.pare), o->expect_exact, complete,
                   r.truncated);
  }
  if (r.truncated)
    printf("%s: partial run (--max-sets %ld): metric expectations not checked\n", o->name,
           o->max_sets);
  pare_graph_free(g);
  metric_ctx_free(&m);
  free(r.times);
  free(sets);
  return PARE_OK;
}

/* ------------------------------------------------------------- options */

static void usage(FILE *f) {
  fprintf(f,
          "usage: pare_real_models --model M.onnx --data DIR [options]\n"
          "  --metric top1|ctc|none  task metric (default none)\n"
          "  --labels FILE           labels, line K for test_data_set_K\n"
          "  --label-map A,B,...     top1: label text of class 0, 1, ... (default: class index)\n"
          "  --vocab FILE            ctc: vocabulary, line k = class k+1, last class = space\n"
          "  --expect-metric V       fail unless pare's top1 accuracy / CER equals V (a/b ok)\n"
          "  --expect-exact V        ctc: fail unless the exact-line rate equals V\n"
          "  --min-zero-fraction F   with --passes: fail unless this share of the\n"
          "                          Conv/Gemm/MatMul weights is zero\n"
          "  --max-weight-bits B     with --passes: fail if the Conv/Gemm/MatMul weights take\n"
          "                          more than B bits each on average, as stored\n"
          "  --max-nonzero N         with --passes: fail if more Conv/Gemm/MatMul weights\n"
          "                          than N are non-zero (structurally removed ones count\n"
          "                          as removed)\n"
          "  --metric-at-most V      fail if pare's metric is above V (e.g. a CER bound)\n"
          "  --metric-at-least V     fail if pare's metric is below V (e.g. an accuracy floor)\n"
          "  --metric-tol T          tolerance of the expectations (default 1e-9)\n"
          "  --atol A                max absolute deviation from output_K.pb (default 1e-3)\n"
          "  --max-sets N            run only the first N sets (expectations not checked)\n"
          "  --engine E              interp (default), jit or aot: what runs the model\n"
          "  --passes PIPELINE       pass pipeline run after folding (see 'pare passes')\n"
          "  --calib DIR             calibration data for the passes (as pare --calib)\n"
          "  --calib-sets A-B        only the calibration sets with K in A-B\n"
          "  --sets A-B              evaluate only the sets with K in A-B\n"
          "  --name NAME             name in the report (default: data folder name)\n"
          "  --verbose               one line per set, and CTC lines decoded wrong\n");
}

/* A number or a fraction "a/b". */
static int parse_value(const char *s, double *out) {
  char *end;
  double a = strtod(s, &end);
  if (end == s) return PARE_ERR;
  if (*end == '/') {
    const char *q = end + 1;
    double b = strtod(q, &end);
    if (end == q || b == 0) return PARE_ERR;
    a /= b;
  }
  if (*end || !isfinite(a)) return PARE_ERR;
  *out = a;
  return PARE_OK;
}

static int parse_options(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  o->atol = 1e-3;
  o->metric_tol = 1e-9;
  o->max_sets = -1;
  o->sets_lo = 0, o->sets_hi = LONG_MAX;
  o->max_nonzero = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    }
    if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
      o->verbose = 1;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "pare_real_models: %s needs a value\n", a);
      return PARE_ERR;
    }
    const char *v = argv[++i];
    int bad = 0;
    if (strcmp(a, "--model") == 0)
      o->model = v;
    else if (strcmp(a, "--data") == 0)
      o->data = v;
    else if (strcmp(a, "--name") == 0)
      o->name = v;
    else if (strcmp(a, "--labels") == 0)
      o->labels = v;
    else if (strcmp(a, "--label-map") == 0)
      o->label_map = v;
    else if (strcmp(a, "--vocab") == 0)
      o->vocab = v;
    else if (strcmp(a, "--passes") == 0) {
      /* Parsed here for a usage error; run after the model is folded. */
      pare_pipeline p;
      pare_err perr;
      bad = pare_pipeline_parse(v, &p, &perr) != PARE_OK;
      if (bad) fprintf(stderr, "pare_real_models: --passes: %s\n", perr.msg);
      pare_pipeline_free(&p);
      o->passes = v;
    } else if (strcmp(a, "--engine") == 0) {
      int k = engine_kind_from_name(v);
      bad = k < 0;
      o->engine = k < 0 ? ENGINE_INTERP : (engine_kind)k;
    } else if (strcmp(a, "--metric") == 0) {
      if (strcmp(v, "top1") == 0)
        o->metric = METRIC_TOP1;
      else if (strcmp(v, "ctc") == 0)
        o->metric = METRIC_CTC;
      else if (strcmp(v, "none") == 0)
        o->metric = METRIC_NONE;
      else
        bad = 1;
    } else if (strcmp(a, "--expect-metric") == 0) {
      bad = parse_value(v, &o->expect) != PARE_OK;
      o->has_expect = 1;
    } else if (strcmp(a, "--max-weight-bits") == 0) {
      bad = parse_value(v, &o->max_weight_bits) != PARE_OK || !(o->max_weight_bits > 0);
    } else if (strcmp(a, "--max-nonzero") == 0) {
      char *end;
      o->max_nonzero = strtoll(v, &end, 10);
      bad = *end || end == v || o->max_nonzero < 0;
    } else if (strcmp(a, "--min-zero-fraction") == 0) {
      bad = parse_value(v, &o->min_zero_fraction) != PARE_OK;
    } else if (strcmp(a, "--metric-at-most") == 0) {
      bad = parse_value(v, &o->at_most) != PARE_OK;
      o->has_at_most = 1;
    } else if (strcmp(a, "--metric-at-least") == 0) {
      bad = parse_value(v, &o->at_least) != PARE_OK;
      o->has_at_least = 1;
    } else if (strcmp(a, "--expect-exact") == 0) {
      bad = parse_value(v, &o->expect_exact) != PARE_OK;
      o->has_expect_exact = 1;
    } else if (strcmp(a, "--metric-tol") == 0) {
      bad = parse_value(v, &o->metric_tol) != PARE_OK || o->metric_tol < 0;
    } else if (strcmp(a, "--atol") == 0) {
      bad = parse_value(v, &o->atol) != PARE_OK || o->atol < 0;
    } else if (strcmp(a, "--calib") == 0) {
      o->calib = v;
    } else if (strcmp(a, "--calib-sets") == 0) {
      o->calib_sets = v;
    } else if (strcmp(a, "--sets") == 0) {
      char *end;
      o->sets_lo = o->sets_hi = strtol(v, &end, 10);
      if (*end == '-') o->sets_hi = strtol(end + 1, &end, 10);
      bad = *end || end == v || o->sets_lo < 0 || o->sets_hi < o->sets_lo;
    } else if (strcmp(a, "--max-sets") == 0) {
      char *end;
      o->max_sets = strtol(v, &end, 10);
      bad = *end || end == v || o->max_sets < 1;
    } else {
      fprintf(stderr, "pare_real_models: unknown option %s\n", a);
      return PARE_ERR;
    }
    if (bad) {
      fprintf(stderr, "pare_real_models: bad value '%s' for %s\n", v, a);
      return PARE_ERR;
    }
  }
  if (!o->model || !o->data) {
    fprintf(stderr, "pare_real_models: --model and --data are required\n");
    return PARE_ERR;
  }
  if (o->metric != METRIC_NONE && !o->labels) {
    fprintf(stderr, "pare_real_models: --metric needs --labels\n");
    return PARE_ERR;
  }
  if (o->metric == METRIC_CTC && !o->vocab) {
    fprintf(stderr, "pare_real_models: --metric ctc needs --vocab\n");
    return PARE_ERR;
  }
  if ((o->has_expect || o->has_expect_exact || o->has_at_most || o->has_at_least) &&
      o->metric == METRIC_NONE) {
    fprintf(stderr, "pare_real_models: --expect-metric needs --metric\n");
    return PARE_ERR;
  }
  if (o->has_expect_exact && o->metric != METRIC_CTC) {
    fprintf(stderr, "pare_real_models: --expect-exact applies to --metric ctc only\n");
    return PARE_ERR;
  }
  return PARE_OK;
}

/* The data folder's last path component, for the report. */
static const char *default_name(const char *data, char *buf, size_t len) {
  size_t n = strlen(data);
  while (n > 1 && data[n - 1] == '/') n--;
  size_t start = n;
  while (start > 0 && data[start - 1] != '/') start--;
  snprintf(buf, len, "%.*s", (int)(n - start), data + start);
  return buf;
}

int main(int argc, char **argv) {
  options o;
  if (parse_options(argc, argv, &o)) {
    fprintf(stderr, "pare_real_models: run with --help for usage\n");
    return 2;
  }
  char name[256];
  if (!o.name) o.name = default_name(o.data, name, sizeof name);
  /* The shared models live outside the project: their absence is a skip. */
  const char *paths[] = {o.model, o.data};
  for (int i = 0; i < 2; i++) {
    struct stat st;
    if (stat(paths[i], &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
      printf("SKIP: %s not found\n", paths[i]);
      return 0;
    }
  }
  run_model(&o);
  printf("%d passed, %d failed\n", checks_passed, checks_failed);
  return checks_failed ? 1 : 0;
}
