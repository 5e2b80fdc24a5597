#!/usr/bin/env bash
# test_mwa_e2e.sh - end to end through the real MWA chain on one local agent:
# a small simulated observation (mwa-sim: 16 tiles, 3 coarse channels, 16 s,
# a pulsar among 4 pointings) is packed into per-second product tars, served
# by a local HTTP server, and run through
#   A. pipelines/mwa-full.yaml: download -> unpack -> repack -> pull-unpack ->
#      beam-maker -> down-sampler -> fits-merger -> presto-search, and
#   B. the same split the production way: mwa-prep.yaml into an archive
#      directory, mwa-beamform.yaml pulling that archive over HTTP,
#      mwa-search.yaml on the merged files.
# Each must recover the injected pulsar's pointing, period (0.5 %) and DM
# (+-2). Also: every pipeline file validates; keys expand as designed.
# Set E2E_ONLY=A or E2E_ONLY=B to run one half.
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
mv "$TMP/sim/$OBSID.metafits" "$TMP/sim/${OBSID}_solutions.bin" "$TMP/sim/pointings.txt" \
  "$TMP/sim/truth.txt" "$TMP/meta/"
for ((g = OBSID; g <= T_LAST; g++)); do
  (cd "$TMP/sim" && tar -cf "$TMP/www/${OBSID}_$g.tar" "${OBSID}_${g}"_ch*.dat && rm -f "${OBSID}_${g}"_ch*.dat)
done
truth() { sed -n "s/^$1=//p" "$TMP/meta/truth.txt"; }
TRUE_P=$(printf 'p%05d' "$(truth true_pointing_line)")

/usr/bin/python3 modules/mwa-down/tests/httpd.py --root "$TMP/www" --port-file "$TMP/port" --lifetime 600 &
track_pid $!
wait_for 10 test -s "$TMP/port"
DATA_URL="http://127.0.0.1:$(cat "$TMP/port")"
mwa-down --sum --url-prefix "$DATA_URL" "$TMP/www/"*.tar >"$TMP/www/$OBSID.manifest"
check "simulated $NSEC s x $NCHAN channels, $NSEC product tars and a manifest served on 127.0.0.1 ($((SECONDS - t0)) s)" \
  test "$(wc -l <"$TMP/www/$OBSID.manifest")" -eq "$NSEC"

# Variables shared by every run (the observation and demo-sized settings).
export OBSID T_FIRST="$OBSID" T_LAST T_STEP="$STEP" REPACK_SECONDS="$STEP" N_TRANGES=$((NSEC / STEP))
export CH_FIRST CH_LAST NCHAN P_FIRST=1 P_LAST=4 P_GROUP=2 VCS_BYTES TAR_MEMBERS="$NCHAN"
export DATA_URL METAFITS="$TMP/meta/$OBSID.metafits" CALIBRATION="$TMP/meta/${OBSID}_solutions.bin"
export POINTINGS="$TMP/meta/pointings.txt" DOWN_DIR=mem:mwa/down RAW_DIR=mem:mwa/raw
export SEARCH_OPTS="--dm-max 50" SEARCH_THREADS=1 BEAM_THREADS=2 REPACK_THREADS=1 DOWN_STREAMS=2
export DOWN_SLOTS=2 UNPACK_SLOTS=2 REPACK_SLOTS=2 PULL_SLOTS=2 DS_SLOTS=2 MERGE_SLOTS=2 SEARCH_SLOTS=2

# run NAME FILE: sluice run on one agent (the data plane between agents is
# not wired yet), output in $TMP/NAME.log. E2E_RUN replaces `sluice run`
# with a command that takes FILE (tests/slurm/test_mwa_e2e_slurm.sh: submit
# to a controller whose agents run on Slurm, and wait).
run() {
  local t=$SECONDS rc=0
  if [ -n "${E2E_RUN:-}" ]; then
    $E2E_RUN "$2" >"$TMP/$1.log" 2>&1 || rc=$?
  else
    sluice run --agents 1 --state "$TMP/state-$1" "$2" >"$TMP/$1.log" 2>&1 || rc=$?
  fi
  if [ "$rc" -eq 0 ]; then
    ok "$1: sluice run $2 succeeded ($((SECONDS - t)) s)"
  else
    not_ok "$1: sluice run $2 exited $rc ($((SECONDS - t)) s)"
    tail -n 30 "$TMP/$1.log" | sed 's/^/# /'
    for st in "$TMP/state-$1"/agent*/work/*/stderr "$TMP/state-$1"/*/work/*/stderr; do
      [ -s "$st" ] && { echo "# --- $st"; tail -n 5 "$st" | sed 's/^/# /'; }
    done 2>/dev/null || true
  fi
  return "$rc"
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
  if [ -z "$line" ]; then
    not_ok "$name: no folded candidate in $res"
    return
  fi
  local p per dm snr png
  read -r p per dm snr png <<<"$line"
  echo "# $name: detected $p P=${per} ms DM=$dm S/N=$snr; injected $TRUE_P P=$(awk -v p="$PERIOD" 'BEGIN{print p*1000}') ms DM=$DM"
  check "$name: pulsar found in the injected pointing ($p, want $TRUE_P)" test "$p" = "$TRUE_P"
  check "$name: period ${per} ms within 0.5 % of $(awk -v p="$PERIOD" 'BEGIN{print p*1000}') ms" \
    awk -v a="$per" -v b="$PERIOD" 'BEGIN{r=a/(b*1000)-1; exit !(r<0.005 && r>-0.005)}'
  check "$name: DM $dm within 2 of $DM" awk -v a="$dm" -v b="$DM" 'BEGIN{exit !(a-b<2 && b-a<2)}'
  check "$name: folded S/N $snr > 10 and a candidate plot" \
    awk -v s="$snr" -v f="$png" 'BEGIN{exit !(s>10 && system("test -s " f)==0)}'
}

# --- A: the whole chain in one pipeline -----------------------------------
if [ "${E2E_ONLY:-A}" != B ]; then
  export RESULTS_DIR="$TMP/results-A"
  if PIPELINE_NAME=e2e-full run A pipelines/mwa-full.yaml; then
    check_counts A "download=2 unpack=2 repack=6 pull-unpack=6 beam-maker=12 down-sampler=12 fits-merger=4 presto-search=4"
    check_detection A "$RESULTS_DIR"
    n=$(find "$RESULTS_DIR/$OBSID" -name candidates.json | wc -l)
    check "A: one search result per pointing ($n of 4)" test "$n" -eq 4
  fi
fi

# --- B: prep -> archive -> beamform (pull over HTTP) -> search ------------
if [ "${E2E_ONLY:-B}" != A ]; then
  export REPACK_DIR="$TMP/archive" MERGED_DIR="$TMP/merged" RESULTS_DIR="$TMP/results-B"
  if PIPELINE_NAME=e2e-prep run B-prep pipelines/mwa-prep.yaml; then
    check_counts B-prep "download=2 unpack=2 repack=6"
    n=$(find "$REPACK_DIR/$OBSID" -name '*.dat.tar.zst' | wc -l)
    check "B-prep: $((NSEC / STEP * NCHAN)) repacked archives {t0}_{t1}_chNNN.dat.tar.zst ($n)" \
      test "$n" -eq $((NSEC / STEP * NCHAN))
    check "B-prep: archive names are the repack spans" \
      test -f "$REPACK_DIR/$OBSID/${OBSID}_$((OBSID + STEP - 1))_ch$CH_FIRST.dat.tar.zst"
    /usr/bin/python3 modules/mwa-down/tests/httpd.py --root "$REPACK_DIR/$OBSID" \
      --port-file "$TMP/port2" --lifetime 600 &
    track_pid $!
    wait_for 10 test -s "$TMP/port2"
    export REPACK_URL="http://127.0.0.1:$(cat "$TMP/port2")"
    if PIPELINE_NAME=e2e-beamform run B-beamform pipelines/mwa-beamform.yaml; then
      check_counts B-beamform "pull-unpack=6 beam-maker=12 down-sampler=12 fits-merger=4"
      n=$(find "$MERGED_DIR/$OBSID" -name '*.fits' | wc -l)
      check "B-beamform: 4 pointings x $((NSEC / STEP)) time ranges merged ($n files)" \
        test "$n" -eq $((4 * NSEC / STEP))
      if PIPELINE_NAME=e2e-search run B-search pipelines/mwa-search.yaml; then
        check_counts B-search "presto-search=4"
        check_detection B "$RESULTS_DIR"
      fi
    fi
  fi
fi
echo "# total $SECONDS s"
# lib.sh's exit trap kills the servers and `wait`s for them (status 137);
# errexit must not turn that into the script's exit status.
set +e
