#!/usr/bin/python3
"""`lorank merge` against the torch peer and `cp`, side by side, in one run.

    /usr/bin/python3 bench/merge_vs_peers.py [DATA] [--runs 3] [--lorank build/lorank]
                                             [--threads 2] [--sharded] [--limits] [--keep]

DATA defaults to /work/benchdata/merge, made by bench/make_merge_base.py (base/,
adapter/, and base-sharded/ with --sharded there). Outputs go to DATA/out-*, on the same
disk as the base, and are deleted after each run. Before the runs the inputs are read once
(cat > /dev/null), so every run starts with the base in the page cache: these are
WARM-cache figures (dropping caches needs root). Each contender runs --runs times in
turn (round robin, so a burst of load from elsewhere hits all of them); the table shows
the median wall time, the median CPU time (user + system: on a machine shared with other
work the wall time of a CPU-bound run depends on the others' load, its CPU time much less),
each with its ratio to lorank's, and the median peak RSS (/usr/bin/time's elapsed time,
10 ms resolution, user, system and maximum resident set size), with the 1-minute load
average before each run.

Contenders (all write the same 2.47 GB):
  cp             cp BASE OUT: the floor for moving the bytes, no durability
  cp + fsync     cp, then fsync of OUT (python): the same durability lorank gives
  torch peer     bench/merge_peer_torch.py --fsync (PEFT's arithmetic, streamed, fsync);
                 torch's sgemm is Debian's OpenBLAS 0.3.21, which runs its generic Prescott
                 kernels on this CPU unless told otherwise...
  torch peer, SkylakeX  ...so the same with OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels),
                 the fair peer, as in docs/benchmarks.md
  lorank         lorank merge BASE ADAPTER -o OUT --threads N (fsync before the rename,
                 then re-read and verify: 8 sampled rows per merged tensor at this size);
                 float32 arithmetic, as torch's (--compute auto for a BF16 base)
  lorank --compute F64  the same in double: the correctly rounded merge
  lorank sharded with --sharded: the two-shard base in, a two-shard folder out
With --limits, first the machine's limits: bench/merge_limits.cc (register-only mul+add
peak without FMA and memcpy bandwidth, one thread) and dd's disk write rate with fdatasync.

After the runs, the torch and lorank outputs of the last round are compared on a few
merged tensors: max |difference| in BF16 units in the last place (ULP) and the share of
values that differ (lorank rounds once from double; torch from a float32 sgemm).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def timed(cmd):
    """Runs cmd under /usr/bin/time: (wall seconds, peak RSS MiB, CPU seconds user + system).
    Not getrusage from this process: a forked child's ru_maxrss starts at the Python
    parent's RSS (~30 MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", t.name] + cmd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
        wall, rss_kib, user, system = t.read().split()[-4:]
    return float(wall), int(rss_kib) / 1024.0, float(user) + float(system)


def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def read_safetensors(path):
    """{name: (dtype, shape, numpy uint16/float32 view)} through a read-only memmap."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        raw = mm[8 + n + b: 8 + n + end]
        out[name] = (e["dtype"], e["shape"], raw)
    return out


def bf16_ulp_difference(a_bits, b_bits):
    """|a - b| in BF16 ULPs (steps between representable values, across zero too)."""
    def ordered(bits):
        s = bits.astype(np.int32)
        return np.where(s & 0x8000, 0x8000 - s, s)  # monotone integer line through ±0
    return np.abs(ordered(a_bits) - ordered(b_bits))


def compare_outputs(lorank_out, torch_out, names):
    a, b = read_safetensors(lorank_out), read_safetensors(torch_out)
    rows = []
    for name in names:
        da, shape, ra = a[name]
        _, _, rb = b[name]
        assert da == "BF16"
        ulp = bf16_ulp_difference(ra.view(np.uint16), rb.view(np.uint16))
        rows.append((name, shape, int(ulp.max()), float((ulp != 0).mean())))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default="/work/benchdata/merge")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lorank", default=os.path.join(HERE, "..", "build", "lorank"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sharded", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the last round's outputs")
    ap.add_argument("--limits", action="store_true",
                    help="first measure the machine: bench/merge_limits.cc (no-FMA peak, memcpy) "
                         "and dd of 2.5 GB to DATA with conv=fdatasync (disk write)")
    args = ap.parse_args()

    d = args.data
    base = os.path.join(d, "base", "model.safetensors")
    adapter = os.path.join(d, "adapter")
    sharded = os.path.join(d, "base-sharded")
    lorank = os.path.abspath(args.lorank)
    fsync_py = "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)"
    contenders = [
        ("cp", lambda o: [["cp", base, o]], os.path.join(d, "out-cp.safetensors")),
        ("cp + fsync", lambda o: [["cp", base, o], [PY, "-c", fsync_py, o]],
         os.path.join(d, "out-cpsync.safetensors")),
        ("torch peer", lambda o: [[PY, os.path.join(HERE, "merge_peer_torch.py"), base, adapter, o,
                                   "--threads", str(args.threads), "--fsync"]],
         os.path.join(d, "out-torch.safetensors")),
        ("torch peer, SkylakeX", lambda o: [["env", "OPENBLAS_CORETYPE=SkylakeX", PY,
                                              os.path.join(HERE, "merge_peer_torch.py"), base, adapter, o,
                                              "--threads", str(args.threads), "--fsync"]],
         os.path.join(d, "out-torch-skx.safetensors")),
        ("lorank", lambda o: [[lorank, "merge", base, adapter, "-o", o, "--threads", str(args.threads)]],
         os.path.join(d, "out-lorank.safetensors")),
        ("lorank --compute F64", lambda o: [[lorank, "merge", base, adapter, "-o", o, "--threads",
                                             str(args.threads), "--compute", "F64"]],
         os.path.join(d, "out-lorank-f64.safetensors")),
    ]
    if args.sharded:
        contenders.append(("lorank sharded", lambda o: [[lorank, "merge", sharded, adapter, "-o", o,
                                                          "--threads", str(args.threads)]],
                           os.path.join(d, "out-lorank-sharded")))
    inputs = [base, os.path.join(adapter, "adapter_model.safetensors")]
    if args.sharded:
        inputs += [os.path.join(sharded, f) for f in sorted(os.listdir(sharded))]
    subprocess.run(["cat"] + inputs, stdout=subprocess.DEVNULL, check=True)  # warm the cache

    if args.limits:
        limits = os.path.join(d, "merge_limits")
        subprocess.run(["g++", "-O3", "-march=native", "-ffp-contract=off", "-std=c++20",
                        os.path.join(HERE, "merge_limits.cc"), "-o", limits], check=True)
        print(f"load {load_average():.2f}")
        subprocess.run([limits], check=True)
        dd_out = os.path.join(d, "dd.test")
        dd = subprocess.run(["dd", "if=/dev/zero", f"of={dd_out}", "bs=4M", "count=590", "conv=fdatasync"],
                            stderr=subprocess.PIPE, text=True, check=True)
        print("disk write, dd conv=fdatasync:", dd.stderr.strip().splitlines()[-1])
        remove(dd_out)
        remove(limits)

    results = {name: [] for name, _, _ in contenders}
    for run in range(args.runs):
        for name, make, out in contenders:
            remove(out)
            subprocess.run(["sync"], check=True)  # no earlier run's dirty pages in this one
            load = load_average()
            wall, rss, cpu = 0.0, 0.0, 0.0
            for cmd in make(out):
                w, r, c = timed(cmd)
                wall, rss, cpu = wall + w, max(rss, r), cpu + c
            results[name].append((wall, rss, load, cpu))
            print(f"run {run + 1} {name:21s} {wall:7.2f} s  {cpu:7.2f} CPU-s  {rss:7.0f} MiB  load {load:.2f}",
                  flush=True)
            last = run == args.runs - 1
            if not (last and (args.keep or name in ("torch peer", "lorank"))):
                remove(out)

    med = {name: [statistics.median(x[i] for x in r) for i in (0, 1, 3)] for name, r in results.items()}
    ref, ref_cpu = med["lorank"][0], med["lorank"][2]
    print(f"\nmedian of {args.runs}, warm page cache, {args.threads} threads")
    print("| contender | seconds | × lorank | CPU-s (user + sys) | × lorank | peak RSS (MiB) | runs (s) | load before each |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for name, r in results.items():
        wall, rss, cpu = med[name]
        runs = ", ".join(f"{x[0]:.2f}" for x in r)
        loads = ", ".join(f"{x[2]:.2f}" for x in r)
        print(f"| {name} | {wall:.2f} | {wall / ref:.2f} | {cpu:.2f} | {cpu / ref_cpu:.2f} | {rss:.0f} | {runs} | {loads} |")

    header = read_safetensors(base)
    names = [n for n in ("model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                         "model.layers.7.mlp.down_proj.weight", "model.layers.15.mlp.gate_proj.weight")
             if n in header]
    lo = dict((n, o) for n, _, o in contenders)["lorank"]
    to = dict((n, o) for n, _, o in contenders)["torch peer"]
    print("\nlorank vs torch peer (BF16 outputs):")
    for name, shape, ulp, share in compare_outputs(lo, to, names):
        print(f"  {name} {shape}: max {ulp} ULP, {100 * share:.3f}% of values differ")
    if not args.keep:
        remove(lo)
        remove(to)


if __name__ == "__main__":
    main()
