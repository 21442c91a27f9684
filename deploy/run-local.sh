#!/usr/bin/env bash
# Runs this computer's services (egress, ingress, installer) on a local Redis,
# without Docker. Builds first when the binaries are missing.
#
#   deploy/run-local.sh                    one computer, its own redis-server, foreground (Ctrl-C stops all)
#   deploy/run-local.sh --computers 3      a local mesh: alpha+beta in cluster "x", gamma with no cluster
#   deploy/run-local.sh --detach           start and return; it prints the stop command to use
#   deploy/run-local.sh stop               stop everything a previous run started (by PID); give it
#                                          the same --data-dir as the run
#   deploy/run-local.sh --tls              the same over TLS: its redis-server serves only TLS,
#                                          with a CA and certificates made in DATA_DIR/tls
#                                          (deploy/redis-tls-certs.sh); services use rediss://
#                                          and --redis_tls_ca (doc/tls.md)
#
# Options: --data-dir DIR (default ~/.teleclaude-local), --redis-url URL (use an
# existing Redis instead of starting one), --redis-port N (default 6390),
# --base-port N (first service port, default 50051), --cartridge-install L1|L2|L3,
# --build-dir DIR (default build). Every option is checked, and every port must
# be free, before anything starts.
#
# Python cartridges (doc/cartridges.md) need a TeleClaude sandbox runner per
# computer; without one they show as "not running" and events flow without them:
#   --python-runner test       start tests/python/sandbox_runner.py (a small runner
#                              that follows TeleClaude's) for each computer
#   --python-runner DIR        start TeleClaude's own runner from a checkout DIR
#                              (python3 -m teleclaude.events.sandbox; its
#                              dependencies must import with this python3; its
#                              first call after each start fails without the
#                              daemon's dependencies and TELECLAUDE_CONFIG_PATH:
#                              doc/cartridges.md)
#   --python-runner-socket S   one computer: point egress at a runner already
#                              listening on the Unix socket S
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_DATA_DIR="${HOME}/.teleclaude-local"
DATA_DIR="$DEFAULT_DATA_DIR"
REDIS_URL=""
REDIS_PORT=6390
BASE_PORT=50051
TLS=0
COMPUTERS=1
DETACH=0
LEVEL=L1
BUILD_DIR="$ROOT/build"
CMD=run
PY_RUNNER=""
PY_SOCKET=""

# The comment block at the top of this file, without the '#'s.
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; }
bad() { echo "run-local: $*" >&2; exit 2; }
# An option's value: $1 the option, then the rest of the command line (an
# option where the value should be means the value was left out).
need() { [ $# -ge 2 ] && [ "${2#--}" = "$2" ] || bad "$1 needs a value (see --help)"; }

while [ $# -gt 0 ]; do
  case "$1" in
    stop) CMD=stop ;;
    --computers) need "$@"; COMPUTERS=$2; shift ;;
    --data-dir) need "$@"; DATA_DIR=$2; shift ;;
    --redis-url) need "$@"; REDIS_URL=$2; shift ;;
    --redis-port) need "$@"; REDIS_PORT=$2; shift ;;
    --base-port) need "$@"; BASE_PORT=$2; shift ;;
    --tls) TLS=1 ;;
    --cartridge-install) need "$@"; LEVEL=$2; shift ;;
    --build-dir) need "$@"; BUILD_DIR=$2; shift ;;
    --detach) DETACH=1 ;;
    --python-runner) need "$@"; PY_RUNNER=$2; shift ;;
    --python-runner-socket) need "$@"; PY_SOCKET=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
[ -n "$DATA_DIR" ] || bad "--data-dir must not be empty"
case "$COMPUTERS" in (''|*[!0-9]*) bad "--computers must be a number 1..9, got '$COMPUTERS'";; esac
if [ "$COMPUTERS" -lt 1 ] || [ "$COMPUTERS" -gt 9 ]; then bad "--computers must be 1..9, got $COMPUTERS"; fi
for opt in "--redis-port $REDIS_PORT" "--base-port $BASE_PORT"; do
  n=${opt#* }
  case "$n" in (''|*[!0-9]*) bad "${opt%% *} must be a port number 1..65535, got '$n'";; esac
  if [ "${#n}" -gt 5 ] || [ "$n" -lt 1 ] || [ "$n" -gt 65535 ]; then bad "${opt%% *} must be a port number 1..65535, got $n"; fi
done
LAST_PORT=$((BASE_PORT + 10 * (COMPUTERS - 1) + 2))
if [ "$LAST_PORT" -gt 65535 ]; then
  bad "--base-port $BASE_PORT leaves no room for $COMPUTERS computer(s) (ports up to $LAST_PORT); use a lower one"
fi
case "$LEVEL" in (L1|L2|L3|l1|l2|l3) ;; (*) bad "--cartridge-install must be L1, L2 or L3, got '$LEVEL'";; esac
case "$REDIS_URL" in
  (''|redis://*|rediss://*|unix://*) ;;
  (*) bad "--redis-url must be redis://HOST:PORT/DB, rediss://... or unix:///PATH, got '$REDIS_URL'";;
esac
if [ "$TLS" -eq 1 ] && [ -n "$REDIS_URL" ]; then
  echo "run-local: --tls starts its own TLS redis-server; for an existing one give --redis-url rediss://... and its CA as TELEC_REDIS_TLS_CA=FILE" >&2
  exit 2
fi
RUNNER_CMD=()
if [ "$CMD" = run ] && [ -n "$PY_RUNNER" ]; then
  [ -z "$PY_SOCKET" ] || bad "--python-runner and --python-runner-socket exclude each other"
  command -v python3 >/dev/null 2>&1 || bad "--python-runner needs python3 (apt-get install python3)"
  if [ "$PY_RUNNER" = test ]; then
    RUNNER_CMD=(python3 "$ROOT/tests/python/sandbox_runner.py")
  elif [ -d "$PY_RUNNER/teleclaude/events/sandbox" ]; then
    if ! why=$(cd "$PY_RUNNER" && python3 -c 'import teleclaude.events.sandbox.runner' 2>&1); then
      bad "--python-runner: TeleClaude's sandbox runner does not import from $PY_RUNNER with $(command -v python3): $(printf %s "$why" | tail -n 1) (install its dependencies, or use --python-runner test)"
    fi
    RUNNER_CMD=(env "PYTHONPATH=$PY_RUNNER" python3 -m teleclaude.events.sandbox)
  else
    bad "--python-runner must be 'test' or a TeleClaude checkout (with teleclaude/events/sandbox/), got '$PY_RUNNER'"
  fi
fi
if [ -n "$PY_SOCKET" ] && [ "$COMPUTERS" -gt 1 ]; then
  bad "--python-runner-socket serves one computer (a runner reads one cartridges dir); use --python-runner with --computers"
fi
PIDS_FILE="$DATA_DIR/run-local.pids"

# A process that has exited but is not reaped yet (a zombie: after --detach
# our children belong to whoever adopts orphans) still answers kill -0.
alive() { kill -0 "$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"; }

# The options a later `stop` needs to find this run (printed in hints).
STOP_CMD="deploy/run-local.sh stop"
[ "$DATA_DIR" = "$DEFAULT_DATA_DIR" ] || STOP_CMD+=" --data-dir $(printf %q "$DATA_DIR")"

# Stops what $PIDS_FILE records; sets STOPPED to how many were running.
STOPPED=0
stop_all() {
  [ -f "$PIDS_FILE" ] || return 0
  # Services first (reverse start order), Redis last.
  while read -r pid name; do
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
      alive "$pid" && { echo "run-local: $name ($pid) did not stop in 10 s, killing"; kill -KILL "$pid" 2>/dev/null || true; }
      echo "run-local: stopped $name ($pid)"
      STOPPED=$((STOPPED + 1))
    fi
  done < <(tac "$PIDS_FILE")
  rm -f "$PIDS_FILE"
}

# The data dirs of the run-local sets running now: a telec-* service whose
# --data_dir is DIR/NAME where DIR has a run-local.pids (this script's own
# record), one per line.
running_sets() {
  local cmdline arg dir
  for cmdline in /proc/[0-9]*/cmdline; do
    while IFS= read -r -d '' arg; do
      case "$arg" in
        --data_dir=*)
          dir=$(dirname "${arg#--data_dir=}")
          [ -f "$dir/run-local.pids" ] && echo "$dir"
          break ;;
      esac
    done 2>/dev/null <"$cmdline"
  done | sort -u
}

if [ "$CMD" = stop ]; then
  stop_all
  [ "$STOPPED" -gt 0 ] && exit 0
  # Nothing of this data dir ran; say so loudly when another set does run
  # (a stop without the --data-dir its run was given).
  others=$(running_sets | grep -vxF "$DATA_DIR" || true)
  if [ -n "$others" ]; then
    echo "run-local: nothing to stop in $DATA_DIR, but run-local services run with --data-dir $(echo $others); stop those with: deploy/run-local.sh stop --data-dir DIR" >&2
    exit 1
  fi
  echo "run-local: nothing to stop in $DATA_DIR"
  exit 0
fi

if [ -f "$PIDS_FILE" ]; then
  echo "run-local: a previous run is still recorded in $PIDS_FILE; run '$STOP_CMD' first" >&2
  exit 1
fi

# Every port this run listens on must be free (something answering on it
# would make a service or redis-server fail at start, or worse, talk to a
# stranger).
NAMES=(alpha beta gamma delta epsilon zeta eta theta iota)
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "$REDIS_URL" ] && in_use "$REDIS_PORT"; then
  echo "run-local: port $REDIS_PORT (redis-server) is in use on 127.0.0.1; choose another with --redis-port, or --redis-url to use that Redis" >&2
  exit 1
fi
for i in $(seq 0 $((COMPUTERS - 1))); do
  for k in 0 1 2; do
    port=$((BASE_PORT + 10 * i + k))
    if in_use "$port"; then
      svc=(egress ingress installer)
      echo "run-local: port $port (${NAMES[$i]}/${svc[$k]}) is in use on 127.0.0.1; choose another first port with --base-port" >&2
      exit 1
    fi
  done
done

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
  "${cli[@]}" ping >/dev/null 2>&1 || {
    echo "run-local: redis-server did not start on port $REDIS_PORT: $(tail -n 1 "$DATA_DIR/redis/redis.log" 2>/dev/null) (log: $DATA_DIR/redis/redis.log)" >&2
    stop_all; exit 1; }
  echo "run-local: redis-server on $REDIS_URL (data in $DATA_DIR/redis${TLS_FLAGS:+; CA $DATA_DIR/tls/ca.crt})"
fi

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
  # The sandbox runner reads the cartridges the installer writes
  # ({data_dir}/cartridges/{name}.py) and listens next to them.
  egress_flags=()
  runner_note="no python runner: Python cartridges show 'not running' (see --python-runner)"
  if [ ${#RUNNER_CMD[@]} -gt 0 ]; then
    sock="$dir/sandbox.sock"
    rm -f "$sock"
    SANDBOX_SOCKET_PATH="$sock" SANDBOX_CARTRIDGES_DIR="$dir/cartridges" \
      "${RUNNER_CMD[@]}" > "$dir/logs/python-runner.log" 2>&1 < /dev/null &
    echo "$! $name/python-runner" >> "$PIDS_FILE"
    egress_flags=(--python_runner_socket="$sock")
    runner_note="python runner at $sock ($PY_RUNNER)"
  elif [ -n "$PY_SOCKET" ]; then
    egress_flags=(--python_runner_socket="$PY_SOCKET")
    runner_note="python runner expected at $PY_SOCKET"
  fi
  for svc in installer egress ingress; do
    extra=()
    [ "$svc" = egress ] && extra=(${egress_flags[@]+"${egress_flags[@]}"})
    "$BIN/services/$svc/telec-$svc" "${common[@]}" ${extra[@]+"${extra[@]}"} > "$dir/logs/$svc.log" 2>&1 &
    echo "$! $name/$svc" >> "$PIDS_FILE"
  done
  echo "run-local: $name${cluster:+ (cluster $cluster)}: egress 127.0.0.1:$base, ingress :$((base + 1)), installer :$((base + 2)); logs in $dir/logs"
  echo "run-local: $name: $runner_note"
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

# telec finds a computer by its addresses and reads its owner token from
# its data dir (doc/security.md), so the hint sets both for alpha.
ENV_LINE="export PATH=$(printf %q "$BIN/cli/telec"):\$PATH TELEC_DATA_DIR=$(printf %q "$DATA_DIR/alpha")"
if [ "$BASE_PORT" -ne 50051 ]; then
  ENV_LINE+=" TELEC_EGRESS_ADDR=127.0.0.1:$BASE_PORT TELEC_INGRESS_ADDR=127.0.0.1:$((BASE_PORT + 1)) TELEC_INSTALLER_ADDR=127.0.0.1:$((BASE_PORT + 2))"
fi
cat <<MSG

Try it (telec talks to alpha; flags win over these variables):
  $ENV_LINE
  telec status
  telec events emit system.worker.crashed --payload '{"worker_name":"w1","timestamp":"t1"}'
  telec notifications list
MSG
if [ "$COMPUTERS" -gt 1 ]; then
  echo "(For beta: --egress_addr=127.0.0.1:$((BASE_PORT + 10)) --ingress_addr=127.0.0.1:$((BASE_PORT + 11)) --installer_addr=127.0.0.1:$((BASE_PORT + 12)) --data_dir=$(printf %q "$DATA_DIR/beta"); and so on, +10 per computer.)"
fi

if [ $DETACH -eq 1 ]; then
  echo "run-local: running in the background; stop with: $STOP_CMD"
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
