"""One JSON summary per side-by-side benchmark, which bench/run_all.sh collects into a table
(bench/report_table.py). Each benchmark script takes --summary FILE and calls write()."""
import json
import os
import platform


def add_argument(ap):
    ap.add_argument("--summary", metavar="FILE",
                    help="also write the medians as JSON (for bench/run_all.sh)")


def row(label, seconds, rss_mib=None):
    return {"label": label, "median_s": seconds, "peak_rss_mib": rss_mib}


def write(path, benchmark, lorank, peers, target=None, **facts):
    """lorank and each peer are row()s; `target` says what the issue asks for, in words
    (e.g. "≥ 6× peer_numpy_qr"); `facts` are the work's size (bytes, flops, ...) from which
    report_table.py derives the physical limit."""
    if not path:
        return
    doc = {"benchmark": benchmark, "host": platform.node(), "lorank": lorank, "peers": peers,
           "target": target, "facts": facts}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
    os.replace(tmp, path)
