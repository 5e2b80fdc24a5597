#!/usr/bin/env bash
# mwa-down against a local misbehaving HTTP server (tests/httpd.py on
# 127.0.0.1): dropped connections, 503s, a server that ignores Range, a wrong
# checksum, a short file, 404; resume from a bare .part and from a ranges
# sidecar; file:// sources; rate limit; re-run on present files. Every good
# file must be byte-identical and emitted once; every bad one reported and
# neither emitted nor left in place.
. "$(dirname "$0")/../../../tests/lib.sh"
PY=/usr/bin/python3
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC=$TMP/src; OUT=$TMP/out; W=$TMP/work
mkdir -p "$SRC" "$OUT" "$W"
head -c 6000000 /dev/urandom >"$SRC/good.bin"
head -c 3000000 /dev/urandom >"$SRC/drop.bin"
head -c 3000000 /dev/urandom >"$SRC/flaky.bin"
head -c 2000000 /dev/urandom >"$SRC/bad.bin"
head -c 2000000 /dev/urandom >"$SRC/short.bin"
head -c 2500000 /dev/urandom >"$SRC/norange.bin"
head -c 4000000 /dev/urandom >"$SRC/resume.bin"
: >"$SRC/empty.bin"

$PY "$HERE/httpd.py" --root "$SRC" --port-file "$TMP/port" --log "$TMP/http.log" \
    --drops 2 --fails 3 --lifetime 60 &
track_pid $!
wait_for 10 test -s "$TMP/port" || { not_ok "test server started"; exit 1; }
P=$(cat "$TMP/port"); U=http://127.0.0.1:$P
sum() { mwa-down --sum "$1" | cut -d' ' -f1; }
DL=(mwa-down -d "$OUT" --min-chunk 256K --streams 4 --retry-delay 0.05 --progress 0)

# --- 1. mixed manifest: good, dropped, 503, no Range, wrong checksum, short, 404
{
  echo "# test manifest"
  echo "$U/good.bin 6000000 $(sum "$SRC/good.bin")"
  echo "$U/drop/drop.bin 3000000 $(sum "$SRC/drop.bin")"
  echo "$U/flaky/flaky.bin 3000000 $(mwa-down --sum --algo xxh3 "$SRC/flaky.bin" | cut -d' ' -f1)"
  echo "$U/norange/norange.bin 2500000 $(sum "$SRC/norange.bin")"
  echo "$U/bad.bin 2000000 xxh64:0123456789abcdef"
  echo "$U/short.bin 2100000 $(sum "$SRC/short.bin")"
  echo "$U/missing.bin 10 - missing.bin"
  echo "$U/empty.bin 0 $(sum "$SRC/empty.bin") empty.bin"
  echo "$U/good.bin 6000000 $(sum "$SRC/good.bin") renamed.dat"
} >"$TMP/m1"
t0=$SECONDS
SLUICE_WORK=$W "${DL[@]}" "$TMP/m1" >"$TMP/out1" 2>"$TMP/err1"; rc=$?
check "mixed run exits non-zero (rc=$rc)" test "$rc" = 1
check "mixed run took under 20 s" test $((SECONDS - t0)) -lt 20
for f in good drop flaky norange empty; do
  check "$f.bin arrived intact" cmp -s "$SRC/$f.bin" "$OUT/$f.bin"
done
check "4th-field NAME used (renamed.dat)" cmp -s "$SRC/good.bin" "$OUT/renamed.dat"
check "dropped connections were retried" grep -q "drop.bin: transfer closed" "$TMP/err1"
check "503 answers were retried" grep -q "flaky.bin: HTTP 503" "$TMP/err1"
check "server ignoring Range handled" grep -q "norange.bin: server does not honour Range" "$TMP/err1"
check "several ranged connections used for one file" \
  test "$(grep -c '^GET /good.bin bytes=' "$TMP/http.log")" -ge 4
sort "$W/emit" >"$TMP/emitted"
printf '%s\n' drop.bin empty.bin flaky.bin good.bin norange.bin renamed.dat >"$TMP/want"
check "exactly the good files emitted" cmp -s "$TMP/emitted" "$TMP/want"
check "stdout carries the same keys" cmp -s <(sort "$TMP/out1") "$TMP/want"
check "bad checksum reported" grep -q "bad.bin.*checksum mismatch: manifest xxh64:0123456789abcdef" "$TMP/err1"
check "short file reported" grep -q "short.bin.*2000000 bytes, the manifest says 2100000" "$TMP/err1"
check "404 reported without retries" grep -q "missing.bin.*HTTP 404" "$TMP/err1"
check "404 not retried" test "$(grep -c '^GET /missing.bin' "$TMP/http.log")" = 1
check "summary counts 3 failures" grep -q "3 of 9 files FAILED" "$TMP/err1"
check "nothing left of the bad files" \
  test -z "$(ls "$OUT" | grep -E '^(bad|short|missing)')"
check "no .part files left" test -z "$(ls -a "$OUT" | grep -E '\.part')"

# --- 2. re-run: present files are verified, not fetched again, emitted again
grep -E 'good.bin|drop.bin' "$TMP/m1" | head -2 >"$TMP/m2"
n0=$(wc -l <"$TMP/http.log")
SLUICE_WORK=$W "${DL[@]}" "$TMP/m2" >"$TMP/out2" 2>"$TMP/err2"; rc=$?
check "re-run succeeds" test "$rc" = 0
check "re-run made no requests" test "$(wc -l <"$TMP/http.log")" = "$n0"
check "re-run says already present" grep -q "good.bin: already present and verified" "$TMP/err2"
check "re-run emitted both again" test "$(wc -l <"$TMP/out2")" = 2

# --- 3. resume from a bare .part (good prefix), then from a ranges sidecar
rm -f "$OUT/resume.bin"
head -c 1500000 "$SRC/resume.bin" >"$OUT/resume.bin.part"
echo "$U/resume.bin 4000000 $(sum "$SRC/resume.bin")" >"$TMP/m3"
: >"$TMP/http.log"
"${DL[@]}" "$TMP/m3" >/dev/null 2>"$TMP/err3"; rc=$?
check "resume from bare .part succeeds" test "$rc" = 0
check "resumed file intact" cmp -s "$SRC/resume.bin" "$OUT/resume.bin"
check "resume said so" grep -q "resuming, 1.43 MiB already" "$TMP/err3"
check "no byte below 1500000 fetched again" \
  awk '{split($3, r, "[=-]"); if (r[2] + 0 < 1500000) bad = 1} END {exit bad}' "$TMP/http.log"
check "sidecar removed after success" test ! -e "$OUT/resume.bin.part.ranges"

rm -f "$OUT/resume.bin"
# a .part with garbage everywhere except the two ranges the sidecar vouches for
head -c 4000000 /dev/zero >"$OUT/resume.bin.part"
dd if="$SRC/resume.bin" of="$OUT/resume.bin.part" bs=1000 skip=0 count=1000 conv=notrunc status=none
dd if="$SRC/resume.bin" of="$OUT/resume.bin.part" bs=1000 skip=3000 seek=3000 count=1000 conv=notrunc status=none
printf 'mwa-down-ranges 1\nsize 4000000\ncheck %s\ndone 0 1000000\ndone 3000000 4000000\n' \
  "$(sum "$SRC/resume.bin")" >"$OUT/resume.bin.part.ranges"
: >"$TMP/http.log"
"${DL[@]}" "$TMP/m3" >/dev/null 2>"$TMP/err4"; rc=$?
check "resume from sidecar succeeds" test "$rc" = 0
check "sidecar-resumed file intact" cmp -s "$SRC/resume.bin" "$OUT/resume.bin"
check "only the hole 1000000-2999999 was fetched" \
  awk '{split($3, r, "[=-]"); if (r[2] + 0 < 1000000 || r[3] + 0 > 2999999) bad = 1} END {exit bad || NR == 0}' "$TMP/http.log"

# --- 4. file:// sources
rm -f "$OUT/good.bin"
{
  echo "file://$SRC/good.bin 6000000 $(sum "$SRC/good.bin")"
  echo "file://$SRC/short.bin 2100000 $(sum "$SRC/short.bin")"
  echo "file://$SRC/nope.bin 5 -"
} >"$TMP/m4"
W4=$TMP/work4; mkdir -p "$W4"
SLUICE_WORK=$W4 "${DL[@]}" -k 'raw/{stem}' "$TMP/m4" >/dev/null 2>"$TMP/err5"; rc=$?
check "file:// good file intact" cmp -s "$SRC/good.bin" "$OUT/good.bin"
check "file:// run reports 2 failures" grep -q "2 of 3 files FAILED" "$TMP/err5"
check "file:// short source reported" grep -q "short.bin.*source ended at byte 2000000" "$TMP/err5"
check "file:// missing source reported" grep -q "nope.bin.*FAILED" "$TMP/err5"
check "key template applied, only good emitted" test "$(cat "$W4/emit")" = "raw/good"
check "file:// exit status 1" test "$rc" = 1

# --- 5. rate limit: 2.5 MB at 5 MB/s takes about 0.5 s
rm -f "$OUT/norange.bin"
echo "$U/norange.bin 2500000 $(sum "$SRC/norange.bin")" >"$TMP/m5"
s0=$(date +%s.%N)
"${DL[@]}" --limit-rate 5000000 "$TMP/m5" >/dev/null 2>&1; rc=$?
el=$(echo "$(date +%s.%N) - $s0" | bc)
check "rate-limited download ok and slow enough (${el} s)" \
  test "$rc" = 0 -a "$(echo "$el > 0.35" | bc)" = 1

# --- 6. usage errors and progress lines
"${DL[@]}" -k '{nope}' "$TMP/m5" >/dev/null 2>"$TMP/err6"; rc=$?
check "unknown key placeholder is a usage error" test "$rc" = 2
printf 'http://x/a 12\n' >"$TMP/m6"
mwa-down -d "$OUT" "$TMP/m6" 2>"$TMP/err7"; rc=$?
check "malformed manifest names file and line" grep -q "m6:1: expected" "$TMP/err7"
rm -f "$OUT/good.bin"
mwa-down -d "$OUT" --progress 0.01 --limit-rate 20M "$TMP/m2" >/dev/null 2>"$TMP/err8"
check "progress lines show bytes, rate and ETA" grep -qE "files, .* of .*/s, ETA" "$TMP/err8"
mwa-down -d "$OUT" -q "$TMP/m2" >/dev/null 2>"$TMP/err9"
check "quiet mode prints nothing on success" test ! -s "$TMP/err9"
