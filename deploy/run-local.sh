#!/usr/bin/env bash
# Runs this computer's services (egress, ingress, installer) on a local Redis,
# without Docker. Builds first when the binaries are missing.
#
#   deploy/run-local.sh                    one computer, its own redis-server, foreground (Ctrl-C stops all)
#   deploy/run-local.sh --computers 3      a local mesh: alpha+beta in cluster "x", gamma with no cluster
#   deploy/run-local.sh --detach           start and return; stop later with: deploy/run-local.sh stop
#   deploy/run-local.sh stop               stop everything a previous run started (by PID)
#
# Options: --data-dir DIR (default ~/.teleclaude-local), --redis-url URL (use an
# existing Redis instead of starting one), --redis-port N (default 6390),
# --cartridge-install L1|L2|L3, --build-dir DIR (default build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_DIR="${HOME}/.teleclaude-local"
REDIS_URL=""
REDIS_PORT=6390
COMPUTERS=1
DETACH=0
LEVEL=L1
BUILD_DIR="$ROOT/build"
CMD=run

while [ $# -gt 0 ]; do
  case "$1" in
    stop) CMD=stop ;;
    --computers) COMPUTERS=$2; shift ;;
    --data-dir) DATA_DIR=$2; shift ;;
    --redis-url) REDIS_URL=$2; shift ;;
    --redis-port) REDIS_PORT=$2; shift ;;
    --cartridge-install) LEVEL=$2; shift ;;
    --build-dir) BUILD_DIR=$2; shift ;;
    --detach) DETACH=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-local: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$COMPUTERS" in (''|*[!0-9]*) echo "run-local: --computers must be a number 1..9, got '$COMPUTERS'" >&2; exit 2;; esac
if [ "$COMPUTERS" -lt 1 ] || [ "$COMPUTERS" -gt 9 ]; then
  echo "run-local: --computers must be 1..9, got $COMPUTERS" >&2; exit 2
fi
PIDS_FILE="$DATA_DIR/run-local.pids"

stop_all() {
  [ -f "$PIDS_FILE" ] || { echo "run-local: nothing to stop ($PIDS_FILE not found)"; return 0; }
  # Services first (reverse start order), Redis last.
  tac "$PIDS_FILE" | while read -r pid name; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && { echo "run-local: $name ($pid) did not stop in 10 s, killing"; kill -KILL "$pid" 2>/dev/null || true; }
      echo "run-local: stopped $name ($pid)"
    fi
  done
  rm -f "$PIDS_FILE"
}

if [ "$CMD" = stop ]; then stop_all; exit 0; fi

if [ -f "$PIDS_FILE" ]; then
  echo "run-local: a previous run is still recorded in $PIDS_FILE; run 'deploy/run-local.sh stop' first" >&2
  exit 1
fi

BIN="$BUILD_DIR"
need_build=0
for b in services/egress/telec-egress services/ingress/telec-ingress services/installer/telec-installer cli/telec/telec; do
  [ -x "$BIN/$b" ] || need_build=1
done
if [ $need_build -eq 1 ]; then
  echo "run-local: building (first run takes a few minutes)..."
  "$ROOT/scripts/install-deps.sh"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)"
fi

mkdir -p "$DATA_DIR"
: > "$PIDS_FILE"
trap 'echo; stop_all; exit 0' INT TERM

if [ -z "$REDIS_URL" ]; then
  mkdir -p "$DATA_DIR/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DATA_DIR/redis" \
    --appendonly yes --save "" --daemonize no --logfile "$DATA_DIR/redis/redis.log" </dev/null >/dev/null 2>&1 &
  echo "$! redis-server" >> "$PIDS_FILE"
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || { echo "run-local: redis-server did not start; see $DATA_DIR/redis/redis.log" >&2; stop_all; exit 1; }
  echo "run-local: redis-server on 127.0.0.1:$REDIS_PORT (data in $DATA_DIR/redis)"
fi

NAMES=(alpha beta gamma delta epsilon zeta eta theta iota)
for i in $(seq 0 $((COMPUTERS - 1))); do
  name=${NAMES[$i]}
  cluster=""
  if [ "$COMPUTERS" -gt 1 ] && [ "$i" -lt 2 ]; then cluster=x; fi
  if [ "$COMPUTERS" -gt 3 ] && [ "$i" -ge 3 ]; then cluster=y; fi
  base=$((50051 + 10 * i))
  dir="$DATA_DIR/$name"
  mkdir -p "$dir/logs"
  common=(--computer_name="$name" --cluster="$cluster" --redis_url="$REDIS_URL" --data_dir="$dir"
          --egress_addr="127.0.0.1:$base" --ingress_addr="127.0.0.1:$((base + 1))"
          --installer_addr="127.0.0.1:$((base + 2))" --cartridge_install="$LEVEL")
  # A local demo mesh mixes computers with and without a cluster; the default
  # trust mode (cluster) would make gamma trust nobody. Any live peer is
  # trusted here; a real mesh chooses its own --trust_mode.
  if [ "$COMPUTERS" -gt 1 ]; then common+=(--trust_mode=mesh); fi
  for svc in installer egress ingress; do
    "$BIN/services/$svc/telec-$svc" "${common[@]}" > "$dir/logs/$svc.log" 2>&1 &
    echo "$! $name/$svc" >> "$PIDS_FILE"
  done
  echo "run-local: $name${cluster:+ (cluster $cluster)}: egress 127.0.0.1:$base, ingress :$((base + 1)), installer :$((base + 2)); logs in $dir/logs"
done

sleep 1
failed=0
while read -r pid name; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run-local: $name exited at start; its log:" >&2
    log="$DATA_DIR/${name%/*}/logs/${name#*/}.log"; [ -f "$log" ] && tail -n 5 "$log" >&2
    failed=1
  fi
done < "$PIDS_FILE"
if [ $failed -eq 1 ]; then stop_all; exit 1; fi

cat <<MSG

Try it:
  $BIN/cli/telec/telec status
  $BIN/cli/telec/telec events emit demo.hello --payload '{"n":1}' --visibility public
  $BIN/cli/telec/telec notifications list
(For the other computers add --egress_addr/--ingress_addr/--installer_addr, e.g. 127.0.0.1:50061.)
MSG

if [ $DETACH -eq 1 ]; then
  echo "run-local: running in the background; stop with: deploy/run-local.sh stop"
  exit 0
fi
echo "run-local: running; Ctrl-C stops everything"
while true; do
  while read -r pid name; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run-local: $name stopped unexpectedly; stopping the rest" >&2
      stop_all; exit 1
    fi
  done < "$PIDS_FILE"
  sleep 2
done
