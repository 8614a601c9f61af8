#!/usr/bin/env bash
# package.sh: builds the installable packages of ers:
#   tools/package.sh [--release N] [--formats deb,rpm] [--out DIR]
# writes (default DIR dist/, release 1)
#   ers_<version>-<N>_amd64.deb       ers, ers-clm, libers.so, man pages,
#                                     completion, systemd timer, cron example
#   ers-dev_<version>-<N>_amd64.deb   headers and pkg-config file
#   ers-<version>-<N>.x86_64.rpm      the same two as ers and ers-devel
#   ers-devel-<version>-<N>.x86_64.rpm
# Libraries are carried inside the packages in /usr/lib/ers (the programs'
# run path is $ORIGIN/../lib/ers, the libraries' $ORIGIN), so installing
# needs nothing else: the .deb carries every library that a minimal Debian
# 12 system (debootstrap --variant=minbase) lacks and depends on the few
# it has; the .rpm carries everything but glibc. The .deb is checked with
# lintian (an error fails the build). tests/package_test.sh installs both
# on a clean Debian root.
#
# ERS_PACKAGE_FROM=DIR packages binaries already built under DIR (as in
# .bazel/bin) instead of building them.
set -euo pipefail
cd "$(dirname "$0")/.."

release=1
formats=deb,rpm
out=dist
while [ $# -gt 0 ]; do
  case $1 in
    --release) release=$2; shift 2 ;;
    --formats) formats=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package: unknown argument $1 (see tools/package.sh --help)" >&2; exit 2 ;;
  esac
done
case $release in ''|*[!0-9]*) echo "package: --release takes a number" >&2; exit 2 ;; esac

tools/setup.sh
built=${ERS_PACKAGE_FROM:-}
if [ -z "$built" ]; then
  bazel build //cli:ers //clm:ers-clm //sweep:ers_shared.so
  built=.bazel/bin
fi
version=$(sed -n 's/^inline constexpr const char\* kVersion = "\(.*\)";/\1/p' base/version.h)
[ -n "$version" ] || { echo "package: no version in base/version.h" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ers-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage  # the installed tree of both packages, as under /

# The tree: programs, library, headers, manual pages, completion.
ERS_DESTDIR=$stage ERS_LIBDIR=/usr/lib/ers ERS_INSTALL_FROM=$built \
  tools/install.sh /usr >/dev/null
install -m 0755 packaging/ers-system-setup "$stage/usr/lib/ers/"
install -D -m 0644 packaging/ers-scan.service "$stage/usr/lib/systemd/system/ers-scan.service"
install -D -m 0644 packaging/ers-scan.timer "$stage/usr/lib/systemd/system/ers-scan.timer"
install -D -m 0644 packaging/ers.default "$stage/etc/default/ers"
install -D -m 0644 packaging/ers.cron "$stage/usr/share/doc/ers/examples/ers.cron"
# Debian's zsh looks in vendor-completions.
mv "$stage/usr/share/zsh/site-functions" "$stage/usr/share/zsh/vendor-completions"
gzip -9n "$stage"/usr/share/man/man1/*.1
strip --strip-unneeded "$stage/usr/bin/ers" "$stage/usr/bin/ers-clm" "$stage/usr/lib/ers/libers.so"

# needed_libraries: every shared library the programs and libers.so load,
# as resolved on this machine, but the dynamic loader itself.
needed_libraries() {
  ldd "$built/cli/ers" "$built/clm/ers-clm" "$built/sweep/ers_shared.so" |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u
}
# owner LIB: the Debian package that ships LIB (merged /usr: dpkg may know
# it under /lib or /usr/lib).
owner() {
  local real alt
  real=$(readlink -f "$1")
  alt=${real#/usr}
  [ "$alt" = "$real" ] && alt=/usr$real
  { dpkg-query -S "$real" 2>/dev/null || dpkg-query -S "$alt" 2>/dev/null; } |
    head -1 | cut -d: -f1
}
# Packages of a minimal Debian 12 system: the essential ones and whatever
# apt needs, closed over Depends and Pre-Depends (as debootstrap's minbase).
declare -A base=()
queue=(apt $(dpkg-query -W -f='${Package} ${Essential}\n' | awk '$2 == "yes" { print $1 }'))
while [ ${#queue[@]} -gt 0 ]; do
  pkg=${queue[0]}
  queue=("${queue[@]:1}")
  [ -n "${base[$pkg]:-}" ] && continue
  base[$pkg]=1
  deps=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$pkg" 2>/dev/null || true)
  for dep in $(tr ',|' '\n\n' <<<"$deps" | sed 's/(.*)//; s/:any//; s/^ *//; s/ *$//' | grep -v '^$'); do
    dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed" &&
      queue+=("$dep")
  done
done

glibc_libs=()
declare -A deb_depends=()
mkdir -p "$work/carried/deb" "$work/carried/rpm"
while read -r lib; do
  pkg=$(owner "$lib")
  [ -n "$pkg" ] || { echo "package: no Debian package ships $lib" >&2; exit 1; }
  name=$(basename "$lib")
  if [ "$pkg" = libc6 ]; then
    glibc_libs+=("$name")
    deb_depends[$pkg]=1
    continue
  fi
  # The .rpm carries all but glibc; the .deb what minbase lacks.
  cp -L "$lib" "$work/carried/rpm/$name"
  echo "$pkg" >>"$work/carried/rpm-packages"
  if [ -n "${base[$pkg]:-}" ]; then
    deb_depends[$pkg]=1
  else
    cp -L "$lib" "$work/carried/deb/$name"
    echo "$pkg" >>"$work/carried/deb-packages"
  fi
done < <(needed_libraries)

# The newest glibc symbol version any program or library asks for.
glibc=$(objdump -T "$stage/usr/bin/ers" "$stage/usr/bin/ers-clm" "$stage/usr/lib/ers/libers.so" \
          "$work"/carried/rpm/* 2>/dev/null |
        grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)

# upstream_version PKG: the installed version without epoch or revision.
upstream_version() {
  dpkg-query -W -f='${Version}' "$1" | sed 's/^[0-9]*://; s/-[^-]*$//; s/+dfsg.*//; s/~.*//'
}

# stage_for FORMAT: the tree of one format, with its carried libraries,
# their copyright files and the run paths set.
stage_for() {
  local format=$1 tree=$work/tree-$1 pkg
  cp -a "$stage" "$tree"
  cp -a "$work/carried/$format/." "$tree/usr/lib/ers/"
  chmod 0644 "$tree"/usr/lib/ers/*.so*
  for lib in "$tree"/usr/lib/ers/*.so*; do patchelf --set-rpath '$ORIGIN' "$lib"; done
  patchelf --set-rpath '$ORIGIN/../lib/ers' "$tree/usr/bin/ers" "$tree/usr/bin/ers-clm"
  mkdir -p "$tree/usr/share/doc/ers/carried"
  cp packaging/copyright.head "$tree/usr/share/doc/ers/copyright"
  sort -u "$work/carried/$format-packages" | while read -r pkg; do
    {
      printf 'The libraries of the Debian package %s %s, carried in /usr/lib/ers.\n\n' \
        "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg")"
      cat "/usr/share/doc/$pkg/copyright"
    } >"$tree/usr/share/doc/ers/carried/$pkg.copyright"
  done
  echo "$tree"
}

# build_deb: ers and ers-dev.
build_deb() {
  local tree dev debversion=$version-$release depends="" pkg
  tree=$(stage_for deb)
  for pkg in $(printf '%s\n' "${!deb_depends[@]}" | sort); do
    if [ "$pkg" = libc6 ]; then
      depends+="libc6 (>= $glibc), "
    else
      depends+="$pkg (>= $(upstream_version "$pkg")), "
    fi
  done
  depends+="adduser | passwd"
  # ers-dev: headers and the pkg-config file, moved out of the tree.
  dev=$work/deb-dev
  mkdir -p "$dev/usr/lib/x86_64-linux-gnu/pkgconfig" "$dev/usr/share/doc/ers-dev"
  mv "$tree/usr/include" "$dev/usr/"
  mv "$tree/usr/lib/ers/pkgconfig/ers.pc" "$dev/usr/lib/x86_64-linux-gnu/pkgconfig/"
  rmdir "$tree/usr/lib/ers/pkgconfig"
  cp packaging/copyright.head "$dev/usr/share/doc/ers-dev/copyright"
  local when
  when=$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")
  for doc in "$tree/usr/share/doc/ers" "$dev/usr/share/doc/ers-dev"; do
    printf 'ers (%s) unstable; urgency=medium\n\n  * Release %s of ers, package build %s (tools/package.sh).\n\n -- ers maintainers <maintainers@ers.invalid>  %s\n' \
      "$debversion" "$version" "$release" "$when" | gzip -9n >"$doc/changelog.Debian.gz"
  done
  mkdir -p "$tree/usr/share/lintian/overrides"
  cat >"$tree/usr/share/lintian/overrides/ers" <<'EOF'
# ers carries, by design, the libraries a minimal Debian system lacks
# (tools/package.sh): unmodified Debian 12 builds, found through $ORIGIN
# run paths, so that dpkg -i alone installs it.
ers: embedded-library curl [usr/lib/ers/libcurl-gnutls.so.4]
ers: embedded-library libssh2 [usr/lib/ers/libssh2.so.1]
# Debian builds these abseil libraries so (libabsl20220623 has the same
# override).
ers: library-not-linked-against-libc [usr/lib/ers/libabsl_*]
EOF
  # control files
  local installed_size
  mkdir -p "$tree/DEBIAN" "$dev/DEBIAN"
  install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$tree/DEBIAN/"
  install -m 0644 packaging/deb/conffiles "$tree/DEBIAN/"
  installed_size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
  cat >"$tree/DEBIAN/control" <<EOF
Package: ers
Version: $debversion
Architecture: amd64
Maintainer: ers maintainers <maintainers@ers.invalid>
Installed-Size: $installed_size
Depends: $depends
Section: net
Priority: optional
Homepage: https://ers.invalid/
Description: finds every TLS endpoint and certificate in your networks
 ers sweeps networks for TLS endpoints (CIDR blocks, host lists, ports,
 STARTTLS) with tens of thousands of concurrent handshakes, keeps an
 inventory of every certificate it finds with its chain, validation and
 findings, and pushes it to the organisation's certificate lifecycle
 manager (CLM).
 .
 This package carries ers, the reference CLM ers-clm, the embedding
 library, a systemd timer (ers-scan.timer) with a data directory in
 /var/lib/ers, and a cron example. The libraries it needs beyond a minimal
 Debian system are carried in /usr/lib/ers.
EOF
  installed_size=$(du -sk --exclude=DEBIAN "$dev" | cut -f1)
  cat >"$dev/DEBIAN/control" <<EOF
Package: ers-dev
Version: $debversion
Architecture: amd64
Maintainer: ers maintainers <maintainers@ers.invalid>
Installed-Size: $installed_size
Depends: ers (= $debversion), libabsl-dev
Section: libdevel
Priority: optional
Homepage: https://ers.invalid/
Description: finds every TLS endpoint and certificate: embedding headers
 Headers (ers/sweep.h) and the pkg-config file for programs that embed
 the sweep of ers:
   c++ app.cc \$(pkg-config --cflags --libs ers)
EOF
  for t in "$tree" "$dev"; do
    (cd "$t" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z |
       xargs -0 md5sum >DEBIAN/md5sums)
  done
  dpkg-deb --root-owner-group -Zxz --build "$tree" "$out/ers_${debversion}_amd64.deb" >/dev/null
  dpkg-deb --root-owner-group -Zxz --build "$dev" "$out/ers-dev_${debversion}_amd64.deb" >/dev/null
  # lintian: errors fail the build; warnings are printed.
  local report
  report=$(lintian --tag-display-limit 0 "$out/ers_${debversion}_amd64.deb" \
             "$out/ers-dev_${debversion}_amd64.deb" 2>&1 || true)
  [ -z "$report" ] || printf '%s\n' "$report" | sed 's/^/lintian: /' >&2
  if grep -q '^E: ' <<<"$report"; then
    echo "package: lintian found errors" >&2
    exit 1
  fi
  echo "package: $out/ers_${debversion}_amd64.deb"
  echo "package: $out/ers-dev_${debversion}_amd64.deb"
}

# build_rpm: ers and ers-devel, from the rpm tree.
build_rpm() {
  local tree top files devel_files
  tree=$(stage_for rpm)
  mkdir -p "$tree/usr/lib64/pkgconfig"
  mv "$tree/usr/lib/ers/pkgconfig/ers.pc" "$tree/usr/lib64/pkgconfig/"
  rmdir "$tree/usr/lib/ers/pkgconfig"
  top=$work/rpmbuild
  mkdir -p "$top/SPECS" "$top/RPMS"
  files=$(cd "$tree" && find . -type f ! -path './usr/include/*' ! -path './usr/lib64/pkgconfig/*' |
            sed 's|^\.||' | sort | sed 's|^/etc/default/ers$|%config(noreplace) /etc/default/ers|')
  files+=$'\n%dir /usr/lib/ers'
  devel_files=$(cd "$tree" && find ./usr/include ./usr/lib64/pkgconfig -type f | sed 's|^\.||' | sort)
  devel_files+=$'\n%dir /usr/include/ers'
  python3 - packaging/rpm/ers.spec.in "$tree" "$version" "$release" "$glibc" "$files" \
    "$devel_files" >"$top/SPECS/ers.spec" <<'PY'
import sys
template, tree, version, release, glibc, files, devel = sys.argv[1:]
spec = open(template).read()
for key, value in (("@STAGE@", tree), ("@VERSION@", version), ("@RELEASE@", release),
                   ("@GLIBC@", glibc), ("@FILES@", files), ("@DEVEL_FILES@", devel)):
    spec = spec.replace(key, value)
sys.stdout.write(spec)
PY
  rpmbuild --quiet -bb --define "_topdir $top" --define "_binary_payload w6.xzdio" \
    "$top/SPECS/ers.spec" >/dev/null
  cp "$top"/RPMS/x86_64/*.rpm "$out/"
  echo "package: $out/ers-$version-$release.x86_64.rpm"
  echo "package: $out/ers-devel-$version-$release.x86_64.rpm"
}

case ,$formats, in *,deb,*) build_deb ;; esac
case ,$formats, in *,rpm,*) build_rpm ;; esac
