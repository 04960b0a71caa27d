#!/usr/bin/env python3
"""Independent oracle for the safetensors reader tests (standard library only).

Prints one line per tensor, in data-offset order:
    <name>\t<dtype>\t<shape,comma,separated>\t<sum.hex()>\t<sum_of_squares.hex()>
where the sums run over the values widened to float64, added sequentially in storage
order (so a C++ loop doing the same additions gets bit-identical results).
"""
import json
import struct
import sys

FORMATS = {"F64": "d", "F32": "f", "F16": "e"}


def widen(dtype, raw):
    if dtype in FORMATS:
        fmt = FORMATS[dtype]
        return struct.unpack("<%d%s" % (len(raw) // struct.calcsize(fmt), fmt), raw)
    if dtype == "BF16":
        halves = struct.unpack("<%dH" % (len(raw) // 2), raw)
        packed = struct.pack("<%dI" % len(halves), *(h << 16 for h in halves))
        return struct.unpack("<%df" % len(halves), packed)
    raise SystemExit("oracle: unsupported dtype " + dtype)


def main(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    data = blob[8 + n :]
    entries = [(v["data_offsets"], k, v) for k, v in header.items() if k != "__metadata__"]
    for (begin, end), name, v in sorted(entries, key=lambda e: (e[0][0], e[0][1])):
        total = 0.0
        squares = 0.0
        for x in widen(v["dtype"], data[begin:end]):
            total += x
            squares += x * x
        shape = ",".join(str(d) for d in v["shape"])
        print("%s\t%s\t%s\t%s\t%s" % (name, v["dtype"], shape, total.hex(), squares.hex()))


if __name__ == "__main__":
    main(sys.argv[1])
