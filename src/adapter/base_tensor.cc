// Adapter module → base tensor: names, orientation and shape checks.
#include "adapter/base_tensor.h"

namespace lorank {
namespace {

constexpr std::string_view kPeftPrefix = "base_model.model.";

std::string_view strip_prefix(std::string_view name) {
  return name.starts_with(kPeftPrefix) ? name.substr(kPeftPrefix.size()) : name;
}

}  // namespace

// A base saved without the task head's wrapper lacks the leading `model.`, so that
// spelling is tried too.
std::vector<std::string> base_tensor_names(const Adapter& adapter, const LoraModule& module) {
  if (adapter.format == AdapterFormat::kGguf) return {module.name};
  const std::string path(strip_prefix(module.name));
  std::vector<std::string> names = {path + ".weight"};
  if (const auto dot = path.find('.'); dot != std::string::npos) {
    names.push_back(path.substr(dot + 1) + ".weight");
  }
  return names;
}

// PEFT saves `base_model.model.<module>.<param>`; a wrapped module keeps `.base_layer`.
std::string replaced_base_name(std::string_view adapter_tensor_name) {
  std::string_view rest = strip_prefix(adapter_tensor_name);
  std::string name;  // built forward (string::replace trips a GCC 12 -Wrestrict false alarm)
  while (!rest.empty()) {
    std::size_t at = std::string_view::npos, length = 0;
    for (std::string_view wrapper : {".base_layer.", ".modules_to_save.default."}) {
      const std::size_t found = rest.find(wrapper);
      if (found < at) at = found, length = wrapper.size();
    }
    if (at == std::string_view::npos) {
      name += rest;
      break;
    }
    name += rest.substr(0, at);
    name += '.';
    rest.remove_prefix(at + length);
  }
  return name;
}

Result<BaseTensorMatch> find_base_tensor(const Checkpoint& base, const Adapter& adapter,
                                         const LoraModule& module) {
  BaseTensorMatch match;
  const std::vector<std::string> names = base_tensor_names(adapter, module);
  for (const std::string& n : names) {
    if ((match.tensor = base.find(n)) != nullptr) break;
  }
  if (match.tensor == nullptr) {
    return invalid_data("module '{}' of '{}': the base has no tensor '{}'", module.name,
                        adapter.weights_path.string(), names.front());
  }
  const bool fan_in_fan_out = adapter.peft && adapter.peft->fan_in_fan_out;
  match.transposed = module.kind == ModuleKind::kEmbedding ||
                     (fan_in_fan_out && module.kind == ModuleKind::kLinear);
  match.rows = match.transposed ? module.in : module.out;
  match.cols = match.transposed ? module.out : module.in;
  const CheckpointTensor& w = *match.tensor;
  const auto& d = w.shape.dims;
  const bool fits =
      module.kind == ModuleKind::kConv
          ? d.size() >= 2 && static_cast<std::size_t>(d[0]) == match.rows &&
                static_cast<uint64_t>(w.shape.numel()) == uint64_t{match.rows} * match.cols
          : d.size() == 2 && static_cast<std::size_t>(d[0]) == match.rows &&
                static_cast<std::size_t>(d[1]) == match.cols;
  if (!fits) {
    return invalid_data("module '{}': base tensor '{}' has shape {}, the adapter's update is [{}, {}]",
                        module.name, w.name, w.shape.to_string(), match.rows, match.cols);
  }
  if (!w.has_values()) {
    return not_supported("module '{}': base tensor '{}' of type {} has no values lorank can read",
                         module.name, w.name, w.type_name);
  }
  return match;
}

}  // namespace lorank
