// Fuzzes adapter_config.json parsing and PEFT's pattern matching.
#include <string>

#include "adapter/peft_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  lorank::Result<lorank::PeftConfig> c = lorank::adapter::parse_peft_config(text, "fuzz.json");
  if (!c) return 0;
  (void)lorank::match_peft_pattern(c->alpha_pattern, "model.layers.0.self_attn.q_proj");
  return 0;
}
