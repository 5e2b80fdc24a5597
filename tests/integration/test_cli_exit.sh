#!/usr/bin/env bash
# What a new user meets first, against a real controller: exit codes as
# docs/cli.md promises them (0 success, 1 failure, 2 misuse or invalid input,
# 130 interrupted), the CANCELLED column of the status table, a blank EXIT for
# tasks that have not finished, the matrix's default segments for two-segment
# keys, cancel leaving a finished pipeline as it is, SubmitReply.name, and
# `sluice agent --help` printing "80 % of free".
. "$(dirname "$0")/../lib.sh"
. "$SLUICE_ROOT/tests/cluster.sh"
cd "$TMP"
rc() { "$@" >/dev/null 2>&1; echo $?; }

# misuse needs no controller
for c in status tasks logs retry cancel hosts submit validate emit run controller agent slurm; do
  check "exit 2: sluice $c with an unknown option" [ "$(rc sluice "$c" --no-such-option)" = 2 ]
done
check "exit 2: an unknown command" [ "$(rc sluice frobnicate)" = 2 ]
printf 'name: bad\nstages:\n  - name: a\n    command: [true]\n    emits: [nowhere]\nmessages:\n  - {to: a, key: k}\n' >bad.yaml
check "exit 2: sluice submit of an invalid file (not 1)" [ "$(rc sluice submit bad.yaml)" = 2 ]
check "exit 2: sluice submit of a missing file" [ "$(rc sluice submit no-such.yaml)" = 2 ]
check "exit 2: sluice tasks --limit abc" [ "$(rc sluice tasks --limit abc)" = 2 ]
check "exit 2: sluice retry P abc (a task id that is not a number)" [ "$(rc sluice retry p abc)" = 2 ]
check "exit 2: sluice status --matrix P --rows x" [ "$(rc sluice status --matrix p --rows x)" = 2 ]
check "sluice agent --help says '80 % of free', not '80 %% of free'" \
  eval 'sluice agent --help | grep -q "80 % of free" && ! sluice agent --help | grep -q "%%"'

# failure: no controller
check "exit 1: sluice status without a controller" \
  [ "$(SLUICE_CONTROLLER=127.0.0.1:1 SLUICE_TOKEN=x rc sluice status --once)" = 1 ]

start_controller
# no agent: the tasks stay queued
cat >grid.yaml <<'YAML'
name: grid2
stages:
  - name: beam
    command: [sh, -c, 'true', sh]
messages:
  - {to: beam, key: "obs{1..2}/ch{1..3}"}
YAML
out=$(sluice submit grid.yaml); r=$?
check "exit 0: sluice submit of a valid file" [ "$r" = 0 ]
id=$(sed -n 's/.* as #\([0-9]*\) .*/\1/p' <<<"$out")
tasks=$(sluice tasks --pipeline "$id")
echo "$tasks" | sed 's/^/# /'
check "sluice tasks: EXIT is blank for queued tasks (not 0)" \
  eval '[ "$(grep -c " queued " <<<"$tasks")" = 6 ] && ! grep " queued " <<<"$tasks" | grep -qE "  *0  obs"'
m=$(sluice status --matrix grid2)
echo "$m" | sed 's/^/# /'
check "status --matrix: two-segment keys default to rows 1 x cols 2 (obs x ch)" \
  eval 'grep -qx "obs1 |...| 0/3" <<<"$m" && grep -qx "obs2 |...| 0/3" <<<"$m"'
check "status --matrix --json names the segments chosen" \
  eval 'sluice status --matrix grid2 --json | grep -q "\"row_segment\":1,\"col_segment\":2"'
printf 'name: flat\nstages:\n  - name: s\n    command: [sh, -c, "true", sh]\nmessages:\n  - {to: s, key: "k{1..3}"}\n' >flat.yaml
sluice submit flat.yaml >/dev/null
m=$(sluice status --matrix flat)
echo "$m" | sed 's/^/# /'
check "status --matrix: one-segment keys are the rows, one column" \
  eval 'grep -qx "k1   |.| 0/1" <<<"$m" && grep -qx "k3   |.| 0/1" <<<"$m"'
check "exit 0: sluice status --once" [ "$(rc sluice status --once)" = 0 ]
check "exit 1: sluice cancel of an unknown pipeline" [ "$(rc sluice cancel nosuch)" = 1 ]
check "exit 0: sluice cancel of a running pipeline" [ "$(rc sluice cancel "$id")" = 0 ]
st=$(sluice status --once "$id")
echo "$st" | sed 's/^/# /'
check "status: a CANCELLED column with the 6 cancelled tasks" \
  eval 'grep -q "FAILED CANCELLED" <<<"$st" && grep -qE "^  beam +0 +0 +0 +0 +0 +6 " <<<"$st"'
check "status --json: cancelled 6" eval 'sluice status --json "$id" | grep -q "\"cancelled\":6"'

# a finished pipeline stays as it is
start_agent a1
printf 'name: quick\nstages:\n  - name: s\n    command: [sh, -c, "true", sh]\nmessages:\n  - {to: s, key: k}\n' >quick.yaml
qid=$(submit quick.yaml)
check "quick pipeline done" [ "$(wait_pipeline "$qid" 60)" = done ]
out=$(sluice cancel "$qid" 2>&1); r=$?
echo "# $out"
check "exit 1: sluice cancel of a finished pipeline says it already finished" \
  eval '[ "$r" = 1 ] && grep -q "already finished (done)" <<<"$out"'
check "cancel left the finished pipeline done" [ "$(pipeline_state "$qid")" = done ]
check "cancel left its task done" [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$qid AND state=2")" = 1 ]
out=$(sluice tasks --pipeline "$qid")
check "sluice tasks: EXIT 0 for a done task" grep -qE " done .* 0  k$" <<<"$out"

# SubmitReply.name through a gRPC client that is not ours
py=/usr/bin/python3
if "$py" -c 'import grpc, grpc_tools' 2>/dev/null &&
  "$py" -m grpc_tools.protoc -I"$SLUICE_ROOT/framework/proto" --python_out="$TMP" \
    --grpc_python_out="$TMP" sluice.proto 2>/dev/null; then
  name=$("$py" - "$TMP" "$CTL" "$(cat "$STATE/secrets/user.token")" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import grpc, sluice_pb2, sluice_pb2_grpc
with grpc.insecure_channel(sys.argv[2]) as ch:
    rep = sluice_pb2_grpc.SluiceStub(ch).Submit(
        sluice_pb2.SubmitRequest(file="n.yaml", yaml=open("quick.yaml").read().replace("quick", "named")),
        timeout=20, metadata=[("authorization", "Bearer " + sys.argv[3])])
    print(rep.name)
PY
)
  check "SubmitReply.name is the pipeline's name (got '$name')" [ "$name" = named ]
else
  skip "python3-grpcio / python3-grpc-tools not installed: SubmitReply.name"
fi

# interrupted: sluice run exits 130 on SIGINT
printf 'name: slow\nstages:\n  - name: s\n    command: [sh, -c, "sleep 60", sh]\nmessages:\n  - {to: s, key: k}\n' >slow.yaml
(unset SLUICE_STATE SLUICE_CONTROLLER SLUICE_TOKEN SLUICE_TOKEN_FILE
 exec sluice run --state "$TMP/run" slow.yaml >run.out 2>&1 </dev/null) &
rpid=$!
track_pid $rpid
wait_for 30 grep -q "submitted" run.out
kill -INT $rpid
wait $rpid; r=$?
check "exit 130: sluice run interrupted (got $r)" [ "$r" = 130 ]
