"""lorank.audit against the CLI's `lorank audit --json`: same code, so equal dicts (every
float bit for bit) on every real adapter, and the same one-line errors."""
import json

import numpy as np
import pytest

import lorank
from conftest import SHARED, cli_json, real_adapters


@pytest.mark.parametrize("path", real_adapters(), ids=lambda p: p.name)
def test_audit_equals_cli_json(path):
    expected = cli_json("audit", path, "--json")
    result = lorank.audit(str(path))
    assert result.to_dict() == expected
    assert json.loads(result.to_json()) == expected
    assert len(result.modules) == len(expected["modules"])
    for module, entry in zip(result.modules, expected["modules"]):
        assert module.name == entry["name"]
        assert module.recommended_rank == entry["recommended_rank"]
        assert module.threshold_rank == entry["metrics"]["threshold_rank"]
        assert module.sigma1 == entry["metrics"]["sigma1"]
        assert module.shape == (entry["out"], entry["in"])
        assert isinstance(module.singular_values, np.ndarray)
        assert module.singular_values.dtype == np.float64
        assert module.singular_values.tolist() == entry["singular_values"]
        assert not module.singular_values.flags.writeable
    assert result.suggested_config == expected["suggested_config"]
    assert result.summary == expected["summary"]


def test_audit_options_equal_cli(shared):
    path = shared / "adapters" / "qwen25-05b-r6"
    expected = cli_json("audit", path, "--json", "--rule", "energy:0.9", "--snap", "pow2", "--tau", "0.05")
    result = lorank.audit(path, rule="energy:0.9", snap="pow2", tau=0.05)
    assert result.to_dict() == expected
    assert result.rule == "energy:0.9" and result.snap == "pow2"


def test_audit_of_opened_adapter_equals_path(shared):
    path = str(shared / "adapters" / "gpt2-seqcls-r8")
    adapter = lorank.open(path)
    assert lorank.audit(adapter).to_dict() == lorank.audit(path).to_dict()


def test_suggested_config_is_a_lora_config(shared):
    config = lorank.audit(shared / "adapters" / "gpt2-seqcls-r8").suggested_config
    assert isinstance(config["r"], int) and config["r"] >= 1
    assert "lora_alpha" in config and "target_modules" in config


def test_html_and_table(shared):
    result = lorank.audit(shared / "adapters" / "gpt2-seqcls-r8")
    page = result.html()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    shown = result._repr_html_()
    assert shown.startswith("<iframe") and "&lt;svg" in shown  # the page, escaped into srcdoc
    assert result.modules[0].short_name in result.table()
    assert result.csv().count("\n") == len(result.modules) + 1


def test_help_is_useful():
    doc = lorank.audit.__doc__
    for word in ("rule", "snap", "progress", "to_dict", "UsageError"):
        assert word in doc
