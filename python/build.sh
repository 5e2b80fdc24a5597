#!/bin/sh
# python/build.sh - generates the gRPC stubs of the Python client from
# framework/proto/sluice.proto with grpc_tools (Debian: python3-grpc-tools),
# into build/python/ (git-ignored; never committed). The package `sluice`
# (python/sluice) finds them there by itself.
# Usage: python/build.sh [OUTDIR]     (default: build/python at the top of the tree)
# Environment: PYTHON (default /usr/bin/python3: Debian's python3-grpcio and
# python3-grpc-tools are installed for it, not for a pyenv python3 on PATH).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/python}
py=${PYTHON:-/usr/bin/python3}
if ! "$py" -c 'import grpc, grpc_tools' 2>/dev/null; then
    echo "python/build.sh: $py lacks grpc or grpc_tools; install python3-grpcio and python3-grpc-tools (scripts/install-deps.sh)" >&2
    exit 1
fi
mkdir -p "$out"
# generate into a temporary directory and rename, so a reader never sees a
# half-written module
tmp=$(mktemp -d "$out/.gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$py" -m grpc_tools.protoc -I"$root/framework/proto" \
    --python_out="$tmp" --grpc_python_out="$tmp" sluice.proto
mv -f "$tmp/sluice_pb2.py" "$out/sluice_pb2.py"
mv -f "$tmp/sluice_pb2_grpc.py" "$out/sluice_pb2_grpc.py"
echo "python/build.sh: stubs in $out (sluice_pb2.py, sluice_pb2_grpc.py)"
