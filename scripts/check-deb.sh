#!/usr/bin/env bash
# Builds lorank's Debian packages with CPack from an existing build directory and checks
# that they install and run (CI stage "package (.deb)"; cmake/install.cmake has the rules).
#   scripts/check-deb.sh [BUILD_DIR] [--keep]
#  1. cpack in BUILD_DIR (default: build) → lorank_<v>_amd64.deb (the command) and
#     liblorank-dev_<v>_amd64.deb (headers, static library, CMake package, lorank.pc);
#  2. both unpacked with dpkg-deb -x into an empty root: `lorank --version` and `lorank demo`
#     run from it, and tests/install/consumer builds against it with find_package and
#     pkg-config;
#  3. a real `apt-get install --reinstall ./*.deb` (Depends resolved from the archive, as on
#     a clean Debian 12), refused if apt would remove any package; then the same checks
#     against /usr. Afterwards the packages are removed again unless they were installed
#     before or --keep is given, so the script can run any number of times.
# Needs root or sudo for step 3 and dpkg-shlibdeps (dpkg-dev, part of build-essential).
# Docker is not used: CI has no daemon (checked: `docker info` cannot connect).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    -*) echo "usage: scripts/check-deb.sh [BUILD_DIR] [--keep]" >&2; exit 2 ;;
    *) build=$arg ;;
  esac
done
fail() { echo "check-deb: $*" >&2; exit 1; }
say() { echo "check-deb: $*" >&2; }
[[ -f $build/CPackConfig.cmake ]] || fail "$build/CPackConfig.cmake missing: configure lorank in $build first"
command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps missing (apt-get install dpkg-dev)"
SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[[ -n $version ]] || fail "no project version in $build/CMakeCache.txt"
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lorank-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"  # apt reads local .deb files as its unprivileged _apt user

# --- 1. The packages (a no-op build when the tests stage built everything).
cmake --build "$build" >/dev/null
(cd "$build" && cpack -G DEB -B "$tmp/packages" >"$tmp/cpack.log" 2>&1) ||
  { cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
cli_deb=$tmp/packages/lorank_${version}_amd64.deb
dev_deb=$tmp/packages/liblorank-dev_${version}_amd64.deb
[[ -f $cli_deb && -f $dev_deb ]] || { ls "$tmp/packages" >&2; fail "cpack did not make lorank_${version}_amd64.deb and liblorank-dev_${version}_amd64.deb"; }
chmod 644 "$cli_deb" "$dev_deb"
for deb in "$cli_deb" "$dev_deb"; do
  say "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB, Depends: $(dpkg-deb -f "$deb" Depends)"
done
[[ $(dpkg-deb -f "$cli_deb" Depends) == *libopenblas* ]] || fail "lorank's Depends lacks OpenBLAS (dpkg-shlibdeps not run?)"

# The command runs and the library serves a consumer from ROOT/usr.
check_prefix() {  # check_prefix USR_DIR LABEL
  local usr=$1 label=$2 out
  out=$("$usr/bin/lorank" --version)
  [[ $out == "lorank $version" ]] || fail "$label: lorank --version printed '$out'"
  "$usr/bin/lorank" demo >"$tmp/demo.txt" || fail "$label: lorank demo failed"
  grep -q 'allocated r' "$tmp/demo.txt" || fail "$label: lorank demo printed no table"
  rm -rf "$tmp/consumer"
  cmake -S tests/install/consumer -B "$tmp/consumer" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$usr" -DLORANK_EXPECTED_VERSION="$version" >"$tmp/consumer.log" 2>&1 &&
    cmake --build "$tmp/consumer" >>"$tmp/consumer.log" 2>&1 ||
    { cat "$tmp/consumer.log" >&2; fail "$label: the consumer does not build with find_package(lorank)"; }
  "$tmp/consumer/lorank_consumer" >/dev/null || fail "$label: the find_package consumer failed"
  local pcdir
  pcdir=$(dirname "$(find "$usr/lib" -name lorank.pc -path '*pkgconfig*' | head -1)")
  read -r -a flags <<<"$(PKG_CONFIG_PATH=$pcdir pkg-config --static --cflags --libs lorank)"
  "$cxx" -O1 "-DLORANK_EXPECTED_VERSION=\"$version\"" tests/install/consumer/main.cc "${flags[@]}" \
    -o "$tmp/pc_consumer" || fail "$label: the consumer does not build with pkg-config"
  "$tmp/pc_consumer" >/dev/null || fail "$label: the pkg-config consumer failed"
  say "$label: lorank --version, lorank demo, find_package and pkg-config consumers OK"
}

# --- 2. Unpacked into an empty root.
dpkg-deb -x "$cli_deb" "$tmp/root"
dpkg-deb -x "$dev_deb" "$tmp/root"
check_prefix "$tmp/root/usr" "unpacked"

# --- 3. Installed by apt, as a user would. --reinstall: a rebuilt package of the same
# version replaces the one a previous run left.
installed_before=()
for p in lorank liblorank-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && installed_before+=("$p")
done
apt_install=(apt-get install -y -q --no-install-recommends --reinstall "$cli_deb" "$dev_deb")
$SUDO "${apt_install[@]}" -s >"$tmp/apt-sim.txt" 2>&1 || { cat "$tmp/apt-sim.txt" >&2; fail "apt-get cannot install the packages"; }
if grep -q '^Remv' "$tmp/apt-sim.txt"; then
  grep '^Remv' "$tmp/apt-sim.txt" >&2
  fail "installing the packages would remove the packages above; not installing"
fi
say "apt installs: $(grep '^Inst' "$tmp/apt-sim.txt" | awk '{print $2}' | tr '\n' ' ')"
DEBIAN_FRONTEND=noninteractive $SUDO "${apt_install[@]}" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log" >&2; fail "apt-get install failed"; }
cmp -s /usr/bin/lorank "$tmp/root/usr/bin/lorank" || fail "/usr/bin/lorank is not the packaged binary"
check_prefix /usr "apt-installed"
if ((keep == 0 && ${#installed_before[@]} == 0)); then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove -y -q lorank liblorank-dev >"$tmp/apt.log" 2>&1 ||
    { cat "$tmp/apt.log" >&2; fail "apt-get remove failed"; }
  say "removed lorank and liblorank-dev again (--keep keeps them)"
fi
say "OK"
