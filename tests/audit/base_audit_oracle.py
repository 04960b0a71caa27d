#!/usr/bin/env python3
"""Independent dense NumPy oracle for `lorank audit ADAPTER --base BASE` (Hu et al. 2022 §7.3).

  base_audit_oracle.py check ADAPTER BASE LORANK_JSON [--w-values FILE] [--seed S] [--tol T]
  base_audit_oracle.py make-big OUT_DIR   a base with W too big for the dense route + an adapter
  base_audit_oracle.py make-edge STORIES OUT_DIR   an adapter with an untrained module, a NaN base

`check` forms every ΔW = s·B·A densely, lays it out as its base W is stored (transposed for
PEFT embeddings and fan_in_fan_out), and computes with np.linalg.svd of ΔW and of W:
weight_norm ‖W‖_F, relative_change ‖ΔW‖_F/‖W‖_F, projection_delta ‖UᵀWV‖_F (U, V ΔW's top-k
singular vectors), projection_w_top √Σ_{i≤k} σ_i(W)², projection_random ‖Q_1ᵀWQ_2‖_F with
Q_1, Q_2 = QR of default_rng([seed, name words]).standard_normal((rows, k)) then ((cols, k)),
amplification ‖ΔW‖_F/projection_delta, and compares each with lorank's JSON within a
relative tolerance (default 1e-9). --w-values takes W from another safetensors file of the
same names (the ggml-dequantized reference values of a quantized GGUF base).
Adapters are read by tests/resize/resize_numpy_oracle.py, bases by tests/merge/merge_oracle.py.
"""
import json, math, os, struct, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "resize"))
sys.path.insert(0, os.path.join(HERE, "..", "merge"))
import resize_numpy_oracle as ro  # noqa: E402
import merge_oracle as mo  # noqa: E402

SIX = ["weight_norm", "relative_change", "projection_delta", "projection_w_top",
       "projection_random", "amplification"]


def read_base(path):
    """name -> float64 array of a safetensors file / sharded folder, or a float GGUF."""
    if path.endswith(".gguf") or path.endswith(".bin"):
        tensors, _ = (ro.read_gguf if path.endswith(".gguf") else ro.read_torch_bin)(path)
        return {t.name: t.f64() for t in tensors}
    return {name: mo.values(e) for name, e in mo.read_model(path).items()}


def base_names(adapter, name):
    if adapter.format == "gguf":
        return [name]
    path = name[len("base_model.model."):] if name.startswith("base_model.model.") else name
    names = [path + ".weight"]
    if "." in path:
        names.append(path.split(".", 1)[1] + ".weight")
    return names


def module_rng(seed, name):
    raw = name.encode()
    raw += b"\0" * (-len(raw) % 4)
    return np.random.default_rng([seed] + list(struct.unpack(f"<{len(raw) // 4}I", raw)))


def expected(adapter, w_all, seed):
    fifo = adapter.format == "peft" and bool(adapter.config.get("fan_in_fan_out", False))
    out = {}
    for name, m in adapter.modules.items():
        b, a = m.factors()
        embedding = m.a.name.endswith("lora_embedding_A")
        transposed = embedding or (fifo and a.ndim == 2 and m.a.f64().ndim == 2)
        key = next(n for n in base_names(adapter, name) if n in w_all)
        W = w_all[key].reshape(w_all[key].shape[0], -1)
        dw = m.scale * (b @ a)
        if transposed:
            dw = dw.T
        assert dw.shape == W.shape, (name, dw.shape, W.shape)
        # k: σ(B·A) above the QR core's rounding level, max(out, in, r)·ε·‖B‖_F·‖A‖_F
        sba = np.linalg.svd(b @ a, compute_uv=False)
        tol = max(b.shape[0], a.shape[1], a.shape[0]) * np.finfo(float).eps * \
            np.linalg.norm(b) * np.linalg.norm(a)
        k = int(np.sum(sba > tol))
        e = {"tensor": key, "transposed": transposed, "directions": k,
             "weight_norm": np.linalg.norm(W), "delta_norm": np.linalg.norm(dw)}
        e["relative_change"] = e["delta_norm"] / e["weight_norm"] if e["weight_norm"] > 0 else None
        for f in SIX[2:]:
            e[f] = None
        if k > 0:
            U, _, Vt = np.linalg.svd(dw)
            e["projection_delta"] = np.linalg.norm(U[:, :k].T @ W @ Vt[:k].T)
            sw = np.linalg.svd(W, compute_uv=False)
            e["projection_w_top"] = math.sqrt(float(np.sum(sw[:k] ** 2)))
            rng = module_rng(seed, name)
            q1 = np.linalg.qr(rng.standard_normal((W.shape[0], k)))[0]
            q2 = np.linalg.qr(rng.standard_normal((W.shape[1], k)))[0]
            e["projection_random"] = np.linalg.norm(q1.T @ W @ q2)
            if e["projection_delta"] > 0:
                e["amplification"] = e["delta_norm"] / e["projection_delta"]
        out[name] = e
    return out


def check(adapter_path, base_path, json_path, w_values=None, seed=0, tol=1e-9):
    adapter = ro.open_adapter(adapter_path)
    w_all = read_base(w_values or base_path)
    report = json.load(open(json_path))
    want = expected(adapter, w_all, seed)
    got = {m["name"]: m for m in report["modules"]}
    assert set(got) == set(want), (sorted(got), sorted(want))
    worst = 0.0
    for name, e in want.items():
        g = got[name]["base"]
        for f in ("tensor", "transposed", "directions"):
            if g[f] != e[f]:
                print(f"MISMATCH {name}: {f} lorank {g[f]!r}, numpy {e[f]!r}")
                return 1
        for f in SIX + ["delta_norm"]:
            x, y = g[f], e[f]
            if (x is None) != (y is None):
                print(f"MISMATCH {name}: {f} lorank {x}, numpy {y}")
                return 1
            if x is None:
                continue
            rel = abs(x - y) / max(abs(y), 1e-300)
            worst = max(worst, rel)
            if rel > tol:
                print(f"MISMATCH {name}: {f} lorank {x!r}, numpy {y!r} (relative {rel:.3g} > {tol})")
                return 1
    print(f"ok: {len(want)} modules agree, largest relative difference {worst:.3g}")
    return 0


def write_st(path, tensors):
    header, blob = {}, b""
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name]).tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)


def make_big(out_dir):
    """Two W of more than 2^20 elements (so --w-svd auto takes the Krylov route): one with a
    slowly decaying spectrum like a trained weight's, one Gaussian (flat top, the hard case),
    and an r = 4 PEFT adapter for both."""
    rng = np.random.default_rng(20261204)
    os.makedirs(os.path.join(out_dir, "adapter"), exist_ok=True)
    shapes = {"model.layers.0.mlp.up_proj": (1536, 1024), "model.layers.0.mlp.down_proj": (1024, 1100)}
    base, lora = {}, {}
    for path, (o, i) in shapes.items():
        if path.endswith("up_proj"):
            u = np.linalg.qr(rng.standard_normal((o, i)))[0]
            v = np.linalg.qr(rng.standard_normal((i, i)))[0]
            sigma = 10.0 / np.sqrt(1.0 + np.arange(i))
            W = (u * sigma) @ v.T
        else:
            W = rng.standard_normal((o, i)) / math.sqrt(i)
        base[path + ".weight"] = W.astype(np.float32)
        lora[f"base_model.model.{path}.lora_A.weight"] = rng.normal(0, 1 / math.sqrt(i), (4, i)).astype(np.float32)
        lora[f"base_model.model.{path}.lora_B.weight"] = rng.normal(0, 0.02, (o, 4)).astype(np.float32)
    write_st(os.path.join(out_dir, "base.safetensors"), base)
    write_st(os.path.join(out_dir, "adapter", "adapter_model.safetensors"), lora)
    cfg = {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_rslora": False, "use_dora": False,
           "rank_pattern": {}, "alpha_pattern": {}, "fan_in_fan_out": False,
           "target_modules": ["up_proj", "down_proj"]}
    json.dump(cfg, open(os.path.join(out_dir, "adapter", "adapter_config.json"), "w"))
    return 0


def make_edge(stories, out_dir):
    """An adapter on two stories260K modules, one of them untrained (B = 0), their two W as a
    PyTorch state dict (base.bin), and a copy of the base whose layer-0 q_proj holds a NaN."""
    rng = np.random.default_rng(20261205)
    os.makedirs(os.path.join(out_dir, "adapter"), exist_ok=True)
    lora = {}
    for path, zero in (("model.layers.0.self_attn.q_proj", False), ("model.layers.1.self_attn.v_proj", True)):
        o, i = mo.read_model(stories)[path + ".weight"][1]
        lora[f"base_model.model.{path}.lora_A.weight"] = rng.normal(0, 1 / math.sqrt(i), (4, i)).astype(np.float32)
        lora[f"base_model.model.{path}.lora_B.weight"] = (np.zeros((o, 4)) if zero else rng.normal(0, 0.02, (o, 4))).astype(np.float32)
    write_st(os.path.join(out_dir, "adapter", "adapter_model.safetensors"), lora)
    cfg = {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"]}
    json.dump(cfg, open(os.path.join(out_dir, "adapter", "adapter_config.json"), "w"))
    base = {name: mo.values(e).astype(np.float32) for name, e in mo.read_model(stories).items()}
    # The same two modules as an mlx_lm adapter (lora_a [in, r], lora_b [r, out], scale 2).
    os.makedirs(os.path.join(out_dir, "mlx"), exist_ok=True)
    write_st(os.path.join(out_dir, "mlx", "adapters.safetensors"), {
        n[len("base_model.model."):].replace(".lora_A.weight", ".lora_a").replace(".lora_B.weight", ".lora_b")
        if n.startswith("base_model.model.") else n: t.T.copy() for n, t in lora.items()})
    json.dump({"lora_parameters": {"rank": 4, "scale": 2.0, "dropout": 0.0}, "fine_tune_type": "lora"},
              open(os.path.join(out_dir, "mlx", "adapter_config.json"), "w"))
    write_torch_bin(os.path.join(out_dir, "base.bin"), {n: base[n] for n in (
        "model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.v_proj.weight")})
    base["model.layers.0.self_attn.q_proj.weight"][3, 5] = np.nan
    write_st(os.path.join(out_dir, "base-nan.safetensors"), base)
    return 0


def write_torch_bin(path, tensors):
    """A torch.save-like state dict of F32 tensors, by tests/io/torch_fixture.py's writer."""
    import collections
    sys.path.insert(0, os.path.join(HERE, "..", "io"))
    import torch_fixture as tf
    state, storages = collections.OrderedDict(), []
    for key, (name, v) in enumerate(tensors.items()):
        st = tf.Storage(str(key), tf.torch.FloatStorage, v.astype("<f4").tobytes(), 4)
        storages.append(st)
        state[name] = tf.Tensor(st, 0, list(v.shape), [v.shape[1], 1])
    tf.write_archive(path, state, storages)


def main(argv):
    if argv[0] == "make-big":
        return make_big(argv[1])
    if argv[0] == "make-edge":
        return make_edge(argv[1], argv[2])
    opts = {"--w-values": None, "--seed": "0", "--tol": "1e-9"}
    pos = []
    it = iter(argv[1:])
    for a in it:
        if a in opts:
            opts[a] = next(it)
        else:
            pos.append(a)
    return check(*pos, w_values=opts["--w-values"], seed=int(opts["--seed"]), tol=float(opts["--tol"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
