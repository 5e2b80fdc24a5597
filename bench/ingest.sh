#!/usr/bin/env bash
# bench/ingest.sh - throughput of the ingest modules beside their references,
# measured in the same run on the same data (figures, not a test):
#   mwa-down over 127.0.0.1 vs curl of the same file from the same server
#     (bench/ingest_httpd: sendfile, so the server is not the bottleneck);
#   repack (tar + zstd -1, all cores) vs `zstd -1 -T0` on a tar of the same members;
#   pull-unpack vs `zstd -dc | tar x` of the same archive.
# All data lives in /dev/shm. Best of REPS runs each (the machine is shared
# and noisy). Env: INGEST_BYTES (download file, 1 GiB), INGEST_MEMBERS (8),
# INGEST_MEMBER_BYTES (64 MiB), REPS (3).
set -u
cd "$(dirname "$0")/.." || exit 1
make --no-print-directory -s build/bin/mwa-down build/bin/repack build/bin/pull-unpack \
  build/bench/ingest_httpd build/bench/ingest_gen >/dev/null || exit 1
BYTES=${INGEST_BYTES:-1073741824}
NM=${INGEST_MEMBERS:-8}
MB=${INGEST_MEMBER_BYTES:-67108864}
REPS=${REPS:-3}
D=$(mktemp -d /dev/shm/sluice-bench-ingest.XXXXXX)
SRV=
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
now() { date +%s.%N; }
rate() { echo "scale=1; $1 / ($3 - $2) / 1000000" | bc; } # bytes t0 t1 -> MB/s
best() { printf '%s\n' "$@" | sort -g | tail -1; }
ratio() { echo "scale=2; $1 / $2" | bc; }

echo "bench/ingest: data in $D (download $BYTES bytes; repack $NM x $MB bytes)"
build/bench/ingest_gen "$BYTES" >"$D/big.dat"
build/bench/ingest_httpd "$D" "$D/port" 600 &
SRV=$!
for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$D/port")/big.dat
mkdir -p "$D/dl"
build/bin/mwa-down --sum "$D/big.dat" | awk -v u="$U" '{print u, $2, $1, "got.dat"}' >"$D/m"
awk '{print $1, $2, "-", $4}' "$D/m" >"$D/m_nocheck"

c=(); m1=(); m4=(); m4n=()
for _ in $(seq "$REPS"); do
  rm -f "$D/dl/"*; t0=$(now); curl -s -o "$D/dl/curl.dat" "$U"; t1=$(now); c+=("$(rate "$BYTES" "$t0" "$t1")")
  rm -f "$D/dl/"*; t0=$(now); build/bin/mwa-down -q -s 1 -d "$D/dl" "$D/m" >/dev/null; t1=$(now); m1+=("$(rate "$BYTES" "$t0" "$t1")")
  rm -f "$D/dl/"*; t0=$(now); build/bin/mwa-down -q -s 4 -d "$D/dl" "$D/m" >/dev/null; t1=$(now); m4+=("$(rate "$BYTES" "$t0" "$t1")")
  rm -f "$D/dl/"*; t0=$(now); build/bin/mwa-down -q -s 4 -d "$D/dl" "$D/m_nocheck" >/dev/null; t1=$(now); m4n+=("$(rate "$BYTES" "$t0" "$t1")")
done
cmp -s "$D/big.dat" "$D/dl/got.dat" || echo "bench/ingest: WARNING: downloaded file differs"
rm -f "$D/dl/"*
C=$(best "${c[@]}")
printf '%-52s %8s MB/s\n' "curl, 1 connection (reference)" "$C"
printf '%-52s %8s MB/s  ratio %s\n' "mwa-down --streams 1, xxh64 verified" "$(best "${m1[@]}")" "$(ratio "$(best "${m1[@]}")" "$C")"
printf '%-52s %8s MB/s  ratio %s\n' "mwa-down --streams 4, xxh64 verified" "$(best "${m4[@]}")" "$(ratio "$(best "${m4[@]}")" "$C")"
printf '%-52s %8s MB/s  ratio %s\n' "mwa-down --streams 4, size check only" "$(best "${m4n[@]}")" "$(ratio "$(best "${m4n[@]}")" "$C")"
kill "$SRV"; wait "$SRV" 2>/dev/null; SRV=
rm -f "$D/big.dat"

# repack vs zstd CLI on the same members
mkdir -p "$D/in" "$D/out" "$D/x1" "$D/x2"
G0=1257010986
build/bench/ingest_gen "$MB" >"$D/in/proto"
for i in $(seq 0 $((NM - 1))); do
  # same statistics, different bytes per member: rotate the prototype
  { tail -c +$((i * 4096 + 1)) "$D/in/proto"; head -c $((i * 4096)) "$D/in/proto"; } >"$D/in/1257010784_$((G0 + i))_ch109.dat"
done
rm "$D/in/proto"
IN=$((NM * MB))
(cd "$D/in" && tar cf "$D/ref.tar" ./*.dat)
T1=$((G0 + NM - 1))
r=(); z=(); pu=(); zx=()
for _ in $(seq "$REPS"); do
  rm -f "$D/out/"*; t0=$(now)
  build/bin/repack -q --size 0 -l 1 -T 0 -o "$D/out" --dir "$D/in" --obsid 1257010784 --ch 109 --t0 $G0 --seconds "$NM" >/dev/null
  t1=$(now); r+=("$(rate "$IN" "$t0" "$t1")")
  rm -f "$D/ref.tar.zst"; t0=$(now); zstd -q -1 -T0 -f "$D/ref.tar" -o "$D/ref.tar.zst"; t1=$(now); z+=("$(rate "$IN" "$t0" "$t1")")
  rm -f "$D/x1/"*; t0=$(now)
  build/bin/pull-unpack -q --size 0 -o "$D/x1" "$D/out/${G0}_${T1}_ch109.dat.tar.zst" >/dev/null
  t1=$(now); pu+=("$(rate "$IN" "$t0" "$t1")")
  rm -f "$D/x2/"*; t0=$(now); zstd -q -dc "$D/ref.tar.zst" | tar xf - -C "$D/x2"; t1=$(now); zx+=("$(rate "$IN" "$t0" "$t1")")
done
A=$(stat -c %s "$D/out/${G0}_${T1}_ch109.dat.tar.zst"); B=$(stat -c %s "$D/ref.tar.zst")
Z=$(best "${z[@]}"); ZX=$(best "${zx[@]}")
printf '%-52s %8s MB/s  size ratio %s\n' "zstd -1 -T0 on the tar (reference)" "$Z" "$(echo "scale=3; $B / $IN" | bc)"
printf '%-52s %8s MB/s  ratio %s  size ratio %s\n' "repack -l 1 -T 0 ($NM members)" "$(best "${r[@]}")" \
  "$(ratio "$(best "${r[@]}")" "$Z")" "$(echo "scale=3; $A / $IN" | bc)"
printf '%-52s %8s MB/s\n' "zstd -dc | tar x (reference)" "$ZX"
printf '%-52s %8s MB/s  ratio %s\n' "pull-unpack (path)" "$(best "${pu[@]}")" "$(ratio "$(best "${pu[@]}")" "$ZX")"
cmp -s "$D/in/1257010784_${T1}_ch109.dat" "$D/x1/1257010784_${T1}_ch109.dat" || echo "bench/ingest: WARNING: pull-unpack output differs"
