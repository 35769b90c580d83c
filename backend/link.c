/*
 * link.c - turning an emitted object into a static archive or a shared
 * library with the system's tools: `ar` for archives and the C compiler
 * driver ($CC, default cc) as the linker for shared libraries.
 */
#include "backend/backend.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_TOOL_ARGS 64

/* Runs argv and waits. Termination signals stay pending meanwhile (the
 * child gets them unblocked), so whoever handles them sees the tool done. */
static int run_tool(char *const argv[], pare_err *err) {
  sigset_t hold, old;
  sigemptyset(&hold);
  sigaddset(&hold, SIGINT);
  sigaddset(&hold, SIGTERM);
  sigaddset(&hold, SIGHUP);
  sigprocmask(SIG_BLOCK, &hold, &old);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &old);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], NULL, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  int status = 0;
  if (rc == 0)
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) return pare_errf(err, "cannot run '%s': %s", argv[0], strerror(rc));
  if (WIFSIGNALED(status))
    return pare_errf(err, "'%s' was killed by signal %d", argv[0], WTERMSIG(status));
  if (WEXITSTATUS(status) != 0)
    return pare_errf(err, "'%s' failed (exit status %d)", argv[0], WEXITSTATUS(status));
  return PARE_OK;
}

/* Splits $CC ("ccache gcc -m64") into words, as make would. */
static int cc_words(char *buf, char **argv, int max) {
  const char *cc = getenv("CC");
  snprintf(buf, 1024, "%s", cc && *cc ? cc : "cc");
  int n = 0;
  for (char *tok = strtok(buf, " \t"); tok && n < max; tok = strtok(NULL, " \t")) argv[n++] = tok;
  return n;
}

int pare_link_shared(const char *obj, const char *path, pare_err *err) {
  char buf[1024];
  char *argv[MAX_TOOL_ARGS + 8];
  int n = cc_words(buf, argv, MAX_TOOL_ARGS);
  if (n == 0) return pare_errf(err, "$CC is empty");
  char *rest[] = {"-shared", "-o", (char *)path, (char *)obj, "-lm", NULL};
  memcpy(argv + n, rest, sizeof rest);
  if (run_tool(argv, err)) return pare_err_prefix(err, "%s: linking", path);
  /* Loadable by everyone, as cc -shared leaves it (not the staged 0600). */
  if (chmod(path, 0755) != 0) return pare_errf(err, "%s: chmod: %s", path, strerror(errno));
  return PARE_OK;
}

int pare_archive_static(const char *obj, const char *path, pare_err *err) {
  /* ar adds to an existing archive: start from none. */
  if (unlink(path) != 0 && errno != ENOENT)
    return pare_errf(err, "%s: cannot replace: %s", path, strerror(errno));
  /* D: deterministic (zero timestamps and ids), so identical inputs give identical bytes. */
  char *argv[] = {"ar", "rcsD", (char *)path, (char *)obj, NULL};
  if (run_tool(argv, err)) return pare_err_prefix(err, "%s: archiving", path);
  if (chmod(path, 0644) != 0) return pare_errf(err, "%s: chmod: %s", path, strerror(errno));
  return PARE_OK;
}
