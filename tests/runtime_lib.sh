# Helpers for the container runtime tests (sourced after tests/lib.sh and
# tests/cluster.sh): installs the container packages (idempotent), builds the
# images, and removes at exit any container named after one of our agents
# (sluice-<agentpid>-...), so a failing test leaves nothing behind either.
#
#   need_containers TOOL...   installs/checks; prints a SKIP line and exits 0
#                             when that is impossible (not root, no network)
#   need_images               make images (cheap when nothing changed)
#   stop_agent PID            SIGTERM and wait: the agent's clean shutdown
#   our_containers            names of live containers of our agents
# $ENGINE (podman, the default, or docker) is the engine whose containers
# are looked for and removed.
_agent_pids_rt=()
need_containers() {
  local missing=0 t
  for t in "$@"; do command -v "$t" >/dev/null || missing=1; done
  if [ $missing = 1 ] || ! grep -q 'runtime = "runc"' /etc/containers/containers.conf 2>/dev/null; then
    if ! "$SLUICE_ROOT/scripts/install-deps.sh" --containers >"$TMP/install.log" 2>&1; then
      skip "container runtimes cannot be installed here ($(tail -n 1 "$TMP/install.log"))"
      exit 0
    fi
  fi
  for t in "$@"; do
    command -v "$t" >/dev/null || { skip "$t is not available after installation"; exit 0; }
  done
  export USER="${USER:-$(id -un)}"
}
need_images() {
  make -C "$SLUICE_ROOT" --no-print-directory images >"$TMP/images.log" 2>&1 ||
    { not_ok "make images"; tail -n 20 "$TMP/images.log"; exit 1; }
}
rt_agent() { # NAME [agent options]: start_agent that remembers the pid for cleanup
  start_agent "$@"
  local v="AGENT_PID_${1//-/_}"
  _agent_pids_rt+=("${!v}")
}
stop_agent() {
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}
our_containers() {
  local p
  for p in "${_agent_pids_rt[@]}"; do
    "${ENGINE:-podman}" ps -a --filter "name=^sluice-$p-" --format '{{.Names}}' 2>/dev/null
  done
}
_rt_cleanup() {
  local p
  for p in "${_agent_pids_rt[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${_agent_pids_rt[@]}"; do wait "$p" 2>/dev/null; done
  local left
  left=$(our_containers)
  [ -z "$left" ] || "${ENGINE:-podman}" rm -f $left >/dev/null 2>&1
  _cleanup
}
trap _rt_cleanup EXIT
# start_dockerd: a docker daemon of this test's own (Debian docker.io: no
# iptables, no bridge, data and exec roots and a unix socket under $TMP),
# exported as DOCKER_HOST; stopped by PID at exit after the agents and their
# containers, its mounts released before $TMP goes. Returns 1 with a message
# when it does not answer within 60 s.
start_dockerd() {
  _dk="$TMP/docker"
  mkdir -p "$_dk"
  dockerd --iptables=false --ip-forward=false --bridge=none --data-root "$_dk/root" \
    --exec-root "$_dk/exec" --pidfile "$_dk/pid" -H "unix://$_dk/docker.sock" >"$_dk/log" 2>&1 &
  _dk_pid=$!
  trap _stop_dockerd EXIT
  export DOCKER_HOST="unix://$_dk/docker.sock"
  wait_for 60 docker info >/dev/null 2>&1 || { echo "dockerd: $(tail -n 3 "$_dk/log" | tr '\n' ' ')"; return 1; }
}
_stop_dockerd() {
  set +e # a trap: every step runs, whatever the caller's -e says
  local p left
  for p in "${_agent_pids_rt[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${_agent_pids_rt[@]}"; do wait "$p" 2>/dev/null; done
  left=$(ENGINE=docker our_containers)
  [ -z "$left" ] || docker rm -f $left >/dev/null 2>&1
  kill -TERM "$_dk_pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$_dk_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$_dk_pid" 2>/dev/null
  wait "$_dk_pid" 2>/dev/null
  grep -o " $_dk/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done 2>/dev/null
  _rt_cleanup
}
# task_field ID COLUMN: one column of the tasks table
task_field() { sql "SELECT $2 FROM tasks WHERE id=$1"; }
task_id() { sql "SELECT id FROM tasks WHERE pipeline_id=$1 AND key='$2'"; }
