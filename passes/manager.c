/*
 * manager.c - pipeline strings, option parsing, and running a pipeline with
 * its instrumentation. See passes.h.
 */
#include "passes/passes.h"

#include "ir/strbuf.h"

#include "ir/text.h"
#include "ops/ops.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ registry */

const pare_pass_info *pare_pass_find(const char *name) {
  const pare_pass_info *p;
  for (int i = 0; (p = pare_pass_at(i)); i++)
    if (strcmp(p->name, name) == 0) return p;
  return NULL;
}

static int n_options(const pare_pass_info *p) {
  int n = 0;
  while (p->options && p->options[n].name) n++;
  return n;
}

/* ------------------------------------------------------ option values */

static int parse_value(const pare_pass_info *p, const pare_pass_option *o, const char *text,
                       pare_opt_value *v, pare_err *err) {
  char *end;
  errno = 0;
  switch (o->type) {
  case PARE_OPT_INT:
    v->i = strtoll(text, &end, 10);
    if (!*text || *end || errno) break;
    return PARE_OK;
  case PARE_OPT_FLOAT:
    v->f = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(v->f)) break;
    return PARE_OK;
  case PARE_OPT_BOOL:
    if (strcmp(text, "1") == 0 || strcmp(text, "true") == 0)
      v->i = 1;
    else if (strcmp(text, "0") == 0 || strcmp(text, "false") == 0)
      v->i = 0;
    else
      break;
    return PARE_OK;
  case PARE_OPT_NM: {
    if (strcmp(text, "none") == 0) {
      v->i = v->m = 0;
      return PARE_OK;
    }
    long long n, m;
    int used = 0;
    if (sscanf(text, "%lld:%lld%n", &n, &m, &used) != 2 || text[used] || n < 1 || m <= n || m > 64)
      break;
    v->i = n, v->m = m;
    return PARE_OK;
  }
  case PARE_OPT_STRING:
    if (o->choices) {
      size_t len = strlen(text);
      const char *c = o->choices;
      int found = 0;
      while (*c && !found) {
        size_t seg = strcspn(c, "|");
        found = seg == len && strncmp(c, text, len) == 0;
        c += seg + (c[seg] == '|');
      }
      if (!found)
        return pare_errf(err, "pass '%s': option '%s' must be one of %s, not '%s'", p->name,
                         o->name, o->choices, text);
    }
    free(v->s);
    v->s = pare_strdup(text);
    return v->s ? PARE_OK : pare_errf(err, "out of memory");
  }
  static const char *const kinds[] = {"an integer", "a finite number", "0/1/true/false", "text",
                                      "an N:M pattern (e.g. 2:4) or none"};
  return pare_errf(err, "pass '%s': option '%s' expects %s, not '%s'", p->name, o->name,
                   kinds[o->type], text);
}

static void value_str(const pare_pass_option *o, const pare_opt_value *v, char *buf, size_t len) {
  switch (o->type) {
  case PARE_OPT_INT:
  case PARE_OPT_BOOL:
    snprintf(buf, len, "%lld", (long long)v->i);
    break;
  case PARE_OPT_FLOAT:
    /* The shortest form that reads back as the same double (0.7, not
     * 0.69999999999999996), so that the string reproduces the pipeline. */
    for (int digits = 1; digits <= 17; digits++) {
      snprintf(buf, len, "%.*g", digits, v->f);
      if (strtod(buf, NULL) == v->f) break;
    }
    break;
  case PARE_OPT_NM:
    if (v->i == 0)
      snprintf(buf, len, "none");
    else
      snprintf(buf, len, "%lld:%lld", (long long)v->i, (long long)v->m);
    break;
  case PARE_OPT_STRING:
    snprintf(buf, len, "%s", v->s ? v->s : "");
    break;
  }
}

/* ------------------------------------------------------------- parsing */

void pare_pipeline_free(pare_pipeline *p) {
  if (!p) return;
  for (int e = 0; e < p->n; e++) {
    int n = n_options(p->entries[e].pass);
    for (int i = 0; p->entries[e].args && i < n; i++) free(p->entries[e].args[i].s);
    free(p->entries[e].args);
  }
  free(p->entries);
  memset(p, 0, sizeof *p);
}

/* One "key=value" of pass p into its argument (seen counts repeats). */
static int parse_option(const pare_pass_info *p, char *item, pare_opt_value *args, char *seen,
                        pare_err *err) {
  int n = n_options(p);
  char *eq = strchr(item, '=');
  if (!eq || eq == item)
    return pare_errf(err, "pass '%s': expected key=value, not '%s'", p->name, item);
  *eq = 0;
  int k = 0;
  while (k < n && strcmp(p->options[k].name, item) != 0) k++;
  if (k == n) {
    char names[256] = "";
    for (int i = 0; i < n; i++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
               p->options[i].name);
    return pare_errf(err, "pass '%s' has no option '%s' (%s%s)", p->name, item,
                     n ? "options: " : "it takes no options", names);
  }
  if (seen[k]++) return pare_errf(err, "pass '%s': option '%s' given twice", p->name, item);
  return parse_value(p, &p->options[k], eq + 1, &args[k], err);
}

/* Parses "key=value;key=value" (the inside of <...>) into e's arguments. */
static int parse_options(const pare_pass_info *p, const char *text, size_t len,
                         pare_opt_value *args, pare_err *err) {
  char seen[64] = {0};
  size_t pos = 0;
  while (pos < len) {
    size_t seg = pos;
    while (seg < len && text[seg] != ';') seg++;
    /* Values have no length limit: a search's layers= lists are long. */
    char *item = strndup(text + pos, seg - pos);
    if (!item) return pare_errf(err, "out of memory");
    int rc = parse_option(p, item, args, seen, err);
    free(item);
    if (rc) return rc;
    pos = seg + 1;
  }
  return PARE_OK;
}

static int add_entry(pare_pipeline *out, const char *text, size_t len, pare_err *err) {
  size_t name_len = 0;
  while (name_len < len && text[name_len] != '<') name_len++;
  char name[64];
  if (name_len == 0) return pare_errf(err, "empty pass name in the pipeline");
  if (name_len >= sizeof name) return pare_errf(err, "pass name too long");
  memcpy(name, text, name_len);
  name[name_len] = 0;
  const pare_pass_info *p = pare_pass_find(name);
  if (!p) return pare_errf(err, "unknown pass '%s' (see 'pare passes')", name);
  const char *opt_text = NULL;
  size_t opt_len = 0;
  if (name_len < len) {
    if (text[len - 1] != '>') return pare_errf(err, "pass '%s': options must end with '>'", name);
    opt_text = text + name_len + 1;
    opt_len = len - name_len - 2;
  }
  pare_pipeline_entry *grown = realloc(out->entries, (size_t)(out->n + 1) * sizeof *grown);
  if (!grown) return pare_errf(err, "out of memory");
  out->entries = grown;
  pare_pipeline_entry *e = &out->entries[out->n++];
  int n = n_options(p);
  e->pass = p;
  e->args = calloc((size_t)n + 1, sizeof *e->args);
  if (!e->args) return pare_errf(err, "out of memory");
  for (int i = 0; i < n; i++)
    if (parse_value(p, &p->options[i], p->options[i].def, &e->args[i], err)) return PARE_ERR;
  return opt_text ? parse_options(p, opt_text, opt_len, e->args, err) : PARE_OK;
}

int pare_pipeline_parse(const char *text, pare_pipeline *out, pare_err *err) {
  memset(out, 0, sizeof *out);
  size_t pos = 0, len = strlen(text);
  while (pos < len) {
    size_t end = pos;
    int depth = 0;
    while (end < len && (depth > 0 || text[end] != ',')) {
      if (text[end] == '<') depth++;
      if (text[end] == '>') depth--;
      end++;
    }
    while (pos < end && isspace((unsigned char)text[pos])) pos++;
    size_t stop = end;
    while (stop > pos && isspace((unsigned char)text[stop - 1])) stop--;
    if (add_entry(out, text + pos, stop - pos, err)) return PARE_ERR;
    pos = end + 1;
    if (end < len && pos == len) return pare_errf(err, "the pipeline ends with ','");
  }
  return PARE_OK;
}

char *pare_pipeline_string(const pare_pipeline *p) {
  pare_strbuf b = {0};
  pare_strbuf_printf(&b, "%s", "");
  for (int e = 0; e < p->n; e++) {
    const pare_pass_info *pi = p->entries[e].pass;
    pare_strbuf_printf(&b, "%s%s", e ? "," : "", pi->name);
    int n = n_options(pi);
    for (int i = 0; i < n; i++) {
      const pare_pass_option *o = &pi->options[i];
      const pare_opt_value *v = &p->entries[e].args[i];
      char num[64];
      const char *text = o->type == PARE_OPT_STRING ? (v->s ? v->s : "") : num;
      if (o->type != PARE_OPT_STRING) value_str(o, v, num, sizeof num);
      pare_strbuf_printf(&b, "%s%s=%s", i ? ";" : "<", o->name, text);
    }
    if (n) pare_strbuf_printf(&b, ">");
  }
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* ------------------------------------------------------------- running */

#define MAX_STATS 256

typedef struct pass_stat {
  int entry;
  const char *what;
  int64_t value;
} pass_stat;

/* The weights calib-snapshot kept: value index, its dense tensor then. */
typedef struct calib_snapshot {
  int n;
  int *values;
  pare_tensor **inits;
  pare_encoding **encs; /* during a run: the encodings set aside */
  unsigned char *swapped;
} calib_snapshot;

struct pare_pass_ctx {
  int entry; /* the running pipeline entry */
  const char *pass;
  const pare_pm_opts *opts;
  int n_stats;
  pass_stat stats[MAX_STATS];
  calib_snapshot snap;
  pare_calib frozen; /* opts->calib run on the snapshot's weights */
};

static void snapshot_free(calib_snapshot *s) {
  for (int i = 0; i < s->n; i++) pare_tensor_free(s->inits[i]);
  free(s->values);
  free(s->inits);
  free(s->encs);
  free(s->swapped);
  memset(s, 0, sizeof *s);
}

/* Swaps the snapshot's weights into g (encodings set aside) or back. A
 * value that no longer has a constant of the same type and size keeps
 * its own. */
static void snapshot_swap(calib_snapshot *s, pare_graph *g, int in) {
  for (int i = 0; i < s->n; i++) {
    int v = s->values[i];
    if (in) {
      pare_value *val = v < g->n_values ? g->values[v] : NULL;
      s->swapped[i] = val && val->init && val->init->dtype == s->inits[i]->dtype &&
                      val->init->nbytes == s->inits[i]->nbytes;
      if (!s->swapped[i]) continue;
      s->encs[i] = val->enc;
      val->enc = NULL;
    } else if (!s->swapped[i]) {
      continue;
    }
    pare_value *val = g->values[v];
    pare_tensor *t = val->init;
    val->init = s->inits[i];
    s->inits[i] = t;
    if (!in) val->enc = s->encs[i], s->encs[i] = NULL, s->swapped[i] = 0;
  }
}

static int frozen_run(const pare_calib *self, pare_graph *g, const int *values, int n,
                      pare_calib_visit visit, void *user, pare_err *err) {
  pare_pass_ctx *ctx = self->impl;
  const pare_calib *c = ctx->opts->calib;
  snapshot_swap(&ctx->snap, g, 1);
  int rc = c->run(c, g, values, n, visit, user, err);
  snapshot_swap(&ctx->snap, g, 0);
  return rc;
}

const pare_calib *pare_pass_calib(const pare_pass_ctx *ctx) {
  if (!ctx || !ctx->opts || !ctx->opts->calib) return NULL;
  return ctx->snap.n ? &ctx->frozen : ctx->opts->calib;
}

/* calib-snapshot: keeps every constant's dense value as it is now. */
static int run_calib_snapshot(pare_graph *g, const pare_opt_value *args, pare_pass_ctx *ctx,
                              int *changed, pare_err *err) {
  (void)args;
  *changed = 0;
  if (!ctx) return PARE_OK;
  calib_snapshot *s = &ctx->snap;
  snapshot_free(s);
  size_t cap = (size_t)g->n_values + 1;
  s->values = malloc(cap * sizeof *s->values);
  s->inits = calloc(cap, sizeof *s->inits);
  s->encs = calloc(cap, sizeof *s->encs);
  s->swapped = calloc(cap, 1);
  if (!s->values || !s->inits || !s->encs || !s->swapped) {
    snapshot_free(s);
    return pare_errf(err, "out of memory");
  }
  for (int v = 0; v < g->n_values; v++) {
    if (!g->values[v]->init || pare_graph_use_count(g, v) == 0) continue;
    pare_tensor *t = pare_tensor_clone(g->values[v]->init, err);
    if (!t) {
      snapshot_free(s);
      return PARE_ERR;
    }
    s->values[s->n] = v;
    s->inits[s->n++] = t;
  }
  ctx->frozen = (pare_calib){0};
  if (ctx->opts->calib) {
    ctx->frozen.n_samples = ctx->opts->calib->n_samples;
    ctx->frozen.run = frozen_run;
    ctx->frozen.impl = ctx;
  }
  pare_pass_stat(ctx, "constants kept", s->n);
  return PARE_OK;
}

const pare_pass_info pare_passes_manager[] = {
    {"calib-snapshot",
     "later passes calibrate on the weights as they are here, not as earlier passes left them "
     "(a layer's statistics then do not see the other layers' compression, as a search "
     "measured them)",
     NULL, run_calib_snapshot},
    {NULL, NULL, NULL, NULL},
};

void pare_pass_stat(pare_pass_ctx *ctx, const char *what, int64_t delta) {
  if (!ctx) return;
  for (int i = 0; i < ctx->n_stats; i++)
    if (ctx->stats[i].entry == ctx->entry && strcmp(ctx->stats[i].what, what) == 0) {
      ctx->stats[i].value += delta;
      return;
    }
  if (ctx->n_stats < MAX_STATS) ctx->stats[ctx->n_stats++] = (pass_stat){ctx->entry, what, delta};
}

void pare_pass_decide(pare_pass_ctx *ctx, const char *layer, const char *key, double value) {
  if (ctx && ctx->opts->on_decision)
    ctx->opts->on_decision(ctx->opts->user, ctx->pass, layer, key, value, NULL);
}

void pare_pass_decide_str(pare_pass_ctx *ctx, const char *layer, const char *key,
                          const char *value) {
  if (ctx && ctx->opts->on_decision)
    ctx->opts->on_decision(ctx->opts->user, ctx->pass, layer, key, 0, value);
}

/* Is `name` in the comma-separated list? */
static int in_list(const char *list, const char *name) {
  size_t n = strlen(name);
  while (list && *list) {
    size_t seg = strcspn(list, ",");
    if (seg == n && strncmp(list, name, n) == 0) return 1;
    list += seg + (list[seg] == ',');
  }
  return 0;
}

static int dump(FILE *out, const char *when, const char *pass, const pare_graph *g,
                const pare_pm_opts *o, pare_err *err) {
  fprintf(out, "# *** IR Dump %s %s ***\n", when, pass);
  pare_print_opts po = {.elide_above = o->print_elide_above};
  return pare_graph_print(out, g, &po, err);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report(FILE *out, const pare_pipeline *p, const pare_pm_opts *o,
                   const pare_pass_ctx *ctx, const double *secs) {
  if (o->time_passes) {
    double total = 0;
    for (int e = 0; e < p->n; e++) total += secs[e];
    fprintf(out,
            "===-------------------------------------------------------------------------===\n"
            "                      ... Pass execution timing report ...\n"
            "===-------------------------------------------------------------------------===\n"
            "  Total Execution Time: %.4f seconds\n\n   ---Wall Time---  --- Name ---\n",
            total);
    for (int e = 0; e < p->n; e++)
      fprintf(out, "   %.4f (%5.1f%%)  %s\n", secs[e], total > 0 ? 100 * secs[e] / total : 0.0,
              p->entries[e].pass->name);
    fprintf(out, "   %.4f (100.0%%)  Total\n", total);
  }
  if (o->stats) {
    fprintf(out,
            "===-------------------------------------------------------------------------===\n"
            "                          ... Statistics Collected ...\n"
            "===-------------------------------------------------------------------------===\n");
    for (int i = 0; i < ctx->n_stats; i++)
      fprintf(out, "%10lld %s - %s\n", (long long)ctx->stats[i].value,
              p->entries[ctx->stats[i].entry].pass->name, ctx->stats[i].what);
  }
}

int pare_pipeline_run(const pare_pipeline *p, pare_graph *g, const pare_pm_opts *opts,
                      pare_err *err) {
  pare_pm_opts none = {0};
  const pare_pm_opts *o = opts ? opts : &none;
  FILE *out = o->out ? o->out : stderr;
  pare_pass_ctx *ctx = calloc(1, sizeof *ctx);
  double *secs = calloc((size_t)p->n + 1, sizeof *secs);
  int rc = ctx && secs ? PARE_OK : pare_errf(err, "out of memory");
  if (ctx) ctx->opts = o;
  for (int e = 0; rc == PARE_OK && e < p->n; e++) {
    const pare_pass_info *pi = p->entries[e].pass;
    if (in_list(o->print_before, pi->name)) rc = dump(out, "Before", pi->name, g, o, err);
    if (rc) break;
    ctx->entry = e;
    ctx->pass = pi->name;
    int changed = 0;
    double t0 = now_s();
    rc = pi->run(g, p->entries[e].args, ctx, &changed, err);
    if (rc == PARE_OK && changed) rc = pare_infer_shapes(g, err);
    secs[e] = now_s() - t0;
    if (rc == PARE_OK && o->verify_each && pare_graph_verify(g, err))
      rc = pare_err_prefix(err, "the IR is invalid after it");
    if (rc) {
      pare_err_prefix(err, "pass '%s'", pi->name);
      break;
    }
    if (o->print_after_all || in_list(o->print_after, pi->name) || (o->print_changed && changed))
      rc = dump(out, "After", pi->name, g, o, err);
    if (o->on_pass) o->on_pass(o->user, pi->name, secs[e], changed);
  }
  for (int i = 0; rc == PARE_OK && o->on_stat && i < ctx->n_stats; i++)
    o->on_stat(o->user, p->entries[ctx->stats[i].entry].pass->name, ctx->stats[i].what,
               ctx->stats[i].value);
  if (rc == PARE_OK) report(out, p, o, ctx, secs);
  if (ctx) snapshot_free(&ctx->snap);
  free(ctx);
  free(secs);
  return rc;
}

void pare_passes_describe(FILE *f) {
  const pare_pass_info *p;
  for (int k = 0; (p = pare_pass_at(k)); k++) {
    fprintf(f, "  %-18s %s\n", p->name, p->summary);
    for (int i = 0; i < n_options(p); i++) {
      const pare_pass_option *o = &p->options[i];
      static const char *const types[] = {"int", "float", "bool", "string", "N:M"};
      fprintf(f, "      %s=<%s> (default %s)  %s\n", o->name,
              o->choices ? o->choices : types[o->type], o->def, o->help);
    }
  }
}
