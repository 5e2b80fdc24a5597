#!/usr/bin/env bash
# bench/run.sh - every benchmark of the project, one after the other
# (`make bench`). Each prints its figure beside the limit it chases,
# measured in the same run: these machines are shared and noisy, so ratios
# are what to compare between runs. BENCH=name runs only the matching ones.
set -u
cd "$(dirname "$0")/.."
only="${BENCH:-}"
run() { # name, command...
  local name="$1"; shift
  case "$name" in *"$only"*) ;; *) return 0 ;; esac
  echo "=== $name: $*"
  local t0=$SECONDS
  "$@" || echo "=== $name FAILED (exit $?)"
  echo "=== $name took $((SECONDS - t0)) s"; echo
}
run dispatch  bash bench/dispatch.sh
run dispatch_cpu bash bench/dispatch_cpu.sh
run rpc       build/bench/rpc_latency
run beam      build/bench/beam
run search    build/bench/search
run ingest    bash bench/ingest.sh
run manifest_hash build/bench/manifest_hash
run dataplane bash bench/dataplane.sh
run stream    bash bench/stream.sh
[ -f bench/runtime.sh ] && run runtime bash bench/runtime.sh
[ -f bench/campaign.sh ] && run campaign bash bench/campaign.sh
exit 0
