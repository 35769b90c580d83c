/*
 * helpers.c - small utilities shared by op implementations.
 */
#include "ops/ops.h"

#include <stdlib.h>

int pare_broadcast_shape(const pare_shape *a, const pare_shape *b, pare_shape *out, pare_err *err) {
  if (a->rank < 0 || b->rank < 0) {
    *out = pare_shape_unknown();
    return PARE_OK;
  }
  int rank = a->rank > b->rank ? a->rank : b->rank;
  pare_shape s = pare_shape_make(rank, NULL);
  for (int i = 0; i < rank; i++) {
    int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da == db)
      s.dims[i] = da;
    else if (da == 1)
      s.dims[i] = db;
    else if (db == 1)
      s.dims[i] = da;
    else if (da < 0 || db < 0)
      s.dims[i] = -1;
    else {
      char sa[128], sb[128];
      pare_shape_str(a, sa, sizeof sa);
      pare_shape_str(b, sb, sizeof sb);
      return pare_errf(err, "shapes %s and %s do not broadcast", sa, sb);
    }
  }
  *out = s;
  return PARE_OK;
}

int pare_norm_axis(int64_t axis, int rank, int *out, pare_err *err) {
  if (axis < -(int64_t)rank || axis >= rank)
    return pare_errf(err, "axis %lld out of range for rank %d", (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return PARE_OK;
}

void pare_strides(const pare_shape *s, int64_t *strides) {
  int64_t acc = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= s->dims[i];
  }
}

int pare_tensor_to_i64s(const pare_tensor *t, int64_t **out, int64_t *n, pare_err *err) {
  if (!t->data) return pare_errf(err, "tensor value unknown");
  if (!pare_dtype_is_int(t->dtype) && t->dtype != PARE_BOOL)
    return pare_errf(err, "expected an integer tensor, got %s", pare_dtype_name(t->dtype));
  int64_t count = pare_tensor_numel(t);
  int64_t *v = malloc((size_t)(count > 0 ? count : 1) * sizeof *v);
  if (!v) return pare_errf(err, "out of memory");
  for (int64_t i = 0; i < count; i++) v[i] = pare_tensor_get_i64(t, i);
  *out = v;
  *n = count;
  return PARE_OK;
}

int pare_need_input(const pare_tensor *const *in, int n_in, int i, pare_err *err) {
  if (i >= n_in || !in[i]) return pare_errf(err, "input %d is required", i);
  return PARE_OK;
}
