#!/usr/bin/env bash
# runtime: docker through a real controller and agent, the same checks as
# podman (runtime_engine.sh). The test starts its own dockerd (Debian's
# docker.io: no iptables, no bridge, its own data and exec roots and unix
# socket under $TMP), loads the locally built image into it from podman,
# and stops the daemon by PID at exit.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"
ENGINE=docker
. "$(dirname "$0")/../runtime_lib.sh"
need_containers podman docker dockerd
need_images

D="$TMP/docker"
mkdir -p "$D"
dockerd --iptables=false --ip-forward=false --bridge=none --data-root "$D/root" \
  --exec-root "$D/exec" --pidfile "$D/pid" -H "unix://$D/docker.sock" >"$D/log" 2>&1 &
DPID=$!
stop_dockerd() { # the agents and their containers first, then the daemon, then $TMP
  local p left
  for p in "${_agent_pids_rt[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${_agent_pids_rt[@]}"; do wait "$p" 2>/dev/null; done
  left=$(our_containers)
  [ -z "$left" ] || docker rm -f $left >/dev/null 2>&1
  kill -TERM "$DPID" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$DPID" 2>/dev/null
  wait "$DPID" 2>/dev/null
  # what the daemon left mounted (its netns file, overlays) goes before $TMP
  grep -o " $D/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done 2>/dev/null
  _cleanup
}
trap stop_dockerd EXIT
export DOCKER_HOST="unix://$D/docker.sock"
if ! wait_for 60 docker info >/dev/null 2>&1; then
  not_ok "dockerd did not start: $(tail -n 3 "$D/log" | tr '\n' ' ')"; exit 1
fi
ok "dockerd started (pid $DPID, socket $D/docker.sock)"
# podman names it localhost/sluice/...: docker gets the name stages use
check "the locally built image loads into docker" \
  bash -c "podman save --format docker-archive sluice/busybox:0.1.0 | docker load -q &&
           docker tag localhost/sluice/busybox:0.1.0 sluice/busybox:0.1.0"
. "$(dirname "$0")/runtime_engine.sh"
