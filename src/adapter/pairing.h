// Finding LoRA factor pairs among a file's tensors, by each format's key scheme.
#ifndef LORANK_ADAPTER_PAIRING_H_
#define LORANK_ADAPTER_PAIRING_H_

#include <filesystem>
#include <map>
#include <vector>

#include "lorank/adapter.h"

namespace lorank::adapter {

// The key schemes lorank recognises, in order of preference when a file mixes them.
// kMlx (mlx_lm: lora_a [in, r], lora_b [r, out], DoRA magnitude `.m`) shares GGUF's
// suffixes, so names alone give kGguf: the container tells them apart (open_adapter).
enum class KeyScheme { kPeft, kKohya, kGguf, kMlx, kNone };

// Which scheme the tensor names follow (PEFT lora_A/lora_B, kohya lora_down/lora_up, GGUF
// lora_a/lora_b); kNone if no tensor name has a LoRA suffix. Never kMlx (see above).
KeyScheme detect_key_scheme(const std::vector<TensorView>& tensors);

// Splits `tensors` into LoRA modules (A, B, kind, rank, out, in; alpha/scale not yet set)
// and passthrough tensors, following `scheme`. kohya `.alpha` tensors are read into
// `alphas` (module name → α as stored) instead of passthrough. kCorruption names the
// tensor for an unpaired factor, a rank disagreement or an impossible shape; kNotSupported
// for factors whose dtype cannot be converted to double. kMlx modules get `transposed` and
// their rank/out/in from the transposed shapes.
struct Pairing {
  std::vector<LoraModule> modules;
  std::vector<TensorView> passthrough;
  std::vector<std::pair<std::string, double>> kohya_alphas;
  std::map<std::string, TensorView> kohya_alpha_tensors;  // module name → its .alpha tensor
};
Result<Pairing> pair_factors(const std::vector<TensorView>& tensors, KeyScheme scheme,
                             const std::filesystem::path& file);

}  // namespace lorank::adapter

#endif  // LORANK_ADAPTER_PAIRING_H_
