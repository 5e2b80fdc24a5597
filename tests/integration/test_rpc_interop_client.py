#!/usr/bin/python3
"""test_rpc_interop_client.py - a gRPC client that is not ours.

Called by test_rpc_interop.sh with Debian's /usr/bin/python3 (python3-grpcio),
with stubs that the shell generated from framework/proto/sluice.proto into
STUBDIR at test time. One scenario per run, so each is its own TAP line;
exits 0 when the scenario behaves as the sluice contract says.
Every call carries the server's credential ("authorization: Bearer ..."),
except in the scenarios that check it is refused without one.
Usage: test_rpc_interop_client.py STUBDIR PORT
       lease|notfound|unimplemented|nocred|wrongcred
"""
import sys

stubdir, port, scenario = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, stubdir)

import grpc  # noqa: E402
import sluice_pb2  # noqa: E402
import sluice_pb2_grpc  # noqa: E402


def fail(msg):
    print("interop client: " + msg, file=sys.stderr)
    sys.exit(1)


MD = [("authorization", "Bearer interop-agent")]

with grpc.insecure_channel("127.0.0.1:" + port) as ch:
    stub = sluice_pb2_grpc.SluiceStub(ch)
    if scenario == "lease":
        req = sluice_pb2.LeaseRequest(
            agent_id="agent-7", host="node3", max_tasks=3, wait_ms=250,
            load=[sluice_pb2.StageLoad(pipeline_id=42, stage=5, running=1)])
        rep = stub.Lease(req, timeout=10, metadata=MD)
        keys = [t.key for t in rep.tasks]
        if keys != ["agent-7/node3/0", "agent-7/node3/1", "agent-7/node3/2"]:
            fail("unexpected keys %r" % keys)
        t = rep.tasks[1]
        if (t.id, t.pipeline_id, t.stage, t.attempt, t.ready_at) != (1001, 42, 5, 1, 1.5):
            fail("unexpected task %r" % t)
        if t.headers != '{"sort_tag":"x"}' or rep.lease_ttl_ms != 250000:
            fail("unexpected reply %r" % rep)
        hb = stub.Heartbeat(sluice_pb2.HeartbeatRequest(
            agent_id="agent-1", running=[1, 2, 3, 2**40 + 1]), timeout=10, metadata=MD)
        if list(hb.cancel) != [1, 3, 2**40 + 1]:
            fail("unexpected cancel list %r" % list(hb.cancel))
    elif scenario == "notfound":
        try:
            stub.Heartbeat(sluice_pb2.HeartbeatRequest(agent_id="ghost"), timeout=10,
                           metadata=MD)
            fail("Heartbeat of an unknown agent succeeded")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                fail("want NOT_FOUND, got %s" % e.code())
            if e.details() != "unknown agent 'ghost'; register first":
                fail("unexpected details %r" % e.details())
    elif scenario == "unimplemented":
        try:
            stub.Submit(sluice_pb2.SubmitRequest(file="x.yaml"), timeout=10, metadata=MD)
            fail("Submit succeeded on a server without it")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                fail("want UNIMPLEMENTED, got %s" % e.code())
    elif scenario in ("nocred", "wrongcred"):
        md = [] if scenario == "nocred" else [("authorization", "Bearer guess")]
        try:
            stub.Lease(sluice_pb2.LeaseRequest(host="node3"), timeout=10, metadata=md)
            fail("Lease succeeded without a valid credential")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAUTHENTICATED:
                fail("want UNAUTHENTICATED, got %s" % e.code())
    else:
        fail("unknown scenario " + scenario)
