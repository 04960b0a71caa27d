#!/usr/bin/python3
"""Writes the malformed-input corpus of tests/data/malformed (standard library only).

    /usr/bin/python3 tools/make_malformed_corpus.py [DATA_DIR]   (default: tests/data)

Each case is a small hostile file or folder named after what is wrong with it. Adapters go
to DATA_DIR/malformed: the expected one-line error of `lorank audit CASE` lives in its
EXPECTED.tsv, checked by tests/cli/malformed_corpus_test.cc. Base checkpoints go to
DATA_DIR/malformed-checkpoints, checked by tests/cli/malformed_checkpoints_test.cc with
`lorank merge CASE DATA_DIR/tiny-adapter` (an adapter that fits the healthy base). The files are committed; this script is
how they were made, so that a new case (every bug found becomes one) is one more entry
here plus one line in EXPECTED.tsv. Deterministic: re-running rewrites identical bytes.
"""
import io
import json
import os
import struct
import sys
import zipfile


def safetensors(tensors, metadata=None, header_override=None, length_override=None,
                truncate=None):
    """tensors: list of (name, dtype, shape, raw bytes). Returns the file's bytes."""
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = header_override if header_override is not None else json.dumps(header)
    text = text.encode() if isinstance(text, str) else text
    length = length_override if length_override is not None else len(text)
    blob = struct.pack("<Q", length) + text + data
    return blob[:truncate] if truncate is not None else blob


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


def lora_pair(prefix, out=4, r=2, inp=3, b_fill=0.5, a_fill=0.25):
    return [(f"{prefix}.lora_A.weight", "F32", [r, inp], f32([a_fill] * (r * inp))),
            (f"{prefix}.lora_B.weight", "F32", [out, r], f32([b_fill] * (out * r)))]


GOOD = lora_pair("base_model.model.layers.0.q_proj")
CONFIG = {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"]}


def gguf_string(s):
    b = s if isinstance(s, bytes) else s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf(kvs=b"", n_kv=0, tensors=b"", n_tensors=0, version=3, magic=b"GGUF", tail=b""):
    return magic + struct.pack("<IQQ", version, n_tensors, n_kv) + kvs + tensors + tail


def gguf_kv_string(key, value):
    return gguf_string(key) + struct.pack("<I", 8) + gguf_string(value)


def zip_bytes(entries):
    """A stored ZIP of (name, bytes) entries with fixed timestamps (reproducible bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def torch_zip(pickle_bytes):
    return zip_bytes([("archive/data.pkl", pickle_bytes), ("archive/version", b"3\n")])


def cases():
    nan_b = [("base_model.model.layers.0.q_proj.lora_A.weight", "F32", [2, 3], f32([0.25] * 6)),
             ("base_model.model.layers.0.q_proj.lora_B.weight", "F32", [4, 2],
              f32([0.5, 0.5, float("nan")] + [0.5] * 5))]
    rank_mismatch = [("base_model.model.layers.0.q_proj.lora_A.weight", "F32", [2, 3], f32([1] * 6)),
                     ("base_model.model.layers.0.q_proj.lora_B.weight", "F32", [4, 3], f32([1] * 12))]
    yield "st-empty.safetensors", b""
    yield "st-short-length.safetensors", b"\x10\x00\x00"
    yield "st-header-past-eof.safetensors", safetensors(GOOD, length_override=4096)
    yield "st-header-length-2p63.safetensors", safetensors(GOOD, length_override=1 << 63)
    yield "st-header-not-json.safetensors", safetensors(GOOD, header_override="{not json")
    yield "st-header-nested-too-deep.safetensors", safetensors(
        GOOD, header_override='{"__metadata__": ' + "[" * 100 + "]" * 100 + "}")
    yield "st-header-array.safetensors", safetensors(GOOD, header_override="[1, 2, 3]")
    yield "st-unknown-dtype.safetensors", safetensors(
        [("base_model.model.layers.0.q_proj.lora_A.weight", "Q9", [2, 3], b"\0" * 24)] + GOOD[1:])
    yield "st-offsets-past-eof.safetensors", safetensors(GOOD, truncate=8 + len(json.dumps(
        {n: {"dtype": d, "shape": s, "data_offsets": [0, 0]} for n, d, s, _ in GOOD})) + 10)
    hdr = json.loads(safetensors(GOOD)[8:8 + struct.unpack("<Q", safetensors(GOOD)[:8])[0]])
    reversed_offsets = dict(hdr)
    reversed_offsets["base_model.model.layers.0.q_proj.lora_A.weight"] = {
        "dtype": "F32", "shape": [2, 3], "data_offsets": [24, 0]}
    yield "st-offsets-reversed.safetensors", safetensors(GOOD, header_override=json.dumps(reversed_offsets))
    wrong_size = dict(hdr)
    wrong_size["base_model.model.layers.0.q_proj.lora_A.weight"] = {
        "dtype": "F32", "shape": [2, 4], "data_offsets": [0, 24]}
    yield "st-shape-vs-bytes.safetensors", safetensors(GOOD, header_override=json.dumps(wrong_size))
    overflow = dict(hdr)
    overflow["base_model.model.layers.0.q_proj.lora_A.weight"] = {
        "dtype": "F32", "shape": [1 << 62, 1 << 62], "data_offsets": [0, 24]}
    yield "st-shape-overflow.safetensors", safetensors(GOOD, header_override=json.dumps(overflow))
    negative = dict(hdr)
    negative["base_model.model.layers.0.q_proj.lora_A.weight"] = {
        "dtype": "F32", "shape": [-2, 3], "data_offsets": [0, 24]}
    yield "st-negative-dim.safetensors", safetensors(GOOD, header_override=json.dumps(negative))
    overlap = dict(hdr)
    overlap["base_model.model.layers.0.q_proj.lora_B.weight"] = {
        "dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    yield "st-overlapping-tensors.safetensors", safetensors(GOOD, header_override=json.dumps(overlap))
    text = json.dumps(hdr)
    dup = text[:-1] + ', "base_model.model.layers.0.q_proj.lora_A.weight": ' + json.dumps(
        hdr["base_model.model.layers.0.q_proj.lora_A.weight"]) + "}"
    yield "st-duplicate-key.safetensors", safetensors(GOOD, header_override=dup)
    yield "st-metadata-not-strings.safetensors", safetensors(GOOD, metadata={"ss_network_dim": 8})
    yield "st-nan-in-lora-b.safetensors", safetensors(nan_b)
    yield "st-unpaired-lora-a.safetensors", safetensors(GOOD[:1])
    yield "st-rank-disagreement.safetensors", safetensors(rank_mismatch)
    # DoRA keeps one norm per output feature: 4 here, not 3 (the in features).
    yield "st-dora-magnitude-wrong-length.safetensors", safetensors(GOOD + [
        ("base_model.model.layers.0.q_proj.lora_magnitude_vector", "F32", [3], f32([1.0] * 3))])
    yield "st-no-lora-tensors.safetensors", safetensors(
        [("model.embed_tokens.weight", "F32", [2, 2], f32([1, 2, 3, 4]))])

    kohya = [("lora_unet_x.lora_down.weight", "F32", [2, 3], f32([1, 2, 3, 4, 5, 7])),
             ("lora_unet_x.lora_up.weight", "F32", [4, 2], f32([1, 0, 0, 1, 1, 1, 2, 3]))]
    yield "kohya-alpha-nan.safetensors", safetensors(
        kohya + [("lora_unet_x.alpha", "F32", [], f32([float("nan")]))])
    yield "kohya-alpha-vector.safetensors", safetensors(
        kohya + [("lora_unet_x.alpha", "F32", [2], f32([1.0, 2.0]))])

    weights = safetensors(GOOD)
    yield "peft-config-not-json/adapter_config.json", b"{\"r\": 2,"
    yield "peft-config-not-json/adapter_model.safetensors", weights
    yield "peft-config-r-is-a-string/adapter_config.json", json.dumps(dict(CONFIG, r="two")).encode()
    yield "peft-config-r-is-a-string/adapter_model.safetensors", weights
    yield "peft-config-r-disagrees/adapter_config.json", json.dumps(
        dict(CONFIG, r=8, lora_alpha=16)).encode()
    yield "peft-config-r-disagrees/adapter_model.safetensors", weights
    # fuzz_peft_config's one finding: libstdc++ compiles a regex recursively, once per term.
    yield "peft-config-pattern-key-too-long/adapter_config.json", json.dumps(
        dict(CONFIG, rank_pattern={"q" * 20000: 2})).encode()
    yield "peft-config-pattern-key-too-long/adapter_model.safetensors", weights
    # Issue 11: dump() recursed once per level (a crash at 100,000 levels, 200 MB of output
    # at 10,000); nesting is now refused while parsing. The 100,000-level case is made by
    # tests/cli/terminal_text_cli_test.cc rather than kept here.
    yield "peft-config-nested-10000/adapter_config.json", (
        json.dumps(CONFIG)[:-1] + ', "x": ' + "[" * 10000 + "]" * 10000 + "}").encode()
    yield "peft-config-nested-10000/adapter_model.safetensors", weights
    yield "peft-weights-truncated/adapter_config.json", json.dumps(CONFIG).encode()
    yield "peft-weights-truncated/adapter_model.safetensors", weights[:-7]

    # mlx_lm: lora_a is [in, r] and lora_b [r, out] (transposed against PEFT).
    mlx_a = ("model.layers.0.q_proj.lora_a", "F32", [3, 2], f32([0.25, 0.5, 1, 2, -1, 0.75]))
    mlx_b = ("model.layers.0.q_proj.lora_b", "F32", [2, 4], f32([0.5, 1, 0, 2, 1, -1, 3, 0.25]))
    yield "mlx-lora-a-without-lora-b.safetensors", safetensors([mlx_a])
    yield "mlx-rank-disagreement.safetensors", safetensors(
        [mlx_a, ("model.layers.0.q_proj.lora_b", "F32", [3, 4], f32([1] * 12))])
    mlx_weights = safetensors([mlx_a, mlx_b])
    mlx_config = {"fine_tune_type": "lora", "num_layers": 1, "model": "/Users/someone/model",
                  "lora_parameters": {"rank": 2, "scale": 2.0, "dropout": 0.0}}

    def mlx_case(name, lora_parameters):
        config = dict(mlx_config, lora_parameters=lora_parameters)
        yield f"{name}/adapter_config.json", json.dumps(config).encode()
        yield f"{name}/adapters.safetensors", mlx_weights
    yield from mlx_case("mlx-config-rank-disagrees", dict(mlx_config["lora_parameters"], rank=8))
    yield from mlx_case("mlx-config-rank-is-a-string", dict(mlx_config["lora_parameters"], rank="two"))
    yield from mlx_case("mlx-config-scale-is-a-string", dict(mlx_config["lora_parameters"], scale="2.0"))
    yield from mlx_case("mlx-config-no-scale", {"rank": 2, "dropout": 0.0})
    yield from mlx_case("mlx-config-lora-parameters-is-a-list", [2, 2.0])
    yield from mlx_case("mlx-config-keys-not-strings", dict(mlx_config["lora_parameters"], keys=["q_proj", 7]))

    yield "gguf-bad-magic.gguf", gguf(magic=b"GGUX")
    # GGUF strings must be UTF-8: a key, a string value and a tensor name that are not.
    yield "gguf-key-not-utf8.gguf", gguf(
        kvs=gguf_string(b"general.\xffarchitecture") + struct.pack("<I", 8) + gguf_string("llama"), n_kv=1)
    yield "gguf-string-not-utf8.gguf", gguf(
        kvs=gguf_string("general.architecture") + struct.pack("<I", 8) + gguf_string(b"lla\xc0ma"), n_kv=1)
    yield "gguf-tensor-name-not-utf8.gguf", gguf(
        tensors=gguf_string(b"blk.0\x1b[2J\xfe.lora_a") + struct.pack("<I", 2) +
        struct.pack("<QQ", 3, 2) + struct.pack("<I", 0) + struct.pack("<Q", 0), n_tensors=1)
    yield "gguf-version-99.gguf", gguf(version=99)
    yield "gguf-kv-count-huge.gguf", gguf(n_kv=1 << 60)
    yield "gguf-string-length-lies.gguf", gguf(
        kvs=struct.pack("<Q", 1 << 40) + b"general.architecture", n_kv=1)
    yield "gguf-unknown-value-type.gguf", gguf(
        kvs=gguf_string("general.architecture") + struct.pack("<I", 77), n_kv=1)
    yield "gguf-truncated-kv.gguf", gguf(kvs=gguf_kv_string("general.architecture", "llama")[:-3], n_kv=1)
    tensor_info = gguf_string("blk.0.attn_q.weight.lora_a") + struct.pack("<I", 2) + \
        struct.pack("<QQ", 3, 2) + struct.pack("<I", 0) + struct.pack("<Q", 1 << 40)
    yield "gguf-tensor-offset-past-eof.gguf", gguf(
        kvs=gguf_kv_string("general.architecture", "llama") + gguf_kv_string("general.type", "adapter"),
        n_kv=2, tensors=tensor_info, n_tensors=1, tail=b"\0" * 32)

    def gguf_tensor_info(name, rows, cols, offset):  # F32, numpy (rows, cols)
        return gguf_string(name) + struct.pack("<I", 2) + struct.pack("<QQ", cols, rows) + \
            struct.pack("<I", 0) + struct.pack("<Q", offset)
    infos = gguf_tensor_info("blk.0.attn_q.weight.lora_a", 2, 3, 0) + \
        gguf_tensor_info("blk.0.attn_q.weight.lora_b", 4, 2, 32)
    header = gguf(kvs=gguf_kv_string("general.architecture", "llama") +
                  gguf_kv_string("general.type", "adapter") + gguf_kv_string("adapter.type", "lora") +
                  gguf_string("adapter.lora.alpha") + struct.pack("<I", 6) + struct.pack("<f", float("nan")),
                  n_kv=4, tensors=infos, n_tensors=2)
    padding = b"\0" * (-len(header) % 32)
    yield "gguf-alpha-nan.gguf", header + padding + f32([1] * 6) + b"\0" * 8 + f32([0.5] * 8)

    yield "bin-not-a-zip.bin", b"PK\x03\x04 this is not really a zip"
    yield "bin-no-data-pkl.bin", zip_bytes([("archive/version", b"3\n")])
    # GLOBAL 'os system' then a call: what a malicious pickle does; never executed.
    yield "bin-pickle-calls-os-system.bin", torch_zip(
        b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00echoq\x01\x85q\x02Rq\x03.")
    yield "bin-pickle-truncated.bin", torch_zip(b"\x80\x02}q\x00(X\x03\x00\x00\x00abc")


# The healthy base the checkpoint cases break: a Llama-named q_proj as [4, 3] (the tiny
# adapter's module, Hugging Face names so that GGUF cases map to blk.0.attn_q), k_proj, a norm.
TINY_ADAPTER = lora_pair("base_model.model.model.layers.0.self_attn.q_proj")
BASE_SHARD_1 = [("model.layers.0.self_attn.q_proj.weight", "F32", [4, 3], f32([0.125 * i for i in range(12)]))]
BASE_SHARD_2 = [("model.layers.0.self_attn.k_proj.weight", "F32", [4, 3], f32([-0.5] * 12)),
                ("norm.weight", "F32", [3], f32([1, 1, 1]))]
SHARDS = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")


def index_json(weight_map=None, total_size=None, text=None):
    if text is not None:
        return text.encode()
    if weight_map is None:
        weight_map = {t[0]: SHARDS[0] for t in BASE_SHARD_1}
        weight_map.update({t[0]: SHARDS[1] for t in BASE_SHARD_2})
    size = sum(len(t[3]) for t in BASE_SHARD_1 + BASE_SHARD_2)
    return json.dumps({"metadata": {"total_size": size if total_size is None else total_size},
                       "weight_map": weight_map}, indent=2).encode()


def sharded(folder, index=None, shard_1=None, shard_2=None, skip_shard_2=False):
    """The files of a sharded folder, each part overridable."""
    yield f"{folder}/model.safetensors.index.json", index if index is not None else index_json()
    yield f"{folder}/{SHARDS[0]}", shard_1 if shard_1 is not None else safetensors(BASE_SHARD_1)
    if not skip_shard_2:
        yield f"{folder}/{SHARDS[1]}", shard_2 if shard_2 is not None else safetensors(BASE_SHARD_2)


def gguf_model_tensor(name, ne, ggml_type, offset):
    return gguf_string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne) + \
        struct.pack("<I", ggml_type) + struct.pack("<Q", offset)


def gguf_model(tensor_info, n_tensors, data, general_type="model"):
    kvs = gguf_kv_string("general.architecture", "llama") + gguf_kv_string("general.type", general_type)
    header = gguf(kvs=kvs, n_kv=2, tensors=tensor_info, n_tensors=n_tensors)
    return header + b"\0" * (-len(header) % 32) + data


def checkpoint_cases():
    """Hostile base checkpoints: (relative path, bytes); a folder case is several files."""
    weight_map = {t[0]: SHARDS[0] for t in BASE_SHARD_1}
    weight_map.update({t[0]: SHARDS[1] for t in BASE_SHARD_2})
    yield from sharded("sharded-missing-shard", skip_shard_2=True)
    yield from sharded("sharded-total-size-lies", index=index_json(total_size=1 << 40))
    text = index_json().decode()
    twice = text.replace('"norm.weight"', '"%s": "%s",\n    "norm.weight"' % (BASE_SHARD_1[0][0], SHARDS[0]))
    yield from sharded("sharded-tensor-listed-twice", index=index_json(text=twice))
    yield from sharded("sharded-tensor-in-two-shards",
                       shard_2=safetensors(BASE_SHARD_2 + BASE_SHARD_1))
    wrong = dict(weight_map, **{"norm.weight": SHARDS[0]})
    yield from sharded("sharded-tensor-not-in-its-shard", index=index_json(wrong))
    unlisted = {k: v for k, v in weight_map.items() if k != "norm.weight"}
    yield from sharded("sharded-tensor-not-listed", index=index_json(unlisted))
    escape = dict(weight_map, **{"norm.weight": "../" + SHARDS[1]})
    yield from sharded("sharded-shard-outside-folder", index=index_json(escape))
    yield from sharded("sharded-index-not-json", index=index_json(text='{"weight_map": {'))
    yield from sharded("sharded-index-no-weight-map", index=index_json(text='{"metadata": {}}'))
    yield from sharded("sharded-shard-truncated", shard_2=safetensors(BASE_SHARD_2)[:-6])  # the data cut
    yield "folder-without-checkpoint/config.json", b'{"model_type": "llama"}'
    whole = safetensors(BASE_SHARD_1 + BASE_SHARD_2)
    hdr = json.loads(whole[8:8 + struct.unpack("<Q", whole[:8])[0]])
    dup = json.dumps(hdr)[:-1] + ', "norm.weight": ' + json.dumps(hdr["norm.weight"]) + "}"
    yield "st-duplicate-tensor.safetensors", safetensors(BASE_SHARD_1 + BASE_SHARD_2, header_override=dup)
    # Q8_0: 34-byte blocks of 32 values; [32, 2] needs 68 bytes, the file holds 50.
    q8 = gguf_model_tensor("blk.0.attn_q.weight", [32, 2], 8, 0)
    yield "gguf-quant-block-truncated.gguf", gguf_model(q8, 1, b"\x11" * 50)
    # Q4_0 rows of 48 values are not whole 32-value blocks.
    q4 = gguf_model_tensor("blk.0.attn_q.weight", [48, 2], 2, 0)
    yield "gguf-quant-row-not-whole-blocks.gguf", gguf_model(q4, 1, b"\0" * 64)
    f32_info = gguf_model_tensor("blk.0.attn_q.weight", [3, 4], 0, 0)
    yield "gguf-adapter-as-base.gguf", gguf_model(f32_info, 1, f32([0.0] * 12), general_type="adapter")



def write_all(out_dir, entries):
    for name, data in entries:
        path = os.path.join(out_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
    write_all(os.path.join(data_dir, "malformed"), cases())
    write_all(os.path.join(data_dir, "malformed-checkpoints"), checkpoint_cases())
    # A valid llama GGUF that the tiny adapter cannot be merged into: its attn_q rows cannot
    # be put in llama.cpp's per-head order without llama.attention.head_count.
    write_all(data_dir, [("gguf-llama-without-head-count.gguf",
                          gguf_model(gguf_model_tensor("blk.0.attn_q.weight", [3, 4], 0, 0), 1, f32([0.0] * 12)))])
    write_all(os.path.join(data_dir, "tiny-adapter"), [
        ("adapter_model.safetensors", safetensors(TINY_ADAPTER)),
        ("adapter_config.json", json.dumps(CONFIG).encode())])
    return 0


if __name__ == "__main__":
    sys.exit(main())
