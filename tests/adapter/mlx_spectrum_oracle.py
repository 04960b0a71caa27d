#!/usr/bin/python3
"""Independent NumPy oracle for lorank's reading of mlx_lm adapters.

Usage: mlx_spectrum_oracle.py FOLDER

FOLDER holds adapters.safetensors and adapter_config.json as mlx_lm writes them. Read here
with the standard library and NumPy only. mlx_lm's LoRALinear computes
y += scale * (x @ lora_a) @ lora_b with lora_a [in, r] and lora_b [r, out], so the update of
the base weight W (out x in, y = x @ W.T) is dW = scale * (lora_a @ lora_b).T: formed here
densely. Its singular values: the columns of dW lie in the span of lora_b.T's r columns, so
with Q the orthonormal basis of that span (QR of lora_b.T), dW = Q Q^T dW and
sigma(dW) = sigma(Q^T dW), an r x in matrix (dense SVD). The scale is
lora_parameters.scale, used as is (mlx_lm >= 0.14.2 ignores lora_parameters.alpha).

Output: one JSON object on stdout, {"scale": s, "modules": [{"module", "r", "out", "in",
"singular_values"}, ...]} in file order. Exit 2 for unreadable input.
"""
import json
import math
import os
import struct
import sys

import numpy as np

NP_DTYPE = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        if info["dtype"] == "BF16":
            v = (np.frombuffer(body[begin:end], dtype="<u2").astype(np.uint32) << 16).view("<f4")
        else:
            v = np.frombuffer(body[begin:end], dtype=NP_DTYPE[info["dtype"]])
        out[name] = v.astype(np.float64).reshape(info["shape"])
    return out


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    folder = argv[0]
    try:
        tensors = read_safetensors(os.path.join(folder, "adapters.safetensors"))
        with open(os.path.join(folder, "adapter_config.json"), encoding="utf-8") as f:
            scale = float(json.load(f)["lora_parameters"]["scale"])
    except (OSError, ValueError, KeyError, struct.error) as e:
        print(f"mlx_spectrum_oracle: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    modules = []
    for name, a in tensors.items():
        if not name.endswith(".lora_a"):
            continue
        base = name[: -len(".lora_a")]
        b = tensors[base + ".lora_b"]
        dw = scale * (a @ b).T  # out x in
        q, _ = np.linalg.qr(b.T)  # out x r
        sigma = np.linalg.svd(q.T @ dw, compute_uv=False)
        modules.append({"module": base, "r": a.shape[1], "out": dw.shape[0], "in": dw.shape[1],
                        "singular_values": [float(x) for x in sigma]})
    print(json.dumps({"scale": scale, "modules": modules}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
