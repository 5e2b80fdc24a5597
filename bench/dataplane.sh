#!/usr/bin/env bash
# bench/dataplane: (a) one 1 GiB object host to host on loopback, /dev/shm to
# /dev/shm, through sluice-dp (sendfile server, N-stream client, checksums
# verified), beside iperf3 on the same machine in the same run, interleaved
# round by round so both see the same noise; prints medians and the ratio
# (target >= 90 % of iperf3). The same fetches over TLS 1.3 (a second server
# on the same root with a make-certs.sh certificate) are interleaved too and
# printed beside the plain figures. (c) same-host hand-off is O(1): runs
# build/bench/dataplane_handoff. (b), the NERSC streaming comparison, needs
# the full pipeline and lives elsewhere.
# Usage: bench/dataplane.sh [ROUNDS]  (default 5; needs make build-bench)
set -u
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
BIN=build/bin/sluice-dp
for p in "$BIN" build/bench/dataplane_handoff; do
  [ -x "$p" ] || { echo "bench/dataplane: $p missing: run make build-bench" >&2; exit 1; }
done
command -v iperf3 >/dev/null || { echo "bench/dataplane: iperf3 missing: run make deps" >&2; exit 1; }

W=$(mktemp -d /dev/shm/sluice-bench-dp.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/src" "$W/dst"
KEY=$(openssl rand -hex 32)
CAP=$("$BIN" cap --key "$KEY" --op r --reader bench --ttl 86400 obj)
SIZE=$((1 << 30))

head -c $SIZE /dev/urandom >"$W/src/obj"
scripts/make-certs.sh "$W/pki" localhost >/dev/null
"$BIN" serve --root mem="$W/src" --key "$KEY" --listen 127.0.0.1:0 >"$W/port" 2>"$W/serve.err" &
pids+=($!)
"$BIN" serve --root mem="$W/src" --key "$KEY" --listen 127.0.0.1:0 \
  --tls-cert "$W/pki/localhost.pem" --tls-key "$W/pki/localhost.key" >"$W/tport" 2>"$W/tserve.err" &
pids+=($!)
IPORT=$((20000 + RANDOM % 20000))
iperf3 -s -p $IPORT >"$W/iperf3-s.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -s "$W/port" ] && [ -s "$W/tport" ] && break; sleep 0.01; done
PORT=$(head -n1 "$W/port"); TPORT=$(head -n1 "$W/tport")
sleep 0.2

# GB/s (1e9 bytes/s) received, from iperf3's receiver summary line
iperf() {
  iperf3 -c 127.0.0.1 -p $IPORT -n $SIZE -P "$1" -f M 2>/dev/null |
    awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "MBytes/sec") v = $(i-1) } END { printf "%.3f", v * 1048576 / 1e9 }'
}
# GB/s of one 1 GiB fetch into a fresh /dev/shm file
fetch() {
  rm -f "$W/dst/obj"
  "$BIN" get "127.0.0.1:$PORT" mem/obj "$W/dst/obj" --cap "$CAP" --streams "$1" |
    sed -n 's/.*GBps=\([0-9.]*\).*/\1/p'
}
# the same over TLS 1.3 (server certificate verified against the bench CA)
fetch_tls() {
  rm -f "$W/dst/obj"
  "$BIN" get "127.0.0.1:$TPORT" mem/obj "$W/dst/obj" --cap "$CAP" --streams "$1" \
    --tls-ca "$W/pki/ca.pem" | sed -n 's/.*GBps=\([0-9.]*\).*/\1/p'
}
# GB/s of writing 1 GiB into a fresh /dev/shm file from a hot buffer (dd,
# 1 MiB blocks): the cost of landing the bytes at all, which iperf3 skips
shmw() {
  rm -f "$W/dst/dd"
  local t0 t1; t0=$(date +%s%N)
  dd if=/dev/zero of="$W/dst/dd" bs=1M count=1024 status=none; t1=$(date +%s%N)
  rm -f "$W/dst/dd"
  awk -v s=$SIZE -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", s / ns }'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2 }'; }

# cold: the server hashes the object on the first STAT (then caches it in an xattr)
cold=$(fetch 2)
cmp -s "$W/src/obj" "$W/dst/obj" || { echo "bench/dataplane: fetched object differs!" >&2; exit 1; }
fetch_tls 2 >/dev/null
cmp -s "$W/src/obj" "$W/dst/obj" || { echo "bench/dataplane: object fetched over TLS differs!" >&2; exit 1; }
iperf 1 >/dev/null # warm-up: let the VM fault in memory for both sides
fetch 2 >/dev/null

declare -A r
configs="iperf1 iperf2 shmw dp1 dp2 dp4 tls1 tls2 tls4"
for i in $(seq "$ROUNDS"); do
  r[iperf1]+="$(iperf 1) "; r[dp1]+="$(fetch 1) "; r[tls1]+="$(fetch_tls 1) "
  r[iperf2]+="$(iperf 2) "; r[dp2]+="$(fetch 2) "; r[tls2]+="$(fetch_tls 2) "
  r[dp4]+="$(fetch 4) "; r[tls4]+="$(fetch_tls 4) "
  r[shmw]+="$(shmw) "
done
declare -A m
echo "bench dataplane (a): 1 GiB object, loopback, /dev/shm -> /dev/shm, $ROUNDS rounds interleaved"
printf '  %-34s %s\n' "config" "median GB/s   (all rounds)"
for c in $configs; do
  m[$c]=$(echo "${r[$c]}" | median)
  case $c in
    iperf1) label="iperf3, 1 stream (memory->memory)" ;;
    iperf2) label="iperf3, 2 streams" ;;
    shmw) label="write 1 GiB to new /dev/shm file" ;;
    dp*) label="sluice-dp get, ${c#dp} stream(s)" ;;
    tls*) label="sluice-dp get TLS, ${c#tls} stream(s)" ;;
  esac
  printf '  %-34s %6.3f       (%s)\n' "$label" "${m[$c]}" "${r[$c]% }"
done
printf '  %-34s %6.3f       (includes server hashing 1 GiB)\n' "sluice-dp get, 2 streams, cold" "$cold"
best_ip=$(printf '%s\n' "${m[iperf1]}" "${m[iperf2]}" | sort -g | tail -n1)
best_dp=$(printf '%s\n' "${m[dp1]}" "${m[dp2]}" "${m[dp4]}" | sort -g | tail -n1)
awk -v d="$best_dp" -v w="${m[shmw]}" -v i="$best_ip" -v d2="${m[dp2]}" -v i2="${m[iperf2]}" -v d1="${m[dp1]}" -v i1="${m[iperf1]}" 'BEGIN {
  printf "  ratio best sluice-dp into a new file / best iperf3: %.0f %%\n", 100 * d / i
  printf "  ratio best sluice-dp / writing a new /dev/shm file: %.0f %% (the receiver-side ceiling)\n", 100 * d / w
  printf "  ratio same stream count: 1 stream %.0f %%, 2 streams %.0f %%\n", 100 * d1 / i1, 100 * d2 / i2 }'
echo "  (iperf3 discards what it receives; sluice-dp writes every byte to a new /dev/shm"
echo "   file and checks its XXH3 block hashes on arrival)"
ktls=no; grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null && ktls=yes
echo "  TLS 1.3 beside plain TCP, same run (kernel TLS available: $ktls):"
printf '    %-9s %10s %10s %8s\n' streams "plain GB/s" "TLS GB/s" "TLS/plain"
for n in 1 2 4; do
  awk -v n=$n -v p="${m[dp$n]}" -v t="${m[tls$n]}" 'BEGIN { printf "    %-9s %10.3f %10.3f %7.0f %%\n", n, p, t, 100 * t / p }'
done
echo
build/bench/dataplane_handoff /dev/shm
