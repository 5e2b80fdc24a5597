#!/usr/bin/env bash
# bench/runtime.sh - per-task overhead of each runtime for a no-op module,
# through the real agent: `sluice run` of a pipeline of N tasks (default 50,
# one slot, so tasks run one after another) per runtime, in one run:
#   process            /bin/true as a plain child (the floor: what every
#                      other figure is compared to)
#   bwrap              /bin/true in a bubblewrap sandbox
#   podman (reuse)     `true` in sluice/busybox via `podman exec` into the
#                      slot container (the default)
#   podman (no reuse)  one `podman run --rm` per task (SLUICE_CONTAINER_REUSE=0)
#   ch-run             `true` in the directory image of sluice/busybox
# Per task: the mean attempt time the agent recorded (finished - started:
# start, run, reap) and the wall time of the whole pipeline / N. Runtimes
# that are not installed are reported and skipped. Usage: bench/runtime.sh [N]
set -u
cd "$(dirname "$0")/.."
export PATH="$PWD/build/bin:$PATH" USER="${USER:-$(id -un)}"
N="${1:-50}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-runtime.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
have_podman=0
if command -v podman >/dev/null && make --no-print-directory -s images >"$tmp/images.log" 2>&1; then
  have_podman=1
  export SLUICE_CH_IMAGES="$tmp/ch"
  command -v ch-run >/dev/null && dockerfiles/ch-image.sh sluice/busybox:0.1.0 >/dev/null 2>&1
else
  echo "(podman or the images are missing: scripts/install-deps.sh --containers; make images)"
fi

base_ms=""
one() { # label runtime command [image] [env...]
  local label="$1" rt="$2" cmd="$3" img="${4:-}"
  shift 4 2>/dev/null || shift $#
  local y="$tmp/$rt-$RANDOM.yaml" st="$tmp/state-$RANDOM"
  {
    echo "name: bench-runtime"
    echo "stages:"
    echo "  - name: t"
    echo "    runtime: $rt"
    [ -n "$img" ] && echo "    image: $img"
    echo "    command: [$cmd]"
    echo "messages:"
    echo "  - {to: t, key: \"k{1..$N}\"}"
  } >"$y"
  local t0 t1
  t0=$(date +%s.%N)
  if ! env "$@" sluice run --agents 1 --quiet --state "$st" "$y" >"$tmp/run.log" 2>&1; then
    printf '%-20s FAILED (%s)\n' "$label" "$(tail -n 1 "$tmp/run.log")"
    return
  fi
  t1=$(date +%s.%N)
  local att wall
  att=$(sqlite3 "$st/sluice.db" "SELECT printf('%.1f', 1000.0 * avg(finished - started)) FROM tasks WHERE state = 2")
  wall=$(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN{printf "%.1f", 1000 * (b - a) / n}')
  [ -n "$base_ms" ] || base_ms="$att"
  printf '%-20s %8s ms/task (agent)  %8s ms/task (wall)  %7sx process\n' "$label" "$att" "$wall" \
    "$(awk -v a="$att" -v b="$base_ms" 'BEGIN{printf "%.0f", (b > 0 ? a / b : 0)}')"
}

echo "runtime overhead: $N no-op tasks per runtime, one slot, through sluice run"
one process process /bin/true ""
if command -v bwrap >/dev/null; then one bwrap bwrap /bin/true ""; else echo "bwrap: not installed"; fi
if [ $have_podman = 1 ]; then
  one "podman (reuse)" podman true sluice/busybox:0.1.0
  one "podman (no reuse)" podman true sluice/busybox:0.1.0 SLUICE_CONTAINER_REUSE=0
  if [ -d "$tmp/ch" ]; then one ch-run charliecloud true sluice/busybox:0.1.0; else echo "ch-run: not installed"; fi
fi
echo "(the floor is the process runtime: posix_spawn-class cost plus the agent's bookkeeping;"
echo " container figures include the runtime's own CLI start-up on 2 shared cores)"
