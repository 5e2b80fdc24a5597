#!/usr/bin/env bash
# Runs every test of the project and prints the closing line
# "N passed, N failed". Unit tests are the cmocka programs in build/test/
# (TAP output); integration and science tests are tests/**/test_*.sh scripts
# and modules/*/tests/test_*.sh, which print TAP lines ("ok - ...",
# "not ok - ..."). A program or script that exits non-zero without reporting a
# failure counts as one failure; one that reports nothing counts as one failure.
# Usage: tests/run.sh [FILTER]   (FILTER: substring of a test path)
set -u
cd "$(dirname "$0")/.."
filter="${1:-}"
export CMOCKA_MESSAGE_OUTPUT=TAP
export SLUICE_ROOT="$PWD"
export PATH="$PWD/build/bin:$PATH"
logdir=build/test-logs
mkdir -p "$logdir"
pass=0; fail=0; failed_names=()

run_one() { # name, command...
  local name="$1"; shift
  local log="$logdir/$(echo "$name" | tr '/' '_').log"
  local t0=$SECONDS
  "$@" >"$log" 2>&1
  local rc=$?
  local p f
  p=$(grep -cE '^ok ' "$log")
  f=$(grep -cE '^not ok ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name reported no test" >>"$log"; fi
  pass=$((pass + p)); fail=$((fail + f))
  printf '%-52s %3d passed %3d failed  (%ds)\n' "$name" "$p" "$f" $((SECONDS - t0))
  if [ "$f" -ne 0 ]; then
    failed_names+=("$name")
    grep -E '^not ok ' "$log" | head -n 20 | sed 's/^/    /'
    echo "    (log: $log; last lines:)"; tail -n 15 "$log" | sed 's/^/    | /'
  fi
}

for t in build/test/*; do
  [ -x "$t" ] || continue
  case "$t" in *"$filter"*) ;; *) continue ;; esac
  run_one "unit/$(basename "$t")" "$t"
done
for t in $(find tests modules -name 'test_*.sh' -type f | sort); do
  case "$t" in *"$filter"*) ;; *) continue ;; esac
  run_one "$t" bash "$t"
done

if [ ${#failed_names[@]} -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
