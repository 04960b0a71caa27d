#include "adapter/default_scale.h"

namespace lorank::adapter {

void apply_configless_scales(Adapter& a, const AdapterOptions& options) {
  for (LoraModule& m : a.modules) {
    m.alpha = options.alpha.value_or(static_cast<double>(m.rank));
    m.scale = m.alpha / static_cast<double>(m.rank);
    m.scale_rule = options.alpha ? "alpha/r (alpha from --alpha; no adapter_config.json)"
                                 : "1 (no adapter_config.json; set --alpha)";
  }
  a.warnings.push_back(options.alpha
                           ? "no adapter_config.json beside the weights: using --alpha"
                           : "no adapter_config.json beside the weights: scale 1 assumed "
                             "(pass --alpha to set it)");
}

}  // namespace lorank::adapter
