#!/usr/bin/env bash
# run-example.sh PARE MODEL - pare's main job on the bundled example: the
# PP-OCR text-orientation classifier on a text line, upright and upside down,
# first through the reference interpreter (`pare run`), then compiled to
# native code (`pare compile`) and linked into a small C program.
set -euo pipefail
pare=$1
model=$2
here=$(cd "$(dirname "$0")" && pwd)
tool=$(dirname "$pare")/examples/image_to_tensor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== pare inspect (summary)"
"$pare" inspect "$model" --input-shape x=1,3,48,192 | sed -n '/^# summary/,$p'

for variant in upright rotated; do
  mkdir -p "$work/$variant"
  flag=""
  [ "$variant" = rotated ] && flag=--rotate180
  "$tool" "$here/data/hello-line.pgm" "$work/$variant/input_0.pb" $flag
  "$pare" run "$model" --inputs "$work/$variant" --output "$work/$variant/out"
  # output_0.pb holds [1,2] float32 probabilities: (upright, rotated 180).
  read -r p0 p1 < <(tail -c 8 "$work/$variant/out/output_0.pb" | od -An -t f4)
  verdict=$(awk -v a="$p0" -v b="$p1" 'BEGIN { print (b > a) ? "180" : "0" }')
  printf '%-8s line: p(0)=%.4f p(180)=%.4f -> predicted orientation %s degrees\n' \
    "$variant" "$p0" "$p1" "$verdict"
done

# examples/cmake-app builds the same program with CMake (find_package(pare),
# pare_add_model); here it is linked by hand against the build tree.
echo "== pare compile"
"$pare" compile "$model" -o "$work/cls.o" --name cls --input-shape x=1,3,48,192 --stats
"${CC:-cc}" -std=c17 -O2 -I"$work" -I"$here/../runtime" "$here/cmake-app/main.c" "$work/cls.o" \
  "$(dirname "$pare")/libpare_rt.a" -lm -o "$work/orientation"
for variant in upright rotated; do
  printf '%-8s line, compiled: %s\n' "$variant" \
    "$("$work/orientation" "$work/$variant/input_0.pb" | paste -sd ' ')"
done
