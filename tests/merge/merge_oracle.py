#!/usr/bin/env python3
"""Independent NumPy oracle for `lorank merge` with PEFT adapters (tests/merge/merge_test.cc).

  merge_oracle.py make KIND BASE OUT_DIR   write a synthetic PEFT adapter for BASE
  merge_oracle.py check BASE OUTPUT DTYPE SCALE ADAPTER...

`check` reads the base, the adapters and lorank's output with its own safetensors reader,
recomputes every merged tensor with PEFT's formula in the operation order docs/merge.md
fixes (P = sum over k ascending of B[:,k] A[k,:] in float64 from zero; V = W + s1 P1 + ...;
DoRA: V * (m / sqrt(sum_j V^2)) row-wise, j ascending; one rounding to the output dtype)
and compares bytes. DTYPE is "base" or F32/F16/BF16. Exit 0 when every byte agrees.
"""
import json, math, os, re, struct, sys
import numpy as np

DT = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_st(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = (e["dtype"], tuple(e["shape"]), data[b:end])
    return out


def read_model(path):
    if os.path.isdir(path):
        idx = os.path.join(path, "model.safetensors.index.json")
        if os.path.exists(idx):
            tensors = {}
            for shard in sorted(set(json.load(open(idx))["weight_map"].values())):
                tensors.update(read_st(os.path.join(path, shard)))
            return tensors
        return read_st(os.path.join(path, "model.safetensors"))
    return read_st(path)


def values(entry):
    dtype, shape, raw = entry
    if dtype == "BF16":
        u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return u.view(np.float32).astype(np.float64).reshape(shape)
    return np.frombuffer(raw, dtype=DT[dtype]).astype(np.float64).reshape(shape)


def encode(v, dtype):
    if dtype == "BF16":  # round-to-nearest-even to 8 significant bits, straight from float64
        m, e = np.frexp(v)
        r = np.ldexp(np.rint(np.ldexp(m, 8)), e - 8).astype(np.float32)
        return (r.view(np.uint32) >> 16).astype("<u2").tobytes()
    return v.astype(DT[dtype]).tobytes()


def pattern(patterns, path, default):
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?({key})$", path):
            return value
    return default


def expected_updates(adapter_dir, scale_mult):
    cfg = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))
    t = read_st(os.path.join(adapter_dir, "adapter_model.safetensors"))
    mods = {}
    for name in t:
        m = re.match(r"base_model\.model\.(.*)\.lora_(A\.weight|B\.weight|embedding_A|embedding_B)$", name)
        if m:
            mods.setdefault(m.group(1), {})[m.group(2).split(".")[0][-1]] = values(t[name])
            mods[m.group(1)]["embedding"] = "embedding" in m.group(2)
    out = {}
    for path, f in mods.items():
        r = pattern(cfg.get("rank_pattern") or {}, path, cfg["r"])
        alpha = pattern(cfg.get("alpha_pattern") or {}, path, cfg["lora_alpha"])
        s = (alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r) * scale_mult
        A, B = f["A"], f["B"]
        A = A.reshape(A.shape[0], -1)
        P = np.zeros((B.shape[0], A.shape[1]))
        for k in range(A.shape[0]):
            P += B[:, k:k + 1] * A[k:k + 1, :]
        transposed = f["embedding"] or cfg.get("fan_in_fan_out", False)
        mag = t.get(f"base_model.model.{path}.lora_magnitude_vector")
        out[path + ".weight"] = (s, P.T if transposed else P, None if mag is None else values(mag))
    return out


def check(base, output, dtype, scale, adapters):
    w = read_model(base)
    got = read_model(output)
    updates = {}
    for a in adapters:
        for name, u in expected_updates(a, scale).items():
            updates.setdefault(name, []).append(u)
    merged = copied = 0
    for name, entry in w.items():
        if name not in updates:
            assert got[name][2] == entry[2], f"{name}: copied bytes differ"
            copied += 1
            continue
        V = values(entry).reshape(entry[1][0], -1).copy()
        for s, P, mag in updates[name]:
            V += s * P.reshape(V.shape)
            if mag is not None:
                acc = np.zeros(V.shape[0])
                for j in range(V.shape[1]):
                    acc += V[:, j] * V[:, j]
                V = (mag.reshape(-1) / np.sqrt(acc))[:, None] * V
        want = encode(V, entry[0] if dtype == "base" else dtype)
        if got[name][2] != want:
            g = np.frombuffer(got[name][2], dtype=np.uint8)
            x = np.frombuffer(want, dtype=np.uint8)
            bad = np.nonzero(g[:len(x)] != x[:len(g)])[0] if len(g) == len(x) else [-1]
            print(f"MISMATCH {name}: {len(bad)} bytes differ, first at byte {bad[0]}")
            return 1
        merged += 1
    print(f"ok: {merged} merged, {copied} copied, bit for bit")
    return 0


def make(kind, base, out_dir):
    """Synthetic adapters covering PEFT's variants, for stories260K or tinygpt2."""
    rng = np.random.default_rng(20261203)
    w = read_model(base)
    os.makedirs(out_dir, exist_ok=True)
    cfg = {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_rslora": False, "use_dora": False,
           "rank_pattern": {}, "alpha_pattern": {}, "fan_in_fan_out": False}
    tensors = {}

    def lora(path, r, out_f, in_f, embedding=False):
        # PEFT saves embedding factors as bare parameters, without ".weight"
        a, b = ("lora_embedding_A", "lora_embedding_B") if embedding else ("lora_A.weight", "lora_B.weight")
        tensors[f"base_model.model.{path}.{a}"] = rng.normal(0, 1 / math.sqrt(in_f), (r, in_f)).astype(np.float32)
        tensors[f"base_model.model.{path}.{b}"] = rng.normal(0, 0.02, (out_f, r)).astype(np.float32)

    if kind == "gpt2-fifo":
        cfg["fan_in_fan_out"] = True
        for layer in range(2):
            for mod in ("attn.c_attn", "mlp.c_fc"):
                i, o = w[f"transformer.h.{layer}.{mod}.weight"][1]
                lora(f"transformer.h.{layer}.{mod}", 4, o, i)
    else:
        for layer in range(5):
            for mod in ("self_attn.q_proj", "self_attn.v_proj", "mlp.down_proj"):
                o, i = w[f"model.layers.{layer}.{mod}.weight"][1]
                r = 6 if (kind == "patterns" and mod == "mlp.down_proj") else 4
                lora(f"model.layers.{layer}.{mod}", r, o, i)
                if kind == "dora":
                    W = values(w[f"model.layers.{layer}.{mod}.weight"])
                    norms = np.sqrt((W * W).sum(axis=1)) * (1 + 0.1 * rng.normal(size=o))
                    tensors[f"base_model.model.model.layers.{layer}.{mod}.lora_magnitude_vector"] = norms.astype(np.float32)
        if kind == "patterns":
            cfg.update(use_rslora=True, rank_pattern={"down_proj": 6}, alpha_pattern={r"layers\.3\.self_attn\.v_proj": 3})
            n, d = w["model.embed_tokens.weight"][1]
            lora("model.embed_tokens", 4, d, n, embedding=True)
        if kind == "dora":
            cfg["use_dora"] = True
    header, blob = {}, b""
    for name in sorted(tensors):
        raw = tensors[name].tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    open(os.path.join(out_dir, "adapter_model.safetensors"), "wb").write(struct.pack("<Q", len(h)) + h + blob)
    json.dump(cfg, open(os.path.join(out_dir, "adapter_config.json"), "w"))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "make":
        sys.exit(make(*sys.argv[2:5]))
    sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), sys.argv[6:]))
