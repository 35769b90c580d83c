#!/usr/bin/env bash
# tsan.sh PARE SRC_DIR WORK_DIR MODEL INPUT_SHAPE SET_DIR OPT LLC LIB... -
# a compiled model run from 8 threads under ThreadSanitizer.
#
# `pare compile --emit llvm` writes the model's generated code as LLVM IR;
# every defined function gets LLVM's sanitize_thread attribute (and loses
# its memory(...) attribute, which the added calls would contradict), opt
# scalarizes its vector loads and stores (TSan instruments accesses of at
# most 16 bytes only, and the kernels use 32-byte vectors) and runs the
# ThreadSanitizer pass, and llc emits the object. tests/backend/run_compiled.c
# is linked against it with $CC -fsanitize=thread and runs SET_DIR once and
# then from 8 threads at once, each with its own workspace: any TSan report
# fails. First a positive control (tsan_control.c: two threads sharing one
# workspace) must be reported as a data race, which proves the generated code
# is instrumented. LIB... are the static libraries run_compiled needs.
#
# Prints SKIP and passes when MODEL or SET_DIR is absent, when OPT or LLC is
# missing, or when a ThreadSanitizer program cannot be built or run here.
set -uo pipefail
if [ $# -lt 8 ]; then
  echo "usage: $0 PARE SRC_DIR WORK_DIR MODEL INPUT_SHAPE SET_DIR OPT LLC LIB..." >&2
  exit 2
fi
pare=$1 src=$2 work=$3 model=$4 shape=$5 set=$6 opt=$7 llc=$8
shift 8
libs=("$@")
cc=${CC:-cc}
for f in "$model" "$set/input_0.pb"; do
  if [ ! -e "$f" ]; then
    echo "SKIP: $f not found"
    exit 0
  fi
done
for t in "$opt" "$llc"; do
  if [ ! -x "$t" ]; then
    echo "SKIP: LLVM tool $t not found"
    exit 0
  fi
done
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1

# Can this compiler and kernel run a ThreadSanitizer program at all?
cat >probe.c <<'PROBE'
#include <pthread.h>
static int x;
static void *f(void *a) { return a; }
int main(void) {
  pthread_t t;
  pthread_create(&t, 0, f, &x);
  pthread_join(t, 0);
  return 0;
}
PROBE
if ! "$cc" -fsanitize=thread probe.c -o probe -lpthread >probe.log 2>&1; then
  echo "SKIP: $cc cannot build with -fsanitize=thread: $(head -1 probe.log)"
  exit 0
fi
if ! ./probe >probe.log 2>&1; then
  echo "SKIP: ThreadSanitizer cannot run here: $(grep -m1 . probe.log)"
  exit 0
fi

fail() {
  echo "FAIL: $*"
  exit 1
}

"$pare" compile "$model" --input-shape "$shape" --name cls --emit llvm -o cls.ll ||
  fail "pare compile --emit llvm"
[ -f cls.h ] || fail "pare compile wrote no cls.h"
# Attribute groups of defined functions: add sanitize_thread, drop memory(...).
awk '
  NR == FNR {
    if ($1 == "define" && match($0, /#[0-9]+ \{$/))
      used[substr($0, RSTART + 1, RLENGTH - 3)] = 1
    next
  }
  /^attributes #[0-9]+ = \{/ {
    id = substr($2, 2)
    if (id in used) {
      gsub(/memory\([^)]*\) /, "")
      sub(/= \{ /, "= { sanitize_thread ")
    }
  }
  { print }
' cls.ll cls.ll >cls_attr.ll || fail "awk"
"$opt" -S -scalarize-load-store \
  -passes='function(scalarize-masked-mem-intrin,scalarizer),tsan-module,function(tsan)' \
  cls_attr.ll -o cls_tsan.ll || fail "opt (ThreadSanitizer pass)"
"$llc" -O1 -filetype=obj -relocation-model=pic cls_tsan.ll -o cls_tsan.o || fail "llc"
defined=$(grep -c '^define' cls_attr.ll)
instrumented=$(grep -c 'call void @__tsan_func_entry' cls_tsan.ll)
accesses=$(grep -Ec 'call void @__tsan_(unaligned_)?(read|write)[0-9]+' cls_tsan.ll)
echo "generated code: $instrumented of $defined functions instrumented, $accesses memory accesses"

flags=(-std=c17 -g -O1 -fsanitize=thread -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
  -I"$src" -I"$src/runtime" -I. -DMODEL_HEADER='"cls.h"' -DMODEL_PREFIX=cls -DMODEL_UPPER=CLS)
"$cc" "${flags[@]}" "$src/tests/backend/tsan_control.c" "$src/tests/backend/tsan_mem.c" \
  cls_tsan.o "${libs[@]}" -lm -lpthread -o tsan_control || fail "building tsan_control"
"$cc" "${flags[@]}" "$src/tests/backend/run_compiled.c" "$src/tests/backend/tsan_mem.c" \
  cls_tsan.o "${libs[@]}" -lm -lpthread -o run_compiled_tsan || fail "building run_compiled_tsan"

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
./tsan_control >control.log 2>&1
rc=$?
if [ "$rc" -ne 66 ] || ! grep -q 'ThreadSanitizer: data race' control.log; then
  cat control.log
  fail "the positive control (two threads, one workspace) was not reported (exit $rc):" \
    "the generated code is not instrumented"
fi
echo "positive control: two threads sharing one workspace reported as a data race"
grep -m1 -E '^    #[0-9]+ k[0-9]+\.' control.log | sed 's/^/  /'

./run_compiled_tsan "$set" --threads 8 --repeat 2 >run.log 2>&1
rc=$?
cat run.log
if [ "$rc" -ne 0 ] || grep -q 'WARNING: ThreadSanitizer' run.log; then
  fail "ThreadSanitizer run (exit $rc)"
fi
echo "PASS: 8 threads, no ThreadSanitizer report"
