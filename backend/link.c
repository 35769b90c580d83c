/*
 * link.c - turning an emitted object into a static archive or a shared
 * library with the system's tools: `ar` for archives and the C compiler
 * driver ($CC, default cc) as the linker for shared libraries. Outputs are
 * written beside the target under a temporary name and renamed on success.
 */
#include "backend/backend.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs argv, waits, and fails with the tool's name unless it exits 0. */
static int run_tool(char *const argv[], pare_err *err) {
  pid_t pid;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return pare_errf(err, "cannot run '%s': %s", argv[0], strerror(rc));
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return pare_errf(err, "waiting for '%s': %s", argv[0], strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return pare_errf(err, "'%s' failed (status %d)", argv[0], status);
  return PARE_OK;
}

/* Makes a fresh temporary name beside path (the file is created empty). */
static char *temp_beside(const char *path, pare_err *err) {
  char *tmp = pare_temp_path_for(path);
  if (!tmp) {
    pare_errf(err, "out of memory");
    return NULL;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) {
    pare_errf(err, "%s: cannot create a file in the output folder: %s", path, strerror(errno));
    free(tmp);
    return NULL;
  }
  close(fd);
  return tmp;
}

static int finish(char *tmp, const char *path, int rc, pare_err *err) {
  if (!rc && rename(tmp, path) != 0)
    rc = pare_errf(err, "%s: rename failed: %s", path, strerror(errno));
  if (rc) unlink(tmp);
  free(tmp);
  return rc;
}

int pare_link_shared(const char *obj, const char *path, pare_err *err) {
  char *tmp = temp_beside(path, err);
  if (!tmp) return PARE_ERR;
  const char *cc = getenv("CC");
  char *argv[] = {(char *)(cc && *cc ? cc : "cc"), "-shared", "-o", tmp, (char *)obj, "-lm", NULL};
  return finish(tmp, path, run_tool(argv, err), err);
}

int pare_archive_static(const char *obj, const char *path, pare_err *err) {
  char *tmp = temp_beside(path, err);
  if (!tmp) return PARE_ERR;
  unlink(tmp); /* ar creates the archive itself */
  /* D: deterministic (zero timestamps and ids), so identical inputs give identical bytes. */
  char *argv[] = {"ar", "rcsD", tmp, (char *)obj, NULL};
  return finish(tmp, path, run_tool(argv, err), err);
}
