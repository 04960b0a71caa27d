// The suggested PEFT LoraConfig: per-module ranks with every module's scale preserved.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "lorank/audit.h"
#include "lorank/module_names.h"
#include "io/json_text.h"

namespace lorank {
namespace {

using Json = nlohmann::ordered_json;

// α that gives `scale` at rank k under PEFT's rule (α/k, or α/√k under rsLoRA).
double alpha_for(double scale, int k, bool rslora) {
  return rslora ? scale * std::sqrt(static_cast<double>(k)) : scale * k;
}

// PEFT would compute α/k (α/√k); equal to `scale` to rounding.
bool same_scale(double alpha, int k, bool rslora, double scale) {
  const double s = rslora ? alpha / std::sqrt(static_cast<double>(k)) : alpha / k;
  return std::abs(s - scale) <= 1e-12 * std::max(std::abs(s), std::abs(scale));
}

// The most common value of `values` (ties: the largest), or `fallback` for none.
template <typename T>
T mode_of(const std::vector<T>& values, T fallback) {
  std::map<T, std::size_t> counts;
  for (const T& v : values) ++counts[v];
  T best = fallback;
  std::size_t best_count = 0;
  for (const auto& [v, c] : counts) {
    if (c >= best_count) {
      best = v;
      best_count = c;
    }
  }
  return best;
}

// The adapter's own config as a JSON object, or a fresh LoRA config.
Json base_config(const Adapter& adapter, std::vector<std::string>& notes) {
  if (adapter.peft && !adapter.peft->raw_json.empty()) {
    bool too_deep = false;
    Json j = io::parse_json_capped<Json>(adapter.peft->raw_json, too_deep);
    if (j.is_object()) return j;
    notes.push_back(too_deep ? "adapter_config.json is " + io::json_too_deep_message() +
                                   "; suggested config built afresh"
                             : "adapter_config.json is not a JSON object; suggested config built afresh");
  }
  Json j;
  j["peft_type"] = "LORA";
  j["task_type"] = nullptr;
  // PEFT list semantics: an entry matches a module named exactly so or ending in ".entry".
  std::set<std::string> targets;
  if (adapter.format == AdapterFormat::kPeft) {
    for (const LoraModule& m : adapter.modules) {
      const std::string rel = base_relative_name(m.name);
      targets.insert(rel.substr(rel.rfind('.') == std::string::npos ? 0 : rel.rfind('.') + 1));
    }
  } else {
    for (const LoraModule& m : adapter.modules) targets.insert(m.name);
    notes.push_back(fmt::format(
        "module names are {} names, not PEFT module paths: map target_modules, rank_pattern "
        "and alpha_pattern keys to the base model's module names before use",
        format_name(adapter.format)));
  }
  j["target_modules"] = std::vector<std::string>(targets.begin(), targets.end());
  j["lora_dropout"] = 0.0;
  j["bias"] = "none";
  j["fan_in_fan_out"] = false;
  j["use_rslora"] = false;
  j["use_dora"] = std::any_of(adapter.modules.begin(), adapter.modules.end(),
                              [](const LoraModule& m) { return m.magnitude.has_value(); });
  j["modules_to_save"] = nullptr;
  return j;
}

}  // namespace

std::string regex_escape(std::string_view text) {
  // ECMAScript's and Python's metacharacters; '-' and '/' are left alone because an escaped
  // '-' outside a bracket is an error for some engines.
  static constexpr std::string_view kSpecial = R"(\^$.|?*+()[]{})";
  std::string out;
  for (char c : text) {
    if (kSpecial.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string suggested_config(const Adapter& adapter, const std::vector<AuditModule>& modules,
                             std::vector<std::string>& notes) {
  Json config = base_config(adapter, notes);
  const bool rslora = adapter.peft && adapter.peft->use_rslora;
  if (config.contains("peft_type") && config["peft_type"] != "LORA") {
    notes.push_back("the adapter's peft_type is not LORA; the suggestion is a LoRA config");
    config["peft_type"] = "LORA";
  }

  std::vector<int> trained_ranks;
  for (const AuditModule& m : modules) {
    if (!m.metrics.untrained) trained_ranks.push_back(m.config_rank);
  }
  const int fallback_r = adapter.peft ? adapter.peft->r : 8;
  const int r = mode_of(trained_ranks, trained_ranks.empty() ? fallback_r : 0);
  // The scale the global α preserves: the most common one among the modules at rank r.
  std::vector<double> scales_at_r;
  for (const AuditModule& m : modules) {
    if (m.config_rank == r && !m.metrics.untrained) scales_at_r.push_back(m.scale);
  }
  if (scales_at_r.empty()) {
    for (const AuditModule& m : modules) scales_at_r.push_back(m.scale);
  }
  const double global_scale = scales_at_r.empty() ? 1.0 : mode_of(scales_at_r, 1.0);
  const double global_alpha = alpha_for(global_scale, r, rslora);

  Json rank_pattern = Json::object(), alpha_pattern = Json::object();
  std::size_t untrained = 0;
  for (const AuditModule& m : modules) {
    untrained += m.metrics.untrained ? 1 : 0;
    const int k = m.config_rank;
    if (k <= 0) continue;  // an empty module (a zero dimension): nothing to configure
    // Built by appending: GCC 12's -Wrestrict misfires on "^" + std::string (PR 105329).
    std::string key = "^";
    key += regex_escape(base_relative_name(m.name));
    if (k != r) rank_pattern[key] = k;
    if (!same_scale(global_alpha, k, rslora, m.scale)) {
      alpha_pattern[key] = alpha_for(m.scale, k, rslora);
    }
  }
  if (untrained > 0) {
    notes.push_back(fmt::format(
        "{} untrained module(s) (all-zero update) kept at rank 1 in the suggested config; "
        "drop them from target_modules (or add exclude_modules) if they are meant to stay "
        "unadapted",
        untrained));
  }
  if (adapter.peft && adapter.peft->use_dora) {
    notes.push_back(
        "DoRA adapter: ranks judge the directional update s*B*A only; the "
        "magnitude vector is not part of the spectrum");
  }

  config["r"] = r;
  config["lora_alpha"] = global_alpha;
  config["use_rslora"] = rslora;
  config["rank_pattern"] = std::move(rank_pattern);
  config["alpha_pattern"] = std::move(alpha_pattern);
  if (config.contains("inference_mode")) config["inference_mode"] = false;
  // Unknown fields are carried over as parsed (at most io::kMaxJsonDepth deep), pretty
  // only in the outer two levels: their output stays proportional to their input.
  return io::dump_json_shallow(config);
}

}  // namespace lorank
