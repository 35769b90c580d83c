#!/usr/bin/env bash
# test_report_html.sh PARE SHARED OUTDIR - the HTML report (--report
# FILE.html) rendered by headless Chromium (Debian's chromium).
#
# `pare compile` of the shared MNIST CNN with a pruning + low-rank pipeline
# writes the JSON and the HTML report at once; Chromium loads the page
# (--dump-dom) and the rendered DOM must hold one table row and one
# before/after bar pair per layer of the JSON report, one row per pass, and
# the "no search" note. Then a search array added to the JSON is drawn by
# `pare report` with its chosen point marked, and so is a real (small) search
# on MNIST. Screenshots of the pages go to OUTDIR (paths printed). The page
# must fetch nothing: no src=, href= or url(). SKIP without chromium or the
# shared model.
set -u
pare=$1
shared=$2
outdir=$3
model=$shared/models/mnist/mnist-cnn.onnx
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIP: chromium not found (Debian package chromium, see scripts/setup.sh)"
  exit 0
fi
if [ ! -f "$model" ]; then
  echo "SKIP: $model not found"
  exit 0
fi
mkdir -p "$outdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

# count PATTERN FILE: lines... occurrences of the fixed string in FILE.
count() { grep -oF -- "$1" "$2" | wc -l; }

# browse URL OUT.png DOM: the page's DOM after loading, and a screenshot.
browse() {
  local flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --user-data-dir="$work/profile")
  timeout 120 "$chromium" "${flags[@]}" --dump-dom "$1" >"$3" 2>"$work/chromium.log"
  timeout 120 "$chromium" "${flags[@]}" --screenshot="$2" --window-size=1200,1600 "$1" \
    >/dev/null 2>>"$work/chromium.log"
}

"$pare" compile "$model" -o "$work/m.o" --input-shape input=100,1,28,28 \
  --passes 'prune<sparsity=0.7;ops=conv>,lowrank<rank=32;ops=gemm>' \
  --report "$work/r.json" --report "$work/r.html" >/dev/null
check json-written test -s "$work/r.json"
check html-written test -s "$work/r.html"
check self-contained test "$(grep -cE 'src=|href=|url\(|@import' "$work/r.html")" -eq 0

layers=$(count '"weight_shape"' "$work/r.json")
removed=$(grep -cE '"removed":[[:space:]]*true' "$work/r.json")
passes=$(grep -cE '"changed":' "$work/r.json")
check mnist-has-layers test "$layers" -eq 4

browse "file://$work/r.html" "$outdir/report-mnist.png" "$work/dom.html"
check dom-loaded grep -q '<table id="layers">' "$work/dom.html"
check dom-layer-rows test "$(count '<tr class="layer' "$work/dom.html")" -eq "$layers"
check dom-bars-before test "$(count '<rect class="before"' "$work/dom.html")" -eq "$layers"
check dom-bars-after test "$(count '<rect class="after"' "$work/dom.html")" -eq $((layers - removed))
check dom-size-plot grep -q '<svg id="size-plot"' "$work/dom.html"
check dom-pass-rows test "$(count '<tr class="pass">' "$work/dom.html")" -eq "$passes"
check dom-pass-bars test "$(count '<svg class="time"' "$work/dom.html")" -eq "$passes"
check dom-no-search grep -q 'id="search-none"' "$work/dom.html"
# conv2 70% sparse, fc1 of rank 32 with its measured error in the table.
check dom-sparsity grep -q '<td>70%</td>' "$work/dom.html"
check dom-rank grep -q '<td>32</td>' "$work/dom.html"
check dom-error grep -qE '<td>0\.37[0-9]*</td>' "$work/dom.html"
check screenshot test -s "$outdir/report-mnist.png"
echo "screenshot: $outdir/report-mnist.png"

# A search's candidates: three points, the second chosen.
sed '0,/{/s//{\n"search": [{"bytes": 900000, "error": 0.02, "chosen": false}, {"bytes": 600000, "error": 0.05, "chosen": true}, {"bytes": 300000, "error": 0.3, "chosen": false}],/' \
  "$work/r.json" >"$work/search.json"
"$pare" report "$work/search.json" -o "$work/search.html"
check report-cmd test -s "$work/search.html"
browse "file://$work/search.html" "$outdir/report-search.png" "$work/dom2.html"
check dom-search-plot grep -q '<svg id="search-plot"' "$work/dom2.html"
check dom-search-points test "$(count '<circle class="pt"' "$work/dom2.html")" -eq 2
check dom-search-chosen test "$(count '<circle class="chosen"' "$work/dom2.html")" -eq 1
check dom-search-no-note test "$(count 'id="search-none"' "$work/dom2.html")" -eq 0
echo "screenshot: $outdir/report-search.png"

# A real search's report: every candidate it measured drawn, the chosen
# one marked, the chosen point's bytes those of the build (small menu and
# few steps to keep it quick; tests/cli/test_search.sh tests the search).
"$pare" compile "$model" -o "$work/s.so" --emit shared --input-shape input=100,1,28,28 \
  --calib "$shared/data/mnist" --calib-sets 0-9 --target-size 10% --generations 5 \
  --search-menu 'quantize<bits=8>,quantize<bits=4;group=32>,quantize<bits=2;group=64>' \
  --report "$work/s.json" --report "$work/s.html" >"$work/s.out" 2>"$work/s.err"
check search-compile test $? -eq 0
points=$(python3 -c "import json; print(len(json.load(open('$work/s.json'))['search']))")
browse "file://$work/s.html" "$outdir/report-search-mnist.png" "$work/dom3.html"
check real-search-points test "$(count '<circle class="pt"' "$work/dom3.html")" -eq $((points - 1))
check real-search-chosen test "$(count '<circle class="chosen"' "$work/dom3.html")" -eq 1
check real-search-layers test "$(count '<tr class="layer' "$work/dom3.html")" -eq 4
chosen=$(sed -n 's/^search: weight bytes [0-9]* -> \([0-9]*\) .*/\1/p' "$work/s.out")
check real-search-chosen-bytes grep -q "<title>$chosen bytes, error [0-9.e-]* (chosen)</title>" "$work/dom3.html"
echo "search: $points candidates; screenshot: $outdir/report-search-mnist.png"

# inspect and run take --report FILE.html too (the same pass-manager flag).
"$pare" inspect "$model" --input-shape input=100,1,28,28 --passes 'prune<sparsity=0.5>' \
  --report "$work/inspect.html" >/dev/null
check inspect-html test "$(count '<tr class="layer' "$work/inspect.html")" -eq 4
"$pare" run "$model" --inputs "$shared/data/mnist/test_data_set_0" --output "$work/run-out" \
  --passes 'prune<sparsity=0.5>' --report "$work/run.html" >/dev/null
check run-html test "$(count '<tr class="layer' "$work/run.html")" -eq 4

# Errors: not a report, wrong output extension.
echo '{}' >"$work/empty.json"
check report-not-a-report test "$("$pare" report "$work/empty.json" -o "$work/x.html" 2>&1)" = \
  "pare: $work/empty.json: not a pare JSON report (no \"layers\" array)"
"$pare" report "$work/r.json" -o "$work/x.txt" 2>/dev/null
check report-bad-extension test $? -eq 2

if [ "$failed" -ne 0 ]; then
  echo "chromium log:"
  tail -5 "$work/chromium.log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
