#!/usr/bin/env bash
# The end-to-end MWA test (tests/e2e/test_mwa_e2e.sh, part A: the whole chain
# in pipelines/mwa-full.yaml, must find the injected pulsar) with its agents
# on Slurm: a local 4-node test cluster, a real controller, 4 agents from
# `sluice slurm up --nodes 4`; objects move between the agents' caches by the
# data plane. The kept results are harvested from the agents' tiers before
# `sluice slurm down`. Skips when Slurm cannot run here.
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
hosts=$(sql "SELECT count(DISTINCT host) FROM tasks")
check "tasks ran on several Slurm nodes ($hosts)" [ "$hosts" -ge 2 ]
check "slurm down leaves no jobs" sluice slurm down --timeout 60
check "squeue empty" [ -z "$(squeue -h -o %i)" ]
