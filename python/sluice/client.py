"""sluice.client - a thin Python client of the sluice controller's gRPC API.

Every method is one call of service sluice.v1.Sluice
(framework/proto/sluice.proto) with the user credential as
`authorization: Bearer ...` metadata; replies come back as plain dicts and
lists. Errors raise SluiceError. See docs/python.md.
"""
import json
import os
import re
import sys
import time

try:
    import grpc
except ImportError as _e:
    raise ImportError(
        "sluice: %s for %s; the client needs grpcio (Debian: python3-grpcio, for "
        "/usr/bin/python3, not a pyenv or conda python3)" % (_e, sys.executable)) from None

# The stubs are generated, never committed: python/build.sh writes them to
# build/python/. Found on sys.path, in $SLUICE_PYTHON_STUBS, or in the build
# directory of the tree this package sits in.
try:
    import sluice_pb2 as pb
    import sluice_pb2_grpc as pb_grpc
except ImportError:
    _here = os.path.dirname(os.path.abspath(__file__))
    _cands = [os.environ.get("SLUICE_PYTHON_STUBS", ""),
              os.path.join(_here, "..", "..", "build", "python")]
    for _d in _cands:
        if _d and os.path.exists(os.path.join(_d, "sluice_pb2_grpc.py")):
            sys.path.insert(0, os.path.abspath(_d))
            break
    try:
        import sluice_pb2 as pb
        import sluice_pb2_grpc as pb_grpc
    except ImportError as e:
        raise ImportError(
            "sluice: the gRPC stubs are not built (%s); run python/build.sh at the top of "
            "the sluice tree (it writes build/python/), or set SLUICE_PYTHON_STUBS to "
            "their directory" % e) from None

DEFAULT_ADDR = "127.0.0.1:7470"
CREDENTIAL_HINT = (
    "The user credential is the controller's STATE/secrets/user.token: give it with "
    "Client(token=...), Client(token_file=...), Client(state=STATE), $SLUICE_TOKEN_FILE, "
    "$SLUICE_TOKEN, $SLUICE_STATE=STATE, or copy it to ~/.config/sluice/token "
    "(see docs/python.md)")


class SluiceError(Exception):
    """A refused or failed call.

    code:    the grpc.StatusCode (e.g. grpc.StatusCode.UNAUTHENTICATED)
    message: the controller's message (the gRPC status details)
    method:  the RPC that failed (e.g. "Submit")
    hint:    what to do about it, or "" """

    def __init__(self, code, message, method="", hint=""):
        self.code = code
        self.message = message
        self.method = method
        self.hint = hint
        name = code.name if hasattr(code, "name") else str(code)
        text = "%s: %s: %s" % (method, name, message) if method else "%s: %s" % (name, message)
        if hint:
            text += "\nhint: " + hint
        super().__init__(text)

    @property
    def code_name(self):
        """The status code's name, e.g. "UNAUTHENTICATED"."""
        return self.code.name if hasattr(self.code, "name") else str(self.code)


def _first_line(path):
    with open(path, "r") as f:
        line = f.readline().rstrip("\r\n")
    return line


def _state_addr(state):
    # sluice run writes STATE/controller.addr; tests/cluster.sh STATE/addr
    for name in ("controller.addr", "addr"):
        p = os.path.join(state, name)
        try:
            a = _first_line(p)
        except OSError:
            continue
        if a:
            return a
    return None


def find_controller(addr=None, state=None):
    """The controller address, found as the CLI finds it: addr, then the
    address file of state, $SLUICE_CONTROLLER, $SLUICE_STATE/controller.addr,
    else 127.0.0.1:7470."""
    if addr:
        return addr
    if state:
        a = _state_addr(state)
        if a:
            return a
    e = os.environ.get("SLUICE_CONTROLLER")
    if e:
        return e
    st = os.environ.get("SLUICE_STATE")
    if st:
        a = _state_addr(st)
        if a:
            return a
    return DEFAULT_ADDR


def find_credential(token=None, token_file=None, state=None):
    """(credential, where it came from); credential is None if none was found.
    The order: token, token_file, STATE/secrets/user.token of state, then
    as the CLI: $SLUICE_TOKEN_FILE, $SLUICE_TOKEN,
    $SLUICE_STATE/secrets/user.token, ${XDG_CONFIG_HOME:-~/.config}/sluice/token."""
    if token:
        return token, "Client(token=...)"
    if token_file:
        return _read_cred(token_file), token_file
    if state:
        p = os.path.join(state, "secrets", "user.token")
        return _read_cred(p), p
    v = os.environ.get("SLUICE_TOKEN_FILE")
    if v:
        return _read_cred(v), v
    v = os.environ.get("SLUICE_TOKEN")
    if v:
        return v, "$SLUICE_TOKEN"
    v = os.environ.get("SLUICE_STATE")
    if v:
        p = os.path.join(v, "secrets", "user.token")
        if os.path.exists(p):
            return _read_cred(p), p
    xdg = os.environ.get("XDG_CONFIG_HOME")
    home = os.environ.get("HOME")
    p = None
    if xdg:
        p = os.path.join(xdg, "sluice", "token")
    elif home:
        p = os.path.join(home, ".config", "sluice", "token")
    if p and os.path.exists(p):
        return _read_cred(p), p
    return None, "nowhere"


def _read_cred(path):
    try:
        c = _first_line(path)
    except OSError as e:
        raise SluiceError(grpc.StatusCode.UNAUTHENTICATED,
                          "cannot read the credential file %s: %s" % (path, e.strerror),
                          hint=CREDENTIAL_HINT) from None
    if not c:
        raise SluiceError(grpc.StatusCode.UNAUTHENTICATED,
                          "the credential file %s is empty" % path, hint=CREDENTIAL_HINT)
    return c


def to_dict(msg):
    """A protobuf message as a dict of plain values (ints stay ints)."""
    out = {}
    for f in msg.DESCRIPTOR.fields:
        v = getattr(msg, f.name)
        if f.label == f.LABEL_REPEATED:
            if f.type == f.TYPE_MESSAGE:
                v = [to_dict(x) for x in v]
            else:
                v = list(v)
        elif f.type == f.TYPE_MESSAGE:
            v = to_dict(v) if msg.HasField(f.name) else None
        out[f.name] = v
    return out


# ${NAME and ${NAME:-... references; $$ is a literal $ (docs/pipeline-yaml.md)
_REF = re.compile(r"\$(\$|\{([A-Za-z_][A-Za-z0-9_]*))")


def referenced_vars(text):
    """The names the YAML text refers to with ${NAME} (in defaults too)."""
    names = []
    for m in _REF.finditer(text):
        if m.group(2) and m.group(2) not in names:
            names.append(m.group(2))
    return names


def read_env_file(path):
    """NAME=VALUE lines as the pipeline parser reads them: blank lines and #
    comments skipped, `export ` allowed, matching quotes removed."""
    vals = {}
    with open(path, "r") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[7:].lstrip()
            if "=" not in line:
                continue
            k, v = line.split("=", 1)
            k = k.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
                v = v[1:-1]
            vals[k] = v
    return vals


_TOP_ENV_FILE = re.compile(r"^env_file:\s*(\S.*?)\s*(#.*)?$", re.M)


class Client:
    """A connection to a sluice controller.

    Client(addr=None, token=None, token_file=None, state=None, ca=None,
           cert=None, key=None, timeout=60.0)

    addr        host:port of the controller (default: see find_controller)
    token       the user credential itself
    token_file  a file holding it (first line)
    state       the controller's state directory: its address file and
                secrets/user.token
    ca          a CA certificate file (PEM): TLS to the controller, verifying
                its certificate (default $SLUICE_TLS_CA; none: plain TCP)
    cert, key   a client certificate and key, for a controller started with
                --tls-ca (it then requires client certificates)
    timeout     seconds each call may take
    """

    def __init__(self, addr=None, token=None, token_file=None, state=None, ca=None,
                 cert=None, key=None, timeout=60.0):
        self.addr = find_controller(addr, state)
        self._token, self.credential_from = find_credential(token, token_file, state)
        self.timeout = timeout
        ca = ca or os.environ.get("SLUICE_TLS_CA") or None
        self.tls = bool(ca)
        if ca:
            with open(ca, "rb") as f:
                root = f.read()
            chain = pk = None
            if cert and key:
                with open(cert, "rb") as f:
                    chain = f.read()
                with open(key, "rb") as f:
                    pk = f.read()
            creds = grpc.ssl_channel_credentials(root_certificates=root, private_key=pk,
                                                 certificate_chain=chain)
            self._channel = grpc.secure_channel(self.addr, creds)
        else:
            self._channel = grpc.insecure_channel(self.addr)
        self._stub = pb_grpc.SluiceStub(self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "sluice.Client(%r, tls=%s, credential from %s)" % (
            self.addr, self.tls, self.credential_from)

    # ---- the calls ------------------------------------------------------

    def _call(self, method, req):
        md = [("authorization", "Bearer " + self._token)] if self._token else []
        try:
            return getattr(self._stub, method)(req, timeout=self.timeout, metadata=md)
        except grpc.RpcError as e:
            code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
            details = (e.details() if hasattr(e, "details") else str(e)) or ""
            hint = ""
            if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                hint = ("the credential sent came from %s. " % self.credential_from
                        if self._token else "no credential was found. ") + CREDENTIAL_HINT
            elif code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                hint = ("is a controller running at %s? Start one with 'sluice controller', "
                        "point to it with Client(addr=...) or $SLUICE_CONTROLLER, or "
                        "Client(state=STATE)" % self.addr)
            raise SluiceError(code, details, method, hint) from None

    def submit(self, pipeline, vars=None, env=True, env_file=None, file=None):
        """Submits a pipeline; returns its id.

        pipeline  a path to a YAML file, or the YAML text itself (anything
                  with a newline is taken as text)
        vars      {NAME: value} for ${NAME} references, looked up first
        env       also take referenced names from os.environ (as sluice submit)
        env_file  a NAME=VALUE file, looked up last (default: the YAML's
                  top-level env_file:, relative to the file's directory)
        file      the name shown in the controller's error messages
        The controller expands the text with exactly the variables sent."""
        if "\n" not in pipeline:
            try:
                with open(pipeline, "r") as f:
                    text = f.read()
            except OSError as e:
                raise SluiceError(grpc.StatusCode.INVALID_ARGUMENT,
                                  "cannot read %s: %s" % (pipeline, e.strerror), "submit",
                                  "pass a YAML file's path, or the YAML text itself") from None
            file = file or pipeline
            base = os.path.dirname(os.path.abspath(pipeline))
        else:
            text = pipeline
            file = file or "pipeline.yaml"
            base = os.getcwd()
        given = dict(vars or {})
        fromfile = {}
        if env_file:
            fromfile = read_env_file(env_file)
        else:
            m = _TOP_ENV_FILE.search(text)
            if m:
                ef = m.group(1).strip("\"'")
                ef = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                            lambda r: str(given.get(r.group(1), os.environ.get(r.group(1), ""))
                                          if env else given.get(r.group(1), "")), ef)
                p = os.path.join(base, ef)
                if os.path.exists(p):
                    fromfile = read_env_file(p)
        sent = {}
        for name in referenced_vars(text):
            if name in given:
                continue
            if env and name in os.environ:
                sent[name] = os.environ[name]
            elif name in fromfile:
                sent[name] = fromfile[name]
        sent.update({k: str(v) for k, v in given.items()})
        req = pb.SubmitRequest(file=file, yaml=text,
                               vars=[pb.Var(name=k, value=v) for k, v in sent.items()])
        return self._call("Submit", req).pipeline_id

    def status(self, pipeline=None):
        """Per-pipeline status dicts (all pipelines, or the one named by name
        or id): pipeline_id, name, state (running | done | failed |
        cancelled), stages (name, queued, running, done, failed, waiting,
        cancelled, pending, rate, eta_s), created, finished, warnings."""
        req = pb.StatusRequest(pipeline="" if pipeline is None else str(pipeline))
        return [to_dict(p) for p in self._call("Status", req).pipelines]

    def pipeline(self, pipeline_id):
        """The submitted pipeline: pipeline_id, file, yaml, state, and vars as
        {NAME: value} (the variables recorded with it)."""
        d = to_dict(self._call("GetPipeline", pb.GetPipelineRequest(pipeline_id=int(pipeline_id))))
        vs = d["vars"]
        # the controller sends its recorded variables as one JSON object in a
        # Var named "json" (framework/controller/api.c)
        if len(vs) == 1 and vs[0]["name"] == "json":
            try:
                d["vars"] = json.loads(vs[0]["value"] or "{}")
            except ValueError:
                d["vars"] = {"json": vs[0]["value"]}
        else:
            d["vars"] = {v["name"]: v["value"] for v in vs}
        return d

    def tasks(self, pipeline=None, stage=None, state=None, limit=1000, after=0):
        """Task dicts (id, pipeline_id, stage, key, headers (JSON text), state,
        host, attempts, exit_code, created, started, finished), in id order,
        at most limit (None: all), with ids above after."""
        out = []
        while limit is None or len(out) < limit:
            page = 1000 if limit is None else min(1000, limit - len(out))
            req = pb.ListTasksRequest(pipeline="" if pipeline is None else str(pipeline),
                                      stage=stage or "", state=state or "", limit=page,
                                      after_id=after)
            got = self._call("ListTasks", req).tasks
            out.extend(to_dict(t) for t in got)
            if len(got) < page:
                break
            after = got[-1].id
        return out

    def task_logs(self, task_id=None, pipeline=None, stage=None, key=None):
        """{"task": task dict, "attempts": [attempt dicts]} for a task by id, or
        by pipeline, stage and key."""
        req = pb.TaskLogsRequest(task_id=int(task_id or 0),
                                 pipeline="" if pipeline is None else str(pipeline),
                                 stage=stage or "", key=key or "")
        return to_dict(self._call("TaskLogs", req))

    def logs(self, task_id=None, pipeline=None, stage=None, key=None):
        """Every attempt of a task, oldest first: n, host, started, finished,
        exit_code, stdout_tail, stderr_tail, error (the framework's reason:
        timeout, lease expired, spawn failed)."""
        return self.task_logs(task_id, pipeline, stage, key)["attempts"]

    def retry(self, pipeline, stage=None, task_ids=None):
        """Re-queues failed tasks (all of the pipeline, of one stage, or the
        ids given) with fresh retry budgets; returns how many."""
        req = pb.RetryRequest(pipeline=str(pipeline), stage=stage or "",
                              task_ids=[int(t) for t in (task_ids or [])])
        return self._call("Retry", req).requeued

    def cancel(self, pipeline):
        """Cancels a pipeline; returns how many tasks were cancelled. Agents
        kill its running tasks at their next heartbeat."""
        return self._call("Cancel", pb.CancelRequest(pipeline=str(pipeline))).cancelled

    def emit(self, pipeline, keys, stage=None, headers=None):
        """Injects messages (one per key) into a running pipeline; returns how
        many tasks were created. headers: a JSON object text."""
        if isinstance(keys, str):
            keys = [keys]
        msgs = [pb.Message(stage=stage or "", key=k, headers=headers or "") for k in keys]
        return self._call("Emit", pb.EmitRequest(pipeline=str(pipeline), messages=msgs)).created

    def hosts(self):
        """Registered hosts: name, groups, state (up | lost | drained),
        last_seen, running, addr, cache roots, budgets and use."""
        return [to_dict(h) for h in self._call("Hosts", pb.HostsRequest()).hosts]

    def watch(self, pipeline, interval=1.0, timeout=None):
        """Yields the status dict of one pipeline (name or id) every interval
        seconds, until it is no longer running; the last one yielded is the
        final state. timeout: seconds, then SluiceError DEADLINE_EXCEEDED."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            got = self.status(pipeline)
            if not got:
                raise SluiceError(grpc.StatusCode.NOT_FOUND,
                                  "no pipeline %r" % (pipeline,), "Status")
            # a name may match several submissions: the newest
            st = max(got, key=lambda p: p["pipeline_id"])
            yield st
            if st["state"] != "running":
                return
            if end is not None and time.monotonic() >= end:
                raise SluiceError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                  "pipeline %r still running after %gs" % (pipeline, timeout),
                                  "watch")
            time.sleep(interval)

    def wait(self, pipeline, interval=1.0, timeout=None):
        """Blocks until the pipeline finishes; returns its final status dict."""
        st = None
        for st in self.watch(pipeline, interval, timeout):
            pass
        return st
