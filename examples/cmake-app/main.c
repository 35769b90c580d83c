/*
 * main.c - predicts the orientation of a text line with PP-OCR's classifier,
 * compiled by pare into cls.o / cls.h.
 *
 *   orientation INPUT.pb
 *
 * INPUT.pb is the [1,3,48,192] float32 tensor as an ONNX TensorProto file,
 * the form examples/image_to_tensor writes and ONNX's test_data_set folders
 * use. To stay free of protobuf libraries, a small reader below takes the
 * three fields it needs (dims, data_type, raw_data) and skips the rest; a
 * tensor stored in float_data rather than raw_data is refused.
 *
 * Prints both class probabilities and "orientation: 0" or "orientation: 180"
 * (class 1, the line is upside down). Exit status: 0 success, 1 input or run
 * error, 2 usage error.
 */
#include "cls.h"
#include "pare_runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

_Static_assert(CLS_NUM_INPUTS == 1 && CLS_NUM_OUTPUTS == 1, "one input tensor, one output");
_Static_assert(CLS_INPUT_0_DTYPE == 1 && CLS_OUTPUT_0_DTYPE == 1, "float32 input and output");
_Static_assert(CLS_OUTPUT_0_NUMEL == 2, "two classes: 0 and 180 degrees");

/* raw_data is little-endian; it is copied into the input as it is. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "this example reads raw_data as it is, so it needs a little-endian machine"
#endif

enum { TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_RAW_DATA = 9 };
enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_BYTES = 2, WIRE_FIXED32 = 5 };

typedef struct reader {
  const unsigned char *p, *end;
} reader;

static int read_varint(reader *r, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p == r->end) return -1;
    unsigned char b = *r->p++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return 0;
  }
  return -1;
}

/* The next length-delimited field's bytes as a reader of their own. */
static int read_bytes(reader *r, reader *field) {
  uint64_t len;
  if (read_varint(r, &len) || len > (uint64_t)(r->end - r->p)) return -1;
  field->p = r->p;
  field->end = r->p + len;
  r->p += len;
  return 0;
}

static int skip_field(reader *r, unsigned wire) {
  uint64_t v;
  reader field;
  switch (wire) {
  case WIRE_VARINT:
    return read_varint(r, &v);
  case WIRE_BYTES:
    return read_bytes(r, &field);
  case WIRE_FIXED64:
  case WIRE_FIXED32: {
    size_t n = wire == WIRE_FIXED64 ? 8 : 4;
    if ((size_t)(r->end - r->p) < n) return -1;
    r->p += n;
    return 0;
  }
  default: /* groups: not used by TensorProto */
    return -1;
  }
}

/* Why the tensor in buf[0..n) is not the model's input, or NULL (and the
 * input copied into `input`). */
static const char *parse_input(const unsigned char *buf, size_t n, float *input) {
  static const char malformed[] = "malformed TensorProto";
  static const int64_t want_shape[CLS_INPUT_0_RANK] = CLS_INPUT_0_SHAPE;
  int64_t dims[CLS_INPUT_0_RANK];
  int rank = 0;
  uint64_t data_type = 0;
  reader raw = {NULL, NULL};
  reader r = {buf, buf + n};
  while (r.p < r.end) {
    uint64_t key, v;
    if (read_varint(&r, &key)) return malformed;
    unsigned field = (unsigned)(key >> 3), wire = (unsigned)(key & 7);
    if (field == TENSOR_DIMS && wire == WIRE_VARINT) {
      if (read_varint(&r, &v)) return malformed;
      if (rank < CLS_INPUT_0_RANK) dims[rank] = (int64_t)v;
      rank++;
    } else if (field == TENSOR_DIMS && wire == WIRE_BYTES) { /* packed dims */
      reader packed;
      if (read_bytes(&r, &packed)) return malformed;
      while (packed.p < packed.end) {
        if (read_varint(&packed, &v)) return malformed;
        if (rank < CLS_INPUT_0_RANK) dims[rank] = (int64_t)v;
        rank++;
      }
    } else if (field == TENSOR_DATA_TYPE && wire == WIRE_VARINT) {
      if (read_varint(&r, &data_type)) return malformed;
    } else if (field == TENSOR_RAW_DATA && wire == WIRE_BYTES) {
      if (read_bytes(&r, &raw)) return malformed;
    } else if (skip_field(&r, wire)) {
      return malformed;
    }
  }
  if (data_type != CLS_INPUT_0_DTYPE) return "not a float32 tensor";
  if (rank != CLS_INPUT_0_RANK || memcmp(dims, want_shape, sizeof dims) != 0)
    return "not the shape the model was compiled for";
  if (!raw.p || (size_t)(raw.end - raw.p) != CLS_INPUT_0_BYTES)
    return "no raw_data of the input's size (float_data is not read)";
  memcpy(input, raw.p, CLS_INPUT_0_BYTES);
  return NULL;
}

/* The tensor's data plus room for its name and dims; a bigger file is not
 * the model's input. */
static unsigned char file_buf[CLS_INPUT_0_BYTES + 4096];
static float input[CLS_INPUT_0_NUMEL];

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: orientation INPUT.pb\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  size_t n = fread(file_buf, 1, sizeof file_buf, f);
  int read_error = ferror(f);
  fclose(f);
  const char *why = read_error             ? "read error"
                    : n == sizeof file_buf ? "too large for the model's input"
                                           : parse_input(file_buf, n, input);
  if (why) {
    fprintf(stderr, "orientation: %s: %s\n", argv[1], why);
    return 1;
  }

  void *workspace = pare_rt_workspace_alloc(cls_workspace_size());
  if (!workspace) {
    fprintf(stderr, "orientation: out of memory for the %zu-byte workspace\n",
            cls_workspace_size());
    return 1;
  }
  float probs[CLS_OUTPUT_0_NUMEL];
  const void *const inputs[] = {input};
  void *const outputs[] = {probs};
  int status = cls_run(inputs, outputs, workspace);
  pare_rt_workspace_free(workspace);
  if (status != 0) {
    fprintf(stderr, "orientation: cls_run returned %d (%s)\n", status,
            pare_rt_status_string(status));
    return 1;
  }
  printf("p(0)=%.4f p(180)=%.4f\n", probs[0], probs[1]);
  printf("orientation: %d\n", probs[1] > probs[0] ? 180 : 0);
  return 0;
}
