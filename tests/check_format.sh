#!/usr/bin/env bash
# check_format.sh SOURCE_DIR - every tracked C file matches .clang-format.
set -u
cd "$1" || exit 1
bad=0
total=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*'); do
  total=$((total + 1))
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not clang-formatted: $f"
    bad=$((bad + 1))
  fi
done
echo "$((total - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
