#!/usr/bin/env bash
# Builds the image and runs both compose files end to end, as a user would:
#   1. a Docker engine: ../shared/docker/make-base-images.sh when it exists
#      (starts one and makes debian:12, debian:12-slim and redis:7 where no
#      image registry is reachable); elsewhere the running engine, which pulls
#      the official images;
#   2. the image (deploy/Dockerfile);
#   3. deploy/teleclaude/docker-compose.yml: up, healthy, the log says where it
#      listens, non-root, ports on 127.0.0.1 only;
#   4. `telec status` and emit -> notification from the host;
#   5. the same inside the containers;
#   6. named volumes survive `down` / `up` (a notification and a Redis key);
#   7. deploy/teleclaude-mesh/docker-compose.yml: a public event emitted on
#      alpha becomes a notification on beta;
#   8. teardown: this check's own containers, volumes and networks.
# Each step prints its time; any failure names the step and exits 1. No engine
# means a loud failure, never a silent skip.
#
#   scripts/docker-check.sh [--keep-engine]
#     --keep-engine   leave running an engine this script started (by default
#                     it stops it again, leaving the machine as it found it)
# Environment: TELEC_BIN (the host's telec; default build/cli/telec/telec, then
# PATH, then the image's telec on the host network), DOCKER_CHECK_COMPOSE
# ("docker-compose" or "docker compose"; default v2 when present),
# MAKE_BASE_IMAGES (path of make-base-images.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

KEEP_ENGINE=0
for arg in "$@"; do
  case "$arg" in
    --keep-engine) KEEP_ENGINE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "docker-check: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

IMAGE=teleclaude-mesh:local
ONE_FILE=deploy/teleclaude/docker-compose.yml
MESH_FILE=deploy/teleclaude-mesh/docker-compose.yml
# Own project names: a user's running "teleclaude" stack and its volumes are
# never touched.
ONE_PROJECT=teleclaude-check
MESH_PROJECT=teleclaude-mesh-check
RUN_ID="check-$$-$RANDOM"
WORK=$(mktemp -d /tmp/docker-check.XXXXXX)
T0=$EPOCHREALTIME

# --- output ------------------------------------------------------------------
STEP="starting"
STEP_T0=$T0
STEP_N=0
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }
step() {
  STEP_N=$((STEP_N + 1))
  STEP="$1"
  STEP_T0=$EPOCHREALTIME
  echo "==> [$STEP_N] $STEP"
}
ok() { echo "    ok ($(elapsed "$STEP_T0"))"; }
say() { echo "    $*"; }
fail() {
  echo "docker-check: $*" >&2
  exit 1
}

# --- the engine --------------------------------------------------------------
find_base_script() {
  local common c
  common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
  for c in "${MAKE_BASE_IMAGES:-}" \
    "$ROOT/../shared/docker/make-base-images.sh" \
    ${common:+"$(dirname "$common")/../shared/docker/make-base-images.sh"}; do
    if [ -n "$c" ] && [ -x "$c" ]; then
      (cd "$(dirname "$c")" && echo "$PWD/$(basename "$c")")
      return 0
    fi
  done
  return 1
}

BASE_SCRIPT=""
ENGINE_STARTED_HERE=0
DOCKERD_PID=""
engine_up() { docker info >/dev/null 2>&1; }

stop_engine_if_ours() {
  [ "$ENGINE_STARTED_HERE" = 1 ] && [ "$KEEP_ENGINE" = 0 ] || return 0
  "$BASE_SCRIPT" --stop | sed 's/^/    /'
  # The next run must find it gone, not half-stopped (a second dockerd would
  # not start while this one still holds its pid file).
  if [ -n "$DOCKERD_PID" ]; then
    for _ in $(seq 120); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
      echo "docker-check: dockerd (pid $DOCKERD_PID) still running 60s after --stop" >&2
      return 1
    fi
  fi
}

# --- compose -----------------------------------------------------------------
COMPOSE=()
pick_compose() {
  if [ -n "${DOCKER_CHECK_COMPOSE:-}" ]; then
    read -r -a COMPOSE <<<"$DOCKER_CHECK_COMPOSE"
  elif docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null; then
    COMPOSE=(docker-compose)
  else
    fail "neither 'docker compose' (v2) nor docker-compose (v1) is installed"
  fi
}
one() { "${COMPOSE[@]}" -p "$ONE_PROJECT" -f "$ONE_FILE" "$@"; }
mesh() { "${COMPOSE[@]}" -p "$MESH_PROJECT" -f "$MESH_FILE" "$@"; }

# Free loopback ports for the published services (the defaults 50051... may
# be in use by deploy/run-local.sh or a user's own stack), below Linux's
# ephemeral range. Sets and exports each variable named.
USED_PORTS=" "
pick_ports() {
  local var p
  for var in "$@"; do
    for _ in $(seq 200); do
      p=$((20000 + RANDOM % 12000))
      case "$USED_PORTS" in *" $p "*) continue ;; esac
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || break
    done
    USED_PORTS="$USED_PORTS$p "
    printf -v "$var" %s "$p"
    export "${var?}"
  done
}

# Waits until every container of a project is healthy; fails on a restart or
# an unhealthy container, or after $2 seconds. $3 is the project's compose
# file: services behind a profile there (the Python sandbox runner) are not
# started by a plain `up`, so they are not waited for.
wait_healthy() {
  local project_fn=$1 limit=$2 file=$3 want ids id state restarts all deadline
  want=$(($($project_fn config --services | wc -l) - $(grep -c '^ *profiles:' "$file" || true)))
  deadline=$((SECONDS + limit))
  while :; do
    ids=$($project_fn ps -q)
    all=1
    state=""
    for id in $ids; do
      read -r name s restarts < <(docker inspect -f \
        '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}} {{.RestartCount}}' \
        "$id" 2>/dev/null) || { all=0; continue; }
      state="$state ${name#/}=$s"
      if [ "$s" = unhealthy ] || [ "$restarts" != 0 ]; then
        $project_fn logs --tail 30 >&2 || true
        fail "${name#/} is $s (restarts: $restarts)"
      fi
      [ "$s" = healthy ] || all=0
    done
    if [ "$all" = 1 ] && [ "$(echo "$ids" | grep -c .)" = "$want" ]; then return 0; fi
    if [ $SECONDS -ge $deadline ]; then
      $project_fn logs --tail 30 >&2 || true
      fail "not healthy after ${limit}s:$state"
    fi
    sleep 0.5
  done
}

# Runs "$@" until its output contains $1's text, for up to $2 seconds.
wait_output() {
  local text=$1 limit=$2 deadline out=""
  shift 2
  deadline=$((SECONDS + limit))
  while :; do
    out=$("$@" 2>&1 || true)
    if grep -qF -- "$text" <<<"$out"; then return 0; fi
    if [ $SECONDS -ge $deadline ]; then
      echo "$out" | sed 's/^/    | /' >&2
      fail "'$text' did not appear within ${limit}s in: $*"
    fi
    sleep 0.5
  done
}

# The host's telec: a built one, one on PATH, or the image's on the host's
# network (the same loopback ports a host binary would use).
HOST_TELEC=()
pick_host_telec() {
  if [ -n "${TELEC_BIN:-}" ]; then
    HOST_TELEC=("$TELEC_BIN")
  elif [ -x "$ROOT/build/cli/telec/telec" ]; then
    HOST_TELEC=("$ROOT/build/cli/telec/telec")
  elif command -v telec >/dev/null; then
    HOST_TELEC=("$(command -v telec)")
  else
    # As the host's user, with the work folder (the owner token) mounted.
    HOST_TELEC=(docker run --rm --network host --user "$(id -u):$(id -g)" -v "$WORK:$WORK:ro"
      -e TELEC_AUTH_TOKEN_FILE "$IMAGE" telec)
  fi
}
host_telec() { "${HOST_TELEC[@]}" "$@"; }

teardown() {
  local rc=0
  [ ${#COMPOSE[@]} -gt 0 ] && engine_up || return 0
  one down -v --remove-orphans >>"$WORK/teardown.log" 2>&1 || rc=1
  mesh down -v --remove-orphans >>"$WORK/teardown.log" 2>&1 || rc=1
  return $rc
}

on_exit() {
  local rc=$?
  trap - EXIT
  if [ $rc -ne 0 ]; then
    echo "" >&2
    echo "docker-check: FAILED at step $STEP_N ($STEP) after $(elapsed "$STEP_T0"); logs in $WORK" >&2
    if [ ${#COMPOSE[@]} -gt 0 ] && engine_up; then
      for project in one mesh; do
        [ -n "$($project ps -q 2>/dev/null)" ] || continue
        $project ps >&2 || true
        $project logs --no-color --tail 15 >&2 || true
      done
    fi
    teardown || echo "docker-check: teardown failed too; see $WORK/teardown.log" >&2
  fi
  stop_engine_if_ours || rc=1
  [ $rc -ne 0 ] || rm -rf "$WORK"
  exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# --- 1. engine ---------------------------------------------------------------
step "Docker engine and base images"
BASE_SCRIPT=$(find_base_script || true)
if ! command -v docker >/dev/null && [ -z "$BASE_SCRIPT" ]; then
  fail "NO DOCKER: no docker client and no make-base-images.sh next to the clone; the image was NOT checked"
fi
engine_up && was_up=1 || was_up=0
if [ -n "$BASE_SCRIPT" ]; then
  say "running $BASE_SCRIPT"
  base_rc=0
  "$BASE_SCRIPT" 2>&1 | sed 's/^/    | /' || base_rc=$?
  if [ "$was_up" = 0 ] && engine_up; then
    ENGINE_STARTED_HERE=1
    DOCKERD_PID=$(cat "${DOCKER_SCRATCH:-/var/tmp/docker-base}/dockerd.pid" 2>/dev/null || true)
  fi
  [ "$base_rc" = 0 ] || fail "NO DOCKER ENGINE: $BASE_SCRIPT failed (exit $base_rc); the image was NOT checked"
fi
if ! engine_up; then
  fail "NO DOCKER ENGINE: 'docker info' does not answer and no make-base-images.sh was found" \
    "next to the clone to start one; the image was NOT checked"
fi
pick_compose
teardown || true # leftovers of an interrupted run
say "engine $(docker version -f '{{.Server.Version}}'), $(docker info -f '{{.Driver}}') storage;" \
  "compose: ${COMPOSE[*]} $("${COMPOSE[@]}" version --short 2>/dev/null || true)" \
  "$([ "$ENGINE_STARTED_HERE" = 1 ] && echo '(engine started by this check)')"
ok

# --- 2. image ----------------------------------------------------------------
step "build $IMAGE ($ONE_FILE build: deploy/Dockerfile)"
# What `up --build` does: compose's own build (its context ../.. included).
if ! one build >"$WORK/build.log" 2>&1; then
  tail -n 40 "$WORK/build.log" | sed 's/^/    | /' >&2
  fail "the image build failed"
fi
# The first service's build does the work; the others find it all cached.
first=$(awk '/Successfully tagged/ { exit } { print }' "$WORK/build.log")
say "$(grep -c '^Step ' <<<"$first" || true) steps, $(grep -c 'Using cache' <<<"$first" || true) from cache"
say "runtime packages (from ldd): $(docker run --rm "$IMAGE" cat /usr/local/share/teleclaude-mesh/runtime-packages.txt | tr '\n' ' ')"
user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
say "image $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'), user $user"
[ "$user" = telec ] || fail "the image does not run as user telec"
ok

pick_host_telec
pick_ports EGRESS_PORT INGRESS_PORT INSTALLER_PORT
HOST_ADDRS=(--egress_addr="127.0.0.1:$EGRESS_PORT" --ingress_addr="127.0.0.1:$INGRESS_PORT"
  --installer_addr="127.0.0.1:$INSTALLER_PORT")

# --- 3. one computer ---------------------------------------------------------
step "one computer ($ONE_FILE): up and healthy"
one up -d >"$WORK/one-up.log" 2>&1 || { sed 's/^/    | /' "$WORK/one-up.log" >&2; fail "up failed"; }
wait_healthy one 120 "$ONE_FILE"
say "4 containers healthy $(elapsed "$STEP_T0") after 'up'"
for svc in egress:50051 ingress:50052 installer:50053; do
  name=${svc%%:*}
  port=${svc#*:}
  id=$(one ps -q "$name")
  grep -q "listening on 0.0.0.0:$port" <(docker logs "$id" 2>&1) ||
    fail "$name's log does not say 'listening on 0.0.0.0:$port'"
  published=$(docker port "$id" "$port/tcp")
  if [ -z "$published" ] || grep -qv '^127\.0\.0\.1:' <<<"$published"; then
    fail "$name publishes $port on '$published', not on 127.0.0.1 only"
  fi
  uid=$(docker exec "$id" id -u)
  [ "$uid" != 0 ] || fail "$name runs as root"
done
say "each service logs 'listening on 0.0.0.0:<port>', runs as uid $uid, publishes on 127.0.0.1 only"
# The host's telec authenticates with the computer's owner token (doc/security.md
# "Local RPC authentication"), copied out of the shared data volume as the README
# shows; the three services share it (one volume), so one token serves all.
one exec -T egress cat /data/owner.token >"$WORK/owner.token" || fail "cannot read /data/owner.token"
chmod 600 "$WORK/owner.token"
[ -s "$WORK/owner.token" ] || fail "/data/owner.token is empty"
export TELEC_AUTH_TOKEN_FILE="$WORK/owner.token"
say "owner token copied to the host ($(wc -c <"$WORK/owner.token") bytes, TELEC_AUTH_TOKEN_FILE)"
ok

# --- 4, 5. telec from the host and inside -----------------------------------
step "telec status and emit -> notification from the host (${HOST_TELEC[*]})"
host_telec "${HOST_ADDRS[@]}" status >"$WORK/status.txt" 2>&1 || { cat "$WORK/status.txt" >&2; fail "telec status failed"; }
sed 's/^/    | /' "$WORK/status.txt"
[ "$(grep -cE '(egress|ingress|installer) +127\.0\.0\.1:[0-9]+ +up' "$WORK/status.txt")" = 3 ] ||
  fail "telec status does not show the three services up"
out=$(host_telec "${HOST_ADDRS[@]}" events emit system.worker.crashed \
  --payload "{\"worker_name\":\"host-$RUN_ID\",\"timestamp\":\"t1\"}" --description "from the host $RUN_ID")
echo "$out" | sed 's/^/    | /'
grep -q 'notification [0-9]' <<<"$out" || fail "emit from the host created no notification"
wait_output "from the host $RUN_ID" 10 host_telec "${HOST_ADDRS[@]}" notifications list
ok

step "telec status and emit -> notification inside the containers"
one exec -T egress telec status >"$WORK/status-in.txt" 2>&1 || { cat "$WORK/status-in.txt" >&2; fail "telec status in a container failed"; }
[ "$(grep -cE '(egress|ingress|installer) +[a-z]+:[0-9]+ +up' "$WORK/status-in.txt")" = 3 ] ||
  { cat "$WORK/status-in.txt" >&2; fail "telec status in a container does not show the three services up"; }
out=$(one exec -T egress telec events emit system.worker.crashed \
  --payload "{\"worker_name\":\"container-$RUN_ID\",\"timestamp\":\"t2\"}" --description "inside a container $RUN_ID")
echo "$out" | sed 's/^/    | /'
grep -q 'notification [0-9]' <<<"$out" || fail "emit inside a container created no notification"
wait_output "inside a container $RUN_ID" 10 one exec -T ingress telec notifications list
one exec -T ingress telec notifications list | sed 's/^/    | /'
ok

# --- 6. volumes --------------------------------------------------------------
step "named volumes survive down / up"
[ "$(one exec -T redis redis-cli SET docker-check:marker "$RUN_ID")" = OK ] || fail "redis-cli SET failed"
volumes() { docker volume ls -q --filter "label=com.docker.compose.project=$ONE_PROJECT" | sort; }
before=$(volumes)
# redis-data, data, and sandbox-socket (the Python runner's, created by
# every `up` even when its profile is off): the compose file's own list.
declared=$(one config --volumes | grep -c .)
[ "$(echo "$before" | grep -c .)" = "$declared" ] ||
  fail "expected $declared named volumes ($(one config --volumes | tr '\n' ' ')), found: $before"
one down >"$WORK/one-down.log" 2>&1 || { cat "$WORK/one-down.log" >&2; fail "down failed"; }
[ -z "$(one ps -q)" ] || fail "containers left after down"
[ "$(volumes)" = "$before" ] || fail "volumes changed across down: $(volumes)"
up_t0=$EPOCHREALTIME
one up -d >"$WORK/one-up2.log" 2>&1 || { cat "$WORK/one-up2.log" >&2; fail "second up failed"; }
wait_healthy one 120 "$ONE_FILE"
say "healthy again $(elapsed "$up_t0") after 'up'"
[ "$(one exec -T redis redis-cli GET docker-check:marker)" = "$RUN_ID" ] || fail "the Redis key did not survive down/up"
list=$(host_telec "${HOST_ADDRS[@]}" notifications list)
if ! grep -q "from the host $RUN_ID" <<<"$list" || ! grep -q "inside a container $RUN_ID" <<<"$list"; then
  fail "notifications did not survive down/up: $list"
fi
say "$(echo "$before" | tr '\n' ' ')kept; the Redis key and both notifications are still there"
one down -v >"$WORK/one-down2.log" 2>&1 || { cat "$WORK/one-down2.log" >&2; fail "down -v failed"; }
ok

# --- 7. two computers --------------------------------------------------------
step "two computers ($MESH_FILE): a public event on alpha reaches beta"
pick_ports ALPHA_EGRESS_PORT ALPHA_INGRESS_PORT ALPHA_INSTALLER_PORT \
  BETA_EGRESS_PORT BETA_INGRESS_PORT BETA_INSTALLER_PORT
ALPHA=(--egress_addr="127.0.0.1:$ALPHA_EGRESS_PORT" --ingress_addr="127.0.0.1:$ALPHA_INGRESS_PORT"
  --installer_addr="127.0.0.1:$ALPHA_INSTALLER_PORT")
BETA=(--egress_addr="127.0.0.1:$BETA_EGRESS_PORT" --ingress_addr="127.0.0.1:$BETA_INGRESS_PORT"
  --installer_addr="127.0.0.1:$BETA_INSTALLER_PORT")
grep -qE "context: ($ROOT|$(pwd -P))\$" <(mesh config) || fail "$MESH_FILE does not build from the repository root"
mesh up -d >"$WORK/mesh-up.log" 2>&1 || { sed 's/^/    | /' "$WORK/mesh-up.log" >&2; fail "up failed"; }
wait_healthy mesh 120 "$MESH_FILE"
say "7 containers healthy $(elapsed "$STEP_T0") after 'up'"
# Each computer has its own owner token (in its own data volume).
for c in alpha beta; do
  mesh exec -T "$c-egress" cat /data/owner.token >"$WORK/$c.token" || fail "cannot read $c's owner token"
  chmod 600 "$WORK/$c.token"
done
ALPHA+=(--auth_token_file="$WORK/alpha.token")
BETA+=(--auth_token_file="$WORK/beta.token")
wait_output beta 30 host_telec "${ALPHA[@]}" peers
out=$(host_telec "${ALPHA[@]}" events emit system.worker.crashed --visibility public \
  --payload "{\"worker_name\":\"alpha-$RUN_ID\",\"timestamp\":\"t3\"}" --description "alpha to beta $RUN_ID")
echo "$out" | sed 's/^/    | /'
wait_output "alpha to beta $RUN_ID" 30 host_telec "${BETA[@]}" notifications list
host_telec "${BETA[@]}" notifications list | sed 's/^/    | beta: /'
ok

# --- 8. teardown -------------------------------------------------------------
step "teardown (this check's containers, volumes and networks$([ "$ENGINE_STARTED_HERE" = 1 ] && [ "$KEEP_ENGINE" = 0 ] && echo ', the engine it started'))"
mesh down -v --remove-orphans >"$WORK/mesh-down.log" 2>&1 || { cat "$WORK/mesh-down.log" >&2; fail "down -v failed"; }
for project in "$ONE_PROJECT" "$MESH_PROJECT"; do
  label="label=com.docker.compose.project=$project"
  left="$(docker ps -aq --filter "$label")$(docker volume ls -q --filter "$label")$(docker network ls -q --filter "$label")"
  [ -z "$left" ] || fail "$project left resources behind: $left"
done
stop_engine_if_ours || fail "the engine did not stop"
ENGINE_STARTED_HERE=0
ok

echo "docker-check: all $STEP_N steps passed in $(elapsed "$T0")"
