#!/usr/bin/env bash
# make_corpus.sh OUTDIR [PARE] - seed corpora for the fuzz targets.
#
#   OUTDIR/onnx       ../shared/models/*/*.onnx and a fixed sample (every 3rd,
#                     about 310) of libonnx-testdata's node/*/model.onnx
#   OUTDIR/ir_text    tests/ir/*.pir, and `PARE inspect` of the shared models
#                     and of a sample of the node models (a few with --weights)
#   OUTDIR/tensor_pb  input_*.pb / output_*.pb of the sampled node cases and
#                     one set of each shared data folder (up to 1 MB each)
#
# PARE defaults to $PARE, then build/pare; without it the ir_text corpus is
# just tests/ir. Seeds are named by their SHA-1, so re-running adds nothing
# twice. The corpora are not committed (.cache/fuzz is the usual OUTDIR).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: make_corpus.sh OUTDIR [PARE]}
pare=${2:-${PARE:-$root/build/pare}}
shared=${PARE_SHARED_DIR:-$root/../shared}
node_dir=${ONNX_TESTDATA:-/usr/share/libonnx-testdata/data/node}
mkdir -p "$out/onnx" "$out/ir_text" "$out/tensor_pb"

# seed DIR FILE: copy FILE into DIR under its content hash.
seed() {
  local sum
  sum=$(sha1sum "$2" | cut -c1-40)
  [ -e "$1/$sum" ] || cp "$2" "$1/$sum"
}
# seed_text DIR: stdin into DIR under its content hash (empty input dropped).
seed_text() {
  local tmp sum
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -s "$tmp" ]; then
    sum=$(sha1sum "$tmp" | cut -c1-40)
    [ -e "$1/$sum" ] || mv "$tmp" "$1/$sum"
  fi
  rm -f "$tmp"
}

have_pare=0
if [ -x "$pare" ]; then have_pare=1; fi
# inspect_seed MODEL [ARGS]: its textual IR as an ir_text seed; a model pare
# refuses gives none.
inspect_seed() {
  if [ $have_pare -eq 1 ]; then
    { "$pare" inspect "$@" 2>/dev/null || true; } | seed_text "$out/ir_text"
  fi
}

# Shared real models (the 10 MB recognizer included) and their inputs.
for m in "$shared"/models/*/*.onnx; do
  if [ ! -f "$m" ]; then continue; fi
  seed "$out/onnx" "$m"
  inspect_seed "$m"
done
for d in "$shared"/data/*/test_data_set_0; do
  for pb in "$d"/input_*.pb "$d"/output_*.pb; do
    if [ -f "$pb" ] && [ "$(stat -c %s "$pb")" -le 1048576 ]; then seed "$out/tensor_pb" "$pb"; fi
  done
done

# ONNX node cases: every 3rd in name order, a deterministic sample.
i=0
for case in "$node_dir"/*/; do
  i=$((i + 1))
  if [ $((i % 3)) -ne 0 ] || [ ! -f "$case/model.onnx" ]; then continue; fi
  seed "$out/onnx" "$case/model.onnx"
  for pb in "$case"/test_data_set_0/*.pb; do
    if [ -f "$pb" ]; then seed "$out/tensor_pb" "$pb"; fi
  done
  # Every 9th sampled case (about 100) also as textual IR, one in three of
  # them with the weights in full rather than elided.
  if [ $((i % 27)) -eq 0 ]; then
    inspect_seed "$case/model.onnx" --weights
  elif [ $((i % 9)) -eq 0 ]; then
    inspect_seed "$case/model.onnx"
  fi
done

for pir in "$root"/tests/ir/*.pir; do
  if [ -f "$pir" ]; then seed "$out/ir_text" "$pir"; fi
done

for t in onnx ir_text tensor_pb; do
  printf '%-10s %5d seeds, %s\n' "$t" "$(find "$out/$t" -type f | wc -l)" \
    "$(du -sh "$out/$t" | cut -f1)"
done
