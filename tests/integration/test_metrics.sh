#!/usr/bin/env bash
# /metrics is valid Prometheus exposition and /api/history serves samples.
# A real controller (--http on loopback, --metrics-forget 3s, --history-every
# 1s) and three real agents (one named q"x\y) run a pipeline that retries
# each task of its first stage once. /metrics, scraped while it runs and
# after it finished, must pass `promtool check metrics`, give every family
# HELP and TYPE, keep each family's samples together, end counters in
# _total, show histograms with _bucket/_sum/_count (le="+Inf" equal to
# _count), per-host series and the odd host name escaped; the finished
# pipeline's labels leave after 3 s; the history holds samples; `sluice top`
# shows the stages. Bounded waits throughout.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cluster.sh"

if ! command -v promtool >/dev/null; then not_ok "promtool missing: apt-get install prometheus"; exit 1; fi
if ! command -v curl >/dev/null; then skip "curl not installed"; exit 0; fi

start_controller --lease-ttl 30s --http 127.0.0.1:0 --metrics-forget 3s --history-every 1s
HTTP=$(cat "$STATE/addr.http")
start_agent m1
start_agent m2
# a host name that needs escaping in a label value (quote and backslash)
sluice agent --name 'q"x\y' --dir "$TMP/agents/q" --mem "$TMP/mem/q" --wait 2000 \
  >>"$TMP/agent-q.log" 2>&1 &
track_pid $!
scrape() { curl -s --max-time 5 "http://$HTTP/metrics"; }

cat > "$TMP/p.yaml" <<YAML
name: metrics
stages:
  - name: a
    command: [sh, -c, 'sleep 0.3; [ -e $TMP/fail-\$1 ] || { touch $TMP/fail-\$1; exit 3; }', sh]
    retry: {default: 1}
    emits: [b]
  - name: b
    command: [sh, -c, 'sleep 0.2', sh]
messages:
  - {to: a, key: "k{1..6}"}
YAML
id=$(submit "$TMP/p.yaml")
wait_for 20 sh -c "curl -s --max-time 5 http://$HTTP/metrics | grep -q 'sluice_host_running_tasks{host=\"m[12]\"} [1-9]'"
scrape > "$TMP/live.txt"
check "live /metrics passes promtool check metrics" sh -c "promtool check metrics < '$TMP/live.txt' > '$TMP/promtool.out' 2>&1"
sed 's/^/# promtool: /' "$TMP/promtool.out" | head -5
st=$(wait_pipeline "$id" 60)
check "pipeline finishes (state=$st)" [ "$st" = done ]
scrape > "$TMP/done.txt"
check "finished /metrics passes promtool" sh -c "promtool check metrics < '$TMP/done.txt' >/dev/null 2>&1"
sluice top --once --all > "$TMP/top.out" 2>&1
check "sluice top --once --all lists the stages" grep -Eq "^metrics#$id +b +[0-9.]+ +- +0 +0 +6$" "$TMP/top.out"

# every family has HELP and TYPE, once, and its samples form one group
fams=$(sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' "$TMP/done.txt" | sort)
check "families have HELP" [ "$(sed -n 's/^# HELP \([^ ]*\) .*/\1/p' "$TMP/done.txt" | sort)" = "$fams" ]
check "no family declared twice" [ -z "$(echo "$fams" | uniq -d)" ]
check "every sample belongs to a declared family" awk '
  /^# TYPE/ {t[$3]=$4; cur=$3; next} /^#/ {next}
  { n=$1; sub(/\{.*/, "", n); b=n; sub(/_(bucket|sum|count)$/, "", b)
    if (!(n in t) && !((b in t) && t[b]=="histogram")) { print "undeclared " n; bad=1 }
    f=(n in t)?n:b; if (f != cur) { print "out of group " n; bad=1 } }
  END {exit bad}' "$TMP/done.txt"
check "counters end in _total" awk '/^# TYPE/ && $4=="counter" && $3 !~ /_total$/ {bad=1} END{exit bad}' "$TMP/done.txt"
check "a counter counts: 18 attempts (a: 6 x 2, b: 6)" grep -q '^sluice_attempts_total 18$' "$TMP/done.txt"
check "retries counted" grep -q '^sluice_retries_total 6$' "$TMP/done.txt"
check "finished by outcome" grep -q 'sluice_tasks_finished_total{.*stage="a",outcome="retried"} 6' "$TMP/done.txt"
for h in sluice_task_duration_seconds sluice_queue_wait_seconds sluice_dispatch_seconds; do
  check "$h: histogram with _bucket/_sum/_count" sh -c "grep -q '^$h""_bucket{' '$TMP/done.txt' && grep -q '^$h""_sum' '$TMP/done.txt' && grep -q '^$h""_count' '$TMP/done.txt'"
done
inf=$(sed -n 's/^sluice_queue_wait_seconds_bucket{le="+Inf"} //p' "$TMP/done.txt")
cnt=$(sed -n 's/^sluice_queue_wait_seconds_count //p' "$TMP/done.txt")
check "le=\"+Inf\" equals _count ($inf = $cnt, 18 leases)" [ "$inf/$cnt" = 18/18 ]
dinf=$(sed -n 's/^sluice_task_duration_seconds_bucket{.*stage="a",le="+Inf"} //p' "$TMP/done.txt")
dcnt=$(sed -n 's/^sluice_task_duration_seconds_count{.*stage="a"} //p' "$TMP/done.txt")
check "duration of stage a: le=\"+Inf\" equals _count ($dinf = $dcnt, 12 attempts)" [ "$dinf/$dcnt" = 12/12 ]
check "host label value escaped" grep -qF 'sluice_host_up{host="q\"x\\y"} 1' "$TMP/done.txt"
for s in 'sluice_host_up{host="m1"} 1' 'sluice_host_cache_budget_bytes{host="m2",tier="mem"}' 'sluice_host_last_seen_seconds{host="m1"}' 'sluice_host_cache_used_bytes{host="m1",tier="ssd"}'; do
  check "per-host series: $s" grep -qF "$s" "$TMP/done.txt"
done

# the finished pipeline's labels leave after --metrics-forget
check "finished pipeline still listed at first" grep -q "id=\"$id\"" "$TMP/done.txt"
check "finished pipeline's labels gone after 3 s" wait_for 15 sh -c "! curl -s --max-time 5 http://$HTTP/metrics | grep -q 'id=\"$id\"'"

# the history: samples per stage while it ran
curl -s --max-time 5 "http://$HTTP/api/history?series=done:$id:&since=-600" > "$TMP/hist.json"
check "/api/history returns samples of done:$id:a" grep -q "\"done:$id:a\":\[\[[0-9.]*,[0-9]*\]" "$TMP/hist.json"
check "/api/history since=now returns none" sh -c "curl -s --max-time 5 'http://$HTTP/api/history?series=done:&since=$(( $(date +%s) + 100 ))' | grep -q '\"series\":{}'"
check "/api/history has the throughput series" sh -c "curl -s --max-time 5 'http://$HTTP/api/history?series=throughput' | grep -q '\"throughput\":\[\['"
check "history rows in SQLite" [ "$(sql "SELECT count(*) FROM metrics_history WHERE series LIKE 'rate:$id:%'")" -gt 0 ]
