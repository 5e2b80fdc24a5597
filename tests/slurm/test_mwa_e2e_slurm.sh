#!/usr/bin/env bash
# The end-to-end MWA test (tests/e2e/test_mwa_e2e.sh, part A: the whole chain
# in pipelines/mwa-full.yaml, must find the injected pulsar) with its agents
# on Slurm: a local 4-node test cluster, a real controller, 4 agents from
# `sluice slurm up --nodes 4`; objects move between the agents' caches by the
# data plane. Mid-run node3's slurmd and agent are killed by PID: the
# pipeline still completes with the same detection (the lost host's leases
# end, lineage re-makes its objects). The kept results are harvested from the
# agents' tiers before `sluice slurm down`, which must leave no jobs and no
# agents. Skips when Slurm cannot run here.
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
  not_ok "local Slurm cluster starts"
  exit 1
fi
trap 'slurm_cluster_stop "$SLD"; _cleanup' EXIT

start_controller --lease-ttl 10s
# the agents inherit this environment (sbatch --export=ALL): stage commands
# in pipelines/bin, modules in build/bin
export PATH="$SLUICE_ROOT/build/bin:$SLUICE_ROOT/pipelines/bin:$PATH"
out=$(sluice slurm up --nodes 4 --mem-root "$TMP/shm" --ssd-root "$TMP/ssd" \
      --output "$TMP/job-%j.out" --wait 60 2>"$TMP/up.err")
check "4 agents on Slurm registered" grep -q "^4 agent(s) of job [0-9]* registered" <<<"$out"

# mid-run (beam-forming under way), node3's slurmd and agent are killed by
# PID; the pipeline must still complete with the same detection (leases end
# with the lost host, lineage re-makes what only node3 held)
agent_pid() { # NODE
  local p
  for p in /proc/[0-9]*; do
    case "$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)" in
      *" agent --controller $CTL --name $1 "*) echo "${p#/proc/}" ;;
    esac
  done
}
(
  until [ "$(sql "SELECT count(*) FROM tasks t JOIN pipelines p ON p.id=t.pipeline_id WHERE t.stage=4 AND t.state=2" 2>/dev/null)" -ge 2 ] 2>/dev/null; do
    sleep 0.02
  done
  a=$(agent_pid node3) s=$(slurm_cluster_node_pid "$SLD" node3)
  held=$(sql "SELECT count(*) FROM tasks WHERE host='node3'")
  kill -KILL $s $a && echo "$held" >"$TMP/killed"
) &
track_pid $!
t0=$SECONDS
E2E_ONLY=A E2E_RUN="bash $SLUICE_ROOT/tests/slurm/submit_wait.sh" E2E_TIERS="$TMP/shm $TMP/ssd" \
  SUBMIT_WAIT_LIMIT=300 bash "$SLUICE_ROOT/tests/e2e/test_mwa_e2e.sh" >"$TMP/e2e.out" 2>&1
echo "# e2e on Slurm took $((SECONDS - t0)) s"
n=0
while IFS= read -r line; do
  case "$line" in
    "ok "*) ok "e2e on Slurm: ${line#ok * - }"; n=$((n + 1)) ;;
    "not ok "*) not_ok "e2e on Slurm: ${line#not ok * - }"; n=$((n + 1)) ;;
    "#"*) echo "$line" ;;
  esac
done <"$TMP/e2e.out"
[ "$n" -gt 0 ] || { not_ok "e2e on Slurm reported nothing"; tail -n 20 "$TMP/e2e.out" | sed 's/^/# /'; }
check "node3 (slurmd and agent) was killed mid-run, holding $(cat "$TMP/killed" 2>/dev/null) task(s)" test -s "$TMP/killed"
check "the controller marks node3 lost" sh -c "sluice hosts --json | grep -q '\"name\":\"node3\",\"state\":\"lost\"'"
echo "# after the kill: $(sql "SELECT count(*) FROM events WHERE kind='lease-expired'") lease(s) ended, $(sql "SELECT count(*) FROM events WHERE kind='lineage'") lineage re-run(s)"
hosts=$(sql "SELECT count(DISTINCT host) FROM tasks")
check "tasks ran on several Slurm nodes ($hosts)" [ "$hosts" -ge 2 ]
check "slurm down leaves no jobs" sluice slurm down --timeout 60
check "squeue empty" [ -z "$(squeue -h -o %i)" ]
no_agents() { [ -z "$(agent_pid node1; agent_pid node2; agent_pid node3; agent_pid node4)" ]; }
wait_for 10 no_agents
check "no agent processes left" no_agents
