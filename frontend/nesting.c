/*
 * nesting.c - bounds the message nesting of an ONNX model before protobuf-c
 * parses it.
 *
 * protobuf-c unpacks submessages recursively, so a model whose subgraphs
 * (or sequence/map/optional types) nest a hundred thousand levels deep
 * overflows the C stack. This scan walks only the fields through which ONNX
 * messages recurse, with an explicit stack, and refuses depths no real model
 * has. Malformed wire data is left for protobuf-c to reject.
 */
#include "frontend/frontend_internal.h"

#include <stdlib.h>

typedef enum msg_kind {
  M_MODEL,
  M_GRAPH,
  M_NODE,
  M_ATTR,
  M_VALUE_INFO,
  M_TYPE,
  M_TYPE_ELEM, /* TypeProto.Sequence / Optional: elem_type = 1 */
  M_TYPE_MAP,  /* TypeProto.Map: value_type = 2 */
  M_FUNCTION,
  M_TRAINING,
  M_NONE,
} msg_kind;

/* The kind of submessage in field `field` of a `parent` message, or M_NONE
 * if that field cannot lead back to a recursive message. */
static msg_kind child_kind(msg_kind parent, uint64_t field) {
  switch (parent) {
  case M_MODEL:
    return field == 7 ? M_GRAPH : field == 25 ? M_FUNCTION : field == 20 ? M_TRAINING : M_NONE;
  case M_GRAPH:
    return field == 1 ? M_NODE : (field >= 11 && field <= 13) ? M_VALUE_INFO : M_NONE;
  case M_NODE:
    return field == 5 ? M_ATTR : M_NONE;
  case M_ATTR:
    return (field == 6 || field == 11) ? M_GRAPH : (field == 14 || field == 15) ? M_TYPE : M_NONE;
  case M_VALUE_INFO:
    return field == 2 ? M_TYPE : M_NONE;
  case M_TYPE:
    return (field == 4 || field == 9) ? M_TYPE_ELEM : field == 5 ? M_TYPE_MAP : M_NONE;
  case M_TYPE_ELEM:
    return field == 1 ? M_TYPE : M_NONE;
  case M_TYPE_MAP:
    return field == 2 ? M_TYPE : M_NONE;
  case M_FUNCTION:
    return field == 7 ? M_NODE : field == 11 ? M_ATTR : M_NONE;
  case M_TRAINING:
    return (field == 1 || field == 2) ? M_GRAPH : M_NONE;
  case M_NONE:
    break;
  }
  return M_NONE;
}

static int read_varint(const uint8_t *p, const uint8_t *end, const uint8_t **next, uint64_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    uint8_t b = *p++;
    x |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = x;
      *next = p;
      return 0;
    }
  }
  return -1;
}

typedef struct frame {
  const uint8_t *pos, *end;
  msg_kind kind;
} frame;

int pare_fe_check_nesting(const void *data, size_t len, int max_depth, pare_err *err) {
  frame *stack = malloc((size_t)(max_depth + 1) * sizeof *stack);
  if (!stack) return pare_errf(err, "out of memory");
  int top = 0;
  stack[0] = (frame){data, (const uint8_t *)data + len, M_MODEL};
  while (top >= 0) {
    frame *f = &stack[top];
    if (f->pos >= f->end) {
      top--;
      continue;
    }
    uint64_t key, n;
    const uint8_t *p;
    if (read_varint(f->pos, f->end, &p, &key)) break; /* malformed: protobuf-c says so */
    unsigned wire = (unsigned)(key & 7);
    if (wire == 0) {
      if (read_varint(p, f->end, &p, &n)) break;
      f->pos = p;
    } else if (wire == 1 || wire == 5) {
      size_t skip = wire == 1 ? 8 : 4;
      if ((size_t)(f->end - p) < skip) break;
      f->pos = p + skip;
    } else if (wire == 2) {
      if (read_varint(p, f->end, &p, &n) || n > (uint64_t)(f->end - p)) break;
      f->pos = p + n;
      msg_kind child = child_kind(f->kind, key >> 3);
      if (child == M_NONE) continue;
      if (top + 1 > max_depth) {
        free(stack);
        return pare_errf(err, "subgraphs or types nest more than %d levels deep", max_depth);
      }
      stack[++top] = (frame){p, p + n, child};
    } else {
      break; /* groups or invalid wire types */
    }
  }
  free(stack);
  return PARE_OK;
}
