#!/usr/bin/python3
"""The mergekit way of extracting a LoRA from a fine-tune, with PyTorch (Debian's
python3-torch): the peer `lorank extract` is timed against in bench/extract_vs_peers.py.

    /usr/bin/python3 bench/extract_peer_torch.py BASE.safetensors FINE.safetensors
                     [--rank 64] [--threads 2] [--out FACTORS.pt] [--dense-sample]

Per 2-D tensor that differs (mergekit-extract-lora, mergekit/scripts/extract_lora.py):
  ΔW = fine.float() − base.float();  U, S, V = torch.svd_lowrank(ΔW, q = r + 10, niter = 2)
keeping the top r. The tensors are torch.frombuffer views of the mmapped files (the reader of
bench/merge_peer_torch.py), each tensor's pages released once done. With --out, the kept
U[:, :r], S[:r], V[:, :r] of every matrix are saved (torch.save) for the accuracy check.
Nothing else is written: mergekit's own output (a PEFT folder) would add a write of the
factors, which this leaves out in the peer's favour.

--dense-sample instead times torch.linalg.svd(ΔW, full_matrices=False) (the kohya/LyCORIS
way) on the first matrix of each shape and prints one JSON line per shape, for the
extrapolation. Timings go to stderr as JSON: {"seconds": ..., "matrices": ...}.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from merge_peer_torch import open_tensors, release  # noqa: E402


def pairs(base_path, fine_path):
    base, mb, fb = open_tensors(base_path)
    fine, mf, ff = open_tensors(fine_path)
    for name, (w, (b0, b1)) in base.items():
        f, (f0, f1) = fine[name]
        if w.dim() == 2 and not torch.equal(w, f):
            yield name, w, f
        release(mb, b0, b1)
        release(mf, f0, f1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("fine")
    ap.add_argument("--rank", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out")
    ap.add_argument("--dense-sample", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    clock = time.perf_counter
    t_start = clock()
    if args.dense_sample:
        seen = set()
        for name, w, f in pairs(args.base, args.fine):
            shape = tuple(w.shape)
            if shape in seen:
                continue
            seen.add(shape)
            dw = f.float() - w.float()
            t0 = clock()
            torch.linalg.svd(dw, full_matrices=False)
            print(json.dumps({"name": name, "shape": list(shape), "seconds": clock() - t0}), flush=True)
        return
    kept, count = {}, 0
    r = args.rank
    for name, w, f in pairs(args.base, args.fine):
        dw = f.float() - w.float()
        u, s, v = torch.svd_lowrank(dw, q=r + 10, niter=2)
        if args.out:
            kept[name] = (u[:, :r].clone(), s[:r].clone(), v[:, :r].clone())
        count += 1
    seconds = clock() - t_start
    if args.out:
        torch.save(kept, args.out)
    print(json.dumps({"seconds": seconds, "matrices": count}), file=sys.stderr)


if __name__ == "__main__":
    main()
