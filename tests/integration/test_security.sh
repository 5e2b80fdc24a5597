#!/usr/bin/env bash
# test_security.sh - attacks a running cluster on 127.0.0.1 (docs/security.md).
#
# A controller and two agents (h1 joins with the join credential in its
# environment, h2 with a file) run a pipeline whose module spies on what it
# can see. Then, from outside sluice's own code:
#  - a stock grpcio client (tests/integration/security_attack.py) calls every
#    method of the .proto without a credential and with a guessed one, tries
#    the attacks of issue 12 (Submit of a command running `id`, Register to
#    get the data-plane secret, Register(name=h1)+Lease to steal h1's work),
#    and crosses roles: user -> agent methods, agent -> user methods, agent
#    h2 -> h1's leases, join -> anything but Register;
#  - the data plane is asked for objects with no capability, a forged one,
#    another object's, an expired one, and a push outside its staging area;
#  - the module's environment, its work dir, the agent's /proc environ and
#    command line hold no credential;
#  - over TLS: grpcio with ssl_channel_credentials and the user credential
#    works, no credential is refused, a plaintext client gets nothing, and
#    the CLI and agents work with --tls-ca.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

py=/usr/bin/python3
here="$SLUICE_ROOT/tests/integration"
if ! "$py" -c 'import grpc, grpc_tools' 2>/dev/null; then
  not_ok "python3-grpcio / python3-grpc-tools not installed (scripts/install-deps.sh)"
  exit 1
fi
"$py" -m grpc_tools.protoc -I"$SLUICE_ROOT/framework/proto" --python_out="$TMP" \
  --grpc_python_out="$TMP" sluice.proto || { not_ok "python stubs"; exit 1; }

start_controller --lease-ttl 5s
SECRETS="$STATE/secrets"
check "controller made its secrets 0600 in a 0700 directory" \
  test "$(stat -c %a "$SECRETS") $(stat -c %a "$SECRETS/user.token") $(stat -c %a "$SECRETS/join.token") $(stat -c %a "$SECRETS/master.key")" = "700 600 600 600"

# h1 gets the join credential in its environment (wiped from /proc once
# read), h2 from a file
SLUICE_JOIN_TOKEN="$(cat "$SECRETS/join.token")" SLUICE_JOIN_TOKEN_FILE= start_agent h1
start_agent h2
both_up() { [ "$(sql "SELECT count(*) FROM hosts WHERE state='up' AND cred IS NOT NULL")" = 2 ]; }
check "two agents registered, each with its own credential" wait_for 20 both_up

cat >"$TMP/spy.yaml" <<'EOF'
name: spy
stages:
  - name: spy
    command: [sh, -c, 'env > "$SLUICE_OUT/env"; tr "\0" "\n" < /proc/$PPID/environ > "$SLUICE_OUT/agent_environ"; tr "\0" " " < /proc/$PPID/cmdline > "$SLUICE_OUT/agent_cmdline"; ls -la "$SLUICE_WORK" > "$SLUICE_OUT/workdir"; cat "$SLUICE_WORK"/* >> "$SLUICE_OUT/workdir" 2>/dev/null; echo $PPID > "$SLUICE_OUT/ppid"; true']
    placement: any
    keep: true
messages:
  - to: spy
    key: k{1..4}
EOF
id=$(submit "$TMP/spy.yaml")
check "the spy pipeline completes" test "$(wait_pipeline "$id" 60)" = done

# every secret there is: the controller's three, each agent's own, each
# data server's key
secrets=("$(cat "$SECRETS/user.token")" "$(cat "$SECRETS/join.token")" "$(cat "$SECRETS/master.key")")
for h in h1 h2; do
  c="$TMP/mem/$h.cred"
  if [ -s "$c" ]; then secrets+=("$(cat "$c")"); else not_ok "$h keeps its credential in $c"; fi
  secrets+=("$(sluice-dp key --master-file "$SECRETS/master.key" "$h")")
done
check "agent credentials are kept 0600" test "$(stat -c %a "$TMP/mem/h1.cred")" = 600
spied=$(find "$TMP/mem" -path '*/p*/spy/*' -type f | wc -l)
check "the modules wrote what they saw ($spied files)" test "$spied" -ge 20
leaks=0
for s in "${secrets[@]}"; do
  [ -n "$s" ] || continue
  n=$(find "$TMP/mem" -path '*/p*/spy/*' -type f -exec grep -lF -- "$s" {} + 2>/dev/null | wc -l)
  leaks=$((leaks + n))
done
check "no credential or key in a module's environment, its work dir, or the agent's /proc environ and cmdline ($leaks leaks)" test "$leaks" = 0
check "a module sees no SLUICE_*TOKEN* variable" \
  bash -c "! grep -h 'TOKEN' $TMP/mem/h*/p*/spy/*/env"
check "h1's /proc environ keeps the variable but not its join credential (overwritten in place)" \
  bash -c "tr '\\0' '\\n' < /proc/$AGENT_PID_h1/environ | grep -q '^SLUICE_JOIN_TOKEN=xxxx' && ! tr '\\0' '\\n' < /proc/$AGENT_PID_h1/environ | grep -qF '$(cat "$SECRETS/join.token")'"
check "agents are not dumpable: /proc/PID/environ belongs to root, not a module's user" \
  test "$(awk '/^Uid/ {print $2}' /proc/$AGENT_PID_h1/status) $(stat -c %U /proc/$AGENT_PID_h1/environ)" = "0 root"

# the gRPC attacks, from outside
"$py" "$here/security_attack.py" "$TMP" "$CTL" "$SECRETS" - "$TMP/mem/h2.cred" rpc
check "the outsider's Submit made no pipeline" test "$(sql "SELECT count(*) FROM pipelines WHERE name='pwn'")" = 0
h1=$(sql "SELECT count(*) FROM hosts WHERE name='h1' AND state='up'")
check "h1 is still registered as itself" test "$h1" = 1

# ---- the data plane -------------------------------------------------------
# the host holding at least two of the spy objects plays the victim
vh=$(sql "SELECT host FROM replicas GROUP BY host HAVING count(*) >= 2 ORDER BY host LIMIT 1")
addr1=$(sql "SELECT addr FROM hosts WHERE name='$vh'")
check "$vh's data server listens on the address it reaches the controller from ($addr1)" \
  bash -c "[[ '$addr1' == 127.0.0.1:* ]] && ! ss -ltnH | awk '{print \$4}' | grep -qx '0.0.0.0:${addr1##*:}'"
obj=$(sql "SELECT 'p'||pipeline_id||'/spy/'||key FROM replicas WHERE host='$vh' ORDER BY key LIMIT 1")
other=$(sql "SELECT 'p'||pipeline_id||'/spy/'||key FROM replicas WHERE host='$vh' AND 'p'||pipeline_id||'/spy/'||key != '$obj' LIMIT 1")
key1=$(sluice-dp key --master-file "$SECRETS/master.key" "$vh")
rh=h2; [ "$vh" = h2 ] && rh=h1
good=$(sluice-dp cap --key "$key1" --op r --reader $rh --ttl 60 "$obj")
dp_get() { sluice-dp get "$addr1" "$1" "$TMP/got.$RANDOM" --cap "$2" >"$TMP/dp.out" 2>&1; echo $?; }
check "control: a capability for $obj reads it" test "$(dp_get "mem/$obj/env" "$good")" = 0
check "no capability: refused" test "$(dp_get "mem/$obj/env" "")" != 0
forged=$(sluice-dp cap --key "$(printf '%064d' 7)" --op r --reader $rh --ttl 60 "$obj")
check "a capability signed with another key: refused" test "$(dp_get "mem/$obj/env" "$forged")" = 3
check "another object's capability: refused" test "$(dp_get "mem/$other/env" "$good")" = 3
check "a capability does not reach the tier root" test "$(dp_get "mem/$obj/../../x" "$good")" != 0
short=$(sluice-dp cap --key "$key1" --op r --reader $rh --ttl 1 "$obj")
sleep 2.2
check "an expired capability: refused" test "$(dp_get "mem/$obj/env" "$short")" = 3
key2=$(sluice-dp key --master-file "$SECRETS/master.key" "$rh")
other_host=$(sluice-dp cap --key "$key2" --op r --reader $rh --ttl 60 "$obj")
check "a capability minted for $rh's data server is not good on $vh's" test "$(dp_get "mem/$obj/env" "$other_host")" = 3
echo payload >"$TMP/payload"
push=$(sluice-dp cap --key "$key1" --op p --reader $rh --ttl 60 "p9/x/k")
check "a read capability cannot push" \
  bash -c "! sluice-dp put '$addr1' '$TMP/payload' 'mem/$obj/evil' --cap '$good' >/dev/null 2>&1"
check "a push outside the object it names is refused (tier root)" \
  bash -c "! sluice-dp put '$addr1' '$TMP/payload' 'mem/evil' --cap '$push' >/dev/null 2>&1"
check "a push outside the object it names is refused (other object)" \
  bash -c "! sluice-dp put '$addr1' '$TMP/payload' 'mem/$obj/evil' --cap '$push' >/dev/null 2>&1"
sluice-dp put "$addr1" "$TMP/payload" "mem/p9/x/k/f" --cap "$push" >/dev/null 2>&1
check "a push lands only in its object's staging area" \
  bash -c "test -f '$TMP/mem/$vh/.pushed/p9/x/k/f' && ! test -e '$TMP/mem/$vh/p9' && ! test -e '$TMP/mem/$vh/evil'"

# ---- TLS --------------------------------------------------------------------
"$SLUICE_ROOT/scripts/make-certs.sh" "$TMP/tls" localhost=127.0.0.1 >/dev/null 2>&1 &&
  "$SLUICE_ROOT/scripts/make-certs.sh" "$TMP/tls-other" localhost=127.0.0.1 >/dev/null 2>&1
check "scripts/make-certs.sh made a CA and a certificate for localhost" test -s "$TMP/tls/localhost.pem"
TSTATE="$TMP/tls-state"
sluice controller --state "$TSTATE" --listen 127.0.0.1:0 --addr-file "$TSTATE.addr" \
  --tls-cert "$TMP/tls/localhost.pem" --tls-key "$TMP/tls/localhost.key" >>"$TMP/tls-controller.log" 2>&1 &
track_pid $!
wait_for 10 test -s "$TSTATE.addr"
TCTL=$(cat "$TSTATE.addr")
"$py" "$here/security_attack.py" "$TMP" "$TCTL" "$TMP/tls/ca.pem" "$TSTATE/secrets/user.token" \
  "$TMP/tls-other/ca.pem" tls
SLUICE_CONTROLLER=$TCTL SLUICE_TLS_CA="$TMP/tls/ca.pem" SLUICE_JOIN_TOKEN_FILE="$TSTATE/secrets/join.token" \
  sluice agent --name t1 --dir "$TMP/agents/t1" --mem "$TMP/mem/t1" --wait 2000 \
  --tls-cert "$TMP/tls/localhost.pem" --tls-key "$TMP/tls/localhost.key" >>"$TMP/agent-t1.log" 2>&1 &
track_pid $!
export SLUICE_TOKEN_FILE="$TSTATE/secrets/user.token"
cat >"$TMP/tls.yaml" <<'EOF'
name: tls
stages:
  - name: a
    command: [sh, -c, 'echo x > "$SLUICE_OUT/x"']
    emits: [{to: b}]
  - name: b
    command: [sh, -c, 'cat "$SLUICE_IN/x" > /dev/null']
messages:
  - to: a
    key: k{1..3}
EOF
tid=$(SLUICE_CONTROLLER=$TCTL sluice --tls-ca "$TMP/tls/ca.pem" submit --json "$TMP/tls.yaml" | sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p')
tls_done() { SLUICE_CONTROLLER=$TCTL sluice status --tls-ca "$TMP/tls/ca.pem" --json 2>/dev/null | grep -q '"state":"done"'; }
check "CLI and an agent over TLS (--tls-ca) run a pipeline (#$tid)" wait_for 60 tls_done
check "the CLI without --tls-ca cannot reach the TLS controller" \
  bash -c "! SLUICE_CONTROLLER=$TCTL timeout 20 sluice status >/dev/null 2>&1"
echo "# controller log: $(grep -c 'refused a call' "$TMP/controller.log") refusal line(s) (at most one a second)"
