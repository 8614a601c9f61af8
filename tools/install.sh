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
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
built=${ERS_INSTALL_FROM:-}
if [ -z "$built" ]; then
  tools/setup.sh
  bazel build //cli:ers //clm:ers-clm //sweep:ers_shared.so
  built=.bazel/bin
fi
version=$(sed -n 's/^constexpr const char\* kVersion = "\(.*\)";/\1/p' cli/main.cc)
absl_libs=$(sed -n 's/^ *"\(-labsl_[a-z0-9_]*\)",$/\1/p' third_party/system/BUILD.bazel | tr '\n' ' ')
mkdir -p "$prefix/bin" "$prefix/lib/pkgconfig" "$prefix/include/ers" "$prefix/share/man/man1" \
  "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions"
install -m 0755 "$built/cli/ers" "$built/clm/ers-clm" "$prefix/bin/"
install -m 0755 "$built/sweep/ers_shared.so" "$prefix/lib/libers.so"
install -m 0644 include/ers/*.h "$prefix/include/ers/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@ABSL_LIBS@|$absl_libs|" \
  tools/pkgconfig/ers.pc.in >"$prefix/lib/pkgconfig/ers.pc"
# Man pages and completion, made by the binary from its own --help text.
"$built/cli/ers" manpage >"$prefix/share/man/man1/ers.1"
for cmd in $("$built/cli/ers" completion bash | sed -n 's/^    \([a-z]*\)) flags=.*/\1/p'); do
  "$built/cli/ers" manpage "$cmd" >"$prefix/share/man/man1/ers-$cmd.1"
done
"$built/cli/ers" completion bash >"$prefix/share/bash-completion/completions/ers"
"$built/cli/ers" completion zsh >"$prefix/share/zsh/site-functions/_ers"
echo "install: ers $version in $prefix"
