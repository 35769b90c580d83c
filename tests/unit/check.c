#include "check.h"

#include <sys/stat.h>

int check_failures_in_test;
int check_tests_passed, check_tests_failed, check_tests_skipped;

void check_run(const char *name, void (*fn)(void)) {
  check_failures_in_test = 0;
  fn();
  if (check_failures_in_test < 0) {
    check_tests_skipped++;
  } else if (check_failures_in_test == 0) {
    check_tests_passed++;
  } else {
    check_tests_failed++;
    fprintf(stderr, "FAIL %s (%d checks)\n", name, check_failures_in_test);
  }
}

int check_summary(void) {
  printf("%d passed, %d failed, %d skipped\n", check_tests_passed, check_tests_failed,
         check_tests_skipped);
  return check_tests_failed ? 1 : 0;
}

const char *check_source_dir(void) {
  const char *env = getenv("PARE_SOURCE_DIR");
  return env ? env : PARE_SOURCE_DIR_DEFAULT;
}

const char *check_shared_dir(void) {
  static char buf[4096];
  const char *env = getenv("PARE_SHARED");
  if (env)
    snprintf(buf, sizeof buf, "%s", env);
  else
    snprintf(buf, sizeof buf, "%s/../shared", check_source_dir());
  struct stat st;
  if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
  return buf;
}
