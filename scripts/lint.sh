#!/usr/bin/env bash
# Lint: clang-format check of our sources, then a clang build of all our code
# with -Wthread-safety -Werror (keeps the lock annotations honest) that also
# builds the libFuzzer targets (run them with scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null

mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v '^tests/fuzz/corpus')
bad=()
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "lint: clang-format would change these files (run: clang-format -i FILE):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "lint: clang-format ok (${#files[@]} files)"

# The compose files must stay valid (no Docker engine needed for this), for
# docker-compose v1 and, where installed, `docker compose` v2.
for f in deploy/*/docker-compose.yml; do
  docker-compose -f "$f" config -q || { echo "lint: $f is not a valid compose file" >&2; exit 1; }
  if docker compose version >/dev/null 2>&1; then
    docker compose -f "$f" config -q || { echo "lint: $f is not valid for docker compose v2" >&2; exit 1; }
  fi
done
echo "lint: docker-compose config ok"

BUILD_DIR=${LINT_BUILD_DIR:-build-clang}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DTM_THREAD_SAFETY=ON -DTM_FUZZ=ON -DTM_BUILD_TESTS=OFF -DTM_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}"
echo "lint: clang -Wthread-safety -Werror build ok"
