#!/usr/bin/env bash
# Finished work is not run twice when its agent dies before the controller
# has its reports: the agent journals each finished task before queueing
# its report, and a restarted agent sends the journal first.
#  1. controller away (SIGKILL) while 12 tasks finish on agent j1, then j1
#     SIGKILLed, restarted, the controller restarted: 12 lines, not 24;
#  2. the agent is SIGKILLed and comes back only after its host was
#     declared lost and the leases of its finished tasks expired: reports of
#     tasks without outputs still count (nobody leased them again); reports
#     naming outputs are dropped with the wiped cache (lineage re-makes them).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

start_controller --lease-ttl 3s
start_agent j1

mkpipe() { # NAME [OUTPUT]: 12 tasks that wait for the test's go-file, then log
  local out=""
  [ -n "${2:-}" ] && out='echo "$1" > "$SLUICE_OUT/out";'
  cat >"$TMP/$1.yaml" <<YAML
name: $1
stages:
  - name: s
    command: [sh, -c, 'while [ ! -e $TMP/go-$1 ]; do sleep 0.05; done; $out echo "\$1" >> $TMP/runs-$1.log', sh]
    slots: 12
messages:
  - {to: s, key: "k{1..12}"}
YAML
}
running() { [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$1 AND state=1")" = 12 ]; }
lines() { wc -l <"$TMP/runs-$1.log" 2>/dev/null || echo 0; }
dups() { sort "$TMP/runs-$1.log" | uniq -c | awk '$1 > 1 { printf "%s(x%d) ", $2, $1 }'; }
journaled() { [ "$(ls "$TMP/mem/j1.journal" 2>/dev/null | wc -l)" -ge 12 ]; }

# 1. the controller is away while the tasks finish
mkpipe a output
id=$(submit "$TMP/a.yaml")
check "a: 12 tasks running on j1" wait_for 30 running "$id"
kill -9 "$CTL_PID"; wait "$CTL_PID" 2>/dev/null
touch "$TMP/go-a"
check "a: the 12 tasks finished while the controller was away" wait_for 30 sh -c "[ \$(wc -l <'$TMP/runs-a.log') = 12 ]"
check "a: their reports are journaled" wait_for 10 journaled
kill -9 "$AGENT_PID_j1"; wait "$AGENT_PID_j1" 2>/dev/null
start_agent j1
sluice controller --state "$STATE" --listen "$CTL" --lease-ttl 3s >>"$TMP/controller.log" 2>&1 &
CTL_PID=$!
track_pid $CTL_PID
st=$(wait_pipeline "$id" 60)
check "a: pipeline done after both restarts (state=$st)" [ "$st" = done ]
n=$(lines a)
check "a: no finished task ran again (lines=$n, want 12; duplicates: $(dups a))" [ "$n" = 12 ]
check "a: the restarted agent reported from its journal" grep -q 'reported again (journal)' "$TMP/agent-j1.log"
check "a: every object is in the catalog" [ "$(sql "SELECT count(*) FROM objects WHERE pipeline_id=$id AND state='live'")" = 12 ]
check "a: journal empty once acknowledged" wait_for 10 sh -c "[ -z \"\$(ls '$TMP/mem/j1.journal')\" ]"

# 2. the agent dies with unacknowledged reports; its leases expire before it is back
mkpipe b
id=$(submit "$TMP/b.yaml")
check "b: 12 tasks running on j1" wait_for 30 running "$id"
kill -STOP "$CTL_PID"
touch "$TMP/go-b"
check "b: the 12 tasks finished" wait_for 30 sh -c "[ \$(wc -l <'$TMP/runs-b.log') = 12 ]"
wait_for 10 journaled
kill -9 "$AGENT_PID_j1"; wait "$AGENT_PID_j1" 2>/dev/null
kill -CONT "$CTL_PID"
check "b: their leases expired" wait_for 30 sh -c "[ \$(sqlite3 '$STATE/sluice.db' \"SELECT count(*) FROM events WHERE pipeline_id=$id AND kind='lease-expired'\") -ge 1 ]"
start_agent j1
st=$(wait_pipeline "$id" 60)
check "b: pipeline done (state=$st)" [ "$st" = done ]
n=$(lines b)
check "b: no finished task ran again (lines=$n, want 12; duplicates: $(dups b))" [ "$n" = 12 ]
