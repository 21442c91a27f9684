#!/usr/bin/env bash
# Runs every libFuzzer target built by scripts/lint.sh for N seconds each
# (default 30), starting from the seed corpus in tests/fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-30}
BUILD_DIR=${LINT_BUILD_DIR:-build-clang}
shopt -s nullglob
targets=("$BUILD_DIR"/tests/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets in $BUILD_DIR/tests/fuzz; run scripts/lint.sh first" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  work=$(mktemp -d)
  seeds="tests/fuzz/corpus/${name#fuzz_}"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${SECONDS_EACH}s"
  "$t" -max_total_time="$SECONDS_EACH" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 "$work" 2>"$work.log" || {
    tail -n 60 "$work.log" >&2; echo "fuzz: $name FAILED" >&2; exit 1; }
  grep -E "stat::number_of_executed_units|Done" "$work.log" | tail -n 2
  rm -rf "$work" "$work.log"
done
echo "fuzz: all targets ran without a crash"
