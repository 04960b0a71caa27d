#!/usr/bin/env python3
"""Independent NumPy oracle for `lorank merge` with PEFT adapters (tests/merge/merge_test.cc).

  merge_oracle.py make KIND BASE OUT_DIR   write a synthetic PEFT (or mlx_lm) adapter for BASE
  merge_oracle.py [--compute auto|F32|F64] check BASE OUTPUT DTYPE SCALE ADAPTER...
  merge_oracle.py [--compute auto|F32|F64] check-gguf BASE.gguf DEQUANT.safetensors OUTPUT.gguf DTYPE SCALE ADAPTER.gguf...

`check` reads the base, the adapters and lorank's output with its own safetensors reader,
recomputes every merged tensor with PEFT's formula in the operation order docs/merge.md
fixes (P = sum over k ascending of B[:,k] A[k,:] in float64 from zero; V = W + s1 P1 + ...;
DoRA: V * (m / sqrt(sum_j V^2)) row-wise, j ascending; one rounding to the output dtype)
and compares bytes. DTYPE is "base" or F32/F16/BF16. Exit 0 when every byte agrees.
--compute is lorank merge's: F32 does the same steps in float32 (factors, W and s rounded to
float32, every product and sum rounded to float32), and auto (the default) means F32 for
F16/BF16 outputs and F64 for F32 ones; DoRA and F64 base tensors stay in float64.

`check-gguf` does the same for GGUF: the base's exact values come from DEQUANT (ggml's own
dequantization, shared/models), the adapters are llama.cpp GGUF LoRAs (scale alpha/r), merged
quantised tensors must be F16 (or DTYPE), float ones keep their type, and every other
tensor, every KV and the alignment must be unchanged.
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


def mlx_updates(adapter_dir, scale_mult):
    """mlx_lm: lora_a is A^T [in, r], lora_b is B^T [r, out], the scale is used as is."""
    s = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))["lora_parameters"]["scale"]
    t = read_st(os.path.join(adapter_dir, "adapters.safetensors"))
    out = {}
    for name in t:
        if name.endswith(".lora_a"):
            path = name[:-len(".lora_a")]
            A, B = values(t[name]).T, values(t[path + ".lora_b"]).T
            out[path + ".weight"] = (s * scale_mult, B, A, False, None)
    return out


COMPUTE = "auto"


def in_float32(out_dtype, base_dtype, dora):
    if dora or base_dtype == "F64" or COMPUTE == "F64":
        return False
    return COMPUTE == "F32" or out_dtype in ("F16", "BF16")


def product(B, A, dt=np.float64):
    """P = sum over k ascending of B[:,k] A[k,:], from zero, every step rounded to dt."""
    B, A = B.astype(dt), A.astype(dt)
    P = np.zeros((B.shape[0], A.shape[1]), dtype=dt)
    for k in range(A.shape[0]):
        P = P + B[:, k:k + 1] * A[k:k + 1, :]
    return P


def updated(W, updates, dt):
    """V = W + s1 P1 + s2 P2 + ... in dt (each update: scale, B, A, transposed)."""
    V = W.astype(dt)
    for s, B, A, transposed, _ in updates:
        P = product(B, A, dt)
        V = V + dt(s) * (P.T if transposed else P).reshape(V.shape)
    return V


def expected_updates(adapter_dir, scale_mult):
    if os.path.exists(os.path.join(adapter_dir, "adapters.safetensors")):
        return mlx_updates(adapter_dir, scale_mult)
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
        transposed = f["embedding"] or cfg.get("fan_in_fan_out", False)
        mag = t.get(f"base_model.model.{path}.lora_magnitude_vector")
        out[path + ".weight"] = (s, B, A, transposed, None if mag is None else values(mag))
    return out


def check(base, output, dtype, scale, adapters):
    w = read_model(base)
    got = read_model(output)
    updates = {}
    scales = scale if isinstance(scale, list) else [scale] * len(adapters)
    for a, sc in zip(adapters, scales):
        for name, u in expected_updates(a, sc).items():
            updates.setdefault(name, []).append(u)
    merged = copied = 0
    for name, entry in w.items():
        if name not in updates:
            assert got[name][2] == entry[2], f"{name}: copied bytes differ"
            copied += 1
            continue
        out_dtype = entry[0] if dtype == "base" else dtype
        mag = updates[name][-1][4]
        dt = np.float32 if in_float32(out_dtype, entry[0], mag is not None) else np.float64
        V = updated(values(entry).reshape(entry[1][0], -1), updates[name], dt).astype(np.float64)
        if mag is not None:
            acc = np.zeros(V.shape[0])
            for j in range(V.shape[1]):
                acc += V[:, j] * V[:, j]
            V = (mag.reshape(-1) / np.sqrt(acc))[:, None] * V
        want = encode(V, out_dtype)
        if got[name][2] != want:
            g = np.frombuffer(got[name][2], dtype=np.uint8)
            x = np.frombuffer(want, dtype=np.uint8)
            bad = np.nonzero(g[:len(x)] != x[:len(g)])[0] if len(g) == len(x) else [-1]
            print(f"MISMATCH {name}: {len(bad)} bytes differ, first at byte {bad[0]}")
            return 1
        merged += 1
    print(f"ok: {merged} merged, {copied} copied, bit for bit")
    return 0


def write_st(path, tensors):
    header, blob = {}, b""
    for name in sorted(tensors):
        raw = tensors[name].tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + blob)


GGML_FLOAT = {0: "F32", 1: "F16", 30: "BF16"}


def read_gguf(path):
    """(kvs as raw bytes per key, {name: (ggml type, numpy shape, raw bytes)}, alignment)."""
    raw = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, raw, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("Q")
        pos += n
        return raw[pos - n:pos].decode()

    sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(sizes[t])

    assert raw[:4] == b"GGUF", path
    pos = 4
    take("I")
    n_tensors, n_kv = take("Q"), take("Q")
    kvs = {}
    for _ in range(n_kv):
        key = string()
        t = take("I")
        kvs[key] = (t, value(t))
    infos = []
    for _ in range(n_tensors):
        name = string()
        ne = [take("Q") for _ in range(take("I"))]
        infos.append((name, ne, take("I"), take("Q")))
    align = kvs.get("general.alignment", (4, 32))[1]
    start = (pos + align - 1) // align * align
    ends = sorted(o for *_, o in infos) + [len(raw) - start]
    tensors = {}
    for name, ne, t, off in infos:
        end = min(e for e in ends if e > off) if any(e > off for e in ends) else len(raw) - start
        tensors[name] = (t, tuple(reversed(ne)), raw[start + off:start + end])
    return kvs, tensors, align


def gguf_values(entry):
    t, shape, raw = entry
    n = int(np.prod(shape))
    return values((GGML_FLOAT[t], shape, raw[:n * {0: 4, 1: 2, 30: 2}[t]]))


def check_gguf(base, dequant, output, dtype, scale, adapters):
    kvs, w, align = read_gguf(base)
    ref = read_st(dequant)
    out_kvs, got, out_align = read_gguf(output)
    assert out_kvs == kvs and out_align == align, "KVs or alignment changed"
    updates = {}
    for path in adapters:
        akv, t, _ = read_gguf(path)
        alpha = akv["adapter.lora.alpha"][1]
        for name in t:
            if name.endswith(".lora_a"):
                target = name[:-len(".lora_a")]
                A, B = gguf_values(t[name]), gguf_values(t[target + ".lora_b"])
                updates.setdefault(target, []).append((alpha / A.shape[0] * scale, B, A, False, None))
    merged = copied = 0
    for name, entry in w.items():
        gt, gshape, graw = got[name]
        if name not in updates:
            assert (gt, gshape) == entry[:2] and graw[:len(entry[2])] == entry[2], f"{name}: copied bytes differ"
            copied += 1
            continue
        want_type = dtype if dtype != "base" else GGML_FLOAT.get(entry[0], "F16")
        dt = np.float32 if in_float32(want_type, GGML_FLOAT.get(entry[0]), False) else np.float64
        V = updated(values(ref[name]), updates[name], dt).astype(np.float64)
        want = encode(V, want_type)
        if GGML_FLOAT.get(gt) != want_type or graw[:len(want)] != want:
            print(f"MISMATCH {name}: type {gt}, expected {want_type}")
            return 1
        merged += 1
    assert set(got) == set(w), "tensor names changed"
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

    if kind == "mlx":
        mlx = {}
        for layer in (1, 3):
            for mod in ("self_attn.q_proj", "self_attn.k_proj", "mlp.up_proj"):
                o, i = w[f"model.layers.{layer}.{mod}.weight"][1]
                mlx[f"model.layers.{layer}.{mod}.lora_a"] = rng.normal(0, 1 / math.sqrt(i), (i, 8)).astype(np.float32)
                mlx[f"model.layers.{layer}.{mod}.lora_b"] = rng.normal(0, 0.02, (8, o)).astype(np.float32)
        write_st(os.path.join(out_dir, "adapters.safetensors"), mlx)
        json.dump({"lora_layers": 2, "lora_parameters": {"rank": 8, "alpha": 8, "scale": 1.25, "dropout": 0.0}},
                  open(os.path.join(out_dir, "adapter_config.json"), "w"))
        return 0
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
    write_st(os.path.join(out_dir, "adapter_model.safetensors"), tensors)
    json.dump(cfg, open(os.path.join(out_dir, "adapter_config.json"), "w"))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "--compute":
        COMPUTE = sys.argv[2]
        del sys.argv[1:3]
    if sys.argv[1] == "make":
        sys.exit(make(*sys.argv[2:5]))
    if sys.argv[1] == "check-gguf":
        sys.exit(check_gguf(*sys.argv[2:6], float(sys.argv[6]), sys.argv[7:]))
    # SCALE: one number for every adapter, or one per adapter ("1.5,-0.5")
    scale = [float(x) for x in sys.argv[5].split(",")]
    sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4], scale if len(scale) > 1 else scale[0], sys.argv[6:]))
