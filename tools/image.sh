#!/usr/bin/env bash
# image.sh: builds the OCI image of ers that deploy/kubernetes runs,
# without network and without a container engine's daemon:
#   tools/image.sh [--deb FILE] [--out DIR]
# 1. a minimal Debian 12 root (tools/debian_root.sh, cached);
# 2. the ers user and group as 10001 (the Job's runAsUser), then the .deb
#    installed with dpkg -i (default: built now by tools/package.sh);
# 3. buildah: from scratch, the root added as one layer, user 10001,
#    entrypoint ers, ERS_DB=/var/lib/ers/ers.db; committed as
#    localhost/ers:VERSION and written to DIR/ers-VERSION-oci.tar
#    (default DIR dist/), an OCI archive for a registry:
#      skopeo copy oci-archive:dist/ers-0.1.0-oci.tar docker://REGISTRY/ers:0.1.0
# Needs root (chroot, buildah's vfs storage).
set -euo pipefail
cd "$(dirname "$0")/.."
deb=""
out=dist
while [ $# -gt 0 ]; do
  case $1 in
    --deb) deb=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "image: unknown argument $1 (see tools/image.sh --help)" >&2; exit 2 ;;
  esac
done
tools/setup.sh
command -v buildah >/dev/null || {
  echo "image: needs buildah (apt-get install buildah)" >&2
  exit 1
}
version=$(sed -n 's/^inline constexpr const char\* kVersion = "\(.*\)";/\1/p' base/version.h)
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -z "$deb" ]; then
  tools/package.sh --formats deb --out "$out" >/dev/null
  deb=$(ls -t "$out"/ers_"$version"-*_amd64.deb | head -1)
fi
cache=$(tools/debian_root.sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/ers-image.XXXXXX")
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
container=""
cleanup() {
  [ -n "$container" ] && buildah rm "$container" >/dev/null 2>&1
  mountpoint -q "$work/root/proc" && umount "$work/root/proc"
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

root=$work/root
mkdir -p "$root"
tar -C "$root" -xzf "$cache"
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/ers.deb"
chroot "$root" groupadd --gid 10001 ers
chroot "$root" useradd --uid 10001 --gid 10001 --home-dir /var/lib/ers \
  --no-create-home --shell /usr/sbin/nologin --comment "ers certificate discovery" ers
chroot "$root" dpkg -i /tmp/ers.deb >"$work/dpkg.log" 2>&1 || {
  cat "$work/dpkg.log" >&2
  exit 1
}
umount "$root/proc"
# What a container does not need: package caches, documentation, locales.
rm -rf "$root"/tmp/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/[!e]* "$root"/usr/share/locale/* "$root"/usr/share/info/*
tar -C "$root" -czf "$work/rootfs.tar.gz" .

image=localhost/ers:$version
container=$(buildah from scratch)
buildah add "$container" "$work/rootfs.tar.gz" / >/dev/null
buildah config \
  --user 10001:10001 \
  --workingdir /var/lib/ers \
  --env ERS_DB=/var/lib/ers/ers.db \
  --entrypoint '["/usr/bin/ers"]' \
  --cmd '["--help"]' \
  --label org.opencontainers.image.title=ers \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.description="TLS endpoint and certificate discovery" \
  "$container"
buildah commit --quiet --format oci "$container" "$image" >/dev/null
rm -f "$out/ers-$version-oci.tar"
buildah push --quiet "$image" "oci-archive:$out/ers-$version-oci.tar:ers:$version" >/dev/null
echo "image: $image"
echo "image: $out/ers-$version-oci.tar"
