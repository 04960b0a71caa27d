#!/usr/bin/env bash
# Regenerates lorank's speed figures on this machine, side by side with the peers, in one run:
#   bench/run_all.sh [--quick] [--out DIR]
# Needs the benchmark build (cmake -DLORANK_BUILD_BENCH=ON, build/), python3-numpy, and the
# 7B-shaped adapter, which it makes on first use (about 6 minutes, 305 MiB in
# /tmp/lorabench). --quick: fewer runs (3 instead of 11/5), no dense-SVD peer.
# Writes DIR (default build/bench-results) with one JSON summary per benchmark, the
# machine's limits (build/bench/machine_bench) and table.md, and prints the table.
# Merge and extract have their own, longer benchmarks with torch as the peer
# (bench/merge_vs_peers.py, bench/extract_vs_peers.py; docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
OUT=build/bench-results
QUICK=0
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --out) OUT=$2; shift ;;
    *) echo "usage: bench/run_all.sh [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
SHARED=${LORANK_SHARED_DIR:-../shared}
ADAPTER=/tmp/lorabench/7b-r64-bf16
for f in build/lorank build/bench/machine_bench; do
  [[ -x $f ]] || { echo "run_all: $f is missing: build with -DLORANK_BUILD_BENCH=ON first" >&2; exit 2; }
done
mkdir -p "$OUT"
rm -f "$OUT"/*.json
if [[ ! -f $ADAPTER/adapter_model.safetensors ]]; then
  echo "run_all: making $ADAPTER (once)" >&2
  $PY "$SHARED/bench/make_adapter.py" --preset 7b --r 64 --alpha 16 --dtype BF16 --planted-rank 8 --out "$ADAPTER" >&2
fi
if ((QUICK)); then DEMO_RUNS=3; RUNS=3; DENSE=--no-dense; else DEMO_RUNS=11; RUNS=5; DENSE=; fi

echo "run_all: machine limits" >&2
lscpu | sed -n 's/^Model name: *//p' | head -1 > "$OUT/cpu.txt"
build/bench/machine_bench --benchmark_format=json > "$OUT/machine.json" 2>/dev/null
cat "$ADAPTER/adapter_model.safetensors" > /dev/null  # into the page cache
# dd's last line ends in its rate; bytes / seconds from its own counts, warm cache.
dd if="$ADAPTER/adapter_model.safetensors" of=/dev/null bs=1M 2>&1 |
  awk '/bytes/ {for (i = 1; i <= NF; i++) if ($i == "s,") print $1 / $(i - 1)}' > "$OUT/page_cache.txt"

echo "run_all: demo" >&2
$PY bench/demo_vs_numpy.py --runs "$DEMO_RUNS" --summary "$OUT/demo.json" >&2
echo "run_all: audit" >&2
$PY bench/audit_vs_numpy.py "$ADAPTER" --runs "$RUNS" $DENSE --summary "$OUT/audit.json" >&2
echo "run_all: resize" >&2
$PY bench/resize_vs_numpy.py "$ADAPTER" --runs "$RUNS" --no-dense --summary "$OUT/resize.json" >&2
$PY bench/report_table.py "$OUT" | tee "$OUT/table.md"
