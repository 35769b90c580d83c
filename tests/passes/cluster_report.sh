#!/usr/bin/env bash
# cluster_report.sh PARE - what `cluster` and `share` record for --report.
# cluster-layer.pir: the MatMul's [4,3] weight as a 2-bit plain codebook,
# 3 bytes of indices + 4 f16 entries = 11 bytes (7.33 bits per weight),
# exact (the weight has three distinct values). share-tolerance.pir: the
# Gemm %z's input 1 (%b) merged into %a, 0.005 apart, 16 bytes saved.
set -u
pare=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0
ws='[[:space:]]*'
check() {
  if grep -Eq -- "$2" "$out/r.json"; then pass=$((pass + 1)); else
    echo "FAIL $1: no match for /$2/ in $(cat "$out/r.json")"
    fail=$((fail + 1))
  fi
}
report() { # report PIR PIPELINE: the report, on one line
  "$pare" inspect "$here/$1" --passes "$2" --report "$out/raw.json" >/dev/null ||
    { echo "FAIL: pare exited $?"; exit 1; }
  tr -d '\t' <"$out/raw.json" | tr '\n' ' ' >"$out/r.json"
}
report cluster-layer.pir 'cluster<bits=2;normalize=none;per-channel=0>'
check decision "\"cluster\":${ws}\\{${ws}\"bits\":${ws}2,${ws}\"codebook\":${ws}\"per layer\",${ws}\"bits_per_weight\":${ws}7\\.333"
check bytes "\"encoded_bytes\":${ws}11,${ws}\"max_abs_error\":${ws}0,${ws}\"rel_error\":${ws}0"
check after "\"after\":${ws}\\{${ws}\"parameters\":${ws}12,${ws}\"bytes\":${ws}11,"
check stat "\"encoded bytes\":${ws}11"
check stat-dense "\"dense bytes\":${ws}48"
report share-tolerance.pir 'share<tolerance=0.01;min-size=4>'
check merged "\"name\":${ws}\"z\",.*\"share\":${ws}\\{${ws}\"input_1\":${ws}\"b merged into a\",${ws}\"input_1_max_abs_diff\":${ws}0\\.00499"
check share-stats "\"tensors merged\":${ws}1,${ws}\"bytes saved\":${ws}16,${ws}\"max abs difference \\(1e-6\\)\":${ws}5000"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
