#!/usr/bin/env bash
# setup.sh: installs every Debian package ers needs (nothing when all are
# present). Idempotent; safe to run before every build. Needs root or sudo
# only when something is missing.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap default-jdk-headless pkg-config
  libuv1-dev android-libboringssl-dev libfmt-dev libabsl-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3 nlohmann-json3-dev
  nginx libmicrohttpd-dev libgnutls28-dev libcurl4-gnutls-dev
  clang libclang-rt-14-dev openssl time iproute2 tcpdump
  python3 curl procps man-db chromium
  dovecot-imapd dovecot-pop3d postgresql
  postfix slapd vsftpd prosody mariadb-server
  libc-ares-dev dnsmasq-base
  patchelf help2man lintian rpm debootstrap buildah python3-yaml python3-kubernetes
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Packages such as nginx start their service on install; the tests start
# their own servers on loopback, so keep the service down during install.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod +x "$policy"
  added_policy=1
fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
[ "$added_policy" = 1 ] && "${sudo[@]}" rm -f "$policy"
echo "setup: done" >&2
