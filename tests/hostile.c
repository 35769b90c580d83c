/*
 * hostile.c - `pare run` on damaged and malicious models.
 *
 *   pare_hostile --pare PATH [--shared DIR] [--keep]
 *
 * Each shared real model is mutated deterministically (fixed-seed xorshift:
 * byte flips, truncation, duplicated/zeroed ranges, inserted bytes), and a
 * set of hand-made attacks is built as bytes (absurd length prefixes, dims
 * overflowing int64, external data escaping the model folder, deep nesting).
 * Every case runs `pare run --max-memory 1G` in a child under CPU and
 * address-space limits and must end cleanly: exit 0 with outputs written, or
 * exit 1 with exactly one "pare: " line naming the model and no output file.
 * A signal, any other exit code, a second stderr line, a partial output or a
 * peak RSS (the child's ru_maxrss) above the 1 GiB cap plus a fixed
 * allowance for code and parsing is a failure. Attacks aimed at the cap
 * (initializers declaring more than it, intermediates that together cross
 * it) must also say so in their message.
 *
 * Without the shared folder the real-model mutants print SKIP; the hand-made
 * attacks still run. Ends with "N passed, N failed"; exits 1 on any failure.
 */
#include "unit/test_frontend_model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define HOSTILE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOSTILE_ASAN 1
#endif
#endif
#ifndef HOSTILE_ASAN
#define HOSTILE_ASAN 0
#endif

enum {
  MUTANTS_PER_MODEL = 42, /* 7 of each of the 6 mutation kinds */
  CPU_LIMIT_S = 30,
  WALL_LIMIT_S = 120, /* a child blocked without burning CPU */
};
static const uint64_t MEM_LIMIT = 4ull << 30;
/* --max-memory for every child, and what the peak RSS may exceed it by: the
 * cap counts tensor data only, not pare's code (libLLVM is mapped in), the
 * model file or its protobuf parse (a shared model is at most 11 MB). */
#define MEM_CAP_ARG "1G"
static const uint64_t MEM_CAP = 1ull << 30;
static const uint64_t RSS_ALLOWANCE = 192ull << 20;

static const char *pare_path;
static char work[4096];
static int passed, failed;
static char slowest_name[256];
static double slowest_seconds;
static char peak_name[256];
static long peak_kb;
/* If set, the next case's message must contain it. */
static const char *want_message;

/* ------------------------------------------------------------------ PRNG */

/* xorshift64*; the state is seeded through splitmix64 so nearby seeds diverge. */
typedef struct {
  uint64_t s;
} rng;

static void rng_seed(rng *r, uint64_t seed) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  r->s = (z ^ (z >> 31)) | 1;
}

static uint64_t rng_next(rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}

/* Uniform-enough integer in [0, n); n > 0. */
static size_t rng_below(rng *r, size_t n) {
  return (size_t)(rng_next(r) % n);
}

/* --------------------------------------------------------------- buffers */

typedef struct {
  uint8_t *data;
  size_t len, cap;
} buf;

static void buf_reserve(buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra) cap *= 2;
  b->data = realloc(b->data, cap);
  if (!b->data) abort();
  b->cap = cap;
}

static void buf_put(buf *b, const void *p, size_t n) {
  buf_reserve(b, n);
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void buf_byte(buf *b, uint8_t v) {
  buf_put(b, &v, 1);
}

static void buf_varint(buf *b, uint64_t v) {
  while (v >= 0x80) {
    buf_byte(b, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  buf_byte(b, (uint8_t)v);
}

/* Field `field` with wire type 2 (length-delimited) holding p[0..n). */
static void buf_field_bytes(buf *b, unsigned field, const void *p, size_t n) {
  buf_varint(b, (uint64_t)field << 3 | 2);
  buf_varint(b, n);
  buf_put(b, p, n);
}

/* Inserts p[0..n) at offset at. */
static void buf_insert(buf *b, size_t at, const void *p, size_t n) {
  buf_reserve(b, n);
  memmove(b->data + at + n, b->data + at, b->len - at);
  memcpy(b->data + at, p, n);
  b->len += n;
}

static int read_file(const char *path, buf *out) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  uint8_t chunk[65536];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) buf_put(out, chunk, got);
  int bad = ferror(f);
  fclose(f);
  return bad ? -1 : 0;
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void make_dir(const char *path) {
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "hostile: cannot create %s: %s\n", path, strerror(errno));
    exit(2);
  }
}

/* Removes path recursively (files, symlinks, folders); errors are ignored. */
static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        remove_tree(child);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

/* Number of output_*.pb files in dir (0 if dir is absent). */
static int count_outputs(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (!strncmp(e->d_name, "output_", 7) && len > 10 && !strcmp(e->d_name + len - 3, ".pb")) n++;
  }
  closedir(d);
  return n;
}

/* ------------------------------------------------------------ the child */

typedef struct {
  int exited, code, sig, timed_out;
  long maxrss_kb;
  double seconds; /* wall time */
} run_result;

static void child_exec(const char *model, const char *inputs, const char *outdir,
                       const char *errpath) {
  int err_fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int null_fd = open("/dev/null", O_RDWR);
  if (err_fd < 0 || null_fd < 0) _exit(126);
  dup2(null_fd, 0);
  dup2(null_fd, 1);
  dup2(err_fd, 2);
  struct rlimit cpu = {CPU_LIMIT_S, CPU_LIMIT_S + 1};
  setrlimit(RLIMIT_CPU, &cpu);
  if (!HOSTILE_ASAN) { /* ASan reserves terabytes of shadow address space */
    struct rlimit as = {MEM_LIMIT, MEM_LIMIT};
    setrlimit(RLIMIT_AS, &as);
  }
  struct rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core);
  execl(pare_path, pare_path, "run", model, "--inputs", inputs, "--output", outdir, "--max-memory",
        MEM_CAP_ARG, (char *)NULL);
  _exit(127);
}

static run_result run_pare(const char *model, const char *inputs, const char *outdir,
                           const char *errpath) {
  run_result r = {0};
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    perror("hostile: fork");
    exit(2);
  }
  if (pid == 0) child_exec(model, inputs, outdir, errpath);
  struct timespec start, now, tick = {0, 2 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  int status;
  struct rusage ru;
  for (;;) {
    pid_t got = wait4(pid, &status, WNOHANG, &ru);
    if (got == pid) break;
    if (got < 0 && errno != EINTR) {
      perror("hostile: wait4");
      exit(2);
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!r.timed_out && now.tv_sec - start.tv_sec > WALL_LIMIT_S) {
      kill(pid, SIGKILL);
      r.timed_out = 1;
    }
    nanosleep(&tick, NULL);
  }
  r.maxrss_kb = ru.ru_maxrss;
  clock_gettime(CLOCK_MONOTONIC, &now);
  r.seconds = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
  if (WIFEXITED(status)) {
    r.exited = 1;
    r.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.sig = WTERMSIG(status);
  }
  return r;
}

/* --------------------------------------------------------------- checks */

/* The first lines of a file, for a failure report. */
static void show_file(const char *path) {
  buf b = {0};
  if (read_file(path, &b) != 0) return;
  size_t n = b.len < 600 ? b.len : 600;
  fprintf(stdout, "    stderr: %.*s%s\n", (int)n, b.data ? (const char *)b.data : "",
          b.len > n ? " [...]" : "");
  free(b.data);
}

/* Checks stderr holds exactly one non-empty "pare: " line naming model. */
static const char *check_message(const char *errpath, const char *model) {
  static char why[256];
  buf b = {0};
  if (read_file(errpath, &b) != 0) return "cannot read the child's stderr";
  buf_byte(&b, 0);
  const char *s = (const char *)b.data;
  size_t len = b.len - 1;
  const char *nl = memchr(s, '\n', len);
  const char *res = NULL;
  if (len == 0)
    res = "stderr is empty";
  else if (strlen(s) != len)
    res = "stderr holds a NUL byte";
  else if (!nl || (size_t)(nl - s) + 1 != len)
    res = "stderr is not exactly one line";
  else if (strncmp(s, "pare: ", 6) != 0)
    res = "stderr does not start with 'pare: '";
  else if (nl - s <= 6)
    res = "the message is empty";
  else {
    char *line = strndup(s, (size_t)(nl - s));
    if (!strstr(line, model)) {
      snprintf(why, sizeof why, "the message does not name the model '%s'", model);
      res = why;
    }
    free(line);
  }
  free(b.data);
  return res;
}

/* Runs one case and records pass/fail. want_fail: the case must exit 1 (a
 * hand-made attack); otherwise exit 0 is accepted too (a harmless mutant). */
static void run_case(const char *name, const char *model, const char *inputs, int want_fail) {
  char outdir[4200], errpath[4200];
  snprintf(outdir, sizeof outdir, "%s/out-%s", work, name);
  snprintf(errpath, sizeof errpath, "%s/err-%s.txt", work, name);
  remove_tree(outdir);
  run_result r = run_pare(model, inputs, outdir, errpath);
  if (r.seconds > slowest_seconds) {
    slowest_seconds = r.seconds;
    snprintf(slowest_name, sizeof slowest_name, "%s", name);
  }

  char why[512] = "";
  if (r.timed_out)
    snprintf(why, sizeof why, "killed after %d s wall time", WALL_LIMIT_S);
  else if (!r.exited)
    snprintf(why, sizeof why, "killed by signal %d (%s)", r.sig, strsignal(r.sig));
  else if (r.code == 1) {
    const char *bad = check_message(errpath, model);
    int outs = count_outputs(outdir);
    if (!bad && want_message) {
      buf msg = {0};
      if (read_file(errpath, &msg) == 0) buf_byte(&msg, 0);
      if (!msg.data || !strstr((const char *)msg.data, want_message)) bad = "the wrong message";
      free(msg.data);
    }
    if (bad)
      snprintf(why, sizeof why, "exit 1 but %s", bad);
    else if (outs)
      snprintf(why, sizeof why, "exit 1 but %d output_*.pb written", outs);
  } else if (r.code == 0) {
    if (want_fail)
      snprintf(why, sizeof why, "exit 0: the attack was accepted");
    else if (!count_outputs(outdir))
      snprintf(why, sizeof why, "exit 0 but no output_*.pb");
  } else {
    snprintf(why, sizeof why, "exit status %d (want 0 or 1)", r.code);
  }
  if (r.maxrss_kb > peak_kb) {
    peak_kb = r.maxrss_kb;
    snprintf(peak_name, sizeof peak_name, "%s", name);
  }
  /* ASan's shadow memory and quarantine are not pare's: only the hard limit. */
  uint64_t rss_limit = HOSTILE_ASAN ? MEM_LIMIT : MEM_CAP + RSS_ALLOWANCE;
  if (!why[0] && (uint64_t)r.maxrss_kb * 1024 >= rss_limit)
    snprintf(why, sizeof why, "peak RSS %ld KiB is over %" PRIu64 " KiB", r.maxrss_kb,
             rss_limit >> 10);
  want_message = NULL;

  if (why[0]) {
    failed++;
    printf("FAIL %s: %s (peak %ld KiB)\n    model: %s\n", name, why, r.maxrss_kb, model);
    show_file(errpath);
  } else {
    passed++;
  }
  remove_tree(outdir);
  unlink(errpath);
}

/* ------------------------------------------------------ real-model mutants */

static const char *const kind_names[] = {"flip", "truncate", "duplicate",
                                         "zero", "insert",   "flip-structure"};

/* Applies mutation `kind` to b, drawing from r. */
static void mutate(buf *b, int kind, rng *r) {
  size_t n = b->len;
  switch (kind) {
  case 0: /* 1..20 byte flips anywhere (mostly weights: often harmless) */
  case 5: /* 1..20 flips in the first or last 64 KiB, where graph structure lives */
  {
    size_t flips = 1 + rng_below(r, 20);
    size_t span = n < 65536 ? n : 65536;
    for (size_t i = 0; i < flips; i++) {
      size_t at = rng_below(r, kind == 0 ? n : span);
      if (kind == 5 && (rng_next(r) & 1)) at = n - 1 - at;
      b->data[at] ^= (uint8_t)(1 + rng_below(r, 255));
    }
    break;
  }
  case 1: /* truncation */
    b->len = rng_below(r, n);
    break;
  case 2: { /* a range copied over another place, growing the file */
    size_t from = rng_below(r, n), len = 1 + rng_below(r, 4096);
    if (len > n - from) len = n - from;
    uint8_t *copy = malloc(len);
    if (!copy) abort();
    memcpy(copy, b->data + from, len);
    buf_insert(b, rng_below(r, n + 1), copy, len);
    free(copy);
    break;
  }
  case 3: { /* a zeroed range */
    size_t from = rng_below(r, n), len = 1 + rng_below(r, 4096);
    if (len > n - from) len = n - from;
    memset(b->data + from, 0, len);
    break;
  }
  case 4: { /* 1..64 random bytes inserted */
    uint8_t junk[64];
    size_t len = 1 + rng_below(r, sizeof junk);
    for (size_t i = 0; i < len; i++) junk[i] = (uint8_t)rng_next(r);
    buf_insert(b, rng_below(r, n + 1), junk, len);
    break;
  }
  }
}

typedef struct {
  const char *name, *model, *data;
} real_model;

static const real_model real_models[] = {
    {"mnist", "models/mnist/mnist-cnn.onnx", "data/mnist/test_data_set_0"},
    {"ocr-cls", "models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", "data/ocr-cls/test_data_set_0"},
    {"hello-deepa", "models/openwakeword/hello_deepa.onnx", "data/hello-deepa/test_data_set_0"},
};

static void run_mutants(const char *shared) {
  for (size_t m = 0; m < sizeof real_models / sizeof *real_models; m++) {
    const real_model *rm = &real_models[m];
    char model[4200], data[4200];
    snprintf(model, sizeof model, "%s/%s", shared, rm->model);
    snprintf(data, sizeof data, "%s/%s", shared, rm->data);
    buf orig = {0};
    if (!shared || read_file(model, &orig) != 0 || !is_dir(data) || orig.len == 0) {
      printf("SKIP %s mutants: %s or %s not found\n", rm->name, model, data);
      free(orig.data);
      continue;
    }
    /* The unmutated model must run, or every mutant below proves nothing. */
    char name[256];
    snprintf(name, sizeof name, "%s-original", rm->name);
    run_case(name, model, data, 0);

    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", work, rm->name);
    make_dir(dir);
    for (int i = 0; i < MUTANTS_PER_MODEL; i++) {
      int kind = i % 6;
      uint64_t seed = (uint64_t)(m + 1) << 32 | (uint64_t)i;
      rng r;
      rng_seed(&r, seed);
      buf b = {0};
      buf_put(&b, orig.data, orig.len);
      mutate(&b, kind, &r);
      char path[4400];
      snprintf(name, sizeof name, "%s-%02d-%s-seed%" PRIx64, rm->name, i, kind_names[kind], seed);
      snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
      if (tb_write_file(path, b.data, b.len) != 0) {
        fprintf(stderr, "hostile: cannot write %s\n", path);
        exit(2);
      }
      run_case(name, path, data, 0);
      unlink(path);
      free(b.data);
    }
    rmdir(dir);
    free(orig.data);
  }
}

/* ---------------------------------------------------- hand-made attacks */

/* The base model: y = x + w, x and w float [2]. Every attack changes one thing. */
static const int64_t two[] = {2};
static const float w_vals[] = {1.0f, 2.0f};

static Onnx__ModelProto *base_model(void) {
  Onnx__ModelProto *m = tb_model(13);
  tb_node(m, "Add", "add", "x,w", "y");
  tb_input(m, "x", 1, two);
  tb_output(m, "y");
  return m;
}

static Onnx__ModelProto *model_with_init(Onnx__TensorProto *w) {
  Onnx__ModelProto *m = base_model();
  tb_init(m, w);
  return m;
}

/* A fresh folder work/hand-NAME; returns the model path inside it. */
static const char *attack_dir(const char *name, char *dir, size_t dir_len) {
  static char model[4400];
  snprintf(dir, dir_len, "%s/hand-%s", work, name);
  make_dir(dir);
  snprintf(model, sizeof model, "%s/model.onnx", dir);
  return model;
}

static void save_bytes(const char *path, const void *p, size_t n) {
  if (tb_write_file(path, p, n) != 0) {
    fprintf(stderr, "hostile: cannot write %s\n", path);
    exit(2);
  }
}

static void save_model(Onnx__ModelProto *m, const char *path) {
  if (tb_save(m, path) != 0) {
    fprintf(stderr, "hostile: cannot write %s\n", path);
    exit(2);
  }
}

/* An attack given as a finished model proto. */
static void attack_model(const char *name, const char *inputs, Onnx__ModelProto *m, int want_fail) {
  char dir[4200];
  const char *model = attack_dir(name, dir, sizeof dir);
  save_model(m, model);
  char case_name[256];
  snprintf(case_name, sizeof case_name, "hand-%s", name);
  run_case(case_name, model, inputs, want_fail);
}

/* An attack given as raw file bytes. */
static void attack_bytes(const char *name, const char *inputs, const buf *b) {
  char dir[4200];
  const char *model = attack_dir(name, dir, sizeof dir);
  save_bytes(model, b->data, b->len);
  char case_name[256];
  snprintf(case_name, sizeof case_name, "hand-%s", name);
  run_case(case_name, model, inputs, 1);
}

/* A weight tensor w of float with the given dims and raw_len bytes of raw_data. */
static Onnx__TensorProto *weight(size_t rank, const int64_t *dims, size_t raw_len) {
  uint8_t raw[16] = {0};
  if (raw_len > sizeof raw) abort();
  return tb_tensor("w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims, raw, raw_len);
}

/* w stored externally: location, with optional offset/length (NULL: absent). */
static Onnx__TensorProto *external_weight(const char *location, const char *offset,
                                          const char *length) {
  Onnx__TensorProto *t = tb_tensor("w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, two, NULL, 0);
  tb_external(t, "location", location);
  if (offset) tb_external(t, "offset", offset);
  if (length) tb_external(t, "length", length);
  return t;
}

/* A model nested `depth` If-levels deep through then_branch subgraphs, built
 * inside out: graph_k = { node { op_type "If", attribute { then_branch = graph_k-1 } } }. */
static void nested_model(buf *out, int depth) {
  buf g = {0}, next = {0};
  for (int i = 0; i < depth; i++) {
    buf attr = {0}, node = {0};
    buf_field_bytes(&attr, 1, "then_branch", 11); /* AttributeProto.name */
    buf_varint(&attr, 20 << 3 | 0);               /* AttributeProto.type = GRAPH */
    buf_varint(&attr, 5);
    buf_field_bytes(&attr, 6, g.data, g.len); /* AttributeProto.g */
    buf_field_bytes(&node, 4, "If", 2);       /* NodeProto.op_type */
    buf_field_bytes(&node, 5, attr.data, attr.len);
    next.len = 0;
    buf_field_bytes(&next, 1, node.data, node.len); /* GraphProto.node */
    buf tmp = g;
    g = next;
    next = tmp;
    free(attr.data);
    free(node.data);
  }
  buf_varint(out, 1 << 3 | 0); /* ModelProto.ir_version = 8 */
  buf_varint(out, 8);
  buf_field_bytes(out, 8, "\x10\x0d", 2); /* opset_import { version: 13 } */
  buf_field_bytes(out, 7, g.data, g.len); /* ModelProto.graph */
  free(g.data);
  free(next.data);
}

/* Attacks on the memory cap (MEM_CAP, 1 GiB). */
static void memory_attacks(const char *inputs) {
  /* Five initializers of 256 MiB each, declared by dims over 8 bytes of raw
   * data: each is under the cap, together they are over it. The sum is
   * checked before any is decoded, so the short raw data is never reached. */
  {
    Onnx__ModelProto *m = model_with_init(tb_f32("w", 1, two, w_vals));
    static const int64_t big[] = {8192, 8192};
    for (int i = 0; i < 5; i++) {
      char name[16];
      snprintf(name, sizeof name, "big%d", i);
      Onnx__TensorProto *t = weight(2, big, 8);
      free(t->name);
      t->name = tb_strdup(name);
      tb_init(m, t);
    }
    want_message = "initializers and constants: 1342177288 bytes";
    attack_model("initializers-over-cap", inputs, m, 1);
  }
  /* Intermediates: c = ConstantOfShape([160,1024,1024]) is 640 MiB, under
   * the cap; d = c + c needs 640 MiB more while c is live, over it.
   * y = x + ReduceSum(d) keeps the graph's interface the base model's. */
  {
    Onnx__ModelProto *m = tb_model(13);
    static const int64_t three[] = {3}, shape[] = {160, 1024, 1024};
    tb_init(m, tb_tensor("s", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, three, shape, sizeof shape));
    tb_node(m, "ConstantOfShape", "fill", "s", "c");
    tb_node(m, "Add", "double", "c,c", "d");
    Onnx__NodeProto *sum = tb_node(m, "ReduceSum", "sum", "d", "e");
    tb_attr_int(sum, "keepdims", 0);
    tb_node(m, "Add", "add", "x,e", "y");
    tb_input(m, "x", 1, two);
    tb_output(m, "y");
    want_message = "node 'double' (Add)";
    attack_model("intermediates-over-cap", inputs, m, 1);
  }
}

static void run_attacks(void) {
  /* Shared inputs: x = [0.5, 0.25] as input_0.pb. */
  char inputs[4200];
  snprintf(inputs, sizeof inputs, "%s/inputs", work);
  make_dir(inputs);
  {
    static const float xv[] = {0.5f, 0.25f};
    Onnx__TensorProto *x = tb_f32("x", 1, two, xv);
    size_t len = onnx__tensor_proto__get_packed_size(x);
    uint8_t *p = tb_alloc(len);
    onnx__tensor_proto__pack(x, p);
    char path[4400];
    snprintf(path, sizeof path, "%s/input_0.pb", inputs);
    save_bytes(path, p, len);
    free(p);
    onnx__tensor_proto__free_unpacked(x, NULL);
  }
  char dir[4200];

  /* Controls: the base model runs, inline and with sound external data. */
  attack_model("control", inputs, model_with_init(tb_f32("w", 1, two, w_vals)), 0);
  {
    const char *model = attack_dir("control-external", dir, sizeof dir);
    char path[4400];
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    save_bytes(path, w_vals, sizeof w_vals);
    save_model(model_with_init(external_weight("weights.bin", NULL, NULL)), model);
    run_case("hand-control-external", model, inputs, 0);
  }

  /* An empty file. */
  {
    buf b = {0};
    attack_bytes("empty", inputs, &b);
  }
  /* A folder named model.onnx. */
  {
    const char *model = attack_dir("directory", dir, sizeof dir);
    make_dir(model);
    run_case("hand-directory", model, inputs, 1);
  }
  /* ModelProto.graph claiming 1 GiB in a file of a few bytes. */
  {
    buf b = {0};
    buf_varint(&b, 7 << 3 | 2);
    buf_varint(&b, 1ull << 30);
    buf_put(&b, "\x0a\x02", 2);
    attack_bytes("graph-1gib-length", inputs, &b);
    free(b.data);
  }
  /* A valid model followed by a field whose length varint is near 2^63. */
  {
    size_t len;
    Onnx__ModelProto *m = model_with_init(tb_f32("w", 1, two, w_vals));
    uint8_t *p = tb_pack(m, &len);
    tb_free(m);
    buf b = {0};
    buf_put(&b, p, len);
    free(p);
    buf_varint(&b, 7 << 3 | 2);
    buf_varint(&b, INT64_MAX - 3);
    attack_bytes("length-2^63", inputs, &b);
    free(b.data);
  }
  /* A varint that never ends (eleven continuation bytes). */
  {
    buf b = {0};
    buf_varint(&b, 1 << 3 | 0);
    for (int i = 0; i < 11; i++) buf_byte(&b, 0xff);
    attack_bytes("endless-varint", inputs, &b);
    free(b.data);
  }
  /* Initializer dims whose product passes 2^63, with 8 bytes of data. */
  {
    const int64_t dims[] = {INT64_C(1) << 32, INT64_C(1) << 32, 4};
    attack_model("dims-overflow", inputs, model_with_init(weight(3, dims, 8)), 1);
  }
  /* Initializer claiming 2^40 floats with 8 bytes of raw_data. */
  {
    const int64_t dims[] = {INT64_C(1) << 40};
    attack_model("dims-2^40", inputs, model_with_init(weight(1, dims, 8)), 1);
  }
  /* A negative dim, and two negative dims whose product is positive. */
  {
    const int64_t dims[] = {-2};
    attack_model("negative-dim", inputs, model_with_init(weight(1, dims, 8)), 1);
    const int64_t dims2[] = {-1, -2};
    attack_model("two-negative-dims", inputs, model_with_init(weight(2, dims2, 8)), 1);
  }
  /* raw_data shorter than the dims say. */
  {
    const int64_t dims[] = {4};
    attack_model("short-raw-data", inputs, model_with_init(weight(1, dims, 8)), 1);
  }
  /* An unknown element type. */
  {
    Onnx__TensorProto *t = weight(1, two, 8);
    t->data_type = 9999;
    attack_model("unknown-dtype", inputs, model_with_init(t), 1);
  }
  /* External data escaping the folder: "..", absolute path, symlink. */
  attack_model("external-dotdot", inputs,
               model_with_init(external_weight("../../etc/passwd", NULL, NULL)), 1);
  attack_model("external-absolute", inputs,
               model_with_init(external_weight("/etc/passwd", NULL, NULL)), 1);
  {
    const char *model = attack_dir("external-symlink", dir, sizeof dir);
    char outside[4400], link_path[4400];
    snprintf(outside, sizeof outside, "%s/outside.bin", work);
    save_bytes(outside, w_vals, sizeof w_vals);
    snprintf(link_path, sizeof link_path, "%s/weights.bin", dir);
    unlink(link_path);
    if (symlink(outside, link_path) != 0) {
      perror("hostile: symlink");
      exit(2);
    }
    save_model(model_with_init(external_weight("weights.bin", NULL, NULL)), model);
    run_case("hand-external-symlink", model, inputs, 1);
  }
  /* External data: offset far past the end, length near 2^63, a folder. */
  {
    const char *model = attack_dir("external-offset", dir, sizeof dir);
    char path[4400];
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    save_bytes(path, w_vals, sizeof w_vals);
    save_model(model_with_init(external_weight("weights.bin", "4611686018427387904", NULL)), model);
    run_case("hand-external-offset", model, inputs, 1);

    model = attack_dir("external-length", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    save_bytes(path, w_vals, sizeof w_vals);
    save_model(model_with_init(external_weight("weights.bin", "4", "9223372036854775800")), model);
    run_case("hand-external-length", model, inputs, 1);

    model = attack_dir("external-folder", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/sub", dir);
    make_dir(path);
    save_model(model_with_init(external_weight("sub", NULL, NULL)), model);
    run_case("hand-external-folder", model, inputs, 1);
  }
  /* Subgraphs nested 1000 deep (recursion in the loader), and 100000 deep
   * (recursion in the protobuf parser). */
  {
    buf b = {0};
    nested_model(&b, 1000);
    attack_bytes("nesting-1000", inputs, &b);
    b.len = 0;
    nested_model(&b, 100000);
    attack_bytes("nesting-100000", inputs, &b);
    free(b.data);
  }
  /* 64 KiB of fixed-seed random bytes. */
  {
    rng r;
    rng_seed(&r, 0xBAD5EED);
    buf b = {0};
    for (int i = 0; i < 65536; i++) buf_byte(&b, (uint8_t)rng_next(&r));
    attack_bytes("random-bytes", inputs, &b);
    free(b.data);
  }
  memory_attacks(inputs);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
  const char *shared = NULL;
  int keep = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--pare") && i + 1 < argc)
      pare_path = argv[++i];
    else if (!strcmp(argv[i], "--shared") && i + 1 < argc)
      shared = argv[++i];
    else if (!strcmp(argv[i], "--keep"))
      keep = 1;
    else {
      fprintf(stderr, "usage: pare_hostile --pare PATH [--shared DIR] [--keep]\n");
      return 2;
    }
  }
  if (!pare_path) {
    fprintf(stderr, "usage: pare_hostile --pare PATH [--shared DIR] [--keep]\n");
    return 2;
  }
  const char *tmp = getenv("TMPDIR");
  snprintf(work, sizeof work, "%s/pare-hostile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(work)) {
    perror("hostile: mkdtemp");
    return 2;
  }
  printf("pare_hostile: ASan %s, work folder %s\n", HOSTILE_ASAN ? "on" : "off", work);

  if (shared && is_dir(shared))
    run_mutants(shared);
  else
    printf("SKIP real-model mutants: shared folder %s not found\n", shared ? shared : "(none)");
  run_attacks();

  if (slowest_name[0]) printf("slowest case: %s (%.1f s)\n", slowest_name, slowest_seconds);
  if (peak_name[0])
    printf("largest peak RSS: %s (%ld KiB; cap %s, limit %" PRIu64 " KiB)\n", peak_name, peak_kb,
           MEM_CAP_ARG, ((HOSTILE_ASAN ? MEM_LIMIT : MEM_CAP + RSS_ALLOWANCE) >> 10));
  if (!keep) remove_tree(work);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
