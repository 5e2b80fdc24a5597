#!/usr/bin/env bash
# Kill campaign (issue 11): 2,000 short tasks while the controller is
# SIGKILLed and restarted (same state dir, same address) at 12 random moments
# and each of the two agents is SIGKILLed once, right after it recorded a
# finished task in its journal and before the controller acknowledged it,
# and restarted with the same --name, --dir, --mem.
# Every task appends its key to a module-side log as the last thing it does
# before exiting 0, so the log counts executions that completed: each key
# must appear exactly once (exactly-once completion, seen from the modules).
# The log is one file per host ($TMP/lines.HOST, a single `echo KEY >>`,
# atomic with O_APPEND) so the test can follow one agent and kill it just
# after a module of its finished; the checks count all files together.
# An agent killed between a task's exit and the controller's acknowledgement
# of its report loses that report unless it keeps it across a restart; then
# the task runs again and this test reports the key twice. Only a module the
# agent had not yet seen exit (frozen in flight at the kill), or had reaped but not yet
# journaled when it was killed, may run again.
#
#   KILL_AGENT=0         controller kills only (default 1: also 2 agent kills)
#   CTL_KILLS=N          controller kills (default 12)
#   KILL_SEED=N          seed of the random moments (default: random, printed)
#   KILL_DEADLINE=S      hard deadline of the whole test (default 110 s)
#   KILL_TTL=D           the controller's --lease-ttl (default 5s)
#
# Every wait is bounded by the deadline; past it the test reports not ok and
# the daemons are stopped by PID at exit.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

T0=$SECONDS
DEADLINE=$((T0 + ${KILL_DEADLINE:-110}))
KILL_AGENT=${KILL_AGENT:-1}
CTL_KILLS=${CTL_KILLS:-12}
AGENT_KILLS=0; [ "$KILL_AGENT" = 0 ] || AGENT_KILLS=2
SEED=${KILL_SEED:-$(( $(date +%s%N) % 32768 ))}
RANDOM=$SEED
# Leases, and the silence after which a host counts as lost (the pipeline
# says it too, though its lease_ttl now defaults to the controller's).
TTL=${KILL_TTL:-5s}
NSPLIT=50 PER=39                        # 50 + 50 * 39 = 2000 tasks
NTASKS=$((NSPLIT + NSPLIT * PER))
echo "# seed $SEED (KILL_SEED=$SEED reproduces the moments), KILL_AGENT=$KILL_AGENT"

left() { echo $((DEADLINE - SECONDS)); }
late() { [ $SECONDS -ge $DEADLINE ]; }

# a PID that was reaped is dropped from the exit cleanup (it may be reused)
untrack_pid() {
  local p keep=()
  for p in "${_pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  _pids=("${keep[@]}")
}

# lines written by the modules so far (one per completed execution)
nlines() { cat "$TMP"/lines.* 2>/dev/null | wc -l; }

# restart_controller: on the same state dir and address (agents reconnect)
restart_controller() {
  local _
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    rm -f "$STATE/addr"
    sluice controller --state "$STATE" --listen "$CTL" --addr-file "$STATE/addr" \
      --lease-ttl $TTL >>"$TMP/controller.log" 2>&1 &
    CTL_PID=$!
    track_pid $CTL_PID
    while [ ! -s "$STATE/addr" ] && kill -0 $CTL_PID 2>/dev/null && ! late; do sleep 0.01; done
    [ -s "$STATE/addr" ] && return 0
    late && return 1
    wait $CTL_PID 2>/dev/null; untrack_pid $CTL_PID   # could not bind yet: again
    sleep 0.2
  done
  return 1
}

kill_controller() {
  kill -9 "$CTL_PID"; wait "$CTL_PID" 2>/dev/null; untrack_pid "$CTL_PID"
  ctl_kills=$((ctl_kills + 1))
  restart_controller || { echo "# controller did not come back"; return 1; }
  echo "# controller SIGKILLed and restarted (at $(nlines) lines, $((SECONDS - T0)) s)"
}

# descendants PID: every process below PID (modules and their children)
descendants() {
  local c
  for c in $(pgrep -P "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done
}

# kill_agent NAME: SIGKILL it right after it recorded a task as finished
# (the task's report is in its journal, MEM.journal/<id>.<attempt>) and
# before the controller acknowledged it - the reports a dead agent would
# lose. The agent and its modules are frozen (SIGSTOP) first, so the test
# can tell what sluice had seen finish from what was still in flight: a
# module that wrote its line but whose exit the agent had not yet recorded
# is not finished work, and may legitimately run again; those keys are
# written to $TMP/inflight (module lines carry the module's PID, matched with
# the frozen processes). Then SIGKILL, and start it again.
kill_agent() {
  local name="$1" pid line fd tpid tid procs found=""
  eval "pid=\$AGENT_PID_$name"
  touch "$TMP/lines.$name"
  exec {fd}< <(exec tail -c0 -f "$TMP/lines.$name")
  tpid=$!
  track_pid $tpid
  # the controller is held (SIGSTOP) meanwhile, so reports pile up
  # unacknowledged, as they do when it is slow, away or the network is
  kill -STOP "$CTL_PID"
  local until=$((SECONDS + 5))
  while [ -z "$found" ] && [ $SECONDS -lt $until ] && ! late &&
    read -r -t 5 -u "$fd" line; do
    line=${line%% *}
    tid=$(sql "SELECT id FROM tasks WHERE pipeline_id=$id AND key='$line'" 2>/dev/null)
    [ -n "$tid" ] || continue
    for _ in $(seq 100); do # its report journaled
      if compgen -G "$TMP/mem/$name.journal/$tid.*" >/dev/null; then found=$line; break; fi
      sleep 0.002
    done
  done
  kill -STOP "$pid"
  procs=$(descendants "$pid")
  [ -z "$procs" ] || kill -STOP $procs 2>/dev/null
  # frozen: a module that wrote its line but has not exited, or whose exit
  # the agent has not reaped (a zombie), was still in flight: the agent had
  # not seen it finish. Lines are "KEY PID".
  for p in $procs; do echo "$p"; done | sort > "$TMP/pids"
  awk '{ print $2, $1 }' "$TMP/lines.$name" | sort -k1,1 | join - "$TMP/pids" |
    awk '{ print $2 }' >> "$TMP/inflight"
  # ... and one the agent had reaped but not yet journaled: killed between
  # waitpid and the journal write, the agent never recorded it as finished
  # (the controller is held, so the database says what it has acknowledged)
  sql "SELECT id, key FROM tasks WHERE pipeline_id=$id AND host='$name' AND state IN (0, 1)" |
    while IFS='|' read -r tid key; do
      compgen -G "$TMP/mem/$name.journal/$tid.*" >/dev/null && continue
      grep -q "^$key " "$TMP/lines.$name" && echo "$key"
    done >> "$TMP/inflight"
  local held
  held=$(ls "$TMP/mem/$name.journal" 2>/dev/null | wc -l)
  kill -9 "$pid" $procs 2>/dev/null
  kill -CONT "$CTL_PID"
  kill "$tpid"; exec {fd}<&-
  wait "$pid" 2>/dev/null; untrack_pid "$pid"
  untrack_pid "$tpid"
  agent_kills=$((agent_kills + 1))
  echo "# agent $name SIGKILLed after it journaled '${found:-?}' ($held reports unacknowledged, $(wc -l < "$TMP/inflight") in flight so far; at $(nlines) lines, $((SECONDS - T0)) s)"
  start_agent "$name"
}

start_controller --lease-ttl $TTL
start_agent a1
start_agent a2

# the last thing a task does before exiting 0 is one short O_APPEND write of
# its key (after 0-50 ms of "work"); one log per host says who just finished
cat > "$TMP/campaign.yaml" <<YAML
name: killcampaign
lease_ttl: $TTL
stages:
  - name: split
    command: [bash, -c, 'printf -v d 0.%03d \$((RANDOM % 51)); sleep \$d; echo "\$1 \$BASHPID" >> "$TMP/lines.\$SLUICE_HOST"', bash]
    slots: 2
    emits:
      - {to: work, key: "{key}/w{01..$PER}"}
  - name: work
    command: [bash, -c, 'printf -v d 0.%03d \$((RANDOM % 51)); sleep \$d; echo "\$1 \$BASHPID" >> "$TMP/lines.\$SLUICE_HOST"', bash]
    slots: 4
messages:
  - {to: split, key: "s{01..$NSPLIT}"}
YAML
for i in $(seq -w 1 $NSPLIT); do
  echo "s$i"
  for j in $(seq -w 1 $PER); do echo "s$i/w$j"; done
done | sort > "$TMP/expected"

# a loaded machine may fail a first connection: try again (bounded), unless
# the pipeline did reach the controller
id=""
for try in 1 2 3 4 5; do
  id=$(timeout 30 sluice submit --json "$TMP/campaign.yaml" | sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p')
  [ -n "$id" ] && break
  id=$(sql "SELECT max(id) FROM pipelines" 2>/dev/null)
  [ -n "$id" ] && break
  late && break
  echo "# submission $try failed, again"
  sleep 1
done
check "the pipeline was submitted (id '$id')" [ -n "$id" ]

# The moments: one random line count in each of CTL_KILLS equal slices of
# 3 %..85 % of the tasks for the controller kills (plus 0-300 ms), and for
# the agents one in 20..40 % (a1) and one in 55..75 % (a2).
events=()
lo=$((NTASKS * 3 / 100)) span=$((NTASKS * 82 / 100))
for ((k = 0; k < CTL_KILLS; k++)); do
  a=$((lo + span * k / CTL_KILLS)) b=$((lo + span * (k + 1) / CTL_KILLS))
  events+=("$((a + RANDOM % (b - a))) ctl")
done
if [ "$AGENT_KILLS" -gt 0 ]; then
  events+=("$((NTASKS * 20 / 100 + RANDOM % (NTASKS * 20 / 100))) a1")
  events+=("$((NTASKS * 55 / 100 + RANDOM % (NTASKS * 20 / 100))) a2")
fi
[ ${#events[@]} -eq 0 ] || mapfile -t events < <(printf '%s\n' "${events[@]}" | sort -n)
echo "# moments (lines written): $(printf '%s ' "${events[@]}")"

ctl_kills=0 agent_kills=0 last=0 ok_run=1
[ -n "$id" ] || { ok_run=0; events=(); }
for ev in ${events[@]+"${events[@]}"}; do
  at=${ev% *} what=${ev#* }
  # at the moment's line count, and some progress since the last kill (the
  # agents are back at work), so no two faults are handled as one
  while n=$(nlines); [ "$n" -lt "$at" ] || [ "$n" -lt $((last + 20)) ]; do
    late && break
    [ "$n" -ge "$NTASKS" ] && break
    sleep 0.02
  done
  late && { ok_run=0; break; }
  [ "$(nlines)" -ge "$NTASKS" ] && { echo "# all lines written before the moment $ev"; break; }
  if [ "$what" = ctl ]; then
    sleep "0.$(printf %03d $((RANDOM % 300)))"
    kill_controller || { ok_run=0; break; }
  else
    kill_agent "$what" || { ok_run=0; break; }
  fi
  last=$(nlines)
done

# the pipeline ends (every lost lease expires, every report goes through)
st=""
while [ -n "$id" ]; do
  late && { ok_run=0; break; }
  if kill -0 "$CTL_PID" 2>/dev/null; then
    st=$(timeout 10 sluice status --json "$id" 2>/dev/null |
      sed -n 's/^\[{"id":[0-9]*,"name":"[^"]*","state":"\([a-z]*\)".*/\1/p')
    [ -n "$st" ] && [ "$st" != running ] && break
  else
    st=controller-died; break
  fi
  sleep 0.2
done
# a late line (a module finishing after the pipeline ended) counts too
sleep 0.5
elapsed=$((SECONDS - T0))

check "finished within the deadline ($elapsed s of ${KILL_DEADLINE:-110} s)" [ $ok_run = 1 ]
check "the pipeline ends done (state=$st)" [ "$st" = "done" ]
check "$ctl_kills controller kills (>= 10)" [ "$ctl_kills" -ge 10 ]
if [ "$AGENT_KILLS" -gt 0 ]; then
  check "$agent_kills agent kills (>= 2)" [ "$agent_kills" -ge 2 ]
fi
tasks=$(sql "SELECT count(*)||':'||sum(state=2) FROM tasks WHERE pipeline_id=$id" 2>/dev/null)
check "the controller has $NTASKS tasks, all done ($tasks)" [ "$tasks" = "$NTASKS:$NTASKS" ]

cat "$TMP"/lines.* 2>/dev/null | awk '{ print $1 }' > "$TMP/all"
lines=$(wc -l < "$TMP/all")
sort "$TMP/all" | uniq -c | awk '{print $2, $1}' > "$TMP/counts"   # KEY COUNT
awk '{print $1}' "$TMP/counts" > "$TMP/seen"
missing=$(comm -23 "$TMP/expected" "$TMP/seen" | wc -l)
unexpected=$(comm -13 "$TMP/expected" "$TMP/seen" | wc -l)
touch "$TMP/inflight"
sort -u "$TMP/inflight" > "$TMP/inflight.s"
# a key in flight at an agent kill may run twice (once); any other repeat is
# finished work that ran again
awk 'FILENAME == ARGV[1] { f[$1] = 1; next } $2 > 1 + ($1 in f)' "$TMP/inflight.s" "$TMP/counts" > "$TMP/dups"
dupkeys=$(wc -l < "$TMP/dups")
dups=$(awk '{s += $2 - 1} END {print s + 0}' "$TMP/dups")
reran=$(awk 'FILENAME == ARGV[1] { f[$1] = 1; next } ($1 in f) && $2 == 2' "$TMP/inflight.s" "$TMP/counts" | wc -l)

check "every key's line appears ($missing of $NTASKS missing)" [ "$missing" = 0 ]
[ "$missing" = 0 ] || comm -23 "$TMP/expected" "$TMP/seen" | head -20 | sed 's/^/#   missing: /'
check "no line that is not a task key ($unexpected)" [ "$unexpected" = 0 ]
check "no finished task ran again ($dupkeys keys, $dups extra lines; $reran of $(wc -l < "$TMP/inflight.s") in flight at agent kills ran again, as they may)" [ "$dupkeys" = 0 ]
if [ "$dupkeys" != 0 ]; then
  # with the attempts the controller recorded (host#n:exit error)
  head -50 "$TMP/dups" | while read -r k c; do
    a=$(sql "SELECT group_concat(host||'#'||n||':'||coalesce(exit_code,'-')||coalesce(' '||error,''), ', ')
             FROM attempts WHERE task_id=(SELECT id FROM tasks WHERE pipeline_id=$id AND key='$k')" 2>/dev/null)
    echo "#   duplicated: $k x$c (attempts: $a)"
  done
  [ "$dupkeys" -le 50 ] || echo "#   ... and $((dupkeys - 50)) more"
fi
check "total lines == tasks + in-flight re-runs ($lines == $NTASKS + $reran)" [ "$lines" = $((NTASKS + reran)) ]
# context for duplicates: a live host declared lost has its leases ended too
sql "SELECT msg FROM events WHERE kind='host-lost'" 2>/dev/null | sed 's/^/#   event: /'
echo "# kill campaign: $NTASKS tasks, $ctl_kills controller kills, $agent_kills agent kills, $lines lines, $dups finished tasks run again, $reran in-flight tasks run again, $elapsed s"
