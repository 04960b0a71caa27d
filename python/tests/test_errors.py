"""Hostile and wrong inputs raise the right lorank.Error subclass with the CLI's one-line
message (naming the file), never crash the interpreter."""
import os

import pytest

import lorank
from conftest import cli_error


def check_same_as_cli(exc_class, cli_args, call):
    code, message = cli_error(*cli_args)
    with pytest.raises(exc_class) as e:
        call()
    assert str(e.value) == message
    assert "\n" not in str(e.value)
    return e.value


def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    e = check_same_as_cli(lorank.NotFoundError, ["audit", missing], lambda: lorank.audit(missing))
    assert isinstance(e, lorank.IOError) and isinstance(e, FileNotFoundError) and isinstance(e, OSError)
    assert str(missing) in str(e)


def test_garbage_safetensors(tmp_path):
    bad = tmp_path / "adapter_model.safetensors"
    bad.write_bytes(b"\xff" * 64)
    e = check_same_as_cli(lorank.Error, ["audit", bad], lambda: lorank.audit(bad))
    assert isinstance(e, lorank.CorruptFileError)
    assert "adapter_model.safetensors" in str(e)


def test_truncated_real_file(tmp_path, shared):
    src = shared / "adapters" / "gpt2-seqcls-r8"
    folder = tmp_path / "cut"
    folder.mkdir()
    (folder / "adapter_config.json").write_bytes((src / "adapter_config.json").read_bytes())
    data = (src / "adapter_model.safetensors").read_bytes()
    (folder / "adapter_model.safetensors").write_bytes(data[: len(data) // 2])
    e = check_same_as_cli(lorank.CorruptFileError, ["audit", folder], lambda: lorank.open(folder))
    assert "adapter_model.safetensors" in str(e) and e.code == "corruption"


def test_bad_config(tmp_path, shared):
    src = shared / "adapters" / "gpt2-seqcls-r8"
    folder = tmp_path / "badcfg"
    folder.mkdir()
    (folder / "adapter_config.json").write_text('{"r": -3, "lora_alpha": 16')
    os.symlink(src / "adapter_model.safetensors", folder / "adapter_model.safetensors")
    e = check_same_as_cli(lorank.Error, ["audit", folder], lambda: lorank.audit(folder))
    assert isinstance(e, lorank.CorruptFileError)
    assert "adapter_config.json" in str(e)


def test_usage_errors(shared):
    path = shared / "adapters" / "gpt2-seqcls-r8"
    e = check_same_as_cli(lorank.UsageError, ["audit", path, "--rule", "bogus:1"],
                          lambda: lorank.audit(path, rule="bogus:1"))
    assert isinstance(e, ValueError) and e.code == "invalid argument"
    with pytest.raises(lorank.UsageError):
        lorank.audit(path, snap="pow3")
    with pytest.raises(lorank.UsageError):
        lorank.audit(path, tau=0.0)
    with pytest.raises(lorank.UsageError, match="exactly one of"):
        lorank.resize(path, "/nonexistent/out", rank=2, energy=0.9)
    with pytest.raises(lorank.UsageError, match="unknown parameter"):
        lorank.demo(dims=3)
    with pytest.raises(lorank.UsageError, match="progress must be callable"):
        lorank.audit(path, progress=3)


def test_resize_refuses_to_overwrite_input(shared):
    path = shared / "adapters" / "gpt2-seqcls-r8"
    with pytest.raises(lorank.UsageError, match="refusing to write over the input"):
        lorank.resize(path, path, rank=2)


def test_output_error_leaves_nothing(tmp_path, shared):
    out = tmp_path / "exists"
    out.mkdir()
    (out / "README.md").write_text("mine")
    with pytest.raises(lorank.UsageError):
        lorank.resize(shared / "adapters" / "gpt2-seqcls-r8", out, rank=2, overwrite=True)
    assert (out / "README.md").read_text() == "mine"
