/*
 * run_compiled.c - a C program linked against one model compiled by
 * `pare compile` (its header is MODEL_HEADER, its symbol prefix MODEL_PREFIX,
 * the header's macro prefix MODEL_UPPER), the way a user links it.
 *
 *   run_compiled SET_DIR... [--threads N] [--repeat R] [--atol A] [--rtol R]
 *
 * For each test_data_set folder: reads input_K.pb, checks dtype and shape
 * against the header's constants, runs the model once and compares every
 * output with output_K.pb (|got - want| <= atol + rtol * |want|). Then N
 * threads run the same inputs R times each, at the same time, each with its
 * own workspace, and every result must equal the single-threaded one bit
 * for bit (the generated code keeps no mutable global state).
 */
#include MODEL_HEADER

#include "frontend/onnx.h"
#include "pare_runtime.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b)  CAT_(a, b)
#define MODEL_RUN  CAT(MODEL_PREFIX, _run)
#define MODEL_WS   CAT(MODEL_PREFIX, _workspace_size)
#define NUM_IN     CAT(MODEL_UPPER, _NUM_INPUTS)
#define NUM_OUT    CAT(MODEL_UPPER, _NUM_OUTPUTS)

typedef struct io_spec {
  int dtype, rank;
  int64_t shape[8];
  size_t bytes;
} io_spec;

/* The header's constants for input/output k, gathered into arrays. */
#define SPEC(kind, k)                                                                              \
  {                                                                                                \
    CAT(MODEL_UPPER, _##kind##_##k##_DTYPE), CAT(MODEL_UPPER, _##kind##_##k##_RANK),               \
        CAT(MODEL_UPPER, _##kind##_##k##_SHAPE), CAT(MODEL_UPPER, _##kind##_##k##_BYTES)           \
  }

static const io_spec in_spec[] = {SPEC(INPUT, 0)
#if NUM_IN > 1
                                      ,
                                  SPEC(INPUT, 1)
#endif
};
static const io_spec out_spec[] = {SPEC(OUTPUT, 0)
#if NUM_OUT > 1
                                       ,
                                   SPEC(OUTPUT, 1)
#endif
};
_Static_assert(NUM_IN <= 2 && NUM_OUT <= 2, "the harness handles up to two inputs and outputs");

typedef struct job {
  const void *const *inputs;
  void *outputs[NUM_OUT];
  int repeat;
  int status;
} job;

static void *run_job(void *arg) {
  job *j = arg;
  void *ws = pare_rt_workspace_alloc(MODEL_WS());
  j->status = ws ? 0 : -1;
  for (int r = 0; r < j->repeat && j->status == 0; r++)
    j->status = MODEL_RUN(j->inputs, j->outputs, ws);
  pare_rt_workspace_free(ws);
  return NULL;
}

static int compare(const char *what, const pare_tensor *want, const void *got, const io_spec *s,
                   double atol, double rtol) {
  if ((int)want->dtype != s->dtype || want->nbytes != s->bytes) {
    printf("%s: reference is %s with %zu bytes, the header says dtype %d, %zu bytes\n", what,
           pare_dtype_name(want->dtype), want->nbytes, s->dtype, s->bytes);
    return 0;
  }
  if (want->dtype != PARE_F32) return memcmp(want->data, got, s->bytes) == 0;
  const float *w = want->data, *g = got;
  int64_t n = (int64_t)(s->bytes / 4), bad = 0, worst_i = 0;
  double worst = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)g[i] - (double)w[i]);
    if (!(d <= atol + rtol * fabs((double)w[i]))) bad++;
    if (d > worst || d != d) worst = d, worst_i = i;
  }
  printf("%s: max |diff| %.3g at %lld (%d of %lld over tolerance)\n", what, worst,
         (long long)worst_i, (int)bad, (long long)n);
  return bad == 0;
}

static int run_set(const char *dir, int threads, int repeat, double atol, double rtol) {
  pare_err err;
  pare_tensor *in[NUM_IN] = {0};
  const void *in_ptr[NUM_IN];
  void *ref_out[NUM_OUT] = {0};
  int ok = 1;
  for (int i = 0; i < NUM_IN && ok; i++) {
    char p[4096];
    snprintf(p, sizeof p, "%s/input_%d.pb", dir, i);
    in[i] = pare_tensor_read_pb(p, &err);
    if (!in[i]) {
      printf("%s\n", err.msg);
      ok = 0;
    } else if ((int)in[i]->dtype != in_spec[i].dtype || in[i]->nbytes != in_spec[i].bytes ||
               in[i]->shape.rank != in_spec[i].rank ||
               memcmp(in[i]->shape.dims, in_spec[i].shape,
                      sizeof(int64_t) * (size_t)in_spec[i].rank)) {
      printf("%s: does not match the header's dtype and shape\n", p);
      ok = 0;
    } else {
      in_ptr[i] = in[i]->data;
    }
  }
  for (int j = 0; j < NUM_OUT && ok; j++) ok = (ref_out[j] = calloc(1, out_spec[j].bytes)) != NULL;
  job single = {.inputs = in_ptr, .repeat = 1};
  memcpy(single.outputs, ref_out, sizeof ref_out);
  if (ok) run_job(&single);
  if (ok && single.status != 0) {
    printf("%s: %s_run returned %d\n", dir, "model", single.status);
    ok = 0;
  }
  for (int j = 0; j < NUM_OUT && ok; j++) {
    char p[4096], what[4200];
    snprintf(p, sizeof p, "%s/output_%d.pb", dir, j);
    snprintf(what, sizeof what, "%s output %d", dir, j);
    pare_tensor *want = pare_tensor_read_pb(p, &err);
    if (!want) {
      printf("%s\n", err.msg);
      ok = 0;
    } else {
      ok = compare(what, want, ref_out[j], &out_spec[j], atol, rtol);
    }
    pare_tensor_free(want);
  }
  /* Concurrent runs must reproduce the single-threaded bits exactly. */
  job *jobs = calloc((size_t)threads, sizeof *jobs);
  pthread_t *tid = calloc((size_t)threads, sizeof *tid);
  int started = 0;
  for (int t = 0; t < threads && ok && jobs && tid; t++) {
    jobs[t].inputs = in_ptr;
    jobs[t].repeat = repeat;
    for (int j = 0; j < NUM_OUT; j++) jobs[t].outputs[j] = malloc(out_spec[j].bytes);
    if (pthread_create(&tid[t], NULL, run_job, &jobs[t]) != 0) break;
    started++;
  }
  int same = 1;
  for (int t = 0; t < started; t++) {
    pthread_join(tid[t], NULL);
    for (int j = 0; j < NUM_OUT; j++) {
      same = same && jobs[t].status == 0 && jobs[t].outputs[j] &&
             memcmp(jobs[t].outputs[j], ref_out[j], out_spec[j].bytes) == 0;
      free(jobs[t].outputs[j]);
    }
  }
  if (ok && threads > 0) {
    printf("%s: %d threads x %d runs %s the single-threaded outputs\n", dir, started, repeat,
           same && started == threads ? "reproduce" : "DO NOT reproduce");
    ok = same && started == threads;
  }
  free(jobs);
  free(tid);
  for (int i = 0; i < NUM_IN; i++) pare_tensor_free(in[i]);
  for (int j = 0; j < NUM_OUT; j++) free(ref_out[j]);
  return ok;
}

int main(int argc, char **argv) {
  int threads = 0, repeat = 2, n_sets = 0, failed = 0;
  double atol = 1e-4, rtol = 1e-4;
  const char *sets[64];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
      repeat = atoi(argv[++i]);
    else if (strcmp(argv[i], "--atol") == 0 && i + 1 < argc)
      atol = atof(argv[++i]);
    else if (strcmp(argv[i], "--rtol") == 0 && i + 1 < argc)
      rtol = atof(argv[++i]);
    else if (n_sets < 64)
      sets[n_sets++] = argv[i];
  }
  if (n_sets == 0) {
    fprintf(stderr, "usage: %s SET_DIR... [--threads N] [--repeat R] [--atol A] [--rtol R]\n",
            argv[0]);
    return 2;
  }
  printf("workspace %zu bytes, weights %lld bytes\n", MODEL_WS(),
         (long long)CAT(MODEL_UPPER, _WEIGHT_BYTES));
  for (int s = 0; s < n_sets; s++) failed += !run_set(sets[s], threads, repeat, atol, rtol);
  printf("%d passed, %d failed\n", n_sets - failed, failed);
  return failed ? 1 : 0;
}
