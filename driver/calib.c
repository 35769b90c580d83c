/*
 * calib.c - see calib.h.
 *
 * A pass asks for some values; the run makes each one a graph output for
 * the duration of the call (the memory planner and fusion then keep it),
 * compiles the graph once, runs every sample, hands each wanted tensor to
 * the pass's visitor and restores the outputs. Samples are read one at a
 * time, so memory is one sample's inputs and outputs whatever the count.
 */
#include "driver/calib.h"

#include "driver/engine.h"
#include "frontend/onnx.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* "K" or "A-B" into [*lo, *hi]. */
static int parse_range(const char *s, long *lo, long *hi) {
  char *end;
  *lo = strtol(s, &end, 10);
  if (end == s || *lo < 0) return PARE_ERR;
  *hi = *lo;
  if (*end == '-') {
    const char *q = end + 1;
    *hi = strtol(q, &end, 10);
    if (end == q || *hi < *lo) return PARE_ERR;
  }
  return *end ? PARE_ERR : PARE_OK;
}

/* K of a "test_data_set_K" name, or -1. */
static long set_index(const char *name) {
  const char *p = "test_data_set_";
  size_t n = strlen(p);
  if (strncmp(name, p, n) != 0 || !isdigit((unsigned char)name[n])) return -1;
  char *end;
  long k = strtol(name + n, &end, 10);
  return *end || k > 1 << 30 ? -1 : k;
}

typedef struct run_state {
  const calib_data *c;
  pare_graph *g;
  int n_outputs_before;
  int *where; /* per wanted value: output index, or -(input index) - 1 */
} run_state;

/* Makes the wanted values observable; records where each one comes out. */
static int expose(run_state *s, const int *values, int n, pare_err *err) {
  pare_graph *g = s->g;
  for (int k = 0; k < n; k++) {
    int v = values[k], at = -1;
    for (int i = 0; i < g->n_inputs && at < 0; i++)
      if (g->inputs[i] == v) s->where[k] = -i - 1, at = i;
    if (at >= 0) continue;
    if (g->values[v]->init) return pare_errf(err, "value '%s' is a constant", g->values[v]->name);
    for (int j = 0; j < g->n_outputs && at < 0; j++)
      if (g->outputs[j] == v) at = j;
    if (at < 0) {
      at = g->n_outputs;
      if (pare_graph_add_output(g, v, err)) return PARE_ERR;
    }
    s->where[k] = at;
  }
  return PARE_OK;
}

static void restore(run_state *s) {
  pare_graph *g = s->g;
  for (int j = s->n_outputs_before; j < g->n_outputs; j++)
    g->values[g->outputs[j]]->is_graph_output = 0;
  g->n_outputs = s->n_outputs_before;
}

static int read_sample(const calib_data *c, const pare_graph *g, int set, pare_tensor **in,
                       pare_err *err) {
  for (int i = 0; i < g->n_inputs; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/test_data_set_%d/input_%d.pb", c->dir, set, i);
    in[i] = pare_tensor_read_pb(path, err);
    if (!in[i]) return PARE_ERR;
    const pare_value *v = g->values[g->inputs[i]];
    if (in[i]->dtype != v->dtype || !pare_shape_equal(&in[i]->shape, &v->shape)) {
      char a[128], b[128];
      pare_shape_str(&in[i]->shape, a, sizeof a);
      pare_shape_str(&v->shape, b, sizeof b);
      return pare_errf(err, "%s: %s%s, but input '%s' is %s%s", path, pare_dtype_name(in[i]->dtype),
                       a, v->name, pare_dtype_name(v->dtype), b);
    }
  }
  return PARE_OK;
}

static int run_samples(run_state *s, engine *e, int n, pare_calib_visit visit, void *user,
                       pare_err *err) {
  const calib_data *c = s->c;
  pare_graph *g = s->g;
  pare_tensor **in = calloc((size_t)g->n_inputs + 1, sizeof *in);
  pare_tensor **out = calloc((size_t)g->n_outputs + 1, sizeof *out);
  int rc = in && out ? PARE_OK : pare_errf(err, "out of memory");
  for (int si = 0; rc == PARE_OK && si < c->n_sets; si++) {
    if (c->progress)
      fprintf(stderr, "\rcalibrating (%s): sample %d/%d", engine_kind_name(e->kind), si + 1,
              c->n_sets);
    rc = read_sample(c, g, c->sets[si], in, err);
    if (rc == PARE_OK) rc = engine_run(e, in, out, err);
    for (int k = 0; rc == PARE_OK && k < n; k++) {
      int w = s->where[k];
      rc = visit(user, si, k, w < 0 ? in[-w - 1] : out[w], err);
    }
    for (int i = 0; i < g->n_inputs; i++) {
      pare_tensor_free(in[i]);
      in[i] = NULL;
    }
    if (rc) pare_err_prefix(err, "calibration set %d", c->sets[si]);
  }
  if (c->progress) fprintf(stderr, "\n");
  for (int j = 0; out && j < g->n_outputs; j++) pare_tensor_free(out[j]);
  free(in);
  free(out);
  return rc;
}

static int calib_run(const pare_calib *self, pare_graph *g, const int *values, int n,
                     pare_calib_visit visit, void *user, pare_err *err) {
  const calib_data *c = self->impl;
  run_state s = {.c = c, .g = g, .n_outputs_before = g->n_outputs};
  s.where = calloc((size_t)n + 1, sizeof *s.where);
  if (!s.where) return pare_errf(err, "out of memory");
  int rc = expose(&s, values, n, err);
  engine e;
  int opened = 0;
  if (rc == PARE_OK) {
    /* The generated code when the backend takes the graph; the reference
     * interpreter (slower, same numbers) when it refuses an op. */
    pare_err jit_err;
    if (engine_open(&e, ENGINE_JIT, g, 2, &jit_err) == PARE_OK) {
      opened = 1;
    } else {
      engine_close(&e);
      rc = engine_open(&e, ENGINE_INTERP, g, 0, err);
      opened = rc == PARE_OK;
    }
  }
  if (rc == PARE_OK) rc = run_samples(&s, &e, n, visit, user, err);
  if (opened) engine_close(&e);
  restore(&s);
  free(s.where);
  return rc;
}

int calib_open(calib_data *c, const char *dir, const char *range, pare_err *err) {
  memset(c, 0, sizeof *c);
  long lo = 0, hi = 1L << 30;
  if (range && parse_range(range, &lo, &hi))
    return pare_errf(err, "--calib-sets '%s' is not K or A-B", range);
  DIR *d = opendir(dir);
  if (!d) return pare_errf(err, "--calib %s: cannot open the folder", dir);
  int cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    long k = set_index(de->d_name);
    if (k < lo || k > hi) continue;
    if (c->n_sets == cap) {
      cap = cap ? 2 * cap : 64;
      int *p = realloc(c->sets, (size_t)cap * sizeof *p);
      if (!p) {
        closedir(d);
        return pare_errf(err, "out of memory");
      }
      c->sets = p;
    }
    c->sets[c->n_sets++] = (int)k;
  }
  closedir(d);
  if (c->n_sets == 0)
    return pare_errf(err, "--calib %s: no test_data_set_K folders%s%s", dir,
                     range ? " in --calib-sets " : "", range ? range : "");
  qsort(c->sets, (size_t)c->n_sets, sizeof *c->sets, cmp_int);
  c->dir = strdup(dir);
  if (!c->dir) return pare_errf(err, "out of memory");
  c->progress = isatty(2);
  c->base.n_samples = c->n_sets;
  c->base.run = calib_run;
  c->base.impl = c;
  return PARE_OK;
}

void calib_close(calib_data *c) {
  free(c->dir);
  free(c->sets);
  memset(c, 0, sizeof *c);
}
