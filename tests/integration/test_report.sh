#!/usr/bin/env bash
# sluice dag, validate --list and report: the DOT of every shipped pipeline
# renders with Graphviz; --list prints exactly the tasks the initial messages
# make; a command not on PATH is a warning at file:line:col (exit 0); a small
# pipeline with a failure on a real controller and two agents gives an HTML
# report with one timeline rectangle per attempt and the failure's error
# text, which headless chromium renders.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

# 1. dag: valid DOT for every pipeline shipped
for f in "$SLUICE_ROOT"/pipelines/*.yaml; do
  n=$(basename "$f" .yaml)
  check "dag: $n prints a digraph" sh -c "sluice dag '$f' > '$TMP/$n.dot' && grep -q '^digraph' '$TMP/$n.dot'"
  check "dag: dot -Tsvg accepts $n" sh -c "dot -Tsvg '$TMP/$n.dot' > '$TMP/$n.svg' && grep -q '<svg' '$TMP/$n.svg'"
done
check "dag: --svg writes an SVG through Graphviz" sh -c "sluice dag --svg '$TMP/demo2.svg' '$SLUICE_ROOT/pipelines/demo.yaml' && grep -q '<svg' '$TMP/demo2.svg'"
check "dag: a gather edge is marked" grep -q 'arrowhead=diamond' "$TMP/demo.dot"
check "dag: an emits edge carries its key template" grep -q '"down-sampler" -> "fits-merger" \[label="{1}/{2}/{3}"' "$TMP/demo.dot"

# 2. validate --list and the PATH warning
cat > "$TMP/list.yaml" <<YAML
name: list
stages:
  - name: a
    command: [sh, -c, 'true', sh]
  - name: b
    command: [no-such-program-for-sluice, --flag]
messages:
  - to: a
    key: "obs{1..3}/ch{1..24}"
  - to: b
    key: "x{1..2000}"
YAML
sluice validate --list "$TMP/list.yaml" > "$TMP/list.out" 2> "$TMP/list.err"
rc=$?
check "validate: a missing command is only a warning (exit $rc)" [ "$rc" = 0 ]
check "validate: the warning names file:6:15 of the command" grep -q "^$TMP/list.yaml:6:15: warning: command 'no-such-program-for-sluice'" "$TMP/list.err"
check "validate: no warning for sh" sh -c "! grep -q \"'sh'\" '$TMP/list.err'"
check "validate --list: 72 tasks of stage a" [ "$(grep -c '^a obs[1-3]/ch[0-9]*$' "$TMP/list.out")" = 72 ]
check "validate --list: the first 1000 of 2000 tasks of b, then a count" sh -c "[ \$(grep -c '^b x' '$TMP/list.out') = 1000 ] && grep -q '^\.\.\. and 1000 more of message 2' '$TMP/list.out'"
check "validate --list: the total" grep -q '^2072 task key(s)' "$TMP/list.out"

# 3. report from a real controller
start_controller --lease-ttl 3s
start_agent r1
start_agent r2
cat > "$TMP/rep.yaml" <<YAML
name: rep
stages:
  - name: work
    command: [sh, -c, 'sleep 0.2; case "\$1" in k3) echo "k3 broke on purpose" >&2; exit 5;; esac', sh]
    slots: 2
    retry: 1
    emits: [{to: sum, key: all}]
  - name: sum
    command: [sh, -c, 'true', sh]
    gather: 5
messages:
  - to: work
    key: "k{1..6}"
YAML
id=$(submit "$TMP/rep.yaml")
st=$(wait_pipeline_progress "$id" 60)
check "report: the pipeline ends failed (state=$st)" [ "$st" = failed ]
check "report: sluice report writes the file" sluice report -o "$TMP/rep.html" "$id"
attempts=$(sluice tasks --json --pipeline "$id" --limit 1000 | grep -o '"attempts":[0-9]*' | awk -F: '{s+=$2} END {print s}')
rects=$(grep -o '<rect class="attempt' "$TMP/rep.html" | wc -l)
check "report: one timeline element per attempt ($rects vs $attempts from sluice tasks)" [ "$rects" = "$attempts" ] 
check "report: 8 attempts (6 work, k3 twice, 1 sum)" [ "$attempts" = 8 ]
check "report: the failed attempts are marked" [ "$(grep -c 'class="attempt failed' "$TMP/rep.html")" = 2 ]
check "report: the failure's error text" grep -q 'k3 broke on purpose' "$TMP/rep.html"
check "report: stage rows with durations" grep -q '<td>work</td><td>7</td><td>2</td>' "$TMP/rep.html"
check "report: self-contained (no http references but the SVG namespace)" sh -c "! grep -v 'xmlns=\"http://www.w3.org/2000/svg\"' '$TMP/rep.html' | grep -q 'http'"
check "report: chromium is installed" [ -x /usr/bin/chromium ]
timeout 120 /usr/bin/chromium --headless --disable-gpu --no-sandbox --user-data-dir="$TMP/chromium" \
  --screenshot="$TMP/rep.png" --window-size=1280,900 "file://$TMP/rep.html" > "$TMP/chromium.log" 2>&1
rc=$?
check "report: headless chromium renders it (exit $rc)" [ "$rc" = 0 ]
check "report: the screenshot is not empty" [ -s "$TMP/rep.png" ]

