#!/usr/bin/python3
"""One cell of `lorank experiment sweep` in NumPy: the speed peer (and a cross-check).

  bench/sweep_cell_numpy.py --true-rank 4 --rank 16 [--dim 64 --steps 5000 --lr 0.01
                            --noise 0.01 --seed 42 --init-seed 0]

Same streams and arithmetic as the demo: target from np.random.seed(seed), A from
default_rng(init_seed), full-batch gradient descent, then the Eckart–Young optimum from the
target's SVD. Prints one JSON object: rel_err, optimal_rel_err, seconds.
"""
import argparse
import json
import time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--dim", type=int, default=64)
ap.add_argument("--true-rank", type=int, default=4)
ap.add_argument("--rank", type=int, default=16)
ap.add_argument("--steps", type=int, default=5000)
ap.add_argument("--lr", type=float, default=0.01)
ap.add_argument("--noise", type=float, default=0.01)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--init-seed", type=int, default=0)
a = ap.parse_args()

t0 = time.time()
np.random.seed(a.seed)
U = np.random.randn(a.dim, a.true_rank)
V = np.random.randn(a.true_rank, a.dim)
T = (U @ V) / np.sqrt(a.true_rank) + a.noise * np.random.randn(a.dim, a.dim)
B = np.zeros((a.dim, a.rank))
A = np.random.default_rng(a.init_seed).standard_normal((a.rank, a.dim)) * 0.01
for _ in range(a.steps):
    E = B @ A - T
    gB = E @ A.T
    gA = B.T @ E
    B -= a.lr * gB
    A -= a.lr * gA
rel = float(np.linalg.norm(T - B @ A) / np.linalg.norm(T))
s = np.linalg.svd(T, compute_uv=False)
opt = float(np.sqrt(np.sum(s[a.rank:] ** 2) / np.sum(s ** 2)))
print(json.dumps({"rel_err": rel, "optimal_rel_err": opt, "seconds": time.time() - t0}))
