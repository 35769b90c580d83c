/*
 * report.c - the per-layer JSON report of a pass pipeline (--report FILE).
 *
 * A layer is a node with a weight: a constant floating-point input of rank
 * 2 or more (Conv, ConvTranspose, Gemm, MatMul, ...). The report snapshots
 * every layer before the pipeline and after it. A pass that replaces a
 * layer's node names the new nodes after it ("conv1", "conv1.lr1"), so after
 * the pipeline a layer is every node named like it or "<name>." something;
 * a layer no node is named after any more was removed. Per layer: op, weight
 * shape, parameters (elements of all its constant float inputs), bytes as
 * stored (an encoded weight counts its encoded size), FLOPs (2 per MAC; a
 * sparse weight's MACs scale with its density), and the decisions each pass
 * recorded for it (pare_pass_decide). Also the pipeline, per-pass time,
 * whether the pass changed the IR, and the counters of --stats; and the
 * candidates of a search (report_add_search_point). A path ending in .html
 * gets the same report as a page (report_html.c).
 */
#include "driver/report.h"

#include "driver/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct layer_figures {
  int64_t params, bytes, flops;
} layer_figures;

static int is_weight(const pare_value *v) {
  return v->init && pare_dtype_is_float(v->dtype) && v->shape.rank >= 2;
}

static int has_weight(const pare_graph *g, const pare_node *n) {
  for (int i = 0; i < n->n_inputs; i++)
    if (n->inputs[i] >= 0 && is_weight(g->values[n->inputs[i]])) return 1;
  return 0;
}

/* Fraction of stored nonzeros of a sparse-encoded weight (1 if dense). */
static double density(const pare_value *v) {
  if (!v->enc || v->enc->kind != PARE_ENC_SPARSE || !v->enc->values) return 1.0;
  int64_t n = pare_tensor_numel(v->init);
  return n ? (double)pare_tensor_numel(v->enc->values) / (double)n : 1.0;
}

static void add_node(const pare_graph *g, const pare_node *n, layer_figures *f) {
  double dens = 1.0;
  for (int i = 0; i < n->n_inputs; i++) {
    int v = n->inputs[i];
    if (v < 0) continue;
    const pare_value *val = g->values[v];
    if (!val->init || !pare_dtype_is_float(val->dtype)) continue;
    f->params += pare_tensor_numel(val->init);
    f->bytes += val->enc ? (int64_t)pare_encoding_bytes(val->enc) : (int64_t)val->init->nbytes;
    if (is_weight(val)) dens = density(val);
  }
  f->flops += (int64_t)((double)pare_node_flops(g, n) * dens);
}

/* A layer's name: its node's, or for an unnamed node its first output's
 * (which a pass that renames outputs then reports as removed). */
static const char *layer_name(const pare_graph *g, const pare_node *n) {
  if (n->name && n->name[0]) return n->name;
  return n->n_outputs > 0 && n->outputs[0] >= 0 ? g->values[n->outputs[0]]->name : NULL;
}

static int named_after(const char *name, const char *layer) {
  size_t n = strlen(layer);
  return name && strncmp(name, layer, n) == 0 && (name[n] == 0 || name[n] == '.');
}

static cJSON *figures_json(const layer_figures *f) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "parameters", (double)f->params);
  cJSON_AddNumberToObject(o, "bytes", (double)f->bytes);
  cJSON_AddNumberToObject(o, "flops", (double)f->flops);
  return o;
}

int report_begin(report *r, const pare_graph *g, const char *model, const char *pipeline) {
  memset(r, 0, sizeof *r);
  r->root = cJSON_CreateObject();
  r->layers = cJSON_AddArrayToObject(r->root, "layers");
  r->passes = cJSON_AddArrayToObject(r->root, "passes");
  if (!r->root || !r->layers || !r->passes) return PARE_ERR;
  cJSON_AddStringToObject(r->root, "model", model);
  cJSON_AddStringToObject(r->root, "pipeline", pipeline);
  layer_figures total = {0};
  for (int k = 0; k < g->n_nodes; k++) {
    const pare_node *n = g->nodes[k];
    if (!n->op) continue;
    layer_figures f = {0};
    add_node(g, n, &f);
    total.params += f.params, total.bytes += f.bytes, total.flops += f.flops;
    const char *name = layer_name(g, n);
    if (!has_weight(g, n) || !name) continue;
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "name", name);
    cJSON_AddStringToObject(l, "op", n->op);
    for (int i = 0; i < n->n_inputs; i++)
      if (n->inputs[i] >= 0 && is_weight(g->values[n->inputs[i]])) {
        const pare_shape *s = &g->values[n->inputs[i]]->shape;
        cJSON *shape = cJSON_AddArrayToObject(l, "weight_shape");
        for (int d = 0; d < s->rank; d++)
          cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)s->dims[d]));
        break;
      }
    cJSON_AddItemToObject(l, "before", figures_json(&f));
    cJSON_AddObjectToObject(l, "decisions");
    cJSON_AddItemToArray(r->layers, l);
  }
  cJSON_AddItemToObject(r->root, "before", figures_json(&total));
  return PARE_OK;
}

static cJSON *find_layer(report *r, const char *name) {
  cJSON *l;
  cJSON_ArrayForEach(l, r->layers) {
    const char *ln = cJSON_GetStringValue(cJSON_GetObjectItem(l, "name"));
    if (ln && named_after(name, ln)) return l;
  }
  return NULL;
}

void report_on_decision(void *user, const char *pass, const char *layer, const char *key,
                        double number, const char *value) {
  report *r = user;
  cJSON *l = find_layer(r, layer);
  if (!l) return;
  cJSON *d = cJSON_GetObjectItem(l, "decisions");
  cJSON *per = cJSON_GetObjectItem(d, pass);
  if (!per) per = cJSON_AddObjectToObject(d, pass);
  cJSON_DeleteItemFromObject(per, key);
  if (value)
    cJSON_AddStringToObject(per, key, value);
  else
    cJSON_AddNumberToObject(per, key, number);
}

void report_on_pass(void *user, const char *pass, double seconds, int changed) {
  report *r = user;
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "name", pass);
  cJSON_AddNumberToObject(p, "seconds", seconds);
  cJSON_AddBoolToObject(p, "changed", changed);
  cJSON_AddObjectToObject(p, "stats");
  cJSON_AddItemToArray(r->passes, p);
}

void report_on_stat(void *user, const char *pass, const char *what, int64_t value) {
  report *r = user;
  cJSON *p;
  /* The last entry of that pass (a pass may run more than once). */
  cJSON *match = NULL;
  cJSON_ArrayForEach(p, r->passes) {
    if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "name")), pass) == 0) match = p;
  }
  if (match) cJSON_AddNumberToObject(cJSON_GetObjectItem(match, "stats"), what, (double)value);
}

int report_end(report *r, const pare_graph *g, const char *path, pare_err *err) {
  cJSON *l;
  layer_figures total = {0};
  for (int k = 0; k < g->n_nodes; k++)
    if (g->nodes[k]->op) {
      layer_figures f = {0};
      add_node(g, g->nodes[k], &f);
      total.params += f.params, total.bytes += f.bytes, total.flops += f.flops;
    }
  cJSON_ArrayForEach(l, r->layers) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(l, "name"));
    layer_figures f = {0};
    int found = 0;
    for (int k = 0; k < g->n_nodes; k++) {
      const pare_node *n = g->nodes[k];
      if (!n->op || !named_after(layer_name(g, n), name)) continue;
      add_node(g, n, &f);
      found = 1;
    }
    cJSON_AddItemToObject(l, "after", figures_json(&f));
    cJSON_AddBoolToObject(l, "removed", !found);
  }
  cJSON_AddItemToObject(r->root, "after", figures_json(&total));
  return path ? report_write(r, path, err) : PARE_OK;
}

int report_add_search_point(report *r, double bytes, double error, int chosen) {
  cJSON *search = cJSON_GetObjectItem(r->root, "search");
  if (!search) search = cJSON_AddArrayToObject(r->root, "search");
  cJSON *p = cJSON_CreateObject();
  if (!search || !p) {
    cJSON_Delete(p);
    return PARE_ERR;
  }
  cJSON_AddNumberToObject(p, "bytes", bytes);
  cJSON_AddNumberToObject(p, "error", error);
  cJSON_AddBoolToObject(p, "chosen", chosen);
  cJSON_AddItemToArray(search, p);
  return PARE_OK;
}

int report_is_html(const char *path) {
  size_t n = strlen(path);
  return (n >= 5 && strcmp(path + n - 5, ".html") == 0) ||
         (n >= 4 && strcmp(path + n - 4, ".htm") == 0);
}

int report_write(const report *r, const char *path, pare_err *err) {
  if (report_is_html(path)) return report_html_write(r->root, path, err);
  char *text = cJSON_Print(r->root);
  if (!text) return pare_errf(err, "out of memory");
  size_t len = strlen(text);
  text[len] = '\n';
  int rc = pare_write_file_atomic(path, text, len + 1, err);
  free(text);
  return rc ? pare_err_prefix(err, "--report %s", path) : PARE_OK;
}

void report_free(report *r) {
  cJSON_Delete(r->root);
  memset(r, 0, sizeof *r);
}
