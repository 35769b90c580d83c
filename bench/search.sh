#!/usr/bin/env bash
# search.sh [MODEL...] - the automatic-compression targets on the real models
# in ../shared: for each model, `pare compile --target-size P%` (the search,
# timed), then `pare eval --compressed` of the library on evaluation sets the
# search never saw, and a rebuild from the printed --passes compared byte for
# byte. MODEL: rec (15%, CER), det (20%, mask IoU at 0.3 against the
# original), cls (20%, accuracy), mnist (5%, accuracy); default all four.
#
# Calibration (and the search's held-out sets, by default the last fifth of
# them) and evaluation sets are kept apart: rec calibrates on 0-49 and is
# scored on 50-149, mnist on 0-39 and 40-79; cls calibrates on 0-29, searches
# on 30-49 (20 images: the default fifth, 10, is too few to see the
# borderline ones) and is scored on 50-149; det has two pages: it calibrates
# and searches on page 0 and is scored on page 1.
# Environment: BUILD_DIR, PARE, PARE_SHARED, SEARCH_FLAGS (added to every
# search, e.g. "--time-limit 300"). Takes about 30 minutes for all four.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
pare=${PARE:-$build/pare}
shared=${PARE_SHARED:-$root/../shared}
m=$shared/models d=$shared/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
read -ra extra <<<"${SEARCH_FLAGS:-}"

# run NAME MODEL SHAPE DATA CALIB EVALSETS TARGET SEARCHFLAGS EVALFLAGS...
run() {
  local name=$1 model=$2 shape=$3 data=$4 calib=$5 evalsets=$6 target=$7
  local -a flags
  read -ra flags <<<"$8"
  shift 8
  local t0 t1 rc
  t0=$(date +%s.%N)
  "$pare" compile "$model" --input-shape "$shape" --calib "$data" --calib-sets "$calib" \
    --target-size "$target" --emit shared -o "$work/$name.so" --name "$name" "${flags[@]}" "${extra[@]}" \
    >"$work/$name.out" 2>"$work/$name.err"
  rc=$?
  t1=$(date +%s.%N)
  if [ $rc -ne 0 ]; then
    printf '%-6s %-5s search failed (exit %d): %s\n' "$name" "$target" $rc "$(tail -1 "$work/$name.err")"
    return
  fi
  local sizes passes sets metric same
  sizes=$(sed -n 's/^search: weight bytes \([0-9]*\) -> \([0-9]*\) (\([0-9.]*\)%.*/\1 -> \2 (\3%)/p' "$work/$name.out")
  passes=$(sed -n 's/^passes: //p' "$work/$name.out")
  sets=$(sed -n 's/^calib-sets: //p' "$work/$name.out")
  metric=$("$pare" eval "$model" --input-shape "$shape" --compressed "$work/$name.so" --data "$data" \
    --sets "$evalsets" "$@" 2>/dev/null | sed -n 's/^metric [^:]*: /       /p')
  [ -n "$metric" ] || metric="       pare eval printed no metric"
  "$pare" compile "$model" --input-shape "$shape" --calib "$data" --calib-sets "$sets" \
    --passes "$passes" --emit shared -o "$work/$name-re.so" --name "$name" >/dev/null 2>&1 &&
    cmp -s "$work/$name.so" "$work/$name-re.so" && same=identical || same=DIFFERENT
  printf '%-6s %-5s %s  search %.0f s  rebuild %s\n' "$name" "$target" "$sizes" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$same"
  echo "$metric"
  grep -E "^search: (held-out|[0-9]+ candidates)" "$work/$name.out" | sed 's/^/       /'
  echo "       passes: $passes"
}

models=("$@")
[ ${#models[@]} -eq 0 ] && models=(mnist cls det rec)
for k in "${models[@]}"; do
  case $k in
  rec)
    run rec "$m/ppocr/ch_PP-OCRv4_rec_infer.onnx" x=1,3,48,320 "$d/ocr-rec" 0-49 50-149 15% "" \
      --metric ctc --labels "$d/ocr-rec/labels.txt" --vocab "$m/ppocr/ppocr_keys_v1.txt" ;;
  det)
    run det "$m/ppocr/ch_PP-OCRv4_det_infer.onnx" x=1,3,640,640 "$d/ocr-det" 0 1 20% "" --metric mask0.3 ;;
  cls)
    run cls "$m/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx" x=1,3,48,192 "$d/ocr-cls" 0-29 50-149 20% "--search-sets 30-49" \
      --metric top1 --labels "$d/ocr-cls/labels.txt" --label-map 0,180 ;;
  mnist)
    run mnist "$m/mnist/mnist-cnn.onnx" input=100,1,28,28 "$d/mnist" 0-39 40-79 5% "" \
      --metric top1 --labels "$d/mnist/labels.txt" ;;
  *) echo "unknown model '$k' (rec, det, cls, mnist)" >&2; exit 2 ;;
  esac
done
