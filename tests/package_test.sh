#!/usr/bin/env bash
# package_test.sh: the packages install on a clean system and work there.
# Run by tools/test.sh (not under Bazel: it builds the packages with
# tools/package.sh and needs root for chroot and dpkg).
#
# A minimal Debian 12 root (debootstrap --variant=minbase from the Debian
# mirror apt uses, cached by tools/debian_root.sh for 30 days) gets the
# .deb with dpkg -i and nothing else; in it ers --version, ers discover and
# an ers scan (as the packaged ers user, by the systemd unit's own command
# line) of an nginx TLS server on loopback outside the root. Then the
# inventory is taken back to schema 4 (two releases before), a newer
# build of the package is installed over it, and the inventory must come
# through migrated, with its run and certificate and the operator's
# /etc/default/ers. Remove keeps the inventory, purge deletes it. The .rpm
# is listed with rpm -qlp and installed with rpm --root --nodeps into
# another copy of the root, where ldd finds every library the programs
# need in /usr/lib/ers or glibc.
# Prints "package_test: N passed, N failed" last.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/shell_checks.sh
source tests/openssl_pki.sh

if [ "$(id -u)" -ne 0 ]; then
  echo "package_test: needs root (chroot, dpkg in a root)"
  echo "package_test: 0 passed, 1 failed"
  exit 1
fi
work=$(mktemp -d /tmp/ers-package-test.XXXXXX)
root=$work/root
net=127.0.50
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  for r in "$root" "$work/rpmroot"; do
    for m in proc dev; do mountpoint -q "$r/$m" 2>/dev/null && umount -l "$r/$m"; done
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
done_testing() {
  finish >/dev/null
  echo "package_test: $((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
  exit
}

# --- the packages: release 1, and a newer build (release 2) to upgrade to
tools/package.sh --release 1 --out "$work/dist" >"$work/package1.log" 2>&1
check $? "tools/package.sh builds release 1 (log: $(tail -5 "$work/package1.log"))"
tools/package.sh --release 2 --formats deb --out "$work/dist" >"$work/package2.log" 2>&1
check $? "tools/package.sh builds release 2 (log: $(tail -5 "$work/package2.log"))"
version=$(sed -n 's/^inline constexpr const char\* kVersion = "\(.*\)";/\1/p' base/version.h)
deb1=$work/dist/ers_${version}-1_amd64.deb
deb2=$work/dist/ers_${version}-2_amd64.deb
rpm1=$work/dist/ers-${version}-1.x86_64.rpm
for f in "$deb1" "$deb2" "$rpm1" "$work/dist/ers-dev_${version}-1_amd64.deb" \
         "$work/dist/ers-devel-${version}-1.x86_64.rpm"; do
  [ -s "$f" ]
  check $? "$(basename "$f") is built"
done
[ -s "$deb1" ] && [ -s "$deb2" ] && [ -s "$rpm1" ] || done_testing
! grep -q '^lintian: E: ' "$work/package1.log"
check $? "lintian reports no errors"
dev_files=$(dpkg-deb -c "$work/dist/ers-dev_${version}-1_amd64.deb")
grep -q ' ./usr/include/ers/sweep.h$' <<<"$dev_files" &&
  grep -q ' ./usr/lib/x86_64-linux-gnu/pkgconfig/ers.pc$' <<<"$dev_files"
check $? "ers-dev holds the headers and the pkg-config file"

# --- a clean Debian 12 root, cached between runs
cache=$(tools/debian_root.sh 2>"$work/debootstrap.log")
[ -s "$cache" ]
check $? "a minimal Debian 12 root is at hand ($(tail -3 "$work/debootstrap.log"))"
[ -s "$cache" ] || done_testing
# new_root DIR: a fresh copy of the clean root, with /proc and /dev.
new_root() {
  mkdir -p "$1" && tar -C "$1" -xzf "$cache" &&
    mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && mount --make-rslave "$1/dev"
}
new_root "$root"
check $? "the root is unpacked"
inside() { chroot "$root" "$@"; }
! inside dpkg-query -W -f='${Status}\n' libuv1 libsqlite3-0 android-libboringssl libabsl20220623 \
  2>/dev/null | grep -q "install ok installed"
check $? "the root has none of the libraries ers needs beyond minbase"

# --- a TLS server on loopback, outside the root (the root shares the network)
mkdir -p "$work/pki"
(cd "$work/pki" && openssl_ca "ers package test CA" &&
  openssl_leaf pkg.test 'subjectAltName=DNS:pkg.test\nextendedKeyUsage=serverAuth')
check $? "the test certificates are made"
nginx_conf_head "$work" >"$work/nginx.conf"
cat >>"$work/nginx.conf" <<EOF
  server {
    listen $net.1:8443 ssl;
    ssl_certificate $work/pki/pkg.test.pem;
    ssl_certificate_key $work/pki/pkg.test.key;
    return 200 "ok\n";
  }
}
EOF
/usr/sbin/nginx -p "$work/" -c "$work/nginx.conf"
check $? "nginx starts ($(cat "$work/error.log" 2>/dev/null))"
await_listeners "$net.1:8443"
leaf_sha256=$(openssl x509 -in "$work/pki/pkg.test.pem" -outform der | sha256sum | cut -d' ' -f1)
cp "$work/pki/ca.pem" "$root/tmp/ca.pem"

# --- install release 1 with dpkg alone
cp "$deb1" "$deb2" "$root/tmp/"
inside dpkg -i "/tmp/$(basename "$deb1")" >"$work/dpkg1.log" 2>&1
check $? "dpkg -i installs the .deb on the clean root ($(tail -3 "$work/dpkg1.log"))"
[ "$(inside ers --version)" = "ers $version" ]
check $? "ers --version in the root"
[ "$(inside ers-clm --version)" = "ers-clm $version" ]
check $? "ers-clm --version in the root"
missing=$(inside ldd /usr/bin/ers /usr/bin/ers-clm /usr/lib/ers/libers.so | grep 'not found')
[ -z "$missing" ]
check $? "ldd finds every library in the root ($missing)"
inside sh -c 'man -w ers-scan >/dev/null 2>&1 || [ -f /usr/share/man/man1/ers-scan.1.gz ]' &&
  [ -f "$root/usr/share/man/man1/ers-clm.1.gz" ] && [ -f "$root/usr/share/bash-completion/completions/ers" ]
check $? "man pages and completion are installed"
[ "$(inside stat -c '%U:%G %a' /var/lib/ers)" = "ers:ers 750" ]
check $? "the ers user owns /var/lib/ers (0750)"
[ -f "$root/usr/lib/systemd/system/ers-scan.service" ] && [ -f "$root/usr/lib/systemd/system/ers-scan.timer" ]
check $? "the systemd service and timer are installed"
if systemd-analyze --help 2>/dev/null | grep -q -- '--root'; then
  # The root has no systemd, hence no sysinit.target: every other word
  # (unknown keys, bad values, a missing ExecStart program) counts.
  out=$(systemd-analyze verify --man=no --root="$root" /usr/lib/systemd/system/ers-scan.service \
          /usr/lib/systemd/system/ers-scan.timer 2>&1 | grep ers-scan | grep -v 'sysinit.target not found')
  [ -z "$out" ]
  check $? "systemd-analyze verify finds nothing wrong in the units ($out)"
fi

# As an operator would: the targets as the ers user, then the unit's own
# command line with the unit's environment and /etc/default/ers.
as_ers() { inside runuser -u ers -- env ERS_DB=/var/lib/ers/ers.db "$@"; }
as_ers ers discover --servers "$net.1" --ports "8443,8444" >"$work/discover.log" 2>&1
check $? "ers discover as the ers user ($(cat "$work/discover.log"))"
as_ers ers discover --servers mail.example.com --ports 443 >/dev/null 2>&1 &&
  as_ers ers discover --remove mail.example.com >/dev/null 2>&1
check $? "ers discover --servers NAME and --remove work in the root"
sed -i 's|^ERS_SCAN_ARGS=.*|ERS_SCAN_ARGS="--roots /tmp/ca.pem --connect-timeout 2s"|' \
  "$root/etc/default/ers"
exec_start=$(sed -n 's/^ExecStart=//p' "$root/usr/lib/systemd/system/ers-scan.service")
[ -n "$exec_start" ]
check $? "the unit has an ExecStart"
run_unit() {
  inside runuser -u ers -- sh -c \
    "ERS_DB=/var/lib/ers/ers.db; export ERS_DB; . /etc/default/ers; exec $exec_start" \
    >"$work/scan.log" 2>&1
}
run_unit
check $? "the unit's scan runs in the root ($(tail -5 "$work/scan.log"))"
csv=$(as_ers ers export --csv 2>&1)
grep -q "$net.1" <<<"$csv" && grep -qi "$leaf_sha256" <<<"$csv"
check $? "the scan found the loopback server's certificate ($csv)"
[ "$(as_ers ers runs --json | grep -o '"id":' | wc -l)" -eq 1 ]
check $? "the inventory holds one run"

# --- upgrade to a newer build over an inventory of the release before
sqlite3 "$root/var/lib/ers/ers.db" \
  "DROP TABLE cert_requests; ALTER TABLE endpoint_results DROP COLUMN starttls;
   PRAGMA user_version = 4;"
[ "$(sqlite3 "$root/var/lib/ers/ers.db" 'PRAGMA user_version')" = 4 ]
check $? "the inventory is at schema 4, as the releases before STARTTLS wrote it"
inside dpkg -i "/tmp/$(basename "$deb2")" >"$work/dpkg2.log" 2>&1
check $? "dpkg -i upgrades to release 2 ($(tail -3 "$work/dpkg2.log"))"
[ "$(inside dpkg-query -W -f='${Version}' ers)" = "${version}-2" ]
check $? "release 2 is installed"
schema=$(sed -n 's/.*static constexpr int kSchemaVersion = \([0-9]*\);/\1/p' inventory/inventory.h)
[ "$(sqlite3 "$root/var/lib/ers/ers.db" 'PRAGMA user_version')" = "$schema" ]
check $? "the upgrade migrated the inventory to schema $schema"
[ "$(sqlite3 "$root/var/lib/ers/ers.db" 'SELECT count(*) FROM scan_runs')" = 1 ] &&
  grep -qi "$leaf_sha256" <<<"$(as_ers ers export --csv 2>&1)"
check $? "the run and the certificate survived the upgrade"
grep -q '^ERS_SCAN_ARGS="--roots /tmp/ca.pem' "$root/etc/default/ers"
check $? "the operator's /etc/default/ers survived the upgrade"
run_unit
check $? "a scan after the upgrade runs ($(tail -5 "$work/scan.log"))"
[ "$(sqlite3 "$root/var/lib/ers/ers.db" 'SELECT count(*) FROM scan_runs')" = 2 ]
check $? "the inventory now holds two runs"

# --- the OCI image (tools/image.sh) of release 1: the Job's user, ers in it
image_out=$(tools/image.sh --deb "$deb1" --out "$work/dist" 2>&1)
check $? "tools/image.sh builds the image ($(tail -3 <<<"$image_out"))"
if [ -s "$work/dist/ers-$version-oci.tar" ]; then
  export STORAGE_DRIVER=vfs
  container=$(buildah from "localhost/ers:$version" 2>/dev/null)
  in_image() { buildah run --isolation chroot "$container" -- "$@"; }
  [ "$(in_image ers --version 2>&1)" = "ers $version" ] && [ "$(in_image id -u)" = 10001 ]
  check $? "the image runs ers as uid 10001 (the Job's runAsUser)"
  buildah copy "$container" "$work/pki/ca.pem" /tmp/ca.pem >/dev/null
  image_scan=$(in_image ers scan --servers "$net.1" --ports 8443 --roots /tmp/ca.pem --output - 2>&1)
  grep -q '"outcome":"tls"' <<<"$image_scan" &&
    grep -q "$(openssl x509 -in "$work/pki/pkg.test.pem" -outform der | base64 -w0 | cut -c1-60)" <<<"$image_scan"
  check $? "ers in the image scans the loopback server ($(tail -c 300 <<<"$image_scan"))"
  buildah rm "$container" >/dev/null 2>&1
  buildah rmi "localhost/ers:$version" >/dev/null 2>&1
fi

# --- remove keeps the inventory, purge deletes it
inside dpkg -r ers >"$work/dpkg3.log" 2>&1
check $? "dpkg -r removes ers ($(tail -3 "$work/dpkg3.log"))"
[ ! -e "$root/usr/bin/ers" ] && [ ! -e "$root/usr/lib/ers/libers.so" ] && [ -f "$root/var/lib/ers/ers.db" ]
check $? "remove deletes the programs and libraries and keeps the inventory"
inside dpkg -P ers >"$work/dpkg4.log" 2>&1
check $? "dpkg -P purges ers"
[ ! -e "$root/var/lib/ers" ] && [ ! -e "$root/etc/default/ers" ] &&
  ! inside dpkg-query -W -f='${Status}' ers 2>/dev/null | grep -q installed
check $? "purge deletes /var/lib/ers and /etc/default/ers"

# --- the .rpm: its list, and an install into another clean root
rpm_files=$(rpm -qlp "$rpm1" 2>/dev/null)
for f in /usr/bin/ers /usr/bin/ers-clm /usr/lib/ers/libers.so /usr/lib/ers/libssl.so.0 \
         /usr/lib/ers/libuv.so.1 /usr/lib/systemd/system/ers-scan.timer /etc/default/ers \
         /usr/share/man/man1/ers-scan.1.gz; do
  grep -qx "$f" <<<"$rpm_files"
  check $? "rpm -qlp lists $f"
done
new_root "$work/rpmroot"
check $? "a second clean root is unpacked"
rpm --root "$work/rpmroot" --initdb &&
  rpm --root "$work/rpmroot" -i --nodeps "$rpm1" >"$work/rpm.log" 2>&1
check $? "rpm --root --nodeps installs the .rpm ($(tail -3 "$work/rpm.log"))"
ldd_out=$(chroot "$work/rpmroot" ldd /usr/bin/ers /usr/bin/ers-clm /usr/lib/ers/libers.so 2>&1)
! grep -q 'not found' <<<"$ldd_out"
check $? "ldd in the rpm root finds every library ($(grep 'not found' <<<"$ldd_out" | head -3))"
outside=$(awk '$2 == "=>" { print $1, $3 }' <<<"$ldd_out" | grep -v '/lib/ers/lib' |
          grep -Ev '^(libc|libm|libresolv|libpthread|libdl|librt)\.so' | sort -u)
[ -z "$outside" ]
check $? "the rpm's programs load nothing but glibc from outside /usr/lib/ers ($outside)"
[ "$(chroot "$work/rpmroot" ers --version)" = "ers $version" ]
check $? "ers --version from the rpm"
[ "$(chroot "$work/rpmroot" stat -c '%U' /var/lib/ers 2>/dev/null)" = ers ]
check $? "the rpm's %post made the ers user and /var/lib/ers"

done_testing
