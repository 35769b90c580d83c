#!/usr/bin/env bash
# bench.sh [REPEAT] - pare against ONNX Runtime on the real models in
# ../shared, measured in the same run on this machine.
#
# For each model: `pare compile --emit shared` (compile time measured), then
# bench/bench_run.c loads the library and times REPEAT runs after a warm-up;
# ONNX Runtime (npm onnxruntime-node, its CPU library, 1 intra-op thread, all
# graph optimizations) runs the same inputs in the same way. Medians, their
# ratio, the object file (weights included) plus pare's runtime against ORT's
# shared library, peak RSS of each process (ORT's includes Node.js), and
# pare's compile time. Model loading and file I/O are excluded from latency.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
repeat=${1:-21}
build=${BUILD_DIR:-$root/build}
pare=${PARE:-$build/pare}
runner=$build/bench/pare_bench_run
shared=${PARE_SHARED:-$root/../shared}
cache=$root/.cache/bench
for f in "$pare" "$runner"; do
  [ -x "$f" ] || { echo "bench: $f not built (run scripts/setup.sh build)" >&2; exit 1; }
done
[ -d "$shared/models" ] || { echo "bench: $shared/models not found" >&2; exit 1; }
if [ ! -d "$cache/node_modules/onnxruntime-node" ]; then
  echo "bench: installing onnxruntime-node into $cache" >&2
  mkdir -p "$cache"
  (cd "$cache" && npm install --silent --ignore-scripts --no-save onnxruntime-node@1.30.0 >/dev/null)
fi
ort_lib=$(ls "$cache"/node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime.so* | head -1)
ort_kb=$(( $(stat -c %s "$ort_lib") / 1024 ))
rt_kb=$(( ($(stat -c %s "$build/libpare_rt.a") + 1023) / 1024 ))
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf 'repeat %d, 1 thread; pare runtime library %d KB; ORT library %d KB\n' "$repeat" "$rt_kb" "$ort_kb"
printf '%-18s %9s %9s %9s %11s %9s %9s %9s\n' model "pare ms" "ORT ms" pare/ORT "object KB" \
  "pare MB" "ORT MB" "compile s"
while read -r name model data shape; do
  opts=()
  [ "$shape" != - ] && opts=(--input-shape "$shape")
  t0=$(date +%s.%N)
  "$pare" compile "$shared/models/$model" "${opts[@]}" --emit shared --name m -o "$out/$name.so"
  t1=$(date +%s.%N)
  "$pare" compile "$shared/models/$model" "${opts[@]}" --name m -o "$out/$name.o"
  obj_kb=$(( $(stat -c %s "$out/$name.o") / 1024 ))
  res=$("$runner" "$out/$name.so" m "$shared/data/$data" "$repeat")
  pare_ms=$(sed -n 's/^pare_ms //p' <<<"$res")
  pare_rss=$(sed -n 's/^peak_rss_kb //p' <<<"$res")
  ort=$(NODE_PATH=$cache/node_modules node "$root/bench/ort_bench.js" "$shared/models/$model" \
    "$shared/data/$data" "$repeat")
  ort_ms=$(sed -n 's/^ort_ms //p' <<<"$ort")
  ort_rss=$(sed -n 's/^ort_rss_kb //p' <<<"$ort")
  awk -v n="$name" -v p="$pare_ms" -v o="$ort_ms" -v ob="$obj_kb" -v pr="$pare_rss" \
    -v orr="$ort_rss" -v c0="$t0" -v c1="$t1" 'BEGIN {
    printf "%-18s %9.2f %9.2f %8.2fx %11d %9.1f %9.1f %9.2f\n", n, p, o, p / o, ob, pr / 1024,
      orr / 1024, c1 - c0 }'
done <<'LIST'
ocr-det(640x640) ppocr/ch_PP-OCRv4_det_infer.onnx ocr-det/test_data_set_0 x=1,3,640,640
ocr-rec(48x320) ppocr/ch_PP-OCRv4_rec_infer.onnx ocr-rec/test_data_set_0 x=1,3,48,320
ocr-cls(48x192) ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx ocr-cls/test_data_set_0 x=1,3,48,192
mnist(batch100) mnist/mnist-cnn.onnx mnist/test_data_set_0 input=100,1,28,28
hello-deepa openwakeword/hello_deepa.onnx hello-deepa/test_data_set_0 -
LIST
