// The audit of a whole adapter: every module's exact spectrum, its rank metrics, a
// recommended rank under one rule, and advice for the next training run.
#ifndef LORANK_AUDIT_H_
#define LORANK_AUDIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/rank.h"
#include "lorank/status.h"

namespace lorank {

struct AuditModule {
  std::string name;         // as in the file (PEFT key prefix, kohya name, GGUF base tensor)
  std::string short_name;   // for tables: common prefixes such as "base_model.model." dropped
  std::string module_type;  // the name without its layer prefix, e.g. "self_attn.q_proj"
  int layer = -1;           // the layer index in the name (blocks/layers/h/blk N), -1 if none
  ModuleKind kind = ModuleKind::kLinear;
  std::size_t rank = 0, out = 0, in = 0;
  double alpha = 0.0, scale = 1.0;
  std::string scale_rule;
  std::string dtype;        // of the factors, e.g. "BF16"
  bool dora = false;
  std::vector<double> singular_values;  // of scale·B·A, min(rank, out, in) values, descending
  SpectrumMetrics metrics;
  int recommended_rank = 0;  // under AuditReport::rule (0 for an untrained module)
};

struct AuditSummary {
  std::size_t modules = 0;
  std::size_t untrained = 0;
  std::uint64_t lora_params = 0;              // Σ r·(out + in) now
  std::uint64_t recommended_params = 0;       // Σ k·(out + in) at the recommended ranks
  std::uint64_t passthrough_params = 0;       // non-LoRA tensors (kept as they are)
  std::uint64_t file_bytes = 0;               // the weights file now
  std::uint64_t recommended_bytes = 0;        // estimated at the recommended ranks, same dtype
};

struct AuditReport {
  std::string path;        // the weights file
  std::string format;      // "peft", "kohya", "gguf"
  std::string container;   // "safetensors", "pytorch", "gguf"
  std::vector<std::string> warnings;
  std::string rule;        // the rank rule used, e.g. "threshold:0.01"
  std::string snap;        // "none", "vllm", "pow2"
  std::vector<AuditModule> modules;    // file order
  AuditSummary summary;
  // A PEFT LoraConfig for the next training run, as pretty JSON ready to paste: r (the most
  // common recommended rank), lora_alpha and alpha_pattern keeping every module's current
  // scale, rank_pattern for the others, with ^-anchored full module names.
  std::string suggested_config;
};

}  // namespace lorank

#endif  // LORANK_AUDIT_H_
