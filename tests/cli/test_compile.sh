#!/usr/bin/env bash
# test_compile.sh PARE [PARE_CONFORMANCE] [CLS_MODEL] - `pare compile` as users
# and build systems use it: every --emit kind and its header, a C program
# linked against the object, the static archive and the shared library,
# depfiles, reproducible outputs, failures that leave nothing behind, --stats
# and --help, and `pare run --engine jit|aot`. Models come from Debian's
# libonnx-testdata; CLS_MODEL (the PP-OCR classifier from ../shared, with a
# symbolic input shape) adds its checks when present. PARE_CONFORMANCE is
# tests/pare_conformance, used to compare the engines' outputs with the
# expected ones within tolerance.
set -u
pare=$1
conformance=${2:-}
cls_model=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
runtime=$here/../../runtime
node=/usr/share/libonnx-testdata/data/node
cc=${CC:-cc}
work=$(mktemp -d)
shm="" # a folder on /dev/shm, for the other-file-system check
trap 'rm -rf "$work" ${shm:+"$shm"}' EXIT
. "$(dirname "$0")/lib.sh"

# fails NAME STATUS PATTERN OUT -- CMD...: CMD must exit with STATUS, print
# nothing on stdout and exactly one line on stderr, starting with "pare: " and
# matching PATTERN; afterwards OUT, OUT with .h and OUT with .d must not exist
# and no .pare-* staging folder may be left beside OUT.
fails() {
  local name=$1 status=$2 pattern=$3 out=$4
  shift 5
  local rc err why=""
  # (In a subshell, so that a crash is reported by its exit status only.)
  ("$@" >"$work/fails.stdout" 2>"$work/fails.stderr") 2>/dev/null
  rc=$?
  err=$(cat "$work/fails.stderr")
  [ "$rc" -eq "$status" ] || why+=" exit $rc (want $status);"
  [ -s "$work/fails.stdout" ] && why+=" wrote to stdout;"
  [ "$(wc -l <"$work/fails.stderr")" -eq 1 ] || why+=" stderr is not one line;"
  [[ $err == "pare: "* ]] || why+=" stderr does not start with 'pare: ';"
  [[ $err =~ $pattern ]] || why+=" stderr does not match '$pattern';"
  local f
  for f in "$out" "${out%.*}.h" "${out%.*}.d"; do
    # (OUT may be a folder that existed before.)
    if [ -e "$f" ] && [ ! -d "$f" ]; then why+=" left $f;"; fi
  done
  if compgen -G "$(dirname "$out")/.pare-*" >/dev/null; then why+=" left a .pare-* folder;"; fi
  if [ -z "$why" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1))
    printf 'FAIL %s:%s stderr:\n%s\n' "$name" "$why" "$err" | head -12
  fi
}

# hex FILE N [SKIP]: N bytes of FILE from offset SKIP as lowercase hex.
hex() { od -An -tx1 -j "${3:-0}" -N "$2" "$1" | tr -d ' \n'; }
is_elf_type() { [ "$(hex "$1" 4)" = 7f454c46 ] && [ "$(hex "$1" 2 16)" = "$2" ]; }
is_elf_rel() { is_elf_type "$1" 0100; }
is_elf_dyn() { is_elf_type "$1" 0300; }
is_asm() { grep -Eq '^[[:space:]]*\.(text|section)' "$1"; }
is_llvm() { head -1 "$1" | grep -q '^; ModuleID'; }
is_bc() { [ "$(hex "$1" 4)" = 4243c0de ]; }
is_ar() { [ "$(head -c 8 "$1")" = '!<arch>' ]; }
# header_for FILE NAME: FILE declares NAME_run and NAME_workspace_size and
# defines the upper-case NAME_NUM_INPUTS.
header_for() {
  local upper
  upper=$(printf '%s' "$2" | tr '[:lower:]' '[:upper:]')
  [ -f "$1" ] && grep -q "^int $2_run(const void \*const inputs\[\], void \*const outputs\[\], void \*workspace);" "$1" &&
    grep -q "^size_t $2_workspace_size(void);" "$1" &&
    grep -q "^#define ${upper}_NUM_INPUTS [0-9]" "$1"
}
# absent FILE...: none of the files exists.
absent() {
  local f
  for f in "$@"; do [ ! -e "$f" ] || return 1; done
}
# empty_dir DIR: DIR holds nothing.
empty_dir() { [ -z "$(find "$1" -mindepth 1 -print -quit)" ]; }
# quiet CMD...: CMD succeeds and prints nothing on stdout or stderr.
quiet() { [ -z "$("$@" 2>&1)" ]; }
# not CMD...: CMD fails.
not() { ! "$@"; }
# is_elf_or_absent FILE
is_elf_or_absent() { [ ! -e "$1" ] || [ "$(hex "$1" 4)" = 7f454c46 ]; }
# same_content FILE TEXT: FILE holds exactly TEXT.
same_content() { printf '%s' "$2" | cmp -s - "$1"; }
# no_stage DIR: no .pare-* staging folder is left in DIR.
no_stage() { ! compgen -G "$1/.pare-*" >/dev/null; }

# --- help ------------------------------------------------------------------
expect help-lists-compile 0 "compile MODEL -o OUT" -- "$pare" --help
help=$("$pare" compile --help 2>&1)
check compile-help-exit-0 "$pare" compile --help >/dev/null
for opt in "-o OUT" --input-shape --emit obj asm llvm bc static shared --header --name -O0 -O3 \
  --target --mcpu -MD -MF --stats --passes; do
  check "compile-help-mentions$opt" grep -q -e "$opt" <<<"$help"
done
expect compile-no-args 2 "usage: pare compile" -- "$pare" compile
expect compile-no-output 2 "usage: pare compile" -- "$pare" compile m.onnx
expect compile-unknown-option 2 "unknown option '--bogus'" -- "$pare" compile m.onnx -o m.o --bogus
expect compile-two-models 2 "more than one model" -- "$pare" compile a.onnx b.onnx -o m.o
expect compile-bad-emit 2 "--emit 'exe'" -- "$pare" compile m.onnx -o m.o --emit exe
expect compile-bad-opt-level 2 "'-O4'" -- "$pare" compile m.onnx -o m.o -O4
expect compile-header-is-output 2 "must be different files" -- "$pare" compile m.onnx -o m.o --header m.o
expect compile-depfile-is-header 2 "must be different files" -- "$pare" compile m.onnx -o m.o -MF m.h

if [ ! -d "$node/test_relu" ]; then
  echo "SKIP model cases: $node not found"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi
relu=$node/test_relu/model.onnx
gemm=$node/test_gemm_default_vector_bias/model.onnx
conv=$node/test_conv_with_strides_padding/model.onnx

# --- 1. every --emit kind, its header and the symbol prefix -----------------
e=$work/emit
mkdir -p "$e"
declare -A ext=([obj]=o [asm]=s [llvm]=ll [bc]=bc [static]=a [shared]=so)
declare -A kind_type=([obj]=is_elf_rel [asm]=is_asm [llvm]=is_llvm [bc]=is_bc [static]=is_ar [shared]=is_elf_dyn)
for kind in obj asm llvm bc static shared; do
  out=$e/k_$kind.${ext[$kind]}
  expect "emit-$kind" 0 "^$" -- "$pare" compile "$relu" -o "$out" --emit "$kind" --name "k_$kind"
  check "emit-$kind-file-type" "${kind_type[$kind]}" "$out"
  check "emit-$kind-header-at-default-path" header_for "$e/k_$kind.h" "k_$kind"
  check "emit-$kind-no-stage-left" no_stage "$e"
done
check emit-obj-exports-only-run-and-workspace-size \
  [ "$(nm -g --defined-only "$e/k_obj.o" | awk '{print $3}' | sort | tr '\n' ' ')" = \
  "k_obj_run k_obj_workspace_size " ]
check emit-shared-exports-only-run-and-workspace-size \
  [ "$(nm -D --defined-only "$e/k_shared.so" | awk '{print $3}' | sort | tr '\n' ' ')" = \
  "k_shared_run k_shared_workspace_size " ]
check emit-static-member-is-name.o [ "$(ar t "$e/k_static.a")" = k_static.o ]
# Without --emit the output is an object.
expect emit-default-obj 0 "" -- "$pare" compile "$relu" -o "$e/default.o"
check emit-default-is-obj is_elf_rel "$e/default.o"
check default-name-from-model-file header_for "$e/default.h" model
check default-name-symbols [ "$(nm -g --defined-only "$e/default.o" | awk '{print $3}' | sort | tr '\n' ' ')" = \
  "model_run model_workspace_size " ]
# A file name that is not a C identifier is made one.
cp "$relu" "$e/3d-net.v2.onnx"
expect default-name-odd 0 "" -- "$pare" compile "$e/3d-net.v2.onnx" -o "$e/odd.o"
check default-name-odd-made-identifier header_for "$e/odd.h" _3d_net_v2
# --header FILE in another folder; a dot in a folder name is not an extension.
mkdir -p "$e/inc" "$e/dir.v1"
expect header-flag 0 "" -- "$pare" compile "$relu" -o "$e/hdr.o" --header "$e/inc/relu_model.h" --name relu
check header-flag-written header_for "$e/inc/relu_model.h" relu
check header-flag-not-at-default [ ! -e "$e/hdr.h" ]
expect output-without-extension 0 "" -- "$pare" compile "$relu" -o "$e/dir.v1/librelu"
check header-of-output-without-extension header_for "$e/dir.v1/librelu.h" model
expect bad-name-digit 2 "--name '3bad'" -- "$pare" compile "$relu" -o "$e/bad.o" --name 3bad
expect bad-name-dash 2 "--name 'a-b'" -- "$pare" compile "$relu" -o "$e/bad.o" --name a-b
expect bad-name-long 2 "at most 100" -- "$pare" compile "$relu" -o "$e/bad.o" --name "$(printf 'a%.0s' {1..101})"
check bad-name-nothing-written absent "$e/bad.o" "$e/bad.h"
for level in -O0 -O1 -O2 -O3; do
  expect "opt-level$level" 0 "" -- "$pare" compile "$conv" -o "$e/conv$level.o" "$level"
done
check opt-level-O0-object is_elf_rel "$e/conv-O0.o"
# Cross compilation: an AArch64 object (e_machine 0xb7).
out=$("$pare" compile "$relu" -o "$e/a64.o" --target aarch64-linux-gnu --mcpu generic 2>&1)
if [[ $out =~ "unknown target" ]]; then
  echo "SKIP cross-aarch64: this LLVM has no AArch64 target"
else
  check cross-aarch64-exit-0 [ -z "$out" ]
  check cross-aarch64-object is_elf_rel "$e/a64.o"
  check cross-aarch64-machine [ "$(hex "$e/a64.o" 2 18)" = b700 ]
fi
# The host's own triple as the C compiler names it is the host: the default
# --mcpu native must work with it.
host_triple=$("$cc" -dumpmachine)
expect target-host-triple 0 "^$" -- "$pare" compile "$relu" -o "$e/host.o" --target "$host_triple"
# The header is a valid C and C++ header: two of them in one translation unit.
printf '#include "k_obj.h"\n#include "k_static.h"\nint main(void) { return K_OBJ_NUM_INPUTS - 1; }\n' >"$e/two.c"
check header-c99-pedantic "$cc" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$e" "$e/two.c"
if command -v c++ >/dev/null; then
  check header-cxx c++ -Wall -Wextra -Werror -fsyntax-only -x c++ -I"$e" "$e/two.c"
fi

# --- 2. a C program against the object, the archive and the shared library --
prog_src=$here/compiled_user.c
build_and_run() { # MODE INCDIR LINK-ARGS...
  local mode=$1 inc=$2
  shift 2
  local log=$work/prog-$mode.log
  if ! "$cc" -std=c11 -Wall -Wextra -Werror -I"$inc" -I"$runtime" -o "$work/prog-$mode" \
    "$prog_src" "$runtime/runtime.c" "$@" -lm >"$log" 2>&1; then
    failed=$((failed + 1))
    echo "FAIL user-program-$mode: does not build:"
    head -20 "$log"
    return
  fi
  passed=$((passed + 1))
  if "$work/prog-$mode" >"$log" 2>&1; then passed=$((passed + 1)); else
    failed=$((failed + 1))
    echo "FAIL user-program-$mode-run:"
    head -20 "$log"
  fi
}
mkdir -p "$work/obj" "$work/static/inc" "$work/shared/inc"
for m in relu gemm conv; do
  model_var=$m
  model=${!model_var}
  expect "compile-$m-obj" 0 "" -- "$pare" compile "$model" -o "$work/obj/$m.o" --name "$m"
  expect "compile-$m-static" 0 "" -- "$pare" compile "$model" -o "$work/static/lib$m.a" \
    --emit static --name "$m" --header "$work/static/inc/$m.h"
  expect "compile-$m-shared" 0 "" -- "$pare" compile "$model" -o "$work/shared/lib$m.so" \
    --emit shared --name "$m" --header "$work/shared/inc/$m.h"
done
build_and_run obj "$work/obj" "$work/obj/relu.o" "$work/obj/gemm.o" "$work/obj/conv.o"
build_and_run static "$work/static/inc" -L"$work/static" -lrelu -lgemm -lconv
build_and_run shared "$work/shared/inc" -L"$work/shared" -lrelu -lgemm -lconv -Wl,-rpath,"$work/shared"
# The shared library gets the permissions the C compiler gives one (umask
# applied), so other users can load it.
"$cc" -shared -o "$work/shared/ref.so" "$work/obj/relu.o"
check shared-library-mode-like-cc [ "$(stat -c %a "$work/shared/librelu.so")" = "$(stat -c %a "$work/shared/ref.so")" ]
# $CC may carry arguments, as make's and autoconf's does.
expect shared-cc-with-arguments 0 "^$" -- env CC="$cc -g0" "$pare" compile "$relu" -o "$work/shared/cc-args.so" --emit shared

# --- 3. depfiles -------------------------------------------------------------
d=$work/dep
mkdir -p "$d/mf"
expect depfile-md 0 "" -- "$pare" compile "$relu" -o "$d/r.o" -MD
check depfile-md-content same_content "$d/r.d" "$d/r.o: $relu"$'\n'
expect depfile-mf 0 "" -- "$pare" compile "$relu" -o "$d/f.o" -MF "$d/mf/f.dep"
check depfile-mf-content same_content "$d/mf/f.dep" "$d/f.o: $relu"$'\n'
check depfile-mf-not-at-default [ ! -e "$d/f.d" ]
expect depfile-none-without-md 0 "" -- "$pare" compile "$relu" -o "$d/n.o"
check depfile-none-without-md-absent [ ! -e "$d/n.d" ]
# Spaces are escaped for make.
mkdir -p "$d/my models" "$d/out dir"
cp "$relu" "$d/my models/relu.onnx"
expect depfile-spaces 0 "" -- "$pare" compile "$d/my models/relu.onnx" -o "$d/out dir/r.o" -MD
check depfile-spaces-escaped same_content "$d/out dir/r.d" "${d// /\\ }/out\\ dir/r.o: ${d// /\\ }/my\\ models/relu.onnx"$'\n'
# A model with external data: test_add with its input 'y' turned into an
# initializer whose 60 floats (all 1.0) live in w.bin. The bytes appended to
# the model are a ModelProto holding only graph { initializer { dims 3 4 5,
# data_type FLOAT, name "y", external_data { location: "w.bin" },
# data_location EXTERNAL } }, which protobuf merges into the model's graph.
x=$work/ext
mkdir -p "$x"
cp "$node/test_add/model.onnx" "$x/add_ext.onnx"
printf '\x3a\x22\x2a\x20\x08\x03\x08\x04\x08\x05\x10\x01\x42\x01y\x6a\x11\x0a\x08location\x12\x05w.bin\x70\x01' >>"$x/add_ext.onnx"
for _ in $(seq 60); do printf '\x00\x00\x80\x3f'; done >"$x/w.bin"
expect depfile-external 0 "" -- "$pare" compile "$x/add_ext.onnx" -o "$x/a.o" -MD
check depfile-external-lists-data same_content "$x/a.d" "$x/a.o: $x/add_ext.onnx $x/w.bin"$'\n'
check external-initializer-is-not-an-input grep -q '^#define ADD_EXT_NUM_INPUTS 1$' "$x/a.h"
# make reads the depfile: up to date after the compile, out of date once the
# external data changes.
if command -v make >/dev/null; then
  printf 'a.o: add_ext.onnx\n\t%s compile add_ext.onnx -o a.o -MD\n-include a.d\n' "$pare" >"$x/Makefile"
  (cd "$x" && "$pare" compile add_ext.onnx -o a.o -MD)
  check make-depfile-relative-content same_content "$x/a.d" "a.o: add_ext.onnx ./w.bin"$'\n'
  touch -d '2001-01-01' "$x/add_ext.onnx" "$x/w.bin"
  touch -d '2002-01-01' "$x/a.o" "$x/a.h" "$x/a.d"
  check make-up-to-date make -s -q -C "$x" a.o
  touch -d '2003-01-01' "$x/w.bin"
  check make-sees-external-data-change not make -s -q -C "$x" a.o
fi

# --- 4. reproducibility ------------------------------------------------------
r=$work/repro
mkdir -p "$r/first" "$r/other"
compile_repro() {
  "$pare" compile "$conv" -o "$r/c.o" -MD --name conv &&
    "$pare" compile "$conv" -o "$r/c.a" --emit static -MF "$r/c.a.d" --header "$r/ca.h" --name conv
}
check repro-first compile_repro
cp "$r/c.o" "$r/c.h" "$r/c.d" "$r/c.a" "$r/ca.h" "$r/c.a.d" "$r/first/"
check repro-second compile_repro
for f in c.o c.h c.d c.a ca.h c.a.d; do
  check "repro-identical-$f" cmp "$r/first/$f" "$r/$f"
done
# The object does not depend on where it is written.
"$pare" compile "$conv" -o "$r/other/c.o" --name conv
check repro-object-independent-of-folder cmp "$r/c.o" "$r/other/c.o"

# --- 5. failures leave nothing ---------------------------------------------
f=$work/fail
mkdir -p "$f/ro"
: >"$f/a-file"
chmod 0555 "$f/ro"
if touch "$f/ro/probe" 2>/dev/null; then
  # root (or CAP_DAC_OVERRIDE): permissions do not bite; a path under a
  # regular file is unwritable for everyone.
  rm -f "$f/ro/probe"
  fails unwritable-folder 1 "a-file/out.o.*(Not a directory|cannot write)" "$f/a-file/out.o" -- \
    "$pare" compile "$relu" -o "$f/a-file/out.o" -MD
else
  fails unwritable-folder 1 "ro/out.o.*(Permission denied|cannot write)" "$f/ro/out.o" -- \
    "$pare" compile "$relu" -o "$f/ro/out.o" -MD
  fails under-a-file 1 "a-file/out.o.*Not a directory" "$f/a-file/out.o" -- \
    "$pare" compile "$relu" -o "$f/a-file/out.o" -MD
fi
chmod 0755 "$f/ro"
fails missing-folder 1 "missing/out.o.*No such file" "$f/missing/out.o" -- \
  "$pare" compile "$relu" -o "$f/missing/out.o" -MD
fails nonsense-target 1 "nonsense-triple" "$f/nonsense-target.o" -- \
  "$pare" compile "$relu" -o "$f/nonsense-target.o" -MD --target nonsense-triple
fails native-cpu-cross-target 1 "native" "$f/native-cpu-cross-target.o" -- \
  "$pare" compile "$relu" -o "$f/native-cpu-cross-target.o" -MD --mcpu native --target aarch64-linux-gnu
fails unknown-cpu 1 "bogus-cpu" "$f/unknown-cpu.o" -- "$pare" compile "$relu" -o "$f/unknown-cpu.o" -MD --mcpu bogus-cpu
fails unknown-cpu-cross 1 "bogus-cpu" "$f/unknown-cpu-cross.o" -- \
  "$pare" compile "$relu" -o "$f/unknown-cpu-cross.o" -MD --mcpu bogus-cpu --target aarch64-linux-gnu
fails missing-model 1 "nope.onnx" "$f/missing-model.o" -- "$pare" compile "$f/nope.onnx" -o "$f/missing-model.o" -MD
head -c "$(($(wc -c <"$gemm") / 2))" "$gemm" >"$f/truncated.onnx"
fails truncated-model 1 "truncated.onnx.*not a valid ONNX model" "$f/truncated-model.o" -- \
  "$pare" compile "$f/truncated.onnx" -o "$f/truncated-model.o" -MD
unique=$node/test_unique_not_sorted_without_axis/model.onnx
if [ -f "$unique" ]; then
  fails unsupported-op 1 "Unique.*'Unique_0'" "$f/unsupported-op.o" -- "$pare" compile "$unique" -o "$f/unsupported-op.o" -MD
fi
# An op with a data-dependent output size: reported as unsupported, with its
# node, before the shapes it leaves unknown.
nms=$node/test_nonmaxsuppression_single_box/model.onnx
if [ -f "$nms" ]; then
  fails unsupported-dynamic-op 1 "NonMaxSuppression.*'NonMaxSuppression_0'" "$f/unsupported-dynamic-op.o" -- \
    "$pare" compile "$nms" -o "$f/unsupported-dynamic-op.o" -MD
fi
fails wrong-input-shape 1 "'x' is declared \\[3,4,5\\] but given \\[1,2,3\\]" "$f/wrong-input-shape.o" -- \
  "$pare" compile "$relu" -o "$f/wrong-input-shape.o" -MD --input-shape x=1,2,3
fails not-an-input 1 "'nosuch'.*not a graph input" "$f/not-an-input.o" -- \
  "$pare" compile "$relu" -o "$f/not-an-input.o" -MD --input-shape nosuch=1
fails bad-name-leaves-nothing 2 "--name" "$f/bad-name-leaves-nothing.o" -- "$pare" compile "$relu" -o "$f/bad-name-leaves-nothing.o" -MD --name 3bad
fails linker-fails 1 "'false'" "$f/linker-fails.so" -- env CC=false "$pare" compile "$relu" -o "$f/linker-fails.so" -MD --emit shared
mkdir -p "$work/nobin"
printf '#!/bin/sh\nexit 3\n' >"$work/nobin/ar"
chmod +x "$work/nobin/ar"
fails ar-fails 1 "'ar'" "$f/ar-fails.a" -- env PATH="$work/nobin:$PATH" "$pare" compile "$relu" -o "$f/ar-fails.a" -MD --emit static
# The output is a folder: neither it nor anything else may be published.
mkdir "$f/adir.o"
fails output-is-a-folder 1 "adir.o" "$f/adir.o" -- "$pare" compile "$relu" -o "$f/adir.o" -MD
check output-is-a-folder-kept [ -d "$f/adir.o" ]
# The depfile cannot be written: the object and header already renamed into
# place are taken back.
fails depfile-folder-missing 1 "nodir/dep.d" "$f/dep.o" -- "$pare" compile "$relu" -o "$f/dep.o" -MF "$f/nodir/dep.d"
# Different spellings of one path: the header must not overwrite the object.
s=$work/spell
mkdir -p "$s"
(cd "$s" && "$pare" compile "$relu" -o out.o --header ./out.o >/dev/null 2>&1)
check same-file-two-spellings-keeps-object is_elf_or_absent "$s/out.o"
# A header on another file system (tmpfs /dev/shm) than the object.
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$work")" ]; then
  shm=$(mktemp -d /dev/shm/pare-test.XXXXXX)
  expect header-other-filesystem 0 "^$" -- "$pare" compile "$relu" -o "$work/xdev.o" --header "$shm/xdev.h" -MF "$shm/xdev.d"
  check header-other-filesystem-written header_for "$shm/xdev.h" model
  rm -rf "$shm"
  shm=""
else
  echo "SKIP header-other-filesystem: no separate writable /dev/shm"
fi
# SIGTERM while the shared library is being linked (a $CC that takes its time
# and records its pid): the staging folder and everything in it must go.
sig=$work/sig
mkdir -p "$sig/out"
printf '#!/bin/sh\necho $$ >"%s/cc.pid"\nsleep 0.5\nexec %s "$@"\n' "$sig" "$cc" >"$sig/slowcc"
chmod +x "$sig/slowcc"
CC=$sig/slowcc "$pare" compile "$conv" -o "$sig/out/c.so" --emit shared -MD 2>/dev/null &
pid=$!
for ((i = 0; i < 1000; i++)); do
  [ -s "$sig/cc.pid" ] && break
  sleep 0.01
done
if [ -s "$sig/cc.pid" ]; then
  kill -TERM "$pid"
  wait "$pid"
  check sigterm-exit-status [ "$?" -eq 143 ]
  cc_pid=$(cat "$sig/cc.pid")
  for ((i = 0; i < 1000; i++)); do # the linker pare spawned finishes on its own
    kill -0 "$cc_pid" 2>/dev/null || break
    sleep 0.01
  done
  check sigterm-during-link-leaves-nothing empty_dir "$sig/out"
  empty_dir "$sig/out" || find "$sig/out" -mindepth 1 | sed 's/^/  | left /'
else
  wait "$pid"
  echo "SKIP sigterm-during-link: pare never ran \$CC"
fi

# --- 6. --stats ----------------------------------------------------------------
st=$work/stats
mkdir -p "$st"
# The lines are on stdout (pass statistics may follow on stderr).
stats=$("$pare" compile "$conv" -o "$st/c.o" --name conv --stats 2>/dev/null)
check stats-workspace-line grep -Eq '^  workspace +[0-9]+ bytes' <<<"$stats"
check stats-intermediates-line grep -Eq '^  intermediates +[0-9]+ bytes' <<<"$stats"
check stats-weights-line grep -Eq '^  weights +[0-9]+ bytes' <<<"$stats"
ws=$(awk '$1 == "workspace" {print $2}' <<<"$stats")
check stats-workspace-matches-header grep -q "^#define CONV_WORKSPACE_SIZE ${ws:-x}$" "$st/c.h"
check stats-absent-without-flag quiet "$pare" compile "$conv" -o "$st/e.o"

# --- the shared classifier: a symbolic input shape ----------------------------
if [ -n "$cls_model" ] && [ -f "$cls_model" ]; then
  c=$work/cls
  mkdir -p "$c/a" "$c/b"
  fails unbound-symbolic-shape 1 "'x'.*\\[\\?,3,\\?,\\?\\].*--input-shape" "$c/a/cls.o" -- \
    "$pare" compile "$cls_model" -o "$c/a/cls.o" -MD --name cls
  stats=$("$pare" compile "$cls_model" -o "$c/a/cls.o" -MD --name cls --input-shape x=1,3,48,192 --stats)
  check cls-compiles is_elf_rel "$c/a/cls.o"
  check cls-header-bound-shape grep -q '^#define CLS_INPUT_0_SHAPE {1, 3, 48, 192}$' "$c/a/cls.h"
  check cls-depfile same_content "$c/a/cls.d" "$c/a/cls.o: $cls_model"$'\n'
  ws=$(awk '$1 == "workspace" {print $2}' <<<"$stats")
  wb=$(awk '$1 == "weights" {print $2}' <<<"$stats")
  check cls-stats-workspace-positive [ "${ws:-0}" -gt 0 ]
  check cls-stats-workspace-matches-header grep -q "^#define CLS_WORKSPACE_SIZE ${ws:-x}$" "$c/a/cls.h"
  check cls-stats-weights-match-header grep -q "^#define CLS_WEIGHT_BYTES ${wb:-x} " "$c/a/cls.h"
  "$pare" compile "$cls_model" -o "$c/b/cls.o" --name cls --input-shape x=1,3,48,192
  check cls-reproducible-object cmp "$c/a/cls.o" "$c/b/cls.o"
  check cls-reproducible-header cmp "$c/a/cls.h" "$c/b/cls.h"
else
  echo "SKIP classifier cases: ${cls_model:-no CLS_MODEL given} not found"
fi

# --- 7. pare run --engine jit and aot ------------------------------------------
for case in test_relu test_gemm_default_vector_bias test_conv_with_strides_padding; do
  cd_=$node/$case
  for engine in jit aot; do
    expect "run-$case-$engine" 0 "^$" -- "$pare" run "$cd_/model.onnx" --inputs "$cd_/test_data_set_0" \
      --output "$work/run-$case-$engine" --engine "$engine"
  done
  check "run-$case-jit-equals-aot" cmp "$work/run-$case-jit/output_0.pb" "$work/run-$case-aot/output_0.pb"
done
expect run-engine-bogus 2 "--engine 'bogus': expected interp, jit or aot" -- \
  "$pare" run "$relu" --inputs "$node/test_relu/test_data_set_0" --output "$work/run-bogus" --engine bogus
check run-engine-bogus-no-output [ ! -e "$work/run-bogus" ]
if [ -n "$conformance" ] && [ -x "$conformance" ]; then
  for engine in jit aot; do
    expect "conformance-$engine" 0 "3 cases in scope.* 0 mismatched, 0 refused, 0 error, 0 crashed, 0 timeout" -- \
      "$conformance" --pare "$pare" --engine "$engine" --min-pass 1 --filter test_relu \
      --filter test_gemm_default_vector_bias --filter test_conv_with_strides_padding
  done
else
  echo "SKIP conformance comparison: no PARE_CONFORMANCE given"
fi

echo "$passed passed, $failed failed (${SECONDS}s)"
[ "$failed" -eq 0 ]
