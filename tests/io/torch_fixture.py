#!/usr/bin/python3
"""Writes a small torch.save-like checkpoint without torch, for the reader tests.

Usage: torch_fixture.py OUT.bin PROTOCOL
Stand-in modules named `torch` and `torch._utils` are registered so that Python's own
pickler emits the same globals torch does (GLOBAL at protocol 2, STACK_GLOBAL/MEMOIZE/FRAME
at protocol 4). Storages go through persistent_id, as in torch.save. The archive is written
by zipfile (stored entries, fixed timestamps), so the output is deterministic and also
exercises a ZIP writer other than torch's.

Tensors: a row-major F32 matrix, its transpose (same storage, strides swapped, so not
contiguous), a slice at a storage offset, an F16 vector wrapped as a Parameter, a BF16
tensor, a scalar, and an empty tensor; the state dict is an OrderedDict carrying
`_metadata`, as Module.state_dict() returns.
"""
import collections
import pickle
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
torch._utils = utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = utils


def _rebuild_tensor_v2(*args):
    raise AssertionError("never called")


def _rebuild_parameter(*args):
    raise AssertionError("never called")


for f in (_rebuild_tensor_v2, _rebuild_parameter):
    f.__module__ = "torch._utils"
    setattr(utils, f.__name__, f)

for name in ("FloatStorage", "HalfStorage", "BFloat16Storage"):
    cls = type(name, (), {"__module__": "torch"})
    setattr(torch, name, cls)


class Storage:
    def __init__(self, key, cls, raw, itemsize):
        self.key, self.cls, self.raw, self.numel = key, cls, raw, len(raw) // itemsize


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (utils._rebuild_tensor_v2, self.args)


class Parameter:
    def __init__(self, data):
        self.data = data

    def __reduce__(self):
        return (utils._rebuild_parameter, (self.data, True, collections.OrderedDict()))


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return None


def main(out, protocol):
    f32 = Storage("0", torch.FloatStorage, struct.pack("<12f", *[i * 0.5 - 2 for i in range(12)]), 4)
    f16 = Storage("1", torch.HalfStorage, struct.pack("<5e", 1.0, -2.5, 0.125, 65504.0, 6e-8), 2)
    bf16 = Storage("2", torch.BFloat16Storage, struct.pack("<4H", 0x3F80, 0xC000, 0x4049, 0x0001), 2)
    state = collections.OrderedDict()
    state["m.weight"] = Tensor(f32, 0, [3, 4], [4, 1])
    state["m.weight_t"] = Tensor(f32, 0, [4, 3], [1, 4])
    state["m.slice"] = Tensor(f32, 5, [2, 3], [4, 1])
    state["p.half"] = Parameter(Tensor(f16, 0, [5], [1]))
    state["b.bf16"] = Tensor(bf16, 1, [1, 3], [7, 1])
    state["scalar"] = Tensor(f32, 11, [], [])
    state["empty"] = Tensor(f32, 0, [0, 4], [4, 1])
    state._metadata = collections.OrderedDict([("", {"version": 1}), ("m", {"version": 2})])
    write_archive(out, state, (f32, f16, bf16), protocol)


def write_archive(out, state, storages, protocol=2):
    """The torch.save ZIP layout: archive/data.pkl, byteorder, data/<key>, version."""
    import io
    buf = io.BytesIO()
    Pickler(buf, protocol=protocol).dump(state)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        def put(name, data):
            z.writestr(zipfile.ZipInfo("archive/" + name, date_time=(2020, 1, 1, 0, 0, 0)), data)
        put("data.pkl", buf.getvalue())
        put("byteorder", b"little")
        for s in storages:
            put("data/" + s.key, s.raw)
        put("version", b"3\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
