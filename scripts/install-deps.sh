#!/usr/bin/env bash
# Installs the Debian 12 packages sluice needs to build, test and run its demo.
# Called by `make deps` (and by `make test` / `make demo` when something is
# missing). Idempotent: packages already present are not touched.
# Usage: scripts/install-deps.sh [--test] [--containers] [--slurm] [--check-quiet]
# --test adds the tools only the tests use (make test and make fuzz pass it).
# --check-quiet only tells (exit status) whether anything is missing.
set -euo pipefail

core=(build-essential pkg-config
      libcurl4-openssl-dev libsqlite3-dev sqlite3 libzstd-dev zstd libarchive-dev
      libcfitsio-dev libyaml-dev libgrpc-dev libprotobuf-c-dev protobuf-c-compiler
      libfftw3-dev libopenblas-dev liberfa-dev libxxhash-dev libmicrohttpd-dev
      libcmocka-dev zlib1g-dev fitsverify curl iproute2 busybox-static iperf3
      python3-grpcio python3-grpc-tools libssl-dev openssl)
# what only the tests need (make test, make fuzz): libFuzzer, a browser for
# the report, Graphviz for sluice dag --svg, promtool to check /metrics (the
# prometheus server is never started)
testing=(clang libclang-rt-dev chromium graphviz prometheus)
extra=()
quiet_check=0
for a in "$@"; do
  case "$a" in
    --check-quiet) quiet_check=1 ;;
    --containers) extra+=(podman runc fuse-overlayfs uidmap bubblewrap charliecloud-runtime docker.io) ;;
    --slurm) extra+=(slurm-wlm munge) ;;
    --test) extra+=("${testing[@]}") ;;
    *) echo "install-deps: unknown option '$a' (use --test, --containers, --slurm)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${core[@]}" "${extra[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "$quiet_check" = 1 ]; then
  [ ${#missing[@]} -eq 0 ]; exit $?
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all Debian packages present"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: these Debian packages are missing and I am not root:" >&2
    echo "  ${missing[*]}" >&2
    echo "  run as root:  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi

# podman on these machines: runc (crun refuses the hybrid cgroup layout), raised
# ulimits the sandbox cannot set itself, and no network namespace by default.
if printf '%s\n' "${extra[@]}" | grep -qx podman; then
  conf=/etc/containers/containers.conf
  if ! grep -q 'runtime = "runc"' "$conf" 2>/dev/null; then
    echo "install-deps: writing $conf (runc, ulimits, netns=none)"
    mkdir -p /etc/containers
    cat > "$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
runtime = "runc"
CONF
  fi
fi
