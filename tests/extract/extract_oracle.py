#!/usr/bin/env python3
"""Dense NumPy oracle for `lorank extract` (tests/extract/extract_test.cc).

  planted OUT_DIR KIND ROWS COLS SEED
      writes OUT_DIR/base.safetensors and OUT_DIR/tuned.safetensors (F64): W ~ N(0, 1) and
      W + dW with dW = U diag(s) V^T planted for KIND: "powerlaw" (s_i = i^-0.5, the slow
      decay of real fine-tunes) or "lowrank" (s_i = 2^-(i-1) for i <= 12, plus Gaussian
      noise of Frobenius norm 1e-4). Two matrices: "layers.0.q.weight" ROWS x COLS and
      "layers.0.o.weight" COLS x ROWS (wide when ROWS > COLS... both orientations), plus a
      changed norm "layers.0.norm.weight".
      Prints, per matrix, the relative sigma error of a svd_lowrank(q = k + 10, niter = 2)
      style randomized method (Halko et al.'s range finder, as torch.svd_lowrank) at k = 32:
      "lowrank <name> <max_i |s~_i - s_i| / s_i>".

  check BASE TUNED ADAPTER REPORT_JSON TOLERANCE [RULE]
      for every matrix in the report: dense dW = tuned - base (both read here), its SVD, the
      adapter's B.A (PEFT keys, fan_in_fan_out and embeddings transposed) and checks
        - each reported sigma_i within TOLERANCE relative of the dense sigma_i, never above;
        - ||dW - B.A||_F^2 - sum_{i>k} sigma_i^2 <= 2 TOLERANCE sum_{i<=k} sigma_i^2 (the
          certified Eckart-Young gap), and the reported error equals ||dW - B.A||_F;
        - RULE "energy:p": retained energy >= p; "fixed:k": k; "threshold:t": the rank is
          #{sigma_i >= t sigma_1} of the dense values up to boundary values within TOLERANCE.
      Prints "ok: N matrices, max sigma rel err E, max gap G" or a failure line, exit 1.

  torch-bin SRC.safetensors OUT.bin
      the 2-D tensors of SRC (F32) as a PyTorch state dict (tests/io/torch_fixture.py's writer).

  hostile OUT_DIR
      base.safetensors (a.weight 4x3, b.weight 3x3) and fine-tunes against it: shape (a is
      3x4), missing (no b), nan (a[2, 1] NaN), same (identical bytes).
"""
import json, os, re, struct, sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "merge"))
from merge_oracle import read_model, values  # noqa: E402


def write_st64(path, tensors):
    header, blob = {}, b""
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(tensors[name].shape),
                        "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + blob)


def planted_delta(rng, rows, cols, kind):
    n = min(rows, cols)
    u, _ = np.linalg.qr(rng.standard_normal((rows, n)))
    v, _ = np.linalg.qr(rng.standard_normal((cols, n)))
    if kind == "powerlaw":
        s = np.arange(1, n + 1, dtype=np.float64) ** -0.5
        return (u * s) @ v.T
    s = np.zeros(n)
    s[:12] = 2.0 ** -np.arange(12)
    noise = rng.standard_normal((rows, cols))
    return (u * s) @ v.T + noise * (1e-4 / np.linalg.norm(noise))


def svd_lowrank_error(rng, d, k, q_extra=10, niter=2):
    # torch.svd_lowrank's algorithm: Q from (A A^T)^niter A G, G cols x q, then the SVD of Q^T A.
    q = k + q_extra
    y = d @ rng.standard_normal((d.shape[1], q))
    qm, _ = np.linalg.qr(y)
    for _ in range(niter):
        z, _ = np.linalg.qr(d.T @ qm)
        qm, _ = np.linalg.qr(d @ z)
    approx = np.linalg.svd(qm.T @ d, compute_uv=False)[:k]
    exact = np.linalg.svd(d, compute_uv=False)[:k]
    return float(np.max(np.abs(approx - exact) / exact))


def planted(out_dir, kind, rows, cols, seed):
    rng = np.random.default_rng(seed)
    os.makedirs(out_dir, exist_ok=True)
    base = {"layers.0.q.weight": rng.standard_normal((rows, cols)),
            "layers.0.o.weight": rng.standard_normal((cols, rows)),
            "layers.0.norm.weight": np.ones(cols)}
    tuned = {}
    for name, w in base.items():
        if w.ndim == 2:
            d = planted_delta(rng, *w.shape, kind)
            tuned[name] = w + d
            print(f"lowrank {name} {svd_lowrank_error(rng, tuned[name] - w, 32):.3e}")
        else:
            tuned[name] = w + 0.01
    write_st64(os.path.join(out_dir, "base.safetensors"), base)
    write_st64(os.path.join(out_dir, "tuned.safetensors"), tuned)
    return 0


def hostile(out_dir):
    """base.safetensors and fine-tunes that disagree with it (F32, tests/extract/extract_test.cc)."""
    from merge_oracle import write_st
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(7)
    a = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal((3, 3)).astype(np.float32)
    a2 = (a + np.float32(0.5) * rng.standard_normal((4, 3)).astype(np.float32)).astype(np.float32)
    write_st(os.path.join(out_dir, "base.safetensors"), {"a.weight": a, "b.weight": b})
    write_st(os.path.join(out_dir, "shape.safetensors"), {"a.weight": a2.reshape(3, 4).copy(), "b.weight": b})
    write_st(os.path.join(out_dir, "missing.safetensors"), {"a.weight": a2})
    nan = a2.copy()
    nan[2, 1] = np.nan
    write_st(os.path.join(out_dir, "nan.safetensors"), {"a.weight": nan, "b.weight": b})
    write_st(os.path.join(out_dir, "same.safetensors"), {"a.weight": a, "b.weight": b})
    return 0


def adapter_update(adapter, config, module, embedding):
    if embedding:
        a = values(adapter[module + ".lora_embedding_A"])
        b = values(adapter[module + ".lora_embedding_B"])
    else:
        a = values(adapter[module + ".lora_A.weight"])
        b = values(adapter[module + ".lora_B.weight"])
    path = module[len("base_model.model."):]
    r, alpha = config["r"], config["lora_alpha"]
    for key, value in config.get("rank_pattern", {}).items():
        if re.match(r"(.*\.)?(" + key + r")$", path):
            r = value
            break
    for key, value in config.get("alpha_pattern", {}).items():
        if re.match(r"(.*\.)?(" + key + r")$", path):
            alpha = value
            break
    update = (alpha / r) * (b @ a)
    if embedding or config.get("fan_in_fan_out"):
        update = update.T
    return update


def check(base_path, tuned_path, adapter_dir, report_path, tol, rule):
    base, tuned = read_model(base_path), read_model(tuned_path)
    adapter = read_model(os.path.join(adapter_dir, "adapter_model.safetensors"))
    config = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))
    report = json.load(open(report_path))
    worst_sigma, worst_gap = 0.0, 0.0
    for m in report["matrices"]:
        name = m["tensor"]
        d = values(tuned[name]) - values(base[name])
        s = np.linalg.svd(d, compute_uv=False)
        k = m["rank"]
        got = np.array(m["singular_values"])
        rel = np.abs(got - s[:k]) / s[:k]
        # Ritz values never exceed sigma in exact arithmetic; in double, θ² = eig(QᵀWᵀWQ)
        # carries an absolute error of a few ε·σ₁², so θ may exceed σ by ε·σ₁²/σ.
        above = got - s[:k] * (1 + 1e-12) - 1e-14 * s[0] ** 2 / s[:k]
        if np.any(rel > tol) or np.any(above > 0):
            i = int(np.argmax(np.maximum(rel - tol, above)))
            print(f"FAIL {name}: sigma_{i + 1} {got[i]!r} vs dense {s[i]!r}, rel {rel[i]:.3e}, tolerance {tol}")
            return 1
        worst_sigma = max(worst_sigma, float(rel.max()))
        err = np.linalg.norm(d - adapter_update(adapter, config, m["module"], m["embedding"]))
        opt2 = float(np.sum(s[k:] ** 2))
        gap = (err ** 2 - opt2) / float(np.sum(s[:k] ** 2))
        if gap > 2 * tol or err ** 2 < opt2 * (1 - 1e-9) - 1e-24:
            print(f"FAIL {name}: ||dW - BA||^2 = {err ** 2:.6e}, optimum {opt2:.6e}, gap {gap:.3e}")
            return 1
        worst_gap = max(worst_gap, gap)
        if abs(m["error"] - err) > 1e-9 * np.linalg.norm(d) + 1e-6 * err:
            print(f"FAIL {name}: reported error {m['error']:.9e}, actual {err:.9e}")
            return 1
        if not (m["optimum_lower"] <= np.sqrt(opt2) * (1 + 1e-6) + 1e-12 * np.linalg.norm(d)):
            print(f"FAIL {name}: optimum_lower {m['optimum_lower']:.9e} above the optimum {np.sqrt(opt2):.9e}")
            return 1
        kind, _, param = rule.partition(":")
        total = float(np.sum(s ** 2))
        if kind == "fixed" and k != min(int(param), len(s)):
            print(f"FAIL {name}: rank {k}, asked {param}")
            return 1
        if kind == "energy":
            if 1 - err ** 2 / total < float(param) - 1e-12:
                print(f"FAIL {name}: retained {1 - err ** 2 / total:.6f} < {param}")
                return 1
            dense_k = int(np.searchsorted(np.cumsum(s ** 2), float(param) * total) + 1)
            slack_k = int(np.searchsorted(np.cumsum(s ** 2 * (1 - 2 * tol)), float(param) * total) + 1)
            if not dense_k <= k <= slack_k:
                print(f"FAIL {name}: rank {k}, dense energy rank {dense_k} (with tolerance {slack_k})")
                return 1
        if kind == "threshold":
            t = float(param)
            lo = int(np.sum(s >= t * s[0] * (1 + tol)))
            hi = int(np.sum(s >= t * s[0] * (1 - tol)))
            if not max(lo, 1) <= k <= max(hi, 1):
                print(f"FAIL {name}: rank {k}, dense threshold rank in [{lo}, {hi}]")
                return 1
        print(f"matrix {name} {d.shape[0]}x{d.shape[1]} k={k} sigma_rel={rel.max():.2e} "
              f"gap={gap:.2e} passes={m['passes']} seconds={m['seconds']:.3f}")
    print(f"ok: {len(report['matrices'])} matrices, max sigma rel err {worst_sigma:.3e}, "
          f"max gap {worst_gap:.3e}")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "planted":
        sys.exit(planted(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])))
    if sys.argv[1] == "torch-bin":
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "audit"))
        from base_audit_oracle import write_torch_bin
        src = read_model(sys.argv[2])
        write_torch_bin(sys.argv[3], {n: values(e).astype(np.float32) for n, e in src.items()
                                      if len(e[1]) == 2})
        sys.exit(0)
    if sys.argv[1] == "hostile":
        sys.exit(hostile(sys.argv[2]))
    if sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]),
                       sys.argv[7] if len(sys.argv) > 7 else ""))
    sys.exit(f"unknown mode {sys.argv[1]}")
