/*
 * tsan_control.c - the positive control of tests/backend/tsan.sh: two
 * threads run one compiled model (MODEL_HEADER, MODEL_PREFIX) on the SAME
 * workspace, which is a data race in the generated code. Built and run under
 * ThreadSanitizer it must be reported; if it is not, the generated code was
 * not instrumented and a clean run of run_compiled proves nothing.
 *
 *   tsan_control   (inputs are zeros; exits 0 unless TSan reports)
 */
#include MODEL_HEADER

#include "pare_runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define CAT_(a, b) a##b
#define CAT(a, b)  CAT_(a, b)
#define MODEL_RUN  CAT(MODEL_PREFIX, _run)
#define MODEL_WS   CAT(MODEL_PREFIX, _workspace_size)
#define NUM_IN     CAT(MODEL_UPPER, _NUM_INPUTS)
#define NUM_OUT    CAT(MODEL_UPPER, _NUM_OUTPUTS)

static const size_t in_bytes[] = {CAT(MODEL_UPPER, _INPUT_0_BYTES)
#if NUM_IN > 1
                                      ,
                                  CAT(MODEL_UPPER, _INPUT_1_BYTES)
#endif
};
static const size_t out_bytes[] = {CAT(MODEL_UPPER, _OUTPUT_0_BYTES)
#if NUM_OUT > 1
                                       ,
                                   CAT(MODEL_UPPER, _OUTPUT_1_BYTES)
#endif
};
_Static_assert(NUM_IN <= 2 && NUM_OUT <= 2, "the control handles up to two inputs and outputs");

typedef struct job {
  const void *const *inputs;
  void *const *outputs;
  void *ws;
} job;

static void *run(void *arg) {
  job *j = arg;
  MODEL_RUN(j->inputs, j->outputs, j->ws);
  return NULL;
}

int main(void) {
  const void *in[NUM_IN];
  void *out[2][NUM_OUT];
  for (int i = 0; i < NUM_IN; i++) in[i] = calloc(1, in_bytes[i]);
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < NUM_OUT; i++) out[t][i] = calloc(1, out_bytes[i]);
  void *ws = pare_rt_workspace_alloc(MODEL_WS());
  job jobs[2] = {{in, out[0], ws}, {in, out[1], ws}};
  pthread_t tid[2];
  for (int t = 0; t < 2; t++) pthread_create(&tid[t], NULL, run, &jobs[t]);
  for (int t = 0; t < 2; t++) pthread_join(tid[t], NULL);
  pare_rt_workspace_free(ws);
  for (int i = 0; i < NUM_IN; i++) free((void *)in[i]);
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < NUM_OUT; i++) free(out[t][i]);
  printf("two threads ran on one workspace\n");
  return 0;
}
