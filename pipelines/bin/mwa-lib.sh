# mwa-lib.sh - helpers shared by the MWA stage wrappers in this directory
# (sourced, never run). A wrapper turns a sluice task key such as
# 1257010784/p00001_00024/t1257010986_1257011185/ch109 into one module
# command line, reads its inputs from this host's cache tiers, writes outputs
# under a temporary name and renames them, and emits the keys the next stage
# needs. See docs/mwa-pipelines.md for the keys, variables and directories.
# shellcheck disable=SC2034  # the parse_* functions set variables for the wrappers
set -euo pipefail

ME=${SLUICE_STAGE:-$(basename "$0")}
log() { echo "$ME: $*" >&2; }
die() {
  echo "$ME: FAILED: $*" >&2
  exit 1
}

# Locations are "mem:REL" ($SLUICE_MEM/REL, this host's memory tier),
# "ssd:REL" ($SLUICE_SSD/REL, this host's SSD tier) or an absolute path.
tier_path() {
  case "$1" in
  mem:*)
    [ -n "${SLUICE_MEM:-}" ] || die "location '$1' needs SLUICE_MEM (set by the sluice agent)"
    echo "$SLUICE_MEM/${1#mem:}"
    ;;
  ssd:*)
    [ -n "${SLUICE_SSD:-}" ] || die "location '$1' needs SLUICE_SSD (set by the sluice agent)"
    echo "$SLUICE_SSD/${1#ssd:}"
    ;;
  /*) echo "$1" ;;
  *) die "bad location '$1' (use mem:DIR, ssd:DIR or an absolute path)" ;;
  esac
}

# The directories of the data flow and their defaults (production
# placement); `loc NAME` resolves one (the variable NAME overrides).
declare -A LOC_DEFAULT=(
  [DOWN_DIR]=ssd:mwa/down       # per-second product tars
  [RAW_DIR]=ssd:mwa/raw         # unpacked channel-seconds
  [REPACK_DIR]=ssd:mwa/repack   # repacked per-channel archives
  [VCS_DIR]=mem:mwa/vcs         # pulled channel-seconds
  [BEAM_DIR]=mem:mwa/beams      # beam-maker output
  [DS_DIR]=mem:mwa/ds           # down-sampled beams
  [MERGED_DIR]=ssd:mwa/merged   # merged per pointing
  [RESULTS_DIR]=ssd:mwa/results # search results per pointing
)
loc() {
  local v=${!1:-}
  tier_path "${v:-${LOC_DEFAULT[$1]}}"
}
VCS_BYTES=${VCS_BYTES:-327680000} # bytes of one channel-second file

# Appends a downstream message (a line of $SLUICE_WORK/emit); by hand it is
# printed instead.
emit() {
  if [ -n "${SLUICE_WORK:-}" ]; then
    echo "$*" >>"$SLUICE_WORK/emit"
  else
    echo "emit: $*"
  fi
}

# Runs a module without its own emitting (mwa-down, unpack, repack and
# pull-unpack append to $SLUICE_WORK/emit when it is set): the wrapper emits
# the keys of the pipeline, not file names.
run_module() {
  log "$*"
  env -u SLUICE_WORK "$@"
}

# Integer from a zero-padded decimal ("00024" -> 24).
dec() { echo $((10#$1)); }

# Key segments. Each sets shell variables and checks the form.
parse_obsid() {
  [[ $1 =~ ^[0-9]{6,12}$ ]] || die "bad observation id '$1' in key '$KEY'"
  OBSID=$1
}
parse_trange() { # tA_B -> T0 T1 NSEC
  [[ $1 =~ ^t([0-9]+)_([0-9]+)$ ]] || die "bad time range '$1' in key '$KEY' (want tGPS0_GPS1)"
  T0=${BASH_REMATCH[1]} T1=${BASH_REMATCH[2]}
  [ "$T1" -ge "$T0" ] || die "time range '$1' ends before it starts"
  NSEC=$((T1 - T0 + 1))
}
parse_pgroup() { # pA_B -> P0 P1 (integers)
  [[ $1 =~ ^p([0-9]+)_([0-9]+)$ ]] || die "bad pointing group '$1' in key '$KEY' (want pNNNNN_NNNNN)"
  P0=$(dec "${BASH_REMATCH[1]}") P1=$(dec "${BASH_REMATCH[2]}")
  [ "$P0" -ge 1 ] && [ "$P1" -ge "$P0" ] || die "bad pointing group '$1'"
}
parse_pointing() { # pNNNNN -> P
  [[ $1 =~ ^p([0-9]+)$ ]] || die "bad pointing '$1' in key '$KEY' (want pNNNNN)"
  P=$(dec "${BASH_REMATCH[1]}")
}
parse_ch() { # chNNN -> CH
  [[ $1 =~ ^ch([0-9]{1,3})$ ]] || die "bad channel '$1' in key '$KEY' (want chNNN)"
  CH=$(printf '%03d' "$(dec "${BASH_REMATCH[1]}")")
}
pname() { printf 'p%05d' "$1"; } # pointing number -> p00042

# Splits the task key (argument 1, else $SLUICE_KEY) into SEG[0..].
split_key() {
  KEY=${1:-${SLUICE_KEY:-}}
  [ -n "$KEY" ] || die "no task key (usage: $(basename "$0") KEY [HEADERS_JSON])"
  HEADERS=${2:-${SLUICE_HEADERS:-"{}"}}
  IFS=/ read -ra SEG <<<"$KEY"
}
want_segments() {
  [ "${#SEG[@]}" -eq "$1" ] || die "key '$KEY' has ${#SEG[@]} segments, expected $1 ($2)"
}

# The variables that must agree with each other (YAML cannot do arithmetic).
check_vars() {
  if [ -n "${NCHAN:-}" ] && [ -n "${CH_FIRST:-}" ] && [ -n "${CH_LAST:-}" ] &&
    [ "$NCHAN" -ne $((CH_LAST - CH_FIRST + 1)) ]; then
    die "NCHAN=$NCHAN but CH_FIRST..CH_LAST = $CH_FIRST..$CH_LAST is $((CH_LAST - CH_FIRST + 1)) channels"
  fi
  if [ -n "${N_TRANGES:-}" ] && [ -n "${T_FIRST:-}" ] && [ -n "${T_LAST:-}" ] && [ -n "${T_STEP:-}" ] &&
    [ "$N_TRANGES" -ne $(((T_LAST - T_FIRST + T_STEP) / T_STEP)) ]; then
    die "N_TRANGES=$N_TRANGES but T_FIRST..T_LAST step T_STEP ($T_FIRST..$T_LAST step $T_STEP) makes $(((T_LAST - T_FIRST + T_STEP) / T_STEP)) time ranges"
  fi
  return 0
}

# A JSON array of strings from the task headers ("members", "member_hosts"),
# one value per line. Keys and host names hold no quotes, commas are fine.
header_list() {
  local v
  v=$(printf '%s' "$HEADERS" | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\[\([^]]*\)\].*/\1/p")
  [ -n "$v" ] || return 0
  printf '%s' "$v" | grep -o '"[^"]*"' | tr -d '"'
}

# The pointing lines (RA DEC) of the pointings file, numbered from 1 over
# the lines that are not blank or comments.
pointing_lines() { # FILE FIRST LAST
  awk -v a="$2" -v b="$3" '/^[[:space:]]*(#|$)/ {next} {n++} n >= a && n <= b {print $1, $2}' "$1"
}
