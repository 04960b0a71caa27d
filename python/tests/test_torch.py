"""torch interop (runs when torch is importable, e.g. Debian's python3-torch): CPU tensors
of every float dtype go in through DLPack without a copy, BF16 included."""
import numpy as np
import pytest

import lorank

torch = pytest.importorskip("torch", reason="torch is optional (Debian: python3-torch)")


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_torch_dtypes(dtype):
    g = torch.Generator().manual_seed(0)
    b = torch.randn(96, 8, generator=g).to(getattr(torch, dtype))
    a = torch.randn(8, 70, generator=g).to(getattr(torch, dtype))
    b64, a64 = b.double().numpy(), a.double().numpy()
    expected = np.linalg.svd(1.5 * b64 @ a64, compute_uv=False)[:8]
    got = lorank.spectrum(b, a, 1.5)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 * expected[0])
    # A transposed (non-contiguous) tensor is gathered, same values.
    got_t = lorank.spectrum(a.T, b.T, 1.5)
    np.testing.assert_allclose(got_t, expected, rtol=0, atol=1e-12 * expected[0])


def test_peft_style_module(shared):
    adapter = lorank.open(shared / "adapters" / "gpt2-seqcls-r8")
    m = adapter.modules[0]
    a, b = torch.from_numpy(np.array(m.A)), torch.from_numpy(np.array(m.B))
    want = lorank.audit(adapter).modules
    want = {x.name: x for x in want}[m.name].singular_values
    np.testing.assert_allclose(lorank.spectrum(b, a, m.scale), want, rtol=0, atol=1e-13 * want[0])
