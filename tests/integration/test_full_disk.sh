#!/usr/bin/env bash
# Full disks lose nothing. The controller's state lives on a small tmpfs
# that the test fills up mid-pipeline: completions the controller cannot
# commit are refused (clear error in its log), the agents keep them and
# retry, and once space is freed the pipeline completes with every task
# done exactly once. A module that fills its own cache tier fails with a
# clear error and is retried. Needs root to mount the tmpfs; skips if not.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

MNT="$TMP/small"; mkdir -p "$MNT"
if ! mount -t tmpfs -o size=8m tmpfs "$MNT" 2>"$TMP/mount.err"; then
  skip "cannot mount a small tmpfs here: $(head -n1 "$TMP/mount.err")"; exit 0
fi
trap 'umount -l "$MNT" 2>/dev/null; _cleanup' EXIT
STATE="$MNT/state"; mkdir -p "$STATE"

start_controller --lease-ttl 5s
start_agent d1

cat > "$TMP/full.yaml" <<YAML
name: full
stages:
  - name: a
    command: [sh, -c, 'sleep 0.05; echo "\$1" >> $TMP/ran.log', sh]
    slots: 2
messages:
  - {to: a, key: "k{001..120}"}
YAML
id=$(submit "$TMP/full.yaml")
wait_for 30 sh -c "[ \$(grep -c . $TMP/ran.log 2>/dev/null || echo 0) -ge 20 ]"
# fill the controller's disk to the last block
dd if=/dev/zero of="$MNT/filler" bs=64k status=none 2>/dev/null
sleep 3
check "with a full disk commits are refused with a clear reason" grep -qiE "database or disk is full|no space" "$TMP/controller.log"
check "the pipeline is still running, not failed" [ "$(pipeline_state "$id")" = running ]
rm -f "$MNT/filler"
st=$(wait_pipeline "$id" 60)
check "after space is freed the pipeline completes (state=$st)" [ "$st" = done ]
check "every task done exactly once in the final state" [ "$(sql "SELECT count(*)||':'||sum(state=2) FROM tasks WHERE pipeline_id=$id")" = "120:120" ]
# ran.log is written at the end of each module's work: one line per run
check_each_once "no task lost, none run twice: every key ran exactly once" 120 "$TMP/ran.log"

# a module that fills its (tiny) memory tier fails clearly and is retried
umount -l "$MNT" 2>/dev/null
MEMT="$TMP/tinymem"; mkdir -p "$MEMT"
mount -t tmpfs -o size=1m tmpfs "$MEMT"
trap 'umount -l "$MEMT" 2>/dev/null; _cleanup' EXIT
STATE="$TMP/state2"; mkdir -p "$STATE"
start_controller --lease-ttl 5s
start_agent d2 --mem "$MEMT"
cat > "$TMP/enospc.yaml" <<YAML
name: enospc
stages:
  - name: w
    command: [sh, -c, 'head -c 4000000 /dev/zero > \$SLUICE_OUT/big', sh]
    retry: {default: 1}
messages:
  - {to: w, key: one}
YAML
id=$(submit "$TMP/enospc.yaml")
st=$(wait_pipeline "$id" 30)
check "a module that fills its cache tier fails (state=$st)" [ "$st" = failed ]
tid=$(sql "SELECT id FROM tasks WHERE pipeline_id=$id")
check "its stderr says there is no space, and it was retried" sh -c "sluice logs $tid | grep -q 'No space left' && [ \$(sqlite3 $STATE/sluice.db 'SELECT attempts FROM tasks WHERE id=$tid') = 2 ]"
check "the failed attempt left no partial output in the tier" sh -c "[ -z \"\$(find $MEMT -type f 2>/dev/null)\" ]"
