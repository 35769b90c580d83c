#!/usr/bin/env bash
# fuzz.sh [SECONDS] - build the libFuzzer targets (fuzz/) and run each one
# for SECONDS (default 60), one after the other, under nice.
#
# Builds with $FUZZ_CC (default clang-19, else clang-14) in .cache/fuzz/build
# (-DPARE_FUZZ=ON), collects seeds with fuzz/make_corpus.sh into
# .cache/fuzz/corpus (textual-IR seeds from `$PARE inspect`, default
# build/pare), and runs every target on its own growing corpus in
# .cache/fuzz/work/TARGET with the seeds as a second corpus. Per target it
# prints the executions, libFuzzer's final cov:/ft: and any crash, leak,
# timeout or out-of-memory file (in .cache/fuzz/artifacts/TARGET). The log
# of each run is .cache/fuzz/logs/TARGET.log. Exits 1 if any target found
# something, 2 if the targets cannot be built.
#
# Environment: FUZZ_CC, FUZZ_TARGETS (default "fuzz_onnx fuzz_ir_text
# fuzz_tensor_pb"), FUZZ_NICE (default 19), FUZZ_TIMEOUT (seconds one input
# may take, default 30), FUZZ_SEED (libFuzzer -seed; CI sets it so that a
# finding there shows up again when the same command runs here; default
# random), JOBS (default nproc), PARE.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
cache=$root/.cache/fuzz
build=$cache/build
targets=${FUZZ_TARGETS:-fuzz_onnx fuzz_ir_text fuzz_tensor_pb}
nice_level=${FUZZ_NICE:-19}
unit_timeout=${FUZZ_TIMEOUT:-30}
jobs=${JOBS:-$(nproc)}
pare=${PARE:-${BUILD_DIR:-$root/build}/pare}

cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
  for c in clang-19 clang-14; do
    if command -v "$c" >/dev/null 2>&1; then
      cc=$c
      break
    fi
  done
fi
if [ -z "$cc" ] || ! command -v "$cc" >/dev/null 2>&1; then
  echo "fuzz: no clang found (install clang-19, or set FUZZ_CC)" >&2
  exit 2
fi

echo "fuzz: building with $cc in $build" >&2
if ! { CC=$cc cmake -S "$root" -B "$build" -DPARE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >/dev/null && nice -n "$nice_level" cmake --build "$build" -j "$jobs" --target $targets \
  >"$cache/build.log" 2>&1; }; then
  tail -30 "$cache/build.log" >&2 || true
  echo "fuzz: build failed" >&2
  exit 2
fi

"$root/fuzz/make_corpus.sh" "$cache/corpus" "$pare" >&2

# Target name -> corpus folder name.
corpus_of() {
  case $1 in
    fuzz_onnx) echo onnx ;;
    fuzz_ir_text) echo ir_text ;;
    fuzz_tensor_pb) echo tensor_pb ;;
    *) echo "${1#fuzz_}" ;;
  esac
}

found=0
printf '%-15s %8s %12s %9s %7s %7s  %s\n' target seconds executions exec/s cov ft result
for t in $targets; do
  c=$(corpus_of "$t")
  work=$cache/work/$c
  art=$cache/artifacts/$c
  log=$cache/logs/$t.log
  mkdir -p "$work" "$art" "$cache/logs"
  before=$(mktemp)
  ls "$art" >"$before"
  opts=(-max_total_time="$seconds" -timeout="$unit_timeout" -rss_limit_mb=2048
    -print_final_stats=1 -artifact_prefix="$art/")
  [ -f "$root/fuzz/$c.dict" ] && opts+=(-dict="$root/fuzz/$c.dict")
  [ -n "${FUZZ_SEED:-}" ] && opts+=(-seed="$FUZZ_SEED")
  start=$(date +%s)
  rc=0
  nice -n "$nice_level" "$build/fuzz/$t" "${opts[@]}" "$work" "$cache/corpus/$c" >"$log" 2>&1 ||
    rc=$?
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  new=$(ls "$art" | grep -vxF -f "$before" | grep -E '^(crash|leak|timeout|oom)-' || true)
  rm -f "$before"
  if [ -n "$new" ] || [ "$rc" -ne 0 ]; then
    found=1
    result="FOUND (exit $rc):"
    for f in $new; do result="$result $art/$f"; done
    [ -n "$new" ] || result="$result see $log"
  else
    result=ok
  fi
  printf '%-15s %8s %12s %9s %7s %7s  %s\n' "$t" "$elapsed" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$result"
  if [ "$rc" -ne 0 ]; then
    grep -E '^(==[0-9]+==ERROR|SUMMARY|    #[0-9]+ )' "$log" | head -20 >&2 || true
  fi
done
exit "$found"
