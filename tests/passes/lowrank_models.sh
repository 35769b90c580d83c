#!/usr/bin/env bash
# lowrank_models.sh PARE SHARED_DIR [REAL_MODELS] - the lowrank pass end to
# end on the shared models.
#
# MNIST CNN, plain SVD: `pare run --passes 'lowrank<energy=0.9>' --engine
# jit` on test_data_set_0 must factorize layers and keep the top-1 accuracy
# on its 100 images (line 1 of labels.txt) at 95% or more (uncompressed:
# 97%), and `pare compile --stats` must report fewer weight bytes with the
# pass than without.
#
# PP-OCRv4 recognizer, whitened (activation-aware, SVD-LLM) with REAL_MODELS
# (pare_real_models): calibrated on sets 0-49, evaluated on sets 50-149
# through the JIT, the CER must stay at or below 1.0% (uncompressed: 5/1543
# = 0.32%) while the factorized layers lose at least 20% of their
# parameters (`pare inspect --stats` with the same calibration).
#
# Prints SKIP (and passes) for the parts whose shared files are absent.
set -u
pare=$1 shared=$2 real_models=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lowrank_models.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check CONDITION-STATUS MESSAGE
  if [ "$1" -eq 0 ]; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi
}
# present FILE... - 0 if every file exists, else prints SKIP and returns 1.
present() {
  for f in "$@"; do
    if [ ! -e "$f" ]; then
      echo "SKIP: $f not found"
      return 1
    fi
  done
}

# ------------------------------------------------------------ MNIST, plain
model=$shared/models/mnist/mnist-cnn.onnx
data=$shared/data/mnist
pipeline='lowrank<energy=0.9>'
min_correct=95

# Correct predictions in OUTDIR/output_0.pb ([100,10] f32 logits): the
# TensorProto ends with raw_data (field 9, length 4000), whose 4000 bytes
# od reads as floats; argmax per row against line 1 of labels.txt.
correct() {
  local pb=$1/output_0.pb
  if [ "$(tail -c 4003 "$pb" | head -c 3 | od -An -tx1 | tr -d ' \n')" != 4aa01f ]; then
    echo "unexpected layout of $pb" >&2
    echo -1
    return
  fi
  tail -c 4000 "$pb" | od -An -v -tf4 -w40 |
    awk -v labels="$(head -n 1 "$data/labels.txt")" '
      BEGIN { n = split(labels, want, /[ ,]+/) }
      NF == 10 { best = 1; for (i = 2; i <= 10; i++) if ($i + 0 > $best + 0) best = i
                 rows++; hit += (best - 1 == want[rows] + 0) }
      END { print (rows == 100 && n == 100) ? hit : -1 }'
}

# Weight bytes in the object file, as pare compile --stats reports them.
weights() {
  "$pare" compile "$model" -o "$tmp/$1.o" --input-shape input=100,1,28,28 --stats "${@:2}" 2>&1 |
    awk '$1 == "weights" { print $2 }'
}

mnist_plain() {
  present "$model" "$data/test_data_set_0/input_0.pb" "$data/labels.txt" || return 0
  # Uncompressed, for the report; then with the pass (and its --stats).
  "$pare" run "$model" --inputs "$data/test_data_set_0" --output "$tmp/ref" --engine jit
  check $? "pare run (uncompressed) exits 0"
  local ref got layers dense factored
  ref=$(correct "$tmp/ref")
  "$pare" run "$model" --inputs "$data/test_data_set_0" --output "$tmp/lr" --engine jit \
    --passes "$pipeline" --stats 2>"$tmp/stats"
  check $? "pare run --passes '$pipeline' exits 0"
  layers=$(awk '/lowrank - layers factorized$/ { print $1 }' "$tmp/stats")
  [ "${layers:-0}" -ge 1 ] 2>/dev/null
  check $? "layers factorized: ${layers:-none} (at least 1)"
  got=$(correct "$tmp/lr")
  echo "top-1 on set 0: $got/100 with $pipeline, $ref/100 uncompressed"
  [ "$got" -ge "$min_correct" ]
  check $? "top-1 $got/100 >= $min_correct/100"
  dense=$(weights dense)
  factored=$(weights lowrank --passes "$pipeline")
  echo "weight bytes: $factored with $pipeline, $dense without"
  [ -n "$dense" ] && [ -n "$factored" ] && [ "$factored" -lt "$dense" ]
  check $? "pare compile --stats: fewer weight bytes with the pass"
}

# ------------------------------------------------- recognizer, whitened
rec=$shared/models/ppocr/ch_PP-OCRv4_rec_infer.onnx
rec_data=$shared/data/ocr-rec
rec_pipeline='lowrank<energy=0.9995>' # measured: 6 layers, -49.9%, CER 11/1543
max_cer=0.010 # the issue's target (uncompressed: 0.003240)
min_removed=0.20

rec_whitened() {
  if [ -z "$real_models" ]; then
    echo "SKIP: recognizer part needs pare_real_models (third argument)"
    return 0
  fi
  present "$rec" "$rec_data/labels.txt" "$rec_data/test_data_set_149/input_0.pb" \
    "$shared/models/ppocr/ppocr_keys_v1.txt" || return 0
  local calib=(--calib "$rec_data" --calib-sets 0-49)
  "$pare" inspect "$rec" --input-shape x=1,3,48,320 "${calib[@]}" --passes "$rec_pipeline" \
    --stats 2>"$tmp/rec_stats" >/dev/null
  check $? "pare inspect --calib --passes '$rec_pipeline' exits 0"
  local before after whitened
  before=$(awk '/lowrank - parameters before \(factorized layers\)/ { print $1 }' "$tmp/rec_stats")
  after=$(awk '/lowrank - parameters after \(factorized layers\)/ { print $1 }' "$tmp/rec_stats")
  whitened=$(awk '/lowrank - layers factorized \(whitened\)/ { print $1 }' "$tmp/rec_stats")
  echo "recognizer: ${whitened:-0} layers factorized (whitened), parameters ${before:-?} -> ${after:-?}"
  [ "${whitened:-0}" -ge 1 ] 2>/dev/null && [ "${before:-0}" -gt 0 ] &&
    awk -v b="$before" -v a="$after" -v m="$min_removed" 'BEGIN { exit !(1 - a / b >= m) }'
  check $? "factorized layers lose >= $min_removed of their parameters"
  "$real_models" --model "$rec" --data "$rec_data" --metric ctc --labels "$rec_data/labels.txt" \
    --vocab "$shared/models/ppocr/ppocr_keys_v1.txt" --atol 1000 --engine jit --sets 50-149 \
    --passes "$rec_pipeline" "${calib[@]}" >"$tmp/rec_out" 2>&1
  check $? "pare_real_models --passes '$rec_pipeline' exits 0"
  local cer
  cer=$(grep -oE 'CER [0-9.]+ \([0-9/]+\)' "$tmp/rec_out" | head -n 1)
  echo "recognizer, sets 50-149: $cer with $rec_pipeline (calibrated on 0-49)"
  [ -n "$cer" ] && awk -v c="${cer#CER }" -v m="$max_cer" 'BEGIN { exit !(c + 0 <= m) }'
  check $? "CER <= $max_cer"
}

mnist_plain
rec_whitened
exit $fail
