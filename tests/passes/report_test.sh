#!/usr/bin/env bash
# report_test.sh PARE - `--report FILE.json` on fold-batchnorm.pir: the conv
# layer's figures before and after, the decision the pass recorded, the
# pass's counters, and the totals. Exact numbers: W [2,1,1,1] + no bias
# before (2 parameters, 8 bytes); W and a new bias [2] after (4, 16); the BN's
# 8 statistics are gone from the totals (10 -> 4 parameters).
set -u
pare=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0
check() {
  if grep -Eq -- "$2" "$out/r.json"; then pass=$((pass + 1)); else
    echo "FAIL $1: no match for /$2/"
    fail=$((fail + 1))
  fi
}
"$pare" inspect "$here/fold-batchnorm.pir" --passes fold-batchnorm,dce --report "$out/r.json" >/dev/null ||
  { echo "FAIL: pare exited $?"; exit 1; }
# One line per key/value makes the JSON easy to match.
tr -d '\t' <"$out/r.json" | tr '\n' ' ' >"$out/flat"
mv "$out/flat" "$out/r.json"
ws='[[:space:]]*'
check pipeline "\"pipeline\":${ws}\"fold-batchnorm,dce\""
check layer "\"name\":${ws}\"conv\",${ws}\"op\":${ws}\"Conv\",${ws}\"weight_shape\":${ws}\\[2,${ws}1,${ws}1,${ws}1\\]"
check before "\"before\":${ws}\\{${ws}\"parameters\":${ws}2,${ws}\"bytes\":${ws}8,"
check decision "\"decisions\":${ws}\\{${ws}\"fold-batchnorm\":${ws}\\{${ws}\"folded\":${ws}\"bn\""
check after "\"after\":${ws}\\{${ws}\"parameters\":${ws}4,${ws}\"bytes\":${ws}16,"
check stats "\"BatchNormalizations folded\":${ws}1"
check total-before "\"before\":${ws}\\{${ws}\"parameters\":${ws}10,"
check total-after "\"after\":${ws}\\{${ws}\"parameters\":${ws}4,"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
