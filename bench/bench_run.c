/*
 * bench_run.c - times a model compiled by `pare compile --emit shared` the
 * way a deployment runs it: load the library, allocate the workspace once,
 * run on DIR/input_K.pb.
 *
 *   pare_bench_run LIB.so NAME DIR REPEAT
 *
 * Prints "pare_ms <median>" and "peak_rss_kb <n>" (the whole process:
 * library, weights, buffers and this harness).
 */
#include "frontend/onnx.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef int (*run_fn)(const void *const *inputs, void *const *outputs, void *workspace);
typedef size_t (*ws_fn)(void);

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void *symbol(void *lib, const char *name, const char *suffix) {
  char s[256];
  snprintf(s, sizeof s, "%s_%s", name, suffix);
  return dlsym(lib, s);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: pare_bench_run LIB.so NAME DIR REPEAT\n");
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "pare_bench_run: %s\n", dlerror());
    return 1;
  }
  run_fn run = (run_fn)(uintptr_t)symbol(lib, argv[2], "run");
  ws_fn ws_size = (ws_fn)(uintptr_t)symbol(lib, argv[2], "workspace_size");
  /* The header's sizes are not at hand here: read them from the library. */
  if (!run || !ws_size) {
    fprintf(stderr, "pare_bench_run: %s has no %s_run / %s_workspace_size\n", argv[1], argv[2],
            argv[2]);
    return 1;
  }
  pare_err err;
  pare_tensor *in[16] = {0};
  const void *in_ptr[16];
  int n_in = 0;
  for (; n_in < 16; n_in++) {
    char p[4096];
    snprintf(p, sizeof p, "%s/input_%d.pb", argv[3], n_in);
    FILE *f = fopen(p, "rb");
    if (!f) break;
    fclose(f);
    if (!(in[n_in] = pare_tensor_read_pb(p, &err))) {
      fprintf(stderr, "pare_bench_run: %s\n", err.msg);
      return 1;
    }
    in_ptr[n_in] = in[n_in]->data;
  }
  /* Outputs: the reference outputs give their sizes. */
  void *out[16];
  int n_out = 0;
  for (; n_out < 16; n_out++) {
    char p[4096];
    snprintf(p, sizeof p, "%s/output_%d.pb", argv[3], n_out);
    FILE *f = fopen(p, "rb");
    if (!f) break;
    fclose(f);
    pare_tensor *t = pare_tensor_read_pb(p, &err);
    if (!t) {
      fprintf(stderr, "pare_bench_run: %s\n", err.msg);
      return 1;
    }
    out[n_out] = calloc(1, t->nbytes);
    pare_tensor_free(t);
  }
  size_t wsb = ws_size();
  void *ws = aligned_alloc(64, (wsb + 63) / 64 * 64 + 64);
  int repeat = atoi(argv[4]);
  if (repeat < 1) repeat = 1;
  double *t = calloc((size_t)repeat, sizeof *t);
  if (!ws || !t) return 1;
  run(in_ptr, out, ws); /* warm-up */
  for (int r = 0; r < repeat; r++) {
    double t0 = now_ms();
    if (run(in_ptr, out, ws) != 0) {
      fprintf(stderr, "pare_bench_run: run failed\n");
      return 1;
    }
    t[r] = now_ms() - t0;
  }
  qsort(t, (size_t)repeat, sizeof *t, cmp_double);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("pare_ms %.3f\npeak_rss_kb %ld\n", t[repeat / 2], ru.ru_maxrss);
  return 0;
}
