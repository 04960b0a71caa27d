#!/usr/bin/python3
"""Writes the extract benchmark's inputs: a Llama-3.2-1B-shaped BF16 base and a "fine-tune"
whose every ΔW has a planted, slowly decaying spectrum (not low rank).

    /usr/bin/python3 bench/make_extract_pair.py [OUT_DIR] [--layers 16] [--decay 0.8]
                                                [--relative 0.05]

OUT_DIR (default /work/benchdata/extract) receives base/model.safetensors and
fine/model.safetensors (+ config.json in each), BF16, Hugging Face Llama names, the seven
projections of each layer (q, o 2048×2048; k, v 512×2048; gate, up 8192×2048; down
2048×8192) and the two RMSNorm weights (identical in both: lorank skips and counts them).
No embedding (tied, 128256×2048: it would double the file and is not extracted by default).

Each ΔW = U·diag(σ)·Vᵀ with U, V random orthonormal (QR of seeded Gaussians, m = min dim,
float32) and σᵢ = σ₁·i^(−decay) for every i ≤ m: a power law like real fine-tunes' spectra,
with nothing exactly zero. σ₁ is set so that ‖ΔW‖_F = relative·‖W‖_F (W ~ N(0, 0.02²)).
The fine-tune is bf16(base + ΔW), so the ΔW every tool sees (fine − base as stored) also
holds the BF16 rounding of the sum: a flat floor under the planted spectrum, as in a real
BF16 fine-tune. Seeds come from each tensor's name (CRC32), so every run writes the same
bytes (checked: layer 0 came out bit-identical in three runs, under
different loads). About 23 s per layer on 2 cores (6 min for 16 layers).
"""
import argparse
import json
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_merge_base import config, layer_shapes, to_bf16_bits  # noqa: E402


def rng_for(name, salt):
    return np.random.Generator(np.random.PCG64(zlib.crc32((salt + name).encode())))


def from_bf16_bits(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def orthonormal(rng, rows, cols):
    q, r = np.linalg.qr(rng.standard_normal((rows, cols), dtype=np.float32))
    return q * np.sign(np.diag(r))  # Haar-distributed, not QR's sign convention


def planted_delta(name, rows, cols, decay, relative):
    m = min(rows, cols)
    rng = rng_for(name, "delta:")
    sigma = np.arange(1, m + 1, dtype=np.float64) ** (-decay)
    target = relative * 0.02 * np.sqrt(rows * cols)
    sigma *= target / np.sqrt(np.sum(sigma ** 2))
    u = orthonormal(rng, rows, m)
    v = orthonormal(rng, cols, m)
    return (u * sigma.astype(np.float32)) @ v.T


def tensors(layers):
    out = {}
    for n in range(layers):
        out.update(layer_shapes(n))
    return dict(sorted(out.items()))


def write(path, shapes, data):
    header, at = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes.items():
        size = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [at, at + size]}
        at += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    f = open(path + ".tmp", "wb")
    f.write(len(text).to_bytes(8, "little"))
    f.write(text)
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default="/work/benchdata/extract")
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--decay", type=float, default=0.8)
    ap.add_argument("--relative", type=float, default=0.05, help="‖ΔW‖_F / ‖W‖_F")
    args = ap.parse_args()

    shapes = tensors(args.layers)
    paths = {}
    for side in ("base", "fine"):
        os.makedirs(os.path.join(args.out, side), exist_ok=True)
        paths[side] = os.path.join(args.out, side, "model.safetensors")
        cfg = config(args.layers)
        cfg["_note"] = f"synthetic Llama-3.2-1B-shaped pair for lorank's extract benchmark ({side})"
        with open(os.path.join(args.out, side, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
    fb, ff = write(paths["base"], shapes, None), write(paths["fine"], shapes, None)
    for name, shape in shapes.items():
        rng = rng_for(name, "base:")
        if len(shape) == 1:  # RMSNorm: the same in both
            bits = to_bf16_bits(1.0 + 0.05 * rng.standard_normal(shape, dtype=np.float32))
            fb.write(bits.tobytes())
            ff.write(bits.tobytes())
            continue
        base_bits = to_bf16_bits(0.02 * rng.standard_normal(shape, dtype=np.float32))
        fine = from_bf16_bits(base_bits) + planted_delta(name, *shape, args.decay, args.relative)
        fb.write(base_bits.tobytes())
        ff.write(to_bf16_bits(fine).tobytes())
        print(name, shape, flush=True)
    for f, path in ((fb, paths["base"]), (ff, paths["fine"])):
        f.close()
        os.replace(path + ".tmp", path)
    with open(os.path.join(args.out, "planted.json"), "w") as f:
        json.dump({"layers": args.layers, "decay": args.decay, "relative": args.relative}, f)
    print(f"wrote {paths['base']} and {paths['fine']}: {args.layers} layers, σᵢ ∝ i^-{args.decay}")


if __name__ == "__main__":
    main()
