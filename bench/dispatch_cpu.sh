#!/usr/bin/env bash
# bench/dispatch_cpu.sh - where a short task's CPU goes: runs N `/bin/true`
# tasks (slots 4) through a controller and 2 agents and prints the CPU time
# (utime+stime from /proc/PID/stat) of the controller, the agents and the
# modules (the agents' reaped children), per task.
# usage: bench/dispatch_cpu.sh [N=5000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
B=$PWD/build/bin/sluice
T=$(mktemp -d /tmp/sluice-cpu.XXXXXX); S=$(mktemp -d /dev/shm/sluice-cpu.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T" "$S"; }
trap cleanup EXIT
"$B" controller --state "$T/st" --listen 127.0.0.1:0 --addr-file "$T/addr" >"$T/c.log" 2>&1 &
CP=$!; pids+=($CP)
for _ in $(seq 500); do [ -s "$T/addr" ] && break; sleep 0.01; done
export SLUICE_CONTROLLER=$(cat "$T/addr")
export SLUICE_TOKEN_FILE="$T/st/secrets/user.token" SLUICE_JOIN_TOKEN_FILE="$T/st/secrets/join.token"
"$B" agent --name c1 --dir "$T/a1" --mem "$S/m1" >"$T/a1.log" 2>&1 & A1=$!; pids+=($A1)
"$B" agent --name c2 --dir "$T/a2" --mem "$S/m2" >"$T/a2.log" 2>&1 & A2=$!; pids+=($A2)
sleep 0.5
printf 'name: cpu\nstages:\n  - name: t\n    command: [/bin/true]\n    slots: 4\nmessages:\n  - {to: t, key: "n{1..%d}"}\n' "$N" >"$T/p.yaml"
t0=$(date +%s.%N)
"$B" submit "$T/p.yaml" >/dev/null
until [ "$(sqlite3 "$T/st/sluice.db" 'SELECT count(*) FROM tasks WHERE state=2')" = "$N" ]; do sleep 0.1; done
wall=$(echo "$(date +%s.%N) - $t0" | bc -l)
cpu() { awk -v f="$2" '{ print ($f + $(f+1)) / 100 }' "/proc/$1/stat"; }  # field 14: own, 16: children
c=$(cpu $CP 14); a=$(echo "$(cpu $A1 14) + $(cpu $A2 14)" | bc -l); m=$(echo "$(cpu $A1 16) + $(cpu $A2 16)" | bc -l)
printf '%d /bin/true tasks in %.2f s (%.0f tasks/s)\n' "$N" "$wall" "$(echo "$N / $wall" | bc -l)"
printf 'CPU per task: modules %.3f ms, agents %.3f ms, controller %.3f ms\n' \
  "$(echo "1000 * $m / $N" | bc -l)" "$(echo "1000 * $a / $N" | bc -l)" "$(echo "1000 * $c / $N" | bc -l)"
