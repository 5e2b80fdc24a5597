#!/usr/bin/env bash
# Builds every image in dockerfiles/ with podman, no registry involved:
# assembles the contexts (context.sh), builds sluice/base first, then each
# module FROM it, all tagged sluice/NAME:VERSION. Called by `make images`.
# Usage: dockerfiles/build.sh [VERSION]   (default 0.1.0)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-0.1.0}"
if ! command -v podman >/dev/null; then
  echo "images: podman is not installed; install it with: scripts/install-deps.sh --containers" >&2
  exit 1
fi
dockerfiles/context.sh build/images
build() { # name
  podman build --quiet --pull=never --network=none -t "sluice/$1:$version" \
    -f "build/images/$1/Containerfile" "build/images/$1" >/dev/null
  printf '  sluice/%-16s %s\n' "$1:$version" \
    "$(podman image inspect --format '{{.Size}}' "sluice/$1:$version" | awk '{printf "%.1f MB", $1/1e6}')"
}
build base
for cf in dockerfiles/*/Containerfile; do
  name=$(basename "$(dirname "$cf")")
  [ "$name" = base ] || build "$name"
done
