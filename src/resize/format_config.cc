#include "resize/format_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "adapter/mlx_config.h"
#include "adapter/peft_config.h"
#include "lorank/audit.h"
#include "io/json_text.h"

namespace lorank::resize_internal {
namespace {

using Json = nlohmann::ordered_json;

// Python's str(float) for the values kohya writes ("8.0", "0.5").
std::string python_float(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e16) return fmt::format("{:.1f}", v);
  return fmt::format("{}", v);
}

}  // namespace

Status rewrite_peft_config(const Adapter& original, const std::vector<ResizeModule>& report,
                           Adapter& resized, std::vector<std::string>& notes) {
  // suggested_config already solves "one r and α plus patterns that give each module its
  // scale under PEFT's matching"; fed the new ranks it is exactly the resized config.
  std::vector<AuditModule> modules(report.size());
  for (std::size_t i = 0; i < report.size(); ++i) {
    modules[i].name = report[i].name;
    modules[i].scale = report[i].new_scale;
    modules[i].config_rank = static_cast<int>(report[i].new_rank);
    modules[i].recommended_rank = modules[i].config_rank;
    modules[i].metrics.untrained = report[i].zero;
  }
  std::vector<std::string> config_notes;
  bool too_deep = false;
  Json config = io::parse_json_capped<Json>(suggested_config(original, modules, config_notes), too_deep);
  if (!config.is_object()) return internal_error("suggested_config produced invalid JSON");
  // suggested_config is advice for training; a resized adapter is used as it was.
  if (original.peft && !original.peft->raw_json.empty()) {
    const Json before = io::parse_json_capped<Json>(original.peft->raw_json, too_deep);
    if (before.is_object() && before.contains("inference_mode")) {
      config["inference_mode"] = before["inference_mode"];
    }
  } else {
    notes.push_back("the input had no adapter_config.json: a fresh one was written");
  }
  for (std::string& n : config_notes) {
    if (n.find("untrained") == std::string::npos) notes.push_back(std::move(n));
  }
  const std::string text = io::dump_json_shallow(config);
  const std::filesystem::path path = original.config_path.value_or("adapter_config.json");
  LORANK_ASSIGN_OR_RETURN(PeftConfig parsed, adapter::parse_peft_config(text, path));
  parsed.raw_json = text;
  resized.peft = std::move(parsed);
  return Status();
}

Status rewrite_mlx_config(const Adapter& original, const std::vector<ResizeModule>& report,
                          Adapter& resized, std::vector<std::string>& notes) {
  if (!original.mlx) {
    notes.push_back("the input had no adapter_config.json: none written (mlx_lm needs one; its "
                    "lora_parameters.scale must then be 1)");
    return Status();
  }
  std::size_t rank = 0;
  for (const ResizeModule& m : report) rank = std::max(rank, m.new_rank);
  const std::filesystem::path path = original.config_path.value_or("adapter_config.json");
  LORANK_ASSIGN_OR_RETURN(std::string text,
                          adapter::mlx_config_with_rank(*original.mlx, static_cast<int>(rank), path));
  LORANK_ASSIGN_OR_RETURN(MlxConfig parsed, adapter::parse_mlx_config(text, path));
  resized.mlx = std::move(parsed);
  return Status();
}

void rewrite_kohya_metadata(const std::vector<ResizeModule>& report, const Adapter& resized,
                            std::map<std::string, std::string>& metadata) {
  std::set<std::size_t> ranks;
  std::set<double> alphas;
  for (const ResizeModule& m : report) ranks.insert(m.new_rank);
  for (const LoraModule& m : resized.modules) alphas.insert(m.alpha);
  metadata["ss_network_dim"] = ranks.size() == 1 ? fmt::format("{}", *ranks.begin()) : "Dynamic";
  metadata["ss_network_alpha"] = alphas.size() == 1 ? python_float(*alphas.begin()) : "Dynamic";
}

}  // namespace lorank::resize_internal
