#!/usr/bin/env bash
# Runs every test of the project and prints the closing line
# "N passed, N failed, N skipped". Unit tests are the cmocka programs in
# build/test/ (TAP output); integration and science tests are
# tests/**/test_*.sh scripts and modules/*/tests/test_*.sh, which print TAP
# lines ("ok - ...", "not ok - ...", "ok - # SKIP ..."). A TAP line with a
# "# SKIP" directive counts as skipped, never as passed (cmocka writes
# "not ok N # SKIP"); a script whose lines are all skips passes nothing.
# A program or script that exits non-zero without reporting a failure counts
# as one failure; one that reports nothing counts as one failure.
# With CI=true in the environment every skip (container, Slurm, network
# namespace, missing tool: anything) counts as a failure instead: CI installs
# everything (.ci/run), so a test that could not run there is a broken run.
# Exit status: 0 when nothing failed.
# Usage: tests/run.sh [FILTER]   (FILTER: substring of a test path)
set -u
cd "$(dirname "$0")/.."
filter="${1:-}"
export CMOCKA_MESSAGE_OUTPUT=TAP
export SLUICE_ROOT="$PWD"
export PATH="$PWD/build/bin:$PATH"
logdir=build/test-logs
mkdir -p "$logdir"
ci=0; [ "${CI:-}" = true ] && ci=1
pass=0; fail=0; skipped=0; failed_names=(); skipped_names=()
skip_re='^(not )?ok [^#]*#[[:space:]]*skip'

run_one() { # name, command...
  local name="$1"; shift
  local log="$logdir/$(echo "$name" | tr '/' '_').log"
  local t0=$SECONDS
  "$@" >"$log" 2>&1
  local rc=$?
  local p f s
  s=$(grep -ciE "$skip_re" "$log")
  p=$(grep -E '^ok ' "$log" | grep -ciEv "$skip_re")
  f=$(grep -E '^not ok ' "$log" | grep -ciEv "$skip_re")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then f=1; echo "not ok - $name reported no test" >>"$log"; fi
  local note=""
  if [ "$s" -ne 0 ] && [ "$ci" = 1 ]; then
    f=$((f + s)); note="  (CI=true: $s skip(s) counted as failed)"; s=0
  fi
  pass=$((pass + p)); fail=$((fail + f)); skipped=$((skipped + s))
  printf '%-52s %3d passed %3d failed %3d skipped  (%ds)%s\n' "$name" "$p" "$f" "$s" $((SECONDS - t0)) "$note"
  if [ "$s" -ne 0 ]; then
    skipped_names+=("$name")
    grep -iE "$skip_re" "$log" | head -n 5 | sed 's/^/    /'
  fi
  if [ "$f" -ne 0 ]; then
    failed_names+=("$name")
    # each failure with the "# ..." diagnostic lines that follow it
    awk -v re="$skip_re" -v ci="$ci" '
      /^(not )?ok / { show = 0 }
      (/^not ok / && tolower($0) !~ re) || (ci && tolower($0) ~ re) { show = 1; n++; if (n > 20) exit; print; next }
      show && /^#/ { print; next }
      { show = 0 }' "$log" | head -n 60 | sed 's/^/    /'
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

if [ ${#skipped_names[@]} -gt 0 ]; then
  echo "skipped: ${skipped_names[*]}"
fi
if [ ${#failed_names[@]} -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
