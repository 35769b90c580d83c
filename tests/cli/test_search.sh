#!/usr/bin/env bash
# test_search.sh PARE errors | PARE models SHARED - automatic compression,
# `pare compile --target-size / --bits-per-weight / --max-error`.
#
#   errors: usage errors of the search flags (exit 2, the flag named).
#   models: on the MNIST CNN, calibrated on sets 0-39 (the search holds out
#           32-39), scored on 40-79: --target-size 5% builds to at most 5%
#           of the uncompressed build's weight bytes with accuracy >= 97.5%;
#           the printed pipeline and --calib-sets rebuild the same library
#           byte for byte; the JSON report holds the measured candidates with
#           exactly one chosen; a bound alone (--max-error top1=...) gives
#           the smallest build within it; an unreachable target or bound
#           fails naming why and leaves no output. On the classifier
#           (ocr-cls, calibrated on 0-29, searched on 30-49, scored on 50-149): --target-size
#           20% keeps accuracy >= 96.3%. SKIP without SHARED. About 4 min CPU.
set -u
pare=$1
mode=${2:-errors}
shared=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

errors() {
  expect help 0 "--target-size N\\|P%.*--max-error M=V.*--time-limit S" -- "$pare" compile --help
  expect no-calib 2 "--target-size, --bits-per-weight and --max-error need --calib DIR" -- \
    "$pare" compile m.onnx -o "$work/m.o" --target-size 10%
  expect bad-percent 2 "--target-size '0%': expected bytes or a percentage in \\(0, 100\\]" -- \
    "$pare" compile m.onnx -o "$work/m.o" --target-size 0% --calib d
  expect bad-size 2 "--target-size '12k': expected bytes" -- \
    "$pare" compile m.onnx -o "$work/m.o" --target-size 12k --calib d
  expect two-targets 2 "--target-size and --bits-per-weight are two targets" -- \
    "$pare" compile m.onnx -o "$work/m.o" --target-size 10% --bits-per-weight 4 --calib d
  expect bad-bits 2 "--bits-per-weight '40': expected a number in \\(0, 32\\]" -- \
    "$pare" compile m.onnx -o "$work/m.o" --bits-per-weight 40 --calib d
  expect bad-bound 2 "--max-error 'ctc': expected METRIC=VALUE" -- \
    "$pare" compile m.onnx -o "$work/m.o" --max-error ctc --calib d
  expect bad-bound-metric 2 "--max-error .*unknown metric 'f1'" -- \
    "$pare" compile m.onnx -o "$work/m.o" --max-error f1=0.1 --calib d
  expect bad-bound-value 2 "--max-error 'top1=-1': the bound '-1' is not a number >= 0" -- \
    "$pare" compile m.onnx -o "$work/m.o" --max-error top1=-1 --calib d
  expect ctc-no-vocab 2 "--max-error ctc=... needs --vocab FILE" -- \
    "$pare" compile m.onnx -o "$work/m.o" --max-error ctc=0.01 --calib d
  expect menu-no-search 2 "--search-sets and --search-menu need --target-size" -- \
    "$pare" compile m.onnx -o "$work/m.o" --search-menu 'quantize<bits=4>'
  expect bad-limit 2 "--time-limit 'soon': expected a number >= 0" -- \
    "$pare" compile m.onnx -o "$work/m.o" --target-size 10% --calib d --time-limit soon
}

# metric_at_least NAME FILE MIN: the "compressed top1" line of a pare eval
# output in FILE is >= MIN.
metric_at_least() {
  local v
  v=$(sed -n 's/^metric top1: compressed top1 \([0-9.]*\) .*/\1/p' "$2")
  echo "$1: compressed top1 $v (want >= $3)"
  check "$1" awk -v v="$v" -v m="$3" 'BEGIN { exit !(v != "" && v >= m) }'
}

models() {
  local m=$shared/models d=$shared/data
  if [ ! -d "$m/mnist" ] || [ ! -d "$d/mnist" ]; then
    echo "SKIP: $shared not found"
    return
  fi
  local mnist=$m/mnist/mnist-cnn.onnx
  local common=(--input-shape input=100,1,28,28 --calib "$d/mnist" --calib-sets 0-39)
  local small=(--search-menu 'quantize<bits=8>,quantize<bits=4;group=32>,quantize<bits=2;group=64>')

  expect menu-not-layered 1 "pass 'lowrank' has no 'layers' option" -- \
    "$pare" compile "$mnist" "${common[@]}" --target-size 5% --search-menu 'lowrank<rank=8>' \
    -o "$work/x.so" --emit shared
  expect target-too-small 1 "the target \\(1689 bytes\\) is below the smallest the menu reaches" -- \
    "$pare" compile "$mnist" "${common[@]}" --target-size 0.1% "${small[@]}" -o "$work/x.so" --emit shared
  expect bound-unreachable 1 "no pipeline found within the target meets top1 <= 0: the best measured top1 0\\.0" -- \
    "$pare" compile "$mnist" "${common[@]}" --target-size 9% --max-error top1=0 "${small[@]}" \
    --generations 10 -o "$work/x.so" --emit shared
  check no-partial-output test ! -e "$work/x.so" -a ! -e "$work/x.h"

  # The 20x target with the default menu (the evolution's last gain on
  # this 4-layer model comes by step 10).
  "$pare" compile "$mnist" "${common[@]}" --target-size 5% --generations 40 --emit shared \
    -o "$work/a.so" --name m \
    --report "$work/a.json" >"$work/a.out" 2>"$work/a.err"
  check search-ok test $? -eq 0
  cat "$work/a.out"
  local bytes base passes sets
  read -r base bytes < <(sed -n 's/^search: weight bytes \([0-9]*\) -> \([0-9]*\) .*/\1 \2/p' "$work/a.out")
  passes=$(sed -n 's/^passes: //p' "$work/a.out")
  sets=$(sed -n 's/^calib-sets: //p' "$work/a.out")
  check base-bytes test "$base" = 1689016
  check within-5-percent test "$bytes" -le 84450
  check calib-sets-held-out test "$sets" = 0-31
  # calib-snapshot makes the pipeline rebuild the spliced candidate: the
  # run from scratch measures what the search measured.
  check scratch-equals-spliced grep -qE "relative error ([0-9.e-]+) \(spliced: \1\)$" "$work/a.err"
  "$pare" eval "$mnist" --input-shape input=100,1,28,28 --compressed "$work/a.so" --data "$d/mnist" \
    --sets 40-79 --metric top1 --labels "$d/mnist/labels.txt" >"$work/a.eval"
  metric_at_least mnist-5pct-accuracy "$work/a.eval" 0.975
  check eval-bytes grep -q "^compressed: $bytes weight bytes" "$work/a.eval"
  # The printed pipeline reproduces the library without a search.
  "$pare" compile "$mnist" --input-shape input=100,1,28,28 --calib "$d/mnist" --calib-sets "$sets" \
    --passes "$passes" --emit shared -o "$work/b.so" --name m
  check reproduces-bytes cmp "$work/a.so" "$work/b.so"
  check reproduces-header cmp "$work/a.h" "$work/b.h"
  # The report: every measured candidate, one chosen, at the chosen bytes.
  check report-points python3 -c "
import json, sys
r = json.load(open('$work/a.json'))
pts = r['search']
chosen = [p for p in pts if p['chosen']]
sys.exit(not (len(pts) > 5 and len(chosen) == 1 and chosen[0]['bytes'] == $bytes))"

  # A bound alone: the smallest build the bisection finds within it.
  "$pare" compile "$mnist" "${common[@]}" --max-error top1=0.01 "${small[@]}" -o "$work/c.so" \
    --emit shared >"$work/c.out" 2>"$work/c.err"
  check bound-only-ok test $? -eq 0
  cat "$work/c.out"
  check bound-only-met grep -qE "^search: held-out relative L2 error [0-9.e-]+, top1 0\.00[0-9]* \(bound 0\.01\)" "$work/c.out"
  local cbytes
  cbytes=$(sed -n 's/^search: weight bytes [0-9]* -> \([0-9]*\) .*/\1/p' "$work/c.out")
  check bound-only-smaller test -n "$cbytes" -a "${cbytes:-0}" -lt 200000

  local cls=$m/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx
  if [ -f "$cls" ] && [ -d "$d/ocr-cls" ]; then
    # 20 held-out images (30-49; the default fifth, 10, is too few to see
    # the borderline ones: 96/100 there), the passes calibrating on 0-29.
    "$pare" compile "$cls" --input-shape x=1,3,48,192 --calib "$d/ocr-cls" --calib-sets 0-29 \
      --search-sets 30-49 --target-size 20% --generations 40 --emit shared -o "$work/cls.so" \
      >"$work/cls.out" 2>"$work/cls.err"
    check cls-search-ok test $? -eq 0
    cat "$work/cls.out"
    read -r base bytes < <(sed -n 's/^search: weight bytes \([0-9]*\) -> \([0-9]*\) .*/\1 \2/p' "$work/cls.out")
    check cls-within-20-percent test "$bytes" -le $((base / 5))
    "$pare" eval "$cls" --input-shape x=1,3,48,192 --compressed "$work/cls.so" --data "$d/ocr-cls" \
      --sets 50-149 --metric top1 --labels "$d/ocr-cls/labels.txt" --label-map 0,180 >"$work/cls.eval"
    metric_at_least cls-20pct-accuracy "$work/cls.eval" 0.963
  fi
}

case $mode in
errors) errors ;;
models) models ;;
*)
  echo "usage: $0 PARE errors | PARE models SHARED" >&2
  exit 2
  ;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
