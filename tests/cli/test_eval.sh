#!/usr/bin/env bash
# test_eval.sh PARE errors | PARE models SHARED - `pare eval`.
#
#   errors: usage and data errors (exit codes, messages naming the file or
#           option), a compressed library whose header does not match the
#           model, and a lossless pipeline evaluated as error-free; models
#           from Debian's libonnx-testdata.
#   models: the task metrics of the uncompressed shared real models through
#           the JIT equal ONNX Runtime's (../shared/MANIFEST.md): recognizer
#           CER 9/2288 and 142/150 exact lines, classifier 146/150, MNIST
#           7817/8000; and a pruned MNIST gives the same figures through a
#           `pare compile --emit shared` library as through --passes. SKIP
#           without SHARED.
set -u
pare=$1
mode=${2:-errors}
shared=${3:-}
node=/usr/share/libonnx-testdata/data/node
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

errors() {
  expect help 0 "usage: pare eval MODEL --data DIR.*--compressed LIB.*--metric maskT" -- "$pare" eval --help
  expect in-main-help 0 "eval MODEL --data DIR" -- "$pare" --help
  expect no-args 2 "MODEL and --data DIR are required" -- "$pare" eval
  expect no-data 2 "MODEL and --data DIR are required" -- "$pare" eval m.onnx
  expect unknown-option 2 "unknown option '--bogus'" -- "$pare" eval m.onnx --data d --bogus
  expect missing-value 2 "unknown option '--metric' or missing value" -- "$pare" eval m.onnx --data d --metric
  expect bad-metric 2 "--metric: unknown metric 'f1' \\(expected top1, ctc, mask<threshold> or none\\)" -- \
    "$pare" eval m.onnx --data d --metric f1
  expect mask-no-threshold 2 "metric 'mask': mask needs a threshold, e.g. mask0.3" -- \
    "$pare" eval m.onnx --data d --metric mask --passes dce
  expect mask-bad-threshold 2 "metric 'maskx'" -- "$pare" eval m.onnx --data d --metric maskx --passes dce
  expect bad-sets 2 "--sets '3-1': expected K or A-B" -- "$pare" eval m.onnx --data d --sets 3-1
  expect bad-engine 2 "--engine 'aot': expected interp or jit" -- "$pare" eval m.onnx --data d --engine aot
  expect passes-and-lib 2 "--passes and --compressed exclude each other" -- \
    "$pare" eval m.onnx --data d --passes dce --compressed x.so
  expect bad-passes 2 "--passes: .*nosuchpass" -- "$pare" eval m.onnx --data d --passes nosuchpass
  expect ctc-no-vocab 2 "--metric ctc needs --vocab FILE" -- "$pare" eval m.onnx --data d --metric ctc --labels l
  expect labels-no-metric 2 "--labels, --vocab and --label-map need --metric" -- \
    "$pare" eval m.onnx --data d --labels l
  expect nothing-to-compare 2 "nothing to compare: --metric needs --labels" -- \
    "$pare" eval m.onnx --data d --metric top1
  expect mask-labels 2 "takes no --labels" -- "$pare" eval m.onnx --data d --metric mask0.5 --labels l --passes dce
  expect calib-no-passes 2 "--calib applies to --passes only" -- "$pare" eval m.onnx --data d --calib d
  expect header-no-lib 2 "--header applies to --compressed only" -- "$pare" eval m.onnx --data d --header x.h

  if [ ! -d "$node/test_abs" ]; then
    echo "SKIP node-model cases: $node not found"
    return
  fi
  local abs=$node/test_abs
  expect missing-data 1 "^pare: --data: $work/nope: No such file or directory$" -- \
    "$pare" eval "$abs/model.onnx" --data "$work/nope"
  mkdir "$work/empty"
  expect empty-data 1 "$work/empty: no test_data_set_K folders" -- "$pare" eval "$abs/model.onnx" --data "$work/empty"
  expect sets-out-of-range 1 "no test_data_set_K with K in 5-9" -- \
    "$pare" eval "$abs/model.onnx" --data "$abs" --sets 5-9
  expect missing-model 1 "nope.onnx" -- "$pare" eval "$work/nope.onnx" --data "$abs"
  mkdir -p "$work/noinput/test_data_set_0"
  expect no-input-file 1 "test_data_set_0: no input_0.pb" -- "$pare" eval "$abs/model.onnx" --data "$work/noinput"
  expect missing-labels 1 "$work/labels.txt: No such file or directory" -- \
    "$pare" eval "$abs/model.onnx" --data "$abs" --metric top1 --labels "$work/labels.txt"
  # top1 needs [N,C]; Abs gives [3,4,5]: the message says why and which set.
  echo "0 0 0" >"$work/labels.txt"
  expect top1-wrong-rank 1 "set 0: --metric top1: top1 needs an f32 \\[N,C\\] output, got f32 \\[3,4,5\\]" -- \
    "$pare" eval "$abs/model.onnx" --data "$abs" --metric top1 --labels "$work/labels.txt"

  # A lossless pipeline: zero error, cosine 1, in text and JSON.
  expect lossless 0 "output 0 'y' \\[3,4,5\\]: max \\|err\\| 0 \\(set 0\\), mean \\|err\\| 0, rel L2 0, cosine 1.000000000" -- \
    "$pare" eval "$abs/model.onnx" --data "$abs" --passes cleanup,dce
  expect lossless-interp 0 "model: .* \\(interp\\), 1 sets.*max \\|err\\| 0 " -- \
    "$pare" eval "$abs/model.onnx" --data "$abs" --passes cleanup --engine interp
  expect lossless-json 0 "\"max_abs_error\":[[:space:]]*0,.*\"cosine\":[[:space:]]*1" -- \
    "$pare" eval "$abs/model.onnx" --data "$abs" --passes cleanup --json
  expect mask-identical 0 "metric mask0.5: compressed vs original IoU 1.000000 \\(" -- \
    "$pare" eval "$abs/model.onnx" --data "$abs" --passes cleanup --metric mask0.5

  # --compressed: the library's header must describe the model's inputs and
  # outputs. ReduceMean with keepdims gives [3,1,2]; without, [3,2].
  local keep=$node/test_reduce_mean_keepdims_example drop=$node/test_reduce_mean_do_not_keepdims_example
  if [ -d "$keep" ] && [ -d "$drop" ]; then
    "$pare" compile "$keep/model.onnx" --emit shared -o "$work/keep.so" --name keep >/dev/null 2>&1
    expect lib-mismatched-outputs 1 "mismatched outputs: $work/keep.h declares output 0 as f32 \\[3,1,2\\], .*gives f32 \\[3,2\\]" -- \
      "$pare" eval "$drop/model.onnx" --data "$drop" --compressed "$work/keep.so"
    expect lib-ok 0 "compressed: $work/keep.so \\(keep_run, header $work/keep.h\\).*max \\|err\\| 0 " -- \
      "$pare" eval "$keep/model.onnx" --data "$keep" --compressed "$work/keep.so"
    cp "$work/keep.so" "$work/lonely.so"
    expect lib-no-header 1 "header \\(give --header FILE\\): $work/lonely.h: No such file or directory" -- \
      "$pare" eval "$keep/model.onnx" --data "$keep" --compressed "$work/lonely.so"
    expect lib-header-flag 0 "keep_run, header $work/keep.h" -- \
      "$pare" eval "$keep/model.onnx" --data "$keep" --compressed "$work/lonely.so" --header "$work/keep.h"
    echo "int x;" >"$work/not-pare.h"
    expect lib-foreign-header 1 "not-pare.h: not a header from 'pare compile'" -- \
      "$pare" eval "$keep/model.onnx" --data "$keep" --compressed "$work/lonely.so" --header "$work/not-pare.h"
    : >"$work/bad.so"
    cp "$work/keep.h" "$work/bad.h"
    expect lib-not-a-library 1 "--compressed $work/bad.so: dlopen $work/bad.so" -- \
      "$pare" eval "$keep/model.onnx" --data "$keep" --compressed "$work/bad.so"
  else
    echo "SKIP library cases: $keep or $drop not found"
  fi
}

models() {
  local m=$shared/models d=$shared/data
  if [ ! -d "$m/ppocr" ] || [ ! -d "$d/ocr-rec" ]; then
    echo "SKIP: $shared not found"
    return
  fi
  expect rec-ort 0 "metric ctc: original CER 0.003934 \\(9/2288\\), exact 0.946667 \\(142/150\\)" -- \
    "$pare" eval "$m/ppocr/ch_PP-OCRv4_rec_infer.onnx" --data "$d/ocr-rec" --metric ctc \
    --labels "$d/ocr-rec/labels.txt" --vocab "$m/ppocr/ppocr_keys_v1.txt"
  expect cls-ort 0 "metric top1: original top1 0.973333 \\(146/150\\)" -- \
    "$pare" eval "$m/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx" --data "$d/ocr-cls" --metric top1 \
    --labels "$d/ocr-cls/labels.txt" --label-map 0,180
  expect mnist-ort 0 "metric top1: original top1 0.977125 \\(7817/8000\\)" -- \
    "$pare" eval "$m/mnist/mnist-cnn.onnx" --data "$d/mnist" --metric top1 --labels "$d/mnist/labels.txt"
  # A label the map does not know names the file and line.
  expect cls-bad-map 1 "labels.txt line 1: label '180' is not in --label-map up,down" -- \
    "$pare" eval "$m/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx" --data "$d/ocr-cls" --metric top1 \
    --labels "$d/ocr-cls/labels.txt" --label-map up,down --sets 0

  # A pruned MNIST: through --passes (the JIT) and through the library that
  # `pare compile` makes of the same pipeline, the same errors and metrics.
  local p='prune<sparsity=0.5>' lines_jit lines_lib
  "$pare" compile "$m/mnist/mnist-cnn.onnx" --emit shared -o "$work/mnist.so" \
    --input-shape input=100,1,28,28 --passes "$p" >/dev/null
  lines_jit=$("$pare" eval "$m/mnist/mnist-cnn.onnx" --data "$d/mnist" --sets 40-49 --metric top1 \
    --labels "$d/mnist/labels.txt" --passes "$p" | grep -E "^(output|metric)")
  lines_lib=$("$pare" eval "$m/mnist/mnist-cnn.onnx" --data "$d/mnist" --sets 40-49 --metric top1 \
    --labels "$d/mnist/labels.txt" --compressed "$work/mnist.so" | grep -E "^(output|metric)")
  check lib-equals-passes test -n "$lines_jit" -a "$lines_jit" = "$lines_lib"
  [ "$lines_jit" = "$lines_lib" ] || printf 'passes:\n%s\nlibrary:\n%s\n' "$lines_jit" "$lines_lib"
  # Pruning half the weights changes the logits but not most argmaxes.
  check pruned-not-lossless grep -q "max |err| [1-9]" <<<"$lines_jit"
  check pruned-agreement grep -qE "agreement top1 0\\.9[0-9]+ \\([0-9]+/1000\\)" <<<"$lines_jit"
  printf '%s\n' "$lines_jit"
  # A mismatched library: MNIST compiled for batch 1, data of batch 100.
  "$pare" compile "$m/mnist/mnist-cnn.onnx" --emit shared -o "$work/mnist1.so" \
    --input-shape input=1,1,28,28 >/dev/null
  expect lib-batch-mismatch 1 "mismatched inputs: $work/mnist1.h declares input 0 as f32 \\[1,1,28,28\\], .* gives f32 \\[100,1,28,28\\]" -- \
    "$pare" eval "$m/mnist/mnist-cnn.onnx" --data "$d/mnist" --compressed "$work/mnist1.so"
}

case $mode in
  errors) errors ;;
  models) models ;;
  *) echo "usage: $0 PARE errors | PARE models SHARED" >&2; exit 2 ;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
