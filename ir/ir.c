/*
 * ir.c - core IR objects: errors, dtypes, shapes, tensors, attributes, graphs.
 */
#include "ir/ir.h"

#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t pare_max_tensor_bytes = (size_t)8 << 30; /* 8 GiB */
size_t pare_max_memory = PARE_DEFAULT_MAX_MEMORY;
/* Atomic: the JIT's engine and tests may allocate from several threads. */
static _Atomic size_t memory_in_use;

/* ---------------------------------------------------------------- errors */

int pare_errf(pare_err *err, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return PARE_ERR;
}

int pare_err_prefix(pare_err *err, const char *fmt, ...) {
  if (!err) return PARE_ERR;
  char prefix[PARE_ERR_LEN], old[PARE_ERR_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  /* Truncation of an over-long message is acceptable; keep the prefix. */
  size_t plen = strnlen(prefix, sizeof prefix - 3);
  memcpy(err->msg, prefix, plen);
  memcpy(err->msg + plen, ": ", 2);
  size_t room = sizeof err->msg - plen - 3;
  size_t olen = strnlen(old, room);
  memcpy(err->msg + plen + 2, old, olen);
  err->msg[plen + 2 + olen] = 0;
  return PARE_ERR;
}

char *pare_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

/* ---------------------------------------------------------------- dtypes */

static const struct {
  pare_dtype dt;
  const char *name;
  size_t size;
} dtype_table[] = {
    {PARE_F32, "f32", 4},       {PARE_U8, "u8", 1},   {PARE_I8, "i8", 1},   {PARE_U16, "u16", 2},
    {PARE_I16, "i16", 2},       {PARE_I32, "i32", 4}, {PARE_I64, "i64", 8}, {PARE_BOOL, "bool", 1},
    {PARE_F16, "f16", 2},       {PARE_F64, "f64", 8}, {PARE_U32, "u32", 4}, {PARE_U64, "u64", 8},
    {PARE_STRING, "string", 0},
};

size_t pare_dtype_size(pare_dtype dt) {
  for (size_t i = 0; i < sizeof dtype_table / sizeof dtype_table[0]; i++)
    if (dtype_table[i].dt == dt) return dtype_table[i].size;
  return 0;
}

const char *pare_dtype_name(pare_dtype dt) {
  for (size_t i = 0; i < sizeof dtype_table / sizeof dtype_table[0]; i++)
    if (dtype_table[i].dt == dt) return dtype_table[i].name;
  return "undef";
}

pare_dtype pare_dtype_from_name(const char *name) {
  for (size_t i = 0; i < sizeof dtype_table / sizeof dtype_table[0]; i++)
    if (strcmp(dtype_table[i].name, name) == 0) return dtype_table[i].dt;
  return PARE_UNDEFINED;
}

int pare_dtype_is_float(pare_dtype dt) {
  return dt == PARE_F32 || dt == PARE_F64 || dt == PARE_F16;
}

int pare_dtype_is_int(pare_dtype dt) {
  switch (dt) {
  case PARE_U8:
  case PARE_I8:
  case PARE_U16:
  case PARE_I16:
  case PARE_I32:
  case PARE_I64:
  case PARE_U32:
  case PARE_U64:
    return 1;
  default:
    return 0;
  }
}

/* ---------------------------------------------------------------- shapes */

pare_shape pare_shape_make(int rank, const int64_t *dims) {
  pare_shape s;
  memset(&s, 0, sizeof s);
  s.rank = rank;
  for (int i = 0; i < rank && i < PARE_MAX_RANK; i++) s.dims[i] = dims ? dims[i] : -1;
  return s;
}

pare_shape pare_shape_unknown(void) {
  pare_shape s;
  memset(&s, 0, sizeof s);
  s.rank = -1;
  return s;
}

int pare_shape_is_static(const pare_shape *s) {
  if (s->rank < 0 || s->rank > PARE_MAX_RANK) return 0;
  for (int i = 0; i < s->rank; i++)
    if (s->dims[i] < 0) return 0;
  return 1;
}

int pare_shape_equal(const pare_shape *a, const pare_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

int pare_shape_numel(const pare_shape *s, int64_t *out, pare_err *err) {
  if (!pare_shape_is_static(s)) return pare_errf(err, "shape is not static");
  const int64_t limit = INT64_MAX / 16;
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) {
    int64_t d = s->dims[i];
    if (d != 0 && n > limit / d) return pare_errf(err, "element count overflows");
    n *= d;
  }
  *out = n;
  return PARE_OK;
}

void pare_shape_str(const pare_shape *s, char *buf, size_t len) {
  if (s->rank < 0) {
    snprintf(buf, len, "[*]");
    return;
  }
  size_t used = 0;
  used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "[");
  for (int i = 0; i < s->rank; i++) {
    if (s->dims[i] < 0)
      used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s?", i ? "," : "");
    else
      used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%lld", i ? "," : "",
                               (long long)s->dims[i]);
  }
  snprintf(buf + used, used < len ? len - used : 0, "]");
}

/* --------------------------------------------------------------- tensors */

void pare_set_max_memory(size_t bytes) {
  /* One knob: no single tensor can be larger than all of them together. */
  pare_max_memory = bytes;
  pare_max_tensor_bytes = bytes;
}

size_t pare_memory_in_use(void) {
  return atomic_load(&memory_in_use);
}

int pare_memory_check(size_t nbytes, const char *what, pare_err *err) {
  size_t used = atomic_load(&memory_in_use);
  if (nbytes <= pare_max_memory && used <= pare_max_memory - nbytes) return PARE_OK;
  if (used == 0)
    return pare_errf(err, "%s: %zu bytes is over the %zu-byte memory limit (--max-memory)", what,
                     nbytes, pare_max_memory);
  return pare_errf(err,
                   "%s: %zu more bytes with %zu held is over the %zu-byte memory limit "
                   "(--max-memory)",
                   what, nbytes, used, pare_max_memory);
}

void *pare_aligned_alloc(size_t nbytes) {
  if (nbytes > SIZE_MAX - 63) return NULL;
  size_t rounded = (nbytes + 63) & ~(size_t)63;
  if (rounded == 0) rounded = 64;
  if (pare_memory_check(rounded, "", NULL)) return NULL;
  void *p = aligned_alloc(64, rounded);
  if (!p) return NULL;
  memset(p, 0, rounded);
  /* Counted by the allocator's own size, which free sees too. */
  atomic_fetch_add(&memory_in_use, malloc_usable_size(p));
  return p;
}

void pare_aligned_free(void *p) {
  if (!p) return;
  atomic_fetch_sub(&memory_in_use, malloc_usable_size(p));
  free(p);
}

int pare_tensor_alloc(pare_tensor *t, pare_err *err) {
  int64_t n;
  if (pare_shape_numel(&t->shape, &n, err)) return PARE_ERR;
  size_t es = pare_dtype_size(t->dtype);
  if (es == 0) return pare_errf(err, "unsupported tensor dtype %s", pare_dtype_name(t->dtype));
  if ((uint64_t)n > pare_max_tensor_bytes / es) {
    char sb[128];
    pare_shape_str(&t->shape, sb, sizeof sb);
    return pare_errf(err, "tensor %s of %s needs more than the %zu-byte limit%s", sb,
                     pare_dtype_name(t->dtype), pare_max_tensor_bytes,
                     pare_max_tensor_bytes == pare_max_memory ? " (--max-memory)" : "");
  }
  t->nbytes = (size_t)n * es;
  /* The same rounding pare_aligned_alloc checks, so its NULL means the heap. */
  size_t rounded = t->nbytes ? (t->nbytes + 63) & ~(size_t)63 : 64;
  if (pare_memory_check(rounded, "", NULL)) {
    char what[192];
    pare_shape_str(&t->shape, what, sizeof what);
    size_t wl = strlen(what);
    snprintf(what + wl, sizeof what - wl, " %s tensor", pare_dtype_name(t->dtype));
    return pare_memory_check(rounded, what, err);
  }
  t->data = pare_aligned_alloc(t->nbytes);
  if (!t->data) return pare_errf(err, "out of memory allocating %zu bytes", t->nbytes);
  return PARE_OK;
}

pare_tensor *pare_tensor_new(pare_dtype dt, const pare_shape *shape, pare_err *err) {
  pare_tensor *t = calloc(1, sizeof *t);
  if (!t) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  t->dtype = dt;
  t->shape = *shape;
  if (pare_tensor_alloc(t, err)) {
    free(t);
    return NULL;
  }
  return t;
}

pare_tensor *pare_tensor_clone(const pare_tensor *src, pare_err *err) {
  pare_tensor *t = pare_tensor_new(src->dtype, &src->shape, err);
  if (!t) return NULL;
  if (src->data && t->nbytes) memcpy(t->data, src->data, t->nbytes);
  return t;
}

void pare_tensor_release(pare_tensor *t) {
  if (!t) return;
  pare_aligned_free(t->data);
  t->data = NULL;
  t->nbytes = 0;
}

void pare_tensor_free(pare_tensor *t) {
  if (!t) return;
  pare_tensor_release(t);
  free(t);
}

int64_t pare_tensor_numel(const pare_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->shape.rank; i++) n *= t->shape.dims[i];
  return n;
}

/* IEEE binary16 <-> binary32. pare_f16_to_f32 is exact; pare_f32_to_f16
 * rounds to nearest even, keeping NaN a (quiet) NaN. */
float pare_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal: normalize */
      int e = -1;
      do {
        e++;
        man <<= 1;
      } while (!(man & 0x400));
      bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | man << 13;
  } else {
    bits = sign | (exp - 15 + 127) << 23 | man << 13;
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t pare_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  uint32_t exp = (x >> 23) & 0xff, man = x & 0x7fffff;
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
  int e = (int)exp - 127 + 15;
  if (e >= 0x1f) return (uint16_t)(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return sign;
    man |= 0x800000;
    int shift = 14 - e;
    uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = (uint32_t)e << 10 | man >> 13, rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* may carry into exp: still right */
  return (uint16_t)(sign | h);
}

double pare_tensor_get_f64(const pare_tensor *t, int64_t i) {
  const void *d = t->data;
  switch (t->dtype) {
  case PARE_F32:
    return ((const float *)d)[i];
  case PARE_F64:
    return ((const double *)d)[i];
  case PARE_F16:
    return pare_f16_to_f32(((const uint16_t *)d)[i]);
  case PARE_I8:
    return ((const int8_t *)d)[i];
  case PARE_U8:
    return ((const uint8_t *)d)[i];
  case PARE_BOOL:
    return ((const uint8_t *)d)[i] != 0;
  case PARE_I16:
    return ((const int16_t *)d)[i];
  case PARE_U16:
    return ((const uint16_t *)d)[i];
  case PARE_I32:
    return ((const int32_t *)d)[i];
  case PARE_U32:
    return ((const uint32_t *)d)[i];
  case PARE_I64:
    return (double)((const int64_t *)d)[i];
  case PARE_U64:
    return (double)((const uint64_t *)d)[i];
  default:
    return 0;
  }
}

int64_t pare_tensor_get_i64(const pare_tensor *t, int64_t i) {
  const void *d = t->data;
  switch (t->dtype) {
  case PARE_I64:
    return ((const int64_t *)d)[i];
  case PARE_U64:
    return (int64_t)((const uint64_t *)d)[i];
  case PARE_I32:
    return ((const int32_t *)d)[i];
  case PARE_U32:
    return ((const uint32_t *)d)[i];
  case PARE_I16:
    return ((const int16_t *)d)[i];
  case PARE_U16:
    return ((const uint16_t *)d)[i];
  case PARE_I8:
    return ((const int8_t *)d)[i];
  case PARE_U8:
    return ((const uint8_t *)d)[i];
  case PARE_BOOL:
    return ((const uint8_t *)d)[i] != 0;
  default: {
    double v = pare_tensor_get_f64(t, i);
    if (isnan(v)) return 0;
    if (v >= 9.2e18) return INT64_MAX;
    if (v <= -9.2e18) return INT64_MIN;
    return (int64_t)v;
  }
  }
}

void pare_tensor_set_f64(pare_tensor *t, int64_t i, double v) {
  void *d = t->data;
  switch (t->dtype) {
  case PARE_F32:
    ((float *)d)[i] = (float)v;
    break;
  case PARE_F64:
    ((double *)d)[i] = v;
    break;
  case PARE_F16:
    ((uint16_t *)d)[i] = pare_f32_to_f16((float)v);
    break;
  case PARE_I8:
    ((int8_t *)d)[i] = (int8_t)v;
    break;
  case PARE_U8:
    ((uint8_t *)d)[i] = (uint8_t)v;
    break;
  case PARE_BOOL:
    ((uint8_t *)d)[i] = v != 0;
    break;
  case PARE_I16:
    ((int16_t *)d)[i] = (int16_t)v;
    break;
  case PARE_U16:
    ((uint16_t *)d)[i] = (uint16_t)v;
    break;
  case PARE_I32:
    ((int32_t *)d)[i] = (int32_t)v;
    break;
  case PARE_U32:
    ((uint32_t *)d)[i] = (uint32_t)v;
    break;
  case PARE_I64:
    ((int64_t *)d)[i] = (int64_t)v;
    break;
  case PARE_U64:
    ((uint64_t *)d)[i] = (uint64_t)v;
    break;
  default:
    break;
  }
}

uint32_t pare_tensor_crc32(const pare_tensor *t) {
  static uint32_t table[256];
  static int ready;
  if (!ready) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    ready = 1;
  }
  uint32_t crc = 0xFFFFFFFFu;
  const uint8_t *p = t->data;
  for (size_t i = 0; p && i < t->nbytes; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------ attributes */

void pare_attr_clear(pare_attr *a) {
  free(a->name);
  free(a->s);
  free(a->ints);
  free(a->floats);
  if (a->strings)
    for (int64_t k = 0; k < a->n; k++) free(a->strings[k]);
  free(a->strings);
  pare_tensor_free(a->t);
  memset(a, 0, sizeof *a);
}

const pare_attr *pare_node_attr(const pare_node *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

int64_t pare_attr_int(const pare_node *n, const char *name, int64_t def) {
  const pare_attr *a = pare_node_attr(n, name);
  if (!a) return def;
  if (a->type == PARE_ATTR_INT) return a->i;
  if (a->type == PARE_ATTR_FLOAT) return (int64_t)a->f;
  return def;
}

float pare_attr_float(const pare_node *n, const char *name, float def) {
  const pare_attr *a = pare_node_attr(n, name);
  if (!a) return def;
  if (a->type == PARE_ATTR_FLOAT) return a->f;
  if (a->type == PARE_ATTR_INT) return (float)a->i;
  return def;
}

const char *pare_attr_string(const pare_node *n, const char *name, const char *def) {
  const pare_attr *a = pare_node_attr(n, name);
  return a && a->type == PARE_ATTR_STRING ? a->s : def;
}

int64_t pare_attr_ints(const pare_node *n, const char *name, const int64_t **out) {
  const pare_attr *a = pare_node_attr(n, name);
  if (!a || a->type != PARE_ATTR_INTS) {
    *out = NULL;
    return -1;
  }
  *out = a->ints;
  return a->n;
}

int64_t pare_attr_floats(const pare_node *n, const char *name, const float **out) {
  const pare_attr *a = pare_node_attr(n, name);
  if (!a || a->type != PARE_ATTR_FLOATS) {
    *out = NULL;
    return -1;
  }
  *out = a->floats;
  return a->n;
}

void pare_node_remove_attr(pare_node *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++) {
    if (strcmp(n->attrs[i].name, name) == 0) {
      pare_attr_clear(&n->attrs[i]);
      memmove(&n->attrs[i], &n->attrs[i + 1], (size_t)(n->n_attrs - i - 1) * sizeof *n->attrs);
      n->n_attrs--;
      return;
    }
  }
}

/* Returns a fresh attribute slot named `name` (replacing any existing one). */
static pare_attr *attr_slot(pare_node *n, const char *name, pare_attr_type type, pare_err *err) {
  pare_node_remove_attr(n, name);
  pare_attr *grown = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *n->attrs);
  if (!grown) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  n->attrs = grown;
  pare_attr *a = &n->attrs[n->n_attrs];
  memset(a, 0, sizeof *a);
  a->name = pare_strdup(name);
  if (!a->name) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  a->type = type;
  n->n_attrs++;
  return a;
}

int pare_node_set_int(pare_node *n, const char *name, int64_t v, pare_err *err) {
  pare_attr *a = attr_slot(n, name, PARE_ATTR_INT, err);
  if (!a) return PARE_ERR;
  a->i = v;
  return PARE_OK;
}

int pare_node_set_float(pare_node *n, const char *name, float v, pare_err *err) {
  pare_attr *a = attr_slot(n, name, PARE_ATTR_FLOAT, err);
  if (!a) return PARE_ERR;
  a->f = v;
  return PARE_OK;
}

int pare_node_set_string(pare_node *n, const char *name, const char *v, pare_err *err) {
  pare_attr *a = attr_slot(n, name, PARE_ATTR_STRING, err);
  if (!a) return PARE_ERR;
  a->s = pare_strdup(v);
  return a->s ? PARE_OK : pare_errf(err, "out of memory");
}

int pare_node_set_ints(pare_node *n, const char *name, const int64_t *v, int64_t count,
                       pare_err *err) {
  pare_attr *a = attr_slot(n, name, PARE_ATTR_INTS, err);
  if (!a) return PARE_ERR;
  a->ints = malloc((size_t)(count ? count : 1) * sizeof *a->ints);
  if (!a->ints) return pare_errf(err, "out of memory");
  if (count) memcpy(a->ints, v, (size_t)count * sizeof *a->ints);
  a->n = count;
  return PARE_OK;
}

int pare_node_set_floats(pare_node *n, const char *name, const float *v, int64_t count,
                         pare_err *err) {
  pare_attr *a = attr_slot(n, name, PARE_ATTR_FLOATS, err);
  if (!a) return PARE_ERR;
  a->floats = malloc((size_t)(count ? count : 1) * sizeof *a->floats);
  if (!a->floats) return pare_errf(err, "out of memory");
  if (count) memcpy(a->floats, v, (size_t)count * sizeof *a->floats);
  a->n = count;
  return PARE_OK;
}

int pare_node_set_tensor(pare_node *n, const char *name, pare_tensor *t, pare_err *err) {
  pare_attr *a = attr_slot(n, name, PARE_ATTR_TENSOR, err);
  if (!a) {
    pare_tensor_free(t);
    return PARE_ERR;
  }
  a->t = t;
  return PARE_OK;
}

/* ---------------------------------------------------------------- graphs */

pare_graph *pare_graph_new(const char *name) {
  pare_graph *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->name = pare_strdup(name ? name : "main");
  g->opset = 18;
  return g;
}

static void value_free(pare_value *v) {
  if (!v) return;
  free(v->name);
  for (int i = 0; i < PARE_MAX_RANK; i++) free(v->dim_param[i]);
  pare_tensor_free(v->init);
  pare_encoding_free(v->enc);
  free(v);
}

static void node_free(pare_node *n) {
  if (!n) return;
  free(n->name);
  free(n->op);
  free(n->domain);
  free(n->inputs);
  free(n->outputs);
  for (int i = 0; i < n->n_attrs; i++) pare_attr_clear(&n->attrs[i]);
  free(n->attrs);
  free(n);
}

void pare_graph_free(pare_graph *g) {
  if (!g) return;
  for (int i = 0; i < g->n_values; i++) value_free(g->values[i]);
  for (int i = 0; i < g->n_nodes; i++) node_free(g->nodes[i]);
  free(g->values);
  free(g->nodes);
  free(g->inputs);
  free(g->outputs);
  free(g->name);
  free(g);
}

int pare_graph_find_value(const pare_graph *g, const char *name) {
  /* Linear scan: graphs here have at most a few thousand values and lookups
   * happen at load time only. */
  for (int i = 0; i < g->n_values; i++)
    if (strcmp(g->values[i]->name, name) == 0) return i;
  return -1;
}

int pare_graph_add_value(pare_graph *g, const char *name, pare_dtype dt, const pare_shape *shape,
                         pare_err *err) {
  char fresh[32];
  if (!name) {
    for (int k = g->n_values;; k++) {
      snprintf(fresh, sizeof fresh, "t%d", k);
      if (pare_graph_find_value(g, fresh) < 0) break;
    }
    name = fresh;
  } else if (pare_graph_find_value(g, name) >= 0) {
    return pare_errf(err, "value '%s' defined twice", name);
  }
  if (g->n_values == g->cap_values) {
    int cap = g->cap_values ? g->cap_values * 2 : 64;
    pare_value **grown = realloc(g->values, (size_t)cap * sizeof *grown);
    if (!grown) return pare_errf(err, "out of memory");
    g->values = grown;
    g->cap_values = cap;
  }
  pare_value *v = calloc(1, sizeof *v);
  if (!v) return pare_errf(err, "out of memory");
  v->name = pare_strdup(name);
  if (!v->name) {
    free(v);
    return pare_errf(err, "out of memory");
  }
  v->dtype = dt;
  v->shape = shape ? *shape : pare_shape_unknown();
  v->producer = -1;
  g->values[g->n_values] = v;
  return g->n_values++;
}

int pare_graph_add_const(pare_graph *g, const char *name, pare_tensor *t, pare_err *err) {
  int idx = pare_graph_add_value(g, name, t->dtype, &t->shape, err);
  if (idx < 0) {
    pare_tensor_free(t);
    return PARE_ERR;
  }
  g->values[idx]->init = t;
  return idx;
}

int pare_graph_add_node(pare_graph *g, const char *op, const char *name, const int *inputs,
                        int n_inputs, const int *outputs, int n_outputs, pare_err *err) {
  if (g->n_nodes == g->cap_nodes) {
    int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
    pare_node **grown = realloc(g->nodes, (size_t)cap * sizeof *grown);
    if (!grown) return pare_errf(err, "out of memory");
    g->nodes = grown;
    g->cap_nodes = cap;
  }
  pare_node *n = calloc(1, sizeof *n);
  if (!n) return pare_errf(err, "out of memory");
  char fresh[32];
  if (!name || !*name) {
    snprintf(fresh, sizeof fresh, "%s_%d", op, g->n_nodes);
    name = fresh;
  }
  n->op = pare_strdup(op);
  n->name = pare_strdup(name);
  n->inputs = malloc((size_t)(n_inputs + 1) * sizeof(int));
  n->outputs = malloc((size_t)(n_outputs + 1) * sizeof(int));
  if (!n->op || !n->name || !n->inputs || !n->outputs) {
    node_free(n);
    return pare_errf(err, "out of memory");
  }
  if (n_inputs) memcpy(n->inputs, inputs, (size_t)n_inputs * sizeof(int));
  if (n_outputs) memcpy(n->outputs, outputs, (size_t)n_outputs * sizeof(int));
  n->n_inputs = n_inputs;
  n->n_outputs = n_outputs;
  for (int i = 0; i < n_outputs; i++)
    if (outputs[i] >= 0 && outputs[i] < g->n_values) g->values[outputs[i]]->producer = g->n_nodes;
  g->nodes[g->n_nodes] = n;
  return g->n_nodes++;
}

static int append_index(int **arr, int *count, int v, pare_err *err) {
  int *grown = realloc(*arr, (size_t)(*count + 1) * sizeof(int));
  if (!grown) return pare_errf(err, "out of memory");
  grown[(*count)++] = v;
  *arr = grown;
  return PARE_OK;
}

int pare_graph_add_input(pare_graph *g, int value, pare_err *err) {
  if (append_index(&g->inputs, &g->n_inputs, value, err)) return PARE_ERR;
  g->values[value]->is_graph_input = 1;
  return PARE_OK;
}

int pare_graph_add_output(pare_graph *g, int value, pare_err *err) {
  if (append_index(&g->outputs, &g->n_outputs, value, err)) return PARE_ERR;
  g->values[value]->is_graph_output = 1;
  return PARE_OK;
}

void pare_graph_kill_node(pare_graph *g, int node) {
  pare_node *n = g->nodes[node];
  free(n->op);
  n->op = NULL;
}

void pare_graph_update_producers(pare_graph *g) {
  for (int i = 0; i < g->n_values; i++) g->values[i]->producer = -1;
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    if (!n->op) continue;
    for (int j = 0; j < n->n_outputs; j++)
      if (n->outputs[j] >= 0) g->values[n->outputs[j]]->producer = k;
  }
}

int pare_graph_use_count(const pare_graph *g, int v) {
  int uses = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    if (!n->op) continue;
    for (int j = 0; j < n->n_inputs; j++) uses += n->inputs[j] == v;
  }
  for (int j = 0; j < g->n_outputs; j++) uses += g->outputs[j] == v;
  return uses;
}

void pare_graph_replace_uses(pare_graph *g, int from, int to) {
  for (int k = 0; k < g->n_nodes; k++) {
    pare_node *n = g->nodes[k];
    if (!n->op) continue;
    for (int j = 0; j < n->n_inputs; j++)
      if (n->inputs[j] == from) n->inputs[j] = to;
  }
  for (int j = 0; j < g->n_outputs; j++) {
    if (g->outputs[j] == from) {
      g->outputs[j] = to;
      g->values[from]->is_graph_output = 0;
      g->values[to]->is_graph_output = 1;
    }
  }
}

int pare_graph_compact(pare_graph *g, pare_err *err) {
  /* Drop dead nodes. */
  int kept = 0;
  for (int k = 0; k < g->n_nodes; k++) {
    if (g->nodes[k]->op)
      g->nodes[kept++] = g->nodes[k];
    else
      node_free(g->nodes[k]);
  }
  g->n_nodes = kept;

  /* Mark live values, then renumber. */
  char *live = calloc((size_t)g->n_values + 1, 1);
  int *remap = malloc(((size_t)g->n_values + 1) * sizeof(int));
  if (!live || !remap) {
    free(live);
    free(remap);
    return pare_errf(err, "out of memory");
  }
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    for (int j = 0; j < n->n_inputs; j++)
      if (n->inputs[j] >= 0) live[n->inputs[j]] = 1;
    for (int j = 0; j < n->n_outputs; j++)
      if (n->outputs[j] >= 0) live[n->outputs[j]] = 1;
  }
  for (int j = 0; j < g->n_inputs; j++) live[g->inputs[j]] = 1;
  for (int j = 0; j < g->n_outputs; j++) live[g->outputs[j]] = 1;
  int nv = 0;
  for (int i = 0; i < g->n_values; i++) {
    if (live[i]) {
      remap[i] = nv;
      g->values[nv++] = g->values[i];
    } else {
      remap[i] = -1;
      value_free(g->values[i]);
    }
  }
  g->n_values = nv;
  for (int k = 0; k < g->n_nodes; k++) {
    pare_node *n = g->nodes[k];
    for (int j = 0; j < n->n_inputs; j++)
      if (n->inputs[j] >= 0) n->inputs[j] = remap[n->inputs[j]];
    for (int j = 0; j < n->n_outputs; j++)
      if (n->outputs[j] >= 0) n->outputs[j] = remap[n->outputs[j]];
  }
  for (int j = 0; j < g->n_inputs; j++) g->inputs[j] = remap[g->inputs[j]];
  for (int j = 0; j < g->n_outputs; j++) g->outputs[j] = remap[g->outputs[j]];
  free(live);
  free(remap);
  pare_graph_update_producers(g);
  return PARE_OK;
}

int pare_graph_toposort(pare_graph *g, pare_err *err) {
  /* Iterative depth-first search over producers, visiting nodes in their
   * current order: an already sorted graph keeps its order, and deep chains
   * cannot overflow the C stack. */
  int nn = g->n_nodes;
  pare_graph_update_producers(g);
  char *state = calloc((size_t)nn + 1, 1); /* 0 new, 1 on stack, 2 emitted */
  int *stack = malloc(((size_t)nn + 1) * sizeof(int));
  int *next_input = calloc((size_t)nn + 1, sizeof(int));
  pare_node **sorted = malloc(((size_t)nn + 1) * sizeof *sorted);
  int rc = PARE_OK, count = 0;
  if (!state || !stack || !next_input || !sorted) {
    rc = pare_errf(err, "out of memory");
    goto out;
  }
  for (int root = 0; root < nn && rc == PARE_OK; root++) {
    if (state[root]) continue;
    int top = 0;
    stack[top++] = root;
    state[root] = 1;
    while (top > 0) {
      int k = stack[top - 1];
      const pare_node *n = g->nodes[k];
      if (next_input[k] < n->n_inputs) {
        int v = n->inputs[next_input[k]++];
        int p = v >= 0 ? g->values[v]->producer : -1;
        if (p < 0 || state[p] == 2) continue;
        if (state[p] == 1) {
          rc = pare_errf(err, "graph has a cycle through node '%s' (%s)", g->nodes[p]->name,
                         g->nodes[p]->op ? g->nodes[p]->op : "dead");
          break;
        }
        state[p] = 1;
        stack[top++] = p;
      } else {
        state[k] = 2;
        sorted[count++] = g->nodes[k];
        top--;
      }
    }
  }
  if (rc == PARE_OK && nn > 0) {
    memcpy(g->nodes, sorted, (size_t)nn * sizeof *sorted);
    pare_graph_update_producers(g);
  }
out:
  free(state);
  free(stack);
  free(next_input);
  free(sorted);
  return rc;
}
