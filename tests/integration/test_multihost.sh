#!/usr/bin/env bash
# sluice across hosts that only meet over a network: a controller and four
# agents, each in its own network namespace, joined by a bridge that lives
# in a namespace of its own (10.214.0.0/24). Every packet is sent from inside
# a namespace. Checks: a gather whose inputs sit on 3 hosts completes on a
# 4th with every byte verified; stream: true pushes an output to its
# consumer's host; an agent killed while holding needed data gets that data
# re-made elsewhere (lineage) and the pipeline completes; a data-plane
# request without a valid capability is refused.
# Without permission for namespaces the test says so and skips.
. "$(dirname "$0")/../lib.sh"

P="slm$$"
BR="${P}br"; CTL_NS="${P}c"
HOSTS=(h1 h2 h3 h4)
SHM=$(mktemp -d /dev/shm/sluice-multihost.XXXXXX)
ns_cleanup() {
  for n in "$CTL_NS" "${HOSTS[@]/#/$P}" "$BR"; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$SHM"
}
trap '_cleanup; ns_cleanup' EXIT

if ! command -v ip >/dev/null; then skip "network namespaces: iproute2 not installed"; exit 0; fi
if ! ip netns add "$BR" 2>"$TMP/ns.err"; then
  skip "network namespaces not permitted here: $(head -n1 "$TMP/ns.err")"; exit 0
fi
wire() { # NS IP: a namespace joined to the bridge
  local ns="$1" ip="$2" a="${1}a" b="${1}b"
  ip netns add "$ns" && ip link add "${a:0:15}" type veth peer name "${b:0:15}" &&
  ip link set "${a:0:15}" netns "$ns" && ip link set "${b:0:15}" netns "$BR" &&
  ip -n "$ns" addr add "$ip/24" dev "${a:0:15}" && ip -n "$ns" link set "${a:0:15}" up &&
  ip -n "$ns" link set lo up && ip -n "$BR" link set "${b:0:15}" master br0 &&
  ip -n "$BR" link set "${b:0:15}" up
}
if ! { ip -n "$BR" link add br0 type bridge && ip -n "$BR" link set br0 up &&
       wire "$CTL_NS" 10.214.0.1 && wire "${P}h1" 10.214.0.11 && wire "${P}h2" 10.214.0.12 &&
       wire "${P}h3" 10.214.0.13 && wire "${P}h4" 10.214.0.14; } 2>"$TMP/ns.err"; then
  skip "could not build the test network: $(head -n1 "$TMP/ns.err")"; exit 0
fi
ok "5 namespaces on a bridge: controller 10.214.0.1, agents h1..h4 at .11-.14"

BIN="$SLUICE_ROOT/build/bin/sluice"
STATE="$TMP/state"; mkdir -p "$STATE"
in_ctl() { ip netns exec "$CTL_NS" env SLUICE_CONTROLLER=10.214.0.1:7470 "$BIN" "$@"; }
sql() { sqlite3 "$STATE/sluice.db" "$1"; }
ip netns exec "$CTL_NS" "$BIN" controller --state "$STATE" --listen 10.214.0.1:7470 \
  --lease-ttl 3s >"$TMP/controller.log" 2>&1 &
track_pid $!
# the controller makes its credentials at start: the CLI and agents use them
wait_for 10 test -s "$STATE/secrets/join.token"
export SLUICE_TOKEN_FILE="$STATE/secrets/user.token" SLUICE_JOIN_TOKEN_FILE="$STATE/secrets/join.token"
declare -A APID
agent() { # NAME GROUP
  ip netns exec "$P$1" "$BIN" agent --controller 10.214.0.1:7470 --name "$1" --group "$2" \
    --dir "$TMP/agents/$1" --mem "$SHM/$1" --wait 1000 >>"$TMP/agent-$1.log" 2>&1 &
  APID[$1]=$!; track_pid $!
}
agent h1 producers; agent h2 producers; agent h3 producers
wait_for 15 sh -c "[ \$(sqlite3 $STATE/sluice.db \"SELECT count(*) FROM hosts WHERE state='up'\" 2>/dev/null || echo 0) = 3 ]"
check "three agents registered from their namespaces" [ "$(sql "SELECT count(*) FROM hosts WHERE addr LIKE '10.214.0.1_:%'")" = 3 ]

wait_state() { # ID SECONDS
  local end=$((SECONDS + $2)) st=
  while [ $SECONDS -lt $end ]; do
    st=$(sql "SELECT state FROM pipelines WHERE id=$1")
    [ "$st" != running ] && break; sleep 0.2
  done; echo "$st"
}

# 1. gather across hosts: parts pinned to h1, h2, h3 (to_host), the join
#    runs on h4 (the only "joiners" host) and must pull all three
cat > "$TMP/gather.yaml" <<'YAML'
name: xgather
stages:
  - name: part
    command: [sh, -c, 'head -c 3000000 /dev/urandom > $SLUICE_OUT/data.bin && cd $SLUICE_OUT && sha256sum data.bin > data.sha && echo $SLUICE_HOST > made_on', sh]
    placement: host-bound
    emits: [{to: join, key: "{1}"}]
  - name: join
    command: [sh, -c, 'for d in $SLUICE_INPUTS; do (cd $d && sha256sum -c --quiet data.sha) || exit 7; cat $d/made_on; done | sort | tr "\n" " " > $SLUICE_OUT/from', sh]
    placement: group-bound
    group: label:joiners
    gather: 3
messages:
  - {to: part, key: g/a, headers: {to_host: h1}}
  - {to: part, key: g/b, headers: {to_host: h2}}
  - {to: part, key: g/c, headers: {to_host: h3}}
YAML
id=$(in_ctl submit --json "$TMP/gather.yaml" | sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p')
wait_for 20 sh -c "[ \$(sqlite3 $STATE/sluice.db 'SELECT count(*) FROM tasks WHERE pipeline_id=$id AND stage=0 AND state=2') = 3 ]"
agent h4 joiners
st=$(wait_state "$id" 40)
check "gather across 3 hosts completes on a 4th (state=$st)" [ "$st" = done ]
check "the parts ran on h1, h2, h3" [ "$(sql "SELECT group_concat(host) FROM (SELECT host FROM tasks WHERE pipeline_id=$id AND stage=0 ORDER BY host)")" = "h1,h2,h3" ]
check "the join ran on h4" [ "$(sql "SELECT host FROM tasks WHERE pipeline_id=$id AND stage=1")" = h4 ]
check "every byte verified: the join saw h1 h2 h3 data with matching sha256" [ "$(cat "$SHM/h4/p$id/join/g/from")" = "h1 h2 h3 " ]
check "h4 pulled three inputs over the data plane" [ "$(grep -c "pulled p$id/part/g/" "$TMP/agent-h4.log")" = 3 ]
check "the parts' outputs are deleted on their hosts once joined" wait_for 10 sh -c "! ls -d $SHM/h1/p$id/part/g/a $SHM/h2/p$id/part/g/b $SHM/h3/p$id/part/g/c >/dev/null 2>&1"

# 2. stream: true: h1's output is pushed to h4 as soon as it is complete
cat > "$TMP/stream.yaml" <<'YAML'
name: xstream
stages:
  - name: produce
    command: [sh, -c, 'head -c 2000000 /dev/urandom > $SLUICE_OUT/frame && sha256sum < $SLUICE_OUT/frame > $SLUICE_OUT/sum', sh]
    placement: host-bound
    emits: [{to: consume, stream: true}]
  - name: consume
    command: [sh, -c, 'sleep 1; [ "$(sha256sum < $SLUICE_IN/frame)" = "$(cat $SLUICE_IN/sum)" ]', sh]
    placement: group-bound
    group: label:joiners
messages:
  - {to: produce, key: s/1, headers: {to_host: h1}}
YAML
id=$(in_ctl submit --json "$TMP/stream.yaml" | sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p')
st=$(wait_state "$id" 30)
check "stream: pipeline completes (state=$st)" [ "$st" = done ]
check "stream: h1 pushed its output to h4" grep -q "pushed p$id/produce/s/1 to h4" "$TMP/agent-h1.log"
check "stream: h4 did not have to pull it" sh -c "! grep -q 'pulled p$id/produce/' $TMP/agent-h4.log"

# 3. lineage: h2 makes an object that only h4 can consume; h4 is stopped,
#    h2 is killed holding the only copy; the object is made again elsewhere
kill "${APID[h4]}"; wait "${APID[h4]}" 2>/dev/null
cat > "$TMP/lineage.yaml" <<'YAML'
name: xlineage
stages:
  - name: make
    command: [sh, -c, 'echo "made by $SLUICE_HOST" > $SLUICE_OUT/note', sh]
    placement: host-bound
    emits: [use]
  - name: use
    command: [sh, -c, 'cat $SLUICE_IN/note > $SLUICE_OUT/seen', sh]
    placement: group-bound
    group: label:joiners
messages:
  - {to: make, key: l/1, headers: {to_host: h2}}
YAML
id=$(in_ctl submit --json "$TMP/lineage.yaml" | sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p')
wait_for 20 sh -c "[ \"\$(sqlite3 $STATE/sluice.db 'SELECT state FROM tasks WHERE pipeline_id=$id AND stage=0')\" = 2 ]"
kill -9 "${APID[h2]}"; wait "${APID[h2]}" 2>/dev/null
# (its memory tier stays: as after a network partition, the host may return)
agent h4 joiners
st=$(wait_state "$id" 40)
check "lineage: pipeline completes after the host holding its data died (state=$st)" [ "$st" = done ]
check "lineage: the controller logged the re-run" [ "$(sql "SELECT count(*) FROM events WHERE pipeline_id=$id AND kind='lineage'")" = 1 ]
remade=$(sql "SELECT host FROM tasks WHERE pipeline_id=$id AND stage=0")
check "lineage: the object was re-made on a live host ($remade)" eval '[ -n "$remade" ] && [ "$remade" != h2 ]'
check "lineage: the consumer read the re-made data" grep -q "made by $remade" "$SHM/h4/p$id/use/l/1/seen"
check "the dead host's copy is orphaned on its disk" test -e "$SHM/h2/p$id/make/l/1/note"
agent h2 producers
wait_for 15 grep -q "orphaned pipeline" "$TMP/agent-h2.log"
check "a host back from being lost wipes its orphaned objects" test ! -e "$SHM/h2/p$id"

# 4. the data plane refuses requests without a valid capability
addr=$(sql "SELECT addr FROM hosts WHERE name='h1'")
ip netns exec "$CTL_NS" "$SLUICE_ROOT/build/bin/sluice-dp" stat "$addr" mem/x --cap wrong >"$TMP/tok.out" 2>&1
check "a request with an invalid capability is refused" grep -qi "refused: malformed capability" "$TMP/tok.out"
