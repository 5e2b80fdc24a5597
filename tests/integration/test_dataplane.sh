#!/usr/bin/env bash
# Data plane on loopback with real sluice-dp processes: byte-exact transfers of
# awkward sizes over parallel streams, push into the staging area,
# capability refusals (none, another object's, expired, wrong key, read used
# for push, push outside its object; CLI and raw frames), path traversal and
# symlink escape, malformed frames and slow peers, a transfer cut by killing
# the server that resumes with only the missing blocks, a corrupted source
# detected by checksum with nothing left behind, and TLS (right CA, other CA,
# plain client to a TLS server and back, mutual TLS bound to the reader).
# Objects are small (64 KiB blocks) so the whole script takes a few seconds.
. "$(dirname "$0")/../lib.sh"

BIN="$SLUICE_ROOT/build/bin/sluice-dp"
[ -x "$BIN" ] || { not_ok "build/bin/sluice-dp missing (make build/bin/sluice-dp)"; exit 1; }
SHM=$(mktemp -d /dev/shm/sluice-dp-test.XXXXXX)
trap '_cleanup; rm -rf "$SHM"' EXIT
SRC="$SHM/src"; DST="$SHM/dst"; mkdir -p "$SRC" "$DST"
KEY=$(openssl rand -hex 32)
BS=64k
# cap OP PATH [TTL]: a capability for this test's server (reader "tester")
cap() { "$BIN" cap --key "$KEY" --op "$1" --reader tester --ttl "${3:-600}" "$2"; }

# start_server NAME ARGS...: starts a server, sets SP (pid) and PORT
start_server() {
  local name="$1"; shift
  "$BIN" serve --root mem="$SRC" --key "$KEY" --block-size $BS "$@" \
    >"$TMP/$name.port" 2>"$TMP/$name.err" &
  SP=$!
  track_pid "$SP"
  wait_for 5 test -s "$TMP/$name.port" || { echo "# server $name did not start"; cat "$TMP/$name.err"; }
  PORT=$(head -n1 "$TMP/$name.port")
}
# get OBJECT DEST [ARGS]: fetch with a read capability for OBJECT's path
get() { local o="$1"; shift; "$BIN" get "127.0.0.1:$PORT" "$o" "$@" --cap "$(cap r "${o#*/}")"; }
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
PC=$(cap p pushed)
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1000003" mem/pushed/deep/p.bin --cap "$PC" >"$TMP/put.out" 2>&1
check "push lands byte-exact in the staging area .pushed/<path>/, directories created" \
  cmp -s "$SRC/obj-1000003" "$SRC/.pushed/pushed/deep/p.bin"
check "push does not touch the object's own place" test ! -e "$SRC/pushed"
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-0" mem/pushed/empty --cap "$PC" >/dev/null 2>&1
check "push of an empty object" test -f "$SRC/.pushed/pushed/empty" -a ! -s "$SRC/.pushed/pushed/empty"
check "push leaves no temporary file" test -z "$(ls -A "$SRC/.pushed/pushed/deep" | grep sl-put)"

# --- capabilities ---------------------------------------------------------------
# refused REF OUTFILE RC: the CLI exited 3 (SL_EPERM) and said why
refused() { [ "$3" -eq 3 ] && grep -q "$1" "$2"; }
"$BIN" get "127.0.0.1:$PORT" mem/obj-1 "$DST/other" --cap "$(cap r obj-65536)" >"$TMP/c1.out" 2>&1
rc=$?
check "another object's capability is refused (exit 3, 'names object obj-65536, not obj-1')" \
  eval 'refused "capability names object obj-65536, not obj-1" "$TMP/c1.out" $rc && [ ! -e "$DST/other" ]'
head -c 10 /dev/urandom >"$SRC/obj-655"
"$BIN" get "127.0.0.1:$PORT" mem/obj-655 "$DST/prefix" --cap "$(cap r obj-65)" >"$TMP/c1b.out" 2>&1
rc=$?
check "a capability for obj-65 does not cover obj-655 (prefix is not a path)" \
  eval 'refused "names object obj-65, not obj-655" "$TMP/c1b.out" $rc && [ ! -e "$DST/prefix" ]'
EXP=$(cap r obj-1 1)
sleep 1.2
"$BIN" get "127.0.0.1:$PORT" mem/obj-1 "$DST/exp1" --cap "$EXP" >"$TMP/c2.out" 2>&1
rc=$?
check "an expired capability is refused ('capability expired N s ago')" \
  eval 'refused "capability expired [0-9]* s ago" "$TMP/c2.out" $rc && [ ! -e "$DST/exp1" ]'
OTHERKEY=$(openssl rand -hex 32)
"$BIN" get "127.0.0.1:$PORT" mem/obj-1 "$DST/wk" \
  --cap "$("$BIN" cap --key "$OTHERKEY" --op r --reader tester --ttl 60 obj-1)" >"$TMP/c3.out" 2>&1
rc=$?
check "a capability signed with another server's key is refused (bad signature)" \
  eval 'refused "bad capability signature" "$TMP/c3.out" $rc && [ ! -e "$DST/wk" ]'
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1" mem/obj-1/evil --cap "$(cap r obj-1)" >"$TMP/c4.out" 2>&1
rc=$?
check "a read capability cannot push ('does not allow push')" \
  eval 'refused "capability does not allow push" "$TMP/c4.out" $rc && [ ! -e "$SRC/.pushed/obj-1" ]'
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1" mem/elsewhere/x --cap "$PC" >"$TMP/c5.out" 2>&1
rc=$?
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1" mem/pushed --cap "$PC" >"$TMP/c6.out" 2>&1
rc6=$?
check "a push capability allows only mem/<path>/..., not another path or the object itself" \
  eval 'refused "push only beneath mem/pushed/" "$TMP/c5.out" $rc && refused "push only beneath" "$TMP/c6.out" $rc6 && [ ! -e "$SRC/.pushed/elsewhere" ] && [ ! -e "$SRC/elsewhere" ]'
"$BIN" stat "127.0.0.1:$PORT" mem/obj-1 --cap "$PC" >"$TMP/c7.out" 2>&1
rc=$?
check "a push capability cannot read" eval 'refused "does not allow read" "$TMP/c7.out" $rc'
"$BIN" stat "127.0.0.1:$PORT" mem/.pushed/pushed/empty --cap "$PC" >"$TMP/c8.out" 2>&1
rc=$?
check "the staging area cannot be read back with the push capability" eval '[ $rc -ne 0 ]'
"$BIN" get "127.0.0.1:$PORT" mem/obj-1 "$DST/nocap" >"$TMP/c9.out" 2>&1
check "the CLI wants a capability" eval 'grep -q "capability is required" "$TMP/c9.out" && [ ! -e "$DST/nocap" ]'

# Raw frames: what a client that skips or botches HELLO sees.
cat >"$TMP/raw.py" <<'PY'
import socket, struct, sys, time
port, cap, case = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
def frame(t, p): return struct.pack(">B3xI", t, len(p)) + p
def hello(tok): return frame(1, struct.pack(">IHH", 0x534C4450, 2, len(tok)) + tok)
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
elif case == "empty-cap":
    s.sendall(hello(b"")); t, p = read_frame(s)
    ok = t == 3 and b"no capability given" in p and closed(s)
elif case == "v1-token":  # a version-1 client with an old cluster token
    s.sendall(frame(1, struct.pack(">IHH", 0x534C4450, 1, 5) + b"t0ken")); t, p = read_frame(s)
    ok = t == 3 and b"version 1 is not supported" in p and closed(s)
elif case == "other-object":
    s.sendall(hello(cap)); t, _ = read_frame(s)
    s.sendall(frame(0x10, b"mem/obj-1")); t2, p = read_frame(s)
    ok = t == 2 and t2 == 4 and struct.unpack(">I", p[:4])[0] == 1 and b"names object" in p
elif case == "bad-version":
    s.sendall(frame(1, struct.pack(">IHH", 0x534C4450, 9, len(cap)) + cap)); t, p = read_frame(s)
    ok = t == 3 and b"version" in p and closed(s)
elif case == "huge-frame":
    s.sendall(hello(cap)); t, _ = read_frame(s)
    s.sendall(struct.pack(">B3xI", 0x10, 0xFFFFFFF0)); t2, p = read_frame(s)
    ok = t == 2 and t2 == 4 and closed(s)
elif case == "garbage-stat":
    s.sendall(hello(cap)); read_frame(s)
    s.sendall(frame(0x12, b"\x00\x01")); t, p = read_frame(s)
    ok = t == 4 and b"malformed" in p and closed(s)
elif case == "slow-peer":
    s.sendall(hello(cap)[:5]); t0 = time.time()
    ok = closed(s) and time.time() - t0 < 2.5
elif case == "stat-ok":
    s.sendall(hello(cap)); read_frame(s)
    s.sendall(frame(0x10, b"mem/obj-65537")); t, p = read_frame(s)
    size, = struct.unpack(">Q", p[:8])
    ok = t == 0x11 and size == 65537
print("PASS" if ok else "FAIL %s" % case)
PY
RAWCAP=$(cap r obj-65537)
for c in no-hello empty-cap v1-token bad-version huge-frame garbage-stat slow-peer stat-ok other-object; do
  out=$(python3 "$TMP/raw.py" "$PORT" "$RAWCAP" "$c" 2>&1)
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
  # the capability names the first path component where there is one, so
  # the name and symlink checks, not the capability, are what is tested
  first=${name#*/}; first=${first%%/*}
  case $first in ""|.|..) first=obj-1 ;; esac
  if "$BIN" get "127.0.0.1:$PORT" "$name" "$DST/trav" --cap "$(cap r "$first")" >"$TMP/trav.out" 2>&1 \
     || ! grep -qE "refused|no root" "$TMP/trav.out" || [ -e "$DST/trav" ]; then
    allref=0; echo "# not refused: $name"; sed 's/^/#   /' "$TMP/trav.out"
  fi
done
check "path traversal, absolute paths, unknown roots and symlink escapes are refused" test $allref = 1
ln -s /etc "$SRC/.pushed/etc-link"
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1" mem/etc-link/evil --cap "$(cap p etc-link)" >"$TMP/pt.out" 2>&1
check "push through a symlinked directory is refused" \
  eval '! [ -e /etc/evil ] && grep -q refused "$TMP/pt.out"'
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-1" mem/../outside/evil --cap "$PC" >/dev/null 2>&1
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
"$BIN" stat "127.0.0.1:$PORT" mem/rot --cap "$(cap r rot)" >/dev/null # server hashes + caches
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

# --- TLS ------------------------------------------------------------------------------
"$SLUICE_ROOT/scripts/make-certs.sh" "$TMP/pki" localhost >"$TMP/pki.out" 2>&1
"$SLUICE_ROOT/scripts/make-certs.sh" "$TMP/rogue" localhost >/dev/null 2>&1
check "make-certs.sh made a CA and a localhost certificate with 0600 keys" \
  eval '[ -s "$TMP/pki/ca.pem" ] && [ -s "$TMP/pki/localhost.pem" ] && [ "$(stat -c %a "$TMP/pki/localhost.key")" = 600 ]'
TLS=(--tls-cert "$TMP/pki/localhost.pem" --tls-key "$TMP/pki/localhost.key")
start_server tls "${TLS[@]}"
"$BIN" get "127.0.0.1:$PORT" mem/obj-3145733 "$DST/tls-ip" --cap "$(cap r obj-3145733)" \
  --tls-ca "$TMP/pki/ca.pem" --streams 4 --min-chunk 64k >"$TMP/tls1.out" 2>&1
check "TLS fetch by IP (127.0.0.1 in the certificate), 4 streams, byte-exact" \
  cmp -s "$SRC/obj-3145733" "$DST/tls-ip"
"$BIN" get "localhost:$PORT" mem/obj-1000003 "$DST/tls-name" --cap "$(cap r obj-1000003)" \
  --tls-ca "$TMP/pki/ca.pem" >"$TMP/tls2.out" 2>&1
check "TLS fetch by host name, byte-exact" cmp -s "$SRC/obj-1000003" "$DST/tls-name"
"$BIN" put "127.0.0.1:$PORT" "$SRC/obj-3145733" mem/tlsput/f --cap "$(cap p tlsput)" \
  --tls-ca "$TMP/pki/ca.pem" >"$TMP/tls3.out" 2>&1
check "TLS push lands byte-exact in .pushed/" cmp -s "$SRC/obj-3145733" "$SRC/.pushed/tlsput/f"
"$BIN" get "127.0.0.1:$PORT" mem/obj-1 "$DST/tls-rogue" --cap "$(cap r obj-1)" \
  --tls-ca "$TMP/rogue/ca.pem" >"$TMP/tls4.out" 2>&1
rc=$?
check "a client trusting another CA refuses the server (exit 3, 'not trusted')" \
  eval 'refused "TLS certificate not trusted" "$TMP/tls4.out" $rc && [ ! -e "$DST/tls-rogue" ]'
timeout 10 "$BIN" get "127.0.0.1:$PORT" mem/obj-1 "$DST/tls-plain" --cap "$(cap r obj-1)" >"$TMP/tls5.out" 2>&1
rc=$?
check "a plain client to a TLS server fails at once, told why" \
  eval '[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "speaks TLS only" "$TMP/tls5.out"'
check "TLS server survived the failed handshakes" kill -0 "$SP"
TLSPORT=$PORT; TLSSP=$SP
start_server plain2
timeout 10 "$BIN" get "127.0.0.1:$PORT" mem/obj-1 "$DST/tls-to-plain" --cap "$(cap r obj-1)" \
  --tls-ca "$TMP/pki/ca.pem" >"$TMP/tls6.out" 2>&1
rc=$?
check "a TLS client to a plain server fails at once ('TLS handshake failed')" \
  eval '[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "TLS handshake failed" "$TMP/tls6.out"'
kill "$SP" "$TLSSP"; wait "$SP" "$TLSSP" 2>/dev/null
# mutual TLS: the server requires a client certificate from its CA, and the
# certificate must be for the capability's reader
start_server mtls "${TLS[@]}" --tls-ca "$TMP/pki/ca.pem"
mcap() { "$BIN" cap --key "$KEY" --op r --reader "$1" --ttl 600 obj-65537; }
"$BIN" get "127.0.0.1:$PORT" mem/obj-65537 "$DST/m1" --cap "$(mcap localhost)" \
  --tls-ca "$TMP/pki/ca.pem" >"$TMP/m1.out" 2>&1
check "mutual TLS: a client without a certificate is refused" test ! -e "$DST/m1"
CL=(--tls-ca "$TMP/pki/ca.pem" --tls-cert "$TMP/pki/localhost.pem" --tls-key "$TMP/pki/localhost.key")
"$BIN" get "127.0.0.1:$PORT" mem/obj-65537 "$DST/m2" --cap "$(mcap localhost)" "${CL[@]}" >"$TMP/m2.out" 2>&1
check "mutual TLS: a client with a certificate for the capability's reader fetches" \
  cmp -s "$SRC/obj-65537" "$DST/m2"
"$BIN" get "127.0.0.1:$PORT" mem/obj-65537 "$DST/m3" --cap "$(mcap h9)" "${CL[@]}" >"$TMP/m3.out" 2>&1
rc=$?
check "mutual TLS: a capability for another host is refused ('capability is for host h9')" \
  eval 'refused "capability is for host h9" "$TMP/m3.out" $rc && [ ! -e "$DST/m3" ]'
kill "$SP"; wait "$SP" 2>/dev/null
