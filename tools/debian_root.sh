#!/usr/bin/env bash
# debian_root.sh: prints the path of a minimal Debian 12 root, a tar.gz of
# `debootstrap --variant=minbase bookworm` from the Debian mirror that apt
# uses here (ERS_DEBIAN_MIRROR overrides it), cached in /var/cache/ers-tests
# and made again when missing or older than 30 days. Needs root. Used by
# tests/package_test.sh (a clean system to install the packages on) and
# tools/image.sh (the OCI image's base).
set -euo pipefail
cache_dir=/var/cache/ers-tests
cache=$cache_dir/debian-12-minbase.tar.gz
mirror=${ERS_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/*$/\1/p' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)}
mirror=${mirror:-$(sed -n 's/^deb \(http[^ ]*\/debian\)\/* bookworm .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$cache_dir"
exec 9>"$cache_dir/.lock"
flock 9
if [ ! -s "$cache" ] || [ -n "$(find "$cache" -mtime +30)" ]; then
  echo "debian_root: debootstrap --variant=minbase bookworm from $mirror" >&2
  tmp=$(mktemp -d "$cache_dir/bootstrap.XXXXXX")
  trap 'rm -rf --one-file-system "$tmp"' EXIT
  if ! debootstrap --variant=minbase bookworm "$tmp/root" "$mirror" >"$tmp/log" 2>&1; then
    tail -20 "$tmp/log" >&2
    echo "debian_root: debootstrap failed" >&2
    exit 1
  fi
  tar -C "$tmp/root" -czf "$tmp/root.tar.gz" .
  mv "$tmp/root.tar.gz" "$cache"
fi
echo "$cache"
