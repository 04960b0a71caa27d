// Merging LoRA adapters into their base model: W' = W + Σ s·ΔW, written as a new
// checkpoint in the base's own layout, streamed tensor by tensor.
//
// For every base tensor an adapter module targets (docs/merge.md has the exact rules):
//   V = W + s₁·P₁ + s₂·P₂ + …   P = B·A (or its transpose, see below), in the arithmetic
//                                MergeCompute picks (double or float):
//                                P[i][j] = Σₖ B[i][k]·A[k][j], k ascending, from 0;
//                                each product and sum rounded, no FMA;
//   DoRA (one adapter only):    V'[i][j] = (m[i] / ‖V[i]‖) · V[i][j], ‖V[i]‖ = √(Σⱼ V[i][j]²)
//                                summed with j ascending;
//   W' = V rounded once (to nearest even) to the output dtype.
// s is the module's scale as the adapter's own loader computes it (alpha/r, rsLoRA,
// rank/alpha patterns, mlx scale) times MergeOptions::scale. P is transposed for PEFT
// embeddings (ΔW = (B·A)ᵀ) and for fan_in_fan_out (GPT-2 Conv1D, W stored [in, out]).
// W comes from the base exactly: floats widened, GGUF quantised types dequantised
// bit-exactly as ggml does. Because the order of every operation is fixed, the result is
// reproducible bit for bit (tests check it against a NumPy oracle doing the same steps).
#ifndef LORANK_MERGE_H_
#define LORANK_MERGE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/checkpoint.h"
#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank {

// The dtype merged GGUF tensors get when the base tensor is quantised and no --dtype is
// given: F16 holds every Q8_0..Q4_0 value to about 3 decimal digits, like llama.cpp's
// export-lora output, at a quarter of F32's size.
inline constexpr DType kMergedDtypeForQuantised = DType::kF16;

// The arithmetic of V = W + Σ s·P (the comment at the top spells it out for double).
//   kF64: double. W' is the correctly rounded value of that double result.
//   kF32: float, in the same fixed order: the factors, W and s rounded to float (exact for
//         F32/F16/BF16/quantised storage), every product and sum rounded to float. Twice
//         as fast; PEFT merges in float32 too. Against kF64 a BF16 W' differs by one unit
//         in the last place in about 1 value in 10^5 (bench/merge_vs_peers.py measures it).
//   kAuto: kF32 for F16/BF16 outputs, kF64 for F32 outputs.
// DoRA tensors and F64 base tensors are always computed in double.
enum class MergeCompute { kAuto, kF32, kF64 };

struct MergeOptions {
  // The dtype of merged tensors (F32, F16 or BF16); unset: the base tensor's own dtype
  // (kMergedDtypeForQuantised for a quantised one). Other tensors keep their encoding.
  std::optional<DType> dtype;
  MergeCompute compute = MergeCompute::kAuto;
  double scale = 1.0;      // multiplies every module's s
  // One factor per adapter, multiplying its modules' s on top of `scale` (llama.cpp's
  // --lora-scaled FILE S); empty = all 1.
  std::vector<double> adapter_scales;
  bool overwrite = false;  // replace an earlier merge output at `out` (never an input)
  // Verify every row of every merged tensor and every byte of the copied ones when the
  // output holds at most this many bytes; above it, sampled rows and byte ranges.
  uint64_t verify_all_up_to_bytes = uint64_t{1} << 30;
  unsigned threads = 0;  // 0 = one per core
  // Called after each output tensor is written: (tensors done, total).
  std::function<void(std::size_t, std::size_t)> progress;
};

struct MergeReport {
  std::filesystem::path output;  // the file, or the folder (sharded / folder bases)
  CheckpointFormat format = CheckpointFormat::kSafetensors;
  std::size_t merged = 0;    // tensors changed by LoRA updates
  std::size_t replaced = 0;  // tensors the adapter carries whole (modules_to_save, biases)
  std::size_t added = 0;     // adapter tensors the base lacks (new heads), appended
  std::size_t copied = 0;    // tensors copied byte for byte
  uint64_t bytes_written = 0;
  std::size_t computed_in_float = 0;  // merged tensors computed in float (MergeCompute)
  bool verified_all = false;      // every row and byte was re-read and compared
  uint64_t verified_rows = 0;     // merged rows recomputed and compared
  std::vector<std::string> warnings;
};

// Merges `adapters` (summed, in order) into `base` and writes the result at `out`:
//   a single safetensors or PyTorch base given as a file → a .safetensors file;
//   a sharded base, or any base given as a folder → a folder with the same shard layout,
//   a fresh index, and the folder's other small files (config.json, tokenizer) copied;
//   a GGUF base → a GGUF file with the base's KVs.
// Nothing is published until the output was re-read and compared with the formula.
// Errors (one line, naming the module and both shapes where shapes disagree):
// kInvalidData for a module with no base tensor or a different shape, a quantised or
// non-finite adapter factor, DoRA combined with another adapter on one module;
// kNotSupported for kohya adapters, DoRA on embeddings or fan_in_fan_out, a base tensor
// without values; kInvalidArgument for `out` that would overwrite an input or exists
// without `overwrite`; the readers' and writers' errors otherwise. On error nothing is
// left at `out`.
Result<MergeReport> merge_adapters(const Checkpoint& base, std::span<const Adapter> adapters,
                                   const std::filesystem::path& out, const MergeOptions& options);

// The report as `lorank merge --json` prints it: output, format, merged, replaced, added,
// copied, bytes_written, computed_in_float, verified_all, verified_rows, warnings.
std::string merge_json(const MergeReport& report);

}  // namespace lorank

#endif  // LORANK_MERGE_H_
