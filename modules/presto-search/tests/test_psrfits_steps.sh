#!/usr/bin/env bash
# The same observation as PSRFITS (written by modules/lib/psrfits.c, bandpass
# gains so DAT_SCL/DAT_OFFS matter) in three consecutive segments given out of
# order, run step by step: rfifind, ddplan, dedisperse, accelsearch, sift,
# fold. Also the errors for unreadable and inconsistent inputs, and for
# truncated or inconsistent PSRFITS (file shorter than its table, NAXIS2,
# NSBLK, NCHAN, NBITS, missing or mis-sized columns, NaN scales): exit 1, the
# file named, no output.
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

# --- Truncated or inconsistent PSRFITS: refused (exit 1) with a message
# naming the file and what is wrong, and no output (not even the --out
# directory). Variants of a small file (64 channels, 8 rows of 512 samples)
# made with fits_edit.py; cfitsio's own complaints come with the file name.
HERE=$(cd "$(dirname "$0")" && pwd)
edit() { python3 "$HERE/fits_edit.py" "$TMP/small.fits" "$@"; }
refused() { # DESCRIPTION ERE FILE...: the search of the files fails as described, naming the last
  local d="$1" re="$2" out="$TMP/bad_out" rc; shift 2
  local last="${!#}"
  rm -rf "$out"
  $ps "$@" -q --dm-max 5 -o "$out" 2>"$TMP/bad_err"; rc=$?
  if [ $rc -eq 1 ] && grep -qF "$last:" "$TMP/bad_err" && grep -qE "$re" "$TMP/bad_err" && [ ! -e "$out" ]; then
    ok "$d"
  else
    not_ok "$d"
    echo "# rc $rc, output $( [ -e "$out" ] && echo left behind || echo none), stderr: $(head -c 300 "$TMP/bad_err")"
  fi
}
presto-fakepulsar -o "$TMP/small.fits" --nchan 64 --nsamp 4096 --nsblk 512 2>/dev/null
size=$(stat -c %s "$TMP/small.fits")
check "the small PSRFITS file itself is searched" $ps "$TMP/small.fits" -q --dm-max 5 --nfold 1 -o "$TMP/small_out"
head -c $((size - 100)) "$TMP/small.fits" >"$TMP/cut_block.fits"
refused "PSRFITS cut mid-block refused" "not a whole number of 2880-byte FITS blocks" "$TMP/cut_block.fits"
head -c $((size - 3 * 2880)) "$TMP/small.fits" >"$TMP/cut_rows.fits"
refused "PSRFITS shorter than its table refused" "truncated: the SUBINT table needs [0-9]+ bytes \(8 rows\) but the file has $((size - 3 * 2880))" "$TMP/cut_rows.fits"
head -c 5760 "$TMP/small.fits" >"$TMP/cut_hdu.fits"
refused "PSRFITS without its SUBINT table refused" "no SUBINT table" "$TMP/cut_hdu.fits"
edit "$TMP/naxis2.fits" set NAXIS2 7
refused "NAXIS2 fewer than the rows in the file refused" "bytes follow the SUBINT table's 7 rows and are not a FITS HDU" "$TMP/naxis2.fits"
edit "$TMP/nsblk.fits" set NSBLK 256
refused "NSBLK disagreeing with the DATA column refused" "column DATA has 32768 elements per row, expected 16384" "$TMP/nsblk.fits"
edit "$TMP/nchan.fits" set NCHAN 32
refused "NCHAN disagreeing with the columns refused" "column DAT_FREQ has 64 elements per row, expected 32" "$TMP/nchan.fits"
edit "$TMP/nbits.fits" set NBITS 4
refused "NBITS 4 refused" "NBITS=4" "$TMP/nbits.fits"
edit "$TMP/noscl.fits" set TTYPE16 DAT_SCX
refused "missing DAT_SCL column refused" "no DAT_SCL column" "$TMP/noscl.fits"
edit "$TMP/sclsize.fits" set TFORM16 32E set NAXIS1 33740
refused "DAT_SCL of the wrong size refused" "column DAT_SCL has 32 elements per row, expected 64" "$TMP/sclsize.fits"
edit "$TMP/offssize.fits" set TFORM15 65E set NAXIS1 33872
refused "DAT_OFFS of the wrong size refused" "column DAT_OFFS has 65 elements per row, expected 64" "$TMP/offssize.fits"
edit "$TMP/naxis1.fits" set TFORM16 32E
refused "row size (NAXIS1) disagreeing with the columns: cfitsio's error with the file name" "NAXIS1 = 33868 is not equal to the sum of column widths" "$TMP/naxis1.fits"
edit "$TMP/tbin.fits" set TBIN 0
refused "TBIN 0 refused" "TBIN 0 s is not a sample time" "$TMP/tbin.fits"
edit "$TMP/sclnan.fits" nan DAT_SCL 3 5
refused "NaN DAT_SCL refused (row and channel named)" "row 3 channel 5: DAT_SCL is nan" "$TMP/sclnan.fits"
edit "$TMP/offsnan.fits" nan DAT_OFFS 6 0
refused "NaN DAT_OFFS refused" "row 6 channel 0: DAT_OFFS is nan" "$TMP/offsnan.fits"
edit "$TMP/freqnan.fits" nan DAT_FREQ 2 63
refused "NaN DAT_FREQ refused" "row 2 channel 63: DAT_FREQ is nan" "$TMP/freqnan.fits"
python3 "$HERE/fits_edit.py" "$TMP/obs_0002.fits" "$TMP/obs_bad_0002.fits" nan DAT_SCL 1 7
refused "a bad segment among good ones is named" "obs_bad_0002.fits: row 1 channel 7: DAT_SCL is nan" \
  "$TMP/obs_0001.fits" "$TMP/obs_0003.fits" "$TMP/obs_bad_0002.fits"
