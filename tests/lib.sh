# Shared helpers for shell tests (sourced). TAP output: ok/not ok lines.
# Every test script: `. "$(dirname "$0")/../lib.sh"` (path relative to it).
set -u
SLUICE_ROOT="${SLUICE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export PATH="$SLUICE_ROOT/build/bin:$PATH"
_tap_n=0
ok()      { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok()  { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $*"; }
skip()    { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - # SKIP $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check()   { local d="$1"; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# check_each_once DESCRIPTION EXPECTED FILE: every line of FILE (one key per
# line, e.g. written by a module at the end of its work) appears exactly once
# and there are EXPECTED lines in all. Unlike `sort -u | wc -l` this fails on
# a key that ran twice; the failure's diagnostic lists the repeated keys.
# FILE may be a process substitution: <(cut -d' ' -f1 "$log").
check_each_once() {
  local d="$1" want="$2" lines n dups
  lines=$(cat "$3" 2>/dev/null)
  n=$(printf '%s' "$lines" | grep -c '')
  dups=$(printf '%s\n' "$lines" | grep -v '^$' | sort | uniq -c |
         awk '$1 != 1 { c = $1; sub(/^ *[0-9]+ /, ""); printf "%s%s (x%d)", sep, $0, c; sep = ", " }')
  if [ -z "$dups" ] && [ "$n" = "$want" ]; then
    ok "$d"
  else
    not_ok "$d"
    echo "#   $n lines for $want expected keys"
    [ -z "$dups" ] || echo "#   ran more than once: $(printf '%s' "$dups" | cut -c1-1500)"
  fi
}
# Temporary directory removed at exit; PIDs in _pids are killed at exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")
_pids=()
_cleanup() {
  local p
  for p in "${_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${_pids[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap _cleanup EXIT
track_pid() { _pids+=("$1"); }
# wait_for SECONDS COMMAND...: polls (10 ms) until the command succeeds
wait_for() {
  local limit="$1"; shift
  local end=$((SECONDS + limit))
  while ! "$@" 2>/dev/null; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.01
  done
}
