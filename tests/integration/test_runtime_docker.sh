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

start_dockerd || { not_ok "dockerd did not start"; exit 1; }
ok "dockerd started (pid $_dk_pid, $DOCKER_HOST)"
# podman names it localhost/sluice/...: docker gets the name stages use
check "the locally built image loads into docker" \
  bash -c "podman save --format docker-archive sluice/busybox:0.1.0 | docker load -q &&
           docker tag localhost/sluice/busybox:0.1.0 sluice/busybox:0.1.0"
. "$(dirname "$0")/runtime_engine.sh"
