#!/usr/bin/env bash
# The demo is the product: `make demo` (scripts/demo.sh) runs here twice,
# with two simulator seeds, exactly as a new user runs it: three local agents
# with their own memory tiers, pulls between them, the whole MWA chain. Each
# run must recover the injected pulsar, move data between agents, and run
# every task exactly once (no lease expired, no attempt beyond the first, no
# corrupt copy).
. "$(dirname "$0")/../lib.sh"
cd "$SLUICE_ROOT"

for seed in ${DEMO_TEST_SEEDS:-42 20261206}; do
  out="$TMP/demo-$seed"
  t0=$SECONDS
  if DEMO_SEED=$seed DEMO_OUT="$out" scripts/demo.sh >"$TMP/demo-$seed.log" 2>&1; then rc=0; else rc=$?; fi
  check "demo seed $seed: exits 0 ($rc) in $((SECONDS - t0)) s" [ "$rc" = 0 ]
  check "demo seed $seed: pulsar recovered (pointing, period, DM)" grep -q 'PULSAR RECOVERED' "$TMP/demo-$seed.log"
  grep -A4 '^ *detected' "$TMP/demo-$seed.log" | sed 's/^/# /'
  db=$(ls "$out"/state-*/sluice.db 2>/dev/null | head -n1)
  if [ -z "$db" ]; then
    not_ok "demo seed $seed: state database kept"
    tail -n 30 "$TMP/demo-$seed.log" | sed 's/^/# /'
    continue
  fi
  q() { sqlite3 "$db" "$1"; }
  tasks=$(q "SELECT count(*) FROM tasks") attempts=$(q "SELECT count(*) FROM attempts")
  echo "# demo seed $seed: $tasks tasks, $attempts attempts, $(cat "$out"/state-*/agent-*.log | grep -c ': pulled ') pulls"
  check "demo seed $seed: every task ran exactly once ($attempts attempts for $tasks tasks)" \
    [ "$tasks" -gt 0 -a "$attempts" = "$tasks" ]
  ev=$(q "SELECT count(*) FROM events WHERE kind IN ('lease-expired','host-lost','corrupt','lineage')")
  check "demo seed $seed: no lease expired, host lost, corrupt copy or lineage re-run ($ev)" [ "$ev" = 0 ]
  [ "$ev" = 0 ] || q "SELECT kind, msg FROM events WHERE kind IN ('lease-expired','host-lost','corrupt','lineage')" | sed 's/^/# /'
  check "demo seed $seed: data crossed agents through the data plane" \
    grep -q ': pulled ' "$out"/state-*/agent-*.log
done
