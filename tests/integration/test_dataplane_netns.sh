#!/usr/bin/env bash
# Data plane between two "hosts": two network namespaces joined by a veth
# pair (10.213.0.1/24 and 10.213.0.2/24). The server runs in one, the client
# in the other, so every packet is sent from inside a namespace and none from
# the host's own. Namespaces and links are removed at exit. Where namespaces
# are not permitted (no root, no CAP_NET_ADMIN, no iproute2) the test prints a
# SKIP line with the reason instead of pretending. Each server has its own
# key derived from one master key (as the controller does), so a capability
# minted for one host is worthless on the other; the pull is repeated over
# TLS with a certificate for the server's IP address.
. "$(dirname "$0")/../lib.sh"

BIN="$SLUICE_ROOT/build/bin/sluice-dp"
[ -x "$BIN" ] || { not_ok "build/bin/sluice-dp missing (make build/bin/sluice-dp)"; exit 1; }
NS1="sldp-a-$$"; NS2="sldp-b-$$"; VA="sldpa$$"; VB="sldpb$$"
VA=${VA:0:15}; VB=${VB:0:15}
SHM=$(mktemp -d /dev/shm/sluice-dp-ns.XXXXXX)
netns_cleanup() {
  ip netns del "$NS1" 2>/dev/null
  ip netns del "$NS2" 2>/dev/null
  ip link del "$VA" 2>/dev/null
  rm -rf "$SHM"
}
trap '_cleanup; netns_cleanup' EXIT

if ! command -v ip >/dev/null; then skip "network namespaces: iproute2 (ip) not installed"; exit 0; fi
if ! ip netns add "$NS1" 2>"$TMP/ns.err"; then
  skip "network namespaces not permitted here: $(head -n1 "$TMP/ns.err")"; exit 0
fi
if ! { ip netns add "$NS2" && ip link add "$VA" type veth peer name "$VB" &&
       ip link set "$VA" netns "$NS1" && ip link set "$VB" netns "$NS2" &&
       ip -n "$NS1" addr add 10.213.0.1/24 dev "$VA" && ip -n "$NS2" addr add 10.213.0.2/24 dev "$VB" &&
       ip -n "$NS1" link set lo up && ip -n "$NS2" link set lo up &&
       ip -n "$NS1" link set "$VA" up && ip -n "$NS2" link set "$VB" up; } 2>"$TMP/ns.err"; then
  skip "could not wire two namespaces with a veth pair: $(head -n1 "$TMP/ns.err")"; exit 0
fi
ok "two namespaces joined by a veth pair (10.213.0.1 <-> 10.213.0.2)"

A="$SHM/hostA"; B="$SHM/hostB"; mkdir -p "$A" "$B"
openssl rand -hex 32 >"$TMP/master"
KA=$("$BIN" key --master-file "$TMP/master" hostA)
KB=$("$BIN" key --master-file "$TMP/master" hostB)
# capA OP PATH: a capability for host A's server, for reader hostB
capA() { "$BIN" cap --key "$KA" --op "$1" --reader hostB --ttl 600 "$2"; }
head -c $((5 << 20)) /dev/urandom >"$A/chan.dat"
head -c 777777 /dev/urandom >"$B/out.dat"

# ip netns exec execs the program, so $! is the server's own PID.
ip netns exec "$NS1" "$BIN" serve --root mem="$A" --listen 10.213.0.1:0 --key "$KA" \
  --block-size 256k >"$TMP/a.port" 2>"$TMP/a.err" &
SA=$!; track_pid $SA
ip netns exec "$NS2" "$BIN" serve --root mem="$B" --listen 10.213.0.2:0 --key "$KB" \
  >"$TMP/b.port" 2>"$TMP/b.err" &
SB=$!; track_pid $SB
wait_for 5 test -s "$TMP/a.port" && wait_for 5 test -s "$TMP/b.port"
PA=$(head -n1 "$TMP/a.port"); PB=$(head -n1 "$TMP/b.port")
check "data servers listening inside both namespaces" test -n "$PA" -a -n "$PB"

# host B pulls from host A over the veth, 4 streams
ip netns exec "$NS2" "$BIN" get "10.213.0.1:$PA" mem/chan.dat "$B/chan.dat" --cap "$(capA r chan.dat)" \
  --streams 4 --min-chunk 256k >"$TMP/get.out" 2>&1
sed 's/^/# /' "$TMP/get.out"
check "B fetched A's object across namespaces, byte-exact" cmp -s "$A/chan.dat" "$B/chan.dat"
check "fetch used 4 streams" grep -q "streams=4" "$TMP/get.out"

# host B pushes to host A (the stream: true pattern)
ip netns exec "$NS2" "$BIN" put "10.213.0.1:$PA" "$B/out.dat" mem/in/out.dat --cap "$(capA p in)" \
  >"$TMP/put.out" 2>&1
check "B pushed to A across namespaces, byte-exact, into A's staging area" \
  cmp -s "$B/out.dat" "$A/.pushed/in/out.dat"

# a capability for A's server is worthless on B's
ip netns exec "$NS1" "$BIN" get "10.213.0.2:$PB" mem/out.dat "$A/stolen" \
  --cap "$("$BIN" cap --key "$KA" --op r --reader hostA --ttl 600 out.dat)" >"$TMP/wt.out" 2>&1
rc=$?
check "a capability minted for host A is refused by host B (exit 3, bad signature)" \
  eval '[ $rc -eq 3 ] && ! [ -e "$A/stolen" ] && grep -q "bad capability signature" "$TMP/wt.out"'

# the listening socket lives in A's namespace (inspected, no packet sent)
check "A's server socket is bound inside namespace $NS1" \
  eval 'ip netns exec "$NS1" ss -ltnH | grep -q "10.213.0.1:$PA"'

# TLS across the link: A's certificate names its IP, B verifies it
"$SLUICE_ROOT/scripts/make-certs.sh" "$TMP/pki" hostA=10.213.0.1 >/dev/null 2>&1
ip netns exec "$NS1" "$BIN" serve --root mem="$A" --listen 10.213.0.1:0 --key "$KA" \
  --tls-cert "$TMP/pki/hostA.pem" --tls-key "$TMP/pki/hostA.key" >"$TMP/t.port" 2>"$TMP/t.err" &
ST=$!; track_pid $ST
wait_for 5 test -s "$TMP/t.port"
PT=$(head -n1 "$TMP/t.port")
ip netns exec "$NS2" "$BIN" get "10.213.0.1:$PT" mem/chan.dat "$B/chan-tls.dat" --cap "$(capA r chan.dat)" \
  --tls-ca "$TMP/pki/ca.pem" --streams 4 --min-chunk 256k >"$TMP/tget.out" 2>&1
sed 's/^/# /' "$TMP/tget.out"
check "B fetched A's object over TLS across namespaces (certificate for 10.213.0.1), byte-exact" \
  cmp -s "$A/chan.dat" "$B/chan-tls.dat"
