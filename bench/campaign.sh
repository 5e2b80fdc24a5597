#!/usr/bin/env bash
# bench/campaign.sh - the MWA campaign's shape through the real controller
# and real agents on this machine, with the `model` runtime: tasks sleep a
# scaled duration (published node-local seconds x SCALE) and write sparse
# outputs of the real sizes (MWA.md), so the cache catalog and the admission
# by budget see real bytes while the files cost nothing.
#
# Shape (Scalebox's plan, docs/campaign.md): 12,960 pointings in 9 batches of
# 1440 (`batch:`), 24 coarse channels, 30 s time ranges (160 in 4800 s):
#   pull   (batch, t)                       fetch the 30 s of 24 channels
#   unpack (batch, t, ch)   9,830,400,000 B  one channel, 30 s of raw voltages
#   beam   (batch, g, t, ch)  923,512,320 B  24 pointings (a group) from one read
#   down   (same)             230,878,080 B  /4 in time
#   merge  (batch, g, t)      gather of the 24 channels of a group (to archive)
# Everything of one (batch, t) stays on one host (host-bound): no pulls.
# All 12,960 pointings and 24 channels run, but only TIMES of the 160 time
# ranges (default 4); per-campaign figures are extrapolated and labelled so.
#
# Prints: tasks/s sustained, the controller's peak RSS and database size,
# peak intermediate bytes per host (catalog: replicas + reservations) against
# its budgets, and raw bytes read vs the naive once-per-pointing 434.5 PiB.
# usage: bench/campaign.sh   (env: TIMES=4 AGENTS=3 SCALE=1e-6)
set -euo pipefail
cd "$(dirname "$0")/.."
TIMES=${TIMES:-4}
AGENTS=${AGENTS:-3}
SCALE=${SCALE:-0.000001}
MEM_BUDGET=${MEM_BUDGET:-256GiB}  # /dev/shm share of a 512 GiB node
SSD_BUDGET=${SSD_BUDGET:-3TiB}    # local NVMe
BIN=$PWD/build/bin
TMP=$(mktemp -d /tmp/sluice-campaign.XXXXXX)
SHM=$(mktemp -d /dev/shm/sluice-campaign.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"; rm -rf "$SHM"
}
trap cleanup EXIT
sql() { sqlite3 "$TMP/state/sluice.db" "$1"; }

OBS=1257010784
T0=1257010986
T1=$((T0 + 30 * TIMES - 1))
secs() { # published seconds -> scaled, or nothing below 1 ms (finishes at once)
  awk -v s="$1" -v k="$SCALE" 'BEGIN { x = s * k; if (x >= 0.001) printf "%.6f", x }'
}
env_of() { local s; s=$(secs "$1"); [ -z "$s" ] || echo "env: {SLUICE_MODEL_SECONDS: \"$s\"}"; }

cat > "$TMP/campaign.yaml" <<YAML
name: campaign
lease_ttl: 1m
stages:
  - name: pull
    runtime: model
    slots: 2
    emits: [{to: unpack, key: "{key}/ch{109..132}"}]
  - name: unpack
    runtime: model
    placement: host-bound
    slots: 4
    output_size: 9830400000
    emits: [{to: beam, key: "{1}/{2}/{1..60:g%02d}/{3}/{4}"}]
  - name: beam
    runtime: model
    placement: host-bound
    slots: 8
    $(env_of 744.11)
    output_size: 923512320
    emits: [down]
  - name: down
    runtime: model
    placement: host-bound
    slots: 8
    $(env_of 3.67)
    output_size: 230878080
    emits: [{to: merge, key: "{1}/{2}/{3}/{4}"}]
  - name: merge
    runtime: model
    placement: host-bound
    slots: 4
    $(env_of 38.58)
    gather: 24
messages:
  - to: pull
    key: "$OBS/{1..12960..1440:p%05d_%05e}/{$T0..$T1..30:t%d_%e}"
    batch: $TIMES
YAML

"$BIN/sluice" controller --state "$TMP/state" --listen 127.0.0.1:0 --addr-file "$TMP/addr" \
  --lease-ttl 1m >"$TMP/controller.log" 2>&1 &
CTL_PID=$!
pids+=($CTL_PID)
for _ in $(seq 500); do [ -s "$TMP/addr" ] && break; sleep 0.01; done
export SLUICE_CONTROLLER=$(cat "$TMP/addr")
export SLUICE_TOKEN_FILE="$TMP/state/secrets/user.token" SLUICE_JOIN_TOKEN_FILE="$TMP/state/secrets/join.token"
for i in $(seq "$AGENTS"); do
  "$BIN/sluice" agent --name "node$i" --dir "$TMP/node$i" --mem "$SHM/node$i" \
    --ssd "$TMP/node$i/ssd" --mem-budget "$MEM_BUDGET" --ssd-budget "$SSD_BUDGET" \
    --max-inflight 4096 >"$TMP/agent-node$i.log" 2>&1 &
  pids+=($!)
done
sleep 0.5

t0=$(date +%s.%N)
id=$("$BIN/sluice" submit --json "$TMP/campaign.yaml" | sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p')
# sampler: catalog bytes per host and tier, database size, done count
peak_db=0
: >"$TMP/usage"
while :; do
  st=$("$BIN/sluice" status --json "$id" | sed -n 's/^\[{"id":[0-9]*,"name":"[^"]*","state":"\([a-z]*\)".*/\1/p')
  db=$(($(stat -c %s "$TMP/state/sluice.db") + $(stat -c %s "$TMP/state/sluice.db-wal" 2>/dev/null || echo 0)))
  [ "$db" -gt "$peak_db" ] && { peak_db=$db; peak_main=$(stat -c %s "$TMP/state/sluice.db"); }
  sql "SELECT h, t, sum(b) FROM (SELECT host h, tier t, size b FROM replicas UNION ALL
       SELECT host, tier, reserve FROM tasks WHERE state=1 AND reserve>0) GROUP BY h, t" \
    >>"$TMP/usage" 2>/dev/null || true
  [ "$st" != running ] && break
  sleep 0.5
done
t1=$(date +%s.%N)
[ "$st" = done ] || { echo "campaign pipeline ended $st"; "$BIN/sluice" status --once "$id"; "$BIN/sluice" tasks --pipeline "$id" --state failed | head -5; "$BIN/sluice" logs "$("$BIN/sluice" tasks --pipeline "$id" --state failed | awk "NR==2{print \$1}")" | head; sql "SELECT * FROM events WHERE kind NOT IN ('batch')" | tail -5; exit 1; }
hwm_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$CTL_PID/status")
rss_kb=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$CTL_PID/status")

wall=$(echo "$t1 - $t0" | bc -l)
counts=$(sql "SELECT group_concat(n, ' ') FROM (SELECT stage, count(*) n FROM tasks WHERE pipeline_id=$id AND state=2 GROUP BY stage ORDER BY stage)")
read -r n_pull n_unpack n_beam n_down n_merge <<<"$counts"
total=$((n_pull + n_unpack + n_beam + n_down + n_merge))
nrows=$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id")
events=$(sql "SELECT count(*) FROM events WHERE pipeline_id=$id AND kind='batch'")

awk -v wall="$wall" -v total="$total" -v times="$TIMES" -v hwm="$hwm_kb" -v rss="$rss_kb" \
  -v db="$peak_db" -v dbmain="${peak_main:-0}" -v rows="$nrows" -v pull="$n_pull" -v unpack="$n_unpack" -v beam="$n_beam" \
  -v down="$n_down" -v merge="$n_merge" -v batches="$events" -v agents="$AGENTS" -v scale="$SCALE" '
function h(b) { split("B KiB MiB GiB TiB PiB EiB", u, " "); i = 1; while (b >= 1024 && i < 7) { b /= 1024; i++ } return sprintf("%.1f %s", b, u[i]) }
BEGIN {
  f = 160 / times
  printf "shape: 12,960 pointings (540 groups of 24, 9 batches of 1440), 24 channels, %d of 160 time ranges (30 s)\n", times
  printf "tasks done: pull %d, unpack %d, beam %d, down %d, merge %d = %d (%d batch starts)\n", pull, unpack, beam, down, merge, total, batches
  printf "agents: %d local, model runtime, durations = published node-local seconds x %s\n", agents, scale
  printf "wall %.1f s: %.0f tasks/s sustained (submit to done, incl. 9 batch drains)\n", wall, total / wall
  printf "controller peak RSS (VmHWM) %s, now %s; database at its peak %s (file %s + WAL) for %d task rows\n", h(hwm * 1024), h(rss * 1024), h(db), h(dbmain), rows
  printf "full campaign (extrapolated x%.0f, labelled): %d tasks, %.1f h at this rate; database ~%s if no rows are pruned\n", f, total * f, total * f / (total / wall) / 3600, h(db / rows * rows * f)
  raw_s = 327680000                  # one channel-second of raw voltages (MWA.md)
  rng = 30 * raw_s                    # one channel, 30 s
  naive = 12960 * 24 * 4800 * raw_s   # raw data read once per pointing
  beam_read = beam * rng * f          # each beam task reads one channel-range once for 24 pointings
  archive = unpack * rng * f          # raw data fetched into node caches (once per batch)
  printf "raw bytes read by beam-makers: %s (measured tasks x 9,830,400,000 B, x%.0f) vs naive once-per-pointing %s = 1/%.0f\n", h(beam_read), f, h(naive), naive / beam_read
  printf "raw bytes fetched from the archive into node caches: %s = Scalebox 9-batch plan (9 x %s); one pass without batches: %s\n", h(archive), h(24 * 4800 * raw_s), h(24 * 4800 * raw_s)
}'
echo "peak intermediate bytes per host (catalog: replicas + reservations) vs budget (mem $MEM_BUDGET, ssd $SSD_BUDGET):"
sort "$TMP/usage" | awk -F'|' '{ k = $1 " " $2; if ($3 > m[k]) m[k] = $3 } END { for (k in m) print k, m[k] }' | sort |
  while read -r host tier bytes; do
    budget=$([ "$tier" = mem ] && echo "$MEM_BUDGET" || echo "$SSD_BUDGET")
    awk -v host="$host" -v tier="$tier" -v b="$bytes" -v bud="$budget" 'BEGIN {
      n = bud + 0; u = substr(bud, length(n "") + 1); m = (u == "GiB") ? 2^30 : (u == "TiB") ? 2^40 : 1
      printf "  %-6s %-4s peak %8.1f GiB of %8.1f GiB (%.0f %%)\n", host, tier, b / 2^30, n * m / 2^30, 100 * b / (n * m) }'
  done
"$BIN/sluice" status --matrix "$id" --stage merge --rows 2 --cols 4 | head -n 14
