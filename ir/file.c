/*
 * file.c - writing output files atomically: the bytes go to a temporary file
 * in the target's folder, which is renamed over the target only when
 * complete, so no partial file is ever visible under the target's name.
 */
#include "ir/ir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const void *buf, size_t len, pare_err *err) {
  const unsigned char *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t put = write(fd, p + done, len - done);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return pare_errf(err, "write failed: %s", strerror(errno));
    done += (size_t)put;
  }
  return PARE_OK;
}

int pare_write_file(const char *path, const void *buf, size_t len, pare_err *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return pare_errf(err, "cannot write: %s", strerror(errno));
  int rc = write_all(fd, buf, len, err);
  if (close(fd) != 0 && !rc) rc = pare_errf(err, "close failed: %s", strerror(errno));
  return rc;
}

char *pare_temp_path_for(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t dir_len = slash ? (size_t)(slash - path) : 1;
  const char *dir = slash ? path : ".";
  const char *base = slash ? slash + 1 : path;
  size_t n = dir_len + strlen(base) + 16;
  char *tmp = malloc(n);
  if (!tmp) return NULL;
  if (slash && dir_len == 0)
    snprintf(tmp, n, "/.%s.XXXXXX", base);
  else
    snprintf(tmp, n, "%.*s/.%s.XXXXXX", (int)dir_len, dir, base);
  return tmp;
}

int pare_write_file_atomic(const char *path, const void *buf, size_t len, pare_err *err) {
  char *tmp = pare_temp_path_for(path);
  if (!tmp) return pare_errf(err, "out of memory");
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int rc = pare_errf(err, "cannot create a file in the output folder: %s", strerror(errno));
    free(tmp);
    return rc;
  }
  int rc = write_all(fd, buf, len, err);
  if (!rc && fchmod(fd, 0644) != 0) rc = pare_errf(err, "chmod failed: %s", strerror(errno));
  if (close(fd) != 0 && !rc) rc = pare_errf(err, "close failed: %s", strerror(errno));
  if (!rc && rename(tmp, path) != 0) rc = pare_errf(err, "rename failed: %s", strerror(errno));
  if (rc) unlink(tmp);
  free(tmp);
  return rc;
}
