#!/usr/bin/python3
"""Writes the merge benchmark's inputs: a Llama-3.2-1B-shaped BF16 base and an r=64 PEFT LoRA.

    /usr/bin/python3 bench/make_merge_base.py [OUT_DIR] [--rank 64] [--layers 16] [--sharded]

OUT_DIR (default /work/benchdata/merge) receives
  base/model.safetensors      the base, BF16, Hugging Face Llama names, tensors sorted by
                              name as the safetensors library writes them; ~2.47 GB
  base/config.json            Llama-3.2-1B's config (tie_word_embeddings: true, so there is
                              no lm_head.weight: the model reads embed_tokens for both)
  base-sharded/               with --sharded: the same tensors in two shards plus
                              model.safetensors.index.json (split at the first layer past
                              half the bytes, as transformers' max_shard_size does)
  adapter/adapter_model.safetensors, adapter/adapter_config.json
                              PEFT LoRA r=64, alpha=128 (s = 2), targets q,k,v,o,gate,up,down
                              of every layer, BF16 factors, A and B both nonzero

Shapes (Llama-3.2-1B): hidden 2048, intermediate 8192, 32 heads of 64, 8 KV heads (k/v
proj 512×2048), vocab 128256, 16 layers, RMSNorm weights (1 plus N(0, 0.05) noise).
Values: seeded normal draws (numpy PCG64, one seed per tensor from its name's CRC32), so
every run writes the same bytes. Only numpy is needed; tensors are generated in chunks, so
memory stays ~100 MB whatever the size.
"""
import argparse
import json
import os
import zlib

import numpy as np

HIDDEN, INTER, HEADS, KV_HEADS, VOCAB = 2048, 8192, 32, 8, 128256
HEAD_DIM = HIDDEN // HEADS
CHUNK = 1 << 22  # values generated at a time


def layer_shapes(n):
    p = f"model.layers.{n}."
    kv = KV_HEADS * HEAD_DIM
    return {
        p + "input_layernorm.weight": [HIDDEN],
        p + "mlp.down_proj.weight": [HIDDEN, INTER],
        p + "mlp.gate_proj.weight": [INTER, HIDDEN],
        p + "mlp.up_proj.weight": [INTER, HIDDEN],
        p + "post_attention_layernorm.weight": [HIDDEN],
        p + "self_attn.k_proj.weight": [kv, HIDDEN],
        p + "self_attn.o_proj.weight": [HIDDEN, HIDDEN],
        p + "self_attn.q_proj.weight": [HIDDEN, HIDDEN],
        p + "self_attn.v_proj.weight": [kv, HIDDEN],
    }


def base_shapes(layers):
    shapes = {"model.embed_tokens.weight": [VOCAB, HIDDEN], "model.norm.weight": [HIDDEN]}
    for n in range(layers):
        shapes.update(layer_shapes(n))
    return dict(sorted(shapes.items()))


def to_bf16_bits(x):
    """float32 array → BF16 bit patterns (uint16), rounded to nearest even."""
    u = x.astype(np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def tensor_chunks(name, shape, std, offset=0.0):
    """The tensor's values as BF16 bytes, chunk by chunk (deterministic per name)."""
    rng = np.random.Generator(np.random.PCG64(zlib.crc32(name.encode())))
    total = int(np.prod(shape))
    for begin in range(0, total, CHUNK):
        x = rng.standard_normal(min(CHUNK, total - begin), dtype=np.float32)
        x *= np.float32(std)
        if offset:
            x += np.float32(offset)
        yield to_bf16_bits(x).tobytes()


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, dtype, shape, std, offset); written in the order given."""
    header, at = {"__metadata__": metadata}, 0
    for name, dtype, shape, _, _ in tensors:
        size = int(np.prod(shape)) * 2
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + size]}
        at += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for name, _, shape, std, offset in tensors:
            for chunk in tensor_chunks(name, shape, std, offset):
                f.write(chunk)
    os.replace(tmp, path)
    return at


def base_tensor_list(shapes):
    out = []
    for name, shape in shapes.items():
        if name.endswith("norm.weight"):
            out.append((name, "BF16", shape, 0.05, 1.0))
        else:
            out.append((name, "BF16", shape, 0.02, 0.0))
    return out


def config(layers):
    return {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": HEAD_DIM,
        "hidden_act": "silu", "hidden_size": HIDDEN, "initializer_range": 0.02,
        "intermediate_size": INTER, "max_position_embeddings": 131072, "mlp_bias": False,
        "model_type": "llama", "num_attention_heads": HEADS, "num_hidden_layers": layers,
        "num_key_value_heads": KV_HEADS, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
        "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "rope_theta": 500000.0, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
        "transformers_version": "4.45.0", "use_cache": True, "vocab_size": VOCAB,
        "_note": "synthetic Llama-3.2-1B-shaped weights for lorank's merge benchmark",
    }


TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def adapter_tensor_list(shapes, rank):
    out = []
    for name, shape in shapes.items():
        module = name[: -len(".weight")]
        if module.rsplit(".", 1)[-1] not in TARGETS:
            continue
        rows, cols = shape
        prefix = "base_model.model." + module
        # A ~ N(0, 1/in) as kaiming-like init; B trained away from zero.
        out.append((prefix + ".lora_A.weight", "BF16", [rank, cols], 1.0 / np.sqrt(cols), 0.0))
        out.append((prefix + ".lora_B.weight", "BF16", [rows, rank], 0.002, 0.0))
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default="/work/benchdata/merge")
    ap.add_argument("--rank", type=int, default=64)
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--sharded", action="store_true", help="also write base-sharded/ (2 shards)")
    ap.add_argument("--skip-base", action="store_true", help="only (re)write the adapter")
    args = ap.parse_args()

    shapes = base_shapes(args.layers)
    base_dir = os.path.join(args.out, "base")
    adapter_dir = os.path.join(args.out, "adapter")
    os.makedirs(base_dir, exist_ok=True)
    os.makedirs(adapter_dir, exist_ok=True)
    cfg = json.dumps(config(args.layers), indent=2) + "\n"
    tensors = base_tensor_list(shapes)
    if not args.skip_base:
        size = write_safetensors(os.path.join(base_dir, "model.safetensors"), tensors, {"format": "pt"})
        with open(os.path.join(base_dir, "config.json"), "w") as f:
            f.write(cfg)
        print(f"base: {len(tensors)} tensors, {size} bytes of data")
    if args.sharded:
        sharded_dir = os.path.join(args.out, "base-sharded")
        os.makedirs(sharded_dir, exist_ok=True)
        total = sum(int(np.prod(t[2])) * 2 for t in tensors)
        first, at = [], 0
        for t in tensors:  # split at the first tensor that starts past half the bytes
            if at >= total // 2:
                break
            first.append(t)
            at += int(np.prod(t[2])) * 2
        shards = [first, tensors[len(first):]]
        names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        weight_map = {}
        for shard, file in zip(shards, names):
            write_safetensors(os.path.join(sharded_dir, file), shard, {"format": "pt"})
            weight_map.update({t[0]: file for t in shard})
        index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
        with open(os.path.join(sharded_dir, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=2)
        with open(os.path.join(sharded_dir, "config.json"), "w") as f:
            f.write(cfg)
        print(f"base-sharded: {len(shards[0])} + {len(shards[1])} tensors")
    a = adapter_tensor_list(shapes, args.rank)
    size = write_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"), a, {"format": "pt"})
    with open(os.path.join(adapter_dir, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": args.rank,
                   "lora_alpha": 2 * args.rank, "lora_dropout": 0.0, "bias": "none",
                   "fan_in_fan_out": False, "use_rslora": False, "use_dora": False,
                   "target_modules": TARGETS, "base_model_name_or_path": base_dir,
                   "inference_mode": True}, f, indent=2)
    print(f"adapter: {len(a)} tensors, {size} bytes, r={args.rank}, alpha={2 * args.rank}")


if __name__ == "__main__":
    main()
