#!/usr/bin/env bash
# sweep.sh [--quick] [--repeat N] [--only REGEX] [MODEL...] - sweep each compression pass's
# main knob on the real models in ../shared and print, per setting, the
# weight bytes, FLOPs and latency of the compiled code against the
# uncompressed build of the same model (measured in the same run), and the
# task metric on held-out sets. MODEL: rec (PP-OCRv4 recognizer, CER), cls
# (PP-OCR orientation classifier, accuracy), mnist (MNIST CNN, accuracy),
# det (PP-OCRv4 detector, IoU of the map above 0.3 against ONNX Runtime's;
# only 2 pages: calibrated on one, evaluated on the other); default all four.
# --only REGEX keeps the settings whose pipeline matches (grep -E).
#
# Per setting (nothing is hard-coded, every number is measured here):
#   1. `pare compile --emit shared --stats --report R.json` with the setting's
#      pipeline (plus --calib for settings marked calib): weight bytes from
#      --stats (the read-only data in the object: packed weights, scales,
#      codebooks, indices, biases), bits/w = 8 x those bytes / the model's
#      parameters before the pipeline (biases included), FLOPs from the
#      report's "after" totals (those of `pare inspect --report`);
#   2. bench/bench_run.c (build/bench/pare_bench_run) loads the library and
#      times REPEAT runs after a warm-up on test_data_set_0: the median;
#   3. build/tests/pare_real_models --engine jit --passes P on the evaluation
#      sets: CER (rec) or top-1 accuracy (cls, mnist).
# Calibration and evaluation sets are kept apart: rec/cls calibrate on sets
# 0-49 and evaluate on 50-149, mnist calibrates on 0-39 and evaluates on
# 40-79. The first row of each model is the uncompressed build on the same
# evaluation sets. A setting that fails (e.g. an option a pass does not have
# yet) prints its row with the error and the sweep goes on.
#
# Every pipeline, the uncompressed one included, starts with $SWEEP_PRE
# (default fold-batchnorm,cleanup,dce: lossless canonicalization, which the
# README asks for before prune). --quick runs the settings marked quick on
# fewer sets (a smoke test). Bits/w counts every parameter (biases and
# f32 layers at 32); the passes' own bits-per-weight figures (Conv/Gemm/
# MatMul weights only) are in pare_real_models' output and the --report.
# Environment: BUILD_DIR, PARE, PARE_SHARED,
# SWEEP_PRE, REPEAT (default 21, --quick 5). Run it under `nice` on a shared
# machine; latency is single-threaded and sensitive to other load.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
pare=${PARE:-$build/pare}
runner=$build/bench/pare_bench_run
real=$build/tests/pare_real_models
shared=${PARE_SHARED:-$root/../shared}
pre=${SWEEP_PRE-fold-batchnorm,cleanup,dce}

# ---------------------------------------------------------------------------
# Settings, one array per model: "[quick] [calib] PIPELINE" (PIPELINE has no
# spaces). calib: the passes get --calib DATA --calib-sets CALIB_SETS.
# quick: also run with --quick.
rec_settings=(
  "quick prune<sparsity=0.2>"
  "prune<sparsity=0.5>"
  "calib prune<sparsity=0.3>"
  "quick calib prune<sparsity=0.5>"
  "calib prune<sparsity=0.7>"
  "calib prune<sparsity=0.5194;min-size=13000>"
  "prune<pattern=2:4>"
  "calib prune<pattern=2:4>"
  "lowrank<energy=0.9>"
  "lowrank<energy=0.99>"
  "lowrank<energy=0.999>"
  "calib lowrank<energy=0.9;whiten=cholesky>"
  "calib lowrank<energy=0.99;whiten=cholesky>"
  "calib lowrank<energy=0.999;whiten=cholesky>"
  "prune-channels<ratio=0.1>"
  "prune-channels<ratio=0.2>"
  "prune-channels<ratio=0.3>"
  "calib prune-channels<ratio=0.1;score=activation>"
  "calib prune-channels<ratio=0.2;score=activation>"
  "calib prune-channels<ratio=0.3;score=activation>"
  "quantize<bits=8;method=rtn>"
  "quantize<bits=4;group=32;method=rtn>"
  "quick calib quantize<bits=4;group=32>"
  "calib quantize<bits=3;group=32>"
  "calib quantize<bits=auto;budget=4.5;candidates=3+4+5+6+8;sensitivity=proxy;outliers=0.0005>"
  "calib quantize<bits=auto;budget=5;candidates=4+5+6+8;group=32+64+128;sensitivity=proxy;outliers=0.0005>"
  "cluster<bits=5;shared-bits=8>"
  "calib cluster<bits=4;shared-bits=8>"
  "quick calib cluster<bits=3;shared-bits=6;outliers=0.002>"
  "calib w8a8"
  "calib w8a8<reduce-range=1>"
  "calib slice<ratio=0.25>,prune-channels<ratio=0.25;score=activation;layers=p2o.MatMul.24>"
  "calib slice<ratio=0.5>,prune-channels<ratio=0.5;score=activation;layers=p2o.MatMul.24>"
)
cls_settings=(
  "quick prune<sparsity=0.2>"
  "prune<sparsity=0.5>"
  "calib prune<sparsity=0.3>"
  "quick calib prune<sparsity=0.5>"
  "calib prune<sparsity=0.7>"
  "prune<pattern=2:4>"
  "calib prune<pattern=2:4>"
  "lowrank<energy=0.9>"
  "lowrank<energy=0.99>"
  "lowrank<energy=0.999>"
  "calib lowrank<energy=0.9;whiten=cholesky>"
  "calib lowrank<energy=0.99;whiten=cholesky>"
  "calib lowrank<energy=0.999;whiten=cholesky>"
  "prune-channels<ratio=0.1>"
  "prune-channels<ratio=0.2>"
  "prune-channels<ratio=0.3>"
  "calib prune-channels<ratio=0.1;score=activation>"
  "calib prune-channels<ratio=0.2;score=activation>"
  "calib prune-channels<ratio=0.3;score=activation>"
  "quantize<bits=4;group=32;method=rtn>"
  "quick calib quantize<bits=auto;budget=5;sensitivity=proxy>"
  "calib quantize<bits=auto;budget=4.5;sensitivity=proxy>"
  "cluster<bits=4>"
  "quick calib cluster<bits=4>"
  "calib w8a8"
)
mnist_settings=(
  "quick prune<sparsity=0.2>"
  "prune<sparsity=0.5>"
  "prune<sparsity=0.8;scope=global>"
  "prune<sparsity=0.9;scope=global>"
  "calib prune<sparsity=0.3>"
  "quick calib prune<sparsity=0.5>"
  "calib prune<sparsity=0.7>"
  "calib prune<sparsity=0.7;ops=conv;min-size=1000;damp=0.1>,prune<sparsity=0.6;min-size=2000;damp=0.1;ops=gemm>,prune<sparsity=0.8;min-size=2000;damp=0.1;ops=gemm>,prune<sparsity=0.9127;min-size=2000;damp=0.1;ops=gemm>"
  "prune<pattern=2:4>"
  "calib prune<pattern=2:4>"
  "quick lowrank<energy=0.9>"
  "lowrank<energy=0.99>"
  "lowrank<energy=0.999>"
  "calib lowrank<energy=0.9;whiten=cholesky>"
  "calib lowrank<energy=0.99;whiten=cholesky>"
  "calib lowrank<energy=0.999;whiten=cholesky>"
  "quick prune-channels<ratio=0.1>"
  "prune-channels<ratio=0.2>"
  "prune-channels<ratio=0.3>"
  "calib prune-channels<ratio=0.1;score=activation>"
  "calib prune-channels<ratio=0.2;score=activation>"
  "calib prune-channels<ratio=0.3;score=activation>"
  "quantize<bits=2;method=rtn>"
  "calib quantize<bits=2>"
  "quick calib quantize<bits=auto;budget=2;candidates=1+2+4+8;group=0+64>"
  "calib quantize<bits=auto;target-size=5%;candidates=1+2+4+8;group=0+64>"
  "cluster<bits=2>"
  "calib cluster<bits=2>"
  "calib w8a8"
)
det_settings=(
  "prune<sparsity=0.3>"
  "calib quantize<bits=8>"
  "calib quantize<bits=4;group=32>"
  "calib cluster<bits=4>"
  "quick calib w8a8"
  "calib w8a8<reduce-range=1>"
)

# Per model: ONNX file, data folder, input shape, calibration sets,
# evaluation sets (full / --quick), metric arguments of pare_real_models.
model_info() { # NAME -> sets m_file m_data m_shape m_calib m_eval m_metric
  case $1 in
  rec)
    m_file=$shared/models/ppocr/ch_PP-OCRv4_rec_infer.onnx m_data=$shared/data/ocr-rec
    m_shape=x=1,3,48,320
    m_metric=(--metric ctc --labels "$m_data/labels.txt" --vocab "$shared/models/ppocr/ppocr_keys_v1.txt")
    if ((quick)); then m_calib=0-9 m_eval=50-69; else m_calib=0-49 m_eval=50-149; fi ;;
  cls)
    m_file=$shared/models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx m_data=$shared/data/ocr-cls
    m_shape=x=1,3,48,192
    m_metric=(--metric top1 --labels "$m_data/labels.txt" --label-map 0,180)
    if ((quick)); then m_calib=0-9 m_eval=50-69; else m_calib=0-49 m_eval=50-149; fi ;;
  mnist)
    m_file=$shared/models/mnist/mnist-cnn.onnx m_data=$shared/data/mnist
    m_shape=input=100,1,28,28
    m_metric=(--metric top1 --labels "$m_data/labels.txt")
    if ((quick)); then m_calib=0-3 m_eval=40-47; else m_calib=0-39 m_eval=40-79; fi ;;
  det)
    m_file=$shared/models/ppocr/ch_PP-OCRv4_det_infer.onnx m_data=$shared/data/ocr-det
    m_shape=x=1,3,640,640
    m_metric=(--metric mask --mask-threshold 0.3)
    m_calib=0-0 m_eval=1-1 ;;
  *) return 1 ;;
  esac
}

quick=0
repeat=${REPEAT:-}
models=()
only=
while (($#)); do
  case $1 in
  --quick) quick=1 ;;
  --repeat) repeat=$2; shift ;;
  --only) only=$2; shift ;;
  -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  rec | cls | mnist | det) models+=("$1") ;;
  *) echo "sweep: unknown argument '$1' (models: rec cls mnist det)" >&2; exit 2 ;;
  esac
  shift
done
((${#models[@]})) || models=(rec cls mnist det)
[ -n "$repeat" ] || { ((quick)) && repeat=5 || repeat=21; }
for f in "$pare" "$runner" "$real"; do
  [ -x "$f" ] || { echo "sweep: $f not built (run scripts/setup.sh build)" >&2; exit 1; }
done
[ -d "$shared/models" ] || { echo "sweep: $shared/models not found" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
t_start=$(date +%s)

# One line from a failing command's stderr: the first "pare:"-style error.
first_error() {
  grep -v '^\s*$' "$1" | grep -m1 -iE 'error|unknown|pare|fail|usage' || head -1 "$1"
}

row() { # model calib bytes bytes_ratio bits mflops flops_ratio ms ms_ratio metric pipeline
  printf '%-5s %-6s %11s %6s %6s %9s %6s %8s %6s  %-30s %s\n' "$@"
}

# Sets base_* for the ratios of the model's rows.
run_setting() { # MODEL CALIB(0/1) PIPELINE(with prefix, may be empty) SHOWN BASELINE(0/1)
  local name=$1 use_calib=$2 pipe=$3 shown=$4 is_base=$5
  local popt=() copt=() cname=-
  [ -n "$pipe" ] && popt=(--passes "$pipe")
  if ((use_calib)); then
    copt=(--calib "$m_data" --calib-sets "$m_calib")
    cname=$m_calib
  fi
  local so=$out/$name.so rep=$out/$name.json err=$out/err
  rm -f "$so" "$rep"
  if ! "$pare" compile "$m_file" --input-shape "$m_shape" "${popt[@]}" "${copt[@]}" --emit shared \
      --name m --stats --report "$rep" -o "$so" >"$out/stats" 2>"$err"; then
    row "$name" "$cname" - - - - - - - "ERROR: $(first_error "$err")" "$shown"
    return 1
  fi
  local bytes flops params ms res metric
  bytes=$(sed -n 's/^ *weights *\([0-9]*\) bytes.*/\1/p' "$out/stats")
  flops=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["after"]["flops"])' "$rep" \
    2>/dev/null || echo -)
  params=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["before"]["parameters"])' \
    "$rep" 2>/dev/null || echo -)
  if res=$("$runner" "$so" m "$m_data/test_data_set_0" "$repeat" 2>"$err"); then
    ms=$(sed -n 's/^pare_ms //p' <<<"$res")
  else
    ms=- metric="ERROR (latency): $(first_error "$err")"
  fi
  if res=$("$real" --model "$m_file" --data "$m_data" "${m_metric[@]}" --engine jit --atol 1000 \
      --sets "$m_eval" "${popt[@]}" "${copt[@]}" 2>"$err"); then
    metric=${metric:-$(sed -n 's/.*\(CER [0-9.]* ([0-9]*\/[0-9]*)\), exact \([0-9.]*\) .*/\1 exact \2/p;
      s/.*, top1 \([0-9.]* ([0-9]*\/[0-9]*)\).*/top1 \1/p
      s/.*, \(IoU [0-9.]*\) .*/\1/p' <<<"$res" | head -1)}
    [ -n "$metric" ] || metric="ERROR (metric): $(grep -m1 -v passes <<<"$res")"
  else
    metric="ERROR (metric): $( (grep -h -m1 -iE 'error|fail|unknown|pare' "$err"; echo "$res" |
      grep -m1 -iE 'fail|error') | head -1)"
  fi
  if ((is_base)); then base_bytes=$bytes base_flops=$flops base_ms=$ms; fi
  awk -v n="$name" -v c="$cname" -v b="$bytes" -v bb="$base_bytes" -v f="$flops" \
    -v bf="$base_flops" -v t="$ms" -v bt="$base_ms" -v m="$metric" -v p="$shown" -v w="$params" '
    function ratio(x, y) { return (x == "-" || y == "-" || y + 0 == 0) ? "-" : sprintf("%.3f", x / y) }
    BEGIN {
      printf "%-5s %-6s %11s %6s %6s %9s %6s %8s %6s  %-30s %s\n", n, c, b, ratio(b, bb),
        (b == "" || w == "-" || w + 0 == 0) ? "-" : sprintf("%.2f", 8 * b / w),
        (f == "-" ? "-" : sprintf("%.2f", f / 1e6)), ratio(f, bf),
        (t == "-" ? "-" : sprintf("%.2f", t)), ratio(t, bt), m, p }'
}

printf 'pare compression sweep: %s; latency median of %d runs, 1 thread; every pipeline starts with "%s"\n' \
  "$( ((quick)) && echo quick || echo full)" "$repeat" "$pre"
row model calib "weight B" "xbase" "bits/w" "MFLOPs" "xbase" "ms" "xbase" "metric (eval sets)" pipeline
for name in "${models[@]}"; do
  model_info "$name"
  declare -n settings=${name}_settings
  base_bytes=- base_flops=- base_ms=-
  echo "# $name: $(basename "$m_file"), input $m_shape, calibration sets $m_calib, evaluation sets $m_eval"
  run_setting "$name" 0 "$pre" "(uncompressed)" 1
  for s in "${settings[@]}"; do
    read -ra words <<<"$s"
    pipeline=${words[-1]} use_calib=0 is_quick=0
    for w in "${words[@]:0:${#words[@]}-1}"; do
      case $w in calib) use_calib=1 ;; quick) is_quick=1 ;; esac
    done
    ((quick && !is_quick)) && continue
    [ -n "$only" ] && ! grep -qE -- "$only" <<<"$pipeline" && continue
    run_setting "$name" "$use_calib" "${pre:+$pre,}$pipeline" "$pipeline" 0
  done
  unset -n settings
done
t_end=$(date +%s)
printf 'total %d s\n' $((t_end - t_start))
