#!/usr/bin/env bash
# Runs every libFuzzer harness in build/fuzz/bin (or those named) for
# FUZZ_SECONDS each (default 10) on a copy of its seed corpus, and prints one
# TAP line per harness. A crash, leak, timeout or sanitizer report fails it;
# the reproducer is kept in build/fuzz/crashes/NAME/ and its path printed.
# The committed corpus is read, never written: new inputs go to a scratch
# copy (merge them by hand with -merge=1 when they are worth keeping).
# Usage: tests/fuzz/run.sh [NAME...]
set -u
cd "$(dirname "$0")/../.."
secs="${FUZZ_SECONDS:-10}"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for b in build/fuzz/bin/fuzz_*; do [ -x "$b" ] && names+=("$(basename "$b")"); done
fi
if [ ${#names[@]} -eq 0 ]; then
  echo "not ok - no fuzzers built (make build-fuzz)"; exit 1
fi
rc=0
for n in "${names[@]}"; do
  bin="build/fuzz/bin/$n"
  if [ ! -x "$bin" ]; then echo "not ok - $n: $bin not built"; rc=1; continue; fi
  seed="tests/fuzz/corpus/$n"
  if [ ! -d "$seed" ] || [ -z "$(ls -A "$seed" 2>/dev/null)" ]; then
    echo "not ok - $n: no seed corpus in $seed"; rc=1; continue
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz-$n.XXXXXX")
  crashes="build/fuzz/crashes/$n"; mkdir -p "$crashes" "$work/corpus"
  cp -r "$seed"/. "$work/corpus/"
  log="$work/log"
  # one worker: CI machines are shared; -rss_limit_mb keeps a leak bounded;
  # an allocation a header field made absurd is a crash, not a NULL
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$work/corpus" >"$log" 2>&1
  r=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  if [ $r -eq 0 ]; then
    echo "ok - $n: ${runs:-0} inputs in ${secs} s, no crash"
  else
    echo "not ok - $n: fuzzer exit $r after ${runs:-?} inputs; reproducers in $crashes/"
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5 | sed 's/^/# /'
    rc=1
  fi
  rm -rf "$work"
done
exit $rc
