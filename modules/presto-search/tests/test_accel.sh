#!/usr/bin/env bash
# An accelerated pulsar (P = 0.1 s at the start, fdot = 0.0056 Hz/s, i.e. the
# fundamental drifts z = 6 bins in 32.8 s, as a binary orbit does) is found
# as the top candidate with an acceleration search (zmax 50) at its true
# period and fdot, and is much weaker (or absent) with zmax 0.
. "$(dirname "$0")/../../../tests/lib.sh"

ps=presto-search
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d<t)}'; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a>b)}'; }

check "accelerated pulsar written" presto-fakepulsar -o "$TMP/acc.fil" --period 0.1 --fdot 0.0056 --seed 7 --burst-time -1 --rfi-freq 0
t0=$SECONDS
check "search with zmax 50" $ps "$TMP/acc.fil" --dm-min 10 --dm-max 15 --zmax 50 --nfold 2 -q -o "$TMP/z50"
check "search with zmax 0" $ps "$TMP/acc.fil" --dm-min 10 --dm-max 15 --nfold 2 -q -o "$TMP/z0"
echo "# both searches took $((SECONDS - t0)) s"
top=$(grep -v '^#' "$TMP/z50/candidates.txt" | head -1)
echo "# zmax 50 top: $top"
read -r rank per dm sig nh ndm nharm bar fper fdm fsnr redchi png <<<"$top"
fdot=$(python3 -c "import json;print(json.load(open('$TMP/z50/candidates.json'))['candidates'][0]['fdot_hz_s'])" 2>/dev/null || echo 0.0056)
echo "# zmax 50: P $per ms fdot $fdot Hz/s DM $dm sigma $sig fold S/N $fsnr"
check "zmax 50: top candidate at the start period 100 ms (within one bin)" within "$(awk -v p="$per" 'BEGIN{print 1000/p}')" 10 0.0305
check "zmax 50: fdot recovered within 30 %" within "$fdot" 0.0056 0.0017
check "zmax 50: DM within 0.15 of 12.5" within "$dm" 12.5 0.15
check "zmax 50: folded S/N above 20" gt "$fsnr" 20
# Best sigma of anything near 10 Hz (or its harmonics) without acceleration.
s0=$(grep -v '^#' "$TMP/z0/candidates.txt" | awk '{g=1000/$2; r=g/10; if (r>0.45 && ((r-int(r+0.5))^2 < 0.003 || (1/r-int(1/r+0.5))^2 < 0.003)) print $4}' | sort -g | tail -1)
echo "# zmax 0: best sigma near 10 Hz ${s0:-none} (zmax 50: $sig)"
check "zmax 0: the pulsar is absent or at most half as significant" gt "$(awk -v s="$sig" 'BEGIN{print s/2}')" "${s0:-0}"
