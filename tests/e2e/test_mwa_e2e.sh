#!/usr/bin/env bash
# test_mwa_e2e.sh - end to end through the real MWA chain on several local
# agents (E2E_AGENTS, default 3), each with its own memory tier, so data
# crosses agents through the data plane as it crosses hosts on a cluster:
# a small simulated observation (mwa-sim: 16 tiles, 3 coarse channels, 16 s,
# a pulsar among 4 pointings) is packed into per-second product tars,
# listed with its metadata in a manifest, served by a local HTTP server, and
# run through
#   A. pipelines/mwa-full.yaml: download -> unpack -> repack -> pull-unpack ->
#      beam-maker -> down-sampler -> fits-merger -> presto-search, and
#   B. the same split the production way: mwa-prep.yaml (archives kept in
#      the cache, put on an "archive store" served over HTTP),
#      mwa-beamform.yaml pulling that archive, mwa-search.yaml fetching the
#      merged files from a "results store" over HTTP.
# Each must recover the injected pulsar's pointing, period (0.5 %) and DM
# (+-2). Also: every pipeline file validates; keys expand as designed; some
# inputs were pulled between agents (`pulled` lines in the agents' logs);
# every intermediate object was deleted by reference counts, only the kept
# final products are left.
# Set E2E_ONLY=A or E2E_ONLY=B to run one half. E2E_RUNTIMES="process podman"
# runs A once per runtime (RUNTIME=...) and checks the detections are the
# same (tests/e2e/test_mwa_e2e_podman.sh); E2E_PIDS_FILE collects the PIDs
# of the agents (to look for their containers afterwards).
# E2E_RUN replaces `sluice run` (see run()); the kept results are then
# looked for under the tier roots in E2E_TIERS.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
set -euo pipefail
cd "$SLUICE_ROOT"
export PATH="$SLUICE_ROOT/build/bin:$SLUICE_ROOT/pipelines/bin:$PATH"

OBSID=1257010784 NSEC=16 STEP=8 CH_FIRST=109 CH_LAST=111 TILES=16 SAMPLES=1000
PERIOD=0.1337 DM=30
NCHAN=$((CH_LAST - CH_FIRST + 1)) T_LAST=$((OBSID + NSEC - 1))
VCS_BYTES=$((TILES * 128 * SAMPLES * 2))

# --- the pipeline files ---------------------------------------------------
if sluice validate pipelines/*.yaml >"$TMP/validate.out" 2>&1; then
  ok "every pipelines/*.yaml validates ($(grep -c 'is valid' "$TMP/validate.out") files)"
else
  not_ok "pipelines/*.yaml validate"
  sed 's/^/# /' "$TMP/validate.out"
fi

# --- the observation ------------------------------------------------------
t0=$SECONDS
mwa-sim -o "$TMP/sim" --obsid "$OBSID" -n "$NSEC" -c "$CH_FIRST-$CH_LAST" -t "$TILES" -f 128 \
  -s "$SAMPLES" --period "$PERIOD" --dm "$DM" --duty 0.06 --strength 0.004 --decoys 3 \
  --seed 14 -j 2 >"$TMP/sim.log" 2>&1
mkdir -p "$TMP/www" "$TMP/meta"
mv "$TMP/sim/$OBSID.metafits" "$TMP/sim/${OBSID}_solutions.bin" "$TMP/sim/pointings.txt" "$TMP/www/"
mv "$TMP/sim/truth.txt" "$TMP/meta/"
for ((g = OBSID; g <= T_LAST; g++)); do
  (cd "$TMP/sim" && tar -cf "$TMP/www/${OBSID}_$g.tar" "${OBSID}_${g}"_ch*.dat && rm -f "${OBSID}_${g}"_ch*.dat)
done
truth() { sed -n "s/^$1=//p" "$TMP/meta/truth.txt"; }
TRUE_P=$(printf 'p%05d' "$(truth true_pointing_line)")

/usr/bin/python3 modules/mwa-down/tests/httpd.py --root "$TMP/www" --port-file "$TMP/port" --lifetime 600 &
track_pid $!
wait_for 10 test -s "$TMP/port"
DATA_URL="http://127.0.0.1:$(cat "$TMP/port")"
# the metadata is in the manifest too: it reaches every host with the data
mwa-down --sum --url-prefix "$DATA_URL" "$TMP/www/"*.tar "$TMP/www/$OBSID.metafits" \
  "$TMP/www/${OBSID}_solutions.bin" "$TMP/www/pointings.txt" >"$TMP/www/$OBSID.manifest"
check "simulated $NSEC s x $NCHAN channels, $NSEC product tars, metadata and a manifest served on 127.0.0.1 ($((SECONDS - t0)) s)" \
  test "$(wc -l <"$TMP/www/$OBSID.manifest")" -eq $((NSEC + 3))

# Variables shared by every run (the observation and demo-sized settings).
AGENTS=${E2E_AGENTS:-3}
export OBSID T_FIRST="$OBSID" T_LAST T_STEP="$STEP" REPACK_SECONDS="$STEP" N_TRANGES=$((NSEC / STEP))
export CH_FIRST CH_LAST NCHAN P_FIRST=1 P_LAST=4 P_GROUP=2 VCS_BYTES TAR_MEMBERS="$NCHAN" DATA_URL
export SEARCH_OPTS="--dm-max 50" SEARCH_THREADS=1 BEAM_THREADS=2 REPACK_THREADS=1 DOWN_STREAMS=2
export DOWN_SLOTS=2 UNPACK_SLOTS=2 REPACK_SLOTS=2 PULL_SLOTS=2 DS_SLOTS=2 MERGE_SLOTS=2 SEARCH_SLOTS=2
export FETCH_SLOTS=2
# bytes one task writes (the cache's admission): sizes of this observation
mib() { echo "$((($1 + 1048575) / 1048576 + 1))MiB"; }
export DOWN_SIZE UNPACK_SIZE REPACK_SIZE VCS_SIZE BEAM_SIZE=2MiB DS_SIZE=1MiB MERGED_SIZE=2MiB
export RESULTS_SIZE=2MiB FETCH_SIZE=2MiB
DOWN_SIZE=$(mib $((STEP * NCHAN * VCS_BYTES + STEP * (NCHAN + 1) * 1024)))
UNPACK_SIZE=$(mib $((STEP * NCHAN * VCS_BYTES)))
REPACK_SIZE=$(mib $((STEP * VCS_BYTES))) VCS_SIZE=$REPACK_SIZE

# run NAME FILE: sluice run on $AGENTS local agents (--keep: their memory
# tiers stay for harvest), output in $TMP/NAME.log, state in
# $TMP/state-NAME; sets TIERS (the agents' tier roots). E2E_RUN replaces
# `sluice run` with a command that takes FILE (tests/slurm: submit to a
# controller whose agents run on Slurm, and wait).
run() {
  local t=$SECONDS rc=0 pid n i
  if [ -n "${E2E_RUN:-}" ]; then
    $E2E_RUN "$2" >"$TMP/$1.log" 2>&1 || rc=$?
    read -ra TIERS <<<"${E2E_TIERS:-}"
    [ "${#TIERS[@]}" -gt 0 ] ||
      echo "# E2E_TIERS is not set: the kept results cannot be found (give the agents' --mem-root and --ssd-root)"
  else
    sluice run --agents "$AGENTS" --keep --state "$TMP/state-$1" "$2" >"$TMP/$1.log" 2>&1 &
    pid=$!
    if [ -n "${E2E_PIDS_FILE:-}" ]; then # the controller and the agents: children of sluice run
      for ((i = 0; i < 200; i++)); do
        n=$(ps -o pid= --ppid "$pid" | wc -l)
        [ "$n" -gt "$AGENTS" ] && break
        sleep 0.05
      done
      ps -o pid= --ppid "$pid" >>"$E2E_PIDS_FILE"
    fi
    wait "$pid" || rc=$?
    TIERS=("/dev/shm/sluice-run-$pid" "$TMP/state-$1/agents")
    RUN_SHM+=("/dev/shm/sluice-run-$pid")
  fi
  if [ "$rc" -eq 0 ]; then
    ok "$1: sluice run $2 on $AGENTS agents${RUNTIME:+ (runtime $RUNTIME)} succeeded ($((SECONDS - t)) s)"
  else
    not_ok "$1: sluice run $2 exited $rc ($((SECONDS - t)) s)"
    tail -n 30 "$TMP/$1.log" | sed 's/^/# /'
    for st in "$TMP/state-$1"/agents/*/work/*/stderr; do
      [ -s "$st" ] && { echo "# --- $st"; tail -n 5 "$st" | sed 's/^/# /'; }
    done 2>/dev/null || true
  fi
  return "$rc"
}
RUN_SHM=()
# the memory tiers kept for harvest: removed at exit (they are ours)
trap 'for d in "${RUN_SHM[@]}"; do rm -rf "$d"; done; _cleanup' EXIT

# kept_files STAGE NAME: the files called NAME (a glob) in the objects of
# STAGE (p<pipeline>/STAGE/OBSID/...) in the agents' tiers of the last run.
kept_files() {
  local root
  for root in "${TIERS[@]}"; do
    [ -d "$root" ] && find "$root" -type f -path "*/p[0-9]*/$1/$OBSID/*" -name "$2"
  done
  return 0
}
# harvest_results DEST: copies the search results (pNNNNN/ directories) out
# of the caches to DEST/OBSID/pNNNNN/.
harvest_results() {
  local f
  mkdir -p "$1/$OBSID"
  kept_files presto-search candidates.json | while read -r f; do
    cp -a "$(dirname "$f")" "$1/$OBSID/"
  done
}

# check_cache NAME KEPT_STAGE [pulls]: every object but those of KEPT_STAGE
# was deleted by reference counts; with "pulls", some inputs were pulled
# between agents (the agents log "pulled PATH (N bytes) for task ID").
check_cache() {
  local name=$1 db="$TMP/state-$1/sluice.db" pulls live
  [ -z "${E2E_RUN:-}" ] || return 0
  if [ "${3:-}" = pulls ]; then
    pulls=$(cat "$TMP/state-$name"/agent-*.log | grep -c ': pulled ' || true)
    check "$name: $pulls input objects pulled from other agents by the data plane" [ "$pulls" -gt 0 ]
    grep -h ': pulled ' "$TMP/state-$name"/agent-*.log | awk '{print $5}' | cut -d/ -f2 | sort | uniq -c |
      awk -v n="$name" '{s = s sep $1 " " $2; sep = ", "} END {print "# " n ": pulled objects by stage: " s}'
  fi
  live=$(/usr/bin/python3 - "$db" <<'PY'
import re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(yaml,) = db.execute("SELECT yaml FROM pipelines ORDER BY id LIMIT 1").fetchone()
names = re.findall(r"^  - name: *(\S+)", yaml, re.M)
print(" ".join(sorted(set("%s:%s" % (names[st], state) for st, state in
                         db.execute("SELECT stage, state FROM objects")))))
PY
  )
  echo "# $name: objects by stage and state: $live"
  check "$name: every object but the kept $2 results deleted by reference counts" \
    test -z "$(tr ' ' '\n' <<<"$live" | grep -v ':deleted$' | grep -v "^$2:live$")"
}

# check_counts NAME "stage=N ...": tasks done per stage in the final progress
# table of run NAME (the keys the templates expand to, e.g. 2 time ranges x
# 3 channels x 2 pointing groups = 12 beam-maker tasks).
check_counts() {
  local name=$1 want=$2 got
  got=$(awk '/^pipeline .*: done/ {t = 1; s = ""; next} t && NF >= 7 && $1 != "STAGE" && $2 ~ /^[0-9]+$/ {s = s $1 "=" $2 " "} END {print s}' "$TMP/$name.log")
  got=${got% }
  check "$name: tasks per stage $want" test "$got" = "$want"
  [ "$got" = "$want" ] || echo "# got: $got"
}

# check_detection NAME RESULTS_DIR: the strongest folded candidate over all
# pointings is the pulsar, in the right pointing.
check_detection() {
  local name=$1 res=$2 line
  line=$(/usr/bin/python3 - "$res/$OBSID" <<'PY'
import json, os, sys
best = None
base = sys.argv[1]
for p in sorted(os.listdir(base)):
    for c in json.load(open(os.path.join(base, p, "candidates.json")))["candidates"]:
        if "fold" in c and (best is None or c["fold"]["snr"] > best[1]["fold"]["snr"]):
            best = (p, c)
if best:
    f = best[1]["fold"]
    print(best[0], f["period_ms"], f["dm"], f["snr"], os.path.join(base, best[0], f["png"]))
PY
  ) || true
  DETECTION=""
  if [ -z "$line" ]; then
    not_ok "$name: no folded candidate in $res"
    return
  fi
  local p per dm snr png
  read -r p per dm snr png <<<"$line"
  DETECTION="$p $per $dm $snr"
  echo "# $name: detected $p P=${per} ms DM=$dm S/N=$snr; injected $TRUE_P P=$(awk -v p="$PERIOD" 'BEGIN{print p*1000}') ms DM=$DM"
  check "$name: pulsar found in the injected pointing ($p, want $TRUE_P)" test "$p" = "$TRUE_P"
  check "$name: period ${per} ms within 0.5 % of $(awk -v p="$PERIOD" 'BEGIN{print p*1000}') ms" \
    awk -v a="$per" -v b="$PERIOD" 'BEGIN{r=a/(b*1000)-1; exit !(r<0.005 && r>-0.005)}'
  check "$name: DM $dm within 2 of $DM" awk -v a="$dm" -v b="$DM" 'BEGIN{exit !(a-b<2 && b-a<2)}'
  check "$name: folded S/N $snr > 10 and a candidate plot" \
    awk -v s="$snr" -v f="$png" 'BEGIN{exit !(s>10 && system("test -s " f)==0)}'
}

# --- A: the whole chain in one pipeline, per runtime ----------------------
# detection line of each runtime's run, "POINTING PERIOD DM S/N"
declare -A DETECTED=()
if [ "${E2E_ONLY:-A}" != B ]; then
  read -ra runtimes <<<"${E2E_RUNTIMES:-${RUNTIME:-process}}"
  for rt in "${runtimes[@]}"; do
    name=A
    [ "${#runtimes[@]}" -eq 1 ] || name="A-$rt"
    if RUNTIME=$rt PIPELINE_NAME=e2e-full run "$name" pipelines/mwa-full.yaml; then
      check_counts "$name" "download=2 unpack=2 repack=6 pull-unpack=6 beam-maker=12 down-sampler=12 fits-merger=4 presto-search=2"
      harvest_results "$TMP/results-$name"
      check_detection "$name" "$TMP/results-$name"
      DETECTED[$rt]=$DETECTION
      n=$(find "$TMP/results-$name/$OBSID" -name candidates.json | wc -l)
      check "$name: one search result per pointing ($n of 4), kept in the cache" test "$n" -eq 4
      check_cache "$name" presto-search pulls
    fi
  done
  if [ "${#runtimes[@]}" -gt 1 ]; then
    for rt in "${runtimes[@]}"; do echo "# detection with runtime $rt: ${DETECTED[$rt]:-none}"; done
    check "A: the same detection with runtimes ${runtimes[*]}" \
      test "$(for rt in "${runtimes[@]}"; do echo "${DETECTED[$rt]:-none $rt}"; done | sort -u | wc -l)" -eq 1
  fi
fi

# --- B: prep -> archive -> beamform (pull over HTTP) -> search ------------
# Between the pipelines the kept products are put on an "archive store"
# (a directory served over HTTP), as a site would: repacked archives and the
# metadata for beamform, merged files and per-pointing manifests for search
# (the test server serves a flat directory: URL/OBSID/NAME is NAME).
if [ "${E2E_ONLY:-B}" != A ]; then
  arch="$TMP/archive" merged="$TMP/merged"
  mkdir -p "$arch" "$merged"
  if PIPELINE_NAME=e2e-prep run B-prep pipelines/mwa-prep.yaml; then
    check_counts B-prep "download=2 unpack=2 repack=6"
    kept_files repack '*.dat.tar.zst' | xargs -r cp -t "$arch"
    kept_files repack '*.metafits' | head -n 1 | xargs -r cp -t "$arch"
    kept_files repack '*_solutions.bin' | head -n 1 | xargs -r cp -t "$arch"
    kept_files repack pointings.txt | head -n 1 | xargs -r cp -t "$arch"
    n=$(find "$arch" -name '*.dat.tar.zst' | wc -l)
    check "B-prep: $((NSEC / STEP * NCHAN)) repacked archives {t0}_{t1}_chNNN.dat.tar.zst kept in the caches ($n)" \
      test "$n" -eq $((NSEC / STEP * NCHAN))
    check "B-prep: archive names are the repack spans" \
      test -f "$arch/${OBSID}_$((OBSID + STEP - 1))_ch$CH_FIRST.dat.tar.zst"
    check "B-prep: the metadata came with the data" test -s "$arch/pointings.txt" -a -s "$arch/$OBSID.metafits"
    check_cache B-prep repack
    /usr/bin/python3 modules/mwa-down/tests/httpd.py --root "$arch" \
      --port-file "$TMP/port2" --lifetime 600 &
    track_pid $!
    wait_for 10 test -s "$TMP/port2"
    REPACK_URL="http://127.0.0.1:$(cat "$TMP/port2")"
    export REPACK_URL
    if PIPELINE_NAME=e2e-beamform run B-beamform pipelines/mwa-beamform.yaml; then
      check_counts B-beamform "pull-unpack=6 beam-maker=12 down-sampler=12 fits-merger=4"
      kept_files fits-merger "${OBSID}_p*.fits" | xargs -r cp -t "$merged"
      n=$(find "$merged" -name '*.fits' | wc -l)
      check "B-beamform: 4 pointings x $((NSEC / STEP)) time ranges merged and kept ($n files)" \
        test "$n" -eq $((4 * NSEC / STEP))
      check_cache B-beamform fits-merger pulls
      /usr/bin/python3 modules/mwa-down/tests/httpd.py --root "$merged" \
        --port-file "$TMP/port3" --lifetime 600 &
      track_pid $!
      wait_for 10 test -s "$TMP/port3"
      MERGED_URL="http://127.0.0.1:$(cat "$TMP/port3")"
      export MERGED_URL
      cp "$arch/pointings.txt" "$merged/"
      for ((p = P_FIRST; p <= P_LAST; p++)); do
        pn=$(printf p%05d "$p")
        mwa-down --sum --url-prefix "$MERGED_URL/$OBSID" "$merged/${OBSID}_${pn}_"*.fits \
          "$merged/pointings.txt" >"$merged/$pn.manifest"
      done
      if PIPELINE_NAME=e2e-search run B-search pipelines/mwa-search.yaml; then
        check_counts B-search "fetch=4 presto-search=4"
        harvest_results "$TMP/results-B"
        check_detection B "$TMP/results-B"
        check_cache B-search presto-search
      fi
    fi
  fi
fi
echo "# total $SECONDS s"
# lib.sh's exit trap kills the servers and `wait`s for them (status 137);
# errexit must not turn that into the script's exit status.
set +e
