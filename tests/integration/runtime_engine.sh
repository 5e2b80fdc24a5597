# runtime_engine.sh - the container runtime tests, for the engine in $ENGINE
# (podman or docker), sourced by test_runtime_podman.sh and
# test_runtime_docker.sh after they made the engine and its images ready.
# runtime: $ENGINE through a real controller and agent: a stage runs and
# emits like a process stage; only SLUICE_* and the stage's env: get in; a
# task over `memory: 64m` is killed and reported as out of memory; host paths
# that were not bound are invisible; a timeout kills the task inside the
# container; tasks of a stage reuse one slot container (same container id),
# or get one container each with SLUICE_CONTAINER_REUSE=0; a missing image
# says how to build it; and no container of ours outlives its agent, even
# one killed with SIGKILL.
IMG=sluice/busybox:0.1.0
E=$ENGINE

start_controller --lease-ttl 5s
export LEAK_CHECK=agent-only # in the agent's environment, must not reach modules
rt_agent h1
AG=$AGENT_PID_h1

# 1. runs and emits like a process stage; env filtered
echo secret >"$TMP/secret.txt"
cat >"$TMP/basic.yaml" <<YAML
name: basic
stages:
  - name: a
    runtime: $E
    image: $IMG
    env: {FOO: bar}
    command: [sh, -c, 'echo "out \$1"; env > \$SLUICE_WORK/../env.\$SLUICE_TASK_ID; echo "\$1/x" > \$SLUICE_WORK/emit', sh]
    emits: [b]
  - name: b
    command: [sh, -c, 'echo "\$1" >> $TMP/b.out', sh]
messages:
  - {to: a, key: "k{1..3}"}
YAML
id=$(submit "$TMP/basic.yaml")
st=$(wait_pipeline "$id" 60)
check "$E stage runs and its emits reach a process stage (state=$st)" [ "$st" = done ]
check "$E: 3 emitted keys consumed" [ "$(sort "$TMP/b.out" 2>/dev/null | tr '\n' ' ')" = "k1/x k2/x k3/x " ]
t1=$(task_id "$id" k1)
check "$E: stdout of the module is in sluice logs" bash -c "sluice logs $t1 | grep -q 'out k1'"
envf=$(ls "$TMP"/mem/h1.work/env.* "$TMP"/agents/h1/work/env.* 2>/dev/null | head -n 1)
check "$E: SLUICE_* and stage env reach the module" \
  bash -c "grep -q '^SLUICE_KEY=k' '$envf' && grep -q '^FOO=bar' '$envf' && grep -q '^SLUICE_WORK=/' '$envf'"
check "$E: the agent's own environment does not" bash -c "! grep -q LEAK_CHECK '$envf'"

# 2. slot reuse: three tasks, one container (id from the task's cgroup);
#    each task writes "KEY CONTAINER" at the end of its work
cat >"$TMP/reuse.yaml" <<YAML
name: reuse
stages:
  - name: r
    runtime: $E
    image: $IMG
    command: [sh, -c, 'c=\$(grep -oE "[0-9a-f]{64}" /proc/self/cgroup | head -n 1); echo "\$1 \$c" >> $TMP/mem/ids', sh]
messages:
  - {to: r, key: "k{1..3}"}
YAML
mkdir -p "$TMP/mem"
id=$(submit "$TMP/reuse.yaml")
st=$(wait_pipeline "$id" 60)
check "reuse pipeline completes (state=$st)" [ "$st" = done ]
# the cache tier $TMP/mem/h1 is bound, $TMP/mem itself is not: use the tier
sed -i "s|$TMP/mem/ids|\$SLUICE_MEM/ids|" "$TMP/reuse.yaml"
sed -i 's/name: reuse/name: reuse2/' "$TMP/reuse.yaml"
id=$(submit "$TMP/reuse.yaml")
st=$(wait_pipeline "$id" 60)
check_each_once "slot reuse: each of the 3 keys ran exactly once" 3 <(cut -d' ' -f1 "$TMP/mem/h1/ids")
# container ids with their number of tasks: one id, all 3 tasks
cids=$(echo $(awk '{print $2}' "$TMP/mem/h1/ids" 2>/dev/null | sort | uniq -c))
check "slot reuse: the 3 tasks ran in 1 container ($cids)" grep -qxE '3 [0-9a-f]{64}' <<<"$cids"
cid=$(awk '{print $2}' "$TMP/mem/h1/ids" | head -n 1)
live=$($E ps --filter "name=^sluice-$AG-" --format '{{.ID}}' --no-trunc)
check "slot reuse: that container is one of this agent's slots (sluice-$AG-N)" bash -c "echo '$live' | grep -q '^$cid'"
check "unbound host path: what the first run wrote to $TMP/mem (not bound) stayed in the container" [ ! -e "$TMP/mem/ids" ]

# 3. host paths that were not bound are invisible
cat >"$TMP/iso.yaml" <<YAML
name: iso
stages:
  - name: i
    runtime: $E
    image: $IMG
    command: [sh, -c, 'test ! -e $TMP/secret.txt && test ! -e $SLUICE_ROOT/Makefile && test ! -e /etc/shadow && test -d "\$SLUICE_MEM" && test -d "\$SLUICE_SSD" && test -w "\$SLUICE_WORK"', sh]
    retry: {default: 0}
messages:
  - {to: i, key: k}
YAML
id=$(submit "$TMP/iso.yaml")
st=$(wait_pipeline "$id" 60)
check "isolation: host files outside the binds are invisible, tiers and work dir are there (state=$st)" [ "$st" = done ]

# 4. memory: 64m and a task that allocates 200 MB
cat >"$TMP/oom.yaml" <<YAML
name: oom
stages:
  - name: hog
    runtime: $E
    image: $IMG
    memory: 64m
    retry: {default: 0}
    command: [sh, -c, 'dd if=/dev/zero of=/dev/null bs=200M count=1', sh]
messages:
  - {to: hog, key: k}
YAML
id=$(submit "$TMP/oom.yaml")
st=$(wait_pipeline "$id" 60)
t=$(task_id "$id" k)
check "memory 64m: the pipeline fails (state=$st)" [ "$st" = failed ]
check "memory 64m: exit code 137 recorded" [ "$(task_field "$t" exit_code)" = 137 ]
sluice logs "$t" >"$TMP/oom.log" 2>&1
check "memory 64m: sluice logs shows exit 137 and out of memory" \
  bash -c "grep -q 'exit 137' '$TMP/oom.log' && grep -q 'out of memory' '$TMP/oom.log'"

# 5. a timeout kills the task inside the container
cat >"$TMP/to.yaml" <<YAML
name: to
stages:
  - name: slow
    runtime: $E
    image: $IMG
    timeout: 1s
    retry: {default: 0}
    command: [sh, -c, 'sleep 4; touch \$SLUICE_MEM/survived', sh]
messages:
  - {to: slow, key: k}
YAML
id=$(submit "$TMP/to.yaml")
st=$(wait_pipeline "$id" 60)
t=$(task_id "$id" k)
check "timeout: task failed with exit 124 (state=$st)" [ "$(task_field "$t" exit_code)" = 124 ]
sleep 4.5
check "timeout: the process inside the container was killed (no file after 4 s)" [ ! -e "$TMP/mem/h1/survived" ]
nleft=$($E ps -a --filter "name=^sluice-$AG-" --format '{{.Names}}' | wc -l)
check "timeout: its container was removed, the idle slots remain ($nleft live)" [ "$nleft" -le 3 ]

# 6. a missing image names the command that builds it
cat >"$TMP/noimg.yaml" <<YAML
name: noimg
stages:
  - name: n
    runtime: $E
    image: sluice/no-such-module:0.1.0
    retry: {default: 0}
    command: [true]
messages:
  - {to: n, key: k}
YAML
id=$(submit "$TMP/noimg.yaml")
st=$(wait_pipeline "$id" 60)
sluice logs "$(task_id "$id" k)" >"$TMP/noimg.log" 2>&1
check "missing image: clear error with the build command" \
  grep -q "image sluice/no-such-module:0.1.0 not found by $E; build it with: make images" "$TMP/noimg.log"

# 7. clean stop removes every container of the agent
check "before stop: the agent has slot containers" [ -n "$(our_containers)" ]
stop_agent "$AG"
check "after SIGTERM: $E ps -a shows none of ours" [ -z "$(our_containers)" ]

# 8. no reuse: one container per task
SLUICE_CONTAINER_REUSE=0 rt_agent h2
sed -e 's/name: reuse2/name: reuse3/' -e 's|\$SLUICE_MEM/ids|$SLUICE_MEM/ids3|' "$TMP/reuse.yaml" >"$TMP/reuse3.yaml"
id=$(submit "$TMP/reuse3.yaml")
st=$(wait_pipeline "$id" 60)
check_each_once "SLUICE_CONTAINER_REUSE=0: each of the 3 keys ran exactly once" 3 <(cut -d' ' -f1 "$TMP/mem/h2/ids3")
ids=$(awk 'length($2) == 64 && $2 ~ /^[0-9a-f]+$/ {print $2}' "$TMP/mem/h2/ids3" 2>/dev/null | sort -u | wc -l)
check "SLUICE_CONTAINER_REUSE=0: 3 tasks in 3 containers (state=$st, $ids distinct ids)" [ "$ids" = 3 ]
stop_agent "$AGENT_PID_h2"

# 9. an agent killed with SIGKILL: sluice-init sees its FIFO close
rt_agent h3
sed -e 's/name: reuse2/name: reuse4/' "$TMP/reuse.yaml" >"$TMP/reuse4.yaml"
id=$(submit "$TMP/reuse4.yaml")
st=$(wait_pipeline "$id" 60)
check "SIGKILL case: the agent had a slot container" [ -n "$(our_containers)" ]
kill -KILL "$AGENT_PID_h3"
wait "$AGENT_PID_h3" 2>/dev/null
wait_for 15 test -z "$(our_containers)"
check "after SIGKILL of the agent: its containers stop and are removed" [ -z "$(our_containers)" ]
