"""lorank.audit against `lorank audit --json` on one adapter (docs/python.md, "Overhead").

    PYTHONPATH=build/python THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 \
        bench/python_overhead.py ADAPTER build/lorank 5

Runs alternate (CLI, Python in-process, Python as a new process) so that both see the same
machine load; prints the medians of N and their ratios to the CLI's.
"""
import os, statistics, subprocess, sys, time
import lorank
path, cli, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
threads = os.environ.get("THREADS", "2")
env = dict(os.environ)
cli_t, py_t, py_dict_t, proc_t = [], [], [], []
lorank.audit(path, threads=int(threads))  # warm the page cache for both
for _ in range(n):
    t = time.perf_counter()
    subprocess.run([cli, "audit", path, "--json", "--threads", threads], stdout=subprocess.DEVNULL, check=True, env=env)
    cli_t.append(time.perf_counter() - t)
    t = time.perf_counter()
    r = lorank.audit(path, threads=int(threads))
    py_t.append(time.perf_counter() - t)
    t = time.perf_counter()
    d = r.to_dict()
    py_dict_t.append(time.perf_counter() - t + py_t[-1])
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import lorank; lorank.audit({path!r}, threads={threads})"], check=True, env=env)
    proc_t.append(time.perf_counter() - t)
m = statistics.median
print(f"modules {len(r.modules)}; threads {threads}; median of {n}")
print(f"CLI  lorank audit --json      {m(cli_t):.3f} s  {sorted(round(x,3) for x in cli_t)}")
print(f"lorank.audit(path)            {m(py_t):.3f} s  {sorted(round(x,3) for x in py_t)}  ratio {m(py_t)/m(cli_t):.3f}")
print(f"lorank.audit + to_dict()      {m(py_dict_t):.3f} s  ratio {m(py_dict_t)/m(cli_t):.3f}")
print(f"python -c 'import lorank; audit' {m(proc_t):.3f} s  ratio {m(proc_t)/m(cli_t):.3f}")
