#!/usr/bin/env bash
# runtime: charliecloud (ch-run of a directory image made from the podman
# image by dockerfiles/ch-image.sh) through a real controller and agent:
# runs and emits like a process stage; only SLUICE_* and the stage's env:
# get in; host paths that were not bound (the host's /tmp included) are
# invisible; a timeout kills the task; a missing image directory says how
# to make it; nothing is left running.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"
. "$(dirname "$0")/../runtime_lib.sh"
need_containers podman ch-run
need_images
export SLUICE_CH_IMAGES="$TMP/ch"
"$SLUICE_ROOT/dockerfiles/ch-image.sh" sluice/busybox:0.1.0 >"$TMP/ch.log" 2>&1
check "ch-image.sh makes a directory image from the podman image" test -x "$TMP/ch/sluice%busybox+0.1.0/bin/sh"

start_controller --lease-ttl 5s
export LEAK_CHECK=agent-only
rt_agent h1
echo secret >"$TMP/secret.txt"
cat >"$TMP/c.yaml" <<YAML
name: ch
stages:
  - name: a
    runtime: charliecloud
    image: sluice/busybox:0.1.0
    env: {FOO: bar}
    retry: {default: 0}
    command: [sh, -c, 'env > \$SLUICE_WORK/../env.\$SLUICE_TASK_ID; test ! -e $TMP/secret.txt && test ! -e $SLUICE_ROOT/Makefile && test -w "\$SLUICE_MEM" && echo "\$1/x" > \$SLUICE_WORK/emit', sh]
    emits: [b]
  - name: b
    command: [sh, -c, 'echo "\$1" >> $TMP/b.out', sh]
messages:
  - {to: a, key: "k{1..3}"}
YAML
id=$(submit "$TMP/c.yaml")
st=$(wait_pipeline "$id" 60)
check "ch-run stage runs, sees no unbound host path, emits to a process stage (state=$st)" [ "$st" = done ]
[ "$st" = done ] || sluice logs "$(task_id "$id" k1)"
check "ch-run: 3 emitted keys consumed" [ "$(sort "$TMP/b.out" 2>/dev/null | tr '\n' ' ')" = "k1/x k2/x k3/x " ]
envf=$(ls "$TMP"/mem/h1.work/env.* "$TMP"/agents/h1/work/env.* 2>/dev/null | head -n 1)
check "ch-run: SLUICE_* and stage env reach the module" bash -c "grep -q '^SLUICE_KEY=k' '$envf' && grep -q '^FOO=bar' '$envf'"
check "ch-run: the agent's own environment does not" bash -c "! grep -q LEAK_CHECK '$envf'"

cat >"$TMP/to.yaml" <<YAML
name: chto
stages:
  - name: slow
    runtime: charliecloud
    image: sluice/busybox:0.1.0
    timeout: 1s
    retry: {default: 0}
    command: [sh, -c, 'sleep 3; touch \$SLUICE_MEM/survived', sh]
  - name: missing
    runtime: charliecloud
    image: sluice/no-such-module:0.1.0
    retry: {default: 0}
    command: [true]
messages:
  - {to: slow, key: k}
  - {to: missing, key: k}
YAML
id=$(submit "$TMP/to.yaml")
st=$(wait_pipeline "$id" 60)
tk=$(sql "SELECT id FROM tasks WHERE pipeline_id=$id AND stage=0")
check "ch-run timeout: exit 124" [ "$(task_field "$tk" exit_code)" = 124 ]
sleep 3
check "ch-run timeout: the process was killed (no file after 3 s)" [ ! -e "$TMP/mem/h1/survived" ]
tm=$(sql "SELECT id FROM tasks WHERE pipeline_id=$id AND stage=1")
check "ch-run: a missing image directory names the commands that make it" \
  bash -c "sluice logs $tm | grep -q 'make images && dockerfiles/ch-image.sh sluice/no-such-module:0.1.0'"
stop_agent "$AGENT_PID_h1"
check "ch-run: no task process left after the agent stopped" bash -c "! pgrep -f '[s]leep 3; touch' >/dev/null"
