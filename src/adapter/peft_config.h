// Parsing PEFT's adapter_config.json into the fields that decide ranks and scales.
#ifndef LORANK_ADAPTER_PEFT_CONFIG_H_
#define LORANK_ADAPTER_PEFT_CONFIG_H_

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include "lorank/adapter.h"

namespace lorank::adapter {

// adapter_config.json files larger than this are refused (kCorruption) before reading.
inline constexpr std::uintmax_t kMaxConfigBytes = 16u << 20;
// Longest rank_pattern / alpha_pattern key (real keys are module paths, < 200 characters).
// libstdc++ compiles a regex by recursing once per term, so an unbounded key is a stack
// overflow (found by fuzz_peft_config).
inline constexpr std::size_t kMaxPatternKeyChars = 1024;

// The regex PEFT matches a pattern key with, re.match(rf"(.*\.)?({key})$", name), compiled
// for polynomial-time matching; nullopt for an invalid or over-long key.
std::optional<std::regex> peft_key_regex(const std::string& key);

// Parses `text` (the content of `path`, named in messages). Missing keys take PEFT's
// defaults. kCorruption: not JSON / not an object, r or a rank_pattern value not a positive
// integer, lora_alpha or an alpha_pattern value not a finite number, a flag not a bool.
// kNotSupported: a peft_type other than LORA (AdaLoRA's rank_pattern is a mask, not a rank).
Result<PeftConfig> parse_peft_config(const std::string& text, const std::filesystem::path& path);

// Reads and parses the file. kNotFound if it does not exist, kIOError if unreadable.
Result<PeftConfig> read_peft_config(const std::filesystem::path& path);

// The text of an adapter_config.json (PEFT's or mlx_lm's): never blocks on a FIFO, refuses
// more than kMaxConfigBytes (kCorruption). kNotFound if it does not exist, kIOError if
// unreadable. Messages start "adapter config '<path>'".
Result<std::string> read_config_text(const std::filesystem::path& path);

// Config value checks shared by the PEFT and mlx_lm parsers; kCorruption
// "adapter config '<path>': <what> must be ..., got <description>". A positive integer may
// be spelled as a whole float (8.0), as some tools write it.
Result<int> config_positive_int(const nlohmann::ordered_json& v, std::string_view what,
                                const std::filesystem::path& path);
Result<double> config_finite_number(const nlohmann::ordered_json& v, std::string_view what,
                                    const std::filesystem::path& path);
// obj[key] as a bool; false when absent or null.
Result<bool> config_flag(const nlohmann::ordered_json& obj, const char* key,
                         const std::filesystem::path& path);

}  // namespace lorank::adapter

#endif  // LORANK_ADAPTER_PEFT_CONFIG_H_
