#!/usr/bin/env bash
# test_limits.sh PARE SHARED_DIR - --max-memory on run, inspect and compile:
# the help says what it covers, bad values are usage errors, and a cap below
# the model file, its weights or its intermediates is refused with exit 1 and
# one line naming the model and the limit, leaving no output behind. The
# hand-made models (initializers declaring more than the cap, intermediates
# crossing it together) and the peak-RSS check are in tests/hostile.c. The
# MNIST checks print SKIP without the shared folder.
set -u
pare=$1
shared=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

for cmd in run inspect compile; do
  expect "help-$cmd" 0 "--max-memory BYTES.*K, M, G, T suffixes.*default 8G" -- "$pare" "$cmd" --help
done
expect bad-suffix 2 "^pare: --max-memory '12Q': expected a positive byte count" -- \
  "$pare" inspect x.onnx --max-memory 12Q
expect zero 2 "^pare: --max-memory '0'" -- "$pare" inspect x.onnx --max-memory 0
expect negative 2 "^pare: --max-memory '-5'" -- "$pare" inspect x.onnx --max-memory=-5
expect overflow 2 "^pare: --max-memory '99999999999999T'" -- \
  "$pare" inspect x.onnx --max-memory 99999999999999T
expect missing 2 "^pare: --max-memory: missing value" -- "$pare" inspect x.onnx --max-memory

mnist=$shared/models/mnist/mnist-cnn.onnx
set0=$shared/data/mnist/test_data_set_0
if [ -f "$mnist" ] && [ -d "$set0" ]; then
  one_line() { [ "$(wc -l <"$work/err")" -eq 1 ]; }
  # 1 MiB is below the 1.7 MB file (and its weights): refused before reading it.
  limit="over the 1048576-byte memory limit \(--max-memory\)"
  expect run-file 1 "^pare: $mnist: reading the file: 1688196 bytes is $limit" -- \
    "$pare" run "$mnist" --inputs "$set0" --output "$work/out" --max-memory 1M
  check run-file-no-output test ! -e "$work/out/output_0.pb"
  expect inspect-file 1 "^pare: $mnist: reading the file: 1688196 bytes is $limit" -- \
    "$pare" inspect "$mnist" --max-memory 1M
  expect compile-file 1 "^pare: $mnist: reading the file: .* $limit" -- \
    "$pare" compile "$mnist" -o "$work/m.o" --max-memory=1024K
  check compile-file-no-output test ! -e "$work/m.o"
  # 2 MiB holds the file, not the file and protobuf-c's parse of it (the raw
  # weights are copied): refused while parsing, before any tensor exists.
  expect inspect-parse 1 "^pare: $mnist: parsing the model takes more than the 2097152-byte memory limit \(--max-memory\)" -- \
    "$pare" inspect "$mnist" --max-memory 2M
  # 16 MiB holds the weights, not the batch of 100's activations: the
  # interpreter refuses the node whose output would cross it.
  "$pare" run "$mnist" --inputs "$set0" --output "$work/out" --max-memory 16M 2>"$work/err"
  check run-intermediates-exit test $? -eq 1
  check run-intermediates-one-line one_line
  check run-intermediates-message grep -Eq \
    "^pare: $mnist: node '[^']+' \([A-Za-z]+\): \[100,32,28,28\] f32 tensor: 10035200 more bytes with [0-9]+ held is over the 16777216-byte memory limit" \
    "$work/err"
  check run-intermediates-no-output test ! -e "$work/out/output_0.pb"
  # Enough for everything: the same run succeeds, in all three spellings.
  expect run-fits 0 "" -- "$pare" run "$mnist" --inputs "$set0" --output "$work/out" --max-memory 64M
  check run-fits-output test -s "$work/out/output_0.pb"
  expect inspect-fits 0 "parameters" -- "$pare" inspect "$mnist" --max-memory=67108864
  # The generated code's workspace is counted too: --engine jit with the
  # weights in but not the workspace for a batch of 100.
  "$pare" run "$mnist" --inputs "$set0" --output "$work/out-jit" --engine jit --max-memory 8M \
    2>"$work/err"
  check jit-workspace-exit test $? -eq 1
  check jit-workspace-message grep -Eq "^pare: .*memory limit \(--max-memory\)" "$work/err"
else
  echo "SKIP MNIST checks: $mnist not found"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
