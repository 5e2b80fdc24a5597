#!/usr/bin/env bash
# runtime: bwrap (a light sandbox for host programs) through a real
# controller and agent: runs and emits like a process stage; only SLUICE_*,
# the stage's env: and PATH get in; host paths that were not bound are
# invisible; a timeout kills the sandboxed process; nothing is left running.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"
. "$(dirname "$0")/../runtime_lib.sh"
need_containers bwrap

start_controller --lease-ttl 5s
export LEAK_CHECK=agent-only
rt_agent h1
echo secret >"$TMP/secret.txt"
mkdir -p "$TMP/bin"
cat >"$TMP/bin/probe" <<'SH'
#!/bin/sh
# $1 = key. Emits, records env, checks isolation.
env > "$SLUICE_MEM/env.$SLUICE_TASK_ID"
echo "$1/x" > "$SLUICE_WORK/emit"
test ! -e "$SECRET" || { echo "sees $SECRET" >&2; exit 3; }
test ! -e "$SLUICE_ROOT_PATH/Makefile" || { echo "sees the source tree" >&2; exit 4; }
test -w "$SLUICE_MEM" && test -w "$SLUICE_WORK" || exit 5
echo "ok $1"
SH
cat >"$TMP/bin/slow" <<'SH'
#!/bin/sh
sleep 3; touch "$SLUICE_MEM/survived"
SH
chmod +x "$TMP/bin/probe" "$TMP/bin/slow"
cat >"$TMP/b.yaml" <<YAML
name: bw
stages:
  - name: a
    runtime: bwrap
    command: [$TMP/bin/probe]
    env: {SECRET: $TMP/secret.txt, SLUICE_ROOT_PATH: $SLUICE_ROOT}
    retry: {default: 0}
    emits: [b]
  - name: b
    command: [sh, -c, 'echo "\$1" >> $TMP/b.out', sh]
messages:
  - {to: a, key: "k{1..3}"}
YAML
id=$(submit "$TMP/b.yaml")
st=$(wait_pipeline "$id" 60)
check "bwrap stage runs, sees no unbound host path, emits to a process stage (state=$st)" [ "$st" = done ]
[ "$st" = done ] || sluice logs "$(task_id "$id" k1)"
check "bwrap: 3 emitted keys consumed" [ "$(sort "$TMP/b.out" 2>/dev/null | tr '\n' ' ')" = "k1/x k2/x k3/x " ]
envf=$(ls "$TMP"/mem/h1/env.* 2>/dev/null | head -n 1)
check "bwrap: SLUICE_* and stage env reach the module" bash -c "grep -q '^SLUICE_KEY=k' '$envf' && grep -q '^SECRET=' '$envf'"
check "bwrap: the agent's own environment does not" bash -c "! grep -q LEAK_CHECK '$envf'"

cat >"$TMP/to.yaml" <<YAML
name: bwto
stages:
  - name: slow
    runtime: bwrap
    command: [$TMP/bin/slow]
    timeout: 1s
    retry: {default: 0}
messages:
  - {to: slow, key: k}
YAML
id=$(submit "$TMP/to.yaml")
st=$(wait_pipeline "$id" 60)
check "bwrap timeout: exit 124 (state=$st)" [ "$(task_field "$(task_id "$id" k)" exit_code)" = 124 ]
sleep 3
check "bwrap timeout: the sandboxed process was killed (no file after 3 s)" [ ! -e "$TMP/mem/h1/survived" ]
stop_agent "$AGENT_PID_h1"
check "bwrap: no sandbox process left after the agent stopped" bash -c "! pgrep -f '[/]bin/slow' >/dev/null"
