"""NumPy oracle for lorank resize: the dense truncated SVD of s*B*A against lorank's factors.

Usage: resize_oracle.py B.f64 A.f64 out r in scale B2.f64 A2.f64 k scale2
(raw little-endian float64, row-major). Prints ||s*B*A truncated to k - s2*B2*A2||_F
divided by ||s*B*A||_F.
"""
import sys

import numpy as np


def main(argv):
    b_path, a_path, out, r, inp, scale, b2_path, a2_path, k, scale2 = argv
    out, r, inp, k = int(out), int(r), int(inp), int(k)
    b = np.fromfile(b_path, dtype="<f8").reshape(out, r)
    a = np.fromfile(a_path, dtype="<f8").reshape(r, inp)
    b2 = np.fromfile(b2_path, dtype="<f8").reshape(out, k)
    a2 = np.fromfile(a2_path, dtype="<f8").reshape(k, inp)
    dw = float(scale) * (b @ a)
    u, s, vt = np.linalg.svd(dw, full_matrices=False)
    truncated = (u[:, :k] * s[:k]) @ vt[:k]
    ours = float(scale2) * (b2 @ a2)
    print(repr(np.linalg.norm(truncated - ours) / np.linalg.norm(dw)))


if __name__ == "__main__":
    main(sys.argv[1:])
