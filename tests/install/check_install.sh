#!/usr/bin/env bash
# ctest: installs the current build into a temporary prefix and builds the consumer in
# consumer/ against it, once with find_package(lorank) and once with pkg-config; both
# binaries must run and check a spectrum and the version.
# Usage: check_install.sh BUILD_DIR VERSION LIBDIR static|shared GENERATOR CXX
set -euo pipefail
build=$1 version=$2 libdir=$3 linkage=$4 generator=$5 cxx=$6
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lorank-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "check_install: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null

# Every public header (and the generated version.h) is installed; the command runs.
for h in "$src"/include/lorank/*.h; do
  [[ -f $prefix/include/lorank/$(basename "$h") ]] || fail "not installed: include/lorank/$(basename "$h")"
done
[[ -f $prefix/include/lorank/version.h ]] || fail "not installed: include/lorank/version.h"
[[ ! -e $prefix/include/lorank/version.h.in ]] || fail "installed the template version.h.in"
out=$("$prefix/bin/lorank" --version)
[[ $out == "lorank $version" ]] || fail "installed lorank --version printed '$out', expected 'lorank $version'"
if [[ $linkage == static ]]; then
  [[ -f $prefix/$libdir/liblorank.a ]] || fail "no $libdir/liblorank.a"
else
  [[ -f $prefix/$libdir/liblorank.so ]] || fail "no $libdir/liblorank.so"
fi

# find_package(lorank VERSION EXACT): the config, its version file and lorank::lorank.
# Nothing but the prefix may provide lorank (a .deb may have put one into /usr).
cmake -S "$here/consumer" -B "$tmp/consumer" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DLORANK_EXPECTED_VERSION="$version" \
  >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log" >&2; fail "consumer configure failed"; }
found=$(sed -n 's/^lorank_DIR:PATH=//p' "$tmp/consumer/CMakeCache.txt")
[[ $found == "$prefix/$libdir/cmake/lorank" ]] || fail "find_package(lorank) used '$found', not the prefix"
cmake --build "$tmp/consumer" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; fail "consumer build failed"; }
"$tmp/consumer/lorank_consumer"

# pkg-config: the same program from `pkg-config --cflags --libs` (plus --static for the
# static library, whose LAPACKE/OpenBLAS/pthread are Libs.private).
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
pcversion=$(pkg-config --modversion lorank)
[[ $pcversion == "$version" ]] || fail "pkg-config --modversion lorank is '$pcversion', expected $version"
static=(); [[ $linkage == static ]] && static=(--static)
read -r -a flags <<<"$(pkg-config "${static[@]}" --cflags --libs lorank)"
"$cxx" -O1 "-DLORANK_EXPECTED_VERSION=\"$version\"" "$here/consumer/main.cc" "${flags[@]}" \
  -o "$tmp/pc_consumer"
if [[ $linkage == shared ]]; then
  LD_LIBRARY_PATH=$prefix/$libdir "$tmp/pc_consumer"
else
  "$tmp/pc_consumer"
fi
echo "check_install: OK ($linkage lorank $version via find_package and pkg-config from $prefix)"
