#!/usr/bin/python3
"""Independent oracle for the PyTorch .bin reader tests (standard library + NumPy, no torch).

Reads data.pkl with Python's own pickle machinery, but with find_class restricted to inert
stand-ins (nothing from the file is imported or called), reads each storage with zipfile,
and views it with NumPy's as_strided. Prints one line per tensor, in state-dict order:
    <name>\t<dtype>\t<shape,comma,separated>\t<sha256 of the row-major bytes>\t<first value .hex()>
"""
import collections
import hashlib
import io
import pickle
import sys
import zipfile

import numpy as np

STORAGES = {
    "DoubleStorage": ("F64", "<f8"), "FloatStorage": ("F32", "<f4"),
    "HalfStorage": ("F16", "<f2"), "BFloat16Storage": ("BF16", "<u2"),
    "LongStorage": ("I64", "<i8"), "IntStorage": ("I32", "<i4"),
}


def rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
    return {"storage": storage, "offset": offset, "size": tuple(size), "stride": tuple(stride)}


class Restricted(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor_v2
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return lambda data, requires_grad, hooks: data
        if module == "torch" and name in STORAGES:
            return ("storage-type", name)
        raise pickle.UnpicklingError("oracle refuses global %s.%s" % (module, name))

    def persistent_load(self, pid):
        tag, storage_type, key, location, numel = pid
        assert tag == "storage" and storage_type[0] == "storage-type"
        return (storage_type[1], key, numel)


def main(path):
    z = zipfile.ZipFile(path)
    pkl = [n for n in z.namelist() if n.endswith("/data.pkl")]
    assert len(pkl) == 1, pkl
    prefix = pkl[0][: -len("/data.pkl")]
    state = Restricted(io.BytesIO(z.read(pkl[0]))).load()
    for name, t in state.items():
        type_name, key, numel = t["storage"]
        dtype, np_type = STORAGES[type_name]
        raw = np.frombuffer(z.read("%s/data/%s" % (prefix, key)), dtype=np_type)
        assert raw.size == numel
        item = raw.itemsize
        view = np.lib.stride_tricks.as_strided(
            raw[t["offset"]:], shape=t["size"], strides=[s * item for s in t["stride"]])
        data = np.ascontiguousarray(view)
        first = float(data.reshape(-1)[0]) if data.size and dtype != "BF16" else 0.0
        shape = ",".join(str(d) for d in t["size"])
        print("%s\t%s\t%s\t%s\t%s" % (name, dtype, shape, hashlib.sha256(data.tobytes()).hexdigest(),
                                      first.hex()))


if __name__ == "__main__":
    main(sys.argv[1])
