#!/usr/bin/env bash
# The README's five-minute tour runs as written: the YAML block of README.md
# is extracted and run with `sluice run --agents 2 tour.yaml`; it must exit 0,
# each observation's join must read the three channels the process stage
# wrote into $SLUICE_OUT (through $SLUICE_INPUTS), and no module may write
# into the memory tier beside the cache ($SLUICE_MEM: files the cache never
# sees).
. "$(dirname "$0")/../lib.sh"
cd "$TMP"
awk '/^```yaml$/ { n++; if (n == 1) { on = 1; next } } /^```$/ { on = 0 } on' \
  "$SLUICE_ROOT/README.md" >tour.yaml
check "README: the tour's YAML block is there" grep -q '^name: tour' tour.yaml
check "README: the tour writes into \$SLUICE_OUT, never \$SLUICE_MEM" \
  eval 'grep -q SLUICE_OUT tour.yaml && ! grep -q SLUICE_MEM tour.yaml'
# in the background for its PID: --keep leaves /dev/shm/sluice-run-PID
sluice run --agents 2 --keep --state "$TMP/state" tour.yaml >run.out 2>&1 </dev/null &
rpid=$!
shm=/dev/shm/sluice-run-$rpid
(sleep 120; kill "$rpid" 2>/dev/null) &
dog=$!
track_pid "$dog"
wait "$rpid"
rc=$?
kill "$dog" 2>/dev/null
trap 'rm -rf "$shm"; _cleanup' EXIT
sed 's/^/# /' run.out | tail -n 12
check "README: sluice run --agents 2 tour.yaml exits 0 (got $rc)" [ "$rc" = 0 ]
# the joins' stdout tails in the store: each observation joined its 3 channels
out=$(sqlite3 "$TMP/state/sluice.db" \
  "SELECT a.stdout_tail FROM attempts a JOIN tasks t ON t.id = a.task_id
   WHERE t.stage = 2 AND a.exit_code = 0 ORDER BY t.key" 2>&1)
echo "$out" | sed 's/^/# /'
for o in obs1 obs2; do
  check "README: the join of $o read all 3 channels from \$SLUICE_INPUTS" eval \
    '[ "$(grep -c "processed $o/ch[123] of observation $o\$" <<<"$out")" = 3 ] && grep -q "^joined $o:" <<<"$out"'
done
# --keep leaves the memory tiers: each join's kept output holds the same lines
n=0
for f in $(find "$shm" -name joined 2>/dev/null); do
  grep -q "processed obs[12]/ch3 of observation obs[12]\$" "$f" && n=$((n + 1))
done
check "README: the two joined objects are kept in the agents' caches (found $n)" [ "$n" = 2 ]
