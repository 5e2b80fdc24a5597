#!/usr/bin/env bash
# bench/stream.sh - the NERSC comparison on this machine (issue 6, bench (b)):
# a data set of TOTAL bytes in CHUNK-sized objects through a two-stage
# pipeline, producer on one agent and consumer on another, two ways:
#   streamed : the producer writes into its memory tier, `stream: true`
#              pushes each object to the consumer's agent over the data
#              plane as soon as it is complete, the consumer reads it there;
#              reference counts delete it after use (memory to memory).
#   file     : the baseline: the producer writes each chunk to a "shared
#              storage" directory on disk with fsync, the consumer reads it
#              back from the disk (O_DIRECT: storage, not this host's page
#              cache, as a shared file system would serve it) and removes it.
# RUNS runs of each, interleaved; prints median and spread of the pipeline
# wall time (first task start to last task end, from the controller's
# database) and their ratio.
# usage: bench/stream.sh [TOTAL=10G] [CHUNK=256M] [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${1:-10G}; CHUNK=${2:-256M}; RUNS=${3:-5}
tobytes() { numfmt --from=iec "$1"; }
NCH=$(( $(tobytes "$TOTAL") / $(tobytes "$CHUNK") ))
CB=$(tobytes "$CHUNK")
BIN=$PWD/build/bin
TMP=$(mktemp -d /tmp/sluice-stream.XXXXXX)
SHM=$(mktemp -d /dev/shm/sluice-stream.XXXXXX)
SHARED=$(mktemp -d /var/tmp/sluice-shared.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP" "$SHM" "$SHARED"; }
trap cleanup EXIT

"$BIN/sluice" controller --state "$TMP/state" --listen 127.0.0.1:0 --addr-file "$TMP/addr" \
  --lease-ttl 10s >"$TMP/controller.log" 2>&1 &
pids+=($!)
for _ in $(seq 500); do [ -s "$TMP/addr" ] && break; sleep 0.01; done
export SLUICE_CONTROLLER=$(cat "$TMP/addr")
export SLUICE_TOKEN_FILE="$TMP/state/secrets/user.token" SLUICE_JOIN_TOKEN_FILE="$TMP/state/secrets/join.token"
"$BIN/sluice" agent --name prod --group prod --dir "$TMP/prod" --mem "$SHM/prod" \
  --mem-budget 2GiB --ssd-budget 0 >"$TMP/agent-prod.log" 2>&1 &
pids+=($!)
"$BIN/sluice" agent --name cons --group cons --dir "$TMP/cons" --mem "$SHM/cons" \
  --mem-budget 2GiB --ssd-budget 0 >"$TMP/agent-cons.log" 2>&1 &
pids+=($!)
sleep 1

cat > "$TMP/streamed.yaml" <<YAML
name: streamed
stages:
  - name: produce
    command: [sh, -c, 'head -c $CB /dev/zero > \$SLUICE_OUT/chunk', sh]
    placement: group-bound
    group: label:prod
    slots: 2
    output_size: $CB
    emits: [{to: consume, stream: true}]
  - name: consume
    command: [sh, -c, 'cat \$SLUICE_IN/chunk > /dev/null', sh]
    placement: group-bound
    group: label:cons
    slots: 2
messages:
  - {to: produce, key: "c{1..$NCH}"}
YAML
cat > "$TMP/file.yaml" <<YAML
name: file
stages:
  - name: produce
    command: [sh, -c, 'dd if=/dev/zero of=$SHARED/\$(echo \$1 | tr / _) bs=4M count=$((CB / 4194304)) conv=fsync status=none', sh]
    placement: group-bound
    group: label:prod
    slots: 2
    emits: [consume]
  - name: consume
    command: [sh, -c, 'f=$SHARED/\$(echo \$1 | tr / _); dd if=\$f of=/dev/null bs=4M iflag=direct status=none && rm -f \$f', sh]
    placement: group-bound
    group: label:cons
    slots: 2
messages:
  - {to: produce, key: "c{1..$NCH}"}
YAML
sql() { sqlite3 "$TMP/state/sluice.db" "$1"; }
run() { # FILE -> seconds
  local id st
  id=$("$BIN/sluice" submit --json "$1" | sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p')
  while :; do
    st=$(sql "SELECT state FROM pipelines WHERE id=$id")
    [ "$st" != running ] && break
    sleep 0.1
  done
  [ "$st" = done ] || { echo "pipeline $1 ended $st" >&2; exit 1; }
  sql "SELECT printf('%.3f', max(finished)-min(started)) FROM tasks WHERE pipeline_id=$id"
}
echo "data set: $TOTAL in $NCH objects of $CHUNK; $RUNS runs each, interleaved"
s=(); f=()
for i in $(seq "$RUNS"); do
  s+=("$(run "$TMP/streamed.yaml")")
  f+=("$(run "$TMP/file.yaml")")
  echo "run $i: streamed ${s[-1]} s, file ${f[-1]} s"
done
stats() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "median %.2f s (min %.2f, max %.2f)", m, v[1], v[NR]}'; }
med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
gb=$(echo "$(tobytes "$TOTAL") / 1000000000" | bc -l)
ms=$(med "${s[@]}"); mf=$(med "${f[@]}")
printf 'streamed memory to memory: %s = %.2f GB/s\n' "$(stats "${s[@]}")" "$(echo "$gb / $ms" | bc -l)"
printf 'file-based (fsync + read): %s = %.2f GB/s\n' "$(stats "${f[@]}")" "$(echo "$gb / $mf" | bc -l)"
printf 'streamed is %.2fx faster than the file-based baseline (NERSC reported up to 14x on their system)\n' \
  "$(echo "$mf / $ms" | bc -l)"
pushed=$(grep -c "pushed " "$TMP/agent-prod.log" || true)
echo "objects pushed by the producer's agent: $pushed"
