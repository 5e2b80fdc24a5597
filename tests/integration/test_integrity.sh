#!/usr/bin/env bash
# Integrity of cached objects end to end (docs/cache.md, "Integrity"):
#  1. a byte of an object flipped on its producer's host after the producer
#     finished is caught when another host pulls it: the copy is discarded,
#     an event `corrupt` is logged and counted in status and /metrics, the
#     object is re-made from its lineage and the consumer reads the right
#     bytes;
#  2. `verify: local`: the same flip on the consumer's own host is caught
#     before the module starts;
#  3. manifests: every object in the catalog carries a per-file XXH3-128.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

start_controller --lease-ttl 3s --http 127.0.0.1:0
start_agent i1 --group a
start_agent i2 --group b

# The producer of k/a writes 3 MB that the consumer can check; k/b waits for
# the test's go-file, so the gather (and its pull) happens only after the
# test has flipped a byte of k/a's object.
yes "integrity" | head -c 3000000 >"$TMP/expected"
mkpipe() { # NAME CONSUMER_GROUP [VERIFY]
  cat >"$TMP/$1.yaml" <<YAML
name: $1
stages:
  - name: p
    command: [sh, -c, 'case "\$1" in */a) cp $TMP/expected "\$SLUICE_OUT/data";; *) while [ ! -e $TMP/go-$1 ]; do sleep 0.05; done; echo b > "\$SLUICE_OUT/data";; esac; echo "\$1" >> $TMP/p-$1.log', sh]
    placement: group-bound
    group: label:a
    slots: 2
    emits: [{to: c, key: "{1}"}]
  - name: c
    command: [sh, -c, 'for d in \$SLUICE_INPUTS; do [ \$(stat -c %s \$d/data) -gt 100 ] || continue; if cmp -s \$d/data $TMP/expected; then echo good >> $TMP/c-$1.log; else echo BAD >> $TMP/c-$1.log; fi; done', sh]
    gather: 2
    placement: group-bound
    group: label:$2
    ${3:+verify: $3}
messages:
  - {to: p, key: "k/a"}
  - {to: p, key: "k/b"}
YAML
}

# flip NAME HOST: flips one byte in the middle of k/a's object on HOST
flip() {
  local f="$TMP/mem/$2/p$3/p/k/a/data"
  wait_for 30 test -s "$f" || return 1
  wait_for 30 sh -c "[ \"\$(sqlite3 '$STATE/sluice.db' \"SELECT state FROM tasks WHERE pipeline_id=$3 AND key='k/a'\")\" = 2 ]" || return 1
  printf 'X' | dd of="$f" bs=1 seek=1500000 conv=notrunc status=none
}

# 1. corrupt at the source, caught on pull
mkpipe pull b
id=$(submit "$TMP/pull.yaml")
check "pull: flipped a byte of the producer's object after it finished" flip pull i1 "$id"
touch "$TMP/go-pull"
st=$(wait_pipeline "$id" 60)
check "pull: pipeline completes (state=$st)" [ "$st" = done ]
check "pull: the consumer read the producer's bytes, never the flipped ones" \
  [ "$(cat "$TMP/c-pull.log" 2>/dev/null)" = good ]
n=$(sql "SELECT count(*) FROM events WHERE pipeline_id=$id AND kind='corrupt'")
check "pull: one corrupt event (got $n)" [ "$n" = 1 ]
sql "SELECT msg FROM events WHERE pipeline_id=$id AND kind='corrupt'" | sed 's/^/# /'
check "pull: the event names the file and the host" \
  sh -c "sqlite3 '$STATE/sluice.db' \"SELECT msg FROM events WHERE pipeline_id=$id AND kind='corrupt'\" | grep -q 'on host i1.*file data'"
check "pull: lineage re-made the object (k/a ran twice)" [ "$(grep -c '^k/a$' "$TMP/p-pull.log")" = 2 ]
check "status shows the integrity warning" sh -c "sluice status $id | grep -q 'integrity: 1 copy'"
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$STATE/addr.http" 2>/dev/null)
check "/metrics counts the corrupt copy" \
  sh -c "curl -sf http://127.0.0.1:$port/metrics | grep -q 'sluice_corrupt_copies{pipeline=\"pull\",id=\"$id\"} 1'"
check "manifests: every file of every object has an XXH3-128" \
  [ "$(sql "SELECT count(*) FROM objects WHERE pipeline_id=$id AND files NOT GLOB '*	[0-9]*	[0-9a-f]*'")" = 0 ]

# 2. verify: local - the consumer runs where the producer ran
mkpipe local a local
id=$(submit "$TMP/local.yaml")
check "local: flipped a byte of the producer's object after it finished" flip local i1 "$id"
touch "$TMP/go-local"
st=$(wait_pipeline "$id" 60)
check "local: pipeline completes (state=$st)" [ "$st" = done ]
check "local: verify: local kept the flipped bytes from the module" \
  [ "$(cat "$TMP/c-local.log" 2>/dev/null)" = good ]
n=$(sql "SELECT count(*) FROM events WHERE pipeline_id=$id AND kind='corrupt'")
check "local: one corrupt event (got $n)" [ "$n" = 1 ]
