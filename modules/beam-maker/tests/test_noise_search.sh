#!/usr/bin/env bash
# Noise-only and pulsar observations through the beam-forming and search
# chain (mwa-sim -> beam-maker -> down-sampler -> fits-merger ->
# presto-search), at the shape of tests/e2e/test_mwa_e2e.sh: 16 tiles, 3
# coarse channels of 128 fine channels, 1000 samples/s, 16 s in two 8 s
# time ranges, down-sampled x4. With --strength 0 no candidate may fold
# above S/N 8 or pass the search at 7 sigma (this observation, seed 14, used
# to give P = 500.000 ms, DM 48, S/N 22 in its 4th pointing: the fold's
# bins were normalised by unshifted sample counts). With the pulsar
# injected, the same pointing's top candidate is the pulsar.
. "$(dirname "$0")/../../../tests/lib.sh"

OBS=1257010784 NSEC=16 STEP=8 PERIOD=0.1337 DM=30

# chain STRENGTH DIR: simulate, beam-form every pointing, down-sample, merge
# per time range and search each pointing (DIR/out/pN/candidates.txt).
chain() {
  local s=$1 d=$2 t0 t1 ch n ra dec
  mwa-sim -o "$d/sim" --obsid $OBS -n $NSEC -c 109-111 -t 16 -f 128 -s 1000 --period $PERIOD \
    --dm $DM --duty 0.06 --strength "$s" --decoys 3 --seed 14 -j 2 >"$d/sim.log" 2>&1 || return 1
  grep -v '^#' "$d/sim/pointings.txt" | grep . >"$d/pointings.txt"
  for ((t0 = OBS; t0 < OBS + NSEC; t0 += STEP)); do
    t1=$((t0 + STEP - 1))
    for ch in 109 110 111; do
      beam-maker -o $OBS -b $t0 -e $t1 -z $ch -P "$d/pointings.txt" -d "$d/sim" \
        -m "$d/sim/$OBS.metafits" -C "$d/sim/${OBS}_solutions.bin" -O "$d/beams" -t 2 \
        >>"$d/beam.log" 2>&1 || return 1
    done
    n=0
    while read -r ra dec; do
      n=$((n + 1))
      mkdir -p "$d/ds/p$n"
      for ch in 109 110 111; do
        down-sampler -f 4 -o "$d/ds/p$n/ch${ch}_$t0.fits" \
          "$d/beams/${OBS}_${ra}_${dec}_ch${ch}_${t0}_${t1}.fits" >/dev/null || return 1
      done
      fits-merger -q -o "$d/ds/p$n/m_$t0.fits" "$d/ds/p$n"/ch1{09,10,11}_$t0.fits || return 1
    done <"$d/pointings.txt"
  done
  mkdir -p "$d/out"
  for ((n = 1; n <= $(wc -l <"$d/pointings.txt"); n++)); do
    presto-search "$d/ds/p$n"/m_*.fits -q -o "$d/out/p$n" --threads 2 --dm-max 50 \
      2>>"$d/search.log" || return 1
  done
}

# Largest folded S/N and largest search sigma over every candidate of DIR.
max_col() { awk -v c="$2" '!/^#/ && $c != "-" && $c + 0 > m { m = $c + 0 } END { printf "%.2f", m }' "$1"/out/p*/candidates.txt; }

N=$TMP/noise
mkdir -p "$N"
check "noise-only observation (strength 0) through beam-maker, down-sampler, fits-merger, presto-search" \
  chain 0 "$N"
snr=$(max_col "$N" 11) sig=$(max_col "$N" 4)
echo "# noise only: largest folded S/N $snr, largest search sigma $sig (4 pointings)"
grep -hv '^#' "$N"/out/p*/candidates.txt | sort -k11 -gr | head -n 3 | sed 's/^/#   /'
check "noise only: no candidate folds above S/N 8 (largest $snr)" awk -v s="$snr" 'BEGIN { exit !(s < 8) }'
check "noise only: no candidate above 7 sigma in the search (largest $sig)" awk -v s="$sig" 'BEGIN { exit !(s < 7) }'
check "noise only: nothing at 500 ms folds above S/N 8" \
  awk '!/^#/ && $9 > 499 && $9 < 501 && $11 >= 8 { bad = 1 } END { exit bad }' "$N"/out/p*/candidates.txt

S=$TMP/psr
mkdir -p "$S"
check "the same observation with the pulsar (strength 0.004)" chain 0.004 "$S"
line=$(sed -n 's/^true_pointing_line=//p' "$S/sim/truth.txt")
read -r _ _ _ _ _ _ _ _ fper fdm fsnr _ < <(grep -v '^#' "$S/out/p$line/candidates.txt" | head -n 1)
echo "# pulsar pointing p$line: top candidate P $fper ms DM $fdm S/N $fsnr (injected P $PERIOD s DM $DM)"
check "pulsar: top candidate of its pointing within 0.5 % of P ($fper ms) and 2 of DM ($fdm)" \
  awk -v p="$fper" -v d="$fdm" -v P="$PERIOD" -v D="$DM" \
  'BEGIN { r = p / (P * 1000) - 1; exit !(r < 0.005 && r > -0.005 && d - D < 2 && D - d < 2) }'
check "pulsar: folded S/N $fsnr > 20" awk -v s="$fsnr" 'BEGIN { exit !(s > 20) }'
best=$(max_col "$S" 11)
check "pulsar: the strongest fold of all pointings is the pulsar's ($best)" \
  awk -v a="$best" -v b="$fsnr" 'BEGIN { exit !(a == b + 0) }'
