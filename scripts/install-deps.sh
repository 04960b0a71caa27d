#!/usr/bin/env bash
# Installs lorank's dependencies from Debian 12's archive.
#   scripts/install-deps.sh          what building lorank needs (the demo, audit, resize, ...)
#   scripts/install-deps.sh --test   also what the tests, benchmarks and CI need
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config
      libeigen3-dev libopenblas-dev liblapacke-dev libfmt-dev nlohmann-json3-dev libcli11-dev)
case "${1:-}" in
  "") ;;
  --test)
    PKGS+=(libgtest-dev libbenchmark-dev
           python3-numpy              # the tests' oracle and the benchmarks' peer
           python3-dev pybind11-dev python3-pybind11 libdlpack-dev  # the Python module (python/)
           python3-pytest python3-venv  # its tests; the README's offline pip install
           python3-torch              # the Python module's torch interop test (~90 s to install)
           chromium                   # headless render check of the HTML report (tools/check_html.sh)
           clang libclang-rt-14-dev)  # libFuzzer + sanitizer runtimes (scripts/fuzz.sh, CI)
    ;;
  *) echo "usage: scripts/install-deps.sh [--test]" >&2; exit 2 ;;
esac
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
