#!/usr/bin/python3
"""Independent NumPy oracle for `lorank resize`: is every output module the Eckart-Young optimum?

Usage: resize_numpy_oracle.py IN OUT [--tol-rel X] [--round-c C] [--expect-rule energy:P|fixed:K]
                              [--reference reference_spectrum.json]

IN and OUT are adapters in the same format: a PEFT folder (adapter_model.safetensors +
adapter_config.json), a kohya .safetensors file (lora_down/lora_up, optional .alpha), a
llama.cpp GGUF adapter (.gguf), or an mlx_lm folder (adapters.safetensors + adapter_config.json;
lora_a [in, r], lora_b [r, out], so A = lora_a^T, B = lora_b^T and s = lora_parameters.scale,
not divided by r). Everything is read here, with NumPy only: safetensors and
GGUF containers, PEFT's config rules, kohya's alpha rule, llama.cpp's global alpha. Nothing
of lorank's readers is used. PyTorch .bin inputs are read with zipfile + a restricted
pickle.Unpickler (only the tensor-rebuilding globals are allowed; nothing else runs).

For every module, with dW = s*B*A before and dW' = s'*B'*A' after (k' = rows of A'):
  * sigma(dW) from the QR-core (R_B of B, R_A of A^T, SVD of s*R_B*R_A^T), never the dense
    out x in product (embeddings can be 50k x 1k);
  * err = ||dW - dW'||_F exactly as the Frobenius norm of the rank-(r + k') product
    [s*B, -s'*B'] * [A; A'] by the same QR-core route;
  * tail = sqrt(sum_{i>k'} sigma_i^2). Eckart-Young-Mirsky: every matrix of rank <= k' has
    err >= tail, and equality characterises the optimum. Checked: tail - tol64 <= err <=
    tail + tol, and |sigma_i(dW') - sigma_i(dW)| <= tol for i <= k' (Weyl);
  * all-zero updates (B = 0, A = 0 or s = 0) must stay exactly zero (at rank 1);
  * with --expect-rule, k' is the rule's rank for the sigma computed here (a truncation at
    the wrong k is still an optimum at its own k); with --reference, the sigma of IN
    computed here match reference_spectrum.json to 1e-9*sigma_1 (checks this reader).

Tolerance. lorank computes exact-in-float64 factors B~, A~ (s'*B~*A~ equal to the
truncation to ~1e-15*sigma_1) and rounds them to the output dtype: B' = B~ + dB with
|dB_ij| <= u*|B~_ij| (+ eta in the subnormal range), u the unit roundoff. Then
||s'(B'A' - B~A~)||_F <= |s'| (||dB||_F ||A'||_2 + ||B'||_2 ||dA||_F + ||dB||_F ||dA||_F)
                       ~ 2u * ||s'B'||_F * ||A'||_F  (to first order in u),
(computed here with the exact first-order terms, each dtype's own u, and eta*sqrt(n) for
underflow), so c = 4 leaves a factor-2 margin for the float64 error of B~, A~;
a truncation that is off by one dropped direction (err^2 = tail^2 + sigma_k^2) or by a
wrong scale is off by far more than that except for sigma at rounding level. Plus
tol64 = max(tol_rel * sigma_1, 16 eps sqrt(r + k') (|s| ||B|| ||A|| + |s'| ||B'|| ||A'||))
for the float64 arithmetic of lorank and of this script (QR backward error), with
tol_rel = 1e-12 by default. u = 2^-8 (BF16), 2^-11 (F16), 2^-24 (F32), 2^-53 (F64).

Also checked: passthrough (non-LoRA) tensors are byte-identical (dtype, shape, bytes); no
tensor is lost or invented (kohya may add <module>.alpha); safetensors metadata unchanged
except kohya's ss_network_dim / ss_network_alpha (which must then say the common value or
"Dynamic"); PEFT config fields other than r, lora_alpha, rank_pattern, alpha_pattern are
unchanged; the config's rank for each module (PEFT's pattern matching) equals its tensors'
rank; every pattern key of OUT matches some module; GGUF key-values unchanged.

mlx_lm: OUT's config is IN's with lora_parameters.rank = the largest new rank and
lora_parameters.alpha (if any) times new rank / old rank; nothing else changes.

llama.cpp's token_embd LoRA stores lora_a flipped (ne [r, n_vocab], numpy (n_vocab, r);
llama-adapter.cpp): read here as A = its transpose.

Output: one JSON line on stdout. Exit 0 if everything holds, 1 with messages on stderr
naming the module otherwise, 2 for usage or unreadable input.
"""
import argparse
import collections
import io
import json
import math
import os
import pickle
import re
import struct
import sys
import zipfile

import numpy as np

# Unit roundoff u, and eta = half the smallest subnormal (the absolute rounding error bound
# where the relative one fails).
UNIT_ROUNDOFF = {"BF16": 2.0**-8, "F16": 2.0**-11, "F32": 2.0**-24, "F64": 2.0**-53}
UNDERFLOW = {"BF16": 2.0**-134, "F16": 2.0**-25, "F32": 2.0**-150, "F64": 2.0**-1075}
EPS64 = 2.0**-52
DTYPE_SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}

PEFT_PREFIX = "base_model.model."


class OracleError(Exception):
    """Unreadable or unsupported input (exit 2)."""


# ----------------------------------------------------------------------------- containers

class Tensor:
    def __init__(self, name, dtype, shape, raw):
        self.name, self.dtype, self.shape, self.raw = name, dtype, tuple(shape), raw

    def f64(self):
        """The values widened exactly to float64, in `shape` (row-major)."""
        if self.dtype == "F64":
            v = np.frombuffer(self.raw, dtype="<f8")
        elif self.dtype == "F32":
            v = np.frombuffer(self.raw, dtype="<f4")
        elif self.dtype == "F16":
            v = np.frombuffer(self.raw, dtype="<f2")
        elif self.dtype == "BF16":
            # bf16 is the top half of a float32: shift the bits up, reinterpret.
            v = (np.frombuffer(self.raw, dtype="<u2").astype(np.uint32) << 16).view("<f4")
        else:
            raise OracleError(f"tensor '{self.name}': dtype {self.dtype} is not a float type")
        return v.astype(np.float64).reshape(self.shape)


def read_safetensors(path):
    """(tensors in file order, __metadata__ dict) of a .safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise OracleError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise OracleError(f"{path}: header length {n} beyond the file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n:]
    tensors = []
    for name, info in header.items():
        dtype, shape = info["dtype"], info["shape"]
        begin, end = info["data_offsets"]
        numel = math.prod(shape)
        if dtype in DTYPE_SIZE and end - begin != numel * DTYPE_SIZE[dtype]:
            raise OracleError(f"{path}: tensor '{name}' has {end - begin} bytes for {dtype} {shape}")
        if not 0 <= begin <= end <= len(body):
            raise OracleError(f"{path}: tensor '{name}' offsets {begin}..{end} outside the data")
        tensors.append(Tensor(name, dtype, shape, bytes(body[begin:end])))
    return tensors, metadata


TORCH_STORAGES = {"FloatStorage": ("F32", "<f4"), "HalfStorage": ("F16", "<f2"),
                  "BFloat16Storage": ("BF16", "<u2"), "DoubleStorage": ("F64", "<f8")}


def read_torch_bin(path):
    """(tensors in state-dict order, {}) of a torch.save ZIP archive, by the standard library:
    persistent ids name the storages in the ZIP, and torch._utils._rebuild_tensor_v2 is
    replaced by a function that cuts (offset, size, stride) out of them. find_class allows
    nothing else, so the pickle cannot run code."""
    archive = zipfile.ZipFile(path)
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise OracleError(f"{path}: not a torch.save archive (no single */data.pkl)")
    prefix = pickles[0][: -len("data.pkl")]

    def rebuild(storage, offset, size, stride, *_):
        storage_type, key = storage
        dtype, np_dtype = TORCH_STORAGES[storage_type]
        flat = np.frombuffer(archive.read(prefix + "data/" + key), dtype=np_dtype)
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(flat[offset:], shape=tuple(size),
                                               strides=tuple(s * item for s in stride))
        return (dtype, tuple(size), np.ascontiguousarray(view).tobytes())

    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return rebuild
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            if module == "torch" and name in TORCH_STORAGES:
                return name
            raise OracleError(f"{path}: pickle global {module}.{name} is not allowed")

        def persistent_load(self, pid):
            # ('storage', storage type, key, location, numel)
            return (pid[1], pid[2])

    state = Restricted(io.BytesIO(archive.read(pickles[0]))).load()
    tensors = [Tensor(name, dtype, shape, raw) for name, (dtype, shape, raw) in state.items()]
    return tensors, {}


GGML_TYPES = {0: ("F32", 4), 1: ("F16", 2), 28: ("F64", 8), 30: ("BF16", 2)}


class _Cursor:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise OracleError("GGUF: truncated header")
        v = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(s).decode("utf-8")

    def value(self, vtype):
        scalar = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
                  10: "<Q", 11: "<q", 12: "<d"}
        if vtype in scalar:
            return self.take(scalar[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9:
            etype = self.take("<I")
            n = self.take("<Q")
            return [self.value(etype) for _ in range(n)]
        raise OracleError(f"GGUF: unknown value type {vtype}")


def read_gguf(path):
    """(tensors in file order, key-values as an ordered list of (key, type, value))."""
    with open(path, "rb") as f:
        data = f.read()
    c = _Cursor(data)
    if data[:4] != b"GGUF":
        raise OracleError(f"{path}: not a GGUF file")
    c.pos = 4
    version = c.take("<I")
    if version not in (2, 3):
        raise OracleError(f"{path}: GGUF version {version}")
    n_tensors, n_kv = c.take("<Q"), c.take("<Q")
    kvs = []
    for _ in range(n_kv):
        key = c.string()
        vtype = c.take("<I")
        kvs.append((key, vtype, c.value(vtype)))
    alignment = next((v for k, _, v in kvs if k == "general.alignment"), 32)
    infos = []
    for _ in range(n_tensors):
        name = c.string()
        n_dims = c.take("<I")
        ne = [c.take("<Q") for _ in range(n_dims)]
        gtype = c.take("<I")
        offset = c.take("<Q")
        infos.append((name, ne, gtype, offset))
    base = (c.pos + alignment - 1) // alignment * alignment
    tensors = []
    for name, ne, gtype, offset in infos:
        if gtype not in GGML_TYPES:
            raise OracleError(f"{path}: tensor '{name}' has ggml type {gtype} (not a float type)")
        dtype, size = GGML_TYPES[gtype]
        shape = list(reversed(ne))  # ggml ne is fastest-first; NumPy shape slowest-first
        begin = base + offset
        end = begin + math.prod(ne) * size
        if end > len(data):
            raise OracleError(f"{path}: tensor '{name}' beyond the end of the file")
        tensors.append(Tensor(name, dtype, shape, data[begin:end]))
    return tensors, kvs


# ----------------------------------------------------------------------------- adapters

class Module:
    """One LoRA pair: A (r x in, flattened for conv), B (out x r), scale s."""

    def __init__(self, name, a, b):
        self.name, self.a, self.b = name, a, b
        self.scale = None
        self.alpha_tensor = None  # kohya
        self.config_rank = None   # PEFT: the rank the config gives this module
        self.flipped_a = False    # GGUF token_embd: lora_a stored as (n_vocab, r)
        self.transposed = False   # mlx_lm: lora_a (in, r), lora_b (r, out)

    @property
    def rank(self):
        return self.a.shape[1] if self.flipped_a or self.transposed else self.a.shape[0]

    @property
    def b_rank(self):
        """The rank as B's stored shape says."""
        return self.b.shape[0] if self.transposed else self.b.shape[1]

    def a_other_dims(self):
        """A's stored dims other than the rank (which a resize may change)."""
        return self.a.shape[:1] if self.flipped_a or self.transposed else self.a.shape[1:]

    def factors(self):
        """(B as out x r, A as r x in) float64: conv A (r, in, kh, kw) -> (r, in*kh*kw),
        conv B (out, r, 1, 1) -> (out, r)."""
        a, b = self.a.f64(), self.b.f64()
        if self.flipped_a:
            a = a.T
        if self.transposed:
            a, b = a.T, b.T
        if a.ndim == 4:
            if b.ndim != 4 or b.shape[2:] != (1, 1):
                raise OracleError(f"module '{self.name}': conv B {b.shape} is not out x r x 1 x 1")
            a = a.reshape(a.shape[0], -1)
            b = b.reshape(b.shape[0], b.shape[1])
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise OracleError(f"module '{self.name}': factors {b.shape} x {a.shape} do not chain")
        return b, a


class Adapter:
    def __init__(self, fmt, path):
        self.format, self.path = fmt, path
        self.modules = {}        # name -> Module, file order
        self.passthrough = {}    # name -> Tensor
        self.metadata = {}       # safetensors __metadata__
        self.config = None       # PEFT adapter_config.json (dict, file order)
        self.kvs = None          # GGUF key-values
        self.factor_names = set()


def pair(tensors, suffixes, path):
    """Splits tensors into modules (by A/B suffix pairs) and the rest."""
    a_of, b_of, rest = {}, {}, []
    for t in tensors:
        for suffix, role in suffixes:
            if t.name.endswith(suffix) and len(t.name) > len(suffix):
                base = t.name[: -len(suffix)]
                target = a_of if role == "A" else b_of
                if base in target:
                    raise OracleError(f"{path}: module '{base}' has two {role} factors")
                target[base] = t
                break
        else:
            rest.append(t)
    if set(a_of) != set(b_of):
        raise OracleError(f"{path}: unpaired factors: {sorted(set(a_of) ^ set(b_of))[:5]}")
    modules = {name: Module(name, a_of[name], b_of[name]) for name in a_of}
    return modules, rest


def peft_pattern_key(pattern, name):
    """PEFT's get_pattern_key: the first key (dict order) with
    re.match(rf"(.*\\.)?({key})$", name); None if no key matches."""
    for key in pattern:
        if re.match(rf"(.*\.)?({key})$", name):
            return key
    return None


def peft_relative(name):
    return name[len(PEFT_PREFIX):] if name.startswith(PEFT_PREFIX) else name


def apply_peft_config(adapter):
    c = adapter.config
    r_default = c.get("r", 8)
    alpha_default = c.get("lora_alpha", 8)
    rank_pattern = c.get("rank_pattern") or {}
    alpha_pattern = c.get("alpha_pattern") or {}
    rslora = bool(c.get("use_rslora", False))
    for m in adapter.modules.values():
        rel = peft_relative(m.name)
        rk = peft_pattern_key(rank_pattern, rel)
        ak = peft_pattern_key(alpha_pattern, rel)
        r = rank_pattern[rk] if rk is not None else r_default
        alpha = alpha_pattern[ak] if ak is not None else alpha_default
        m.config_rank = r
        m.scale = alpha / math.sqrt(r) if rslora else alpha / r


def open_adapter(path):
    if os.path.isdir(path):
        for name in ("adapter_model.safetensors", "adapter_model.bin", "adapters.safetensors"):
            weights = os.path.join(path, name)
            if os.path.exists(weights):
                return open_safetensors(weights)
        raise OracleError(f"{path}: no adapter_model.safetensors, adapter_model.bin or adapters.safetensors")
    if path.endswith(".gguf"):
        return open_gguf(path)
    return open_safetensors(path)


def open_safetensors(weights):
    """A safetensors (or PyTorch .bin) weights file: PEFT if its keys say so, else kohya."""
    tensors, metadata = (read_torch_bin if weights.endswith(".bin") else read_safetensors)(weights)
    peft_suffixes = [(".lora_A.weight", "A"), (".lora_B.weight", "B"),
                     (".lora_embedding_A", "A"), (".lora_embedding_B", "B")]
    if any(t.name.endswith((".lora_a", ".lora_b")) for t in tensors):
        return open_mlx(weights, tensors, metadata)
    if any(t.name.endswith(s) for t in tensors for s, _ in peft_suffixes):
        a = Adapter("peft", weights)
        a.modules, rest = pair(tensors, peft_suffixes, weights)
        config = os.path.join(os.path.dirname(weights), "adapter_config.json")
        if not os.path.exists(config):
            raise OracleError(f"{weights}: PEFT keys but no adapter_config.json beside it")
        with open(config, encoding="utf-8") as f:
            a.config = json.load(f)
        apply_peft_config(a)
    else:
        kohya_suffixes = [(".lora_down.weight", "A"), (".lora_up.weight", "B"),
                          ("_lora_down.weight", "A"), ("_lora_up.weight", "B")]
        a = Adapter("kohya", weights)
        a.modules, rest = pair(tensors, kohya_suffixes, weights)
        if not a.modules:
            raise OracleError(f"{weights}: no LoRA factors")
        alphas = {}
        for t in rest:
            if t.name.endswith(".alpha") and t.name[:-6] in a.modules:
                alphas[t.name[:-6]] = t
        rest = [t for t in rest if not (t.name.endswith(".alpha") and t.name[:-6] in a.modules)]
        for m in a.modules.values():
            # kohya: scale = alpha / r; no .alpha (or alpha 0) means alpha = r, scale 1.
            t = alphas.get(m.name)
            m.alpha_tensor = t
            alpha = float(t.f64().reshape(-1)[0]) if t is not None else 0.0
            if t is not None and t.f64().size != 1:
                raise OracleError(f"{weights}: alpha '{t.name}' is not a scalar")
            m.scale = alpha / m.rank if alpha != 0.0 else 1.0
    a.metadata = metadata
    a.passthrough = {t.name: t for t in rest}
    a.factor_names = {t.name for m in a.modules.values() for t in (m.a, m.b)}
    return a


def open_mlx(weights, tensors, metadata):
    """mlx_lm: y += scale * (x @ lora_a) @ lora_b, scale = lora_parameters.scale as is."""
    a = Adapter("mlx", weights)
    a.modules, rest = pair(tensors, [(".lora_a", "A"), (".lora_b", "B")], weights)
    config = os.path.join(os.path.dirname(weights), "adapter_config.json")
    if not os.path.exists(config):
        raise OracleError(f"{weights}: mlx_lm keys but no adapter_config.json beside it")
    with open(config, encoding="utf-8") as f:
        a.config = json.load(f)
    for m in a.modules.values():
        m.transposed = True
        m.scale = float(a.config["lora_parameters"]["scale"])
    a.metadata = metadata
    a.passthrough = {t.name: t for t in rest}
    a.factor_names = {t.name for m in a.modules.values() for t in (m.a, m.b)}
    return a


def open_gguf(path):
    tensors, kvs = read_gguf(path)
    a = Adapter("gguf", path)
    a.kvs = kvs
    a.modules, rest = pair(tensors, [(".lora_a", "A"), (".lora_b", "B")], path)
    alpha = next((v for k, _, v in kvs if k == "adapter.lora.alpha"), 0.0)
    for m in a.modules.values():
        m.flipped_a = m.name.endswith("token_embd.weight")
        # llama.cpp get_scale: alpha ? alpha / rank : 1 (user scale 1), rank = lora_b ne[0].
        m.scale = alpha / m.rank if alpha else 1.0
    a.passthrough = {t.name: t for t in rest}
    a.factor_names = {t.name for m in a.modules.values() for t in (m.a, m.b)}
    return a


# ----------------------------------------------------------------------------- numerics

def r_factor(x):
    """R of the reduced QR of x (m x n): min(m, n) x n."""
    return np.linalg.qr(x, mode="r")


def lora_sigma(b, a, s):
    """Singular values of s*b*a (out x r times r x in) from the QR-core: min(r, out, in)."""
    core = s * (r_factor(b) @ r_factor(a.T).T)
    return np.linalg.svd(core, compute_uv=False)


def lora_frobenius(l, r):
    """||l @ r||_F without forming it: ||R_l R_r^T||_F (Q factors are orthonormal)."""
    return float(np.linalg.norm(r_factor(l) @ r_factor(r.T).T))


def rounding_bound(dtype, x):
    """Bound on ||x' - x~||_F for x' = x~ rounded to dtype, from the rounded x'."""
    u = UNIT_ROUNDOFF[dtype]
    return u / (1.0 - u) * float(np.linalg.norm(x)) + UNDERFLOW[dtype] * math.sqrt(x.size)


def expected_rank(rule, sigma, cap):
    """The accepted k' for --expect-rule: a set (ties within rounding may go either way)."""
    kind, _, value = rule.partition(":")
    if kind in ("fixed", "rank"):
        return {min(int(value), cap)}
    if kind == "energy":
        p = float(value)
        e = np.cumsum((sigma / sigma[0]) ** 2)
        target = p * e[-1]
        ok = set()
        for k in range(1, cap + 1):
            reaches = e[k - 1] >= target * (1 - 1e-9)
            previous_short = k == 1 or e[k - 2] < target * (1 + 1e-9)
            if reaches and previous_short:
                ok.add(k)
        return ok
    raise OracleError(f"--expect-rule {rule}: use energy:P or fixed:K")


# ----------------------------------------------------------------------------- checks

class Checker:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.notes = []
        self.worst_excess = (0.0, None)     # (err - tail) / sigma_1
        self.worst_tol_use = (0.0, None)    # max((err - tail)/tol, |d sigma|/tol)
        self.worst_sigma = (0.0, None)      # max |d sigma| / sigma_1
        self.worst_cond64 = (0.0, None)     # |s| ||B|| ||A|| / sigma_1 (float64 error growth)
        self.modules = 0
        self.zero_modules = 0
        self.ranks = {}

    def fail(self, msg):
        self.failures.append(msg)

    def bump(self, field, value, name):
        if value > getattr(self, field)[0]:
            setattr(self, field, (value, name))

    def module(self, m0, m1, fmt):
        name = m0.name
        b0, a0 = m0.factors()
        b1, a1 = m1.factors()
        out, r = b0.shape
        inn = a0.shape[1]
        k = a1.shape[0]
        self.modules += 1
        if b1.shape[0] != out or a1.shape[1] != inn:
            self.fail(f"module '{name}': output factors {b1.shape} x {a1.shape} for a {out} x {inn} update")
            return
        if m1.a_other_dims() != m0.a_other_dims() or len(m1.b.shape) != len(m0.b.shape):
            self.fail(f"module '{name}': layout changed: A {m0.a.shape} -> {m1.a.shape}, "
                      f"B {m0.b.shape} -> {m1.b.shape}")
        if m1.b_rank != k:
            self.fail(f"module '{name}': A' has rank {k} but B' has rank {m1.b_rank}")
            return
        if fmt == "peft":
            if m0.config_rank != r:
                self.fail(f"module '{name}': IN config gives rank {m0.config_rank}, tensors have {r}")
            if m1.config_rank != k:
                self.fail(f"module '{name}': OUT config gives rank {m1.config_rank} (PEFT matching), "
                          f"tensors have {k}: PEFT would not load it")
        s0, s1 = m0.scale, m1.scale
        self.ranks[k] = self.ranks.get(k, 0) + 1
        cap = min(r, out, inn)
        zero_in = s0 == 0.0 or not np.any(b0) or not np.any(a0)
        if zero_in:
            self.zero_modules += 1
            if not (s1 == 0.0 or not np.any(b1) or not np.any(a1)):
                self.fail(f"module '{name}': all-zero update before, nonzero after "
                          f"(||B'||={np.linalg.norm(b1):.3g}, ||A'||={np.linalg.norm(a1):.3g}, s'={s1})")
            if k != 1:
                self.fail(f"module '{name}': all-zero update kept at rank {k}, expected 1")
            return
        if not (1 <= k <= cap):
            self.fail(f"module '{name}': new rank {k} outside [1, min(r, out, in) = {cap}]")
            return
        sigma = lora_sigma(b0, a0, s0)
        sigma_new = lora_sigma(b1, a1, s1)
        s1max = float(sigma[0])
        if self.args.reference is not None:
            self.against_reference(name, sigma, s1max)
        if self.args.expect_rule:
            ok = expected_rank(self.args.expect_rule, sigma, cap)
            if k not in ok:
                self.fail(f"module '{name}': rank {k}, but {self.args.expect_rule} gives "
                          f"{sorted(ok)} (sigma = {np.array2string(sigma, precision=6)})")
        tail = math.sqrt(float(np.sum(sigma[k:] ** 2)))
        err = lora_frobenius(np.hstack([s0 * b0, -s1 * b1]), np.vstack([a0, a1]))
        # Tolerances (see the module docstring).
        nb1, na1 = float(np.linalg.norm(b1)), float(np.linalg.norm(a1))
        eb, ea = rounding_bound(m1.b.dtype, b1), rounding_bound(m1.a.dtype, a1)
        # First-order bound of the dtype rounding, ~2u*||s'B'||*||A'||; c/2 times it.
        rounding = abs(s1) * (eb * na1 + nb1 * ea + eb * ea)
        big0 = abs(s0) * float(np.linalg.norm(b0)) * float(np.linalg.norm(a0))
        big1 = abs(s1) * nb1 * na1
        tol64 = max(self.args.tol_rel * s1max, 16 * EPS64 * math.sqrt(r + k) * (big0 + big1))
        tol = self.args.round_c / 2 * rounding + tol64
        self.bump("worst_cond64", big0 / s1max, name)
        excess = err - tail
        self.bump("worst_excess", excess / s1max, name)
        self.bump("worst_tol_use", excess / tol, name)
        if excess > tol:
            self.fail(f"module '{name}': ||dW - dW'||_F = {err:.17g} exceeds the Eckart-Young "
                      f"optimum {tail:.17g} at k = {k} by {excess:.3g} > tol {tol:.3g} "
                      f"(sigma_1 = {s1max:.6g}, s = {s0:.17g}, s' = {s1:.17g})")
        if excess < -tol64:
            self.fail(f"module '{name}': ||dW - dW'||_F = {err:.17g} is below the Eckart-Young "
                      f"bound {tail:.17g} at k = {k} (impossible: the oracle is wrong)")
        if len(sigma_new) < k:
            self.fail(f"module '{name}': only {len(sigma_new)} singular values after, rank {k}")
            return
        d = np.abs(sigma_new[:k] - sigma[:k])
        worst = int(np.argmax(d))
        self.bump("worst_sigma", float(d[worst]) / s1max, name)
        self.bump("worst_tol_use", float(d[worst]) / tol, name)
        if d[worst] > tol:
            self.fail(f"module '{name}': sigma_{worst + 1} is {sigma_new[worst]:.17g} after, "
                      f"{sigma[worst]:.17g} before (|diff| {d[worst]:.3g} > tol {tol:.3g})")

    def against_reference(self, name, sigma, s1max):
        ref = self.args.reference_by_module.get(name)
        if ref is None:
            self.fail(f"module '{name}': not in the reference spectrum file")
            return
        want = np.array(ref["singular_values"], dtype=np.float64)
        n = min(len(want), len(sigma))
        diff = float(np.max(np.abs(want[:n] - sigma[:n]))) if n else 0.0
        if len(want) != len(sigma) or diff > 1e-9 * max(s1max, 1e-300):
            self.fail(f"module '{name}': this reader's sigma differs from reference_spectrum.json "
                      f"by {diff:.3g} (sigma_1 {s1max:.6g}); lengths {len(sigma)} vs {len(want)}")

    def tensors(self, a0, a1):
        for name, t0 in a0.passthrough.items():
            t1 = a1.passthrough.get(name)
            if t1 is None:
                self.fail(f"passthrough tensor '{name}' missing from the output")
            elif (t0.dtype, t0.shape) != (t1.dtype, t1.shape) or t0.raw != t1.raw:
                self.fail(f"passthrough tensor '{name}' changed: {t0.dtype}{list(t0.shape)} -> "
                          f"{t1.dtype}{list(t1.shape)}, bytes equal: {t0.raw == t1.raw}")
        for name in a1.passthrough:
            if name not in a0.passthrough:
                self.fail(f"tensor '{name}' appeared in the output")
        if set(a0.modules) != set(a1.modules):
            self.fail(f"modules differ: only in IN {sorted(set(a0.modules) - set(a1.modules))[:5]}, "
                      f"only in OUT {sorted(set(a1.modules) - set(a0.modules))[:5]}")
        for name, m in a0.modules.items():
            m1 = a1.modules.get(name)
            if m1 is not None and (m1.a.name, m1.b.name) != (m.a.name, m.b.name):
                self.fail(f"module '{name}': factor names changed")

    def kohya_metadata(self, a0, a1):
        for key in set(a0.metadata) | set(a1.metadata):
            if key in ("ss_network_dim", "ss_network_alpha"):
                continue
            if a0.metadata.get(key) != a1.metadata.get(key):
                self.fail(f"metadata '{key}' changed: {a0.metadata.get(key)!r} -> {a1.metadata.get(key)!r}")
        ranks = {m.rank for m in a1.modules.values()}
        alphas = set()
        for m in a1.modules.values():
            if m.alpha_tensor is None:
                self.fail(f"module '{m.name}': no .alpha tensor in the output")
            else:
                alphas.add(float(m.alpha_tensor.f64().reshape(-1)[0]))
            m0 = a0.modules[m.name]
            if m0.alpha_tensor is not None and m.alpha_tensor is not None and \
                    (m.alpha_tensor.dtype, m.alpha_tensor.shape) != (m0.alpha_tensor.dtype, m0.alpha_tensor.shape):
                self.fail(f"module '{m.name}': alpha tensor {m0.alpha_tensor.dtype}{list(m0.alpha_tensor.shape)} "
                          f"-> {m.alpha_tensor.dtype}{list(m.alpha_tensor.shape)}")
        want_dim = str(ranks.pop()) if len(ranks) == 1 else "Dynamic"
        want_alpha = str(alphas.pop()) if len(alphas) == 1 else "Dynamic"
        for key, want in (("ss_network_dim", want_dim), ("ss_network_alpha", want_alpha)):
            got = a1.metadata.get(key)
            if got is not None and got != want:
                self.fail(f"metadata {key} = {got!r}, the modules say {want!r}")

    def peft_config(self, a0, a1):
        changing = {"r", "lora_alpha", "rank_pattern", "alpha_pattern"}
        defaults = {"use_rslora": False}  # an absent key PEFT defaults may be spelled out
        c0, c1 = a0.config, a1.config
        for key in c0:
            if key in changing:
                continue
            if key not in c1:
                self.fail(f"adapter_config.json: field '{key}' dropped")
            elif c1[key] != c0[key] or type(c1[key]) is not type(c0[key]):
                self.fail(f"adapter_config.json: field '{key}' changed: {c0[key]!r} -> {c1[key]!r}")
        for key in c1:
            if key not in c0 and key not in changing:
                if key in defaults and c1[key] == defaults[key]:
                    self.notes.append(f"config field '{key}' added with PEFT's default {c1[key]!r}")
                else:
                    self.fail(f"adapter_config.json: field '{key}' added: {c1[key]!r}")
        names = [peft_relative(n) for n in a1.modules]
        for pattern in ("rank_pattern", "alpha_pattern"):
            for key in c1.get(pattern) or {}:
                if not any(re.match(rf"(.*\.)?({key})$", n) for n in names):
                    self.fail(f"adapter_config.json: {pattern} key {key!r} matches no module")

    def mlx_config(self, a0, a1):
        c0, c1 = a0.config, a1.config
        p0, p1 = c0.get("lora_parameters"), c1.get("lora_parameters")
        if {k: v for k, v in c0.items() if k != "lora_parameters"} != \
                {k: v for k, v in c1.items() if k != "lora_parameters"}:
            self.fail("adapter_config.json: fields outside lora_parameters changed")
        rank = max(m.rank for m in a1.modules.values())
        if p1.get("rank") != rank:
            self.fail(f"adapter_config.json: lora_parameters.rank {p1.get('rank')}, largest module rank {rank}")
        for key in set(p0) | set(p1):
            if key == "rank":
                continue
            want = p0.get(key)
            if key == "alpha" and want is not None:
                want = want * rank / p0["rank"]
            if p1.get(key) != want:
                self.fail(f"adapter_config.json: lora_parameters.{key} is {p1.get(key)!r}, expected {want!r}")

    def gguf_kvs(self, a0, a1):
        if [(k, t, v) for k, t, v in a0.kvs if k != "general.alignment"] != \
                [(k, t, v) for k, t, v in a1.kvs if k != "general.alignment"]:
            self.fail("GGUF key-values changed")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("inp", metavar="IN")
    p.add_argument("out", metavar="OUT")
    p.add_argument("--tol-rel", type=float, default=1e-12,
                   help="float64 arithmetic allowance relative to sigma_1 (default 1e-12)")
    p.add_argument("--round-c", type=float, default=4.0,
                   help="multiple of u*||s'B'||*||A'|| allowed for the output dtype's rounding")
    p.add_argument("--expect-rule", default=None,
                   help="also check each k' against the rule: energy:P or fixed:K")
    p.add_argument("--reference", default=None,
                   help="reference_spectrum.json: cross-check this reader's sigma of IN")
    args = p.parse_args(argv)
    try:
        args.reference_by_module = {}
        if args.reference:
            with open(args.reference, encoding="utf-8") as f:
                args.reference_by_module = {m["module"]: m for m in json.load(f)["modules"]}
        a0 = open_adapter(args.inp)
        a1 = open_adapter(args.out)
        if a0.format != a1.format:
            raise OracleError(f"IN is {a0.format}, OUT is {a1.format}")
        ck = Checker(args)
        ck.tensors(a0, a1)
        if a0.format == "peft":
            ck.peft_config(a0, a1)
            if a0.metadata != a1.metadata:
                ck.fail(f"safetensors metadata changed: {a0.metadata} -> {a1.metadata}")
        elif a0.format == "kohya":
            ck.kohya_metadata(a0, a1)
        elif a0.format == "mlx":
            ck.mlx_config(a0, a1)
            if a0.metadata != a1.metadata:
                ck.fail(f"safetensors metadata changed: {a0.metadata} -> {a1.metadata}")
        else:
            ck.gguf_kvs(a0, a1)
        for name, m0 in a0.modules.items():
            if name in a1.modules:
                ck.module(m0, a1.modules[name], a0.format)
    except OracleError as e:
        print(f"resize_numpy_oracle: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error) as e:
        # Unreadable input (truncated file, bad JSON, a header lying about sizes): one line.
        print(f"resize_numpy_oracle: cannot read the adapters: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 2
    dtypes = sorted({t.dtype for m in a1.modules.values() for t in (m.a, m.b)})
    summary = {
        "ok": not ck.failures, "format": a0.format, "modules_checked": ck.modules,
        "zero_modules": ck.zero_modules, "new_ranks": {str(k): v for k, v in sorted(ck.ranks.items())},
        "out_dtypes": dtypes, "passthrough_tensors": len(a0.passthrough),
        "worst_excess_over_sigma1": ck.worst_excess[0], "worst_excess_module": ck.worst_excess[1],
        "worst_tol_use": ck.worst_tol_use[0], "worst_tol_use_module": ck.worst_tol_use[1],
        "worst_sigma_err_over_sigma1": ck.worst_sigma[0],
        "worst_f64_growth": ck.worst_cond64[0], "failures": len(ck.failures), "notes": ck.notes,
    }
    print(json.dumps(summary))
    for f in ck.failures[:50]:
        print(f"FAIL: {f}", file=sys.stderr)
    if len(ck.failures) > 50:
        print(f"... and {len(ck.failures) - 50} more failures", file=sys.stderr)
    return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
