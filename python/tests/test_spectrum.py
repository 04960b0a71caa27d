"""lorank.spectrum against NumPy's dense SVD of scale*B@A, for every input dtype and
kind of input object (BF16 through a hand-made DLPack capsule: NumPy has no bfloat16)."""
import ctypes

import numpy as np
import pytest

import lorank

OUT, R, IN = 120, 8, 90


def reference(b, a, scale):
    """The dense SVD of the product of the stored values, widened to float64."""
    return np.linalg.svd(scale * (b.astype(np.float64) @ a.astype(np.float64)), compute_uv=False)[:R]


def factors(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((OUT, R)).astype(dtype), rng.standard_normal((R, IN)).astype(dtype))


def assert_close(values, expected):
    # The library's contract: within c*eps*|s|*||B||*||A||; NumPy's dense SVD has the same
    # order of error, so 1e-12*sigma1 is ~100x the rounding of either.
    assert values.dtype == np.float64 and values.shape == expected.shape
    assert np.all(np.diff(values) <= 0)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12 * expected[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_numpy_dtypes(dtype):
    b, a = factors(dtype)
    assert_close(lorank.spectrum(b, a, scale=0.5), reference(b, a, 0.5))


def test_negative_scale_gives_abs():
    b, a = factors(np.float64)
    assert_close(lorank.spectrum(b, a, -2.0), reference(b, a, 2.0))


def test_strided_and_other_objects():
    b, a = factors(np.float32, seed=1)
    expected = reference(b, a, 1.0)
    assert_close(lorank.spectrum(np.asfortranarray(b), a[:, ::1]), expected)  # Fortran order
    wide = np.zeros((OUT, 2 * R), np.float32)
    wide[:, ::2] = b
    assert_close(lorank.spectrum(wide[:, ::2], a), expected)  # a strided view
    assert_close(lorank.spectrum(b.tolist(), a.tolist()), reference(b, a, 1.0))  # lists

    class Wrapped:  # anything with __array__
        def __init__(self, x):
            self.x = x

        def __array__(self, dtype=None):
            return self.x

    assert_close(lorank.spectrum(Wrapped(b), memoryview(a)), expected)
    ints = np.arange(OUT * R).reshape(OUT, R) % 7
    assert_close(lorank.spectrum(ints, a), reference(ints.astype(np.float64), a, 1.0))


# --- DLPack producer for BF16: a capsule over a uint16 array holding bfloat16 bits.
class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p)]


_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]


class BF16Tensor:
    """A 2-D bfloat16 matrix exported through DLPack (kDLBfloat = 4), as torch does."""

    def __init__(self, bits, strides=None):
        self.bits = bits  # uint16 array, kept alive with the structs below
        self.shape = (ctypes.c_int64 * 2)(*bits.shape)
        self.strides = None if strides is None else (ctypes.c_int64 * 2)(*strides)
        self.managed = _DLManagedTensor()
        t = self.managed.dl_tensor
        t.data = bits.ctypes.data
        t.device = _DLDevice(1, 0)
        t.ndim = 2
        t.dtype = _DLDataType(4, 16, 1)
        t.shape = self.shape
        t.strides = self.strides
        t.byte_offset = 0

    def __dlpack_device__(self):
        return (1, 0)

    def __dlpack__(self, stream=None):
        return _capsule_new(ctypes.addressof(self.managed), b"dltensor", None)


def to_bf16_bits(x):
    """float32 → bfloat16 bits (round to nearest even) and their exact float32 values."""
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return bits, (bits.astype(np.uint32) << 16).view(np.float32)


@pytest.mark.skipif(not lorank._lorank._has_dlpack, reason="built without libdlpack-dev")
def test_bf16_through_dlpack():
    b, a = factors(np.float32, seed=2)
    b_bits, b_values = to_bf16_bits(b)
    a_bits, a_values = to_bf16_bits(a)
    expected = reference(b_values, a_values, 2.0)
    assert_close(lorank.spectrum(BF16Tensor(b_bits), BF16Tensor(a_bits), 2.0), expected)
    # Mixed: BF16 B with a float32 A.
    assert_close(lorank.spectrum(BF16Tensor(b_bits), a_values), expected / 2.0)
    # A strided DLPack tensor (the transpose of a contiguous one) is gathered.
    transposed = _transposed(np.ascontiguousarray(b_bits.T))
    assert_close(lorank.spectrum(transposed, BF16Tensor(a_bits), 2.0), expected)


def _transposed(bits_t):
    """A DLPack view of bits_t.T (shape swapped, strides (1, rows))."""
    view = BF16Tensor(bits_t)
    view.shape[0], view.shape[1] = bits_t.shape[1], bits_t.shape[0]
    view.strides = (ctypes.c_int64 * 2)(1, bits_t.shape[1])
    view.managed.dl_tensor.strides = view.strides
    return view


def test_empty_and_zero():
    assert lorank.spectrum(np.zeros((4, 0)), np.zeros((0, 5))).shape == (0,)
    np.testing.assert_array_equal(lorank.spectrum(np.zeros((4, 2)), np.zeros((2, 5))), [0.0, 0.0])


def test_bad_inputs():
    b, a = factors(np.float64)
    with pytest.raises(lorank.UsageError, match="columns must equal A's rows"):
        lorank.spectrum(b, a.T)
    with pytest.raises(ValueError):  # UsageError is a ValueError
        lorank.spectrum(b[:, 0], a)
    with pytest.raises(lorank.UsageError, match="dtype complex128"):
        lorank.spectrum(b.astype(complex), a)
    bad = b.copy()
    bad[3, 1] = np.nan
    with pytest.raises(lorank.NumericalError, match=r"B\[3, 1\]") as e:
        lorank.spectrum(bad, a)
    assert isinstance(e.value, lorank.Error) and e.value.code == "numerical error"
