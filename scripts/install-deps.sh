#!/usr/bin/env bash
# Installs exactly what the build, the tests and the local runner need, from
# Debian 12's own packages. Idempotent: installs only what is missing.
#   install-deps.sh               everything below
#   install-deps.sh --build-only  only what building the binaries needs
#                                 (deploy/Dockerfile's build stage)
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libhiredis-dev libsqlite3-dev libssl-dev libabsl-dev libgoogle-glog-dev rapidjson-dev
  libsodium-dev
  liblua5.4-dev
  # each service's Prometheus endpoint (--metrics_addr); the runtime libraries
  # (libprometheus-cpp-*1.0, libcivetweb1) reach deploy/Dockerfile's runtime
  # stage through its ldd check
  prometheus-cpp-dev
  # jemalloc: the three services' malloc (CMakeLists.txt TM_JEMALLOC; the
  # runtime library libjemalloc2 reaches the image through its ldd check)
  libjemalloc-dev
)
PACKAGES=(
  "${BUILD_PACKAGES[@]}"
  # tests, fuzzing, lint, benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang clang-format libclang-rt-14-dev git
  # the mesh bus for tests and the local runner; openssl makes the CA and
  # certificates of the TLS tests and of deploy/run-local.sh --tls
  redis-server redis-tools sqlite3 openssl
  # validating deploy/docker-compose*.yml
  docker-compose
  # tests/python/sandbox_runner.py: a TeleClaude sandbox runner for the
  # Python cartridge tests (and deploy/run-local.sh --python-runner)
  python3
)

case "${1:-}" in
  "") ;;
  --build-only) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
  *) echo "usage: install-deps.sh [--build-only]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root or install sudo" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are absent or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
  $SUDO apt-get update -q
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# redis-server's package starts a system instance on :6379; the project never
# relies on it (tests start their own, the local runner starts its own).
echo "install-deps: done"
