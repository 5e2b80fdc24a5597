#!/usr/bin/env bash
# unpack / repack / pull-unpack on small synthetic observations (3 channels x
# 4 seconds of 300 kB members): round trip unpack -> repack -> pull-unpack
# (path and http:// URL) byte-identical; truncated tars, wrong member sizes,
# corrupt and truncated zstd, wrong channel, missing seconds, hostile members
# (absolute or '..' paths, symlinks, hard links, sparse or huge members):
# each a clear error naming the member, and no output at all (not even
# hidden temps).
. "$(dirname "$0")/../../../tests/lib.sh"
PY=/usr/bin/python3
HTTPD="$(cd "$(dirname "$0")/../../mwa-down/tests" && pwd)/httpd.py"
SZ=300000; OBS=1257010784; G0=1257010986
cd "$TMP" || exit 1
mkdir -p raw tars u r p bad
for s in 0 1 2 3; do
  g=$((G0 + s))
  for c in 109 110 111; do
    # voltage-like: half random, half structured, so zstd has some work
    { head -c $((SZ / 2)) /dev/urandom; yes "$c $g" | head -c $((SZ / 2)); } >raw/${OBS}_${g}_ch$c.dat
  done
  tar cf tars/${OBS}_$g.tar -C raw ${OBS}_${g}_ch109.dat ${OBS}_${g}_ch110.dat ${OBS}_${g}_ch111.dat
done
zstd -q --rm tars/${OBS}_$((G0 + 1)).tar
empty() { test -z "$(ls -A "$1")"; }
U=(unpack --size $SZ --members 3 -q)

# --- unpack
mkdir -p w1
SLUICE_WORK=$TMP/w1 "${U[@]}" -o u tars/* >out1 2>err1; rc=$?
check "unpack of 4 tars (one .zst) succeeds" test "$rc" = 0
ok_all=1
for f in raw/*; do cmp -s "$f" "u/$(basename "$f")" || ok_all=0; done
check "unpacked members byte-identical" test "$ok_all" = 1
check "one emit line per member (12)" test "$(wc -l <w1/emit)" = 12
check "stdout carries the keys" cmp -s out1 w1/emit
mkdir -p bych
"${U[@]}" -o bych --by-channel -k 'ch{ch}/{gps}' tars/${OBS}_$G0.tar >out2
check "--by-channel writes DIR/chNNN/" cmp -s raw/${OBS}_${G0}_ch110.dat bych/ch110/${OBS}_${G0}_ch110.dat
check "key template with {ch} {gps}" grep -qx "ch111/$G0" out2

# --- unpack failures: nothing left behind
head -c $((512 + 512 + SZ + 512 + 1000)) tars/${OBS}_$G0.tar >bad/trunc_mid.tar
unpack --size $SZ -o bad bad/trunc_mid.tar 2>e; rc=$?
check "truncated tar fails (rc=$rc)" test "$rc" = 1
check "truncated tar: error names the member" grep -q "member ${OBS}_${G0}_ch110.dat: .*runcated.*of $SZ bytes" e
mkdir -p o1
unpack --size $SZ -o o1 bad/trunc_mid.tar 2>/dev/null
check "truncated tar leaves no output (not even the good first member)" empty o1
# cut exactly at a member boundary: only --members catches that
hdr=$(( (SZ + 511) / 512 * 512 + 512 ))
head -c $((2 * hdr)) tars/${OBS}_$G0.tar >bad/trunc_edge.tar
unpack --size $SZ --members 3 -o o1 bad/trunc_edge.tar 2>e; rc=$?
check "tar cut at a member boundary fails with --members" \
  test "$rc" = 1 -a -n "$(grep '2 members, expected 3' e)"
check "... and leaves nothing" empty o1
head -c $((SZ + 7)) /dev/urandom >bad/${OBS}_${G0}_ch112.dat
tar cf bad/wrongsize.tar -C raw ${OBS}_${G0}_ch109.dat -C ../bad ${OBS}_${G0}_ch112.dat
unpack --size $SZ -o o1 bad/wrongsize.tar 2>e; rc=$?
check "member of the wrong size fails" test "$rc" = 1
check "wrong size: error names member and sizes" grep -q "member ${OBS}_${G0}_ch112.dat has $((SZ + 7)) bytes, expected $SZ" e
check "wrong size leaves nothing" empty o1
zstd -q -c tars/${OBS}_$G0.tar >bad/good.tar.zst
python3 - bad/good.tar.zst bad/corrupt.tar.zst <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for i in range(len(d) // 2, len(d) // 2 + 64):
    d[i] ^= 0x5A
open(sys.argv[2], "wb").write(d)
PY
unpack --size $SZ -o o1 bad/corrupt.tar.zst 2>e; rc=$?
check "corrupt zstd frame fails" test "$rc" = 1
check "corrupt zstd: clear error" grep -qE "corrupt zstd data \(detected at compressed byte [0-9]+\)" e
check "corrupt zstd leaves nothing" empty o1
head -c $(( $(stat -c %s bad/good.tar.zst) - 100 )) bad/good.tar.zst >bad/cut.tar.zst
unpack --size $SZ -o o1 bad/cut.tar.zst 2>e; rc=$?
check "truncated zstd fails with a clear error" \
  test "$rc" = 1 -a -n "$(grep 'truncated zstd stream' e)"
check "truncated zstd leaves nothing" empty o1
cp tars/${OBS}_$G0.tar bad/${OBS}_9.tar; tar rf bad/${OBS}_9.tar -C raw ${OBS}_${G0}_ch109.dat
unpack --size $SZ -o o1 bad/${OBS}_9.tar 2>e; rc=$?
check "duplicate member refused" test "$rc" = 1 -a -n "$(grep 'appears twice' e)"
check "nothing left after duplicate" empty o1

# --- hostile archives: a member path that is absolute or has a '..'
# component, or a link, is refused with the member and the archive named,
# and nothing is left, even of the good member before it.
M9=${OBS}_${G0}_ch109.dat; M0=${OBS}_${G0}_ch110.dat
python3 - "$TMP/raw" "$TMP/bad" <<'PY'
import io, sys, tarfile
raw, bad = sys.argv[1:3]
good, other = "1257010784_1257010986_ch109.dat", "1257010784_1257010986_ch110.dat"
def mk(name, *members):  # each (path, kind, link target)
    with tarfile.open(bad + "/" + name, "w", format=tarfile.GNU_FORMAT) as t:
        t.add(raw + "/" + good, arcname=good)  # a good member first
        for path, kind, target in members:
            ti = tarfile.TarInfo(path)
            if kind == "file":
                d = open(raw + "/" + other, "rb").read()
                ti.size = len(d)
                t.addfile(ti, io.BytesIO(d))
                continue
            ti.type = {"sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE, "dir": tarfile.DIRTYPE}[kind]
            ti.linkname = target
            t.addfile(ti)
mk("dotdot.tar", ("../" + other, "file", ""))
mk("dotdot_deep.tar", ("sub/../../" + other, "file", ""))
mk("abs.tar", ("/tmp/" + other, "file", ""))
mk("dotdot_dir.tar", ("../evil/", "dir", ""))
mk("symlink.tar", (other, "sym", "/etc/passwd"))
mk("hardlink.tar", (other, "hard", "../../etc/passwd"))
PY
# GNU tar with -P keeps the leading '/'
tar cPf bad/gnu_abs.tar "$TMP/raw/$M9" 2>/dev/null
mkdir -p ln && ln -sf ../../../etc/passwd ln/$M0 && tar cf bad/gnu_symlink.tar -C raw $M9 -C ../ln $M0
# hostile CASE ARCHIVE MEMBER ERE: unpack refuses ARCHIVE naming MEMBER, leaves nothing
hostile() {
  local d="$1" tarf="$2" member="$3" re="$4" rc
  rm -rf oh && mkdir oh
  unpack --size $SZ -o oh "$tarf" 2>e; rc=$?
  if [ "$rc" = 1 ] && grep -qF "$tarf: member $member" e && grep -qE "$re" e && empty oh; then
    ok "$d"
  else
    not_ok "$d"
    echo "# rc $rc, left: $(ls -A oh | tr '\n' ' '), stderr: $(head -c 300 e)"
  fi
}
hostile "member ../NAME refused" bad/dotdot.tar "../$M0" "'\.\.' component.*hostile archive refused"
hostile "member sub/../../NAME refused" bad/dotdot_deep.tar "sub/../../$M0" "'\.\.' component"
hostile "member with an absolute path refused (python tarfile)" bad/abs.tar "/tmp/$M0" "absolute path"
hostile "member with an absolute path refused (GNU tar -P)" bad/gnu_abs.tar "$TMP/raw/$M9" "absolute path"
hostile "directory member ../evil/ refused" bad/dotdot_dir.tar "../evil/" "'\.\.' component"
hostile "symlink member to /etc/passwd refused" bad/symlink.tar "$M0" "is a symbolic link to /etc/passwd"
hostile "symlink member (GNU tar) refused" bad/gnu_symlink.tar "$M0" "is a symbolic link to \.\./\.\./\.\./etc/passwd"
hostile "hard link member to ../../etc/passwd refused" bad/hardlink.tar "$M0" "is a hard link to \.\./\.\./etc/passwd"
# sparse members: the archive holds a few bytes, the header declares the
# size (found by fuzz_unpack_tar: 7 KiB made a 1 TiB file). Refused even
# with --size 0: over EXTRACT_MAX_MEMBER, or sparse at all.
mkdir -p sp && truncate -s 1T sp/$M0 && printf x | dd of=sp/$M0 bs=1 seek=$((2 ** 40 - 1)) conv=notrunc 2>/dev/null
tar --sparse --format=posix -cf bad/sparse_huge.tar -C raw $M9 -C ../sp $M0 && rm -f sp/$M0
truncate -s 65536 sp/$M0 && printf x | dd of=sp/$M0 bs=1 seek=65535 conv=notrunc 2>/dev/null
tar --sparse --format=posix -cf bad/sparse_small.tar -C raw $M9 -C ../sp $M0 && rm -f sp/$M0
rm -rf oh && mkdir oh
unpack --size 0 -o oh bad/sparse_huge.tar 2>e; rc=$?
check "1 TiB sparse member refused with --size 0, nothing left" \
  test "$rc" = 1 -a -z "$(ls -A oh)" -a -n "$(grep 'declares 1099511627776 bytes, more than' e)"
unpack --size 0 -o oh bad/sparse_small.tar 2>e; rc=$?
check "small sparse member refused, nothing left" \
  test "$rc" = 1 -a -z "$(ls -A oh)" -a -n "$(grep 'is a sparse file' e)"
rm -rf oh && mkdir oh
unpack --size $SZ --by-channel -o oh bad/dotdot.tar 2>e; rc=$?
check "--by-channel: hostile archive leaves no chNNN/ directory behind" test "$rc" = 1 -a -z "$(ls -A oh)"
zstd -q -c bad/dotdot.tar >bad/dotdot.tar.zst
rm -rf oh && mkdir oh
pull-unpack --any-name --size $SZ -o oh bad/dotdot.tar.zst 2>e; rc=$?
check "pull-unpack refuses a hostile archive too, leaving nothing" \
  test "$rc" = 1 -a -n "$(grep -F "member ../$M0: path has a '..' component" e)" -a -z "$(ls -A oh)"
check "nothing was written outside the output directory" test ! -e "$TMP/$M0" -a ! -e "/tmp/$M0" -a ! -e evil

# --- repack
mkdir -p w2
for c in 109 110 111; do
  SLUICE_WORK=$TMP/w2 repack -q --size $SZ -o r -k '{t0}_{t1}_ch{ch}' \
    --dir u --obsid $OBS --ch $c --t0 $G0 --seconds 4 >/dev/null || echo "repack ch$c failed"
done
T1=$((G0 + 3))
check "repack made 3 archives with the expected names" \
  test "$(ls r | tr '\n' ' ')" = "${G0}_${T1}_ch109.dat.tar.zst ${G0}_${T1}_ch110.dat.tar.zst ${G0}_${T1}_ch111.dat.tar.zst "
check "repack emitted one key per archive" test "$(sort w2/emit | head -1)" = "${G0}_${T1}_ch109"
check "archive readable by zstd + GNU tar" \
  bash -c "zstd -dc r/${G0}_${T1}_ch110.dat.tar.zst | tar tf - | wc -l | grep -qx 4"
repack --size $SZ -o o1 --dir u --obsid $OBS --ch 109 --t0 $G0 --seconds 5 2>e; rc=$?
check "repack refuses a missing second" test "$rc" = 1 -a -n "$(grep "${OBS}_$((G0 + 4))_ch109.dat" e)"
check "... and writes nothing" empty o1
repack --size $((SZ + 1)) -o o1 u/${OBS}_${G0}_ch109.dat u/${OBS}_$((G0 + 1))_ch109.dat 2>e; rc=$?
check "repack checks every member size" test "$rc" = 1 -a -n "$(grep "has $SZ bytes, expected $((SZ + 1))" e)"
repack --size $SZ -o o1 u/${OBS}_${G0}_ch109.dat u/${OBS}_$((G0 + 1))_ch110.dat 2>e; rc=$?
check "repack refuses mixed channels" test "$rc" = 1 -a -n "$(grep 'not the same observation and channel' e)"
repack --size $SZ -o o1 u/${OBS}_${G0}_ch109.dat u/${OBS}_$((G0 + 2))_ch109.dat 2>e; rc=$?
check "repack refuses gaps unless --allow-gaps" test "$rc" = 1
check "nothing written by refused repacks" empty o1

# --- pull-unpack: path, then http:// URL; byte-identical round trip
mkdir -p w3
SLUICE_WORK=$TMP/w3 pull-unpack -q --size $SZ -o p r/${G0}_${T1}_ch110.dat.tar.zst >/dev/null; rc=$?
ok_all=1
for s in 0 1 2 3; do cmp -s raw/${OBS}_$((G0 + s))_ch110.dat p/${OBS}_$((G0 + s))_ch110.dat || ok_all=0; done
check "pull-unpack (path) round trip byte-identical" test "$rc" = 0 -a "$ok_all" = 1
check "pull-unpack emits one key per archive" test "$(cat w3/emit)" = "${G0}_${T1}_ch110"
$PY "$HTTPD" --root "$TMP/r" --port-file "$TMP/port" --lifetime 40 &
track_pid $!
wait_for 10 test -s "$TMP/port" || not_ok "http server started"
P=$(cat "$TMP/port")
mkdir -p p2
pull-unpack -q --size $SZ -o p2 --per-member -k '{ch}/{gps}' \
  http://127.0.0.1:$P/${G0}_${T1}_ch111.dat.tar.zst http://127.0.0.1:$P/${G0}_${T1}_ch109.dat.tar.zst >out3; rc=$?
ok_all=1
for c in 109 111; do for s in 0 1 2 3; do
  cmp -s raw/${OBS}_$((G0 + s))_ch$c.dat p2/${OBS}_$((G0 + s))_ch$c.dat || ok_all=0
done; done
check "pull-unpack (http) round trip byte-identical" test "$rc" = 0 -a "$ok_all" = 1
check "--per-member emits each member" test "$(wc -l <out3)" = 8 -a "$(head -1 out3)" = "111/$G0"
mkdir -p o2
pull-unpack --size $SZ -o o2 http://127.0.0.1:$P/${G0}_${T1}_ch112.dat.tar.zst 2>e; rc=$?
check "pull-unpack of a missing URL fails clearly" test "$rc" = 1 -a -n "$(grep 'HTTP 404' e)"
# corrupt and truncated repacked archives, served over HTTP
python3 - r/${G0}_${T1}_ch109.dat.tar.zst "$TMP/r/corrupt.tar.zst" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
for i in range(len(d) * 3 // 4, len(d) * 3 // 4 + 32):
    d[i] ^= 0xFF
open(sys.argv[2], "wb").write(d)
PY
pull-unpack --any-name --size $SZ -o o2 http://127.0.0.1:$P/corrupt.tar.zst 2>e; rc=$?
check "pull-unpack: corrupt frame fails" test "$rc" = 1 -a -n "$(grep -E 'corrupt zstd|hecksum' e)"
check "pull-unpack: nothing left after corrupt frame" empty o2
head -c $(( $(stat -c %s r/${G0}_${T1}_ch110.dat.tar.zst) * 2 / 3 )) r/${G0}_${T1}_ch110.dat.tar.zst >r/cut.tar.zst
pull-unpack --any-name --size $SZ -o o2 http://127.0.0.1:$P/cut.tar.zst 2>e; rc=$?
check "pull-unpack: truncated archive fails" test "$rc" = 1 -a -n "$(grep -E 'truncated zstd|runcated' e)"
check "pull-unpack: nothing left after truncation" empty o2
cp r/${G0}_${T1}_ch110.dat.tar.zst o2/${G0}_${T1}_ch111.dat.tar.zst
pull-unpack --size $SZ -o o2 o2/${G0}_${T1}_ch111.dat.tar.zst 2>e; rc=$?
rm o2/${G0}_${T1}_ch111.dat.tar.zst
check "pull-unpack: member of another channel refused" test "$rc" = 1 -a -n "$(grep 'is channel 110, the archive is channel 111' e)"
check "... leaving nothing" empty o2
cp r/${G0}_${T1}_ch110.dat.tar.zst o2/${G0}_$((T1 + 1))_ch110.dat.tar.zst
pull-unpack --size $SZ -o o2 o2/${G0}_$((T1 + 1))_ch110.dat.tar.zst 2>e; rc=$?
rm o2/${G0}_$((T1 + 1))_ch110.dat.tar.zst
check "pull-unpack: fewer seconds than the name says refused" test "$rc" = 1 -a -n "$(grep '4 members, expected 5' e)"
check "... leaving nothing" empty o2
pull-unpack --size $((SZ - 1)) -o o2 r/${G0}_${T1}_ch110.dat.tar.zst 2>e; rc=$?
check "pull-unpack checks member sizes" test "$rc" = 1 -a -n "$(grep "has $SZ bytes, expected $((SZ - 1))" e)"
check "... leaving nothing" empty o2
