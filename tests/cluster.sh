# Helpers for integration tests that run a real controller and real agents
# on 127.0.0.1 (sourced after tests/lib.sh). Every daemon is started here
# and stopped by its PID at exit; nothing is killed by name.
#
#   start_controller [--lease-ttl 2s]   sets CTL (address) and CTL_PID
#   start_agent NAME [--group G ...]    sets AGENT_PID_<NAME>
#   submit FILE                         prints the pipeline id
#   wait_pipeline ID SECONDS            waits until not running; prints state
#   wait_pipeline_progress ID STALL     the same, bounded by STALL s without progress
#   sql "SELECT ..."                    queries the controller's database
STATE="$TMP/state"
mkdir -p "$STATE"

start_controller() {
  rm -f "$STATE/addr"
  sluice controller --state "$STATE" --listen 127.0.0.1:0 --addr-file "$STATE/addr" "$@" \
    >>"$TMP/controller.log" 2>&1 &
  CTL_PID=$!
  track_pid $CTL_PID
  wait_for 10 test -s "$STATE/addr" || { echo "controller did not start"; cat "$TMP/controller.log"; return 1; }
  CTL=$(cat "$STATE/addr")
  export SLUICE_CONTROLLER="$CTL"
  # every call needs a credential: the CLI takes the user's, agents the
  # join credential (the controller made both in its state directory)
  export SLUICE_TOKEN_FILE="$STATE/secrets/user.token"
  export SLUICE_JOIN_TOKEN_FILE="$STATE/secrets/join.token"
}

start_agent() {
  local name="$1"; shift
  sluice agent --name "$name" --dir "$TMP/agents/$name" --mem "$TMP/mem/$name" --wait 2000 "$@" \
    >>"$TMP/agent-$name.log" 2>&1 &
  local pid=$!
  track_pid $pid
  eval "AGENT_PID_${name//-/_}=$pid"
}

submit() {
  local id
  id=$(sluice submit --json "$1" | sed -n 's/.*"pipeline_id":\([0-9]*\).*/\1/p')
  [ -n "$id" ] || echo "# submit $1: no pipeline id" >&2
  echo "$id"
}

# An empty id (a failed submit) has no state: `sluice status ""` would show
# every pipeline, and the first one's state would pass for this one's.
pipeline_state() {
  [ -n "$1" ] || return 0
  sluice status --json "$1" 2>/dev/null | sed -n 's/^\[{"id":[0-9]*,"name":"[^"]*","state":"\([a-z]*\)".*/\1/p'
}

wait_pipeline() {
  local id="$1" limit="$2" st=""
  [ -n "$id" ] || { echo "no-pipeline-id"; return; }
  local end=$((SECONDS + limit))
  while [ $SECONDS -lt $end ]; do
    kill -0 "$CTL_PID" 2>/dev/null || { echo "controller-died"; return; }
    st=$(pipeline_state "$id")
    [ -n "$st" ] && [ "$st" != running ] && break
    sleep 0.1
  done
  echo "$st"
}

# wait_pipeline_progress ID STALL: waits until the pipeline is not running
# and prints its state (like wait_pipeline), for as long as it progresses:
# it gives up after STALL seconds in which none of its task counts changed
# (queued, running, done, failed, cancelled, waiting, pending), or after
# 600 s in all. A loaded machine may need many times the quiet duration; a
# pipeline that stops moving is what a test is after.
wait_pipeline_progress() {
  local id="$1" stall="$2" st="" js m mark=""
  local end=$((SECONDS + 600)) still=$((SECONDS + stall))
  [ -n "$id" ] || return 0 # (status without an id would list every pipeline)
  while [ $SECONDS -lt $end ] && [ $SECONDS -lt $still ]; do
    kill -0 "$CTL_PID" 2>/dev/null || { echo "controller-died"; return; }
    js=$(sluice status --json "$id" 2>/dev/null)
    st=$(echo "$js" | sed -n 's/^\[{"id":[0-9]*,"name":"[^"]*","state":"\([a-z]*\)".*/\1/p')
    [ -n "$st" ] && [ "$st" != running ] && break
    m=$(echo "$js" | sed 's/"rate":[^,]*,"eta_s":[^,]*,//g')
    if [ -n "$st" ] && [ "$m" != "$mark" ]; then
      mark=$m
      still=$((SECONDS + stall))
    fi
    sleep 0.2
  done
  echo "$st"
}

sql() { sqlite3 "$STATE/sluice.db" "$1"; }
