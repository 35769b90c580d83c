#!/usr/bin/env bash
# lowrank_models.sh PARE SHARED_DIR - the lowrank pass end to end on the
# shared MNIST CNN: `pare run --passes 'lowrank<energy=0.9>' --engine jit` on
# test_data_set_0 must factorize layers and keep the top-1 accuracy on its
# 100 images (line 1 of labels.txt) at 95% or more (uncompressed: 97%), and
# `pare compile --stats` must report fewer weight bytes with the pass than
# without. Prints SKIP and passes when the shared folder is absent.
set -u
pare=$1 shared=$2
model=$shared/models/mnist/mnist-cnn.onnx
data=$shared/data/mnist
pipeline='lowrank<energy=0.9>'
min_correct=95
for f in "$model" "$data/test_data_set_0/input_0.pb" "$data/labels.txt"; do
  if [ ! -e "$f" ]; then
    echo "SKIP: $f not found"
    exit 0
  fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lowrank_models.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check CONDITION-STATUS MESSAGE
  if [ "$1" -eq 0 ]; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi
}

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

# Uncompressed, for the report; then with the pass (and its --stats).
"$pare" run "$model" --inputs "$data/test_data_set_0" --output "$tmp/ref" --engine jit
check $? "pare run (uncompressed) exits 0"
ref=$(correct "$tmp/ref")
"$pare" run "$model" --inputs "$data/test_data_set_0" --output "$tmp/lr" --engine jit \
  --passes "$pipeline" --stats 2>"$tmp/stats"
check $? "pare run --passes '$pipeline' exits 0"
layers=$(awk '/lowrank - layers factorized/ { print $1 }' "$tmp/stats")
[ "${layers:-0}" -ge 1 ] 2>/dev/null
check $? "layers factorized: ${layers:-none} (at least 1)"
got=$(correct "$tmp/lr")
echo "top-1 on set 0: $got/100 with $pipeline, $ref/100 uncompressed"
[ "$got" -ge "$min_correct" ]
check $? "top-1 $got/100 >= $min_correct/100"

# Weight bytes in the object file, as pare compile --stats reports them.
weights() {
  "$pare" compile "$model" -o "$tmp/$1.o" --input-shape input=100,1,28,28 --stats "${@:2}" 2>&1 |
    awk '$1 == "weights" { print $2 }'
}
dense=$(weights dense)
factored=$(weights lowrank --passes "$pipeline")
echo "weight bytes: $factored with $pipeline, $dense without"
[ -n "$dense" ] && [ -n "$factored" ] && [ "$factored" -lt "$dense" ]
check $? "pare compile --stats: fewer weight bytes with the pass"
exit $fail
