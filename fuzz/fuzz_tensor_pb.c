/*
 * fuzz_tensor_pb.c - libFuzzer target: TensorProto bytes (input_K.pb files)
 * through pare_tensor_parse_pb. A parsed tensor's every byte is read (its
 * CRC) so a short allocation shows up under ASan.
 */
#include "frontend/onnx.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int configured;
  if (!configured) {
    pare_max_tensor_bytes = (size_t)64 << 20;
    configured = 1;
  }
  pare_err err;
  pare_tensor *t = pare_tensor_parse_pb(data, size, "fuzz.pb", &err);
  if (!t) return 0;
  volatile uint32_t crc = pare_tensor_crc32(t);
  (void)crc;
  pare_tensor_free(t);
  return 0;
}
