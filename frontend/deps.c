/*
 * deps.c - the files a model is read from, for build-system depfiles: the
 * model itself and every external-data file its tensors name.
 */
#include "frontend/frontend_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct file_list {
  char **files;
  int n;
} file_list;

static int add_file(file_list *l, const char *path, pare_err *err) {
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->files[i], path) == 0) return PARE_OK;
  char **grown = realloc(l->files, (size_t)(l->n + 1) * sizeof *grown);
  if (!grown) return pare_errf(err, "out of memory");
  l->files = grown;
  if (!(l->files[l->n] = pare_strdup(path))) return pare_errf(err, "out of memory");
  l->n++;
  return PARE_OK;
}

/* The external-data location of tp joined to the model's folder, if any. */
static int add_tensor(file_list *l, const char *dir, const Onnx__TensorProto *tp, pare_err *err) {
  if (!tp || tp->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) return PARE_OK;
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = tp->external_data[i];
    if (!e->key || strcmp(e->key, "location") != 0 || !e->value) continue;
    size_t n = strlen(dir) + strlen(e->value) + 2;
    char *p = malloc(n);
    if (!p) return pare_errf(err, "out of memory");
    snprintf(p, n, "%s/%s", dir, e->value);
    int rc = add_file(l, p, err);
    free(p);
    if (rc) return PARE_ERR;
  }
  return PARE_OK;
}

static int add_graph(file_list *l, const char *dir, const Onnx__GraphProto *gp, pare_err *err) {
  for (size_t i = 0; gp && i < gp->n_initializer; i++)
    if (add_tensor(l, dir, gp->initializer[i], err)) return PARE_ERR;
  for (size_t k = 0; gp && k < gp->n_node; k++)
    for (size_t a = 0; a < gp->node[k]->n_attribute; a++)
      if (add_tensor(l, dir, gp->node[k]->attribute[a]->t, err)) return PARE_ERR;
  return PARE_OK;
}

int pare_onnx_input_files(const char *path, char ***files, int *n_files, pare_err *err) {
  file_list l = {0};
  *files = NULL;
  *n_files = 0;
  uint8_t *data;
  size_t len;
  if (pare_fe_read_file(path, &data, &len, err)) return pare_err_prefix(err, "%s", path);
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, data);
  free(data);
  if (!m) return pare_errf(err, "%s: not a valid ONNX model", path);
  char *dir = pare_fe_dirname(path);
  int rc = dir ? add_file(&l, path, err) : pare_errf(err, "out of memory");
  if (!rc) rc = add_graph(&l, dir, m->graph, err);
  free(dir);
  onnx__model_proto__free_unpacked(m, NULL);
  if (rc) {
    pare_free_file_list(l.files, l.n);
    return PARE_ERR;
  }
  *files = l.files;
  *n_files = l.n;
  return PARE_OK;
}

void pare_free_file_list(char **files, int n) {
  for (int i = 0; i < n; i++) free(files[i]);
  free(files);
}
