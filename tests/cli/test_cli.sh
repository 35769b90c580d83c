#!/usr/bin/env bash
# test_cli.sh PARE - the pare command line: exit codes, messages, and that a
# failing command leaves no output file behind.
set -u
pare=$1
node_data=/usr/share/libonnx-testdata/data/node
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

expect no-args 2 "usage: pare" -- "$pare"
expect help 0 "inspect MODEL.*" -- "$pare" --help
expect help-run 0 "run MODEL --inputs DIR --output OUTDIR" -- "$pare" --help
expect version 0 "^pare [0-9]+\.[0-9]+\.[0-9]+$" -- "$pare" --version
expect unknown-command 2 "unknown command 'frobnicate'" -- "$pare" frobnicate
expect run-missing-args 2 "usage: pare run" -- "$pare" run model.onnx
expect run-unknown-option 2 "unknown option '--bogus'" -- "$pare" run m.onnx --bogus --inputs a --output b
expect bad-input-shape 2 "dims must be positive integers" -- "$pare" inspect m.onnx --input-shape x=1,0,3
expect bad-input-shape-syntax 2 "expected NAME=D1,D2" -- "$pare" inspect m.onnx --input-shape x
expect bad-format 2 "expected text or json" -- "$pare" inspect m.onnx --format xml

expect missing-model 1 "nope.onnx" -- "$pare" inspect "$work/nope.onnx"
: >"$work/empty.onnx"
expect empty-model 1 "empty.onnx.*empty" -- "$pare" inspect "$work/empty.onnx"
mkdir "$work/dir.onnx"
expect directory-model 1 "dir.onnx.*directory" -- "$pare" inspect "$work/dir.onnx"
head -c 4096 /dev/urandom >"$work/random.onnx"
expect random-model 1 "random.onnx" -- "$pare" inspect "$work/random.onnx"

if [ -d "$node_data/test_abs" ]; then
  case_dir=$node_data/test_abs
  expect run-ok 0 "" -- "$pare" run "$case_dir/model.onnx" --inputs "$case_dir/test_data_set_0" --output "$work/out-ok"
  check run-ok-output test -s "$work/out-ok/output_0.pb"
  expect inspect-ok 0 "Abs\(" -- "$pare" inspect "$case_dir/model.onnx"
  expect inspect-json 0 "\"op\":[[:space:]]*\"Abs\"" -- "$pare" inspect "$case_dir/model.onnx" --format json
  # An input whose shape disagrees with --input-shape: exit 1, no output.
  expect shape-disagrees 1 "input 'x' is declared \\[3,4,5\\] but given \\[2,2,2\\]" -- "$pare" run "$case_dir/model.onnx" \
    --input-shape x=2,2,2 --inputs "$case_dir/test_data_set_0" --output "$work/out-bad"
  check shape-disagrees-no-output test ! -e "$work/out-bad/output_0.pb"
  # A missing input file.
  mkdir "$work/no-inputs"
  expect missing-input 1 "input_0.pb" -- "$pare" run "$case_dir/model.onnx" --inputs "$work/no-inputs" --output "$work/out-none"
  check missing-input-no-output test ! -e "$work/out-none/output_0.pb"
  # A truncated input tensor.
  head -c 7 "$case_dir/test_data_set_0/input_0.pb" >"$work/no-inputs/input_0.pb"
  expect truncated-input 1 "input_0.pb" -- "$pare" run "$case_dir/model.onnx" --inputs "$work/no-inputs" --output "$work/out-none"
  check truncated-input-no-output test ! -e "$work/out-none/output_0.pb"
  # An output path that is a file, not a folder.
  : >"$work/a-file"
  expect output-not-dir 1 "a-file.*not a directory" -- "$pare" run "$case_dir/model.onnx" \
    --inputs "$case_dir/test_data_set_0" --output "$work/a-file"
  # --input-shape naming something that is not an input.
  expect not-an-input 1 "'nosuch'.*not a graph input" -- "$pare" inspect "$case_dir/model.onnx" --input-shape nosuch=1
else
  echo "SKIP node cases: $node_data not found"
fi

shared=${PARE_SHARED:-$(dirname "$0")/../../../shared}
if [ -d "$shared/models/mnist" ]; then
  # The model's batch dim is symbolic; the .pb holds 100 images.
  expect pb-disagrees-with-input-shape 1 "input_0.pb: tensor has shape \\[100,1,28,28\\] but --input-shape gives \\[2,1,28,28\\]" -- \
    "$pare" run "$shared/models/mnist/mnist-cnn.onnx" --input-shape input=2,1,28,28 \
    --inputs "$shared/data/mnist/test_data_set_0" --output "$work/out-mnist"
  check pb-disagrees-no-output test ! -e "$work/out-mnist/output_0.pb"
  expect inspect-mnist-summary 0 "# parameters: 421642" -- "$pare" inspect "$shared/models/mnist/mnist-cnn.onnx"
  expect inspect-mnist-unbound 0 "MACs, FLOPs: unknown" -- "$pare" inspect "$shared/models/mnist/mnist-cnn.onnx"
  # conv1 28*28*32*9 + conv2 14*14*64*288 + fc1 3136*128 + fc2 128*10 multiply-adds
  expect inspect-mnist-macs 0 "# MACs: 4241152" -- "$pare" inspect "$shared/models/mnist/mnist-cnn.onnx" --input-shape input=1,1,28,28
else
  echo "SKIP real-model cases: $shared not found"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
