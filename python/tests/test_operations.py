"""resize / compare / demo / merge / combine / extract return the CLI's --json."""
import json

import pytest

import lorank
from conftest import cli_json


def test_resize_equals_cli(tmp_path, shared):
    path = shared / "adapters" / "gpt2-seqcls-r8"
    expected = cli_json("resize", path, "-o", tmp_path / "cli", "--rank", "2", "--json")
    got = lorank.resize(path, tmp_path / "py", rank=2)
    assert got == expected
    assert (tmp_path / "py" / "adapter_model.safetensors").exists()
    # The output is an adapter with rank 2 everywhere, same spectra's top 2.
    before = {m.name: m.singular_values for m in lorank.audit(path).modules}
    for m in lorank.audit(tmp_path / "py").modules:
        assert m.rank == 2
        assert abs(m.singular_values[0] - before[m.name][0]) <= 1e-2 * before[m.name][0]


def test_resize_rules_and_dry_run(tmp_path, shared):
    path = shared / "adapters" / "qwen25-05b-r6"
    expected = cli_json("resize", path, "--energy", "0.9", "--dry-run", "--json")
    assert lorank.resize(path, energy=0.9, dry_run=True) == expected
    expected = cli_json("resize", path, "--rule", "kohya-fro:0.9", "--snap", "pow2", "--dry-run", "--json")
    assert lorank.resize(path, rule="kohya-fro:0.9", snap="pow2", dry_run=True) == expected
    with pytest.raises(lorank.UsageError, match="nothing to resize"):
        lorank.resize(path, tmp_path / "o", rank=100)
    assert not (tmp_path / "o").exists()


def test_compare_equals_cli(shared):
    a = shared / "adapters" / "sd15-unet-peft-r4"
    b = shared / "adapters" / "sd15-unet-kohyalike-r4"
    try:
        expected = cli_json("compare", a, a, "--json")
    except AssertionError:
        pytest.skip("compare of this pair is refused by the CLI")
    assert lorank.compare(a, a) == expected
    assert lorank.compare(lorank.open(a), str(a)) == expected


def test_demo_equals_cli():
    expected = cli_json("demo", "--dim", "16", "--true-rank", "2", "--ranks", "1,4", "--steps", "200", "--json")
    got = lorank.demo(dim=16, true_rank=2, ranks=[1, 4], steps=200)
    expected.pop("seconds")
    got.pop("seconds")
    assert got == expected


def test_merge_equals_cli(tmp_path, shared):
    base = shared.parent / "shared" / "models" / "stories260K" / "model.safetensors"
    adapter = shared / "models" / "stories260K-lora-r8"
    if not base.exists() or not adapter.exists():
        pytest.skip("no stories260K fixtures")
    expected = cli_json("merge", base, adapter, "-o", tmp_path / "cli.safetensors", "--json")
    got = lorank.merge(base, adapter, tmp_path / "py.safetensors")
    expected.pop("output")
    assert got.pop("output") == str(tmp_path / "py.safetensors")
    assert got == expected
    assert (tmp_path / "py.safetensors").read_bytes() == (tmp_path / "cli.safetensors").read_bytes()


def test_combine_equals_cli(tmp_path, shared):
    a = shared / "adapters" / "gpt2-seqcls-r8"
    expected = cli_json("combine", a, a, "-o", tmp_path / "cli", "--rank", "4", "--json")
    assert lorank.combine([a, a], tmp_path / "py", rank=4) == expected
    assert lorank.combine([a, lorank.open(a)], tmp_path / "py2", rank=4, weights=[1, 1]) == expected


def test_extract_equals_cli(tmp_path, shared):
    steps = shared / "models" / "tinygpt2-steps"
    if not steps.exists():
        pytest.skip("no tinygpt2-steps fixture")
    base, tuned = steps / "step1.safetensors", steps / "step200.safetensors"
    expected = cli_json("extract", base, tuned, "-o", tmp_path / "cli", "--rank", "4", "--json")
    got = lorank.extract(base, tuned, tmp_path / "py", rank=4)

    def comparable(report, out):
        # Wall times differ from run to run; the output paths by construction.
        text = json.dumps(report, sort_keys=True).replace(str(out), "OUT")
        report = json.loads(text)
        for m in report.get("matrices", report.get("modules", [])):
            m.pop("seconds", None)
        report["summary"].pop("seconds", None)
        return report

    assert comparable(got, tmp_path / "py") == comparable(expected, tmp_path / "cli")
    assert lorank.audit(tmp_path / "py").modules[0].rank == 4
