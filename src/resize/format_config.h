// The format-level parts of a resized adapter: PEFT's adapter_config.json and kohya's
// ss_network_* metadata. Internal to src/resize.
#ifndef LORANK_RESIZE_FORMAT_CONFIG_H_
#define LORANK_RESIZE_FORMAT_CONFIG_H_

#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/resize.h"

namespace lorank::resize_internal {

// `resized` (whose modules already carry their new ranks) gets a PeftConfig whose raw_json
// is `original`'s config with r, lora_alpha, rank_pattern and alpha_pattern rewritten so
// that PEFT gives every module `report[i].new_scale` (suggested_config's construction);
// inference_mode keeps its original value.
Status rewrite_peft_config(const Adapter& original, const std::vector<ResizeModule>& report,
                           Adapter& resized, std::vector<std::string>& notes);

// mlx_lm: `resized` gets `original`'s config with lora_parameters.rank = the largest new
// rank (mlx_lm loads factors of any shape; its scale does not depend on the rank, so every
// module keeps its scale), lora_parameters.alpha (if any) scaled alike, every other field
// kept. No config in, none out (a note says so).
Status rewrite_mlx_config(const Adapter& original, const std::vector<ResizeModule>& report,
                          Adapter& resized, std::vector<std::string>& notes);

// ss_network_dim / ss_network_alpha: the common value, or "Dynamic" when modules differ.
void rewrite_kohya_metadata(const std::vector<ResizeModule>& report, const Adapter& resized,
                            std::map<std::string, std::string>& metadata);

}  // namespace lorank::resize_internal

#endif  // LORANK_RESIZE_FORMAT_CONFIG_H_
