#!/usr/bin/env bash
# `sluice agent --drain-on-term D` (what Slurm's --signal=TERM@D reaches
# before a time limit): on SIGTERM the agent leases nothing more, lets the
# tasks it runs finish and report, then exits 0; queued tasks stay for other
# agents. Without the option SIGTERM stops at once (the task is re-run).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

start_controller --lease-ttl 2s
cat >"$TMP/p.yaml" <<YAML
name: drainy
stages:
  - name: a
    command: [sh, -c, 'sleep 2; echo "\$1" >> $TMP/done.out', sh]
    slots: 2
messages:
  - {to: a, key: "k{1..6}"}
YAML
start_agent d1 --drain-on-term 20s
id=$(submit "$TMP/p.yaml")
running() { [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND state=1")" -ge 2 ]; }
wait_for 20 running
kill -TERM "$AGENT_PID_d1"
t0=$SECONDS
rc=0; wait "$AGENT_PID_d1" || rc=$?
check "agent exits 0 after draining ($((SECONDS - t0)) s, the tasks take 2 s)" [ "$rc" = 0 ]
check "the 2 running tasks finished and were reported" \
  [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND state=2 AND attempts=1")" = 2 ]
check "the other 4 stay queued for other agents" \
  [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND state=0")" = 4 ]
check "the agent logged its drain" grep -q "drain done" "$TMP/agent-d1.log"

# without --drain-on-term: SIGTERM stops at once, running tasks are killed
start_agent d2
wait_for 20 running
kill -TERM "$AGENT_PID_d2"
rc=0; wait "$AGENT_PID_d2" || rc=$?
check "without the option the agent stops at once (exit $rc)" [ "$rc" = 0 ]
check "its running tasks did not finish" [ "$(wc -l <"$TMP/done.out")" = 2 ]
start_agent d3
st=$(wait_pipeline "$id" 60)
check "another agent finishes the pipeline (state=$st)" [ "$st" = done ]
