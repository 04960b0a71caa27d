// The audit of a whole adapter: every module's exact spectrum, its rank metrics, a
// recommended rank under one rule, and advice for the next training run.
#ifndef LORANK_AUDIT_H_
#define LORANK_AUDIT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/rank.h"
#include "lorank/status.h"

namespace lorank {

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
};

struct AuditOptions {
  RankRule rule;  // default threshold:0.01
  Snap snap = Snap::kNone;
  double tau = 1e-2;     // for SpectrumMetrics::threshold_rank, 0 < tau <= 1
  unsigned threads = 0;  // for module_spectra; 0 = one per core
  std::function<void(std::size_t, std::size_t)> progress;  // see SpectraOptions::progress
};

// The whole audit: module_spectra, then per module the metrics, names, the rule's rank and
// the snapped recommended rank; the summary; the suggested config. kInvalidArgument for a
// tau outside (0, 1]; module_spectra's errors (kNumerical for NaN/Inf factors) otherwise.
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
