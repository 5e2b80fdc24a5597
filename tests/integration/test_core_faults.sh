#!/usr/bin/env bash
# Faults through real daemons on 127.0.0.1: retries by exit code, per-task
# timeout (process group killed, exit 124), an agent SIGKILLed mid-task (the
# task completes elsewhere), the controller SIGKILLed and restarted
# mid-pipeline (nothing lost, nothing completed re-run), cancel and retry.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

# gone PID...: every process has exited (a zombie awaiting its reaper counts)
gone() {
  local p
  for p in "$@"; do
    [ -e "/proc/$p" ] || continue
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || return 1
  done
}

start_controller --lease-ttl 3s
start_agent f1
start_agent f2

# 1. retries by exit code: "flaky" fails with 3 on its first attempt (rule
#    allows 2 retries for 3); "broken" always exits 4 (default 1 retry).
cat > "$TMP/retry.yaml" <<YAML
name: retry
stages:
  - name: s
    command: [sh, -c, 'case "\$1" in flaky) [ "\$SLUICE_ATTEMPT" -ge 2 ] || exit 3;; broken) echo "broken on purpose" >&2; exit 4;; esac', sh]
    retry: {default: 1, "3": 2}
messages:
  - {to: s, key: flaky}
  - {to: s, key: broken}
  - {to: s, key: fine}
YAML
id=$(submit "$TMP/retry.yaml")
st=$(wait_pipeline "$id" 30)
check "retry: pipeline with a permanent failure ends failed (state=$st)" [ "$st" = failed ]
check "retry: flaky succeeded on attempt 2" [ "$(sql "SELECT state||':'||attempts FROM tasks WHERE pipeline_id=$id AND key='flaky'")" = "2:2" ]
check "retry: broken failed after 2 attempts with exit 4" [ "$(sql "SELECT state||':'||attempts||':'||exit_code FROM tasks WHERE pipeline_id=$id AND key='broken'")" = "3:2:4" ]
bid=$(sql "SELECT id FROM tasks WHERE pipeline_id=$id AND key='broken'")
check "retry: stderr tail of the failed attempt is kept" sh -c "sluice logs $bid | grep -q 'broken on purpose'"
# sluice retry re-queues it with a fresh budget; still failing, it fails again
check "retry: sluice retry re-queues the failed task" sh -c "sluice retry $id | grep -q 're-queued 1 task'"
st=$(wait_pipeline "$id" 30)
check "retry: after sluice retry it ran again (attempts 2, state=$st)" [ "$(sql "SELECT count(*) FROM attempts WHERE task_id=$bid")" = 4 ]

# 2. timeout: the module and its child sleep; both die, exit 124
cat > "$TMP/timeout.yaml" <<YAML
name: timeout
stages:
  - name: slow
    command: [sh, -c, 'sleep 30 & echo \$! > $TMP/child.pid; wait', sh]
    timeout: 1s
messages:
  - {to: slow, key: t1}
YAML
t0=$SECONDS
id=$(submit "$TMP/timeout.yaml")
st=$(wait_pipeline "$id" 30)
check "timeout: task failed with exit 124 (state=$st)" [ "$(sql "SELECT exit_code FROM tasks WHERE pipeline_id=$id")" = 124 ]
check "timeout: it took seconds, not 30 s ($((SECONDS - t0)) s)" [ $((SECONDS - t0)) -lt 15 ]
check "timeout: the module's child process was killed too" wait_for 5 gone "$(cat "$TMP/child.pid")"
tid=$(sql "SELECT id FROM tasks WHERE pipeline_id=$id")
check "timeout: sluice logs says it timed out" sh -c "sluice logs $tid | grep -q 'timed out'"

# 3. agent SIGKILLed mid-task: the task completes on the other agent
cat > "$TMP/agentkill.yaml" <<YAML
name: agentkill
stages:
  - name: long
    command: [sh, -c, 'echo "\$SLUICE_HOST" > $TMP/started.\$1; sleep 2', sh]
messages:
  - {to: long, key: only}
YAML
id=$(submit "$TMP/agentkill.yaml")
wait_for 10 test -s "$TMP/started.only"
victim=$(cat "$TMP/started.only")
eval "vpid=\$AGENT_PID_$victim"
kill -9 "$vpid"
st=$(wait_pipeline "$id" 40)
check "agent kill: pipeline completes (state=$st)" [ "$st" = done ]
final=$(sql "SELECT host FROM tasks WHERE pipeline_id=$id")
check "agent kill: the task finished on the other agent ($victim -> $final)" eval '[ -n "$final" ] && [ "$final" != "$victim" ]'
check "agent kill: the lost attempt is recorded" [ "$(sql "SELECT count(*) FROM attempts a JOIN tasks t ON t.id=a.task_id WHERE t.pipeline_id=$id AND a.error LIKE 'lease expired%'")" -ge 1 ]
start_agent "$victim"   # bring the host back for the next test

# 4. controller SIGKILLed mid-pipeline, then restarted on the same state:
#    every task ends done exactly once, none that had completed runs again.
cat > "$TMP/ctlkill.yaml" <<YAML
name: ctlkill
stages:
  - name: a
    command: [sh, -c, 'sleep 0.05; echo "a \$1" >> $TMP/ran.log', sh]
    slots: 4
    emits: [b]
  - name: b
    command: [sh, -c, 'echo "b \$1" >> $TMP/ran.log', sh]
    slots: 4
messages:
  - {to: a, key: "n{001..150}"}
YAML
id=$(submit "$TMP/ctlkill.yaml")
wait_for 30 sh -c "[ \$(sqlite3 $STATE/sluice.db 'SELECT count(*) FROM tasks WHERE state=2 AND pipeline_id=$id' 2>/dev/null || echo 0) -ge 60 ]"
done_before=$(sql "SELECT group_concat(id) FROM tasks WHERE state=2 AND pipeline_id=$id")
kill -9 "$CTL_PID"; wait "$CTL_PID" 2>/dev/null
sleep 1
sluice controller --state "$STATE" --listen "$CTL" --lease-ttl 3s >>"$TMP/controller.log" 2>&1 &
CTL_PID=$!; track_pid $CTL_PID
st=$(wait_pipeline "$id" 90)
check "controller kill: pipeline completes after restart (state=$st)" [ "$st" = done ]
check "controller kill: 300 tasks, all done" [ "$(sql "SELECT count(*)||':'||sum(state=2) FROM tasks WHERE pipeline_id=$id")" = "300:300" ]
check "controller kill: no duplicate task rows" [ "$(sql "SELECT count(DISTINCT stage||key) FROM tasks WHERE pipeline_id=$id")" = 300 ]
rerun=$(sql "SELECT count(*) FROM attempts WHERE exit_code=0 AND task_id IN ($done_before) GROUP BY task_id HAVING count(*) > 1" | wc -l)
check "controller kill: no task that had completed ran again ($rerun)" [ "$rerun" = 0 ]
check "controller kill: every task completed exactly once" [ "$(sql "SELECT count(*) FROM (SELECT task_id FROM attempts a JOIN tasks t ON t.id=a.task_id WHERE t.pipeline_id=$id AND a.exit_code=0 GROUP BY task_id HAVING count(*)=1)")" = 300 ]
# ran.log: one line at the end of each module's work. No agent died, so no
# module run may be repeated (a re-lease of a task whose module already ran
# would show here even when the controller ignores the stale completion).
check_each_once "controller kill: every module ran exactly once (ran.log)" 300 "$TMP/ran.log"

# 5. cancel: a running pipeline is cancelled and its running task stopped
cat > "$TMP/cancel.yaml" <<YAML
name: cancelme
stages:
  - name: c
    command: [sh, -c, 'sleep 30 & echo \$! > $TMP/cancel.\$1; wait', sh]
messages:
  - {to: c, key: "x{1..3}"}
YAML
id=$(submit "$TMP/cancel.yaml")
wait_for 10 sh -c "[ \$(sqlite3 $STATE/sluice.db 'SELECT count(*) FROM tasks WHERE state=1 AND pipeline_id=$id') -ge 1 ]"
check "cancel: sluice cancel answers" sh -c "sluice cancel $id | grep -q 'cancelled 3 task'"
check "cancel: pipeline state is cancelled" [ "$(pipeline_state "$id")" = cancelled ]
running=$(cat "$TMP"/cancel.x* 2>/dev/null)
check "cancel: the agents stop the running tasks (pids: $(echo $running))" wait_for 20 gone $running
