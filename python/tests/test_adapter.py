"""lorank.open: modules, read-only factor views that keep the file alive, config."""
import gc
import json

import numpy as np
import pytest

import lorank


def test_open_peft(shared):
    folder = shared / "adapters" / "gpt2-seqcls-r8"
    adapter = lorank.open(folder)
    assert adapter.format == "peft" and adapter.container == "safetensors"
    assert adapter.config == json.loads((folder / "adapter_config.json").read_text())
    assert len(adapter) == len(adapter.modules) > 0
    m = adapter.modules[0]
    out, inp = m.shape
    assert m.A.shape == (m.rank, inp) and m.B.shape == (out, m.rank)
    assert m.kind == "linear" and m.scale > 0
    assert not m.A.flags.writeable and not m.B.flags.writeable
    with pytest.raises(ValueError):
        m.A[0, 0] = 1.0
    # A view of the mapped file, not a copy.
    assert not m.A.flags.owndata


def test_views_keep_adapter_alive(shared):
    folder = shared / "adapters" / "gpt2-seqcls-r8"
    expected = lorank.audit(folder).modules
    by_name = {m.name: m for m in expected}
    module = lorank.open(folder).modules[0]
    a, b, scale, name = module.A, module.B, module.scale, module.name
    del module
    gc.collect()  # only the arrays hold the adapter now
    values = lorank.spectrum(b, a, scale)
    np.testing.assert_allclose(values, by_name[name].singular_values, rtol=0,
                               atol=1e-13 * by_name[name].sigma1)


@pytest.mark.parametrize("name", ["opt125m-bf16-r16", "opencalm1b-f16-r1", "sd15-unet-kohyalike-r4"])
def test_factors_reproduce_audit_spectra(shared, name):
    adapter = lorank.open(shared / "adapters" / name)
    audited = {m.name: m for m in lorank.audit(adapter).modules}
    for m in adapter.modules[:6]:
        a = m.A.reshape(m.rank, -1)  # conv factors flatten as the library does
        b = m.B.reshape(m.shape[0], m.rank)
        got = lorank.spectrum(b, a, m.scale)
        want = audited[m.name].singular_values
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * max(want[0], 1e-300))
        if m.dtype == "BF16":
            assert m.A.dtype == np.float32  # exact widening: NumPy has no bfloat16
