#!/usr/bin/env bash
# Science tests of mwa-sim + beam-maker (MWA.md "Beamformer gain"): coherent
# vs incoherent S/N on a simulated pulsar, a 0.5 deg offset pointing, the
# full-size VCS byte order end to end, output layout, fitsverify, and the
# error messages for missing/short files, bad pointings and a mismatched
# metafits.
. "$(dirname "$0")/../../../tests/lib.sh"

OBS=1257010784
sim() { mwa-sim "$@" >"$TMP/sim.log" 2>&1; }
beam() { beam-maker -o $OBS -z 109 "$@"; }

# --- beamformer gain: 32 tiles x 2 pols, 16 fine channels, 10 kHz, 4 s ---
G=$TMP/gain
check "mwa-sim writes the gain observation" \
  sim -o $G --tiles 32 --fine 16 --samples 10000 --seconds 4 --flagged 0 \
      --period 0.05 --duty 0.1 --dm 50 --strength 0.02 --sigma 2 \
      --ra 04:27:30.00 --dec -26:15:00.0 --seed 7
check "each .dat is 32x16x10000x2 bytes" \
  test "$(stat -c %s $G/${OBS}_${OBS}_ch109.dat)" -eq $((32 * 16 * 10000 * 2))
ON="04:27:30.00_-26:15:00.0"; OFF="04:27:30.00_-25:45:00.0"   # 0.5 deg north
check "beam-maker forms on, off and incoherent beams" \
  beam -b $OBS -e $((OBS + 3)) -P "$ON,$OFF" -d $G -m $G/$OBS.metafits \
       -C $G/${OBS}_solutions.bin -O $G/out -i -t 2
tail=ch109_${OBS}_$((OBS + 3)).fits
f_on=$G/out/${OBS}_${ON}_$tail; f_off=$G/out/${OBS}_${OFF}_$tail
f_inc=$G/out/${OBS}_incoherent_$tail
snr() { beam-fold-snr "$1" 0.05 50 0.1 0; }
s_on=$(snr "$f_on"); s_off=$(snr "$f_off"); s_inc=$(snr "$f_inc")
echo "# S/N coherent $s_on, incoherent $s_inc, 0.5 deg off $s_off"
ratio=$(awk -v a="$s_on" -v b="$s_inc" 'BEGIN { printf "%.3f", a / b }')
echo "# coherent/incoherent = $ratio (sqrt(32) = 5.657)"
check "coherent/incoherent S/N within 25% of sqrt(32) ($ratio)" \
  awk -v r="$ratio" 'BEGIN { e = sqrt(32); exit !(r > 0.75 * e && r < 1.25 * e) }'
check "incoherent beam detects the pulsar (S/N $s_inc > 10)" \
  awk -v s="$s_inc" 'BEGIN { exit !(s > 10) }'
check "0.5 deg off the source the coherent S/N ($s_off) is below the incoherent ($s_inc)" \
  awk -v a="$s_off" -v b="$s_inc" 'BEGIN { exit !(a < b) }'
# Folding without the dispersion delay smears the pulse over half a period:
# the DM sweep across the 16 channels proves the channel order of DATA.
s_nodm=$(beam-fold-snr "$f_on" 0.05 0 0.1 0)
check "dedispersing with the true DM beats DM 0 ($s_on vs $s_nodm): channel order right" \
  awk -v a="$s_on" -v b="$s_nodm" 'BEGIN { exit !(a > 1.5 * b) }'
check "output rows/channels/samples/tbin/frequencies as specified" \
  test "$(beam-fold-snr --info "$f_on")" = "4 16 10000 0.0001 138.8800 139.0300"
hdr() { head -c 40000 "$1" | fold -w 80 | grep -a "^$2 *=" | head -1 | sed 's/^[^=]*= *//; s/ *\/.*//; s/ *$//'; }
check "DATA column is nsblk*nchan bytes, channel fastest (TDIM (16,1,10000))" \
  test "$(head -c 40000 "$f_on" | fold -w 80 | grep -a -c "'(16,1,10000)'")" -eq 1
check "NBITS 8, NPOL 1, NSBLK 10000" \
  test "$(hdr "$f_on" NBITS) $(hdr "$f_on" NPOL) $(hdr "$f_on" NSBLK)" = "8 1 10000"
n1=$(hdr "$f_on" NAXIS1 | tail -1)
size=$(stat -c %s "$f_on")
check "file size is whole FITS blocks and holds 4 rows of $n1 bytes" \
  awk -v s="$size" -v n="$n1" 'BEGIN { exit !(s % 2880 == 0 && s >= 4 * n && n >= 160000) }'
for f in "$f_on" "$f_off" "$f_inc"; do
  check "fitsverify: 0 errors in $(basename "$f")" \
    bash -c "fitsverify -q '$f' | grep -q 'verification OK'"
done
check "no temporary files left" test -z "$(ls $G/out | grep tmp)"

# --- full-size VCS byte order end to end: 128 tiles x 128 fine channels ---
F=$TMP/full
check "mwa-sim writes a full-order observation (128 x 128, 200 samples/s)" \
  sim -o $F --tiles 128 --fine 128 --samples 200 --seconds 3 --period 0.2 --duty 0.1 \
      --dm 0 --strength 0.05 --decoys 3 --decoy-radius 0.5 --seed 3
check "metafits says VCSORDER FULL" \
  test "$(head -c 20000 $F/$OBS.metafits | fold -w 80 | grep -a -c "^VCSORDER= 'FULL")" -eq 1
check "full-order .dat is 200x128x128x2 bytes" \
  test "$(stat -c %s $F/${OBS}_${OBS}_ch109.dat)" -eq $((200 * 128 * 128 * 2))
check "beam-maker on the full-order observation" \
  beam -b $OBS -e $((OBS + 2)) -P $F/pointings.txt -d $F -m $F/$OBS.metafits \
       -C $F/${OBS}_solutions.bin -O $F/out
truth=$(sed -n 's/^true_pointing_line=//p' $F/truth.txt)
best=0; best_line=0; line=0
while read -r ra dec; do
  line=$((line + 1))
  s=$(beam-fold-snr "$F/out/${OBS}_${ra}_${dec}_ch109_${OBS}_$((OBS + 2)).fits" 0.2 0 0.1 0)
  echo "# pointing $line ($ra $dec): S/N $s"
  if awk -v a="$s" -v b="$best" 'BEGIN { exit !(a > b) }'; then best=$s; best_line=$line; fi
done <$F/pointings.txt
check "the true pointing (line $truth) has the highest S/N (line $best_line, $best)" \
  test "$best_line" = "$truth"
check "the true pointing is detected (S/N $best > 8)" awk -v s="$best" 'BEGIN { exit !(s > 8) }'

# --- determinism ---
check "mwa-sim is deterministic for a seed" bash -c "
  mwa-sim -o $TMP/d1 -t 8 -f 16 -s 1000 --seed 5 && mwa-sim -o $TMP/d2 -t 8 -f 16 -s 1000 --seed 5 -j 1 &&
  cmp -s $TMP/d1/${OBS}_${OBS}_ch109.dat $TMP/d2/${OBS}_${OBS}_ch109.dat &&
  cmp -s $TMP/d1/${OBS}_solutions.bin $TMP/d2/${OBS}_solutions.bin"

# --- errors ---
E=$TMP/err
sim -o $E -t 8 -f 16 -s 1000 -n 2 --seed 9
args=(-d $E -m $E/$OBS.metafits -C $E/${OBS}_solutions.bin -O $E/out)
expect_fail() { # DESCRIPTION PATTERN beam-maker-args...
  local d="$1" pat="$2"; shift 2
  if beam "$@" >"$TMP/out.txt" 2>&1; then not_ok "$d (exit 0)"; return; fi
  if grep -q -- "$pat" "$TMP/out.txt"; then ok "$d: $(head -c 160 "$TMP/out.txt")"
  else not_ok "$d: got '$(cat "$TMP/out.txt")'"; fi
}
expect_fail "a missing .dat is reported" "missing voltage file .*${OBS}_$((OBS + 2))_ch109.dat" \
  -b $OBS -e $((OBS + 2)) -P $E/pointings.txt "${args[@]}"
truncate -s 1000 $E/${OBS}_$((OBS + 1))_ch109.dat
expect_fail "a short .dat is reported with both sizes" "has 1000 bytes but the metafits" \
  -b $OBS -e $((OBS + 1)) -P $E/pointings.txt "${args[@]}"
echo "12:34:56.7 not-a-dec" >$TMP/bad_pointings.txt
expect_fail "an unparsable pointings file names the line" "line 1: cannot parse" \
  -b $OBS -e $OBS -P $TMP/bad_pointings.txt "${args[@]}"
expect_fail "an unparsable pointing list is reported" "cannot parse pointing" \
  -b $OBS -e $OBS -P "25:00:00_+00:00:00" "${args[@]}"
sim -o $TMP/m16 -t 16 -f 16 -s 1000 --no-data
expect_fail "a metafits with the wrong tile count is reported" "does not match the data" \
  -b $OBS -e $OBS -P $E/pointings.txt -d $E -m $TMP/m16/$OBS.metafits \
  -C $E/${OBS}_solutions.bin -O $E/out
check "failed runs leave no output files" test -z "$(ls $E/out 2>/dev/null)"
check "beam-maker --help documents the options" bash -c "beam-maker --help | grep -q -- --incoherent"
check "mwa-sim --help documents the options" bash -c "mwa-sim --help | grep -q -- --strength"
