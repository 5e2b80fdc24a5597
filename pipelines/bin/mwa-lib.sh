# mwa-lib.sh - helpers shared by the MWA stage wrappers in this directory
# (sourced, never run). A wrapper turns a sluice task key such as
# 1257010784/p00001_00024/t1257010986_1257011185/ch109 into one module
# command line: it reads its inputs from the objects the agent hands it
# ($SLUICE_IN, $SLUICE_INPUTS: local directories, fetched from other hosts
# before the task starts), writes its products into its own object
# ($SLUICE_OUT), and emits the keys the next stage needs. Inputs are never
# deleted here: the cache drops an object when its last consumer succeeds.
# The observation's metadata (metafits, calibration solutions, pointings)
# travels with the data in each object's meta/ directory.
# The wrappers run in bash on the host and in the container images
# (bash + busybox): use only what busybox's tools offer.
# See docs/mwa-pipelines.md for the keys, objects and variables.
# shellcheck disable=SC2034  # the parse_* functions set variables for the wrappers
set -euo pipefail

ME=${SLUICE_STAGE:-$(basename "$0")}
log() { echo "$ME: $*" >&2; }
die() {
  echo "$ME: FAILED: $*" >&2
  exit 1
}

VCS_BYTES=${VCS_BYTES:-327680000} # bytes of one channel-second file

# The task's output object ($SLUICE_OUT, created by the agent). By hand it
# defaults to ./out.STAGE.
out_dir() {
  OUT=${SLUICE_OUT:-}
  if [ -z "$OUT" ]; then
    OUT="$PWD/out.$ME"
    log "SLUICE_OUT is not set (not run by an agent): writing to $OUT"
  fi
  mkdir -p "$OUT"
}

# The input objects: IN_DIRS (all, in member order for a gather) and IN
# (the first). need_inputs fails when there are none.
read_inputs() {
  read -ra IN_DIRS <<<"${SLUICE_INPUTS:-${SLUICE_IN:-}}"
  IN=${IN_DIRS[0]:-}
}
need_inputs() {
  read_inputs
  [ "${#IN_DIRS[@]}" -gt 0 ] || die "no input object (SLUICE_IN is empty): this stage reads the output of the one before it (by hand: set SLUICE_INPUTS)"
  local d
  for d in "${IN_DIRS[@]}"; do [ -d "$d" ] || die "input object $d is not a directory on ${SLUICE_HOST:-$(hostname)}"; done
}

# The metadata of observation OBSID in object directory DIR/meta/.
META_NAMES="metafits solutions pointings"
meta_file() { # DIR WHAT -> path (metafits, solutions, pointings)
  case "$2" in
  metafits) echo "$1/meta/$OBSID.metafits" ;;
  solutions) echo "$1/meta/${OBSID}_solutions.bin" ;;
  pointings) echo "$1/meta/pointings.txt" ;;
  esac
}
# carry_meta SRC [WHAT...]: hands the metadata of input object SRC on to this
# task's object (hard links: no copy on the same tier; a copy across tiers).
carry_meta() {
  local src=$1 w f
  shift
  [ $# -gt 0 ] || set -- $META_NAMES
  mkdir -p "$OUT/meta"
  for w in "$@"; do
    f=$(meta_file "$src" "$w")
    [ -f "$f" ] || die "input object $src has no $(basename "$f") in meta/ (the metadata travels with the data from the first stage)"
    ln -f "$f" "$OUT/meta/" 2>/dev/null || cp -f "$f" "$OUT/meta/"
  done
}

# fetch SRC DEST: one file from an http(s)/file URL or a local path.
fetch() {
  case "$1" in
  http://* | https://* | file://*)
    if command -v curl >/dev/null; then
      curl -fsS --retry 3 --retry-connrefused -o "$2" "$1"
    else
      wget -q -O "$2" "$1" # busybox, in the images
    fi
    ;;
  *) cp "$1" "$2" ;;
  esac || {
    rm -f "$2"
    die "cannot fetch $1"
  }
}

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
parse_pointings() { # pA_B or pNNNNN -> P0 P1
  if [[ $1 =~ ^p([0-9]+)$ ]]; then
    P0=$(dec "${BASH_REMATCH[1]}") P1=$P0
  else
    parse_pgroup "$1"
  fi
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

# The pointing lines (RA DEC) of the pointings file, numbered from 1 over
# the lines that are not blank or comments.
pointing_lines() { # FILE FIRST LAST
  awk -v a="$2" -v b="$3" '/^[[:space:]]*(#|$)/ {next} {n++} n >= a && n <= b {print $1, $2}' "$1"
}
