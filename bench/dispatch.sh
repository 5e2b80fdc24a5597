#!/usr/bin/env bash
# bench/dispatch.sh - tasks per second through a real controller (SQLite WAL
# on disk) and 2 real agents on 127.0.0.1, and the ready -> running latency,
# each printed beside the limit it chases, measured in the same run:
#   1. no-op runtime (no process spawned): the controller's own throughput;
#      target >= 20,000 tasks/s.
#   2. /bin/true as the module: the whole path; target >= 60 % of the bare
#      fork+exec rate of this machine (bench/spawn_rate, 2 in parallel).
#   3. dispatch latency on an unloaded system: a 20-stage chain, 20 keys,
#      started - ready per task; target p50 < 5 ms (Scalebox polls every 6 s).
# usage: bench/dispatch.sh [NOOP_TASKS=100000] [TRUE_TASKS=5000]
set -euo pipefail
cd "$(dirname "$0")/.."
NOOP=${1:-100000}
TRUE_N=${2:-5000}
BIN=$PWD/build/bin
TMP=$(mktemp -d /tmp/sluice-bench.XXXXXX)       # durable state: on disk
SHM=$(mktemp -d /dev/shm/sluice-bench.XXXXXX)   # the agents' memory tiers
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$TMP" "$SHM"; }
trap cleanup EXIT

start() {
  "$BIN/sluice" controller --state "$TMP/state" --listen 127.0.0.1:0 --addr-file "$TMP/addr" \
    >"$TMP/controller.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 500); do [ -s "$TMP/addr" ] && break; sleep 0.01; done
  export SLUICE_CONTROLLER=$(cat "$TMP/addr")
  export SLUICE_TOKEN_FILE="$TMP/state/secrets/user.token" SLUICE_JOIN_TOKEN_FILE="$TMP/state/secrets/join.token"
  for a in b1 b2; do
    "$BIN/sluice" agent --name $a --dir "$TMP/$a" --mem "$SHM/$a" --max-inflight 8192 \
      >"$TMP/agent-$a.log" 2>&1 &
    pids+=($!)
  done
  sleep 0.5
}
sql() { sqlite3 "$TMP/state/sluice.db" "$1"; }
run() { # FILE -> pipeline id, waits until finished, prints wall seconds
  local t0 id st
  t0=$(date +%s.%N)
  id=$("$BIN/sluice" submit --json "$1" | sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p')
  while :; do
    st=$("$BIN/sluice" status --json "$id" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p' | head -1)
    [ "$st" != running ] && break
    sleep 0.05
  done
  [ "$st" = done ] || { echo "pipeline $1 ended $st" >&2; exit 1; }
  echo "$id $(echo "$(date +%s.%N) - $t0" | bc -l)"
}
pct() { # pipeline, percentile -> ms of started-ready
  sql "SELECT printf('%.2f', 1000*(started-ready)) FROM tasks WHERE pipeline_id=$1 ORDER BY started-ready LIMIT 1 OFFSET (SELECT CAST(count(*)*$2/100 AS INT) FROM tasks WHERE pipeline_id=$1)"
}

start
cat > "$TMP/noop.yaml" <<YAML
name: bench-noop
stages:
  - name: t
    runtime: noop
    slots: 4096
messages:
  - {to: t, key: "n{1..$NOOP}"}
YAML
read -r id wall < <(run "$TMP/noop.yaml")
span=$(sql "SELECT max(finished)-min(ready) FROM tasks WHERE pipeline_id=$id")
rate=$(echo "$NOOP / $span" | bc -l)
e2e=$(echo "$NOOP / $wall" | bc -l)
printf 'dispatch noop:  %8.0f tasks/s (ready->done span %.2f s; incl. submit of %d tasks: %.0f tasks/s)   target >= 20000 tasks/s: %s\n' \
  "$rate" "$span" "$NOOP" "$e2e" "$( (( $(echo "$rate >= 20000" | bc) )) && echo MET || echo NOT MET)"

# the machine is shared: measure the bare rate just before and just after,
# and compare with their mean
bare1=$(build/bench/spawn_rate 2 2 /bin/true)
cat > "$TMP/true.yaml" <<YAML
name: bench-true
stages:
  - name: t
    command: [/bin/true]
    slots: 4
messages:
  - {to: t, key: "n{1..$TRUE_N}"}
YAML
read -r id wall < <(run "$TMP/true.yaml")
bare2=$(build/bench/spawn_rate 2 2 /bin/true)
bare=$(( (bare1 + bare2) / 2 ))
span=$(sql "SELECT max(finished)-min(ready) FROM tasks WHERE pipeline_id=$id")
rate=$(echo "$TRUE_N / $span" | bc -l)
ratio=$(echo "100 * $rate / $bare" | bc -l)
printf 'dispatch /bin/true: %6.0f tasks/s vs bare fork+exec %6.0f /s (2 in parallel, mean of %s before and %s after) = %.0f %%   target >= 60 %%: %s\n' \
  "$rate" "$bare" "$bare1" "$bare2" "$ratio" "$( (( $(echo "$ratio >= 60" | bc) )) && echo MET || echo NOT MET)"

{
  echo "name: bench-latency"; echo "stages:"
  for i in $(seq 1 20); do
    echo "  - name: s$i"; echo "    runtime: noop"
    [ "$i" -lt 20 ] && echo "    emits: [s$((i + 1))]"
  done
  echo "messages:"; echo '  - {to: s1, key: "k{1..20}"}'
} > "$TMP/lat.yaml"
read -r id wall < <(run "$TMP/lat.yaml")
p50=$(pct "$id" 50); p99=$(pct "$id" 99)
printf 'dispatch latency (ready -> running, 400 tasks in 20-stage chains): p50 %s ms, p99 %s ms   target p50 < 5 ms: %s\n' \
  "$p50" "$p99" "$( (( $(echo "$p50 < 5" | bc) )) && echo MET || echo NOT MET)"
