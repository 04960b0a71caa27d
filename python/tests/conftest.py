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


def write_peft_adapter(folder, modules, r, dtype=None, seed=0):
    """A PEFT adapter of `modules` q_proj modules, each B (out x r) @ A (r x in) with
    out = in = `modules`' dimension, random factors: a workload for the thread tests."""
    import numpy as np
    count, dim = modules
    rng = np.random.default_rng(seed)
    dtype = dtype or np.float16
    tensors, header, offset = [], {}, 0
    for i in range(count):
        prefix = f"base_model.model.model.layers.{i}.self_attn.q_proj"
        for name, shape in ((f"{prefix}.lora_A.weight", (r, dim)), (f"{prefix}.lora_B.weight", (dim, r))):
            data = rng.standard_normal(shape).astype(dtype).tobytes()
            header[name] = {"dtype": "F16" if dtype == np.float16 else "F32", "shape": list(shape),
                            "data_offsets": [offset, offset + len(data)]}
            tensors.append(data)
            offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "adapter_model.safetensors", "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for data in tensors:
            f.write(data)
    (folder / "adapter_config.json").write_text(json.dumps(
        {"peft_type": "LORA", "r": r, "lora_alpha": r, "target_modules": ["q_proj"]}))
    return folder


@pytest.fixture(scope="session")
def workload(tmp_path_factory):
    """An adapter whose audit takes ~0.2 s on one thread (24 modules, 2048 x 128 x 2048)."""
    return write_peft_adapter(tmp_path_factory.mktemp("workload") / "adapter", (24, 2048), 128)
