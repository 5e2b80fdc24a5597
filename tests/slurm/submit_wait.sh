#!/usr/bin/env bash
# submit_wait.sh FILE.yaml: `sluice run` for an already running controller
# ($SLUICE_CONTROLLER) and agents: submits FILE, waits until the pipeline
# is no longer running, prints its final status table; exit 0 when done.
set -euo pipefail
out=$(sluice submit --json "$1")
id=$(sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p' <<<"$out")
[ -n "$id" ] || { echo "submit failed: $out" >&2; exit 1; }
echo "submitted pipeline #$id to $SLUICE_CONTROLLER"
limit=${SUBMIT_WAIT_LIMIT:-600}
end=$((SECONDS + limit))
while :; do
  st=$(sluice status --json "$id" | sed -n 's/^\[{"id":[0-9]*,"name":"[^"]*","state":"\([a-z]*\)".*/\1/p')
  [ "$st" != running ] && [ -n "$st" ] && break
  [ $SECONDS -lt $end ] || { echo "still running after $limit s"; SLUICE_NO_TTY=1 sluice status "$id"; exit 1; }
  sleep 0.2
done
SLUICE_NO_TTY=1 sluice status --once "$id" 2>/dev/null || SLUICE_NO_TTY=1 sluice status "$id"
[ "$st" = done ]
