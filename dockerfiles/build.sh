#!/usr/bin/env bash
# Builds every image in dockerfiles/ with podman, no registry involved (and
# loads them into docker when a docker daemon answers):
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
# A docker daemon reachable here (docker info answers, e.g. DOCKER_HOST set)
# gets the same images: saved from podman, loaded into docker, unchanged.
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  for img in $(podman images --format '{{.Repository}}:{{.Tag}}' --filter "reference=sluice/*:$version"); do
    img=${img#localhost/}
    if [ "$(docker image inspect --format '{{.Id}}' "$img" 2>/dev/null)" != \
         "$(podman image inspect --format 'sha256:{{.Id}}' "$img")" ]; then
      podman save --format docker-archive "$img" | docker load -q >/dev/null
      docker tag "localhost/$img" "$img" # podman's name for it, and the one stages use
      echo "  $img loaded into docker"
    fi
  done
fi
