#!/usr/bin/env bash
# valgrind.sh GROUP BUILD_DIR SOURCE_DIR SHARED_DIR - pare's interpreter path
# under valgrind memcheck; every process must report zero errors and zero
# definitely, indirectly and possibly lost bytes.
#
#   unit         the unit tests that do not JIT (tests/unit/test_*), the
#                textual IR pass tests and --report, the fuzz regressions
#   models       pare inspect and pare run --engine interp on the shared
#                real models (MNIST, hello_deepa, PP-OCR cls and rec)
#   conformance  54 ONNX node cases (conv, pooling, RNNs, gather, slice,
#                resize) through pare run's interpreter
#   errors       error paths: pare_hostile's hand-made malicious models,
#                damaged real models, bad inputs, usage errors, --max-memory
#   all          all of the above, one after another
#
# The JIT and AOT engines and `pare compile` are left out: LLVM under
# valgrind is slow and reports its own allocator tricks, and ASan+UBSan
# covers them in CI. "possibly lost" counts as an error too: pare keeps no
# interior pointers to heap blocks (tensor data is aligned_alloc's own
# pointer), so a possible leak would be a real one; "still reachable" (libLLVM's
# and OpenBLAS's process-lifetime globals, loaded with pare) is not.
#
# Prints one line per process: what ran, the ERROR SUMMARY count and the lost
# bytes. Exits 1 on any valgrind error or unexpected exit status. Without
# valgrind (Debian package valgrind) prints SKIP; a group needing the shared
# folder prints SKIP for what it lacks.
set -u
group=${1:?usage: valgrind.sh unit|models|conformance|errors|all BUILD SOURCE SHARED}
build=$(cd "${2:?build dir}" && pwd)
src=$(cd "${3:?source dir}" && pwd)
shared=${4:-$src/../shared}
vg=${VALGRIND:-valgrind}
if ! command -v "$vg" >/dev/null 2>&1; then
  echo "SKIP: $vg not found (apt-get install valgrind)"
  exit 0
fi

pare=$build/pare
tests=$build/tests
work=$(mktemp -d "${TMPDIR:-/tmp}/pare-valgrind.XXXXXX")
trap 'rm -rf "$work"' EXIT
logs=$work/logs
mkdir -p "$logs"
# --error-exitcode makes a dirty run fail its command too, but the verdict
# comes from the logs: pare_conformance and pare_hostile run pare in children
# whose exit status they judge themselves.
vg_opts=(--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
  --show-leak-kinds=definite,indirect,possible --num-callers=30)
# OpenBLAS (the lowrank pass's SVD) starts a thread pool at load time whose
# threads are still alive at exit; one thread keeps valgrind's output about
# pare. Nothing on the interpreter path uses BLAS.
export OPENBLAS_NUM_THREADS=1

# A `pare` that runs the real one under valgrind, for the scripts and runners
# that take a pare path; each process logs to its own file.
wrapper=$work/pare
cat >"$wrapper" <<EOF
#!/bin/sh
exec "$vg" ${vg_opts[*]} --log-file="$logs/%q{VG_LABEL}.%p.log" "$pare" "\$@"
EOF
chmod +x "$wrapper"
export VG_LABEL=pare

failed=0
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}

# vg LABEL WANT CMD... - runs CMD under valgrind; WANT is the accepted exit
# status ("0", "1", "0|1", "2").
vg() {
  local label=$1 want=$2
  shift 2
  "$vg" "${vg_opts[@]}" --log-file="$logs/$label.%p.log" "$@" >"$work/$label.out" 2>&1
  local rc=$?
  if ! [[ "$rc" =~ ^($want)$ ]]; then
    fail "$label: exit $rc, expected $want"
    tail -5 "$work/$label.out"
  fi
}

# with_wrapper LABEL WANT CMD... - runs CMD (which runs $wrapper) natively.
with_wrapper() {
  local label=$1 want=$2
  shift 2
  VG_LABEL=$label "$@" >"$work/$label.out" 2>&1
  local rc=$?
  if ! [[ "$rc" =~ ^($want)$ ]]; then
    fail "$label: exit $rc, expected $want"
    tail -5 "$work/$label.out"
  fi
}

have_shared() {
  if [ -d "$shared/models" ] && [ -d "$shared/data" ]; then return 0; fi
  echo "SKIP $1: shared folder $shared not found"
  return 1
}

run_unit() {
  local t
  for t in "$tests"/test_*; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    vg "unit-$(basename "$t")" 0 "$t"
  done
  local pir
  for pir in "$src"/tests/passes/*.pir; do
    with_wrapper "pass-$(basename "$pir" .pir)" 0 "$src/tests/passes/run_pass_test.sh" "$wrapper" \
      "${FILECHECK:-/usr/lib/llvm-19/bin/FileCheck}" "$pir"
  done
  with_wrapper pass-report 0 "$src/tests/passes/report_test.sh" "$wrapper"
  local r
  for r in "$src"/tests/regress/*/; do
    local target
    target=$(basename "$r")
    [ -x "$tests/${target}_replay" ] && vg "regress-$target" 0 "$tests/${target}_replay" "$r"
  done
}

run_models() {
  have_shared models || return 0
  local m=$shared/models d=$shared/data
  local -a cases=(
    "mnist $m/mnist/mnist-cnn.onnx $d/mnist/test_data_set_0"
    "hello-deepa $m/openwakeword/hello_deepa.onnx $d/hello-deepa/test_data_set_0"
    "ocr-cls $m/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx $d/ocr-cls/test_data_set_0"
    "ocr-rec $m/ppocr/ch_PP-OCRv4_rec_infer.onnx $d/ocr-rec/test_data_set_0"
  )
  local c name model set
  for c in "${cases[@]}"; do
    read -r name model set <<<"$c"
    [ -f "$model" ] || { echo "SKIP $name: $model not found"; continue; }
    vg "inspect-$name" 0 "$pare" inspect "$model" --weights
    vg "run-$name" 0 "$pare" run "$model" --inputs "$set" --output "$work/out-$name" --engine interp
    [ -f "$work/out-$name/output_0.pb" ] || fail "run-$name: no output_0.pb"
  done
  # A pass pipeline on a real model: the passes free what they replace.
  vg inspect-mnist-passes 0 "$pare" inspect "$m/mnist/mnist-cnn.onnx" \
    --passes 'fold-batchnorm,cleanup,prune<sparsity=0.5>,dce'
}

run_conformance() {
  local -a filters=()
  local f
  for f in test_conv test_gather_ test_gru test_lstm test_maxpool_2d test_slice \
    test_resize_upsample_scales; do
    filters+=(--filter "$f")
  done
  with_wrapper conformance 0 "$tests/pare_conformance" --pare "$wrapper" "${filters[@]}" \
    --cpu-seconds 120 --min-pass 0.9
  tail -1 "$work/conformance.out"
}

run_errors() {
  # Without a shared folder pare_hostile runs only its hand-made attacks.
  with_wrapper hostile 0 "$tests/pare_hostile" --pare "$wrapper" --shared "$work/no-shared"
  tail -1 "$work/hostile.out"
  vg err-missing-model 1 "$pare" run "$work/absent.onnx" --inputs "$work" --output "$work/o"
  vg err-usage 2 "$pare" run
  vg err-usage-unknown 2 "$pare" inspect x.onnx --no-such-flag
  vg err-unknown-pass 2 "$pare" inspect x.onnx --passes 'no-such-pass'
  have_shared errors-models || return 0
  local mnist=$shared/models/mnist/mnist-cnn.onnx deepa=$shared/models/openwakeword/hello_deepa.onnx
  head -c 300000 "$mnist" >"$work/truncated.onnx"
  vg err-truncated 1 "$pare" run "$work/truncated.onnx" --inputs "$shared/data/mnist/test_data_set_0" \
    --output "$work/o"
  # A flipped byte deep in the weights or the graph: a clean result or error.
  cp "$deepa" "$work/flipped.onnx"
  chmod u+w "$work/flipped.onnx"
  printf '\377\377\377\377' | dd of="$work/flipped.onnx" bs=1 seek=1000 conv=notrunc 2>/dev/null
  vg err-flipped '0|1' "$pare" run "$work/flipped.onnx" --inputs "$shared/data/hello-deepa/test_data_set_0" \
    --output "$work/o-flipped"
  # The classifier's input given to the MNIST CNN: refused by shape.
  vg err-wrong-input 1 "$pare" run "$mnist" --inputs "$shared/data/ocr-cls/test_data_set_0" \
    --output "$work/o"
  # A cap below the weights (1.7 MB) and one below the intermediates.
  vg err-max-memory-weights 1 "$pare" run "$mnist" --max-memory 1M \
    --inputs "$shared/data/mnist/test_data_set_0" --output "$work/o"
  vg err-max-memory-inspect 1 "$pare" inspect "$mnist" --max-memory 1M
  vg err-max-memory-parse 1 "$pare" inspect "$mnist" --max-memory 2M
  vg err-max-memory-run 1 "$pare" run "$mnist" --max-memory 3M \
    --inputs "$shared/data/mnist/test_data_set_0" --output "$work/o"
}

case "$group" in
  unit) run_unit ;;
  models) run_models ;;
  conformance) run_conformance ;;
  errors) run_errors ;;
  all) run_unit; run_models; run_conformance; run_errors ;;
  *) echo "valgrind.sh: unknown group '$group'" >&2; exit 2 ;;
esac

# One line per process from its log; a log without an ERROR SUMMARY means
# valgrind itself failed (or the process was killed).
n=0
for log in "$logs"/*.log; do
  [ -f "$log" ] || continue
  n=$((n + 1))
  label=$(basename "$log" .log)
  cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$log" | head -1 | sed "s|$build/||g; s|$shared/||g")
  errors=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
  lost() { sed -n "s/^==[0-9]*== *$1 lost: \([0-9,]*\) bytes.*/\1/p" "$log" | tail -1; }
  def=$(lost definitely) ind=$(lost indirectly) pos=$(lost possibly)
  # A process that frees everything prints "All heap blocks were freed".
  if grep -q "All heap blocks were freed" "$log"; then def=${def:-0} ind=${ind:-0} pos=${pos:-0}; fi
  printf '%-40s errors %s, lost: definitely %s, indirectly %s, possibly %s  (%.70s)\n' \
    "$label" "${errors:-?}" "${def:-?}" "${ind:-?}" "${pos:-?}" "$cmd"
  if [ "${errors:-x}" != 0 ] || [ "${def:-x}" != 0 ] || [ "${ind:-x}" != 0 ] || [ "${pos:-x}" != 0 ]; then
    fail "$label: valgrind reported a problem; log:"
    sed -n '/Invalid\|uninitialised\|lost in loss record\|Process terminating/,+12p' "$log" | head -60
  fi
done
[ "$n" -gt 0 ] || [ "$group" = models ] || fail "no valgrind logs were written"
echo "valgrind $group: $n processes, $failed failed"
[ "$failed" -eq 0 ]
