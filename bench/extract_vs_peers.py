#!/usr/bin/python3
"""`lorank extract` against the mergekit way (torch.svd_lowrank) and the dense way
(torch.linalg.svd, kohya/LyCORIS), side by side, in one run, with accuracy against a dense
float64 oracle.

    /usr/bin/python3 bench/extract_vs_peers.py [DATA] [--runs 3] [--rank 64]
                     [--tolerance 1e-3] [--loose 3e-2,1e-1] [--lorank build/lorank] [--no-dense]

DATA defaults to /work/benchdata/extract, made by bench/make_extract_pair.py (base/ and
fine/). The inputs are read once first (cat > /dev/null): WARM page cache figures.
Contenders, round robin --runs times (median shown):
  lorank tol T      lorank extract BASE FINE -o OUT --rank R --tolerance T, for the default
                    1e-3 and each --loose value (3e-2 and 1e-1 by default: 1e-1 is about the
                    peer's accuracy on this pair, the accuracy table shows it);
                    OPENBLAS_NUM_THREADS=2 (extract has no --threads: its BLAS threads)
  torch svd_lowrank bench/extract_peer_torch.py: mergekit's svd_lowrank(q = R + 10, niter = 2),
                    torch.set_num_threads(2), Debian's OpenBLAS as it configures itself here
  torch, SkylakeX   the same with OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels; the fair peer)
The dense way is timed once per shape (torch.linalg.svd of the first matrix of each shape,
SkylakeX kernels) and extrapolated to every matrix of the pair (same shapes: no scaling).

Accuracy, on layer 0's q (2048×2048), k (512×2048), gate (8192×2048) and down (2048×8192):
the oracle is numpy's float64 SVD of ΔW = fine − base as stored. Per method: the max over
i ≤ R of |σ̂ᵢ − σᵢ|/σᵢ (lorank's σ̂ are those of its written B·A, F32; the peer's its S), and
the achieved ‖ΔW − B·A‖_F (U·diag(S)·Vᵀ for the peer) against the Eckart–Young optimum
sqrt(Σ_{i>R} σᵢ²), as error/optimum − 1.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
SAMPLE = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
          "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.down_proj.weight"]


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def timed(cmd, stdout_path=None):
    """(wall s, peak RSS MiB, CPU s) from /usr/bin/time (see bench/merge_vs_peers.py)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        out = open(stdout_path, "w") if stdout_path else subprocess.DEVNULL
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", t.name] + cmd,
                              stdout=out, stderr=subprocess.PIPE, text=True)
        if stdout_path:
            out.close()
        if proc.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
        wall, rss_kib, user, system = t.read().split()[-4:]
    return float(wall), int(rss_kib) / 1024.0, float(user) + float(system)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        out[name] = (e["dtype"], e["shape"], mm[8 + n + b: 8 + n + end])
    return out


def as_float64(dtype, shape, raw):
    if dtype == "BF16":
        return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(shape).astype(np.float64)
    return raw.view({"F32": np.float32, "F64": np.float64}[dtype]).reshape(shape).astype(np.float64)


def factor_sigma(b, a):
    """σ of B·A without forming it: QR of both factors, SVD of the small core."""
    _, rb = np.linalg.qr(b)
    _, ra = np.linalg.qr(a.T)
    return np.linalg.svd(rb @ ra.T, compute_uv=False)


def accuracy(base, fine, lorank_outs, peer_out, rank):
    import torch
    b, f = read_safetensors(base), read_safetensors(fine)
    peer = torch.load(peer_out)
    rows = []
    for name in SAMPLE:
        if name not in b:
            continue
        dw = as_float64(*f[name]) - as_float64(*b[name])
        sigma = np.linalg.svd(dw, compute_uv=False)
        top, optimum = sigma[:rank], np.sqrt(np.sum(sigma[rank:] ** 2))
        row = {"name": name, "shape": list(dw.shape), "sigma1": sigma[0], "optimum_rel": optimum / np.linalg.norm(dw)}
        for label, out in lorank_outs.items():
            a_ = read_safetensors(os.path.join(out, "adapter_model.safetensors"))
            module = "base_model.model." + name[: -len(".weight")]
            bb = as_float64(*a_[module + ".lora_B.weight"])
            aa = as_float64(*a_[module + ".lora_A.weight"])
            s_hat = factor_sigma(bb, aa)[:rank]
            err = np.linalg.norm(dw - bb @ aa)
            row[label] = (np.max(np.abs(s_hat - top) / top), err / optimum - 1)
        u, s, v = (x.double().numpy() for x in peer[name])
        err = np.linalg.norm(dw - (u * s) @ v.T)
        row["torch"] = (np.max(np.abs(np.sort(s)[::-1] - top) / top), err / optimum - 1)
        rows.append(row)
    return rows


def machine_peak():
    """One-thread float64 GEMM rate (numpy 2048³, best of 3), GFLOP/s."""
    code = ("import numpy as np, time\n"
            "a=np.random.rand(2048,2048); b=np.random.rand(2048,2048); a@b\n"
            "best=min((lambda t0: (a@b, time.perf_counter()-t0)[1])(time.perf_counter()) for _ in range(3))\n"
            "print(2*2048**3/best/1e9)")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OPENBLAS_CORETYPE="SkylakeX")
    return float(subprocess.run([PY, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default="/work/benchdata/extract")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rank", type=int, default=64)
    ap.add_argument("--tolerance", type=float, default=1e-3)
    ap.add_argument("--loose", default="3e-2,1e-1", help="more tolerances, comma-separated")
    ap.add_argument("--lorank", default=os.path.join(HERE, "..", "build", "lorank"))
    ap.add_argument("--no-dense", action="store_true")
    args = ap.parse_args()

    d = args.data
    base = os.path.join(d, "base", "model.safetensors")
    fine = os.path.join(d, "fine", "model.safetensors")
    lorank = os.path.abspath(args.lorank)
    peer = os.path.join(HERE, "extract_peer_torch.py")
    r = str(args.rank)
    blas2 = ["env", "OPENBLAS_NUM_THREADS=2"]
    tolerances = [args.tolerance] + [float(t) for t in args.loose.split(",") if t]
    lorank_names = {f"lorank tol {t:g}": t for t in tolerances}
    contenders = [(label, blas2 + [lorank, "extract", base, fine, "-o", os.path.join(d, f"out-lorank-{t:g}"),
                                   "--rank", r, "--tolerance", f"{t:g}", "--json", "--overwrite"])
                  for label, t in lorank_names.items()]
    contenders += [
        ("torch svd_lowrank", [PY, peer, base, fine, "--rank", r, "--threads", "2",
                               "--out", os.path.join(d, "out-torch.pt")]),
        ("torch svd_lowrank, SkylakeX", ["env", "OPENBLAS_CORETYPE=SkylakeX", PY, peer, base, fine, "--rank", r,
                                         "--threads", "2", "--out", os.path.join(d, "out-torch-skx.pt")]),
    ]
    subprocess.run(["cat", base, fine], stdout=subprocess.DEVNULL, check=True)  # warm the cache

    results = {name: [] for name, _ in contenders}
    for run in range(args.runs):
        for name, cmd in contenders:
            load = load_average()
            report = os.path.join(d, f"report-{lorank_names[name]:g}.json") if name in lorank_names else None
            wall, rss, cpu = timed(cmd, report)
            results[name].append((wall, rss, cpu, load))
            print(f"run {run + 1} {name:28s} {wall:7.2f} s {cpu:7.2f} CPU-s {rss:7.0f} MiB  load {load:.2f}",
                  flush=True)

    dense = []
    if not args.no_dense:
        env = dict(os.environ, OPENBLAS_CORETYPE="SkylakeX")
        proc = subprocess.run([PY, peer, base, fine, "--dense-sample", "--threads", "2"], env=env,
                              capture_output=True, text=True, check=True)
        dense = [json.loads(line) for line in proc.stdout.splitlines()]

    reports = {}
    for label, t in lorank_names.items():
        with open(os.path.join(d, f"report-{t:g}.json")) as f:
            reports[label] = json.load(f)
    first = next(iter(lorank_names))
    shapes = [tuple(m["shape"]) for m in reports[first]["matrices"]]
    dense_total = None
    if dense:
        per_shape = {tuple(x["shape"]): x["seconds"] for x in dense}
        dense_total = sum(per_shape[s] for s in shapes)

    med = {n: [statistics.median(x[i] for x in rs) for i in range(3)] for n, rs in results.items()}
    ref_wall, _, ref_cpu = med[first]
    print(f"\n{len(shapes)} matrices, rank {args.rank}, median of {args.runs}, warm page cache, 2 threads")
    print("| contender | seconds | vs lorank | CPU-s | vs lorank | peak RSS (MiB) | runs (s) | load before each |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for name, rs in results.items():
        wall, rss, cpu = med[name]
        runs = ", ".join(f"{x[0]:.2f}" for x in rs)
        loads = ", ".join(f"{x[3]:.2f}" for x in rs)
        print(f"| {name} | {wall:.2f} | {wall / ref_wall:.2f} | {cpu:.2f} | {cpu / ref_cpu:.2f} | {rss:.0f} | {runs} | {loads} |")
    if dense_total is not None:
        print(f"| dense torch.linalg.svd, SkylakeX (extrapolated) | {dense_total:.0f} | {dense_total / ref_wall:.0f} | | | | "
              + ", ".join(f"{x['shape'][0]}x{x['shape'][1]}: {x['seconds']:.2f}" for x in dense) + " | |")

    rows = accuracy(base, fine, {label: os.path.join(d, f"out-lorank-{t:g}") for label, t in lorank_names.items()},
                    os.path.join(d, "out-torch-skx.pt"), args.rank)
    print(f"\naccuracy vs numpy float64 SVD: max_i<={args.rank} |σ̂ᵢ−σᵢ|/σᵢ ; ‖ΔW−BA‖_F/optimum − 1")
    print("| matrix | shape | optimum/‖ΔW‖ | " + " | ".join(lorank_names) + " | torch svd_lowrank |")
    print("| --- | --- | ---: |" + " --- |" * (len(lorank_names) + 1))
    for row in rows:
        cells = " | ".join(f"{row[k][0]:.1e} ; {row[k][1]:.1e}" for k in list(lorank_names) + ["torch"])
        print(f"| {row['name'].removeprefix('model.layers.')} | {row['shape'][0]}x{row['shape'][1]} | "
              f"{row['optimum_rel']:.4f} | {cells} |")

    # Work per pass: the FLOPs lorank's passes do and what they read.
    b = args.rank + 8
    for label, rep in reports.items():
        flops, passes, bytes_read = 0.0, 0, 0
        for m in rep["matrices"]:
            rows_, cols = m["shape"]
            mn = rows_ * cols
            steps = (m["passes"] - 2) / (2 if rows_ < cols else 1)  # minus norm and factor pass
            flops += steps * 4 * mn * b + 4 * mn * m["rank"] + 2 * mn
            passes += m["passes"]
            bytes_read += m["passes"] * 2 * mn * 2  # both BF16 stores
        gf = flops / 1e9
        print(f"\n{label}: {passes} passes over the {len(rep['matrices'])} matrices, ~{gf:.0f} GFLOP "
              f"(4·m·n·b per Lanczos step, b = {b}; + factor pass), {bytes_read / 2**30:.1f} GiB read; "
              f"{gf / med[label][2]:.1f} GFLOP per CPU-second, {med[label][2] / passes * 1e3:.0f} CPU-ms per pass "
              f"(a 8192×2048 pass: {min((m['seconds'] / m['passes'] for m in rep['matrices'] if m['shape'] == [8192, 2048]), default=0) * 1e3:.0f} ms wall)")
    print(f"one-thread numpy float64 GEMM 2048³ (SkylakeX kernels): {machine_peak():.1f} GFLOP/s")
    largest = max(m * n for m, n in shapes) * 4 / 2**20
    print(f"RSS target: 2 × {largest:.0f} MiB + 256 MiB = {2 * largest + 256:.0f} MiB")


if __name__ == "__main__":
    main()
