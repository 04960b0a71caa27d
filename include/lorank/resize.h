// Right-sizing an adapter without retraining: each module's update s·B·A replaced by its
// best rank-k approximation (Eckart–Young), computed from the factors' QR-core SVD (never
// the dense out×in product), written back in the adapter's own format. See
// docs/metrics.md for the rank rules.
#ifndef LORANK_RESIZE_H_
#define LORANK_RESIZE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/rank.h"
#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank {

// One module truncated to rank k: new_scale·B'·A' equals the rank-k truncation of s·B·A
// (to double rounding). Row-major, as stored: B' is out×k, A' is k×in (in flattened).
struct TruncatedFactors {
  std::size_t k = 0;
  std::vector<double> b;  // out×k
  std::vector<double> a;  // k×in
  std::vector<double> singular_values;  // all min(r, out, in) σ of s·B·A, descending
  double retained_energy = 1.0;         // Σ_{i≤k}σ²/Σσ² (1 for an all-zero update)
  double relative_error = 0.0;          // ‖ΔW − ΔW_k‖_F/‖ΔW‖_F = sqrt(Σ_{i>k}σ²/Σσ²)
  double condition = 0.0;               // σ₁/σ_k (+inf if σ_k = 0; 0 if all-zero)
  // The update is all zero: k = 1, B' = 0 (out×1), A' = the first unit row (1×in).
  bool zero = false;
};

// Truncates `module` to rank k. Balanced factors by default (B' = Q_B·U_k·diag(√σ'),
// A' = diag(√σ')·(Q_A·V_k)ᵀ with σ' = σ·|s/new_scale| and the sign of s/new_scale carried
// by B'); `sigma_in_b` puts all of σ' into B' (A' = V_kᵀ·Q_Aᵀ orthonormal rows: the PEFT
// and kohya resize convention). kInvalidArgument unless 1 ≤ k ≤ min(r, out, in);
// kInvalidData unless new_scale is finite and nonzero, or for factor shapes that disagree; kNumerical (naming
// the tensor) for NaN/Inf factors; kNotSupported for a factor dtype without conversion.
// An all-zero update gives the zero module whatever k (≥ 1) is asked for.
Result<TruncatedFactors> truncate_module(const LoraModule& module, int k, bool sigma_in_b,
                                         double new_scale);

struct ResizeOptions {
  RankRule rule;               // + fixed:k; each module's k capped at its min(r, out, in)
  Snap snap = Snap::kNone;     // then k rounded up to a rank servers accept (snap_rank)
  bool sigma_in_b = false;     // see truncate_module
  std::optional<DType> dtype;  // of the new factors; unset: each input factor's own dtype
  unsigned threads = 0;        // worker threads over modules; 0 = one per core
  // Called after each module with (modules done, total), from the worker threads, one call
  // at a time.
  std::function<void(std::size_t, std::size_t)> progress;
};

struct ResizeModule {
  std::string name;
  std::size_t old_rank = 0, new_rank = 0;
  double scale = 1.0;      // s of the module before
  double new_scale = 1.0;  // s' the format's loader will apply to the new factors
  double retained_energy = 1.0, relative_error = 0.0, condition = 0.0;
  bool zero = false;  // all-zero update, kept as a zero module of rank 1
  std::vector<double> singular_values;  // all min(r, out, in) σ of s·B·A before, descending
};

struct ResizeTotals {
  std::uint64_t params_before = 0, params_after = 0;  // Σ r·(out + in) of the factors
  std::uint64_t bytes_before = 0, bytes_after = 0;    // every tensor's bytes (weights file
                                                      // payload, headers excluded)
};

struct ResizeResult {
  // The same format and container; modules point at new heap buffers kept alive by
  // adapter.storage (which also keeps the input's storage alive: passthrough tensors and
  // names still borrow from it). Write it with write_adapter.
  Adapter adapter;
  std::vector<ResizeModule> modules;  // file order
  ResizeTotals totals;
  std::vector<std::string> notes;  // for the user (zero modules, config notes, ...)
  // Options that did less than asked, one line per situation naming how many modules:
  // fixed:k above a module's rank, a snap that rounded k up to the old rank.
  std::vector<std::string> warnings;
  // True when no module's rank went down (the output would be a full-rank copy).
  bool keeps_every_rank() const;
};

// Resizes every module of `adapter` with `options.rule`. Per format:
//  PEFT: adapter_config.json gets r = the most common new rank and rank_pattern /
//    alpha_pattern (^-anchored full names) preserving every module's scale under PEFT's
//    rules (use_rslora respected); every other field kept. DoRA magnitudes and passthrough
//    tensors unchanged; conv factors keep their 4-d layout.
//  kohya: .alpha = scale·k (rounded to the original alpha tensor's dtype, F32 when there
//    was none; the factors absorb that rounding); ss_network_dim / ss_network_alpha updated
//    ("Dynamic" when the modules differ), other metadata kept.
//  GGUF: the global α is kept; each module's scale change α/k' vs s is folded into lora_b.
// Errors: those of truncate_module (the first failing module in file order, named);
// kInvalidArgument for a non-float options.dtype.
Result<ResizeResult> resize_adapter(const Adapter& adapter, const ResizeOptions& options = {});

// Re-reads the adapter written at `out` (resize calls it on the hidden temp output, before
// publishing it: see AdapterWriteOptions::before_publish) and checks that every module's spectrum equals the
// first new_rank of its singular values before (result.modules[i].singular_values, from
// the resize's own SVD; an independent computation: the output's spectrum is taken from the
// file as written) within the stored dtypes' rounding: |Δσ| ≤ 8·u·σ₁, u the unit roundoff of
// the coarser of the module's A and B dtypes (at least 1e-12/8 for F64). kIOError naming
// the module and the values when it does not (the output is not what was meant to be
// written: a failed operation, exit 1); the reader's errors if it cannot be read back.
Status verify_resized(const std::filesystem::path& out, const ResizeResult& result,
                      const AdapterOptions& options = {});

// One row per module (old → new rank, retained energy, relative Frobenius error, σ₁/σ_k),
// the totals, the notes; and the same as one JSON object.
std::string resize_table(const ResizeResult& result);
std::string resize_json(const ResizeResult& result);

}  // namespace lorank

#endif  // LORANK_RESIZE_H_
