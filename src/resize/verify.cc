// Checking a written resize against the spectra it promised.
#include <cmath>

#include "lorank/resize.h"
#include "lorank/spectra.h"

namespace lorank {
namespace {

// Unit roundoff of each stored dtype: half the distance from 1 to the next value.
double unit_roundoff(DType dtype) {
  switch (dtype) {
    case DType::kBF16: return 0x1p-8;
    case DType::kF16: return 0x1p-11;
    case DType::kF32: return 0x1p-24;
    default: return 0x1p-53;
  }
}

}  // namespace

Status verify_resized(const std::filesystem::path& out, const ResizeResult& result,
                      const AdapterOptions& options) {
  LORANK_ASSIGN_OR_RETURN(Adapter written, open_adapter(out, options));
  if (written.modules.size() != result.modules.size()) {
    return io_error("verify '{}': {} modules written, {} expected", out.string(),
                          written.modules.size(), result.modules.size());
  }
  LORANK_ASSIGN_OR_RETURN(std::vector<std::vector<double>> spectra, module_spectra(written));
  for (std::size_t i = 0; i < result.modules.size(); ++i) {
    const ResizeModule& m = result.modules[i];
    const std::vector<double>& want = m.singular_values;
    const std::vector<double>& got = spectra[i];
    if (m.zero) continue;  // a zero module of rank 1 has nothing to compare
    const double s1 = want.empty() ? 0.0 : want[0];
    // A and B may be stored in different dtypes: the coarser one bounds the rounding.
    const LoraModule& w_m = written.modules[i];
    const double u = std::max(unit_roundoff(w_m.A.dtype), unit_roundoff(w_m.B.dtype));
    const double tol = std::max(8.0 * u, 1e-12) * s1;
    for (std::size_t k = 0; k < m.new_rank; ++k) {
      const double w = k < want.size() ? want[k] : 0.0;
      const double g = k < got.size() ? got[k] : 0.0;
      if (!(std::abs(w - g) <= tol)) {
        return io_error("verify '{}': module '{}' sigma_{} is {} after writing, {} expected "
                              "(tolerance {})", out.string(), m.name, k + 1, g, w, tol);
      }
    }
  }
  return Status();
}

}  // namespace lorank
