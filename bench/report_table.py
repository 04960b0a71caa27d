#!/usr/bin/python3
"""The table bench/run_all.sh prints: every side-by-side benchmark's medians, ratios and its
distance from the machine's physical limit, measured in the same run.

    /usr/bin/python3 bench/report_table.py DIR

DIR holds machine.json (build/bench/machine_bench --benchmark_format=json), cpu.txt (the
CPU model), page_cache.txt (bytes per second read from the page cache) and one
<benchmark>.json per script (bench/summary.py). Limits, per benchmark:
  demo   the FLOP bound at one core's measured FMA peak: max(largest rank's FLOPs on one
         core, all FLOPs over all cores) (the ranks run in parallel)
  audit  max(adapter bytes at the page-cache read rate, Gram FLOPs at all cores' peak);
         also shown for the FLOPs of lorank's CholeskyQR2 (about 3x the Gram's)
  resize the audit it is compared with
"""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def machine_facts(d):
    bench = {b["name"]: b for b in load(os.path.join(d, "machine.json"))["benchmarks"]}
    peak = bench["BM_PeakFma"]["GFLOP/s"]  # the counter is in FLOP/s
    read1 = bench["BM_ReadBandwidth/real_time/threads:1"]["bytes_per_second"]
    read2 = bench["BM_ReadBandwidth/real_time/threads:2"]["bytes_per_second"]
    with open(os.path.join(d, "page_cache.txt")) as f:
        cache = float(f.read().split()[0])
    with open(os.path.join(d, "cpu.txt")) as f:
        cpu = f.read().strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "peak": peak, "read1": read1, "read2": read2,
            "page_cache": cache}


def limit_of(doc, m):
    f = doc["facts"]
    if "flops_critical_path" in f:
        s = max(f["flops_critical_path"] / m["peak"], f["flops"] / (m["cores"] * m["peak"]))
        return s, f"FLOP bound {f['flops']:.3g} FLOPs at {m['peak'] / 1e9:.1f} GFLOP/s/core"
    if "bytes" in f and "flops" in f:
        read = f["bytes"] / m["page_cache"]
        gram = f["flops"] / (m["cores"] * m["peak"])
        cq2 = f["flops_cholesky_qr2"] / (m["cores"] * m["peak"])
        return max(read, gram), (f"max(read {f['bytes'] / 2**20:.0f} MiB: {read * 1e3:.0f} ms, "
                                 f"Gram {f['flops']:.3g} FLOPs: {gram * 1e3:.0f} ms); "
                                 f"CholeskyQR2's {f['flops_cholesky_qr2']:.3g} FLOPs: "
                                 f"{cq2 * 1e3:.0f} ms")
    return None, ""


def main():
    d = sys.argv[1]
    m = machine_facts(d)
    print(f"Machine: {m['cpu']}, {m['cores']} cores; FMA peak {m['peak'] / 1e9:.1f} GFLOP/s "
          f"per core (double); memory read {m['read1'] / 1e9:.1f} GB/s (1 thread), "
          f"{m['read2'] / 1e9:.1f} GB/s (2); page-cache read {m['page_cache'] / 1e9:.1f} GB/s\n")
    print("| benchmark | lorank | peer | peer / lorank | target | limit | lorank / limit |")
    print("| --- | ---: | --- | ---: | --- | --- | ---: |")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json") or name == "machine.json":
            continue
        doc = load(os.path.join(d, name))
        lor = doc["lorank"]
        limit, how = limit_of(doc, m)
        vs_limit = f"{lor['median_s'] / limit:.2f}×" if limit else ""
        for i, peer in enumerate(doc["peers"]):
            first = i == 0
            cells = [doc["benchmark"] if first else "", f"{lor['median_s'] * 1e3:.0f} ms",
                     f"{peer['label']}: {peer['median_s'] * 1e3:.0f} ms",
                     f"{peer['median_s'] / lor['median_s']:.2f}×",
                     (doc["target"] or "") if first else "", how if first else "",
                     vs_limit if first else ""]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
