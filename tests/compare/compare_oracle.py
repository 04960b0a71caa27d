#!/usr/bin/python3
"""Dense NumPy oracle for lorank compare (tests/compare/compare_test.cc).

Reads a JSON file {"side": "left"|"right", "a": {"B": [[..]], "A": [[..]], "s": x}, "b": {..}},
forms each update W = s*B@A densely in float64, takes its singular directions from
numpy.linalg.svd (U for "left", V for "right"), keeps the first matrix_rank(W) of them and
prints {"rank_a", "rank_b", "phi": [[phi(i, j)]]} with
phi(i, j) = ||U_i^T U'_j||_F^2 / min(i, j) (Hu et al. 2022, section 7.2).
"""
import json
import sys

import numpy as np


def directions(m, side):
    w = m["s"] * (np.array(m["B"], dtype=np.float64) @ np.array(m["A"], dtype=np.float64))
    u, _, vt = np.linalg.svd(w, full_matrices=False)
    n = int(np.linalg.matrix_rank(w))
    return (u[:, :n] if side == "left" else vt[:n].T), n


def main():
    with open(sys.argv[1]) as f:
        case = json.load(f)
    ua, na = directions(case["a"], case["side"])
    ub, nb = directions(case["b"], case["side"])
    g = ua.T @ ub
    phi = [[float(np.sum(g[:i, :j] ** 2) / min(i, j)) for j in range(1, nb + 1)]
           for i in range(1, na + 1)]
    json.dump({"rank_a": na, "rank_b": nb, "phi": phi}, sys.stdout)


if __name__ == "__main__":
    main()
