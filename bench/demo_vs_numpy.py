#!/usr/bin/python3
"""Times `lorank demo` against the NumPy reference script, alternating runs.

  bench/demo_vs_numpy.py [--lorank build/lorank] [--runs 11] [-- DEMO FLAGS...]

Each round runs lorank then NumPy (../shared/bench/demo_numpy.py) with the same flags,
measuring whole-process wall time (interpreter start included for NumPy, as a user sees
it). Checks that both print the same table digits, reports medians, min-max and the
ratio, and names the BLAS NumPy is using (the fair peer is NumPy on OpenBLAS).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import summary

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.environ.get("LORANK_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
PYTHON = "/usr/bin/python3"


def numpy_blas():
    code = ("import numpy, re; numpy.ones((2,2)) @ numpy.ones((2,2)); "
            "libs = set(re.findall(r'/\\S*(?:blas|lapack)\\S*', open('/proc/self/maps').read())); "
            "print(numpy.__version__, ' '.join(sorted(libs)))")
    return subprocess.run([PYTHON, "-c", code], capture_output=True, text=True).stdout.strip()


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {cmd[0]} failed: {p.stderr.strip()}")
    return dt, p.stdout


def rows_from_numpy(out):
    rows = []
    for r in json.loads(out)["rows"]:
        rows.append(f"{r['rank']:13d}  |  {r['rel_err_str']:>13}  | " + "  ".join(r["top_str"]))
    return rows


def demo_work(flags):
    """The demo's arithmetic: every gradient step at rank r does three dim×dim×r products
    (B·A, E·Aᵀ, Bᵀ·E; 2 FLOPs per multiply-add; the updates are lower order). The ranks run
    in parallel, so the bound on `cores` cores is max(largest rank's work on one core, all
    the work spread over the cores): returns (total FLOPs, largest rank's FLOPs)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--ranks", default="2,4,16")
    known, _ = ap.parse_known_args(flags)
    per_rank = [known.steps * 3 * 2 * known.dim * known.dim * int(r) for r in known.ranks.split(",")]
    return sum(per_rank), max(per_rank)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lorank", default=os.path.join(ROOT, "build", "lorank"))
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    summary.add_argument(ap)
    ap.add_argument("demo_flags", nargs="*")
    a = ap.parse_args()
    lorank_cmd = [a.lorank, "demo", *a.demo_flags]
    numpy_cmd = [PYTHON, os.path.join(SHARED, "bench", "demo_numpy.py"), *a.demo_flags]
    # Warm-up (page cache, CPU frequency), then the identical-output check.
    _, lo = timed(lorank_cmd)
    _, no = timed(numpy_cmd)
    missing = [row for row in rows_from_numpy(no) if row not in lo.splitlines()]
    if missing:
        sys.exit("bench: outputs differ; NumPy rows not in lorank's table:\n" + "\n".join(missing))
    t_lo, t_np = [], []
    for _ in range(a.runs):
        t_lo.append(timed(lorank_cmd)[0])
        t_np.append(timed(numpy_cmd)[0])
    res = {
        "flags": a.demo_flags, "runs": a.runs, "numpy": numpy_blas(),
        "lorank_s": {"median": statistics.median(t_lo), "min": min(t_lo), "max": max(t_lo)},
        "numpy_s": {"median": statistics.median(t_np), "min": min(t_np), "max": max(t_np)},
    }
    res["ratio"] = res["numpy_s"]["median"] / res["lorank_s"]["median"]
    summary.write(a.summary, "demo", summary.row("lorank demo", res["lorank_s"]["median"]),
                  [summary.row("NumPy reference (demo_numpy.py)", res["numpy_s"]["median"])],
                  target="≥ 5× NumPy, within 1.3× of the FLOP bound", flags=a.demo_flags,
                  flops=demo_work(a.demo_flags)[0], flops_critical_path=demo_work(a.demo_flags)[1])
    if a.json:
        print(json.dumps(res, indent=2))
        return
    print(f"NumPy {res['numpy']}")
    for name in ("lorank", "numpy"):
        s = res[f"{name}_s"]
        print(f"{name:>7}: median {s['median']*1e3:7.1f} ms  (min {s['min']*1e3:.1f}, "
              f"max {s['max']*1e3:.1f}, n={a.runs})")
    print(f"identical table digits; lorank is {res['ratio']:.1f}x faster (median wall time)")


if __name__ == "__main__":
    main()
