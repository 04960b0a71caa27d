#!/usr/bin/env python3
"""Dense NumPy oracle for `lorank combine` with PEFT and mlx_lm adapters.

  combine_oracle.py OUTPUT RANK W1,W2,... ADAPTER...

Forms every module's dense update of every adapter with tests/merge/merge_oracle.py's
reader (its own safetensors and config parsing), the weighted sum, and its best rank-k
approximation by np.linalg.svd; RANK is "cat" (every direction: the sum itself) or k.
Checks that lorank's OUTPUT (read the same way) holds that matrix for every module, to
the float32 rounding of the stored factors, and has the expected rank. Exit 0 when all agree.
"""
import os, sys
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "merge"))
from merge_oracle import expected_updates, product, read_st  # noqa: E402


def rank_of(output, name):
    """The stored rank of module `name` ("<path>.weight") of a PEFT or mlx_lm output."""
    path = name[:-len(".weight")]
    if os.path.exists(os.path.join(output, "adapters.safetensors")):
        return read_st(os.path.join(output, "adapters.safetensors"))[path + ".lora_a"][1][1]
    t = read_st(os.path.join(output, "adapter_model.safetensors"))
    for suffix in (".lora_A.weight", ".lora_embedding_A"):
        if "base_model.model." + path + suffix in t:
            return t["base_model.model." + path + suffix][1][0]
    raise KeyError(name)


def main(output, rank, weights, adapters):
    weights = [float(w) for w in weights.split(",")]
    want = {}
    ranks = {}
    for w, a in zip(weights, adapters):
        for name, (s, B, A, transposed, _) in expected_updates(a, 1.0).items():
            P = product(B, A).T if transposed else product(B, A)
            want[name] = want.get(name, 0) + w * s * P
            ranks[name] = ranks.get(name, 0) + rank_of(a, name)
    got = expected_updates(output, 1.0)
    assert set(got) == set(want), f"modules differ: {sorted(set(got) ^ set(want))}"
    worst = 0.0
    for name, D in want.items():
        s, B, A, transposed, _ = got[name]
        G = s * (product(B, A).T if transposed else product(B, A))
        if rank == "cat":
            target, k = D, min(ranks[name], *D.shape)
        else:
            U, S, Vt = np.linalg.svd(D, full_matrices=False)
            k = min(int(rank), ranks[name], *D.shape)
            target = (U[:, :k] * S[:k]) @ Vt[:k]
        if rank_of(output, name) != k:
            print(f"MISMATCH {name}: rank {rank_of(output, name)}, expected {k}")
            return 1
        err = np.linalg.norm(G - target) / max(np.linalg.norm(D), 1e-300)
        worst = max(worst, err)
        if err > 2e-6:  # float32 factors: about 1e-7 relative per entry
            print(f"MISMATCH {name}: relative error {err:.3e}")
            return 1
    print(f"ok: {len(want)} modules, worst relative error {worst:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
