// mlx_lm's adapter_config.json: parsing the fields that decide the scale, giving every
// module of an mlx adapter its scale, and writing the config back with a new rank.
// mlx_lm (mlx_lm/tuner/utils.py, load_adapters) builds each LoRALinear from
// lora_parameters {rank, scale, dropout, keys} and applies y += scale·(x·lora_a)·lora_b:
// the scale is used as is, never divided by the rank (docs/formats.md, "mlx_lm").
#ifndef LORANK_ADAPTER_MLX_CONFIG_H_
#define LORANK_ADAPTER_MLX_CONFIG_H_

#include <filesystem>
#include <string>

#include "lorank/adapter.h"

namespace lorank::adapter {

// Parses `text` (the content of `path`, named in messages). kCorruption, one line naming
// the field: not JSON / not an object / nested too deep, no lora_parameters object,
// lora_parameters.rank not a positive integer, scale missing or not a finite number, alpha
// or dropout not a finite number, keys not a list of strings, fine_tune_type not a string,
// use_dora not a bool. kNotSupported: fine_tune_type "full" (a full fine-tune, not an
// adapter) or anything but "lora"/"dora". Every other field (model, data, iters ...) is
// ignored and kept in raw_json.
Result<MlxConfig> parse_mlx_config(const std::string& text, const std::filesystem::path& path);

// Reads (read_config_text) and parses the file.
Result<MlxConfig> read_mlx_config(const std::filesystem::path& path);

// Gives every module of `a` (pairs already found, a.mlx read if a config exists) the scale
// mlx_lm applies: lora_parameters.scale (α reported as scale·r), or without a config the
// fallback of every format (α = --alpha or r, scale α/r) with a warning. kCorruption if
// lora_parameters.rank is not the largest module rank (the tensors' rank for an adapter
// whose modules share one, which is every adapter mlx_lm trains).
Status apply_mlx_scales(Adapter& a, const AdapterOptions& options);

// `config`'s text with lora_parameters.rank set to `rank` (and an alpha scaled by
// rank/config.rank, which keeps scale·alpha/rank, the scale of mlx_lm before 0.14.2);
// every other field kept, in order.
// kCorruption if `config` is not an object with a lora_parameters object.
Result<std::string> mlx_config_with_rank(const MlxConfig& config, int rank,
                                         const std::filesystem::path& path);

}  // namespace lorank::adapter

#endif  // LORANK_ADAPTER_MLX_CONFIG_H_
