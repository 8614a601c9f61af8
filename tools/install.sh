#!/usr/bin/env bash
# install.sh: builds and installs ers for use on this machine and by
# embedders:
#   tools/install.sh [PREFIX]        (default /usr/local)
# PREFIX/bin/ers, PREFIX/bin/ers-clm, PREFIX/lib/libers.so,
# PREFIX/include/ers/*.h, PREFIX/lib/pkgconfig/ers.pc, man pages
# (PREFIX/share/man/man1/ers.1, ers-COMMAND.1) and bash and zsh completion,
# so that
#   c++ app.cc $(pkg-config --cflags --libs ers)
# builds a program against the library (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
# for a prefix pkg-config does not search). libers.so links BoringSSL
# (android-libboringssl, by rpath), libuv, abseil, SQLite and the C++
# standard library from the Debian packages tools/setup.sh installs.
#
# ERS_INSTALL_FROM=DIR installs binaries already built under DIR (as in
# .bazel/bin) instead of building them (the embedding test does this).
# For packages (tools/package.sh): ERS_DESTDIR=DIR writes the tree under
# DIR as if it were /, and ERS_LIBDIR=PATH puts libers.so there instead of
# PREFIX/lib (the pkg-config file names the installed paths, not DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
libdir=${ERS_LIBDIR:-$prefix/lib}
dest=${ERS_DESTDIR:-}
built=${ERS_INSTALL_FROM:-}
if [ -z "$built" ]; then
  tools/setup.sh
  bazel build //cli:ers //clm:ers-clm //sweep:ers_shared.so
  built=.bazel/bin
fi
version=$(sed -n 's/^inline constexpr const char\* kVersion = "\(.*\)";/\1/p' base/version.h)
absl_libs=$(sed -n 's/^ *"\(-labsl_[a-z0-9_]*\)",$/\1/p' third_party/system/BUILD.bazel | tr '\n' ' ')
root=$dest$prefix
mkdir -p "$root/bin" "$dest$libdir/pkgconfig" "$root/include/ers" "$root/share/man/man1" \
  "$root/share/bash-completion/completions" "$root/share/zsh/site-functions"
install -m 0755 "$built/cli/ers" "$built/clm/ers-clm" "$root/bin/"
install -m 0755 "$built/sweep/ers_shared.so" "$dest$libdir/libers.so"
install -m 0644 include/ers/*.h "$root/include/ers/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@VERSION@|$version|" \
  -e "s|@ABSL_LIBS@|$absl_libs|" tools/pkgconfig/ers.pc.in >"$dest$libdir/pkgconfig/ers.pc"
# Man pages and completion, made by the binary from its own --help text
# (ers-clm's by help2man, from its --help and --version, where installed).
"$built/cli/ers" manpage >"$root/share/man/man1/ers.1"
for cmd in $("$built/cli/ers" completion bash | sed -n 's/^    \([a-z]*\)) flags=.*/\1/p'); do
  "$built/cli/ers" manpage "$cmd" >"$root/share/man/man1/ers-$cmd.1"
done
if command -v help2man >/dev/null; then
  help2man --no-info --name "the reference CLM endpoint for ers" --section 1 \
    --source "ers $version" "$built/clm/ers-clm" >"$root/share/man/man1/ers-clm.1"
fi
"$built/cli/ers" completion bash >"$root/share/bash-completion/completions/ers"
"$built/cli/ers" completion zsh >"$root/share/zsh/site-functions/_ers"
echo "install: ers $version in $dest$prefix"
