// The audit of a whole adapter: every module's exact spectrum, its rank metrics, a
// recommended rank under one rule, and advice for the next training run.
#ifndef LORANK_AUDIT_H_
#define LORANK_AUDIT_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/checkpoint.h"
#include "lorank/rank.h"
#include "lorank/status.h"

namespace lorank {

// How σ(W) was computed for projection_w_top (docs/base-audit.md).
enum class WSvdRoute {
  kAuto,    // dense for W with at most AuditOptions::dense_w_svd_max_elements elements
  kDense,   // LAPACK dgesdd of the whole W in double
  kKrylov,  // block Lanczos on WᵀW, W streamed a block of rows at a time
};
std::string_view w_svd_route_name(WSvdRoute route);  // "auto", "dense", "krylov"

// NaN in a BaseComparison number means "undefined" (null in JSON, "—" in tables).
inline constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

// One module's update ΔW = s·B·A against its base weight W (Hu et al. 2022, §7.3), with
// everything in W's own layout (ΔW transposed when the module's W is stored [in, out]).
// U, V are ΔW's top-k singular vectors, k = `directions` (its numerical rank, ≤ r).
struct BaseComparison {
  std::string tensor;       // the base tensor's name
  std::string tensor_type;  // its encoding, e.g. "BF16", "Q4_0"
  bool transposed = false;  // W's rows are the columns of B·A (BaseTensorMatch::transposed)
  std::size_t rows = 0, cols = 0;  // W as a matrix
  std::size_t directions = 0;      // k: σ_i(ΔW) above rounding level
  double weight_norm = 0.0;        // ‖W‖_F
  double delta_norm = 0.0;         // ‖ΔW‖_F = √Σσ_i(ΔW)²
  double relative_change = kUndefined;    // ‖ΔW‖_F / ‖W‖_F
  double projection_delta = kUndefined;   // ‖Uᵀ·W·V‖_F
  double projection_w_top = kUndefined;   // ‖U_Wᵀ·W·V_W‖_F = √Σ_{i≤k} σ_i(W)²
  double projection_random = kUndefined;  // ‖U_rᵀ·W·V_r‖_F, random orthonormal k-frames
  double amplification = kUndefined;      // ‖ΔW‖_F / projection_delta
  std::vector<double> w_singular_values;  // σ_1..σ_k of W, descending
  WSvdRoute w_svd = WSvdRoute::kDense;    // the route taken (never kAuto)
  std::size_t w_passes = 0;               // Krylov: streamed passes over W (dense: 1)
  // A bound on max_i |σ_i − σ̂_i| / σ̂_i for the computed σ̂_i(W) (0 for dense: LAPACK's
  // backward error only). Krylov: half the largest relative Ritz residual.
  double w_relative_error_bound = 0.0;
};

// The audit's base-model part as a whole: where W came from and the reading.
struct BaseAudit {
  std::string path;    // as given to --base
  std::string format;  // checkpoint_format_name
  std::uint64_t seed = 0;  // of the random subspaces and Krylov start blocks
  std::size_t compared = 0;     // modules with k ≥ 1 (the others have no directions)
  // Medians over compared modules (NaN when none).
  double median_relative_change = kUndefined;
  double median_amplification = kUndefined;
  double median_delta_over_top = kUndefined;     // projection_delta / projection_w_top
  double median_delta_over_random = kUndefined;  // projection_delta / projection_random
  // How many compared modules fall in each class (docs/base-audit.md, "Reading").
  std::size_t emphasised = 0;    // projection_delta ≥ ½·projection_w_top
  std::size_t unemphasised = 0;  // between: more than chance, far below W's top
  std::size_t unrelated = 0;     // projection_delta ≤ 2·projection_random
  std::vector<std::string> reading;  // sentences computed from the numbers above
};

struct AuditModule {
  std::string name;         // as in the file (PEFT key prefix, kohya name, GGUF base tensor)
  std::string short_name;   // display_names(): for tables, unique, never cut inside a segment
  std::string module_type;  // the name without its layer prefix, e.g. "self_attn.q_proj"
  int layer = -1;           // the layer index in the name (blocks/layers/h/blk N), -1 if none
  ModuleKind kind = ModuleKind::kLinear;
  std::size_t rank = 0, out = 0, in = 0;
  double alpha = 0.0, scale = 1.0;
  std::string scale_rule;
  std::string dtype;  // of the factors, e.g. "BF16"
  bool dora = false;
  std::vector<double> singular_values;  // of scale·B·A, min(rank, out, in) values, descending
  SpectrumMetrics metrics;
  int recommended_rank = 0;  // under AuditReport::rule (0 for an untrained module)
  int rule_rank = 0;         // the rule's rank before snapping (== recommended_rank if no snap)
  // The rank the suggested config gives this module: recommended_rank, or 1 for an
  // untrained module (PEFT needs r >= 1; see docs/metrics.md, "Untrained modules").
  int config_rank = 0;
  std::optional<BaseComparison> base;  // with AuditOptions::base only
};

struct AuditSummary {
  std::size_t modules = 0;
  std::size_t untrained = 0;
  std::uint64_t lora_params = 0;             // Σ r·(out + in) now
  std::uint64_t recommended_params = 0;      // Σ k·(out + in) at the recommended ranks
  std::uint64_t passthrough_params = 0;      // non-LoRA tensors (kept as they are)
  std::uint64_t file_bytes = 0;              // the weights file now
  std::uint64_t recommended_bytes = 0;       // estimated at the recommended ranks, same dtype
  std::uint64_t lora_bytes = 0;              // the factors' bytes now (at their dtype)
  std::uint64_t recommended_lora_bytes = 0;  // the factors' bytes at the recommended ranks
  std::uint64_t passthrough_bytes = 0;       // non-LoRA tensors' bytes (unchanged)
  std::size_t flat = 0;                      // trained modules with σ_n/σ₁ ≥ kFlatTailRatio
  std::map<int, std::size_t> recommended_rank_counts;  // recommended rank → modules
};

// A spectrum whose smallest value is at least this fraction of σ₁ is reported as flat: no
// direction stands out, so every rule keeps (nearly) all of it (docs/metrics.md).
inline constexpr double kFlatTailRatio = 0.1;

// A non-LoRA tensor carried unchanged.
struct AuditTensor {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
};

struct AuditReport {
  std::string path;         // the weights file
  std::string format;       // "peft", "kohya", "gguf"
  std::string container;    // "safetensors", "pytorch", "gguf"
  std::string config_path;  // adapter_config.json, empty if none
  std::vector<std::string> warnings;
  std::string rule;                      // the rank rule used, e.g. "threshold:0.01"
  std::string snap;                      // "none", "vllm", "pow2"
  double tau = 1e-2;                     // τ of every module's metrics.threshold_rank
  std::vector<AuditModule> modules;      // natural order of name (module_names.h)
  std::vector<AuditTensor> passthrough;  // file order
  AuditSummary summary;
  // A PEFT LoraConfig for the next training run, as pretty JSON ready to paste: r (the most
  // common recommended rank), lora_alpha and alpha_pattern keeping every module's current
  // scale, rank_pattern for the others, with ^-anchored full module names.
  std::string suggested_config;
  std::optional<BaseAudit> base;  // with AuditOptions::base only
};

struct AuditOptions {
  RankRule rule;  // default threshold:0.01
  Snap snap = Snap::kNone;
  double tau = 1e-2;     // for SpectrumMetrics::threshold_rank, 0 < tau <= 1
  unsigned threads = 0;  // for module_spectra; 0 = one per core
  // See SpectraOptions::progress; with `base`, the comparison continues the count to
  // (2·modules, 2·modules) after the spectra's (modules, modules).
  std::function<void(std::size_t, std::size_t)> progress;
  // The base model: compare every module's ΔW with its W (Hu et al. §7.3). Not owned; must
  // outlive run_audit. Kohya adapters are refused (kNotSupported: no name mapping).
  const Checkpoint* base = nullptr;
  std::uint64_t base_seed = 0;  // random subspaces and Krylov start blocks
  WSvdRoute w_svd = WSvdRoute::kAuto;
  std::uint64_t dense_w_svd_max_elements = std::uint64_t{1} << 20;  // kAuto's threshold
};

// The whole audit: module_spectra, then per module the metrics, names, the rule's rank and
// the snapped recommended rank; the summary; the suggested config. kInvalidArgument for a
// tau outside (0, 1]; module_spectra's errors (kNumerical for NaN/Inf factors) otherwise.
// With options.base, also find_base_tensor's one-line errors (a missing base tensor, a
// shape that disagrees) and the checkpoint's read errors, naming the module.
Result<AuditReport> run_audit(const Adapter& adapter, const AuditOptions& options = {});

// The PEFT LoraConfig advice for `modules` (with recommended and config ranks filled in):
// r = the most common recommended rank over trained modules (ties: the larger), lora_alpha
// keeping the scale of the modules at r (α/r, or α/√r under use_rslora), and ^-anchored,
// regex-escaped, base-relative names in rank_pattern/alpha_pattern for every other module so
// that PEFT's matching gives each module exactly its current scale. Every other field comes
// from the adapter's own config when it has one (inference_mode set to false: this is for
// training). Notes for the user are appended to `notes`. Pretty JSON (2-space indent).
std::string suggested_config(const Adapter& adapter, const std::vector<AuditModule>& modules,
                             std::vector<std::string>& notes);

// A regular expression matching exactly `text` (every metacharacter escaped).
std::string regex_escape(std::string_view text);

}  // namespace lorank

#endif  // LORANK_AUDIT_H_
