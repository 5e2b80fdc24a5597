#!/usr/bin/env bash
# test_mwa_e2e_podman.sh - the end-to-end MWA test pipeline (part A of
# tests/e2e/test_mwa_e2e.sh: pipelines/mwa-full.yaml on 3 local agents, data
# pulled between them) with every stage in a container: once with
# RUNTIME=process, once with RUNTIME=podman (the module images of
# `make images`, whose stage wrappers run in the base's bash + busybox), and
# once with RUNTIME=docker (a dockerd of the test's own, the same images
# loaded from podman), once with RUNTIME=charliecloud (ch-run of directory images made from the
# podman images by dockerfiles/ch-image.sh); each must find the pulsar and
# the detections must be the same. Afterwards `podman ps -a` shows no
# container of our agents. Installs what it needs (scripts/install-deps.sh
# --containers) and builds the images itself; SKIPs only when podman cannot
# be installed (charliecloud alone is skipped when ch-run is missing).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"
. "$(dirname "$0")/../runtime_lib.sh"
set -euo pipefail
cd "$SLUICE_ROOT"
t0=$SECONDS
need_containers podman docker dockerd
need_images
ok "podman installed, make images built the module images ($((SECONDS - t0)) s)"

runtimes="process podman"
if start_dockerd; then
  need_images # with DOCKER_HOST set, make images loads them into docker too
  ok "dockerd of our own, the module images loaded into it"
  runtimes="$runtimes docker"
else
  not_ok "dockerd did not start"
fi
if command -v ch-run >/dev/null; then
  export SLUICE_CH_IMAGES="$TMP/ch"
  chok=1
  for img in mwa-down unpack beam-maker down-sampler fits-merger presto-search; do
    dockerfiles/ch-image.sh "sluice/$img:0.1.0" >>"$TMP/ch.log" 2>&1 || chok=0
  done
  if [ "$chok" = 1 ]; then
    ok "charliecloud directory images of the 6 module images in $SLUICE_CH_IMAGES"
    runtimes="$runtimes charliecloud"
  else
    not_ok "dockerfiles/ch-image.sh of the module images"
    tail -n 5 "$TMP/ch.log" | sed 's/^/# /'
  fi
else
  skip "charliecloud: ch-run is not installed"
fi

# The e2e test's TAP lines, renumbered into ours; the agents' PIDs are
# collected to look for their containers afterwards.
t1=$SECONDS
E2E_ONLY=A E2E_RUNTIMES="$runtimes" E2E_PIDS_FILE="$TMP/pids" \
  bash tests/e2e/test_mwa_e2e.sh >"$TMP/e2e.out" 2>&1 || true
n=0
while IFS= read -r line; do
  case "$line" in
  "ok "*) ok "${line#ok * - }" && n=$((n + 1)) ;;
  "not ok "*) not_ok "${line#not ok * - }" && n=$((n + 1)) ;;
  "#"*) echo "$line" ;;
  esac
done <"$TMP/e2e.out"
[ "$n" -gt 0 ] || {
  not_ok "the e2e test reported nothing"
  tail -n 20 "$TMP/e2e.out" | sed 's/^/# /'
}
echo "# runtimes $runtimes: $((SECONDS - t1)) s"
grep -q "^ok .* - A: the same detection with runtimes $runtimes\$" "$TMP/e2e.out" ||
  not_ok "no comparison of the detections of $runtimes"

# The agents were children of `sluice run`; their containers are named
# sluice-<agentpid>-N (they have exited: only looked up, never signalled).
left="" np=0
while read -r p; do
  [ -n "$p" ] || continue
  np=$((np + 1))
  left+=$(podman ps -a --filter "name=^sluice-$p-" --format '{{.Names}} ')
  left+=$(docker ps -a --filter "name=^sluice-$p-" --format '{{.Names}} ' 2>/dev/null)
done <"$TMP/pids"
check "podman ps -a and docker ps -a show none of ours ($np agent and controller PIDs looked up)" [ "$np" -gt 0 -a -z "$left" ]
[ -z "$left" ] || { echo "# left: $left"; podman rm -f -t 0 $left >/dev/null 2>&1 || true; }
echo "# total $SECONDS s"
