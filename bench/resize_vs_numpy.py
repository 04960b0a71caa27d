#!/usr/bin/python3
"""`lorank resize` against `lorank audit` and the dense-SVD way, on one adapter.

    /usr/bin/python3 bench/resize_vs_numpy.py [ADAPTER] [--rule energy:0.99] [--runs 3]
                                             [--lorank build/lorank] [--no-dense]

ADAPTER defaults to /tmp/lorabench/7b-r64-bf16 (see bench/adapter_bench.cc for the
command that makes it). Runs, each --runs times (median wall, peak RSS):
  1. lorank audit ADAPTER --json                     (the yardstick: issue 5 asks ≤ 2×)
  2. lorank resize ADAPTER --rule RULE -o OUT --json (verification on, the default)
  3. the same with --no-verify
  4. ../shared/bench/peer_numpy_dense.py --per-shape 1, extrapolated by the peer to the
     whole adapter (SkylakeX kernels, once): the dense out×in SVD that kohya's
     resize_lora.py and PEFT-style scripts run per module. It computes values only, so it
     is a lower bound for a dense resize, which also needs the vectors.
Prints the ratios and the resize's totals (parameters and bytes before/after).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from audit_vs_numpy import dense_peer_seconds, measure  # noqa: E402
import summary  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("adapter", nargs="?", default="/tmp/lorabench/7b-r64-bf16")
    ap.add_argument("--lorank", default=os.path.join(HERE, "..", "build", "lorank"))
    ap.add_argument("--rule", default="energy:0.99")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-dense", action="store_true")
    summary.add_argument(ap)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="resize_vs_numpy.")
    unset = {"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": None}
    out = os.path.join(work, "out")
    print(f"# adapter {args.adapter}, rule {args.rule}, {args.runs} runs each, "
          f"{os.cpu_count()} cores")
    audit = measure("lorank audit --json", [args.lorank, "audit", args.adapter, "--json"],
                    unset, args.runs)
    resize_cmd = [args.lorank, "resize", args.adapter, "--rule", args.rule, "-o", out,
                  "--overwrite", "--json"]
    report = os.path.join(work, "resize.json")
    resize = measure("lorank resize (verified)", resize_cmd, unset, args.runs, report)
    unverified = measure("lorank resize --no-verify", resize_cmd + ["--no-verify"], unset,
                         args.runs)
    dense_s = None if args.no_dense else dense_peer_seconds(args.adapter, work)
    base = audit["median_s"]
    print("\n# ratios (wall / lorank audit wall, medians)")
    print(f"  {'lorank resize (verified)':<44} {resize['median_s'] / base:7.2f}x")
    print(f"  {'lorank resize --no-verify':<44} {unverified['median_s'] / base:7.2f}x")
    if dense_s:
        print(f"  dense SVD values only, extrapolated {dense_s:.0f} s: "
              f"{dense_s / resize['median_s']:.0f}x the verified resize")
    with open(report) as f:
        totals = json.load(f)["totals"]
    print(f"\n# totals: parameters {totals['params_before']} -> {totals['params_after']}, "
          f"bytes {totals['bytes_before']} -> {totals['bytes_after']}")
    summary.write(args.summary, f"resize --rule {args.rule}",
                  summary.row("lorank resize (verified)", resize["median_s"], resize["peak_rss_mib"]),
                  [summary.row("lorank audit --json (the yardstick)", base, audit["peak_rss_mib"])],
                  target="≤ 1.6× the audit", ratio_to_peer_max=1.6)
    shutil.rmtree(out, ignore_errors=True)
    print(f"# results kept in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
