#!/usr/bin/env bash
# A live agent is never declared lost. The controller declares a host lost
# after one controller lease period (--lease-ttl) without contact; a
# pipeline may give its tasks a much longer lease_ttl. An agent busy with
# long tasks (nothing to complete, long-polls that lease nothing) must still
# be seen: before the fix its heartbeats followed the pipeline's 30 s lease
# and its empty long-polls did not count, so the host was declared lost at
# ~2 s and the running task ran a second time elsewhere.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

start_controller --lease-ttl 2s
start_agent l1
start_agent l2

cat >"$TMP/long.yaml" <<YAML
name: long
lease_ttl: 30s
stages:
  - name: s
    command: [sh, -c, 'echo "\$1 start" >> $TMP/runs.log; sleep 7; echo "\$1 end" >> $TMP/runs.log', sh]
messages:
  - {to: s, key: "k{1..2}"}
YAML
id=$(submit "$TMP/long.yaml")
st=$(wait_pipeline "$id" 60)
check "long tasks under a short host timeout: pipeline done (state=$st)" [ "$st" = done ]
starts=$(grep -c ' start$' "$TMP/runs.log")
check "each long task started exactly once (starts=$starts, want 2)" [ "$starts" = 2 ]
lost=$(sql "SELECT count(*) FROM events WHERE kind IN ('host-lost','lease-expired')")
check "no host declared lost and no lease expired (events=$lost)" [ "$lost" = 0 ]
if [ "$lost" != 0 ]; then sql "SELECT kind, msg FROM events WHERE kind IN ('host-lost','lease-expired')" | sed 's/^/# /'; fi
