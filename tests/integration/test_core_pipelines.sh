#!/usr/bin/env bash
# Core pipelines through a real controller and three real agents on
# 127.0.0.1: linear, fan-out + gather, host-bound placement, group-bound
# placement, module-side emission (emit file, sink-tasks.txt, sluice emit).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

start_controller --lease-ttl 5s --http 127.0.0.1:0
start_agent h1 --group east
start_agent h2 --group east
start_agent h3 --group west

# 1. linear: a -> b -> c, each writes a marker into a shared results dir
cat > "$TMP/linear.yaml" <<YAML
name: linear
stages:
  - name: a
    command: [sh, -c, 'echo "a \$1" >> $TMP/linear.out', sh]
    emits: [b]
  - name: b
    command: [sh, -c, 'echo "b \$1" >> $TMP/linear.out', sh]
    emits: [c]
  - name: c
    command: [sh, -c, 'echo "c \$1" >> $TMP/linear.out', sh]
messages:
  - {to: a, key: "k{1..5}"}
YAML
id=$(submit "$TMP/linear.yaml")
st=$(wait_pipeline "$id" 30)
check "linear pipeline completes (state=$st)" [ "$st" = done ]
check "linear: 15 tasks done" [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND state=2")" = 15 ]
check_each_once "linear: every stage ran each key once" 15 "$TMP/linear.out"
check "linear: c ran after b for k3" awk '/^b k3$/{b=NR} /^c k3$/{c=NR} END{exit !(b && c && b < c)}' "$TMP/linear.out"

# 2. fan-out then gather: each split task emits 4 parts (emit file and
#    sink-tasks.txt), each part emits to the join keyed by the split key.
cat > "$TMP/gather.yaml" <<YAML
name: gather
stages:
  - name: split
    command: [sh, -c, 'for i in 1 2; do echo "\$1/p\$i" >> \$SLUICE_WORK/emit; done; for i in 3 4; do echo "\$1/p\$i" >> \$SLUICE_WORK/sink-tasks.txt; done', sh]
    emits: [part]
  - name: part
    command: [sh, -c, 'echo part', sh]
    emits: [{to: join, key: "{1}"}]
  - name: join
    command: [sh, -c, 'echo "\$1 \$2" >> $TMP/join.out', sh]
    gather: 4
messages:
  - {to: split, key: "s{1..3}"}
YAML
id=$(submit "$TMP/gather.yaml")
st=$(wait_pipeline "$id" 30)
check "fan-out + gather completes (state=$st)" [ "$st" = done ]
check "gather: 12 parts and 3 joins" [ "$(sql "SELECT group_concat(n) FROM (SELECT count(*) n FROM tasks WHERE pipeline_id=$id GROUP BY stage ORDER BY stage)")" = "3,12,3" ]
check "gather: each join saw its 4 members" [ "$(grep -c '"members":\["s[0-9]/p[1-4]","s[0-9]/p[1-4]","s[0-9]/p[1-4]","s[0-9]/p[1-4]"\]' "$TMP/join.out")" = 3 ]

# 3. host-bound: every consumer runs where its producer ran
cat > "$TMP/hb.yaml" <<YAML
name: hostbound
stages:
  - name: produce
    command: [sh, -c, 'sleep 0.2; echo \$SLUICE_HOST > \$SLUICE_MEM/\$(echo \$1 | tr / _)', sh]
    slots: 2
    emits: [consume]
  - name: consume
    command: [sh, -c, 'test "\$(cat \$SLUICE_MEM/\$(echo \$1 | tr / _))" = "\$SLUICE_HOST"', sh]
    placement: host-bound
    slots: 2
messages:
  - {to: produce, key: "obs/f{01..24}"}
YAML
id=$(submit "$TMP/hb.yaml")
st=$(wait_pipeline "$id" 60)
check "host-bound pipeline completes (state=$st)" [ "$st" = done ]
mism=$(sql "SELECT count(*) FROM tasks p JOIN tasks c ON c.pipeline_id=p.pipeline_id AND c.key=p.key AND c.stage=1 AND p.stage=0 WHERE p.pipeline_id=$id AND p.host != c.host")
check "host-bound: 0 consumers ran away from their producer (got $mism)" [ "$mism" = 0 ]
hosts=$(sql "SELECT count(DISTINCT host) FROM tasks WHERE pipeline_id=$id AND stage=0")
check "host-bound: producers spread over several hosts ($hosts)" [ "$hosts" -ge 2 ]

# 4. group-bound: stage east runs only on h1/h2, west only on h3
cat > "$TMP/gb.yaml" <<YAML
name: groupbound
stages:
  - name: east
    command: [sh, -c, 'sleep 0.05', sh]
    placement: group-bound
    group: label:east
    slots: 2
    emits: [west]
  - name: west
    command: [sh, -c, 'true', sh]
    placement: group-bound
    group: label:west
messages:
  - {to: east, key: "g{1..12}"}
YAML
id=$(submit "$TMP/gb.yaml")
st=$(wait_pipeline "$id" 60)
check "group-bound pipeline completes (state=$st)" [ "$st" = done ]
check "group-bound: east ran only on h1/h2" [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND stage=0 AND host NOT IN ('h1','h2')")" = 0 ]
check "group-bound: west ran only on h3" [ "$(sql "SELECT count(*) FROM tasks WHERE pipeline_id=$id AND stage=1 AND host != 'h3'")" = 0 ]

# 5. sluice emit inside a module, with a bad key failing the task clearly
cat > "$TMP/emit.yaml" <<YAML
name: emitcli
stages:
  - name: a
    command: [sh, -c, 'if [ "\$1" = bad ]; then echo "../escape" >> \$SLUICE_WORK/emit; else sluice emit "\$1/x" && sluice emit --headers "{\"n\":1}" "\$1/y"; fi', sh]
    emits: [b]
  - name: b
    command: [sh, -c, 'echo "\$1 \$2" >> $TMP/emit.out', sh]
messages:
  - {to: a, key: "{1..2}"}
  - {to: a, key: "bad"}
YAML
id=$(submit "$TMP/emit.yaml")
st=$(wait_pipeline "$id" 30)
check "emit: pipeline with a bad emitted key ends failed (state=$st)" [ "$st" = failed ]
check "emit: 4 keys emitted with sluice emit arrived" [ "$(wc -l < "$TMP/emit.out")" = 4 ]
check "emit: headers given to sluice emit reach the consumer" grep -q '^1/y {"from_host":"h[123]","n":1}$' "$TMP/emit.out"
badid=$(sql "SELECT id FROM tasks WHERE pipeline_id=$id AND key='bad'")
check "emit: the bad key's error is in sluice logs" sh -c "sluice logs $badid | grep -q \"emitted key '../escape' is invalid\""

# 6. slots hold on one host even when the agent holds spare tasks (a deep
#    queue lets agents lease ahead): never two of this stage at once per host
cat > "$TMP/slots.yaml" <<YAML
name: slots
stages:
  - name: one
    command: [sh, -c, 'mkdir $TMP/lock.\$SLUICE_HOST || exit 9; sleep 0.05; rmdir $TMP/lock.\$SLUICE_HOST', sh]
    slots: 1
messages:
  - {to: one, key: "s{1..30}"}
YAML
id=$(submit "$TMP/slots.yaml")
st=$(wait_pipeline "$id" 60)
check "slots: a deep queue completes (state=$st)" [ "$st" = done ]
check "slots: never two tasks of a 1-slot stage at once on a host" [ "$(sql "SELECT count(*) FROM attempts a JOIN tasks t ON t.id=a.task_id WHERE t.pipeline_id=$id AND a.exit_code != 0")" = 0 ]

# 7. the HTTP side door: status page, Prometheus metrics, JSON
hport=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$TMP/controller.log" | head -n1)
check "http: /metrics lists done tasks per stage" sh -c "curl -sf http://127.0.0.1:$hport/metrics | grep -q 'sluice_tasks{pipeline=\"linear\",id=\"1\",stage=\"c\",state=\"done\"} 5'"
check "http: /api/status is JSON with the pipelines" sh -c "curl -sf http://127.0.0.1:$hport/api/status | grep -q '\"name\":\"slots\"'"
check "http: / is a status page" sh -c "curl -sf http://127.0.0.1:$hport/ | grep -q '<h1>sluice</h1>'"
