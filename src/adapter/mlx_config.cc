#include "adapter/default_scale.h"
#include "adapter/mlx_config.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "adapter/peft_config.h"
#include "io/json_text.h"

namespace lorank::adapter {
namespace {

using Json = nlohmann::ordered_json;

Status check_keys(const Json& v, const std::filesystem::path& path) {
  if (v.is_null()) return Status();
  if (v.is_array()) {
    for (const Json& k : v) {
      if (!k.is_string()) {
        return corruption("adapter config '{}': lora_parameters.keys must be a list of module "
                          "names, has {}", path.string(), io::describe_json(k));
      }
    }
    return Status();
  }
  return corruption("adapter config '{}': lora_parameters.keys must be a list of module names, "
                    "got {}", path.string(), io::describe_json(v));
}

// fine_tune_type (mlx_lm ≥ 0.19) decides LoRA vs DoRA; older files say use_dora.
Result<bool> read_dora(const Json& j, const std::filesystem::path& path) {
  auto it = j.find("fine_tune_type");
  if (it == j.end() || it->is_null()) return config_flag(j, "use_dora", path);
  if (!it->is_string()) {
    return corruption("adapter config '{}': fine_tune_type must be a string, got {}",
                      path.string(), io::describe_json(*it));
  }
  const std::string& type = it->get_ref<const std::string&>();
  if (type == "lora" || type == "dora") return type == "dora";
  if (type == "full") {
    return not_supported("adapter config '{}': fine_tune_type \"full\" is a full fine-tune, "
                         "not a LoRA adapter", path.string());
  }
  return not_supported("adapter config '{}': fine_tune_type {} is not supported (only lora "
                       "and dora)", path.string(), io::describe_json(*it));
}

Result<Json> parse_object(const std::string& text, const std::filesystem::path& path) {
  bool too_deep = false;
  Json j = io::parse_json_capped<Json>(text, too_deep);
  if (too_deep) return corruption("adapter config '{}': {}", path.string(), io::json_too_deep_message());
  if (j.is_discarded()) return corruption("adapter config '{}': not valid JSON", path.string());
  if (!j.is_object()) return corruption("adapter config '{}': not a JSON object", path.string());
  auto lp = j.find("lora_parameters");
  if (lp == j.end()) {
    return corruption("adapter config '{}': no lora_parameters (mlx_lm reads the rank and scale "
                      "there)", path.string());
  }
  if (!lp->is_object()) {
    return corruption("adapter config '{}': lora_parameters must be an object, got {}",
                      path.string(), io::describe_json(*lp));
  }
  return j;
}

}  // namespace

Result<MlxConfig> parse_mlx_config(const std::string& text, const std::filesystem::path& path) {
  LORANK_ASSIGN_OR_RETURN(Json j, parse_object(text, path));
  MlxConfig c;
  c.raw_json = text;
  LORANK_ASSIGN_OR_RETURN(c.dora, read_dora(j, path));
  const Json& lp = j["lora_parameters"];
  // mlx_lm indexes config["rank"] and config["scale"]: both must be there.
  for (const char* key : {"rank", "scale"}) {
    if (!lp.contains(key)) {
      return corruption("adapter config '{}': lora_parameters has no {} (mlx_lm needs it)",
                        path.string(), key);
    }
  }
  LORANK_ASSIGN_OR_RETURN(c.rank, config_positive_int(lp["rank"], "lora_parameters.rank", path));
  LORANK_ASSIGN_OR_RETURN(c.scale, config_finite_number(lp["scale"], "lora_parameters.scale", path));
  if (auto it = lp.find("alpha"); it != lp.end() && !it->is_null()) {
    LORANK_ASSIGN_OR_RETURN(c.alpha, config_finite_number(*it, "lora_parameters.alpha", path));
  }
  if (auto it = lp.find("dropout"); it != lp.end() && !it->is_null()) {
    LORANK_RETURN_IF_ERROR(config_finite_number(*it, "lora_parameters.dropout", path).status());
  }
  if (auto it = lp.find("keys"); it != lp.end()) LORANK_RETURN_IF_ERROR(check_keys(*it, path));
  return c;
}

Result<MlxConfig> read_mlx_config(const std::filesystem::path& path) {
  LORANK_ASSIGN_OR_RETURN(std::string text, read_config_text(path));
  return parse_mlx_config(text, path);
}

Status apply_mlx_scales(Adapter& a, const AdapterOptions& options) {
  if (!a.mlx) {
    apply_configless_scales(a, options);
    return Status();
  }
  const MlxConfig& c = *a.mlx;
  const LoraModule* largest = nullptr;
  for (const LoraModule& m : a.modules) {
    if (!largest || m.rank > largest->rank) largest = &m;
  }
  // mlx_lm loads factors of any shape (load_weights(strict=False)), so after a resize the
  // modules may differ; lorank writes their largest rank, which a consistent file states.
  if (largest && largest->rank != static_cast<std::size_t>(c.rank)) {
    return corruption("adapter config '{}': lora_parameters.rank is {}, but the largest module "
                      "rank is {} (lora_a '{}' has shape {})", a.config_path->string(), c.rank,
                      largest->rank, largest->A.name, largest->A.shape.to_string());
  }
  for (LoraModule& m : a.modules) {
    m.scale = c.scale;
    m.alpha = c.scale * static_cast<double>(m.rank);  // the α that gives s under α/r
    m.scale_rule = "lora_parameters.scale (mlx_lm; not divided by r)";
  }
  if (c.alpha && *c.alpha != static_cast<double>(c.rank)) {
    a.warnings.push_back(fmt::format(
        "lora_parameters.alpha {} ignored: mlx_lm applies scale {} as is since 0.14.2 (June "
        "2024); older versions applied scale*alpha/rank = {}", *c.alpha, c.scale,
        c.scale * *c.alpha / c.rank));
  }
  if (options.alpha && !a.modules.empty()) {
    a.warnings.push_back(fmt::format("--alpha {} ignored for {} of {} modules: the adapter has its "
                                     "own scale (lora_parameters.scale in adapter_config.json)",
                                     *options.alpha, a.modules.size(), a.modules.size()));
  }
  return Status();
}

Result<std::string> mlx_config_with_rank(const MlxConfig& config, int rank,
                                         const std::filesystem::path& path) {
  LORANK_ASSIGN_OR_RETURN(Json j, parse_object(config.raw_json, path));
  Json& lp = j["lora_parameters"];
  lp["rank"] = rank;
  // mlx_lm before 0.14.2 applied scale·alpha/rank: alpha follows the rank so that those
  // versions keep every module's scale too.
  if (config.alpha) lp["alpha"] = *config.alpha * rank / config.rank;
  return io::dump_json_shallow(j);
}

}  // namespace lorank::adapter
