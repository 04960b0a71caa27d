#!/usr/bin/python3
"""`lorank audit` against the NumPy peers on one adapter, side by side, in one go.

    /usr/bin/python3 bench/audit_vs_numpy.py [ADAPTER] [--runs 3] [--lorank build/lorank]
                                            [--no-dense]

ADAPTER defaults to /tmp/lorabench/7b-r64-bf16 (see bench/adapter_bench.cc for the
command that makes it). Runs, each --runs times (median wall, peak RSS from
/usr/bin/time -v, load average noted before each run):
  1. lorank audit ADAPTER --json
  2. peer_numpy_qr.py with NumPy on the system BLAS as installed (OpenBLAS 0.3.21 here,
     which picks its generic Prescott kernels on this CPU), OPENBLAS_CORETYPE unset
  3. the same with OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels)
  4. peer_numpy_dense.py --per-shape 1 (one module per distinct shape, extrapolated by
     the peer to the whole adapter), SkylakeX kernels, once (minutes); skip: --no-dense
Then prints the ratios and checks lorank's values: against ground_truth.json beside the
adapter (stored_sv_f64, per value, relative to each module's σ₁) and, through
../shared/bench/compare_sv.py, against the QR peer's --dump-sv.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench"))
PY = "/usr/bin/python3"


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def timed(cmd, env_changes, stdout_path=None):
    """One run under /usr/bin/time -v: (wall s, peak RSS MiB, stdout text)."""
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        out = subprocess.run(["/usr/bin/time", "-v", "-o", t.name] + cmd, env=env, check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        report = t.read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", report)
    seconds = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1))
    if stdout_path:
        with open(stdout_path, "w") as f:
            f.write(out)
    return seconds, rss / 1024.0, out


def measure(label, cmd, env_changes, runs, stdout_path=None):
    walls, rsss, loads = [], [], []
    for _ in range(runs):
        loads.append(load_average())
        wall, rss, _ = timed(cmd, env_changes, stdout_path)
        walls.append(wall)
        rsss.append(rss)
    row = {"label": label, "median_s": statistics.median(walls), "min_s": min(walls),
           "max_s": max(walls), "peak_rss_mib": max(rsss), "load_before": loads}
    print(f"{label:<44} {row['median_s']:8.3f} s (min {row['min_s']:.3f}, max "
          f"{row['max_s']:.3f})  peak RSS {row['peak_rss_mib']:6.0f} MiB  load "
          f"{', '.join(f'{x:.1f}' for x in loads)}", flush=True)
    return row


def dense_peer_seconds(adapter, work):
    """peer_numpy_dense.py --per-shape 1 with OpenBLAS's AVX-512 kernels, once (minutes):
    the seconds it extrapolates for a dense SVD of every module of the whole adapter."""
    dense_json = os.path.join(work, "dense.json")
    measure("peer_numpy_dense --per-shape 1 (SkylakeX)",
            [PY, os.path.join(SHARED, "peer_numpy_dense.py"), adapter, "--per-shape", "1",
             "--quiet", "--json", dense_json],
            {"OPENBLAS_CORETYPE": "SkylakeX", "OPENBLAS_L2_SIZE": None}, 1)
    with open(dense_json) as f:
        return json.load(f).get("extrapolated_full_adapter_s")


def check_against_truth(audit_json, truth_path):
    """Largest |σ_lorank − σ_truth| / σ₁ over all values of all modules."""
    with open(truth_path) as f:
        truth = {m["module"]: np.array(m["stored_sv_f64"]) for m in json.load(f)["modules"]
                 if "stored_sv_f64" in m}
    worst, checked = 0.0, 0
    for m in audit_json["modules"]:
        ref = truth.get(m["name"])
        if ref is None:
            continue
        got = np.array(m["singular_values"])
        k = min(len(got), len(ref))
        scale = max(ref[0], 1e-300)
        worst = max(worst, float(np.max(np.abs(got[:k] - ref[:k])) / scale))
        checked += 1
    return worst, checked, len(truth)


def qr_core_work(audit, adapter):
    """The work the physical limit is made of: the factor bytes to read, the FLOPs of the
    Gram matrices FᵀF of every factor (the least any QR core must do: (out + in)·r·(r + 1),
    symmetric halves only) and of the CholeskyQR2 that lorank runs (two Gram matrices and a
    triangular solve per factor row: (out + in)·r·(2(r + 1) + r))."""
    rows = sum(m["out"] + m["in"] for m in audit["modules"])
    r2 = sum((m["out"] + m["in"]) * m["rank"] * (m["rank"] + 1) for m in audit["modules"])
    solve = sum((m["out"] + m["in"]) * m["rank"] * m["rank"] for m in audit["modules"])
    size = sum(os.path.getsize(os.path.join(adapter, f)) for f in os.listdir(adapter)
               if f.endswith((".safetensors", ".bin", ".gguf")))
    return {"bytes": size, "flops": r2, "flops_cholesky_qr2": 2 * r2 + solve,
            "factor_rows": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("adapter", nargs="?", default="/tmp/lorabench/7b-r64-bf16")
    ap.add_argument("--lorank", default=os.path.join(HERE, "..", "build", "lorank"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-dense", action="store_true")
    summary.add_argument(ap)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="audit_vs_numpy.")
    qr_peer = os.path.join(SHARED, "peer_numpy_qr.py")
    unset = {"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": None}
    skx = {"OPENBLAS_CORETYPE": "SkylakeX", "OPENBLAS_L2_SIZE": None}
    print(f"# adapter {args.adapter}, {args.runs} runs each, {os.cpu_count()} cores")
    audit_out = os.path.join(work, "audit.json")
    rows = {
        "lorank": measure("lorank audit --json", [args.lorank, "audit", args.adapter, "--json"],
                          unset, args.runs, audit_out),
        "qr_asis": measure("peer_numpy_qr (OpenBLAS as installed)",
                           [PY, qr_peer, args.adapter, "--quiet"], unset, args.runs),
        "qr_skx": measure("peer_numpy_qr (OPENBLAS_CORETYPE=SkylakeX)",
                          [PY, qr_peer, args.adapter, "--quiet"], skx, args.runs),
    }
    dense_s = None if args.no_dense else dense_peer_seconds(args.adapter, work)
    lorank_s = rows["lorank"]["median_s"]
    print("\n# ratios (peer wall / lorank wall, medians)")
    for key in ("qr_asis", "qr_skx"):
        print(f"  {rows[key]['label']:<44} {rows[key]['median_s'] / lorank_s:7.1f}x")
    if dense_s:
        print(f"  {'dense SVD, extrapolated ' + f'{dense_s:.0f} s':<44} {dense_s / lorank_s:7.0f}x")

    print("\n# accuracy")
    with open(audit_out) as f:
        audit = json.load(f)
    truth_path = os.path.join(args.adapter, "ground_truth.json")
    ok = True
    if os.path.exists(truth_path):
        worst, checked, total = check_against_truth(audit, truth_path)
        print(f"  lorank vs ground_truth.json stored_sv_f64: max |Δσ|/σ₁ = {worst:.2e} over "
              f"{checked}/{total} modules")
        ok &= checked == total and worst <= 1e-9
    lorank_npz = os.path.join(work, "lorank.npz")
    np.savez(lorank_npz, **{m["name"]: np.array(m["singular_values"]) for m in audit["modules"]})
    peer_npz = os.path.join(work, "qr_peer.npz")
    subprocess.run([PY, qr_peer, args.adapter, "--quiet", "--dump-sv", peer_npz], env={
        k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"},
        check=True, stdout=subprocess.DEVNULL)
    cmp = [PY, os.path.join(SHARED, "compare_sv.py"), lorank_npz, peer_npz]
    if os.path.exists(truth_path):
        cmp += ["--truth", truth_path]
    ok &= subprocess.run(cmp).returncode == 0
    summary.write(args.summary, "audit, " + os.path.basename(os.path.normpath(args.adapter)),
                  summary.row("lorank audit --json", lorank_s, rows["lorank"]["peak_rss_mib"]),
                  [summary.row(rows[k]["label"], rows[k]["median_s"], rows[k]["peak_rss_mib"])
                   for k in ("qr_asis", "qr_skx")],
                  target="≥ 6× peer_numpy_qr, within 2× of the physical limit",
                  **qr_core_work(audit, args.adapter))
    print(f"# results kept in {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
