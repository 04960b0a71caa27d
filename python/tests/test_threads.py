"""Concurrency: audits from several Python threads run in parallel (the GIL is released),
give identical results, and leave OpenBLAS's thread count (shared with NumPy) as found;
progress callbacks that raise never take the process down."""
import ctypes
import os
import sys
import threading
import time

import numpy as np
import pytest

import lorank
from conftest import SHARED


def openblas():
    """The OpenBLAS this process uses (lorank's extension and Debian's NumPy share it)."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_num_threads.restype = ctypes.c_int
        return lib
    except OSError:
        pytest.skip("libopenblas.so.0 is not loadable")


# The largest real adapter: the one whose audit takes longest (most modules).
BIG = SHARED / "adapters" / "sd15-unet-peft-r4"


def test_four_threads_identical_and_overlapping(workload):
    expected = lorank.audit(workload, threads=1).to_dict()
    results = [None] * 4
    stamps = [[] for _ in range(4)]  # time of every progress call, per audit
    barrier = threading.Barrier(4)

    def work(i):
        barrier.wait()
        results[i] = lorank.audit(workload, threads=1,
                                  progress=lambda done, total: stamps[i].append(time.perf_counter()))

    # No forced GIL hand-overs: a thread gives the GIL up only when it blocks or lorank
    # releases it. Were the GIL held during the computation, each audit would then run from
    # its first module to its last with no other audit's progress in between.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    for r in results:
        assert r.to_dict() == expected
    assert all(len(s) == len(expected["modules"]) for s in stamps)
    # Parallel: another audit reported progress while one was between two of its modules.
    interleaved = sum(1 for i in range(4) for j in range(4) if i != j
                      and any(stamps[i][0] < t < stamps[i][-1] for t in stamps[j]))
    assert interleaved > 0, [(s[0], s[-1]) for s in stamps]


def test_threads_finish_faster_than_serial(workload):
    # 4 audits on 4 threads against 4 in a row: with the GIL released they share the
    # cores. Loose bound (the machine is shared): under 0.9x the serial time, best of 3.
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: nothing to run in parallel")

    def serial():
        for _ in range(4):
            lorank.audit(workload, threads=1)

    def threaded():
        threads = [threading.Thread(target=lorank.audit, args=(workload,), kwargs={"threads": 1})
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    ratios = []
    for _ in range(3):
        t0 = time.perf_counter()
        serial()
        t1 = time.perf_counter()
        threaded()
        t2 = time.perf_counter()
        ratios.append((t2 - t1) / (t1 - t0))
    assert min(ratios) < 0.9, ratios


def test_openblas_threads_restored(shared):
    lib = openblas()
    before = lib.openblas_get_num_threads()
    lib.openblas_set_num_threads(2)
    target = lib.openblas_get_num_threads()
    if target < 2:
        pytest.skip("OpenBLAS runs single-threaded here: nothing to restore")
    try:
        lorank.audit(BIG)
        assert lib.openblas_get_num_threads() == target
        threads = [threading.Thread(target=lorank.audit, args=(BIG,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert lib.openblas_get_num_threads() == target
        x = np.random.default_rng(0).standard_normal((300, 300))
        np.testing.assert_allclose(x @ np.linalg.inv(x), np.eye(300), atol=1e-8)  # NumPy's BLAS still works
    finally:
        lib.openblas_set_num_threads(before)


def test_progress_exception_is_reraised(shared):
    calls = []

    def progress(done, total):
        calls.append(done)
        if done == 2:
            raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        lorank.audit(BIG, progress=progress)
    assert calls[:2] == [1, 2] and len(calls) == 2  # no calls after the failing one
    # The process and the library are fine afterwards.
    assert len(lorank.audit(BIG).modules) > 0


def test_progress_counts(shared):
    seen = []
    result = lorank.audit(BIG, progress=lambda d, t: seen.append((d, t)))
    n = len(result.modules)
    assert seen == [(i, n) for i in range(1, n + 1)]
