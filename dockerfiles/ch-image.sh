#!/usr/bin/env bash
# Makes a charliecloud directory image from a podman image: exports the
# image's file system (podman create + export, no registry) into DIR, which
# `ch-run` runs as is. Copy DIR (or a tarball of it) to another site to move
# the image without a registry.
# Usage: dockerfiles/ch-image.sh IMAGE [DIR]
#   DIR defaults to $SLUICE_CH_IMAGES/NAME (default /var/tmp/sluice/ch), where
#   NAME is IMAGE with / as % and : as + (charliecloud's storage naming), the
#   place the charliecloud runtime looks for `image: IMAGE`.
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,10p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
image="$1"
name=$(printf '%s' "$image" | tr '/:' '%+')
dir="${2:-${SLUICE_CH_IMAGES:-/var/tmp/sluice/ch}/$name}"
podman image exists "$image" || { echo "ch-image: image $image not found; build it with: make images" >&2; exit 1; }
mkdir -p "$(dirname "$dir")"
tmp="$dir.tmp.$$"
cname="sluice-chexport-$$"
trap 'podman rm -f "$cname" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
podman create --name "$cname" "$image" /nonexistent >/dev/null
mkdir -p "$tmp"
podman export "$cname" | tar -x -C "$tmp"
# ch-run binds onto these; podman adds some of them only at run time
mkdir -p "$tmp"/{dev,proc,sys,tmp,home,mnt,etc}
for f in hosts resolv.conf passwd group; do [ -e "$tmp/etc/$f" ] || : >"$tmp/etc/$f"; done
rm -rf "$dir"
mv "$tmp" "$dir"
echo "ch-image: $image -> $dir ($(du -sh "$dir" | cut -f1))"
