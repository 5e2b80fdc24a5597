#!/usr/bin/env bash
# The same observation as PSRFITS (written by modules/lib/psrfits.c, bandpass
# gains so DAT_SCL/DAT_OFFS matter) in three consecutive segments given out of
# order, run step by step: rfifind, ddplan, dedisperse, accelsearch, sift,
# fold. Also the errors for unreadable and inconsistent inputs.
. "$(dirname "$0")/../../../tests/lib.sh"

ps=presto-search
T=32.768
F=$(awk 'BEGIN{printf "%.9f", 1/0.2137}')
bin=$(awk -v t=$T 'BEGIN{print 1/t}')
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d<t)}'; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a>b)}'; }

check "fake PSRFITS segments written" presto-fakepulsar -o "$TMP/obs.fits" --segments 3
segs=("$TMP/obs_0003.fits" "$TMP/obs_0001.fits" "$TMP/obs_0002.fits")
check "rfifind writes a mask" $ps rfifind -q "${segs[@]}" -o "$TMP/rfi.mask"
check "ddplan from the data file" $ps ddplan "${segs[0]}" --dm-min 8 --dm-max 17 -o "$TMP/plan.txt"
check "ddplan from parameters" bash -c "$ps ddplan --tsamp 0.0004 --fctr 154.24 --bw 30.72 --nchan 3072 --dm-max 501 | grep -q 'DM plan v1'"
check "dedisperse writes .dat/.inf series" $ps dedisperse -q "${segs[@]}" --mask "$TMP/rfi.mask" --plan "$TMP/plan.txt" -o "$TMP/dd"
ndat=$(ls "$TMP/dd"/*.dat 2>/dev/null | wc -l)
ntrial=$(head -1 "$TMP/plan.txt" | awk '{print $6}')
check "one series per DM trial ($ndat of $ntrial)" test "$ndat" -eq "$ntrial"
check "accelsearch searches the series" $ps accelsearch -q "$TMP"/dd/*.dat -o "$TMP/raw.txt"
check "sift merges the candidates" $ps sift -q "$TMP/raw.txt" -o "$TMP/sifted.txt"
check "fold folds the best candidates" $ps fold -q --cands "$TMP/sifted.txt" --mask "$TMP/rfi.mask" --nfold 3 "${segs[@]}" -o "$TMP/fold"
top=$(grep -v '^#' "$TMP/fold/candidates.txt" | head -1)
echo "# top: $top"
read -r rank per dm sig nh ndm nharm bar fper fdm fsnr redchi png <<<"$top"
f_fold=$(awk -v p="$fper" 'BEGIN{printf "%.9f", 1000/p}')
echo "# PSRFITS: fold f $f_fold Hz (true $F), DM $fdm, S/N $fsnr"
check "PSRFITS: top candidate within one Fourier bin" within "$f_fold" "$F" "$bin"
check "PSRFITS: top candidate DM within 0.15" within "$fdm" 12.5 0.15
check "PSRFITS: folded S/N above 20" gt "$fsnr" 20

# Errors: a gap between segments, a missing file, a file of neither format,
# a bad option. Each must fail with a message that names the problem.
$ps rfifind -q "$TMP/obs_0001.fits" "$TMP/obs_0003.fits" -o "$TMP/x.mask" 2>"$TMP/err"; rc=$?
check "segments with a gap are refused (exit 1, 'consecutive')" bash -c "[ $rc -eq 1 ] && grep -q consecutive '$TMP/err'"
$ps "$TMP/nonexistent.fil" -o "$TMP/x" 2>"$TMP/err"; rc=$?
check "missing input: exit 1 and 'cannot open'" bash -c "[ $rc -eq 1 ] && grep -q 'cannot open' '$TMP/err'"
head -c 5000 /dev/urandom >"$TMP/junk.dat"
$ps rfifind "$TMP/junk.dat" 2>"$TMP/err"; rc=$?
check "junk input: exit 1, named as neither format" bash -c "[ $rc -eq 1 ] && grep -q 'neither PSRFITS nor SIGPROC' '$TMP/err'"
$ps sift --zmax 4 "$TMP/raw.txt" 2>"$TMP/err"; rc=$?
check "option of another step: exit 2" bash -c "[ $rc -eq 2 ] && grep -q 'does not apply' '$TMP/err'"
$ps --zmax 3 "${segs[@]}" 2>"$TMP/err"; rc=$?
check "odd zmax: exit 2" test $rc -eq 2
$ps fold -q --cands "$TMP/sifted.txt" --mask "$TMP/plan.txt" "${segs[@]}" -o "$TMP/f2" 2>"$TMP/err"; rc=$?
check "a mask file that is not a mask is refused" bash -c "[ $rc -eq 1 ] && grep -q 'not a presto-search RFI mask' '$TMP/err'"
check "--help prints usage" bash -c "$ps --help | grep -q accelsearch"
