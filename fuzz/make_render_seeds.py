#!/usr/bin/python3
"""Seeds for fuzz_render (standard library only).

    /usr/bin/python3 fuzz/make_render_seeds.py SHARED_ADAPTERS_DIR OUT_DIR

For every real PEFT adapter: its real adapter_config.json, the separator, then a small
safetensors file whose LoRA pairs use the adapter's own module names (at most 12, ranks
from the config, tiny in/out sizes), so the fuzzer starts from real names and configs
(SD down/up blocks, T5 encoder/decoder, GPT-2 Conv1D, patterns, DoRA) at a few KB each.
"""
import json
import os
import re
import struct
import sys

SEPARATOR = b"\n#LORANK-WEIGHTS#\n"


def safetensors(tensors):
    header, data = {}, b""
    for name, shape, values in tensors:
        raw = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def module_names(weights):
    with open(weights, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    names = sorted({re.sub(r"\.lora_A(\.[^.]+)?\.weight$", "", k) for k in header
                    if re.search(r"\.lora_A(\.[^.]+)?\.weight$", k)})
    return names[:12]


def main(adapters, out):
    os.makedirs(out, exist_ok=True)
    for case in sorted(os.listdir(adapters)):
        config = os.path.join(adapters, case, "adapter_config.json")
        weights = os.path.join(adapters, case, "adapter_model.safetensors")
        if not (os.path.exists(config) and os.path.exists(weights)):
            continue
        cfg = json.load(open(config))
        r = int(cfg.get("r", 8))
        tensors = []
        for i, name in enumerate(module_names(weights)):
            inp, outp = 3 + i % 3, 4 + i % 2
            tensors.append((f"{name}.lora_A.weight", [r, inp],
                            [((j * 7 + i) % 11 - 5) / 8 for j in range(r * inp)]))
            tensors.append((f"{name}.lora_B.weight", [outp, r],
                            [((j * 5 + i) % 13 - 6) / 16 for j in range(outp * r)]))
        if not tensors:
            continue
        blob = open(config, "rb").read() + SEPARATOR + safetensors(tensors)
        open(os.path.join(out, f"real-{case}"), "wb").write(blob)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
