/*
 * driver_metrics.c - the task metrics of driver/metrics.h on hand-made
 * outputs: greedy CTC decoding (repeats merged, blanks dropped, the space
 * class, code points not bytes), top1 with a label map and agreement, mask
 * IoU, the test_data_set_K listing, and the messages of bad labels.
 */
#include "check.h"

#include "driver/metrics.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static const char *write_file(const char *name, const char *text) {
  static char path[4][512];
  static int next;
  char *p = path[next++ % 4];
  snprintf(p, 512, "%s/%s", tmpdir, name);
  FILE *f = fopen(p, "wb");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return p;
}

static pare_tensor *tensor(int rank, const int64_t *dims, const float *data) {
  pare_err err;
  pare_shape s = pare_shape_make(rank, dims);
  pare_tensor *t = pare_tensor_new(PARE_F32, &s, &err);
  if (t) memcpy(t->data, data, (size_t)t->nbytes);
  return t;
}

/* [1,T,C] with a 1 at each step's class. */
static pare_tensor *one_hot(const int *cls, int steps, int classes) {
  float *d = calloc((size_t)steps * (size_t)classes, sizeof *d);
  for (int s = 0; s < steps; s++) d[s * classes + cls[s]] = 1;
  int64_t dims[3] = {1, steps, classes};
  pare_tensor *t = tensor(3, dims, d);
  free(d);
  return t;
}

static void test_parse(void) {
  pare_err err;
  metric_spec s = {0};
  CHECK(metric_parse("mask0.3", &s, &err) == PARE_OK && s.kind == METRIC_MASK);
  CHECK_NEAR(s.threshold, 0.3, 0);
  CHECK(metric_parse("ctc", &s, &err) == PARE_OK && s.kind == METRIC_CTC);
  CHECK(metric_parse("mask", &s, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "mask needs a threshold");
  CHECK(metric_parse("f1", &s, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "unknown metric 'f1'");
  long lo, hi;
  CHECK(metric_parse_range("3-7", &lo, &hi) == PARE_OK && lo == 3 && hi == 7);
  CHECK(metric_parse_range("4", &lo, &hi) == PARE_OK && lo == 4 && hi == 4);
  CHECK(metric_parse_range("7-3", &lo, &hi) == PARE_ERR);
  CHECK(metric_parse_range("3-", &lo, &hi) == PARE_ERR);
}

static void test_ctc(void) {
  pare_err err;
  /* classes: 0 blank, 1 a, 2 b, 3 é, 4 space */
  metric_spec s = {.kind = METRIC_CTC,
                   .vocab = write_file("vocab.txt", "a\nb\n\xc3\xa9\n"),
                   .labels = write_file("lines.txt", "aab \xc3\xa9\nab\n")};
  metric_ctx *m = metric_open(&s, &err);
  CHECK(m != NULL);
  if (!m) return;
  /* a a _ a b space é é: repeats merge, the blank separates "a" from "a". */
  int steps[] = {1, 1, 0, 1, 2, 4, 3, 3};
  pare_tensor *t = one_hot(steps, 8, 5);
  metric_acc acc = {0};
  CHECK(metric_score(m, 0, t, &acc, NULL, "", &err) == PARE_OK);
  CHECK(acc.hits == 0 && acc.total == 5 && acc.exact == 1 && acc.lines == 1);
  /* Against "ab": "aab é" is 3 edits away (one a, the space, é: code points). */
  CHECK(metric_score(m, 1, t, &acc, NULL, "", &err) == PARE_OK);
  CHECK(acc.hits == 3 && acc.total == 7 && acc.exact == 1 && acc.lines == 2);
  char buf[128];
  metric_str(METRIC_CTC, &acc, buf, sizeof buf);
  CHECK(strcmp(buf, "CER 0.428571 (3/7), exact 0.500000 (1/2)") == 0);
  /* Compared with another decoding: "ab" against "aab é". */
  int other[] = {1, 2, 2, 0, 0, 0, 0, 0};
  pare_tensor *u = one_hot(other, 8, 5);
  metric_acc cmp = {0};
  CHECK(metric_compare(m, u, t, &cmp, &err) == PARE_OK);
  CHECK(cmp.hits == 3 && cmp.total == 5);
  CHECK(metric_score(m, 2, t, &acc, NULL, "", &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "has 2 lines, no label for set 2");
  pare_tensor *wrong = one_hot(steps, 8, 6);
  CHECK(metric_score(m, 0, wrong, &acc, NULL, "", &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "output has 6 classes");
  pare_tensor_free(t);
  pare_tensor_free(u);
  pare_tensor_free(wrong);
  metric_close(m);
}

static void test_top1(void) {
  pare_err err;
  metric_spec s = {
      .kind = METRIC_TOP1, .labels = write_file("cls.txt", "180 0\n0,up\n"), .label_map = "0,180"};
  metric_ctx *m = metric_open(&s, &err);
  CHECK(m != NULL);
  if (!m) return;
  int64_t dims[2] = {2, 2};
  float a[] = {0.2f, 0.8f, 0.9f, 0.1f}, b[] = {0.3f, 0.7f, 0.4f, 0.6f};
  pare_tensor *ta = tensor(2, dims, a), *tb = tensor(2, dims, b);
  metric_acc acc = {0}, agree = {0};
  CHECK(metric_score(m, 0, ta, &acc, NULL, "", &err) == PARE_OK);
  CHECK(metric_score(m, 0, tb, &acc, NULL, "", &err) == PARE_OK);
  CHECK(acc.hits == 3 && acc.total == 4);
  CHECK(metric_compare(m, tb, ta, &agree, &err) == PARE_OK);
  CHECK(agree.hits == 1 && agree.total == 2);
  CHECK(metric_score(m, 1, ta, &acc, NULL, "", &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "line 2: label 'up' is not in --label-map 0,180");
  pare_tensor_free(ta);
  pare_tensor_free(tb);
  metric_close(m);
}

static void test_mask(void) {
  pare_err err;
  metric_spec s = {.kind = METRIC_MASK, .threshold = 0.3};
  metric_ctx *m = metric_open(&s, &err);
  CHECK(m != NULL && !metric_has_labels(m));
  if (!m) return;
  int64_t dims[2] = {1, 5};
  /* masks 0 1 1 1 0 and 1 1 0 1 0: 2 in both, 4 in either */
  float a[] = {0.1f, 0.5f, 0.9f, 0.4f, 0.3f}, b[] = {0.6f, 0.5f, 0.2f, 0.35f, 0.0f};
  pare_tensor *ta = tensor(2, dims, a), *tb = tensor(2, dims, b);
  metric_acc acc = {0};
  CHECK(metric_compare(m, ta, tb, &acc, &err) == PARE_OK);
  CHECK(acc.hits == 2 && acc.total == 4);
  CHECK_NEAR(metric_value(&acc), 0.5, 0);
  int64_t other[2] = {5, 1};
  pare_tensor *tc = tensor(2, other, b);
  CHECK(metric_compare(m, ta, tc, &acc, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "cannot compare f32 [1,5] with f32 [5,1]");
  pare_tensor_free(ta);
  pare_tensor_free(tb);
  pare_tensor_free(tc);
  metric_close(m);
}

static void test_list_sets(void) {
  char dir[512], p[600];
  snprintf(dir, sizeof dir, "%s/data", tmpdir);
  mkdir(dir, 0777);
  const char *names[] = {"test_data_set_2",  "test_data_set_10", "test_data_set_1",
                         "test_data_set_01", "test_data_set_x",  "other"};
  for (int i = 0; i < 6; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    mkdir(p, 0777);
  }
  pare_err err;
  long *sets = NULL;
  int n = 0;
  CHECK(metric_list_sets(dir, 0, 1L << 30, &sets, &n, &err) == PARE_OK);
  CHECK(n == 3 && sets[0] == 1 && sets[1] == 2 && sets[2] == 10);
  free(sets);
  CHECK(metric_list_sets(dir, 2, 10, &sets, &n, &err) == PARE_OK);
  CHECK(n == 2 && sets[0] == 2 && sets[1] == 10);
  free(sets);
  CHECK(metric_list_sets(dir, 3, 9, &sets, &n, &err) == PARE_ERR && sets == NULL);
  CHECK_STR_CONTAINS(err.msg, "no test_data_set_K with K in 3-9");
  snprintf(p, sizeof p, "%s/missing", tmpdir);
  CHECK(metric_list_sets(p, 0, 9, &sets, &n, &err) == PARE_ERR);
  CHECK_STR_CONTAINS(err.msg, "missing: No such file or directory");
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/pare-metrics-XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_parse);
  RUN(test_ctc);
  RUN(test_top1);
  RUN(test_mask);
  RUN(test_list_sets);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return check_summary();
}
