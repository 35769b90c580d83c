#!/usr/bin/env bash
# run_pass_test.sh PARE FILECHECK TEST.pir - one textual IR pass test: the
# file's "# PASSES: <pipeline>" line runs through `pare inspect --passes`,
# and its "# CHECK..." lines are checked against the printed IR by LLVM's
# FileCheck. "# EXPECT-ERROR: <text>" instead expects exit 1 or 2 with that
# text on stderr.
set -u
pare=$1 filecheck=$2 test=$3
pipeline=$(sed -n 's/^# PASSES: //p' "$test")
expect_error=$(sed -n 's/^# EXPECT-ERROR: //p' "$test")
if [ -n "$expect_error" ]; then
  if err=$("$pare" inspect "$test" --passes "$pipeline" --weights 2>&1 >/dev/null); then
    echo "FAIL: $test: expected an error, pare succeeded"
    exit 1
  fi
  grep -qF -- "$expect_error" <<<"$err" || { echo "FAIL: $test: stderr was: $err"; exit 1; }
  exit 0
fi
"$pare" inspect "$test" --passes "$pipeline" --weights --verify-each | "$filecheck" "$test"
