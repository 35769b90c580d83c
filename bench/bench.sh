#!/usr/bin/env bash
# bench.sh [REPEAT] - pare against ONNX Runtime on the real models in
# ../shared, measured in the same run on this machine: median latency of
# each (1 thread, model loading and file I/O excluded) and their ratio.
# Until the LLVM backend lands, pare's figure is its reference interpreter.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
repeat=${1:-11}
pare=${PARE:-$root/build/pare}
shared=${PARE_SHARED:-$root/../shared}
cache=$root/.cache/bench
[ -x "$pare" ] || { echo "bench: $pare not built (run scripts/setup.sh build)" >&2; exit 1; }
[ -d "$shared/models" ] || { echo "bench: $shared/models not found" >&2; exit 1; }
if [ ! -d "$cache/node_modules/onnxruntime-node" ]; then
  echo "bench: installing onnxruntime-node into $cache" >&2
  mkdir -p "$cache"
  (cd "$cache" && npm install --silent --ignore-scripts --no-save onnxruntime-node@1.30.0 >/dev/null)
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-28s %12s %12s %10s\n' model "pare ms" "ORT ms" "pare/ORT"
while read -r name model data; do
  pare_ms=$("$pare" run "$shared/models/$model" --inputs "$shared/data/$data" --output "$out" \
    --repeat "$repeat" 2>&1 | sed -n 's/.*interp median \([0-9.]*\) ms.*/\1/p')
  ort_ms=$(NODE_PATH=$cache/node_modules node "$root/bench/ort_bench.js" "$shared/models/$model" \
    "$shared/data/$data" "$repeat" | sed -n 's/^ort_ms //p')
  ratio=$(awk -v a="$pare_ms" -v b="$ort_ms" 'BEGIN { printf "%.2fx", a / b }')
  printf '%-28s %12s %12s %10s\n' "$name" "$pare_ms" "$ort_ms" "$ratio"
done <<'LIST'
ocr-det(640x640) ppocr/ch_PP-OCRv4_det_infer.onnx ocr-det/test_data_set_0
ocr-rec(48x320) ppocr/ch_PP-OCRv4_rec_infer.onnx ocr-rec/test_data_set_0
ocr-cls(48x192) ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx ocr-cls/test_data_set_0
mnist(batch100) mnist/mnist-cnn.onnx mnist/test_data_set_0
hello-deepa openwakeword/hello_deepa.onnx hello-deepa/test_data_set_0
LIST
