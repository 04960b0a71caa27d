#!/usr/bin/python3
"""The PEFT way of merging a LoRA into its base, with PyTorch (Debian's python3-torch): the
peer `lorank merge` is timed against in bench/merge_vs_peers.py.

    /usr/bin/python3 bench/merge_peer_torch.py BASE.safetensors ADAPTER_DIR OUT.safetensors
                                               [--threads 2] [--fsync]

What PEFT's merge_and_unload does per targeted Linear (peft/tuners/lora/layer.py: on CPU a
BF16/F16 delta is computed in float32), done here as competently as torch allows:
  W32 = W.float();  W32.addmm_(B.float(), A.float(), alpha=s)   # W += s·(B@A), one sgemm
  W' = W32.to(bfloat16)                                          # round to nearest even
with s = lora_alpha / r (alpha / √r with use_rslora). Unlike PEFT (which loads the whole
model, then save_pretrained), it streams: each base tensor is read from the memory-mapped
file, merged and written before the next one, so its memory stays near one tensor in F32,
as lorank's. Untargeted tensors are copied byte for byte. The output's header is the
base's (same names, dtypes, shapes and offsets).

There is no `safetensors` Python package here, so the file is read the way that library
does: 8-byte little-endian header length, JSON header, tensors as torch.frombuffer views of
the mmap. Handles PEFT safetensors adapters without fan_in_fan_out, DoRA or embeddings
(which is all the benchmark's adapter holds); anything else is refused.
"""
import argparse
import json
import math
import mmap
import os
import sys
import time
import warnings

import torch

DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}


def read_header(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header, 8 + n


def open_tensors(path):
    """({name: (tensor view of the mapped file, absolute byte range)}, in data order, the
    mapping, the file)."""
    header, start = read_header(path)
    f = open(path, "rb")
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    out = {}
    with warnings.catch_warnings():  # frombuffer warns that the mapping is read-only
        warnings.simplefilter("ignore")
        for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            begin, end = info["data_offsets"]
            dtype = DTYPES[info["dtype"]]
            count = (end - begin) // torch.tensor([], dtype=dtype).element_size()
            t = torch.frombuffer(mm, dtype=dtype, count=count, offset=start + begin)
            out[name] = (t.view(info["shape"]) if info["shape"] else t.view(()),
                         (start + begin, start + end))
    return out, mm, f


def release(mm, begin, end):
    """Drops the whole pages of [begin, end) of the read-only mapping from the RSS."""
    page = mmap.PAGESIZE
    first, last = (begin + page - 1) // page * page, end // page * page
    if first < last:
        mm.madvise(mmap.MADV_DONTNEED, first, last - first)


def load_adapter(adapter_dir):
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        cfg = json.load(f)
    if cfg.get("fan_in_fan_out") or cfg.get("use_dora") or cfg.get("rank_pattern") or cfg.get("alpha_pattern"):
        sys.exit("merge_peer_torch: only plain LoRA adapters are handled")
    r, alpha = cfg["r"], cfg["lora_alpha"]
    scale = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
    tensors, mm, f = open_tensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
    pairs = {}
    for name, (t, _) in tensors.items():
        for part in ("lora_A", "lora_B"):
            tag = "." + part + ".weight"
            if name.endswith(tag):
                base = name[: -len(tag)].removeprefix("base_model.model.") + ".weight"
                pairs.setdefault(base, {})[part] = t.float()  # copied out of the mapping
    mm.close()
    f.close()
    return pairs, scale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("adapter")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fsync", action="store_true", help="fsync the output before exiting")
    ap.add_argument("--profile", action="store_true", help="print seconds per step on stderr")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    pairs, scale = load_adapter(args.adapter)
    tensors, mm, f = open_tensors(args.base)
    missing = set(pairs) - set(tensors)
    if missing:
        sys.exit(f"merge_peer_torch: no base tensor for {sorted(missing)[0]}")
    _, data_start = read_header(args.base)
    view = memoryview(mm)
    merged = 0
    spent = {"widen": 0.0, "addmm": 0.0, "narrow": 0.0, "write": 0.0, "fsync": 0.0}
    clock = time.perf_counter
    with open(args.out, "wb") as out:
        out.write(view[:data_start])  # the header, as is
        for name, (w, (begin, end)) in tensors.items():
            p = pairs.get(name)
            t0 = clock()
            if p is None:
                out.write(view[begin:end])  # untargeted: the bytes as they are
                spent["write"] += clock() - t0
            else:
                w32 = w.float()
                t1 = clock()
                w32.addmm_(p["lora_B"], p["lora_A"], alpha=scale)
                t2 = clock()
                merged_w = w32.to(w.dtype)
                bits = merged_w.view(torch.int16) if merged_w.element_size() == 2 else merged_w
                t3 = clock()
                out.write(bits.numpy().data)
                merged += 1
                spent["widen"] += t1 - t0
                spent["addmm"] += t2 - t1
                spent["narrow"] += t3 - t2
                spent["write"] += clock() - t3
            release(mm, begin, end)  # as lorank does: the base's pages leave the RSS
        out.flush()
        if args.fsync:
            t0 = clock()
            os.fsync(out.fileno())
            spent["fsync"] = clock() - t0
    if args.profile:
        print(" ".join(f"{k} {v:.2f} s" for k, v in spent.items()), file=sys.stderr)
    print(f"merged {merged} tensors, scale {scale}", file=sys.stderr)


if __name__ == "__main__":
    main()
