#!/usr/bin/env bash
# Runs this computer's services (egress, ingress, installer) on a local Redis,
# without Docker. Builds first when the binaries are missing.
#
#   deploy/run-local.sh                    one computer, its own redis-server, foreground (Ctrl-C stops all)
#   deploy/run-local.sh --computers 3      a local mesh: alpha+beta in cluster "x", gamma with no cluster
#   deploy/run-local.sh --detach           start and return; stop later with: deploy/run-local.sh stop
#   deploy/run-local.sh stop               stop everything a previous run started (by PID)
#   deploy/run-local.sh --tls              the same over TLS: its redis-server serves only TLS,
#                                          with a CA and certificates made in DATA_DIR/tls
#                                          (deploy/redis-tls-certs.sh); services use rediss://
#                                          and --redis_tls_ca (doc/tls.md)
#
# Options: --data-dir DIR (default ~/.teleclaude-local), --redis-url URL (use an
# existing Redis instead of starting one), --redis-port N (default 6390),
# --base-port N (first service port, default 50051), --cartridge-install L1|L2|L3,
# --build-dir DIR (default build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_DIR="${HOME}/.teleclaude-local"
REDIS_URL=""
REDIS_PORT=6390
BASE_PORT=50051
TLS=0
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
    --base-port) BASE_PORT=$2; shift ;;
    --tls) TLS=1 ;;
    --cartridge-install) LEVEL=$2; shift ;;
    --build-dir) BUILD_DIR=$2; shift ;;
    --detach) DETACH=1 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-local: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$COMPUTERS" in (''|*[!0-9]*) echo "run-local: --computers must be a number 1..9, got '$COMPUTERS'" >&2; exit 2;; esac
if [ "$COMPUTERS" -lt 1 ] || [ "$COMPUTERS" -gt 9 ]; then
  echo "run-local: --computers must be 1..9, got $COMPUTERS" >&2; exit 2
fi
for n in "$REDIS_PORT" "$BASE_PORT"; do
  case "$n" in (''|*[!0-9]*) echo "run-local: ports must be numbers, got '$n'" >&2; exit 2;; esac
done
if [ "$TLS" -eq 1 ] && [ -n "$REDIS_URL" ]; then
  echo "run-local: --tls starts its own TLS redis-server; for an existing one give --redis-url rediss://... and its CA as TELEC_REDIS_TLS_CA=FILE" >&2
  exit 2
fi
PIDS_FILE="$DATA_DIR/run-local.pids"

# A process that has exited but is not reaped yet (a zombie: after --detach
# our children belong to whoever adopts orphans) still answers kill -0.
alive() { kill -0 "$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"; }

stop_all() {
  [ -f "$PIDS_FILE" ] || { echo "run-local: nothing to stop ($PIDS_FILE not found)"; return 0; }
  # Services first (reverse start order), Redis last.
  tac "$PIDS_FILE" | while read -r pid name; do
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
      alive "$pid" && { echo "run-local: $name ($pid) did not stop in 10 s, killing"; kill -KILL "$pid" 2>/dev/null || true; }
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

TLS_FLAGS=()
if [ -z "$REDIS_URL" ]; then
  mkdir -p "$DATA_DIR/redis"
  listen=(--port "$REDIS_PORT")
  cli=(redis-cli -p "$REDIS_PORT")
  scheme=redis
  if [ "$TLS" -eq 1 ]; then
    tls="$DATA_DIR/tls"
    [ -f "$tls/ca.crt" ] || "$ROOT/deploy/redis-tls-certs.sh" "$tls"
    listen=(--port 0 --tls-port "$REDIS_PORT" --tls-cert-file "$tls/server.crt"
            --tls-key-file "$tls/server.key" --tls-ca-cert-file "$tls/ca.crt" --tls-auth-clients optional)
    cli=(redis-cli --tls --cacert "$tls/ca.crt" -p "$REDIS_PORT")
    scheme=rediss
    TLS_FLAGS=(--redis_tls_ca="$tls/ca.crt")
  fi
  redis-server "${listen[@]}" --bind 127.0.0.1 --dir "$DATA_DIR/redis" \
    --appendonly yes --save "" --daemonize no --logfile "$DATA_DIR/redis/redis.log" </dev/null >/dev/null 2>&1 &
  echo "$! redis-server" >> "$PIDS_FILE"
  REDIS_URL="$scheme://127.0.0.1:$REDIS_PORT/0"
  for _ in $(seq 1 100); do "${cli[@]}" ping >/dev/null 2>&1 && break; sleep 0.1; done
  "${cli[@]}" ping >/dev/null 2>&1 || { echo "run-local: redis-server did not start; see $DATA_DIR/redis/redis.log" >&2; stop_all; exit 1; }
  echo "run-local: redis-server on $REDIS_URL (data in $DATA_DIR/redis${TLS_FLAGS:+; CA $DATA_DIR/tls/ca.crt})"
fi

NAMES=(alpha beta gamma delta epsilon zeta eta theta iota)
for i in $(seq 0 $((COMPUTERS - 1))); do
  name=${NAMES[$i]}
  cluster=""
  if [ "$COMPUTERS" -gt 1 ] && [ "$i" -lt 2 ]; then cluster=x; fi
  if [ "$COMPUTERS" -gt 3 ] && [ "$i" -ge 3 ]; then cluster=y; fi
  base=$((BASE_PORT + 10 * i))
  dir="$DATA_DIR/$name"
  mkdir -p "$dir/logs"
  common=(--computer_name="$name" --cluster="$cluster" --redis_url="$REDIS_URL" --data_dir="$dir"
          --egress_addr="127.0.0.1:$base" --ingress_addr="127.0.0.1:$((base + 1))"
          --installer_addr="127.0.0.1:$((base + 2))" --cartridge_install="$LEVEL" ${TLS_FLAGS[@]+"${TLS_FLAGS[@]}"})
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
  if ! alive "$pid"; then
    echo "run-local: $name exited at start; its log:" >&2
    log="$DATA_DIR/${name%/*}/logs/${name#*/}.log"; [ -f "$log" ] && tail -n 5 "$log" >&2
    failed=1
  fi
done < "$PIDS_FILE"
if [ $failed -eq 1 ]; then stop_all; exit 1; fi

ADDRS=""
if [ "$BASE_PORT" -ne 50051 ]; then
  ADDRS=" --egress_addr=127.0.0.1:$BASE_PORT --ingress_addr=127.0.0.1:$((BASE_PORT + 1)) --installer_addr=127.0.0.1:$((BASE_PORT + 2))"
fi
cat <<MSG

Try it:
  $BIN/cli/telec/telec status$ADDRS
  $BIN/cli/telec/telec events emit demo.hello --payload '{"n":1}' --visibility public$ADDRS
  $BIN/cli/telec/telec notifications list$ADDRS
(For the other computers add --egress_addr/--ingress_addr/--installer_addr, e.g. 127.0.0.1:$((BASE_PORT + 10)).)
MSG

if [ $DETACH -eq 1 ]; then
  echo "run-local: running in the background; stop with: deploy/run-local.sh stop"
  exit 0
fi
echo "run-local: running; Ctrl-C stops everything"
while true; do
  while read -r pid name; do
    if ! alive "$pid"; then
      echo "run-local: $name stopped unexpectedly; stopping the rest" >&2
      stop_all; exit 1
    fi
  done < "$PIDS_FILE"
  sleep 2
done
