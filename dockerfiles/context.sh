#!/usr/bin/env bash
# Assembles the podman build contexts of every image in dockerfiles/ under
# OUT (default build/images): OUT/NAME/ holds the Containerfile and what its
# COPY lines name. Programs (`COPY bin/X`) come from build/bin/X, else
# pipelines/bin/X (the MWA stage wrappers and mwa-lib.sh), else from PATH;
# the shared libraries they link are found with ldd and copied from this
# host. Libraries linked by two or more images go to the base once (one
# shared layer on disk); each module's lib/ holds only the rest. The base
# also gets the shell the stage wrappers run in: bash, and a static busybox
# for the tools they call (sed, awk, grep, wget, ...).
# Usage: dockerfiles/context.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-build/images}"
rm -rf "$out"
mkdir -p "$out"
declare -A uses    # library path -> number of module images linking it
declare -A libs_of # image -> space-separated library paths
images=()
for cf in dockerfiles/*/Containerfile; do
  name=$(basename "$(dirname "$cf")")
  [ "$name" = base ] && continue
  images+=("$name")
  mkdir -p "$out/$name/bin" "$out/$name/lib"
  cp "$cf" "$out/$name/Containerfile"
  list=""
  for b in $(sed -n 's|^COPY bin/\([^ ]*\) .*|\1|p' "$cf"); do
    src="build/bin/$b"
    [ -x "$src" ] || src="pipelines/bin/$b"
    [ -f "$src" ] || src=$(command -v "$b" || true)
    [ -n "$src" ] && [ -f "$src" ] || { echo "context: program $b not found (run make first)" >&2; exit 1; }
    cp -L "$src" "$out/$name/bin/$b"
    # "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)"; static programs have none
    for l in $(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
      case " $list " in *" $l "*) ;; *) list="$list $l" ;; esac
    done
  done
  libs_of[$name]="$list"
  for l in $list; do uses[$l]=$(( ${uses[$l]:-0} + 1 )); done
done

skel="$out/skel"
base="$out/base/rootfs"
mkdir -p "$skel"/{usr/lib/x86_64-linux-gnu,usr/lib64,usr/bin,usr/sbin,usr/local/bin,dev,proc,sys,tmp,run,home,mnt,root,etc/ssl/certs}
chmod 1777 "$skel/tmp"
ln -s usr/lib "$skel/lib"; ln -s usr/lib64 "$skel/lib64"
ln -s usr/bin "$skel/bin"; ln -s usr/sbin "$skel/sbin"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$skel/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$skel/etc/group"
printf 'hosts: files dns\n' >"$skel/etc/nsswitch.conf"
: >"$skel/etc/hosts"; : >"$skel/etc/resolv.conf"
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp -L /etc/ssl/certs/ca-certificates.crt "$skel/etc/ssl/certs/"
mkdir -p "$out/base"
cp -a "$skel" "$base"
cp -L /lib64/ld-linux-x86-64.so.2 "$base/usr/lib64/"
for l in "${!uses[@]}"; do
  case "$(basename "$l")" in libc.so.*|libm.so.*) uses[$l]=99 ;; esac
  [ "${uses[$l]}" -ge 2 ] && cp -L "$l" "$base/usr/lib/x86_64-linux-gnu/"
done
# the shell of the stage wrappers: bash (+ what it links) and busybox's tools
bash_bin=$(command -v bash) bb=$(command -v busybox || true)
[ -n "$bb" ] || { echo "context: busybox not found (scripts/install-deps.sh installs busybox-static)" >&2; exit 1; }
ldd "$bb" >/dev/null 2>&1 && { echo "context: $bb is not static (install busybox-static)" >&2; exit 1; }
cp -L "$bash_bin" "$base/usr/bin/bash"
for l in $(ldd "$bash_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
  [ -e "$base/usr/lib/x86_64-linux-gnu/$(basename "$l")" ] || cp -L "$l" "$base/usr/lib/x86_64-linux-gnu/"
done
cp -L "$bb" "$base/usr/bin/busybox"
for a in $("$bb" --list); do
  [ -e "$base/usr/bin/$a" ] || [ -L "$base/usr/bin/$a" ] || ln -s busybox "$base/usr/bin/$a"
done
cp dockerfiles/base/Containerfile "$out/base/"
for name in "${images[@]}"; do
  for l in ${libs_of[$name]}; do
    [ "${uses[$l]}" -ge 2 ] || cp -L "$l" "$out/$name/lib/"
  done
  # the busybox image is FROM scratch and wants the base's skeleton /etc too
  if grep -q '^COPY rootfs/' "dockerfiles/$name/Containerfile"; then cp -a "$skel" "$out/$name/rootfs"; fi
done
rm -rf "$skel"
echo "context: $(ls "$out" | wc -w) contexts in $out (base: $(ls "$base/usr/lib/x86_64-linux-gnu" | wc -l) shared libraries)"
