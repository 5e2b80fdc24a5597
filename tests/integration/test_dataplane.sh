#!/usr/bin/env bash
# Data plane on loopback with real sluice-dp processes: byte-exact transfers of
# awkward sizes over parallel streams, push, token refusal (CLI and raw frames),
# path traversal and symlink escape, malformed frames and slow peers, a
# transfer cut by killing the server that resumes with only the missing
# blocks, and a corrupted source detected by checksum with nothing left behind.
# Objects are small (64 KiB blocks) so the whole script takes a few seconds.
. "$(dirname "$0")/../lib.sh"

BIN="$SLUICE_ROOT/build/bin/sluice-dp"
[ -x "$BIN" ] || { not_ok "build/bin/sluice-dp missing (make build/bin/sluice-dp)"; exit 1; }
SHM=$(mktemp -d /dev/shm/sluice-dp-test.XXXXXX)
trap '_cleanup; rm -rf "$SHM"' EXIT
SRC="$SHM/src"; DST="$SHM/dst"; mkdir -p "$SRC" "$DST"
TOKEN=t0k-$$-$RANDOM
BS=64k

# start_server NAME ARGS...: starts a server, sets SP (pid) and PORT
start_server() {
  local name="$1"; shift
  "$BIN" serve --root mem="$SRC" --token "$TOKEN" --block-size $BS "$@" \
    >"$TMP/$name.port" 2>"$TMP/$name.err" &
  SP=$!
  track_pid "$SP"
  wait_for 5 test -s "$TMP/$name.port" || { echo "# server $name did not start"; cat "$TMP/$name.err"; }
  PORT=$(head -n1 "$TMP/$name.port")
}
get() { "$BIN" get "127.0.0.1:$PORT" "$@" --token "$TOKEN"; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$2"; }

start_server main --timeout-ms 700

# --- byte-exact transfers, several sizes -----------------------------------
sizes="0 1 65535 65536 65537 1000003 3145733"
all=1
for s in $sizes; do
  head -c "$s" /dev/urandom >"$SRC/obj-$s"
  if ! get "mem/obj-$s" "$DST/obj-$s" --streams 4 --min-chunk 64k >"$TMP/get-$s.out" 2>&1 \
     || ! cmp -s "$SRC/obj-$s" "$DST/obj-$s"; then
    all=0; echo "# size $s failed:"; sed 's/^/#   /' "$TMP/get-$s.out"
  fi
done
check "byte-exact fetch of sizes $sizes" test $all = 1
check "no .sl-part or sidecar left after successful fetches" \
  test -z "$(ls -A "$DST" | grep -E 'sl-part')"
sum_local=$("$BIN" sum "$SRC/obj-1000003" --block-size $BS)
check "fetched checksum equals sluice-dp sum of the source" \
  test "$(field checksum "$TMP/get-1000003.out")" = "$sum_local"
check "3 MiB object used 4 parallel streams" test "$(field streams "$TMP/get-3145733.out")" = 4
check "fetched file re-hashes to the same checksum" \
  test "$("$BIN" sum "$DST/obj-3145733" --block-size $BS)" = "$(field checksum "$TMP/get-3145733.out")"

# --- push ---------------------------------------------------------------------
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1000003" mem/pushed/deep/p.bin --token "$TOKEN" >"$TMP/put.out" 2>&1
check "push lands byte-exact under the root, directories created" cmp -s "$SRC/obj-1000003" "$SRC/pushed/deep/p.bin"
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-0" mem/pushed/empty --token "$TOKEN" >/dev/null 2>&1
check "push of an empty object" test -f "$SRC/pushed/empty" -a ! -s "$SRC/pushed/empty"
check "push leaves no temporary file" test -z "$(ls -A "$SRC/pushed/deep" | grep sl-put)"

# --- token --------------------------------------------------------------------
"$BIN" get "127.0.0.1:$PORT" mem/obj-1 "$DST/wrongtok" --token nope >"$TMP/wt.out" 2>&1
rc=$?
check "wrong token is refused with an explicit message" \
  eval '[ $rc -ne 0 ] && grep -q "refused: wrong cluster token" "$TMP/wt.out" && [ ! -e "$DST/wrongtok" ]'
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1" mem/evil --token nope >/dev/null 2>&1
check "push with a wrong token writes nothing" test ! -e "$SRC/evil"

# Raw frames: what a client that skips or botches HELLO sees.
cat >"$TMP/raw.py" <<'PY'
import socket, struct, sys, time
port, token, case = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
def frame(t, p): return struct.pack(">B3xI", t, len(p)) + p
def hello(tok): return frame(1, struct.pack(">IHH", 0x534C4450, 1, len(tok)) + tok)
def read_frame(s):
    h = b""
    while len(h) < 8:
        c = s.recv(8 - len(h))
        if not c: return None, None
        h += c
    t, n = struct.unpack(">B3xI", h)
    p = b""
    while len(p) < n:
        c = s.recv(n - len(p))
        if not c: break
        p += c
    return t, p
def closed(s):
    s.settimeout(3)
    try: return s.recv(1) == b""
    except Exception: return False
s = socket.create_connection(("127.0.0.1", port))
if case == "no-hello":
    s.sendall(frame(0x10, b"mem/obj-1")); t, p = read_frame(s)
    ok = t == 3 and b"HELLO" in p and closed(s)
elif case == "empty-token":
    s.sendall(hello(b"")); t, p = read_frame(s)
    ok = t == 3 and b"no cluster token" in p and closed(s)
elif case == "bad-version":
    s.sendall(frame(1, struct.pack(">IHH", 0x534C4450, 9, len(token)) + token)); t, p = read_frame(s)
    ok = t == 3 and b"version" in p and closed(s)
elif case == "huge-frame":
    s.sendall(hello(token)); t, _ = read_frame(s)
    s.sendall(struct.pack(">B3xI", 0x10, 0xFFFFFFF0)); t2, p = read_frame(s)
    ok = t == 2 and t2 == 4 and closed(s)
elif case == "garbage-stat":
    s.sendall(hello(token)); read_frame(s)
    s.sendall(frame(0x12, b"\x00\x01")); t, p = read_frame(s)
    ok = t == 4 and b"malformed" in p and closed(s)
elif case == "slow-peer":
    s.sendall(hello(token)[:5]); t0 = time.time()
    ok = closed(s) and time.time() - t0 < 2.5
elif case == "stat-ok":
    s.sendall(hello(token)); read_frame(s)
    s.sendall(frame(0x10, b"mem/obj-65537")); t, p = read_frame(s)
    size, = struct.unpack(">Q", p[:8])
    ok = t == 0x11 and size == 65537
print("PASS" if ok else "FAIL %s" % case)
PY
for c in no-hello empty-token bad-version huge-frame garbage-stat slow-peer stat-ok; do
  out=$(python3 "$TMP/raw.py" "$PORT" "$TOKEN" "$c" 2>&1)
  check "raw protocol: $c handled (refusal/error frame, connection closed)" test "$out" = PASS
done
check "server survived the hostile clients" kill -0 "$SP"

# --- traversal ------------------------------------------------------------------
ln -s /etc "$SRC/etc-link"
ln -s /etc/hostname "$SRC/host-link"
mkdir -p "$SHM/outside"; echo secret >"$SHM/outside/secret"
allref=1
for name in "mem/../outside/secret" "mem/./obj-1" "mem//obj-1" "/etc/passwd" "etc/passwd" \
            "mem/etc-link/passwd" "mem/host-link" "mem/obj-1/" "mem/a/../../outside/secret"; do
  if get "$name" "$DST/trav" >"$TMP/trav.out" 2>&1 || ! grep -qE "refused|no root" "$TMP/trav.out" \
     || [ -e "$DST/trav" ]; then
    allref=0; echo "# not refused: $name"; sed 's/^/#   /' "$TMP/trav.out"
  fi
done
check "path traversal, absolute paths, unknown roots and symlink escapes are refused" test $allref = 1
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1" mem/etc-link/evil --token "$TOKEN" >"$TMP/pt.out" 2>&1
check "push through a symlinked directory is refused" \
  eval '! [ -e /etc/evil ] && grep -q refused "$TMP/pt.out"'
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1" mem/../outside/evil --token "$TOKEN" >/dev/null 2>&1
check "push outside the root is refused" test ! -e "$SHM/outside/evil"

# --- resume after the server dies mid-transfer --------------------------------------
head -c $((4 << 20)) /dev/urandom >"$SRC/big"
kill "$SP"; wait "$SP" 2>/dev/null
start_server slow --rate-limit 2m
get mem/big "$DST/big" --streams 2 --min-chunk 64k >"$TMP/cut.out" 2>&1 &
GP=$!; track_pid $GP
# kill once some blocks have been verified and recorded, well before the end
# (the sidecar is a 48-byte header, then one byte per block, 1 = verified)
wait_for 10 eval '[ $(tail -c +49 "$DST/big.sl-part.state" 2>/dev/null | tr -cd "\001" | wc -c) -ge 16 ]'
kill -9 "$SP"
wait $GP; cut_rc=$?
check "transfer cut by killing the server fails (exit $cut_rc)" test $cut_rc -ne 0
check "partial file and resume sidecar kept, destination absent" \
  test -e "$DST/big.sl-part" -a -e "$DST/big.sl-part.state" -a ! -e "$DST/big"
start_server again
get mem/big "$DST/big" --streams 2 --min-chunk 64k >"$TMP/resume.out" 2>&1
fetched=$(field fetched "$TMP/resume.out"); resumed=$(field resumed "$TMP/resume.out")
echo "# resume: fetched=$fetched resumed=$resumed of $((4 << 20))"
check "resumed fetch is byte-exact" cmp -s "$SRC/big" "$DST/big"
check "resume kept earlier blocks and fetched only the rest" \
  eval '[ "${resumed:-0}" -gt 0 ] && [ "${fetched:-0}" -lt $((4 << 20)) ] && [ $((fetched + resumed)) -eq $((4 << 20)) ]'
check "sidecar removed after completion" test ! -e "$DST/big.sl-part.state" -a ! -e "$DST/big.sl-part"

# --- checksum mismatch -----------------------------------------------------------------
head -c 1000000 /dev/urandom >"$SRC/rot"
"$BIN" stat "127.0.0.1:$PORT" mem/rot --token "$TOKEN" >/dev/null # server hashes + caches
cp -p "$SRC/rot" "$TMP/rot.ref"
printf 'X' | dd of="$SRC/rot" bs=1 seek=700000 conv=notrunc status=none
touch -r "$TMP/rot.ref" "$SRC/rot" # same size and mtime: only the data changed
get mem/rot "$DST/rot" --streams 2 --min-chunk 64k >"$TMP/rot.out" 2>&1
rc=$?
check "corrupted source detected by checksum" eval '[ $rc -ne 0 ] && grep -q "checksum mismatch" "$TMP/rot.out"'
check "bad data not left in place (no destination, no partial, no sidecar)" \
  test ! -e "$DST/rot" -a ! -e "$DST/rot.sl-part" -a ! -e "$DST/rot.sl-part.state"
old=$("$BIN" sum "$TMP/rot.ref" --block-size $BS)
get mem/obj-65537 "$DST/exp" --expect-checksum 0123456789abcdef >"$TMP/exp.out" 2>&1
check "an unexpected object version is rejected (--expect-checksum)" \
  eval '! [ -e "$DST/exp" ] && grep -q "expected 0123456789abcdef" "$TMP/exp.out"'
: "$old"

# --- local hand-off --------------------------------------------------------------------
"$BIN" handoff "$SRC/obj-3145733" "$SRC/handed" 2>/dev/null
check "hand-off is a hard link (same inode, no copy)" \
  test "$(stat -c %i "$SRC/obj-3145733")" = "$(stat -c %i "$SRC/handed")"

kill "$SP"; wait "$SP" 2>/dev/null
check "server stops cleanly on SIGTERM" grep -q "stopped:" "$TMP/again.err"
