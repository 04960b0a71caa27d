#!/usr/bin/python3
"""Times one sweep cell: `lorank experiment sweep --true-ranks K --ranks R --threads 1`
against bench/sweep_cell_numpy.py, alternating runs, and checks both agree to 4 decimals.

  bench/sweep_vs_numpy.py [--lorank build/lorank] [--runs 9] [--true-rank 4] [--rank 16]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: {cmd[0]} failed: {p.stderr.strip()}")
    return time.perf_counter() - t0, p.stdout


ap = argparse.ArgumentParser()
ap.add_argument("--lorank", default=os.path.join(os.path.dirname(HERE), "build", "lorank"))
ap.add_argument("--runs", type=int, default=9)
ap.add_argument("--true-rank", type=int, default=4)
ap.add_argument("--rank", type=int, default=16)
a = ap.parse_args()
lo = [a.lorank, "experiment", "sweep", "--true-ranks", str(a.true_rank), "--ranks", str(a.rank),
      "--threads", "1", "--json"]
np_cmd = ["/usr/bin/python3", os.path.join(HERE, "sweep_cell_numpy.py"), "--true-rank",
          str(a.true_rank), "--rank", str(a.rank)]
_, out_lo = timed(lo)
_, out_np = timed(np_cmd)
cell = json.loads(out_lo)["cells"][0]
ref = json.loads(out_np)
for key in ("rel_err", "optimal_rel_err"):
    if f"{cell[key]:.4f}" != f"{ref[key]:.4f}":
        sys.exit(f"bench: {key} differs: lorank {cell[key]} vs numpy {ref[key]}")
t_lo, t_np = [], []
for _ in range(a.runs):
    t_lo.append(timed(lo)[0])
    t_np.append(timed(np_cmd)[0])
m_lo, m_np = statistics.median(t_lo), statistics.median(t_np)
print(f"cell k={a.true_rank} r={a.rank}: lorank {m_lo*1e3:.1f} ms, NumPy {m_np*1e3:.1f} ms "
      f"(medians of {a.runs}, whole processes, one thread): {m_np/m_lo:.1f}x; same digits")
