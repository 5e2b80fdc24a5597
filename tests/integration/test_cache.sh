#!/usr/bin/env bash
# The node-local cache through a real controller and agent: reference
# counts (an object disappears when its last consumer finishes, not
# before), final products kept, admission by budget with spill to SSD and
# backpressure when both tiers are full, and on_full: drop-oldest.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

start_controller --lease-ttl 3s

# 1. reference counts: one object, two consumers; the slow one keeps it alive
start_agent c1 --mem "$TMP/mem/c1"
cat > "$TMP/refs.yaml" <<YAML
name: refs
stages:
  - name: make
    command: [sh, -c, 'head -c 100000 /dev/urandom > \$SLUICE_OUT/data.bin; sluice emit "\$1/fast" "\$1/slow"', sh]
    emits: [use]
  - name: use
    command: [sh, -c, 'cmp -s \$SLUICE_IN/data.bin \$SLUICE_IN/data.bin || exit 9; case "\$1" in */slow) touch $TMP/slow.started; while [ ! -e $TMP/slow.go ]; do sleep 0.05; done;; esac; echo ok > \$SLUICE_OUT/result', sh]
    slots: 2
messages:
  - {to: make, key: obj}
YAML
id=$(submit "$TMP/refs.yaml")
obj="$TMP/mem/c1/p$id/make/obj"
wait_for 20 test -e "$TMP/slow.started"
wait_for 10 sh -c "[ \"\$(sqlite3 $STATE/sluice.db \"SELECT state FROM tasks WHERE pipeline_id=$id AND key='obj/fast'\")\" = 2 ]"
sleep 0.5
check "refcount: object still there while its second consumer runs" test -f "$obj/data.bin"
check "refcount: catalog says 1 reference left" [ "$(sql "SELECT refs||state FROM objects WHERE pipeline_id=$id AND key='obj'")" = 1live ]
touch "$TMP/slow.go"
st=$(wait_pipeline "$id" 20)
check "refcount: pipeline completes (state=$st)" [ "$st" = done ]
check "refcount: object deleted after its last consumer" wait_for 10 test ! -e "$obj"
check "refcount: catalog marks it deleted" [ "$(sql "SELECT refs||state FROM objects WHERE pipeline_id=$id AND key='obj'")" = 0deleted ]
check "keep: the final stage's outputs are kept" test -f "$TMP/mem/c1/p$id/use/obj/fast/result"
kill "$AGENT_PID_c1"; wait "$AGENT_PID_c1" 2>/dev/null

# 2. budgets: 2 MiB of memory and 2 MiB of SSD for 1 MiB outputs, 12
#    producers and slow consumers: outputs spill to SSD, then producers wait
start_agent c2 --mem "$TMP/mem/c2" --ssd "$TMP/ssd/c2" --mem-budget 2MiB --ssd-budget 2MiB
cat > "$TMP/spill.yaml" <<YAML
name: spill
stages:
  - name: make
    command: [sh, -c, 'head -c 1048576 /dev/zero > \$SLUICE_OUT/block', sh]
    output_size: 1MiB
    slots: 4
    emits: [use]
  - name: use
    command: [sh, -c, 'sleep 0.3; test \$(stat -c %s \$SLUICE_IN/block) = 1048576', sh]
    keep: true
messages:
  - {to: make, key: "b{01..12}"}
YAML
( while :; do
    n=$(find "$TMP/mem/c2" "$TMP/ssd/c2" -name block 2>/dev/null | wc -l)
    echo "$n" >> "$TMP/spill.samples"; sleep 0.05
  done ) &
sampler=$!; track_pid $sampler
id=$(submit "$TMP/spill.yaml")
st=$(wait_pipeline "$id" 90)
kill "$sampler" 2>/dev/null
check "spill: pipeline completes under a budget smaller than its data (state=$st)" [ "$st" = done ]
tiers=$(sql "SELECT group_concat(DISTINCT tier) FROM (SELECT tier FROM tasks WHERE pipeline_id=$id AND stage=0 ORDER BY tier)")
check "spill: outputs went to memory and spilled to SSD ($tiers)" [ "$tiers" = "mem,ssd" ]
max=$(sort -n "$TMP/spill.samples" | tail -n 1)
check "backpressure: never more than 4 outputs of 1 MiB held at once (max $max)" [ "$max" -le 4 ]
check "spill: every output deleted after use" wait_for 10 sh -c "[ \$(find $TMP/mem/c2 $TMP/ssd/c2 -name block | wc -l) = 0 ]"
kill "$AGENT_PID_c2"; wait "$AGENT_PID_c2" 2>/dev/null

# 3. on_full: drop-oldest: a live stream keeps going, dropping what it must
start_agent c3 --mem "$TMP/mem/c3" --mem-budget 2MiB --ssd-budget 0
cat > "$TMP/drop.yaml" <<YAML
name: drop
stages:
  - name: frames
    command: [sh, -c, 'head -c 1048576 /dev/zero > \$SLUICE_OUT/frame', sh]
    output_size: 1MiB
    on_full: drop-oldest
    emits: [view]
  - name: view
    command: [sh, -c, 'sleep 5', sh]
    placement: group-bound
    group: label:nobody
messages:
  - {to: frames, key: "f{1..5}"}
YAML
id=$(submit "$TMP/drop.yaml")
wait_for 20 sh -c "[ \$(sqlite3 $STATE/sluice.db 'SELECT count(*) FROM tasks WHERE pipeline_id=$id AND stage=0 AND state=2') = 5 ]"
check "drop-oldest: all 5 frames were produced with room for 2" [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND stage=0 AND state=2")" = 5 ]
check "drop-oldest: 3 were dropped, each logged as an event" [ "$(sql "SELECT count(*) FROM events WHERE pipeline_id=$id AND kind='dropped'")" = 3 ]
check "drop-oldest: the newest 2 are kept" [ "$(sql "SELECT group_concat(key) FROM (SELECT key FROM objects WHERE pipeline_id=$id AND state='live' ORDER BY key)")" = "f4,f5" ]
