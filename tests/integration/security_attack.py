#!/usr/bin/python3
"""security_attack.py - attacks a running controller from outside sluice's code.

A stock gRPC client (Debian's python3-grpcio, stubs generated from
framework/proto/sluice.proto at test time) plays an outsider, a user and a
rogue agent against a controller that test_security.sh started. Prints one
TAP line per check ("ok - ..." / "not ok - ..."); exits 0.

Usage: security_attack.py STUBDIR ADDR SECRETS_DIR H1_DIR_FILE H2_CRED_FILE rpc
       security_attack.py STUBDIR ADDR CA_FILE USER_TOKEN_FILE tls
"""
import sys

stubdir, addr = sys.argv[1], sys.argv[2]
sys.path.insert(0, stubdir)

import grpc  # noqa: E402
import sluice_pb2 as pb  # noqa: E402

SERVICE = pb.DESCRIPTOR.services_by_name["Sluice"]


def tap(ok, what):
    print(("ok - " if ok else "not ok - ") + what)
    sys.stdout.flush()


def read(path):
    with open(path) as f:
        return f.read().strip()


def call(ch, name, req, cred=None, timeout=10):
    """Calls method name; returns (status code, reply or None)."""
    m = SERVICE.methods_by_name[name]
    reply_cls = getattr(pb, m.output_type.name)
    fn = ch.unary_unary("/sluice.v1.Sluice/" + name,
                        request_serializer=lambda r: r.SerializeToString(),
                        response_deserializer=reply_cls.FromString)
    md = [("authorization", "Bearer " + cred)] if cred is not None else []
    try:
        return grpc.StatusCode.OK, fn(req, timeout=timeout, metadata=md)
    except grpc.RpcError as e:
        return e.code(), None


def empty(name):
    return getattr(pb, SERVICE.methods_by_name[name].input_type.name)()


HOSTILE_YAML = """name: pwn
stages:
  - name: a
    command: sh -c 'id > pwned'
messages:
  - to: a
    key: k1
"""


def rpc_attacks(secrets, h1_dir_file, h2_cred_file):
    user, join = read(secrets + "/user.token"), read(secrets + "/join.token")
    h2 = read(h2_cred_file)
    del h1_dir_file
    with grpc.insecure_channel(addr) as ch:
        # 1. no credential, and a guessed one: every method of the .proto
        for m in SERVICE.methods:
            for cred, what in ((None, "no credential"), ("user.0000", "a guessed credential")):
                code, _ = call(ch, m.name, empty(m.name), cred)
                tap(code == grpc.StatusCode.UNAUTHENTICATED,
                    "%s with %s: refused UNAUTHENTICATED (got %s)" % (m.name, what, code.name))
        # the attacks of the issue, as an outsider
        req = pb.SubmitRequest(file="pwn.yaml", yaml=HOSTILE_YAML)
        code, _ = call(ch, "Submit", req)
        tap(code == grpc.StatusCode.UNAUTHENTICATED,
            "outsider cannot Submit a pipeline that runs `id` (%s)" % code.name)
        host = pb.HostInfo(name="h1", mem_root="/tmp/evil", addr="127.0.0.1:1")
        code, rep = call(ch, "Register", pb.RegisterRequest(host=host, agent_id="h1/1/1"))
        tap(code == grpc.StatusCode.UNAUTHENTICATED and rep is None,
            "outsider cannot Register (and gets no key) (%s)" % code.name)
        code, _ = call(ch, "Hosts", pb.HostsRequest())
        tap(code == grpc.StatusCode.UNAUTHENTICATED, "outsider cannot list Hosts (%s)" % code.name)

        # 2. a user credential cannot act as an agent
        for name in ("Lease", "Complete", "Heartbeat", "Register"):
            req = empty(name)
            if hasattr(req, "host") and name != "Register":
                req.host = "h1"
            code, _ = call(ch, name, req, user)
            tap(code == grpc.StatusCode.PERMISSION_DENIED,
                "user credential cannot %s (%s)" % (name, code.name))
        code, rep = call(ch, "Hosts", pb.HostsRequest(), user)
        tap(code == grpc.StatusCode.OK and len(rep.hosts) >= 2,
            "user credential reads Hosts (%s)" % code.name)

        # 3. an agent credential cannot do what users do
        for name in ("Submit", "Cancel", "Retry", "Emit", "Status", "Hosts", "ListTasks",
                     "TaskLogs", "Matrix"):
            code, _ = call(ch, name, empty(name), h2)
            tap(code == grpc.StatusCode.PERMISSION_DENIED,
                "agent credential (h2) cannot %s (%s)" % (name, code.name))
        # ... nor act for another host
        code, _ = call(ch, "Lease", pb.LeaseRequest(host="h1", agent_id="h1/9/9", max_tasks=5,
                                                    wait_ms=0), h2)
        tap(code == grpc.StatusCode.PERMISSION_DENIED,
            "h2's credential cannot lease h1's tasks (%s)" % code.name)
        code, _ = call(ch, "Lease", pb.LeaseRequest(host="h2", agent_id="h1/9/9", max_tasks=5,
                                                    wait_ms=0), h2)
        tap(code == grpc.StatusCode.PERMISSION_DENIED,
            "h2's credential cannot lease under h1's agent id (%s)" % code.name)
        code, _ = call(ch, "Complete", pb.CompleteRequest(host="h1", agent_id="h1/9/9"), h2)
        tap(code == grpc.StatusCode.PERMISSION_DENIED,
            "h2's credential cannot complete h1's tasks (%s)" % code.name)
        host = pb.HostInfo(name="h1", mem_root="/tmp/evil", addr="127.0.0.1:1")
        code, _ = call(ch, "Register", pb.RegisterRequest(host=host, agent_id="h1/9/9"), h2)
        tap(code == grpc.StatusCode.PERMISSION_DENIED,
            "h2's credential cannot register as h1 (%s)" % code.name)

        # 4. the join credential only registers, and not over a live host
        for name in ("Submit", "Status", "Lease", "Hosts"):
            code, _ = call(ch, name, empty(name), join)
            tap(code == grpc.StatusCode.PERMISSION_DENIED,
                "join credential cannot %s (%s)" % (name, code.name))
        code, rep = call(ch, "Register", pb.RegisterRequest(host=host, agent_id="h1/9/9"), join)
        tap(code == grpc.StatusCode.ALREADY_EXISTS and rep is None,
            "Register(name=h1) while h1 is live is refused (%s)" % code.name)
        rogue = pb.HostInfo(name="rogue", mem_root="/tmp/rogue", addr="127.0.0.1:1")
        code, rep = call(ch, "Register", pb.RegisterRequest(host=rogue, agent_id="rogue/1/1"),
                         join)
        ok = code == grpc.StatusCode.OK and rep.credential.startswith("agent.") and \
            rep.credential.endswith(".rogue") and len(rep.dp_key) == 64
        tap(ok, "join credential registers a new host and gets its own credential (%s)"
            % code.name)
        if ok:
            code, _ = call(ch, "Lease", pb.LeaseRequest(host="h1", agent_id="rogue/1/1",
                                                        wait_ms=0), rep.credential)
            tap(code == grpc.StatusCode.PERMISSION_DENIED,
                "the new host's credential cannot lease as h1 (%s)" % code.name)
            again = pb.RegisterRequest(host=rogue, agent_id="rogue/1/2")
            code2, rep2 = call(ch, "Register", again, rep.credential)
            tap(code2 == grpc.StatusCode.OK and rep2.credential != rep.credential,
                "an agent registers again with its own credential: a new one (%s)"
                % code2.name)
            code3, _ = call(ch, "Heartbeat", pb.HeartbeatRequest(host="rogue",
                                                                 agent_id="rogue/1/2"),
                            rep.credential)
            tap(code3 == grpc.StatusCode.UNAUTHENTICATED,
                "the credential before it no longer works (%s)" % code3.name)


def tls_checks(ca_file, user_file):
    user = read(user_file)
    with open(ca_file, "rb") as f:
        ca = f.read()
    creds = grpc.ssl_channel_credentials(root_certificates=ca)
    with grpc.secure_channel(addr, creds) as ch:
        code, rep = call(ch, "Status", pb.StatusRequest(), user)
        tap(code == grpc.StatusCode.OK, "grpcio over TLS (ssl_channel_credentials) with the "
            "user credential: Status works (%s)" % code.name)
        code, _ = call(ch, "Status", pb.StatusRequest())
        tap(code == grpc.StatusCode.UNAUTHENTICATED,
            "over TLS, no credential is still refused (%s)" % code.name)
    with grpc.insecure_channel(addr) as ch:
        code, _ = call(ch, "Status", pb.StatusRequest(), user, timeout=5)
        tap(code != grpc.StatusCode.OK, "a plaintext client cannot talk to the TLS port (%s)"
            % code.name)
    other = grpc.ssl_channel_credentials(root_certificates=open(sys.argv[5], "rb").read()) \
        if len(sys.argv) > 6 else None
    if other:
        with grpc.secure_channel(addr, other) as ch:
            code, _ = call(ch, "Status", pb.StatusRequest(), user, timeout=5)
            tap(code == grpc.StatusCode.UNAVAILABLE,
                "a client trusting another CA refuses the server (%s)" % code.name)


if sys.argv[-1] == "rpc":
    rpc_attacks(sys.argv[3], sys.argv[4], sys.argv[5])
elif sys.argv[-1] == "tls":
    tls_checks(sys.argv[3], sys.argv[4])
else:
    print("not ok - security_attack.py: unknown mode " + sys.argv[-1])
