#include "adapter/widen_factor.h"

#include <algorithm>
#include <cmath>

namespace lorank {

Status widen_finite(const TensorView& t, const Adapter& a, std::vector<double>& out) {
  out.resize(static_cast<std::size_t>(t.numel()));
  LORANK_RETURN_IF_ERROR(to_double(t, out).with_context(
      fmt::format("adapter file '{}': tensor '{}'", a.weights_path.string(), t.name)));
  const auto bad = std::find_if(out.begin(), out.end(), [](double v) { return !std::isfinite(v); });
  if (bad != out.end()) {
    return numerical_error("adapter file '{}': tensor '{}' holds {} at element {}; refusing to "
                           "analyse non-finite weights", a.weights_path.string(), t.name,
                           *bad, bad - out.begin());
  }
  return Status();
}

Status name_nonfinite(const Adapter& adapter, const LoraModule& m, Status status) {
  if (status.code() != StatusCode::kNumerical) return status;
  std::vector<double> values;
  for (const TensorView* t : {&m.A, &m.B}) {
    if (Status named = widen_finite(*t, adapter, values); !named.ok()) return named;
  }
  return status;
}

}  // namespace lorank
