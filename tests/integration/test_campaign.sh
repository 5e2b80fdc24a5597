#!/usr/bin/env bash
# Campaign expansion through a real controller and agent: a 100,000-key
# message is accepted at once with far fewer task rows than keys and still
# makes every key exactly once; lazy expansion resumes where it stopped after
# the controller is SIGKILLed and restarted; `batch: N` starts no task of a
# batch before every task of the previous batch (and downstream) is done;
# `sluice status --matrix` shows a small grid (queued, not yet expanded, done).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

start_controller --lease-ttl 3s
start_agent c1

# 1. a 100,000-key message: accepted at once, expanded in chunks, every key once
cat > "$TMP/big.yaml" <<'YAML'
name: big
stages:
  - name: a
    runtime: noop
    slots: 256
    emits: [b]
  - name: b
    runtime: noop
    slots: 256
messages:
  - {to: a, key: "obs/p{00001..00100}/t{0001..1000}"}
YAML
t0=$(date +%s%N)
id=$(submit "$TMP/big.yaml")
ms=$((($(date +%s%N) - t0) / 1000000))
rows=$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id")
check "big: 100,000-key message accepted in ${ms} ms (< 3000)" [ "$ms" -lt 3000 ]
check "big: $rows task rows right after submit (far fewer than 100,000)" [ "$rows" -le 20000 ]
pend=$(sluice status --json "$id" | sed -n 's/.*"name":"a"[^}]*"pending":\([0-9]*\).*/\1/p')
check "big: status shows the rest as pending (pending=$pend)" [ "${pend:-0}" -gt 50000 ]
st=$(wait_pipeline "$id" 40)
check "big: pipeline completes (state=$st)" [ "$st" = done ]
check "big: every key exactly once in stage a" \
  [ "$(sql "SELECT count(*)||'/'||count(DISTINCT key)||'/'||sum(state=2) FROM tasks WHERE pipeline_id=$id AND stage=0")" = 100000/100000/100000 ]
check "big: and downstream in stage b" \
  [ "$(sql "SELECT count(*)||'/'||sum(state=2) FROM tasks WHERE pipeline_id=$id AND stage=1")" = 100000/100000 ]
check "big: the keys are the template's keys" \
  [ "$(sql "SELECT min(key)||' '||max(key) FROM tasks WHERE pipeline_id=$id AND stage=0")" = "obs/p00001/t0001 obs/p00100/t1000" ]

# 2. resume after SIGKILL: kill the controller mid-expansion, restart on the
#    same address, and the campaign completes with every key exactly once
cat > "$TMP/resume.yaml" <<'YAML'
name: resume
stages:
  - name: a
    runtime: model
    env: {SLUICE_MODEL_SECONDS: "0"}
    slots: 64
messages:
  - {to: a, key: "r{1..20}/k{1..1000}"}
YAML
id=$(submit "$TMP/resume.yaml")
wait_for 30 sh -c "[ \$(sqlite3 $STATE/sluice.db 'SELECT next FROM expansions WHERE pipeline_id=$id') -ge 10000 ]"
kill -9 "$CTL_PID"; wait "$CTL_PID" 2>/dev/null
next=$(sql "SELECT next FROM expansions WHERE pipeline_id=$id")
rows=$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id")
check "resume: killed mid-expansion (cursor $next of 20000, $rows rows)" \
  eval '[ "$next" -lt 20000 ] && [ "$rows" = "$next" ]'
start_controller --lease-ttl 3s --listen "$CTL"
st=$(wait_pipeline "$id" 40)
check "resume: completes after the restart (state=$st)" [ "$st" = done ]
check "resume: every key exactly once" \
  [ "$(sql "SELECT count(*)||'/'||count(DISTINCT key)||'/'||sum(state=2) FROM tasks WHERE pipeline_id=$id")" = 20000/20000/20000 ]

# 3. batch: 6 keys at a time; no task of batch k+1 (in any stage) starts
#    before every task of batch k and its downstream task have finished
cat > "$TMP/batch.yaml" <<'YAML'
name: batch
stages:
  - name: beam
    runtime: model
    env: {SLUICE_MODEL_SECONDS: "0.05"}
    slots: 4
    emits: [merge]
  - name: merge
    runtime: model
    env: {SLUICE_MODEL_SECONDS: "0.1"}
    slots: 4
messages:
  - {to: beam, key: "b{1..4}/k{1..6}", batch: 6}
YAML
id=$(submit "$TMP/batch.yaml")
st=$(wait_pipeline "$id" 40)
check "batch: pipeline completes (state=$st)" [ "$st" = done ]
okb=1
for k in 1 2 3; do
  end=$(sql "SELECT max(finished) FROM tasks WHERE pipeline_id=$id AND key LIKE 'b$k/%'")
  start=$(sql "SELECT min(started) FROM tasks WHERE pipeline_id=$id AND key LIKE 'b$((k + 1))/%'")
  awk -v e="$end" -v s="$start" 'BEGIN { exit !(s >= e) }' || { okb=0; echo "# batch $((k + 1)) started at $start before batch $k ended at $end"; }
done
check "batch: each batch starts after the previous one and its downstream finished" [ "$okb" = 1 ]
check "batch: 4 batch events" [ "$(sql "SELECT count(*) FROM events WHERE pipeline_id=$id AND kind='batch'")" = 4 ]
check "batch: 24 + 24 tasks" [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id")" = 48 ]

# 4. the matrix of a small grid: a batch waiting (nothing runs it: its stage
#    is bound to a group no agent has), then a finished one
cat > "$TMP/grid.yaml" <<'YAML'
name: grid
stages:
  - name: beam
    runtime: noop
    placement: group-bound
    group: label:nobody
messages:
  - {to: beam, key: "obs/g{1..3}/t{1..4}/ch{1..2}", batch: 12}
YAML
id=$(submit "$TMP/grid.yaml")
sluice status --matrix grid > "$TMP/matrix.txt"
sed 's/^/# /' "$TMP/matrix.txt"
check "matrix: first batch queued" grep -qx 'g1   |....| 0/8' "$TMP/matrix.txt"
check "matrix: half of g2 queued, half not expanded" grep -qx 'g2   |..  | 0/8' "$TMP/matrix.txt"
check "matrix: g3 not expanded yet" grep -qx 'g3   |    | 0/8' "$TMP/matrix.txt"
json=$(sluice status --matrix grid --rows 3 --cols -1 --json)
echo "# $json"
check "matrix --json: time x channel" [ "$json" = '{"pipeline_id":'"$id"',"stage":"beam","row_segment":3,"col_segment":-1,"rows":["t1","t2","t3","t4"],"cols":["ch1","ch2"],"cells":["..","..","..",".."],"row_done":[0,0,0,0],"row_total":[6,6,6,6]}' ]
sluice cancel grid >/dev/null
m=$(sluice status --matrix big --rows 2 --cols 1 --json)
check "matrix: a finished 100 x 1 grid is all done" \
  [ "$(echo "$m" | grep -o '"D"' | wc -l)" = 100 ]
check "matrix: unknown stage is an error" sh -c '! sluice status --matrix big --stage nope 2>/dev/null'
