/*
 * external_data.c - tensors whose bytes live in a file beside the model.
 *
 * The location is untrusted input: it must be a relative path that stays
 * inside the model's folder, also after resolving symlinks, and offset/length
 * must lie inside the file and match the tensor's dims exactly.
 */
#include "frontend/frontend_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct ext_ref {
  const char *location;
  int64_t offset; /* 0 if absent */
  int64_t length; /* -1 if absent: up to the end of the file */
} ext_ref;

/* Strict non-negative decimal (no sign, no spaces, no overflow). */
static int parse_u63(const char *s, int64_t *out) {
  if (!s || !*s) return PARE_ERR;
  int64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return PARE_ERR;
    int d = *s - '0';
    if (v > (INT64_MAX - d) / 10) return PARE_ERR;
    v = v * 10 + d;
  }
  *out = v;
  return PARE_OK;
}

static int parse_ref(const Onnx__TensorProto *tp, ext_ref *ref, pare_err *err) {
  ref->location = NULL;
  ref->offset = 0;
  ref->length = -1;
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const char *key = tp->external_data[i]->key, *val = tp->external_data[i]->value;
    if (!key) continue;
    if (strcmp(key, "location") == 0) {
      ref->location = val;
    } else if (strcmp(key, "offset") == 0) {
      if (parse_u63(val, &ref->offset))
        return pare_errf(err, "external data offset '%s' is not a valid number", val ? val : "");
    } else if (strcmp(key, "length") == 0) {
      if (parse_u63(val, &ref->length))
        return pare_errf(err, "external data length '%s' is not a valid number", val ? val : "");
    }
  }
  if (!ref->location || !*ref->location) return pare_errf(err, "external data has no location");
  return PARE_OK;
}

/* Refuses absolute paths and any ".." component before touching the disk. */
static int check_location_text(const char *loc, pare_err *err) {
  if (loc[0] == '/')
    return pare_errf(err,
                     "external data location '%s' is an absolute path; only paths "
                     "relative to the model folder are allowed",
                     loc);
  for (const char *p = loc; *p;) {
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return pare_errf(err, "external data location '%s' uses '..' to leave the model folder", loc);
    p += n;
    while (*p == '/') p++;
  }
  return PARE_OK;
}

/* Resolves dir/loc and checks the result lies inside realpath(dir). *out is malloc'd. */
static int resolve_inside(const char *dir, const char *loc, char **out, pare_err *err) {
  *out = NULL;
  size_t n = strlen(dir) + strlen(loc) + 2;
  char *joined = malloc(n);
  if (!joined) return pare_errf(err, "out of memory");
  snprintf(joined, n, "%s/%s", dir, loc);
  char *rdir = realpath(dir, NULL);
  char *rfile = realpath(joined, NULL);
  int rc = PARE_OK;
  if (!rdir) {
    rc = pare_errf(err, "cannot resolve model folder '%s': %s", dir, strerror(errno));
  } else if (!rfile) {
    rc = pare_errf(err, "cannot open external data file '%s': %s", loc, strerror(errno));
  } else {
    size_t dl = strlen(rdir);
    int root = strcmp(rdir, "/") == 0;
    if (!root && (strncmp(rfile, rdir, dl) != 0 || rfile[dl] != '/'))
      rc = pare_errf(err,
                     "external data location '%s' resolves to '%s', outside the model "
                     "folder (symlink?)",
                     loc, rfile);
  }
  free(joined);
  free(rdir);
  if (rc) {
    free(rfile);
    return PARE_ERR;
  }
  *out = rfile;
  return PARE_OK;
}

static int pread_all(int fd, uint8_t *buf, size_t len, off_t off, pare_err *err) {
  size_t done = 0;
  while (done < len) {
    ssize_t got = pread(fd, buf + done, len - done, off + (off_t)done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return pare_errf(err, "reading external data failed: %s", strerror(errno));
    if (got == 0) return pare_errf(err, "external data file shrank while reading");
    done += (size_t)got;
  }
  return PARE_OK;
}

/* Checks offset/length against the file size and the tensor's byte size. */
static int check_range(const ext_ref *ref, int64_t file_size, const pare_tensor *t, pare_err *err) {
  if (ref->offset > file_size)
    return pare_errf(err, "external data offset %lld is past the end of '%s' (%lld bytes)",
                     (long long)ref->offset, ref->location, (long long)file_size);
  int64_t avail = file_size - ref->offset;
  int64_t len = ref->length < 0 ? avail : ref->length;
  if (len > avail)
    return pare_errf(err, "external data range %lld+%lld exceeds '%s' (%lld bytes)",
                     (long long)ref->offset, (long long)len, ref->location, (long long)file_size);
  if ((uint64_t)len != t->nbytes) {
    char sb[160];
    pare_shape_str(&t->shape, sb, sizeof sb);
    return pare_errf(err, "external data has %lld bytes but dims %s of %s need %zu", (long long)len,
                     sb, pare_dtype_name(t->dtype), t->nbytes);
  }
  return PARE_OK;
}

static int read_from_file(const char *file, const ext_ref *ref, pare_tensor *t, pare_err *err) {
  int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return pare_errf(err, "cannot open external data file '%s': %s", ref->location,
                     strerror(errno));
  struct stat st;
  int rc = PARE_OK;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    rc = pare_errf(err, "external data '%s' is not a regular file", ref->location);
  if (!rc) rc = check_range(ref, (int64_t)st.st_size, t, err);
  if (!rc) rc = pare_tensor_alloc(t, err);
  if (!rc) rc = pread_all(fd, t->data, t->nbytes, (off_t)ref->offset, err);
  close(fd);
  if (!rc) pare_fe_le_to_host(t);
  return rc;
}

int pare_fe_read_external(const Onnx__TensorProto *tp, const char *dir, pare_tensor *t,
                          pare_err *err) {
  if (!dir)
    return pare_errf(err, "external data is not allowed here (no model folder to read from)");
  ext_ref ref;
  if (parse_ref(tp, &ref, err)) return PARE_ERR;
  if (check_location_text(ref.location, err)) return PARE_ERR;
  char *file;
  if (resolve_inside(dir, ref.location, &file, err)) return PARE_ERR;
  int rc = read_from_file(file, &ref, t, err);
  free(file);
  return rc;
}
