# lib.sh - sourced by the tests/cli scripts: pass/fail counters and the two
# assertions they all use; each script prints "$passed passed, $failed failed"
# and exits non-zero on any failure itself.
passed=0
failed=0

# expect NAME STATUS PATTERN -- CMD...: runs CMD, checks exit status and that
# stdout+stderr matches the extended regex PATTERN.
expect() {
  local name=$1 status=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq "$status" ] && [[ $out =~ $pattern ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s: exit %s (want %s), output:\n%s\n' "$name" "$rc" "$status" "$out" | head -20
  fi
}

# check NAME CONDITION...: a plain assertion.
check() {
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else
    failed=$((failed + 1))
    echo "FAIL $name"
  fi
}
