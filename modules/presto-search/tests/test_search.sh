#!/usr/bin/env bash
# presto-search on the MWA.md search test observation (SIGPROC .fil): 384
# channels 138.88-169.60 MHz, 1 ms, 2^15 samples, noise sigma 20, pulsar
# P = 0.2137 s DM 12.5 8 ms wide (folded S/N ~35), a broadband burst at 10 s
# and a 31.7 Hz interferer in channels 200-205. The pulsar must be the top
# candidate (f within one Fourier bin, DM within 0.15, folded S/N > 20), its
# 2nd harmonic no separate candidate, and neither RFI source on top; without
# the RFI step the interferer must outrank the pulsar in sigma (so the mask is
# what removes it). Then bad SIGPROC input (cut mid-spectrum, inconsistent or
# truncated headers, nsamples disagreeing with the data): each refused with
# exit 1, a message naming the file and the problem, and no output; a file
# cut at a spectrum boundary is searched (fewer samples).
. "$(dirname "$0")/../../../tests/lib.sh"

fake=presto-fakepulsar
ps=presto-search
T=32.768
F=$(awk 'BEGIN{printf "%.9f", 1/0.2137}')

check "fake observation written" $fake -o "$TMP/obs.fil"
t0=$SECONDS
if $ps "$TMP/obs.fil" --dm-max 30 -o "$TMP/out" 2>"$TMP/log"; then ok "presto-search runs the whole chain"; else not_ok "presto-search runs the whole chain"; cat "$TMP/log"; fi
echo "# chain took $((SECONDS - t0)) s"
grep -E '^(read|rfi|ddplan|search|sift|fold):' "$TMP/log" | sed 's/^/# /'
tab="$TMP/out/candidates.txt"
top=$(grep -v '^#' "$tab" | head -1)
echo "# top: $top"
read -r rank per dm sig nh ndm nharm bar fper fdm fsnr redchi png <<<"$top"

within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d<t)}'; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a>b)}'; }

f_search=$(awk -v p="$per" 'BEGIN{printf "%.9f", 1000/p}')
f_fold=$(awk -v p="$fper" 'BEGIN{printf "%.9f", 1000/p}')
bin=$(awk -v t=$T 'BEGIN{print 1/t}')
echo "# true f $F Hz, search f $f_search Hz, fold f $f_fold Hz (1 bin = $bin Hz); DM $dm / fold $fdm; fold S/N $fsnr"
check "top candidate: search frequency within one Fourier bin" within "$f_search" "$F" "$bin"
check "top candidate: folded frequency within one Fourier bin" within "$f_fold" "$F" "$bin"
check "top candidate: search DM within 0.15 of 12.5" within "$dm" 12.5 0.15
check "top candidate: folded DM within 0.15 of 12.5" within "$fdm" 12.5 0.15
check "top candidate: folded S/N above 20" gt "$fsnr" 20

# No other candidate at 2f or f/2 (harmonics are merged into the pulsar).
harm=$(grep -v '^#' "$tab" | tail -n +2 | awk -v f="$F" -v b="$bin" '{g=1000/$2; if ((g-2*f)^2 < (1.5*b)^2 || (g-f/2)^2 < (1.5*b)^2) print}')
check "2nd harmonic (and f/2) not a separate candidate" test -z "$harm"
[ -z "$harm" ] || echo "# harmonic candidates: $harm"
check "top candidate is neither the 31.7 Hz interferer nor its harmonics" awk -v f="$f_search" 'BEGIN{r=31.7/f; exit !((r-int(r+0.5))^2 > 0.01 || r < 0.5)}'
check "harmonics were merged into the top candidate" gt "$nharm" 0

# Products.
check "rfi.mask written" test -s "$TMP/out/rfi.mask"
masked=$(awk '/^cells/{c=1;next} c{n++; if (substr($0,201,6)=="111111") m++} END{print (n>0 && m==n)}' "$TMP/out/rfi.mask")
check "mask covers the interferer's channels 200-205 in every interval" test "$masked" = 1
check "burst clipped" grep -qE 'rfi: .* [1-9][0-9]* samples clipped' "$TMP/log"
check "PNG plot written with a PNG signature" bash -c "head -c 8 '$TMP/out/$png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
if command -v python3 >/dev/null; then
  check "candidates.json is valid JSON with the pulsar first" python3 -c "
import json,sys; d=json.load(open('$TMP/out/candidates.json')); c=d['candidates'][0]
sys.exit(0 if abs(c['fold']['freq_hz']-$F) < $bin and c['fold']['snr'] > 20 else 1)"
else
  skip "python3 not installed: JSON not checked"
fi
for f in ddplan.txt cands_raw.txt sifted.txt; do check "$f written" test -s "$TMP/out/$f"; done

# Without RFI excision the interferer is a stronger periodicity than the pulsar.
$ps "$TMP/obs.fil" --dm-max 30 --no-rfi --nfold 0 -q -o "$TMP/norfi" 2>/dev/null
best_rfi=$(grep -v '^#' "$TMP/norfi/candidates.txt" | awk '{g=1000/$2; r=31.7/g; if ((r-int(r+0.5))^2 < 0.01) print $4}' | sort -g | tail -1)
echo "# without RFI step: interferer sigma ${best_rfi:-none} vs pulsar sigma $sig"
check "without the RFI step the interferer outranks the pulsar in sigma" gt "${best_rfi:-0}" "$sig"

# --- Bad SIGPROC input: refused (exit 1) with a message naming the file and
# what is wrong, and no output at all (the --out directory is not left
# behind). Small files: fakepulsar 64 x 4096 and mkfil.py's 16 x 1024.
HERE=$(cd "$(dirname "$0")" && pwd)
mkfil() { python3 "$HERE/mkfil.py" "$@"; }
# refused DESCRIPTION FILE ERE: the search of FILE fails as described
refused() {
  local d="$1" f="$2" re="$3" out="$TMP/bad_out" rc
  rm -rf "$out"
  $ps "$f" -q --dm-max 5 -o "$out" 2>"$TMP/bad_err"; rc=$?
  if [ $rc -eq 1 ] && grep -qF "$f:" "$TMP/bad_err" && grep -qE "$re" "$TMP/bad_err" && [ ! -e "$out" ]; then
    ok "$d"
  else
    not_ok "$d"
    echo "# rc $rc, output $( [ -e "$out" ] && echo left behind || echo none), stderr: $(head -c 300 "$TMP/bad_err")"
  fi
}
$fake -o "$TMP/small.fil" --nchan 64 --nsamp 4096 2>/dev/null
size=$(stat -c %s "$TMP/small.fil")
cp "$TMP/small.fil" "$TMP/cut_mid.fil"; truncate -s $((size - 100)) "$TMP/cut_mid.fil"
refused "filterbank cut mid-spectrum refused: byte count and spectrum size named" "$TMP/cut_mid.fil" \
  "data is [0-9]+ bytes, not a whole number of 64-byte spectra \(.*truncated mid-spectrum"
cp "$TMP/small.fil" "$TMP/cut_edge.fil"; truncate -s $((size - 64 * 96)) "$TMP/cut_edge.fil"
$ps "$TMP/cut_edge.fil" --dm-max 5 --nfold 1 -o "$TMP/edge_out" 2>"$TMP/err"; rc=$?
check "filterbank cut at a spectrum boundary is searched (rc $rc): just fewer samples" test $rc -eq 0 -a -s "$TMP/edge_out/candidates.txt"
check "... all 4000 of its whole spectra read" grep -q '^read: 64 channels .* 4000 samples' "$TMP/err"
mkfil "$TMP/good.fil"
check "mkfil.py's default file is accepted (the cases below differ from it in one thing)" \
  $ps ddplan "$TMP/good.fil" -o "$TMP/good_plan.txt"
mkfil "$TMP/cut_hdr.fil" bytes=0; truncate -s 150 "$TMP/cut_hdr.fil"
refused "header cut short refused (no HEADER_END)" "$TMP/cut_hdr.fil" "header truncated: the file ends \(150 bytes\) in the value of 'nbits', before HEADER_END"
mkfil "$TMP/no_end.fil" noend=1
refused "header without HEADER_END (data read as header) refused" "$TMP/no_end.fil" "corrupt SIGPROC header.*HEADER_END missing"
mkfil "$TMP/nchans0.fil" nchans=0 bytes=16384
refused "nchans 0 refused" "$TMP/nchans0.fil" "nchans 0 is not a channel count"
mkfil "$TMP/nchans_huge.fil" nchans=100000000 bytes=16384
refused "absurd nchans refused" "$TMP/nchans_huge.fil" "nchans 100000000 is not a channel count"
mkfil "$TMP/nbits0.fil" nbits=0 bytes=16384
refused "nbits 0 refused" "$TMP/nbits0.fil" "nbits 0; supported are 8, 16 and 32"
mkfil "$TMP/nifs0.fil" nifs=0
refused "nifs 0 refused" "$TMP/nifs0.fil" "nifs 0; only one IF"
mkfil "$TMP/tsamp0.fil" tsamp=0
refused "tsamp 0 refused" "$TMP/tsamp0.fil" "tsamp 0 s is not a sample time"
mkfil "$TMP/tsamp_neg.fil" tsamp=-0.001
refused "negative tsamp refused" "$TMP/tsamp_neg.fil" "tsamp -0.001 s is not a sample time"
mkfil "$TMP/no_fch1.fil" fch1=-
refused "missing fch1 refused (not read as 0 MHz)" "$TMP/no_fch1.fil" "header lacks fch1"
mkfil "$TMP/neg_band.fil" fch1=0.5
refused "band reaching below 0 MHz refused" "$TMP/neg_band.fil" "not a band of positive frequencies"
mkfil "$TMP/nsamp_more.fil" nsamples=2000
refused "data shorter than the header's nsamples refused" "$TMP/nsamp_more.fil" "1024 spectra of 16 bytes, but the header says nsamples 2000"
mkfil "$TMP/nsamp_less.fil" nsamples=500
refused "data longer than the header's nsamples refused" "$TMP/nsamp_less.fil" "1024 spectra of 16 bytes, but the header says nsamples 500"
mkfil "$TMP/nan32.fil" nbits=32 nan=1000
refused "NaN in 32-bit data refused" "$TMP/nan32.fil" "sample 62 channel 8 is nan"
