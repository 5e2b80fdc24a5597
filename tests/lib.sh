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
