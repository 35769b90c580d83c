#!/usr/bin/env bash
# run_pass_test.sh PARE FILECHECK TEST.pir - one textual IR pass test: the
# file's "# PASSES: <pipeline>" line runs through `pare inspect --passes`,
# and its "# CHECK..." lines are checked against the printed IR by LLVM's
# FileCheck. "# EXPECT-ERROR: <text>" instead expects exit 1 or 2 with that
# text on stderr. "# CALIB: DIR" passes --calib DIR (relative to the test).
set -u
pare=$1 filecheck=$2 test=$3
pipeline=$(sed -n 's/^# PASSES: //p' "$test")
expect_error=$(sed -n 's/^# EXPECT-ERROR: //p' "$test")
# "# CALIB: DIR" (relative to the test's folder): calibration inputs.
calib=$(sed -n 's/^# CALIB: //p' "$test")
calib_args=()
[ -n "$calib" ] && calib_args=(--calib "$(dirname "$test")/$calib")
if [ -n "$expect_error" ]; then
  if err=$("$pare" inspect "$test" --passes "$pipeline" "${calib_args[@]}" --weights 2>&1 >/dev/null); then
    echo "FAIL: $test: expected an error, pare succeeded"
    exit 1
  fi
  grep -qF -- "$expect_error" <<<"$err" || { echo "FAIL: $test: stderr was: $err"; exit 1; }
  exit 0
fi
"$pare" inspect "$test" --passes "$pipeline" "${calib_args[@]}" --weights --verify-each | "$filecheck" "$test"
