#!/usr/bin/env bash
# share_compile.sh PARE - equal weights are stored once in generated code.
# Two Gemms read two [64, 64] constants: bit-identical (same.pir) or
# differing in one element (differ.pir). `share` merges the identical pair
# (1 tensor, 16384 bytes saved) and not the other; the object file's weight
# bytes (`pare compile --stats`) for the identical pair are half those of
# the differing pair, with or without `share` (the backend emits equal
# constant data once, so each Gemm's packed copy of one weight is not
# duplicated either).
set -u
pare=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

gen() { # gen FILE LAST: weights %a, %b; %b's last element is LAST
  local vals
  vals=$(awk 'BEGIN { s = 1; for (i = 0; i < 4096; i++) { s = (s * 1103515245 + 12345) % 2147483648;
         printf "%s%.4f", i ? ", " : "", s / 2147483648 - 0.5 } }')
  {
    echo "graph @g opset 17 {"
    echo "  input %x : f32[2,64]"
    echo "  const %a : f32[64,64] = dense<$vals>"
    echo "  const %b : f32[64,64] = dense<${vals%,*}, $2>"
    echo "  %y : f32[2,64] = Gemm(%x, %a)"
    echo "  %z : f32[2,64] = Gemm(%y, %b)"
    echo "  output %z"
    echo "}"
  } >"$1"
}
last=$(awk 'BEGIN { s = 1; for (i = 0; i < 4096; i++) s = (s * 1103515245 + 12345) % 2147483648;
       printf "%.4f", s / 2147483648 - 0.5 }')
gen "$out/same.pir" "$last"
gen "$out/differ.pir" 0.75

weights() { "$pare" compile "$@" -o "$out/x.o" --stats 2>&1 | awk '$1 == "weights" { print $2 }'; }
same=$(weights "$out/same.pir")
same_shared=$(weights "$out/same.pir" --passes share)
differ=$(weights "$out/differ.pir" --passes share)
[ -n "$same" ] && [ -n "$differ" ] || fail "no weight bytes in --stats"
[ "$same" = "$same_shared" ] || fail "share changed the emitted bytes: $same vs $same_shared"
[ $((2 * same)) = "$differ" ] || fail "identical weights take $same bytes, differing ones $differ"

stats=$("$pare" inspect "$out/same.pir" --passes share --stats 2>&1 >/dev/null)
grep -qE '^ +1 share - tensors merged' <<<"$stats" || fail "same: $stats"
grep -qE '^ +16384 share - bytes saved' <<<"$stats" || fail "same: $stats"
stats=$("$pare" inspect "$out/differ.pir" --passes share --stats 2>&1 >/dev/null)
grep -qE '^ +0 share - tensors merged' <<<"$stats" || fail "differ: $stats"

echo "share_compile: ok ($same bytes)"
