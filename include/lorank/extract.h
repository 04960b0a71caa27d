// A full fine-tune turned into a LoRA adapter: for every 2-D weight that differs between a
// base checkpoint and a fine-tuned one, ΔW = W_finetuned − W_base is streamed a block of
// rows at a time (never held whole), its top singular directions are found by block
// Lanczos with a residual bound (linalg/top_singular_values.h), and ΔW·V_k·V_kᵀ becomes the
// module's factors. The rank is chosen per matrix by a rule while the basis grows.
// docs/extract.md has the method, the certification and the error report.
#ifndef LORANK_EXTRACT_H_
#define LORANK_EXTRACT_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/checkpoint.h"
#include "lorank/rank.h"
#include "lorank/resize.h"
#include "lorank/status.h"

namespace lorank {

struct ExtractOptions {
  // fixed:K (--rank), energy:P (--energy: of the exact ‖ΔW‖²_F) or threshold:T (σ_k ≥ T·σ₁).
  RankRule rule = *RankRule::parse("fixed:16");
  std::optional<std::size_t> max_rank;  // caps every rule's k
  // Every retained σ certified within this relative error (first order, from the Lanczos
  // residual ‖r_i‖ ≤ 2·tolerance·θ_i²).
  double tolerance = 1e-3;
  std::string include, exclude;  // ECMAScript regexes searched in tensor names; empty = none
  bool embeddings = false;       // also extract embeddings and the LM head
  bool keep_full = false;        // store the differing tensors not extracted, at full rank
  DType dtype = DType::kF32;     // of the factors (and of --keep-full tensors)
  // kPeft, or kGguf (llama.cpp: <tensor>.lora_a/.lora_b, general.architecture from the
  // GGUF checkpoint; no adapter.lora.alpha, so llama.cpp's scale is 1).
  AdapterFormat format = AdapterFormat::kPeft;
  std::uint64_t seed = 0;        // the Krylov start block: NumPy default_rng(seed) per matrix
  // Called after each tensor compared with (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
};

// One extracted matrix. Norms are of ΔW as stored (rows×cols); `transposed` says the layer
// applies it transposed (GPT-2 Conv1D [in, out], embeddings), so the LoRA update is ΔWᵀ.
struct ExtractedMatrix {
  std::string tensor;    // the tensor's name in both checkpoints
  std::string module;    // the adapter's module name (PEFT: base_model.model.<path>)
  std::size_t rows = 0, cols = 0;
  bool transposed = false, embedding = false;
  std::size_t k = 0;
  double delta_norm = 0.0;          // ‖ΔW‖_F, exact (one streamed pass)
  double weight_norm = 0.0;         // ‖W_base‖_F
  double retained_energy = 0.0;     // ‖ΔW·V_k‖²_F / ‖ΔW‖²_F = Σθ²/‖ΔW‖²_F
  double error = 0.0;               // ‖ΔW − B·A‖_F achieved (see error_direct)
  bool error_direct = false;        // computed from the residual rows, not by subtraction
  // Eckart–Young estimate sqrt(‖ΔW‖² − Σ_{i≤k}σ̂ᵢ²) (the error itself when that
  // subtraction has cancelled: error² < 1e-6·‖ΔW‖²).
  double optimum = 0.0;
  // A lower bound of the optimum: sqrt(error² − Σθᵢ²((1+δ)² − 1)), δ = bound (first order).
  double optimum_lower = 0.0;
  std::size_t passes = 0;           // streamed passes over ΔW (Frobenius and final included)
  double bound = 0.0;               // the largest retained σ's relative error bound
  bool certified = true;            // the bound met the tolerance (not stopped by the basis cap)
  double seconds = 0.0;
  std::vector<double> sigma;        // σ̂_1..σ̂_k
};

// A tensor that differs but was not extracted (not 2-D, excluded, an embedding without
// --embeddings), with ‖Δ‖_F; `kept` when --keep-full stored it.
struct DifferingTensor {
  std::string name;
  Shape shape;
  std::string reason;  // "not 2-D", "excluded", "embedding or LM head"
  double delta_norm = 0.0;
  bool kept = false;
};

struct ExtractResult {
  // The adapter to write (write_adapter) and the resize-shaped record verify_resized checks
  // the written file against.
  ResizeResult adapter;
  std::vector<ExtractedMatrix> matrices;      // base file order
  std::vector<DifferingTensor> not_extracted;
  std::size_t identical = 0;                  // bit-identical (or numerically zero ΔW)
  std::uint64_t params = 0;                   // Σ k·(rows + cols)
  std::uint64_t delta_params = 0;             // Σ rows·cols of the extracted matrices
  std::string base_path, finetuned_path;
  RankRule rule;
  double tolerance = 0.0;
  double seconds = 0.0;
  std::vector<std::string> warnings;  // tensors only in one checkpoint, uncertified values
};

// Extracts the adapter: PEFT (keys base_model.model.<tensor without .weight>.lora_A.weight)
// or GGUF (<tensor>.lora_a), scale 1, factors balanced √σ/√σ. kInvalidArgument for --format
// gguf without a GGUF checkpoint (no general.architecture), with --embeddings or --keep-full. Errors, one line naming the tensor and both files:
// kInvalidData for a shape mismatch between the checkpoints, NaN/Inf in either; the
// readers' errors (an unreadable tensor type). kInvalidArgument for options out of range
// (a rule other than fixed/energy/threshold, a bad regex, tolerance not in (0, 0.5)).
// A tensor only in one checkpoint is a warning. Nothing is printed.
Result<ExtractResult> extract_adapter(const Checkpoint& base, const Checkpoint& finetuned,
                                      const ExtractOptions& options = {});

// kInvalidArgument if writing `out` could destroy a file of either checkpoint.
Status check_not_extract_input(const Checkpoint& base, const Checkpoint& finetuned,
                               const std::filesystem::path& out);

// Re-reads the written adapter (before it is published) and checks each module's spectrum
// against the extraction's within the dtype's rounding (verify_resized).
Status verify_extracted(const std::filesystem::path& out, const ExtractResult& result);

// The per-matrix table, the tensors not extracted, the summary and the intrinsic-rank
// reading; the same as one JSON object (keys in docs/extract.md).
std::string extract_table(const ExtractResult& result);
std::string extract_json(const ExtractResult& result);
// The intrinsic-rank sentence(s) of both.
std::string extract_reading(const ExtractResult& result);
// One self-contained HTML page (no network, no scripts): the reading, every matrix's ΔW
// spectrum σ_i/σ_1 and the table; every file-derived string escaped.
std::string extract_html(const ExtractResult& result);

}  // namespace lorank

#endif  // LORANK_EXTRACT_H_
