#!/usr/bin/env bash
# sluice on Slurm, end to end on a local 4-node test cluster
# (tests/slurm/cluster.sh): a real controller, `sluice slurm up --from` a
# pipeline whose cluster.slurm asks for 4 nodes, one agent per node; a
# pipeline of short sleeping tasks runs; mid-run node3's slurmd and agent are
# killed (by PID); the pipeline still completes on the other nodes with every
# task done exactly once; Slurm marks node3 down, the controller marks it
# lost; a heterogeneous job adds ingest/compute agents; `sluice slurm down`
# leaves no jobs and no agent processes. Skips when Slurm cannot run here.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"
. "$(dirname "$0")/cluster.sh"

SLD="$TMP/slurm"
rc=0
slurm_cluster_start "$SLD" || rc=$?
if [ $rc -eq 77 ]; then
  skip "no local Slurm cluster possible here (see the message above)"
  exit 0
elif [ $rc -ne 0 ]; then
  not_ok "local Slurm cluster starts (tail of $SLD/log/slurmctld.log above)"
  exit 1
fi
trap 'slurm_cluster_stop "$SLD"; _cleanup' EXIT
ok "local Slurm cluster: 4 nodes idle"

start_controller --lease-ttl 2s

# agent processes of this controller: PIDs from /proc (cmdline), not names
agent_pids() { # [NODE]
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
    case "$cmd" in
      *" agent --controller $CTL --name ${1:-}"*) echo "${p#/proc/}" ;;
    esac
  done
}

no_agents() { [ -z "$(agent_pids)" ]; }

cat >"$TMP/sleepy.yaml" <<YAML
name: sleepy
lease_ttl: 2m    # a lost host's leases must end when the host is lost, not after this
cluster:
  slurm: {nodes: 4, time: "10:00", drain: 30s, groups: [sleepers]}
stages:
  - name: nap
    command: [sh, -c, 'sleep 1.5; echo "\$1 \$SLUICE_HOST" >> $TMP/naps.out', sh]
    slots: 2
messages:
  - {to: nap, key: "k{01..64}"}
YAML

t0=$SECONDS
out=$(sluice slurm up --from "$TMP/sleepy.yaml" --mem-root "$TMP/shm" --ssd-root "$TMP/ssd" \
      --output "$TMP/job-%j.out" --wait 60 2>"$TMP/up.err")
echo "$out"
job=$(echo "$out" | sed -n 's/^submitted Slurm job \([0-9]*\).*/\1/p')
check "slurm up --from: one job, 4 agents registered ($((SECONDS - t0)) s)" \
  grep -q "^4 agent(s) of job $job registered" <<<"$out"
hosts=$(sluice hosts --json)
names=$(echo "$hosts" | grep -o '"name":"node[0-9]"' | sort | tr -d '\n')
check "controller sees node1..node4 (sluice hosts)" \
  [ "$names" = '"name":"node1""name":"node2""name":"node3""name":"node4"' ]
check "agents carry groups slurm-$job and sleepers" grep -q "\"groups\":\"slurm-$job,sleepers\"" <<<"$hosts"
check "memory tier under the node's mem root" grep -q "\"mem_root\":\"$TMP/shm/sluice-$job/node3\"" <<<"$hosts"
check "one agent process per node" [ "$(agent_pids | wc -l)" = 4 ]
st=$(sluice slurm status)
check "slurm status lists the job RUNNING on node[1-4]" grep -qE "^$job +sluice-agents +RUNNING +4 .*node\[1-4\]" <<<"$st"

id=$(submit "$TMP/sleepy.yaml")
# mid-run: some tasks done and node3 busy
midrun() {
  [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND state=2")" -ge 8 ] &&
    [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND state=1 AND host='node3'")" -ge 1 ]
}
wait_for 60 midrun
done_before=$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND state=2")
slurmd3=$(slurm_cluster_node_pid "$SLD" node3)
agent3=$(agent_pids node3)
check "found node3's slurmd ($slurmd3) and agent ($agent3) by PID" eval '[ -n "$slurmd3" ] && [ -n "$agent3" ]'
kill -KILL "$slurmd3" $agent3
t_kill=$SECONDS
echo "# killed node3 (slurmd $slurmd3, agent $agent3) with $done_before/64 tasks done"

st=$(wait_pipeline "$id" 120)
check "pipeline completes on the remaining nodes (state=$st, $((SECONDS - t_kill)) s after the kill)" [ "$st" = done ]
check "node3's leases ended with the host, not after the 2 min lease ttl" [ $((SECONDS - t_kill)) -lt 90 ]
check "all 64 tasks done" [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND state=2")" = 64 ]
check "every key has exactly one task row" \
  [ "$(sql "SELECT count(DISTINCT key) FROM tasks WHERE pipeline_id=$id")" = 64 ]
# naps.out: "KEY HOST", written at the end of each nap (a module killed with
# its agent writes nothing). A nap on node3 that finished just before its
# agent was killed, without its completion reaching the controller, is
# legitimately run again elsewhere (at-least-once): only those lines are set
# aside (node3, and that key's node3 attempt did not succeed); every other
# key must have exactly one line.
lost=$(sql "SELECT t.key FROM attempts a JOIN tasks t ON t.id=a.task_id WHERE t.pipeline_id=$id AND a.host='node3' AND a.exit_code IS NOT 0")
awk -v lost=" $(echo $lost) " '!($2 == "node3" && index(lost, " " $1 " "))' "$TMP/naps.out" >"$TMP/naps.done"
echo "# $(echo $lost | wc -w) node3 attempt(s) lost; $(($(wc -l <"$TMP/naps.out") - $(wc -l <"$TMP/naps.done"))) of their naps had finished before the kill (set aside)"
check_each_once "every key napped exactly once, counting runs whose completion was not lost" 64 <(cut -d' ' -f1 "$TMP/naps.done")
rerun=$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND attempts > 1")
check "node3's interrupted tasks were re-run elsewhere ($rerun)" [ "$rerun" -ge 1 ]
late=$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND host='node3' AND attempts > 1")
check "no re-run landed on node3" [ "$late" = 0 ]
wait_for 10 sh -c "sluice hosts --json | grep -q '\"name\":\"node3\",\"state\":\"lost\"'"
check "controller marks node3 lost" sh -c "sluice hosts --json | grep -q '\"name\":\"node3\",\"state\":\"lost\"'"
wait_for 40 sh -c "sinfo -h -n node3 -o %t | grep -qE 'down|\\*'"
check "Slurm sees node3 not responding ($(sinfo -h -n node3 -o %t))" \
  sh -c "sinfo -h -n node3 -o %t | grep -qE 'down|\\*'"

# shrink: cancel the job (its nodes are exclusive), then grow again with a
# heterogeneous job: 1 ingest + 1 compute node (node3 is down)
check "slurm down --job $job cancels that job" sluice slurm down --job "$job" --timeout 90
check "its agents are gone" wait_for 10 no_agents

out=$(sluice slurm up --het 1:1 --mem-root "$TMP/shm" --ssd-root "$TMP/ssd" \
      --output "$TMP/het-%j.out" --wait 60 2>>"$TMP/up.err")
echo "$out"
het=$(echo "$out" | sed -n 's/^submitted Slurm job \([0-9]*\).*/\1/p')
check "het job: 2 agents registered" grep -q "^2 agent(s) of job $het registered" <<<"$out"
hosts=$(sluice hosts --json)
check "het job: an ingest and a compute agent" \
  grep -q "slurm-$het,ingest.*slurm-$het,compute\|slurm-$het,compute.*slurm-$het,ingest" <<<"$hosts"
check "slurm status lists the het job's two components" \
  [ "$(sluice slurm status --json | grep -o "\"id\":\"$het+[01]\"" | wc -l)" = 2 ]

t0=$SECONDS
check "slurm down cancels and waits" sluice slurm down --timeout 90
echo "# down took $((SECONDS - t0)) s"
check "squeue: no jobs left" [ -z "$(squeue -h -o %i)" ]
wait_for 10 no_agents
check "no agent processes left" no_agents
check "node caches removed" [ -z "$(ls -A "$TMP/shm" 2>/dev/null)" ]
check "slurm status: nothing for this controller" grep -q "no sluice agent jobs" <<<"$(sluice slurm status)"

# a time limit: Slurm signals the agents --drain before it (up to a minute
# early, its event resolution); idle agents drain at once and the job ends
# long before the limit
out=$(sluice slurm up --nodes 1 --time 1 --drain 50s --mem-root "$TMP/shm" --ssd-root "$TMP/ssd" \
      --output "$TMP/tl-%j.out" --wait 60 2>>"$TMP/up.err")
tl=$(echo "$out" | sed -n 's/^submitted Slurm job \([0-9]*\).*/\1/p')
t0=$SECONDS
tl_gone() { [ -z "$(squeue -h -j "$tl" -o %i 2>/dev/null)" ]; }
wait_for 50 tl_gone
check "time limit 1 min, drain 50 s: the agents drained and the job ended after $((SECONDS - t0)) s" tl_gone
check "the agent logged its drain" grep -q "drain done" "$TMP/tl-$tl.out"

# the controller inside the allocation: started by the batch script on the
# first node, listening where --controller says (here a loopback port)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out=$(sluice slurm up --nodes 2 --controller-inside --controller "127.0.0.1:$port" \
      --controller-state "$TMP/inside" --mem-root "$TMP/shm" --ssd-root "$TMP/ssd" \
      --output "$TMP/inside-%j.out" 2>>"$TMP/up.err")
echo "$out"
inside_up() { [ "$(SLUICE_CONTROLLER=127.0.0.1:$port SLUICE_TOKEN_FILE="$TMP/inside/secrets/user.token" sluice hosts --json 2>/dev/null | grep -o '"state":"up"' | wc -l)" = 2 ]; }
wait_for 60 inside_up
check "controller inside the job: 2 agents registered with it" inside_up
check "its state lives in --controller-state" test -s "$TMP/inside/sluice.db"
check "slurm down --all ends that job too" sluice slurm down --all --timeout 60
check "squeue: nothing left" [ -z "$(squeue -h -o %i)" ]
