#!/usr/bin/env bash
# test_python_client.sh - the Python client (python/sluice, docs/python.md)
# against a real controller and agent on 127.0.0.1:
#  1. the worked example of docs/python.md, extracted from the file so the
#     docs are what is tested: its shell blocks (build the stubs, start a
#     controller and an agent, run example.py, stop them) and example.py;
#  2. test_python_client.py: every method (submit with variables, status,
#     watch, tasks, logs, retry of a failed task, emit, cancel, hosts) and
#     the errors (a wrong credential: SluiceError UNAUTHENTICATED).
# Uses /usr/bin/python3 on purpose: Debian's python3-grpcio and
# python3-grpc-tools are installed for it, not for a pyenv python3 on PATH.
. "$(dirname "$0")/../lib.sh"
. "$SLUICE_ROOT/tests/cluster.sh"

py=/usr/bin/python3
here="$SLUICE_ROOT/tests/integration"
doc="$SLUICE_ROOT/docs/python.md"

if ! [ -x "$py" ] || ! "$py" -c 'import grpc, grpc_tools' 2>/dev/null; then
  skip "python3-grpcio / python3-grpc-tools not installed (scripts/install-deps.sh)"
  exit 0
fi

# ---- 1. the worked example, as docs/python.md writes it ------------------
# block N of a language: the Nth fenced block opened with ```LANG
block() { # LANG PATTERN: the first ```LANG block with a line matching PATTERN
  awk -v lang="$1" -v pat="$2" '
    !inb && $0 == "```" lang { inb = 1; buf = ""; hit = 0; next }
    inb && $0 == "```" { inb = 0; if (hit) { printf "%s", buf; exit } next }
    inb { buf = buf $0 "\n"; if ($0 ~ pat) hit = 1 }' "$doc"
}
mkdir -p "$TMP/doc"
block sh 'sluice controller' >"$TMP/doc/setup.sh"
block python '^# example\.py' >"$TMP/doc/example.py"
block sh 'python3 example\.py' >"$TMP/doc/run.sh"
block sh '^kill ' >"$TMP/doc/stop.sh"
check "docs/python.md has the example's setup, example.py, run and stop blocks" \
  test -s "$TMP/doc/setup.sh" -a -s "$TMP/doc/example.py" -a -s "$TMP/doc/run.sh" -a -s "$TMP/doc/stop.sh"

# One bash runs the blocks in order, as a reader would in one terminal: the
# setup from the top of the tree, the example where it was saved. Only
# SLUICE_STATE from the setup block says where the controller is. The trap
# stops the daemons by PID whatever happens; timeout bounds the whole run.
cat >"$TMP/doc/all.sh" <<EOF
trap 'kill \$AGENT \$CONTROLLER 2>/dev/null; wait' EXIT
trap 'exit 143' TERM INT
set -e
cd "$SLUICE_ROOT"
$(cat "$TMP/doc/setup.sh")
set +e
cd "$TMP/doc"
$(cat "$TMP/doc/run.sh")
rc=\$?
echo "example exit \$rc"
$(cat "$TMP/doc/stop.sh")
EOF
env -u SLUICE_CONTROLLER -u SLUICE_TOKEN_FILE -u SLUICE_TOKEN -u SLUICE_STATE -u PYTHONPATH \
  TMPDIR="$TMP/doc" HOME="$TMP/doc" timeout 180 bash "$TMP/doc/all.sh" >"$TMP/doc/out" 2>&1
rc=$?
check "the documented example ran (exit $rc)" grep -q '^example exit 0$' "$TMP/doc/out"
check "it printed the pipeline id" grep -Eq '^submitted pipeline [0-9]+$' "$TMP/doc/out"
check "it watched the pipeline to its end" \
  grep -Eq '^failed +square +done 3 running 0 queued 0 failed 1$' "$TMP/doc/out"
check "it printed the failed task's log" \
  grep -Eq '^task [0-9]+ n3 attempt 1 on local-1: exit 3: cannot square n3$' "$TMP/doc/out"
check "it printed the final state" grep -Eq '^pipeline [0-9]+ failed$' "$TMP/doc/out"
if ! grep -q '^example exit 0$' "$TMP/doc/out"; then
  sed 's/^/#   /' "$TMP/doc/out" | tail -n 40
fi
check "the stubs were built where the package finds them" \
  test -s "$SLUICE_ROOT/build/python/sluice_pb2_grpc.py"

# ---- 2. every method -----------------------------------------------------
start_controller
start_agent a1
if wait_for 20 sh -c 'sluice hosts 2>/dev/null | grep -q "^a1 .*up"' ||
   wait_for 10 sh -c 'sluice hosts 2>/dev/null | grep -q a1'; then
  ok "controller and agent a1 up"
else
  not_ok "agent a1 did not register"; sed 's/^/#   /' "$TMP/agent-a1.log" | tail -n 20
fi
mkdir -p "$TMP/py"
PYTHONPATH="$SLUICE_ROOT/python" timeout 300 "$py" "$here/test_python_client.py" "$STATE" "$TMP/py"
rc=$?
check "test_python_client.py exited 0 (exit $rc)" [ "$rc" -eq 0 ]

# python/setup.py: pip installs the package with stubs it generates at build
# time (from a copy of the tree: pip builds in place)
mkdir -p "$TMP/src/framework"
cp -r "$SLUICE_ROOT/python" "$TMP/src/python"
rm -rf "$TMP/src/python/build" "$TMP/src/python"/*.egg-info
cp -r "$SLUICE_ROOT/framework/proto" "$TMP/src/framework/proto"
if timeout 120 "$py" -m pip install -q --no-build-isolation --no-deps --no-index \
     --target "$TMP/site" "$TMP/src/python" >"$TMP/pip.log" 2>&1; then
  check "pip install ./python: the installed package imports its own stubs and calls the controller" \
    env PYTHONPATH="$TMP/site" timeout 60 "$py" -c '
import sys, sluice
assert sluice.client.pb.__file__.startswith(sys.argv[1]), sluice.client.pb.__file__
assert [h["name"] for h in sluice.Client().hosts()] == ["a1"]' "$TMP/site"
elif "$py" -c 'import setuptools, pip' 2>/dev/null; then
  not_ok "pip install ./python failed"; sed 's/^/#   /' "$TMP/pip.log" | tail -n 20
else
  skip "pip or setuptools missing for $py: python/setup.py not checked"
fi

# ---- 3. TLS: Client(ca=...) ----------------------------------------------
if ! command -v openssl >/dev/null; then
  skip "openssl CLI not installed: no certificates for the TLS check"
  exit 0
fi
"$SLUICE_ROOT/scripts/make-certs.sh" "$TMP/tls" localhost=127.0.0.1 >"$TMP/tls.out" 2>&1
TSTATE="$TMP/tls-state"
sluice controller --state "$TSTATE" --listen 127.0.0.1:0 --addr-file "$TSTATE/controller.addr" \
  --tls-cert "$TMP/tls/localhost.pem" --tls-key "$TMP/tls/localhost.key" >>"$TMP/tls-controller.log" 2>&1 &
track_pid $!
if ! wait_for 10 test -s "$TSTATE/controller.addr"; then
  not_ok "TLS controller did not start"; sed 's/^/#   /' "$TMP/tls-controller.log" "$TMP/tls.out" | tail -n 20
  exit 1
fi
cat >"$TMP/tls.py" <<'PY'
import sys, grpc, sluice
state, ca = sys.argv[1], sys.argv[2]
c = sluice.Client(state=state, ca=ca, timeout=20)
pid = c.submit("name: tls\nstages:\n  - name: a\n    command: [true]\n"
               "messages:\n  - {to: a, key: k}\n")
assert c.tls and [p["pipeline_id"] for p in c.status()] == [pid], c.status()
try:
    sluice.Client(state=state, timeout=10).status()
    sys.exit("plain TCP to a TLS controller succeeded")
except sluice.SluiceError as e:
    assert e.code == grpc.StatusCode.UNAVAILABLE, e
print("tls ok")
PY
check "Client(state=..., ca=...) submits and reads status over TLS; without ca it is UNAVAILABLE" \
  env -u SLUICE_CONTROLLER -u SLUICE_TOKEN_FILE PYTHONPATH="$SLUICE_ROOT/python" \
  timeout 120 "$py" "$TMP/tls.py" "$TSTATE" "$TMP/tls/ca.pem"
