#!/usr/bin/env bash
# test_rpc_interop.sh - framework/rpc speaks standard gRPC: a client that is
# not ours (Debian's python3-grpcio, with stubs generated from
# framework/proto/sluice.proto by grpc_tools at test time) calls our C server
# (build/test-tools/sl-rpc-interop-server) over 127.0.0.1. Checks a message
# round trip, NOT_FOUND with its details, UNIMPLEMENTED for a method the
# server lacks, and a clean stop on SIGTERM. Uses /usr/bin/python3 on
# purpose: a python3 earlier on PATH (pyenv) cannot see Debian's packages.
. "$(dirname "$0")/../lib.sh"

py=/usr/bin/python3
server="$SLUICE_ROOT/build/test-tools/sl-rpc-interop-server"
here="$SLUICE_ROOT/tests/integration"

if ! [ -x "$py" ] || ! "$py" -c 'import grpc, grpc_tools' 2>/dev/null; then
  skip "python3-grpcio / python3-grpc-tools not installed (scripts/install-deps.sh)"
  exit 0
fi
if ! [ -x "$server" ]; then
  not_ok "interop server missing: $server (make build-tests)"
  exit 1
fi

check "python stubs generated from sluice.proto" \
  "$py" -m grpc_tools.protoc -I"$SLUICE_ROOT/framework/proto" \
    --python_out="$TMP" --grpc_python_out="$TMP" sluice.proto

"$server" 127.0.0.1:0 >"$TMP/port" 2>"$TMP/server.err" &
spid=$!
track_pid "$spid"
if wait_for 10 grep -q '^[0-9]' "$TMP/port"; then
  port=$(head -n 1 "$TMP/port")
  ok "C server listening on 127.0.0.1:$port"
else
  not_ok "C server did not start: $(cat "$TMP/server.err")"
  exit 1
fi

for s in lease notfound unimplemented nocred wrongcred; do
  check "python grpcio client: $s" "$py" "$here/test_rpc_interop_client.py" "$TMP" "$port" "$s"
done

kill -TERM "$spid"
stopped() { ! kill -0 "$spid" 2>/dev/null; }
if wait_for 5 stopped; then
  wait "$spid"; rc=$?
  check "server stops cleanly on SIGTERM (exit $rc)" [ "$rc" -eq 0 ]
else
  not_ok "server still running 5 s after SIGTERM"
fi
