#!/usr/bin/python3
"""test_python_client.py - every method of the Python client (python/sluice)
against a real controller and agent, started by test_python_client.sh
(SLUICE_CONTROLLER and SLUICE_TOKEN_FILE set, agent a1 up).
Prints TAP lines ("ok - ..." / "not ok - ..."); exits 1 if any failed.
Usage: test_python_client.py STATE TMPDIR
"""
import os
import sys
import time
import traceback

import grpc
import sluice

state, tmp = sys.argv[1], sys.argv[2]
failed = 0


def ok(cond, desc, diag=""):
    global failed
    if cond:
        print("ok - " + desc)
    else:
        failed += 1
        print("not ok - " + desc)
        for line in str(diag).splitlines():
            print("#   " + line)
    sys.stdout.flush()
    return cond


def raises(fn):
    """The SluiceError fn raises, or None."""
    try:
        fn()
    except sluice.SluiceError as e:
        return e
    return None


def until(cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


try:
    # ---- finding the controller and the credential ------------------------
    c = sluice.Client()
    ok(c.addr == os.environ["SLUICE_CONTROLLER"]
       and c.credential_from == os.environ["SLUICE_TOKEN_FILE"],
       "Client() takes $SLUICE_CONTROLLER and $SLUICE_TOKEN_FILE", repr(c))
    cs = sluice.Client(state=state)
    ok(cs.addr == c.addr and cs.credential_from == os.path.join(state, "secrets", "user.token"),
       "Client(state=STATE) takes STATE's address file and secrets/user.token", repr(cs))
    saved = {k: os.environ.pop(k) for k in ("SLUICE_CONTROLLER", "SLUICE_TOKEN_FILE", "SLUICE_TOKEN")
             if k in os.environ}
    os.environ["SLUICE_STATE"] = state
    ce = sluice.Client()
    ok(ce.addr == c.addr and ce.status() == [], "$SLUICE_STATE alone is enough", repr(ce))
    os.environ.pop("SLUICE_STATE")
    with open(os.path.join(state, "secrets", "user.token")) as f:
        tok = f.read().strip()
    os.environ["SLUICE_TOKEN"] = tok
    ce = sluice.Client(addr=c.addr)
    ok(ce.credential_from == "$SLUICE_TOKEN" and ce.hosts() is not None,
       "$SLUICE_TOKEN is a credential", repr(ce))
    os.environ.pop("SLUICE_TOKEN")
    os.environ.update(saved)

    # ---- submit with variables from vars, the environment and an env file --
    marker = os.path.join(tmp, "k2.may-pass")
    with open(os.path.join(tmp, "site.env"), "w") as f:
        f.write("# site\nexport FROM_FILE='file-value'\n")
    yaml_path = os.path.join(tmp, "retry.yaml")
    with open(yaml_path, "w") as f:
        f.write("""name: pyretry
env_file: site.env
stages:
  - name: s
    command: [sh, -c, 'echo "out $1 ${FROM_VARS} ${FROM_ENV} ${FROM_FILE} ${UNSET:-dflt}"; echo "err $1" >&2; [ "$1" != k2 ] || [ -e "${MARKER}" ]', sh]
messages:
  - {to: s, key: "k{1..3}"}
""")
    os.environ["FROM_ENV"] = "env-value"
    pid = c.submit(yaml_path, vars={"FROM_VARS": "vars-value", "MARKER": marker})
    ok(isinstance(pid, int) and pid > 0, "submit(path, vars=...) returns the pipeline id", pid)
    got = c.pipeline(pid)
    ok(got["yaml"].startswith("name: pyretry") and got["file"] == yaml_path
       and got["vars"] == {"FROM_VARS": "vars-value", "MARKER": marker, "FROM_ENV": "env-value",
                           "FROM_FILE": "file-value"},
       "pipeline(id) returns the submitted text, file and the variables sent", got)

    # ---- watch until it fails ----------------------------------------------
    snaps = list(c.watch(pid, interval=0.2, timeout=120))
    last = snaps[-1]
    ok(last["state"] == "failed" and all(s["state"] == "running" for s in snaps[:-1]),
       "watch() yields snapshots until the pipeline finishes (%d, last %s)"
       % (len(snaps), last["state"]), snaps)
    st = last["stages"][0]
    ok((st["name"], st["done"], st["failed"]) == ("s", 2, 1),
       "the status counts 2 done, 1 failed", last)

    # ---- status ------------------------------------------------------------
    ok([p["pipeline_id"] for p in c.status(pid)] == [pid], "status(id)", c.status(pid))
    ok([p["pipeline_id"] for p in c.status("pyretry")] == [pid], "status(name)")
    ok(pid in [p["pipeline_id"] for p in c.status()], "status() lists every pipeline")

    # ---- tasks -------------------------------------------------------------
    ts = c.tasks(pid)
    ok([t["key"] for t in ts] == ["k1", "k2", "k3"] and ts[0]["host"] == "a1",
       "tasks(pipeline) lists its tasks", ts)
    fl = c.tasks(pid, stage="s", state="failed")
    ok([t["key"] for t in fl] == ["k2"] and fl[0]["exit_code"] == 1,
       "tasks(pipeline, stage, state='failed')", fl)
    ok(len(c.tasks(pid, limit=1)) == 1 and len(c.tasks(pid, limit=None)) == 3
       and [t["key"] for t in c.tasks(pid, after=ts[0]["id"])] == ["k2", "k3"],
       "tasks: limit, limit=None and after")

    # ---- logs --------------------------------------------------------------
    att = c.logs(ts[0]["id"])
    ok(len(att) == 1 and att[0]["stdout_tail"]
       == "out k1 vars-value env-value file-value dflt\n",
       "logs(id): variables came from vars, the environment, the env file and a default",
       att)
    att = c.logs(fl[0]["id"])
    ok(len(att) == 1 and att[0]["exit_code"] == 1 and att[0]["stderr_tail"] == "err k2\n"
       and att[0]["host"] == "a1", "logs(id) of the failed task", att)
    tl = c.task_logs(pipeline=pid, stage="s", key="k2")
    ok(tl["task"]["id"] == fl[0]["id"] and len(tl["attempts"]) == 1,
       "task_logs(pipeline, stage, key)", tl)

    # ---- retry -------------------------------------------------------------
    e = raises(lambda: c.retry(pid, stage="nosuch"))
    ok(e is not None and "nosuch" in e.message,
       "retry of a stage that does not exist is refused with the controller's message", e)
    open(marker, "w").close()
    n = c.retry(pid, stage="s")
    ok(n == 1, "retry(pipeline, stage) requeues the failed task", n)
    fin = c.wait(pid, interval=0.2, timeout=120)
    ok(fin["state"] == "done", "the retried pipeline is done", fin)
    att = c.logs(fl[0]["id"])
    ok([a["exit_code"] for a in att] == [1, 0], "the retried task has a second attempt that passed",
       att)
    ok(c.retry(pid) == 0, "retry(pipeline) with nothing failed requeues nothing")

    # ---- emit and cancel ---------------------------------------------------
    sleeper = """name: pysleep
stages:
  - name: nap
    command: [sh, -c, 'echo $$$$ > "${PIDDIR}/$1.pid"; exec sleep 60', sh]
messages:
  - {to: nap, key: first}
"""
    piddir = os.path.join(tmp, "pids")
    os.mkdir(piddir)
    pid2 = c.submit(sleeper, vars={"PIDDIR": piddir}, env=False)
    ok(pid2 > pid, "submit(text) returns a new id", pid2)
    ok(until(lambda: c.tasks(pid2, state="running") != [], 60),
       "the sleeping task starts", c.tasks(pid2))
    ok(c.emit(pid2, ["second", "third"], stage="nap") == 2, "emit() makes two tasks")
    n = c.cancel(pid2)
    ok(n == 3, "cancel() cancels the running and the queued tasks", n)
    fin = c.wait(pid2, interval=0.2, timeout=120)
    ok(fin["state"] == "cancelled", "the pipeline is cancelled", fin)
    def alive():
        # the module's own processes (their pids written by the module)
        out = []
        for name in os.listdir(piddir):
            with open(os.path.join(piddir, name)) as f:
                p = int(f.read().strip() or 0)
            try:
                if p > 0:
                    os.kill(p, 0)
                    out.append(p)
            except ProcessLookupError:
                pass
        return out
    ok(until(lambda: not alive(), 60) and c.hosts()[0]["running"] == 0,
       "the agent killed the cancelled task's process", (alive(), c.hosts()))
    for p in alive():  # ours: do not leave it behind when the check failed
        os.kill(p, 9)
    ok({t["state"] for t in c.tasks(pid2)} == {"cancelled"}, "every task is cancelled",
       c.tasks(pid2))

    # ---- hosts -------------------------------------------------------------
    hs = c.hosts()
    ok([h["name"] for h in hs] == ["a1"] and hs[0]["state"] == "up", "hosts()", hs)

    # ---- errors ------------------------------------------------------------
    e = raises(lambda: sluice.Client(token="not-the-credential").status())
    ok(e is not None and e.code == grpc.StatusCode.UNAUTHENTICATED
       and e.code_name == "UNAUTHENTICATED" and e.method == "Status"
       and "Client(token=...)" in e.hint and "user.token" in e.hint,
       "a wrong credential raises SluiceError UNAUTHENTICATED with a hint", e)
    bad = os.path.join(tmp, "bad.token")
    with open(bad, "w") as f:
        f.write("guess\n")
    e = raises(lambda: sluice.Client(token_file=bad).submit(sleeper))
    ok(e is not None and e.code == grpc.StatusCode.UNAUTHENTICATED and bad in e.hint,
       "the hint names the credential file that was sent", e)
    e = raises(lambda: sluice.Client(token_file=os.path.join(tmp, "missing")))
    ok(e is not None and "missing" in e.message, "a missing token file is a SluiceError", e)
    e = raises(lambda: c.submit("name: x\nstages:\n  - name: s\n    comand: [true]\n",
                                file="typo.yaml"))
    ok(e is not None and e.code != grpc.StatusCode.OK and "typo.yaml:4" in e.message,
       "an invalid pipeline is refused with the controller's file:line message", e)
    e = raises(lambda: c.submit("name: x\nstages:\n  - name: s\n    command: [echo, '${NOPE_UNSET}']\n"
                                "messages:\n  - {to: s, key: a}\n", env=False))
    ok(e is not None and "NOPE_UNSET" in e.message, "an unset ${NAME} is refused", e)
    e = raises(lambda: c.submit(os.path.join(tmp, "no-such.yaml")))
    ok(e is not None and "no-such.yaml" in e.message and e.code == grpc.StatusCode.INVALID_ARGUMENT,
       "submit of a file that does not exist is a SluiceError", e)
    e = raises(lambda: c.logs(999999))
    ok(e is not None and e.code == grpc.StatusCode.NOT_FOUND, "logs of an unknown task: NOT_FOUND", e)
    e = raises(lambda: sluice.Client(addr="127.0.0.1:1", token="x", timeout=5).status())
    ok(e is not None and e.code == grpc.StatusCode.UNAVAILABLE and "127.0.0.1:1" in e.hint,
       "no controller at the address: UNAVAILABLE with a hint", e)
except Exception:
    ok(False, "the client test ran to the end", traceback.format_exc())

sys.exit(1 if failed else 0)
