/*
 * file_io.c - reading whole model / tensor files with sanity checks.
 */
#include "frontend/frontend_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads exactly len bytes from fd (retrying short reads). */
static int read_all(int fd, uint8_t *buf, size_t len, pare_err *err) {
  size_t done = 0;
  while (done < len) {
    ssize_t got = read(fd, buf + done, len - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return pare_errf(err, "read failed: %s", strerror(errno));
    if (got == 0) return pare_errf(err, "file shrank while reading (%zu of %zu bytes)", done, len);
    done += (size_t)got;
  }
  return PARE_OK;
}

/* Size of the regular file behind fd; refuses directories, devices, empty files. */
static int regular_file_size(int fd, size_t *len, pare_err *err) {
  struct stat st;
  if (fstat(fd, &st) != 0) return pare_errf(err, "cannot stat: %s", strerror(errno));
  if (S_ISDIR(st.st_mode)) return pare_errf(err, "is a directory, not a file");
  if (!S_ISREG(st.st_mode)) return pare_errf(err, "is not a regular file");
  if (st.st_size == 0) return pare_errf(err, "file is empty");
  if ((uint64_t)st.st_size > PARE_FE_MAX_FILE_BYTES)
    return pare_errf(err, "file is %lld bytes, over the %zu-byte protobuf limit",
                     (long long)st.st_size, PARE_FE_MAX_FILE_BYTES);
  *len = (size_t)st.st_size;
  return PARE_OK;
}

int pare_fe_read_file(const char *path, uint8_t **data, size_t *len, pare_err *err) {
  *data = NULL;
  *len = 0;
  /* O_NONBLOCK: opening a FIFO must not hang; it is refused right after. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return pare_errf(err, "cannot open: %s", strerror(errno));
  size_t size = 0;
  /* The file's bytes and protobuf-c's parse of them are held at once. */
  if (regular_file_size(fd, &size, err) || pare_memory_check(size, "reading the file", err)) {
    close(fd);
    return PARE_ERR;
  }
  uint8_t *buf = malloc(size);
  if (!buf) {
    close(fd);
    return pare_errf(err, "out of memory reading %zu bytes", size);
  }
  int rc = read_all(fd, buf, size, err);
  close(fd);
  if (rc) {
    free(buf);
    return PARE_ERR;
  }
  *data = buf;
  *len = size;
  return PARE_OK;
}

char *pare_fe_dirname(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return pare_strdup(".");
  if (slash == path) return pare_strdup("/");
  size_t n = (size_t)(slash - path);
  char *dir = malloc(n + 1);
  if (!dir) return NULL;
  memcpy(dir, path, n);
  dir[n] = 0;
  return dir;
}
