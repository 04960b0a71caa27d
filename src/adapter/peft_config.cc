#include "adapter/peft_config.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "io/file.h"
#include "io/json_text.h"

namespace lorank::adapter {
namespace {

// ordered_json keeps rank_pattern/alpha_pattern in file order: PEFT takes the first match.
using Json = nlohmann::ordered_json;

Status check_pattern_key(const std::string& key, const std::filesystem::path& path) {
  if (key.size() > kMaxPatternKeyChars) {
    return corruption("adapter config '{}': a pattern key of {} characters exceeds the limit of {}",
                      path.string(), key.size(), kMaxPatternKeyChars);
  }
  if (!peft_key_regex(key)) {
    return corruption("adapter config '{}': pattern key '{}' is not a valid regular expression",
                      path.string(), key);
  }
  return Status();
}

}  // namespace

Result<int> config_positive_int(const Json& v, std::string_view what, const std::filesystem::path& path) {
  if (v.is_number_integer() && v.get<std::int64_t>() > 0 &&
      v.get<std::int64_t>() <= std::numeric_limits<int>::max()) {
    return static_cast<int>(v.get<std::int64_t>());
  }
  // PEFT configs written by some tools store ranks as 8.0; accept whole floats.
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d > 0 && d <= std::numeric_limits<int>::max() && std::floor(d) == d) return static_cast<int>(d);
  }
  return corruption("adapter config '{}': {} must be a positive integer, got {}", path.string(),
                    what, io::describe_json(v));
}

Result<double> config_finite_number(const Json& v, std::string_view what, const std::filesystem::path& path) {
  if (v.is_number() && std::isfinite(v.get<double>())) return v.get<double>();
  return corruption("adapter config '{}': {} must be a finite number, got {}", path.string(), what,
                    io::describe_json(v));
}

Result<bool> config_flag(const Json& obj, const char* key, const std::filesystem::path& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return corruption("adapter config '{}': {} must be true or false, got {}", path.string(), key,
                      io::describe_json(*it));
  }
  return it->get<bool>();
}

std::optional<std::regex> peft_key_regex(const std::string& key) {
  if (key.size() > kMaxPatternKeyChars) return std::nullopt;
  try {
    // PEFT: re.match(rf"(.*\.)?({key})$", name). libstdc++'s __polynomial selects its
    // breadth-first executor: no backtracking, so no key can take exponential time or
    // recurse once per character of a (file-controlled) module name.
    return std::regex("(.*\\.)?(" + key + ")$",
                      std::regex::ECMAScript | std::regex_constants::__polynomial);
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

Result<PeftConfig> parse_peft_config(const std::string& text, const std::filesystem::path& path) {
  bool too_deep = false;
  const Json j = io::parse_json_capped<Json>(text, too_deep);
  if (too_deep) {
    return corruption("adapter config '{}': {}", path.string(), io::json_too_deep_message());
  }
  if (j.is_discarded()) return corruption("adapter config '{}': not valid JSON", path.string());
  if (!j.is_object()) return corruption("adapter config '{}': not a JSON object", path.string());
  PeftConfig c;
  c.raw_json = text;
  if (auto it = j.find("peft_type"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>() != "LORA") {
      return not_supported("adapter config '{}': peft_type {} is not supported (only LORA)",
                           path.string(), io::describe_json(*it));
    }
  }
  if (auto it = j.find("r"); it != j.end()) {
    LORANK_ASSIGN_OR_RETURN(c.r, config_positive_int(*it, "r", path));
  }
  if (auto it = j.find("lora_alpha"); it != j.end()) {
    LORANK_ASSIGN_OR_RETURN(c.lora_alpha, config_finite_number(*it, "lora_alpha", path));
  }
  LORANK_ASSIGN_OR_RETURN(c.use_rslora, config_flag(j, "use_rslora", path));
  LORANK_ASSIGN_OR_RETURN(c.use_dora, config_flag(j, "use_dora", path));
  LORANK_ASSIGN_OR_RETURN(c.fan_in_fan_out, config_flag(j, "fan_in_fan_out", path));
  for (const char* key : {"rank_pattern", "alpha_pattern"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_object()) {
      return corruption("adapter config '{}': {} must be an object, got {}", path.string(), key,
                        io::describe_json(*it));
    }
    const bool ranks = std::string_view(key) == "rank_pattern";
    for (const auto& [k, v] : it->items()) {
      LORANK_RETURN_IF_ERROR(check_pattern_key(k, path));
      const std::string what = fmt::format("{}['{}']", key, k);
      if (ranks) {
        LORANK_ASSIGN_OR_RETURN(int r, config_positive_int(v, what, path));
        c.rank_pattern.emplace_back(k, r);
      } else {
        LORANK_ASSIGN_OR_RETURN(double a, config_finite_number(v, what, path));
        c.alpha_pattern.emplace_back(k, a);
      }
    }
  }
  return c;
}

Result<std::string> read_config_text(const std::filesystem::path& path) {
  return io::read_small_text_file(path, kMaxConfigBytes, "adapter config");
}

Result<PeftConfig> read_peft_config(const std::filesystem::path& path) {
  LORANK_ASSIGN_OR_RETURN(std::string text, read_config_text(path));
  return parse_peft_config(text, path);
}

}  // namespace lorank::adapter

namespace lorank {

Result<std::optional<double>> match_peft_pattern(
    const std::vector<std::pair<std::string, double>>& pattern, const std::string& module_path) {
  for (const auto& [key, value] : pattern) {
    // Anchored at the start (regex_match), `$` at the end, as PEFT's re.match.
    const std::optional<std::regex> re = adapter::peft_key_regex(key);
    if (!re) return invalid_data("pattern key '{}' is not a valid regular expression", key);
    if (std::regex_match(module_path, *re)) return std::optional<double>(value);
  }
  return std::optional<double>();
}

}  // namespace lorank
