#!/usr/bin/env bash
# The CLI's side of pipeline validation: every malformed file in
# tests/yaml/bad is refused by `sluice validate` with its specific
# "file:line:col: message" (the first-line `# expect:` of each file), and
# `sluice run` refuses a bad file before starting any daemon.
. "$(dirname "$0")/../lib.sh"
cd "$SLUICE_ROOT"
n=0; bad=0
for f in tests/yaml/bad/*.yaml; do
  want=$(sed -n '1s/^# expect: //p' "$f")
  [ -n "$want" ] || continue
  n=$((n + 1))
  out=$(sluice validate "$f" 2>&1); rc=$?
  if [ $rc -ne 2 ] || ! grep -qF -- "$f:$want" <<<"$out"; then
    bad=$((bad + 1)); echo "# $f: rc=$rc, got: $out"; echo "#   want: $f:$want"
  fi
done
check "sluice validate gives the expected file:line:col error and exit 2 for all $n bad files ($bad wrong)" eval '[ "$bad" = 0 ] && [ "$n" -ge 25 ]'
for f in tests/yaml/good/*.yaml; do
  check "sluice validate accepts $f" sluice validate "$f"
done
out=$(cd "$TMP" && sluice run "$SLUICE_ROOT/tests/yaml/bad/cycle.yaml" 2>&1); rc=$?
check "sluice run refuses a cyclic pipeline with exit 2 before starting anything" eval '[ $rc = 2 ] && [ ! -d "$TMP/.sluice" ]'
check "sluice run names the cycle" grep -q "cycle" <<<"$out"
check "sluice --help lists the commands" sh -c 'sluice --help | grep -q "run " && sluice --help | grep -q "hosts"'
for c in controller agent submit validate status tasks logs retry cancel hosts emit run; do
  check "sluice $c --help" sh -c "sluice $c --help | grep -q '^usage: sluice $c'"
done
check "an unknown command exits 2" sh -c 'sluice frobnicate 2>/dev/null; [ $? = 2 ]'
check "sluice status without a controller explains what to do" sh -c \
  'SLUICE_CONTROLLER=127.0.0.1:1 sluice status --once 2>&1 | grep -q "hint: is a controller running"'
check "retry, cancel and emit take --json" sh -c 'for c in retry cancel emit; do sluice $c --help | grep -q -- --json || exit 1; done'
