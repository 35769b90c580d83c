#!/usr/bin/env bash
# test_cmake_app.sh BUILD_DIR SOURCE_DIR MODEL IMAGE_TO_TENSOR CONFIG
#
# The CMake package as a user meets it: `cmake --install` of BUILD_DIR into a
# temporary prefix, then examples/cmake-app configured against that prefix
# (find_package(pare), pare_add_model), built, and run on the example text
# line upright and rotated. Then the rebuild rules: nothing is recompiled
# when nothing changed, and the model is recompiled when the model file, the
# pare executable or the compile options change. Prints SKIP and passes when
# MODEL (the PP-OCR classifier) is absent.
set -euo pipefail
build=$1
src=$2
model=$3
image_to_tensor=$4
config=$5

if [ ! -f "$model" ]; then
  echo "SKIP: $model not found"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
app=$work/app
log=$work/log
obj=$app/pare/cls/cls.o

fail() {
  echo "FAIL: $*"
  [ -f "$log" ] && sed 's/^/  | /' "$log"
  exit 1
}

run() {
  "$@" >"$log" 2>&1 || fail "$*"
}

run cmake --install "$build" --prefix "$prefix" --config "$config"
# A copy, so that touching it leaves the shared model alone.
cp "$model" "$work/model.onnx"
run cmake -S "$src/examples/cmake-app" -B "$app" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DPARE_EXAMPLE_MODEL="$work/model.onnx"
grep -q "^pare_DIR:PATH=$prefix/" "$app/CMakeCache.txt" || fail "find_package(pare) did not find $prefix"
echo "ok: configured against $prefix"

run cmake --build "$app"
grep -q "pare compile cls" "$log" || fail "the first build did not compile the model"
echo "ok: built"

"$image_to_tensor" "$src/examples/data/hello-line.pgm" "$work/upright.pb"
"$image_to_tensor" "$src/examples/data/hello-line.pgm" "$work/rotated.pb" --rotate180
expect_orientation() {
  "$app/orientation" "$1" >"$log" 2>&1 || fail "orientation $1"
  grep -qx "orientation: $2" "$log" || fail "$1: expected orientation $2"
  echo "ok: $(basename "$1") -> orientation $2 ($(head -n 1 "$log"))"
}
expect_orientation "$work/upright.pb" 0
expect_orientation "$work/rotated.pb" 180

# Inode and mtime: pare writes a new file and renames it into place. The
# Makefile generator deletes the object when its rule changed, at configure.
stamp() { stat -c '%i %y' "$obj" 2>/dev/null || echo missing; }

# expect_rebuild WHAT yes|no: builds and checks whether the model was
# recompiled, both by make/ninja's COMMENT line and by a new object file.
expect_rebuild() {
  local before
  before=$(stamp)
  run cmake --build "$app"
  local said=no changed=no
  grep -q "pare compile cls" "$log" && said=yes
  [ "$(stamp)" != "$before" ] && changed=yes
  if [ "$said" != "$2" ] || [ "$changed" != "$2" ]; then
    fail "$1: expected recompile=$2, build output says $said, object changed $changed"
  fi
  echo "ok: $1 -> recompiled: $2"
}

expect_rebuild "unchanged" no
# A second's pause, so that the touch is newer even where file times have
# one-second resolution.
sleep 1
touch "$work/model.onnx"
expect_rebuild "model touched" yes
expect_rebuild "unchanged after the model rebuild" no
sleep 1
touch "$prefix/bin/pare"
expect_rebuild "pare executable touched" yes
run cmake "$app" -DPARE_EXAMPLE_OPTIONS=-O2
expect_rebuild "OPTIONS -O2" yes
run cmake "$app" -DPARE_EXAMPLE_OPTIONS=-O2
expect_rebuild "reconfigured with the same OPTIONS" no
expect_orientation "$work/upright.pb" 0
echo "PASS"
