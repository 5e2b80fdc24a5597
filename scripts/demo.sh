#!/usr/bin/env bash
# demo.sh - `make demo`: the MWA pulsar search from download to detection on
# this machine. Simulates a small observation with mwa-sim (a pulsar among a
# few pointings), packs it into per-second product tars like the real archive,
# serves them over HTTP on 127.0.0.1, runs pipelines/demo.yaml with
# `sluice run` on several local agents (live progress; each agent has its
# own memory tier and the data plane moves objects between them), copies
# the kept search results out of the agents' caches, and prints the
# detected pulsar beside the injected truth and the pulls between agents.
# Temporary data, the agents' memory tiers and the HTTP server are removed
# at the end; the results stay in build/demo/ (override with DEMO_OUT=DIR).
# Sizes (env): DEMO_SECONDS (20), DEMO_STEP (10), DEMO_CHANNELS (109-112),
# DEMO_POINTINGS (6), DEMO_GROUP (3), DEMO_TILES (32), DEMO_SAMPLES (2000);
# DEMO_AGENTS (3); RUNTIME=podman runs every stage in its image.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/build/bin:$ROOT/pipelines/bin:$PATH"

OBSID=${DEMO_OBSID:-1257010784}
SECONDS_N=${DEMO_SECONDS:-20}
STEP=${DEMO_STEP:-10}
CHANNELS=${DEMO_CHANNELS:-109-112}
NPOINT=${DEMO_POINTINGS:-6}
GROUP=${DEMO_GROUP:-3}
TILES=${DEMO_TILES:-32}
FINE=128
SAMPLES=${DEMO_SAMPLES:-2000}
PERIOD=${DEMO_PERIOD:-0.1337}
DM=${DEMO_DM:-30}
STRENGTH=${DEMO_STRENGTH:-0.002}
SEED=${DEMO_SEED:-42}
CH_FIRST=${CHANNELS%-*} CH_LAST=${CHANNELS#*-}
NCHAN=$((CH_LAST - CH_FIRST + 1))
T_LAST=$((OBSID + SECONDS_N - 1))
VCS_BYTES=$((TILES * FINE * SAMPLES * 2))

OUT=${DEMO_OUT:-$ROOT/build/demo}
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS="$OUT/results-$STAMP"
AGENTS=${DEMO_AGENTS:-3}
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
SERVER_PID="" RUN_PID=""

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() {
  echo
  bold "==> $*"
}
cleanup() {
  if [ -n "$RUN_PID" ]; then # sluice run stops its controller and agents on SIGTERM
    kill "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
    rm -rf "/dev/shm/sluice-run-$RUN_PID"
  fi
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

t_start=$SECONDS
mkdir -p "$RESULTS"
bold "sluice demo: the MWA pulsar search, from download to detection"
echo "observation $OBSID: ${SECONDS_N} s, coarse channels $CH_FIRST-$CH_LAST, $TILES tiles x $FINE fine channels x $SAMPLES samples/s"
echo "($((VCS_BYTES / 1000)) kB per channel-second; the real ones are 327,680 kB), $NPOINT pointings beamformed $GROUP at a time"

step "1/6 Simulating the observation with mwa-sim (pulsar P=${PERIOD} s, DM=${DM}, hidden among $NPOINT pointings)"
mwa-sim -o "$TMPD/sim" --obsid "$OBSID" -n "$SECONDS_N" -c "$CHANNELS" -t "$TILES" -f "$FINE" -s "$SAMPLES" \
  --period "$PERIOD" --dm "$DM" --duty 0.06 --strength "$STRENGTH" --decoys $((NPOINT - 1)) \
  --decoy-radius 1.0 --seed "$SEED"
mkdir -p "$TMPD/www"
mv "$TMPD/sim/$OBSID.metafits" "$TMPD/sim/${OBSID}_solutions.bin" "$TMPD/www/"
cp "$TMPD/sim/pointings.txt" "$TMPD/www/"
cp "$TMPD/sim/truth.txt" "$TMPD/sim/pointings.txt" "$RESULTS/"
dats=("$TMPD/sim/"*.dat)
echo "wrote ${#dats[@]} channel-second files, the metafits, calibration solutions, pointings.txt and truth.txt"

step "2/6 Packing one tar per second (all $NCHAN channel files of that second, like the MWA archive) and a manifest"
for ((g = OBSID; g <= T_LAST; g++)); do
  members=()
  for ((c = CH_FIRST; c <= CH_LAST; c++)); do members+=("${OBSID}_${g}_ch$(printf %03d $c).dat"); done
  tar -cf "$TMPD/www/${OBSID}_$g.tar" -C "$TMPD/sim" "${members[@]}"
  (cd "$TMPD/sim" && rm -f "${members[@]}")
done
echo "$SECONDS_N tars of $(du -m "$TMPD/www/${OBSID}_$OBSID.tar" | cut -f1) MB in a temporary directory"

step "3/6 Serving them over HTTP on 127.0.0.1"
server="built C sendfile server (bench/ingest_httpd.c)"
if make --no-print-directory -s build/bench/ingest_httpd >/dev/null 2>&1; then
  build/bench/ingest_httpd "$TMPD/www" "$TMPD/port" 3600 &
else
  server="Python standard-library test server (modules/mwa-down/tests/httpd.py)"
  /usr/bin/python3 modules/mwa-down/tests/httpd.py --root "$TMPD/www" --port-file "$TMPD/port" --lifetime 3600 &
fi
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$TMPD/port" ] && break || sleep 0.1; done
[ -s "$TMPD/port" ] || { echo "demo: the HTTP server did not start" >&2; exit 1; }
PORT=$(cat "$TMPD/port")
DATA_URL="http://127.0.0.1:$PORT"
# the metadata is listed too: the download stage fetches it with the data,
# and it travels in every object to whichever agent needs it
mwa-down --sum --url-prefix "$DATA_URL" "$TMPD/www/"*.tar "$TMPD/www/$OBSID.metafits" \
  "$TMPD/www/${OBSID}_solutions.bin" "$TMPD/www/pointings.txt" >"$TMPD/www/$OBSID.manifest"
echo "$server, PID $SERVER_PID, at $DATA_URL"
echo "manifest $DATA_URL/$OBSID.manifest ($SECONDS_N tars + metafits, calibration, pointings; URL, size, xxh64 checksum):"
head -n 2 "$TMPD/www/$OBSID.manifest" | sed 's/^/    /'
echo "    ..."
tail -n 3 "$TMPD/www/$OBSID.manifest" | sed 's/^/    /'

STATE="$OUT/state-$STAMP"
step "4/6 Running pipelines/demo.yaml on sluice's embedded default (controller + $AGENTS local agents${RUNTIME:+, runtime $RUNTIME})"
echo "download -> unpack -> repack -> pull-unpack -> beam-maker -> down-sampler -> fits-merger -> presto-search"
echo "$((SECONDS_N / STEP)) time ranges of $STEP s x $NCHAN channels; $((NPOINT / GROUP)) pointing groups of $GROUP; one search per group"
echo "each agent has its own memory tier: inputs made on another agent are pulled by its data server"
mkdir -p "$OUT"
export OBSID T_FIRST="$OBSID" T_LAST T_STEP="$STEP" N_TRANGES=$((SECONDS_N / STEP))
export CH_FIRST CH_LAST NCHAN TAR_MEMBERS="$NCHAN" P_FIRST=1 P_LAST="$NPOINT" P_GROUP="$GROUP" VCS_BYTES
export DATA_URL SEARCH_OPTS="--dm-max 60"
# sizes one task writes (admission by the agents' cache budgets)
mib() { echo "$((($1 + 1048575) / 1048576 + 1))MiB"; }
export DOWN_SIZE UNPACK_SIZE REPACK_SIZE VCS_SIZE
DOWN_SIZE=$(mib $((STEP * NCHAN * VCS_BYTES + STEP * (NCHAN + 1) * 1024)))
UNPACK_SIZE=$(mib $((STEP * NCHAN * VCS_BYTES)))
REPACK_SIZE=$(mib $((STEP * VCS_BYTES))) VCS_SIZE=$REPACK_SIZE
t_run=$SECONDS
rc=0
# in the background to know its PID: its agents' memory tiers are
# /dev/shm/sluice-run-PID/AGENT, kept (--keep) until the results are copied
sluice run --agents "$AGENTS" --keep --state "$STATE" pipelines/demo.yaml &
RUN_PID=$!
wait "$RUN_PID" || rc=$?
t_run=$((SECONDS - t_run))
SHM="/dev/shm/sluice-run-$RUN_PID"
if [ "$rc" -ne 0 ]; then
  RUN_PID=""
  rm -rf "$SHM"
  echo "demo: the pipeline failed (exit $rc); see: sluice logs, or $STATE" >&2
  exit "$rc"
fi
RUN_PID=""

step "5/6 Copying the kept results out of the agents' caches; stopping the HTTP server (PID $SERVER_PID)"
# The controller's catalog: every intermediate object was deleted by
# reference counts when its last consumer succeeded; the kept search
# results are what is left.
/usr/bin/python3 - "$STATE/sluice.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
stages = {}
for st, state, n, size in db.execute("SELECT stage, state, count(*), sum(size) FROM objects GROUP BY stage, state"):
    stages.setdefault(state, []).append((st, n, size))
import re
(yaml,) = db.execute("SELECT yaml FROM pipelines ORDER BY id LIMIT 1").fetchone()
names = dict(enumerate(re.findall(r"^  - name: *(\S+)", yaml, re.M)))
dead = stages.get("deleted", [])
live = stages.get("live", [])
print("cache: %d objects (%.1f GB) deleted by reference counts after their last consumer;"
      % (sum(n for _, n, _ in dead), sum(z for _, _, z in dead) / 1e9))
print("       %s kept" % (", ".join("%d %s" % (n, names.get(st, "stage %d" % st)) for st, n, _ in live) or "none"))
PY
mkdir -p "$RESULTS/$OBSID"
for d in "$SHM"/*/p*/presto-search/"$OBSID"/*/p[0-9]* "$STATE"/agents/*/ssd/p*/presto-search/"$OBSID"/*/p[0-9]*; do
  if [ -d "$d" ]; then cp -a "$d" "$RESULTS/$OBSID/"; fi
done
rm -rf "$SHM"
# "sluice agent local-1: pulled p1/down-sampler/KEY (N bytes) for task T"
pulls=$(cat "$STATE"/agent-*.log | grep -c ': pulled ' || true)
if [ "$pulls" -gt 0 ]; then
  echo "pulled between agents by the data plane: $pulls objects ($(grep -h ': pulled ' "$STATE"/agent-*.log |
    awk '{print $5}' | cut -d/ -f2 | sort | uniq -c | awk '{printf "%s%d %s", s, $1, $2; s = ", "}')), e.g."
  for st in repack down-sampler fits-merger; do
    grep -h ": pulled p[0-9]*/$st/" "$STATE"/agent-*.log | head -n 1 | sed 's/^sluice agent /    /' || true
  done
else
  echo "pulled between agents by the data plane: nothing (every input was on its consumer's agent)"
fi
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
rm -rf "$TMPD"

step "6/6 Result"
/usr/bin/python3 - "$RESULTS" "$OBSID" <<'PY'
import json, os, sys
res, obsid = sys.argv[1], sys.argv[2]
truth = dict(l.strip().split("=", 1) for l in open(os.path.join(res, "truth.txt")) if "=" in l)
rows = []
base = os.path.join(res, obsid)
for p in sorted(os.listdir(base)):
    d = os.path.join(base, p)
    info = dict(l.strip().split("=", 1) for l in open(os.path.join(d, "pointing.txt")) if "=" in l)
    cands = json.load(open(os.path.join(d, "candidates.json")))["candidates"]
    best = next((c for c in cands if "fold" in c), None)
    rows.append((p, info.get("ra", "?"), info.get("dec", "?"), best, d))
print("%-8s %-12s %-12s %12s %8s %8s" % ("pointing", "RA", "Dec", "period (ms)", "DM", "S/N"))
for p, ra, dec, b, _ in rows:
    if b:
        f = b["fold"]
        print("%-8s %-12s %-12s %12.4f %8.2f %8.1f" % (p, ra, dec, f["period_ms"], f["dm"], f["snr"]))
    else:
        print("%-8s %-12s %-12s %12s %8s %8s" % (p, ra, dec, "-", "-", "-"))
det = [r for r in rows if r[3]]
if not det:
    print("\nno candidate in any pointing")
    sys.exit(1)
p, ra, dec, b, d = max(det, key=lambda r: r[3]["fold"]["snr"])
f = b["fold"]
tp = "p%05d" % int(truth["true_pointing_line"])
print()
print("                 detected             injected (truth.txt)")
print("pointing         %-20s %s (%s %s)" % (p, tp, truth["psr_ra"], truth["psr_dec"]))
print("period (ms)      %-20.4f %.4f" % (f["period_ms"], float(truth["period"]) * 1000))
print("DM (pc/cm^3)     %-20.2f %.2f" % (f["dm"], float(truth["dm"])))
print("folded S/N       %.1f" % f["snr"])
print("candidate plot   %s" % os.path.join(d, f["png"]))
ok = p == tp and abs(f["period_ms"] / (float(truth["period"]) * 1000) - 1) < 0.005 and abs(f["dm"] - float(truth["dm"])) < 3
print("\n%s" % ("PULSAR RECOVERED: right pointing, period and DM" if ok else "NOT RECOVERED (see the table above)"))
sys.exit(0 if ok else 1)
PY
echo
echo "results: $RESULTS (per pointing: candidates.json, candidates.txt, cand_NNN.png; truth.txt)"
echo "sluice state and logs: $OUT/state-$STAMP"
echo "pipeline $t_run s, whole demo $((SECONDS - t_start)) s"
