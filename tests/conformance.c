/*
 * conformance.c - runs ONNX's backend node test cases through `pare run`.
 *
 * For every case folder (model.onnx + test_data_set_*), it decides whether the
 * case is in scope (inference with f32/i64/i32/bool tensors; no training,
 * sequence, optional, string, random or control-flow ops), runs the pare
 * binary in a child process with CPU-time and memory limits, and compares
 * each output_K.pb with the reference at rtol 1e-3, atol 1e-5.
 *
 * Outcomes: passed, mismatched (wrong values, dtype or shape, or missing
 * output), refused (pare exit 1 naming an unsupported op), error (any other
 * exit 1/2), crashed (signal), timeout (CPU limit). The summary line is
 * "conformance: ... N passed, N failed". Exit status is 0 when the pass rate
 * of in-scope cases reaches --min-pass and nothing crashed or hung.
 */
#include "frontend/onnx.h"
#include "onnx/onnx.pb-c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum outcome { PASSED, MISMATCHED, REFUSED, ERRORED, CRASHED, TIMEOUT, N_OUTCOMES };
static const char *outcome_names[] = {"passed", "mismatched", "refused",
                                      "error",  "crashed",    "timeout"};

typedef struct config {
  const char *pare;
  const char *data;
  const char **filters;
  int n_filters;
  int verbose;
  int cpu_seconds;
  double min_pass;
  int max_mismatched; /* -1 = no limit */
  const char *scratch;
  const char *engine; /* --engine passed to pare run, NULL = its default */
  const char *versus; /* --versus: engine whose outputs must agree at rtol 1e-4 */
} config;

/* Ops that put a case out of scope (training, sequences, optionals, strings,
 * randomness, control flow). */
static const char *const out_of_scope_ops[] = {"If",
                                               "Loop",
                                               "Scan",
                                               "SequenceAt",
                                               "SequenceConstruct",
                                               "SequenceEmpty",
                                               "SequenceErase",
                                               "SequenceInsert",
                                               "SequenceLength",
                                               "SequenceMap",
                                               "SplitToSequence",
                                               "ConcatFromSequence",
                                               "Optional",
                                               "OptionalHasElement",
                                               "OptionalGetElement",
                                               "RandomNormal",
                                               "RandomNormalLike",
                                               "RandomUniform",
                                               "RandomUniformLike",
                                               "Multinomial",
                                               "Bernoulli",
                                               "StringNormalizer",
                                               "TfIdfVectorizer",
                                               "Gradient",
                                               "Adagrad",
                                               "Adam",
                                               "Momentum",
                                               NULL};

/* --int8: u8 and i8 tensors are in scope too (the QuantizeLinear and
 * DequantizeLinear cases); off by default, which keeps the pass rates of
 * the whole-suite runs comparable. */
static int int8_scope;

static int tensor_type_in_scope(int elem_type) {
  if (int8_scope && (elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8 ||
                     elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT8))
    return 1;
  return elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
         elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
         elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ||
         elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
}

static int value_info_in_scope(const Onnx__ValueInfoProto *vi) {
  const Onnx__TypeProto *t = vi->type;
  if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type) return 0;
  return tensor_type_in_scope(t->tensor_type->elem_type);
}

static void *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *buf = n > 0 ? malloc((size_t)n) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = buf ? (size_t)n : 0;
  return buf;
}

/* Returns NULL if in scope, else a static reason. */
static const char *scope_reason(const char *model_path, const char *case_name) {
  static char reason[256];
  if (strstr(case_name, "training")) return "training";
  size_t len;
  void *buf = read_file(model_path, &len);
  if (!buf) return "unreadable model";
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
  free(buf);
  if (!m || !m->graph) {
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return "unparsable model";
  }
  const char *why = NULL;
  const Onnx__GraphProto *g = m->graph;
  for (size_t i = 0; !why && i < g->n_node; i++) {
    const char *dom = g->node[i]->domain;
    if (dom && *dom && strcmp(dom, "ai.onnx") != 0) {
      snprintf(reason, sizeof reason, "domain %s", dom);
      why = reason;
    }
    for (int k = 0; !why && out_of_scope_ops[k]; k++)
      if (strcmp(g->node[i]->op_type, out_of_scope_ops[k]) == 0) {
        snprintf(reason, sizeof reason, "op %s", out_of_scope_ops[k]);
        why = reason;
      }
  }
  for (size_t i = 0; !why && i < g->n_input; i++)
    if (!value_info_in_scope(g->input[i])) why = "input dtype";
  for (size_t i = 0; !why && i < g->n_output; i++)
    if (!value_info_in_scope(g->output[i])) why = "output dtype";
  onnx__model_proto__free_unpacked(m, NULL);
  return why;
}

static int close_enough(const pare_tensor *got, const pare_tensor *want, double atol, double rtol,
                        char *why, size_t n) {
  if (got->dtype != want->dtype) {
    snprintf(why, n, "dtype %s, expected %s", pare_dtype_name(got->dtype),
             pare_dtype_name(want->dtype));
    return 0;
  }
  if (!pare_shape_equal(&got->shape, &want->shape)) {
    char a[128], b[128];
    pare_shape_str(&got->shape, a, sizeof a);
    pare_shape_str(&want->shape, b, sizeof b);
    snprintf(why, n, "shape %s, expected %s", a, b);
    return 0;
  }
  int64_t count = pare_tensor_numel(want);
  for (int64_t i = 0; i < count; i++) {
    double a = pare_tensor_get_f64(got, i), b = pare_tensor_get_f64(want, i);
    if (pare_dtype_is_float(want->dtype)) {
      if (isnan(b) && isnan(a)) continue;
      if (isinf(b) && a == b) continue;
      if (fabs(a - b) <= atol + rtol * fabs(b)) continue;
    } else if (pare_tensor_get_i64(got, i) == pare_tensor_get_i64(want, i)) {
      continue;
    }
    snprintf(why, n, "element %lld: %.9g, expected %.9g", (long long)i, a, b);
    return 0;
  }
  return 1;
}

/* Runs `pare run MODEL --inputs SET --output OUT [--engine E]` in a child
 * with CPU and memory limits; fills `detail` with its first stderr line.
 * PASSED here means it exited 0. */
static enum outcome spawn_pare(const config *c, const char *engine, const char *model,
                               const char *set_dir, const char *out_dir, char *detail,
                               size_t detail_len) {
  char log_path[4096];
  snprintf(log_path, sizeof log_path, "%s/stderr.txt", c->scratch);
  /* Fresh output folder: remove outputs of the previous case. */
  for (int k = 0; k < 64; k++) {
    char p[4200];
    snprintf(p, sizeof p, "%s/output_%d.pb", out_dir, k);
    unlink(p);
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(detail, detail_len, "fork failed");
    return ERRORED;
  }
  if (pid == 0) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 2);
      dup2(fd, 1);
    }
    struct rlimit cpu = {(rlim_t)c->cpu_seconds, (rlim_t)c->cpu_seconds + 1};
    setrlimit(RLIMIT_CPU, &cpu);
#if !defined(__SANITIZE_ADDRESS__)
    /* ASan reserves terabytes of shadow address space: no cap under it. */
    struct rlimit mem = {(rlim_t)4 << 30, (rlim_t)4 << 30};
    setrlimit(RLIMIT_AS, &mem);
#endif
    if (engine)
      execl(c->pare, c->pare, "run", model, "--inputs", set_dir, "--output", out_dir, "--engine",
            engine, (char *)NULL);
    else
      execl(c->pare, c->pare, "run", model, "--inputs", set_dir, "--output", out_dir, (char *)NULL);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  size_t len;
  char *log = read_file(log_path, &len);
  detail[0] = 0;
  if (log) {
    size_t n = strcspn(log, "\n");
    if (n > len) n = len;
    snprintf(detail, detail_len, "%.*s", (int)n, log);
  }
  free(log);
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGXCPU || sig == SIGKILL) return TIMEOUT;
    snprintf(detail + strlen(detail), detail_len - strlen(detail), " [signal %d]", sig);
    return CRASHED;
  }
  int code = WEXITSTATUS(status);
  if (code != 0) return strstr(detail, "unsupported") ? REFUSED : ERRORED;
  return PASSED;
}

/* Compares every DIR/output_K.pb the `want_dir` has with `got_dir`'s. */
static enum outcome compare_outputs(const char *got_dir, const char *want_dir, double atol,
                                    double rtol, const char *label, char *detail,
                                    size_t detail_len) {
  for (int k = 0;; k++) {
    char want_path[4200], got_path[4200];
    snprintf(want_path, sizeof want_path, "%s/output_%d.pb", want_dir, k);
    if (access(want_path, R_OK) != 0) break;
    snprintf(got_path, sizeof got_path, "%s/output_%d.pb", got_dir, k);
    pare_err err;
    pare_tensor *want = pare_tensor_read_pb(want_path, &err);
    pare_tensor *got = pare_tensor_read_pb(got_path, &err);
    int ok = want && got;
    if (!ok)
      snprintf(detail, detail_len, "output_%d: %s", k, err.msg);
    else if (!close_enough(got, want, atol, rtol, detail, detail_len)) {
      char tmp[512];
      snprintf(tmp, sizeof tmp, "%soutput_%d: %s", label, k, detail);
      snprintf(detail, detail_len, "%s", tmp);
      ok = 0;
    }
    pare_tensor_free(want);
    pare_tensor_free(got);
    if (!ok) return MISMATCHED;
  }
  return PASSED;
}

/* Runs pare on one data set and checks it against the reference outputs
 * (rtol 1e-3, atol 1e-5) and, with --versus, against another engine's
 * outputs (rtol 1e-4, atol 1e-6); fills `detail` on failure. */
static enum outcome run_set(const config *c, const char *case_dir, const char *set_dir,
                            char *detail, size_t detail_len) {
  char out_dir[4096], vs_dir[4096], model[4096];
  snprintf(out_dir, sizeof out_dir, "%s/out", c->scratch);
  snprintf(vs_dir, sizeof vs_dir, "%s/versus", c->scratch);
  snprintf(model, sizeof model, "%s/model.onnx", case_dir);
  enum outcome r = spawn_pare(c, c->engine, model, set_dir, out_dir, detail, detail_len);
  if (r == PASSED) r = compare_outputs(out_dir, set_dir, 1e-5, 1e-3, "", detail, detail_len);
  if (r != PASSED || !c->versus) return r;
  r = spawn_pare(c, c->versus, model, set_dir, vs_dir, detail, detail_len);
  if (r != PASSED) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "--versus %s: %s", c->versus, detail);
    snprintf(detail, detail_len, "%s", tmp);
    return ERRORED;
  }
  char label[64];
  snprintf(label, sizeof label, "vs %s: ", c->versus);
  return compare_outputs(out_dir, vs_dir, 1e-6, 1e-4, label, detail, detail_len);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted list of entries of dir starting with prefix (NULL = all but dot files). */
static char **list_dir(const char *dir, const char *prefix, int *count) {
  DIR *d = opendir(dir);
  *count = 0;
  if (!d) return NULL;
  char **names = NULL;
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (prefix && strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
    if (*count == cap) {
      cap = cap ? cap * 2 : 256;
      names = realloc(names, (size_t)cap * sizeof *names);
    }
    names[(*count)++] = strdup(e->d_name);
  }
  closedir(d);
  if (*count) qsort(names, (size_t)*count, sizeof *names, cmp_str);
  return names;
}

static void free_list(char **names, int count) {
  for (int i = 0; i < count; i++) free(names[i]);
  free(names);
}

static int matches_filter(const config *c, const char *name) {
  if (c->n_filters == 0) return 1;
  for (int i = 0; i < c->n_filters; i++)
    if (strstr(name, c->filters[i])) return 1;
  return 0;
}

static enum outcome run_case(const config *c, const char *case_dir, char *detail, size_t len) {
  int n_sets;
  char **sets = list_dir(case_dir, "test_data_set_", &n_sets);
  enum outcome result = n_sets ? PASSED : ERRORED;
  if (!n_sets) snprintf(detail, len, "no test_data_set_*");
  for (int s = 0; s < n_sets && result == PASSED; s++) {
    char set_dir[4096];
    snprintf(set_dir, sizeof set_dir, "%s/%s", case_dir, sets[s]);
    result = run_set(c, case_dir, set_dir, detail, len);
  }
  free_list(sets, n_sets);
  return result;
}

static const char usage[] =
    "usage: pare_conformance --pare PATH [--data DIR] [--filter SUBSTR]... [--int8] [-v]\n"
    "                        [--cpu-seconds N] [--min-pass FRACTION] [--engine E]\n"
    "                        [--max-mismatched N] [--versus ENGINE]\n"
    "  --data defaults to /usr/share/libonnx-testdata/data/node\n";

int main(int argc, char **argv) {
  config c = {0};
  c.data = "/usr/share/libonnx-testdata/data/node";
  c.cpu_seconds = 60;
  c.min_pass = 0.0;
  c.max_mismatched = -1;
  c.filters = calloc((size_t)argc, sizeof *c.filters);
  for (int i = 1; i < argc; i++) {
    int more = i + 1 < argc;
    if (strcmp(argv[i], "--pare") == 0 && more)
      c.pare = argv[++i];
    else if (strcmp(argv[i], "--engine") == 0 && more)
      c.engine = argv[++i];
    else if (strcmp(argv[i], "--versus") == 0 && more)
      c.versus = argv[++i];
    else if (strcmp(argv[i], "--data") == 0 && more)
      c.data = argv[++i];
    else if (strcmp(argv[i], "--filter") == 0 && more)
      c.filters[c.n_filters++] = argv[++i];
    else if (strcmp(argv[i], "--int8") == 0)
      int8_scope = 1;
    else if (strcmp(argv[i], "-v") == 0)
      c.verbose = 1;
    else if (strcmp(argv[i], "--cpu-seconds") == 0 && more)
      c.cpu_seconds = atoi(argv[++i]);
    else if (strcmp(argv[i], "--min-pass") == 0 && more)
      c.min_pass = atof(argv[++i]);
    else if (strcmp(argv[i], "--max-mismatched") == 0 && more)
      c.max_mismatched = atoi(argv[++i]);
    else {
      fputs(usage, stderr);
      return 2;
    }
  }
  if (!c.pare) {
    fputs(usage, stderr);
    return 2;
  }
  struct stat st;
  if (stat(c.data, &st) != 0) {
    printf("conformance: %s not found (install libonnx-testdata); skipped\n", c.data);
    return 0;
  }
  char scratch[] = "/tmp/pare-conformance-XXXXXX";
  if (!mkdtemp(scratch)) {
    perror("mkdtemp");
    return 1;
  }
  c.scratch = scratch;
  char out_dir[4096];
  snprintf(out_dir, sizeof out_dir, "%s/out", scratch);
  mkdir(out_dir, 0755);

  int n_cases, counts[N_OUTCOMES] = {0}, out_of_scope = 0;
  char **cases = list_dir(c.data, "test_", &n_cases);
  for (int i = 0; i < n_cases; i++) {
    if (!matches_filter(&c, cases[i])) continue;
    char case_dir[4096], model[4200], detail[1024];
    snprintf(case_dir, sizeof case_dir, "%s/%s", c.data, cases[i]);
    snprintf(model, sizeof model, "%s/model.onnx", case_dir);
    const char *why = scope_reason(model, cases[i]);
    if (why) {
      out_of_scope++;
      if (c.verbose) printf("%-60s out of scope (%s)\n", cases[i], why);
      continue;
    }
    enum outcome o = run_case(&c, case_dir, detail, sizeof detail);
    counts[o]++;
    if (c.verbose || o == CRASHED || o == TIMEOUT)
      printf("%-60s %s%s%s\n", cases[i], outcome_names[o], o == PASSED ? "" : ": ",
             o == PASSED ? "" : detail);
  }
  free_list(cases, n_cases);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);

  int in_scope = 0;
  for (int o = 0; o < N_OUTCOMES; o++) in_scope += counts[o];
  double rate = in_scope ? (double)counts[PASSED] / in_scope : 1.0;
  printf("conformance: %d cases in scope, %d out of scope; %d mismatched, %d refused, %d error, "
         "%d crashed, %d timeout; pass rate %.1f%%\n",
         in_scope, out_of_scope, counts[MISMATCHED], counts[REFUSED], counts[ERRORED],
         counts[CRASHED], counts[TIMEOUT], 100.0 * rate);
  printf("%d passed, %d failed\n", counts[PASSED], in_scope - counts[PASSED]);
  free(c.filters);
  int mismatch_ok = c.max_mismatched < 0 || counts[MISMATCHED] <= c.max_mismatched;
  return (rate + 1e-12 >= c.min_pass && mismatch_ok && counts[CRASHED] == 0 && counts[TIMEOUT] == 0)
             ? 0
             : 1;
}
