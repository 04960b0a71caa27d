"""Shared fixtures of the Python tests: the shared/ folder, the built CLI, helpers."""
import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("LORANK_SHARED_DIR", REPO.parent / "shared"))
CLI = os.environ.get("LORANK_CLI", str(REPO / "build" / "lorank"))


def real_adapters():
    """Every real adapter in shared/adapters (a folder each)."""
    root = SHARED / "adapters"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir())


def run_cli(*args):
    """Runs the built lorank CLI: (exit code, stdout, stderr)."""
    if not os.path.exists(CLI):
        pytest.skip(f"the lorank CLI is not built at {CLI} (set LORANK_CLI)")
    p = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True,
                       env={**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")})
    return p.returncode, p.stdout, p.stderr


def cli_json(*args):
    code, out, err = run_cli(*args)
    assert code == 0, err
    return json.loads(out)


def cli_error(*args):
    """The message of a failing CLI call: its stderr line after 'lorank: error: '."""
    code, out, err = run_cli(*args)
    assert code != 0, out
    line = [l for l in err.splitlines() if l.startswith("lorank: error: ")][-1]
    return code, line[len("lorank: error: "):]


@pytest.fixture
def shared():
    if not (SHARED / "adapters").is_dir():
        pytest.skip(f"no shared folder at {SHARED} (set LORANK_SHARED_DIR)")
    return SHARED
