// σ(s·B·A) through the R factors of B and Aᵀ; see include/lorank/spectrum.h.
#include "lorank/spectrum.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "lorank/parallel.h"
#include "linalg/lapack.h"
#include "linalg/r_factor.h"
#include "core/lapack_size.h"

namespace lorank {
namespace {

using linalg::Layout;


// a·b without wrap-around; nullopt on overflow.
std::optional<std::size_t> checked_product(std::size_t a, std::size_t b) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return std::nullopt;
  return a * b;
}

Status validate(std::size_t b_size, std::size_t a_size, const LoraShape& s) {
  const std::optional<std::size_t> nb = checked_product(s.out, s.r);
  const std::optional<std::size_t> na = checked_product(s.r, s.in);
  if (!nb || !na) return invalid_data("LoRA shape {}x{}·{}x{} overflows", s.out, s.r, s.r, s.in);
  if (b_size != *nb) {
    return invalid_data("B has {} elements, expected out·r = {}·{} = {}", b_size, s.out, s.r, *nb);
  }
  if (a_size != *na) {
    return invalid_data("A has {} elements, expected r·in = {}·{} = {}", a_size, s.r, s.in, *na);
  }
  if (!linalg::fits_lapack_int(s.out) || !linalg::fits_lapack_int(s.in) ||
      !linalg::fits_lapack_int(s.r)) {
    return not_supported("LoRA shape {}x{}·{}x{} exceeds LAPACK's 32-bit dimensions", s.out,
                            s.r, s.r, s.in);
  }
  return Status();
}

}  // namespace

struct SpectrumWorkspace::Impl {
  SpectrumMethod method;
  linalg::RFactorBuffers factor;
  std::vector<double> rb, ra, core, sv, work;
  std::vector<int> iwork;
  std::size_t fallbacks = 0;

  Status compute(const linalg::FactorSource& b, const linalg::FactorSource& a, LoraShape shape,
                 double scale, std::vector<double>& values);
};

namespace {

// Describes B (out×r row-major) and A (r×in row-major, i.e. Aᵀ column-major) for r_factor;
// `transposed` bytes (Bᵀ r×out, Aᵀ in×r, row-major) are the same matrices in the other layout.
linalg::FactorSource b_source(const std::byte* data, DType dtype, const LoraShape& s,
                              bool transposed = false) {
  return {data, dtype, s.out, s.r, transposed ? Layout::kColMajor : Layout::kRowMajor, "B"};
}
linalg::FactorSource a_source(const std::byte* data, DType dtype, const LoraShape& s,
                              bool transposed = false) {
  return {data, dtype, s.in, s.r, transposed ? Layout::kRowMajor : Layout::kColMajor, "A"};
}
template <typename T>
const std::byte* bytes_of(std::span<const T> v) {
  return reinterpret_cast<const std::byte*>(v.data());
}

}  // namespace

Status SpectrumWorkspace::Impl::compute(const linalg::FactorSource& b,
                                        const linalg::FactorSource& a, LoraShape shape,
                                        double scale, std::vector<double>& values) {
  if (!std::isfinite(scale)) return numerical_error("the LoRA scale is {}", scale);
  if (std::min({shape.out, shape.r, shape.in}) == 0) {
    values.clear();
    return Status();
  }
  const int out = static_cast<int>(shape.out);
  const int r = static_cast<int>(shape.r);
  const int in = static_cast<int>(shape.in);
  // B = Q_B·R_B with R_B kb×r, Aᵀ = Q_A·R_A with R_A ka×r (kb, ka < r when a factor is
  // wide). The core R_B·R_Aᵀ is kb×ka and has min(out, in, r) singular values.
  const int kb = std::min(out, r);
  const int ka = std::min(in, r);
  if (rb.size() < sz(kb) * sz(r)) rb.resize(sz(kb) * sz(r));
  if (ra.size() < sz(ka) * sz(r)) ra.resize(sz(ka) * sz(r));
  bool fell_back = false;
  LORANK_RETURN_IF_ERROR(linalg::r_factor(b, method, factor, rb.data(), &fell_back));
  fallbacks += fell_back ? 1 : 0;
  LORANK_RETURN_IF_ERROR(linalg::r_factor(a, method, factor, ra.data(), &fell_back));
  fallbacks += fell_back ? 1 : 0;

  // core(i, j) = Σ_l R_B(i, l)·R_A(j, l); both are upper trapezoidal, so l ≥ max(i, j).
  // Column-major, ld kb; the i loop is contiguous. O(r³/3), negligible next to the QRs.
  core.assign(sz(kb) * sz(ka), 0.0);
  for (int l = 0; l < r; ++l) {
    const double* rb_col = rb.data() + sz(l) * sz(kb);
    const double* ra_col = ra.data() + sz(l) * sz(ka);
    const int i_end = std::min(l + 1, kb);
    for (int j = 0; j < std::min(l + 1, ka); ++j) {
      const double coef = ra_col[j];
      double* core_col = core.data() + sz(j) * sz(kb);
      for (int i = 0; i < i_end; ++i) core_col[i] += rb_col[i] * coef;
    }
  }
  const int k = std::min(kb, ka);
  if (sv.size() < sz(k)) sv.resize(sz(k));
  LORANK_RETURN_IF_ERROR(
      linalg::gesdd_values(kb, ka, core.data(), kb, sv.data(), work, iwork));
  // Scaling the k values, not B: one rounding each, and |s| because σ ≥ 0.
  const double abs_scale = std::fabs(scale);
  values.resize(sz(k));
  for (int i = 0; i < k; ++i) values[sz(i)] = sv[sz(i)] * abs_scale;
  return Status();
}

SpectrumWorkspace::SpectrumWorkspace(SpectrumMethod method) : impl_(std::make_unique<Impl>()) {
  impl_->method = method;
}
SpectrumWorkspace::~SpectrumWorkspace() = default;
SpectrumWorkspace::SpectrumWorkspace(SpectrumWorkspace&&) noexcept = default;
SpectrumWorkspace& SpectrumWorkspace::operator=(SpectrumWorkspace&&) noexcept = default;

Status SpectrumWorkspace::compute(std::span<const double> b, std::span<const double> a,
                                  LoraShape shape, double scale, std::vector<double>& values) {
  LORANK_RETURN_IF_ERROR(validate(b.size(), a.size(), shape));
  return impl_->compute(b_source(bytes_of(b), DType::kF64, shape),
                        a_source(bytes_of(a), DType::kF64, shape), shape, scale, values);
}
Status SpectrumWorkspace::compute(std::span<const float> b, std::span<const float> a,
                                  LoraShape shape, double scale, std::vector<double>& values) {
  LORANK_RETURN_IF_ERROR(validate(b.size(), a.size(), shape));
  return impl_->compute(b_source(bytes_of(b), DType::kF32, shape),
                        a_source(bytes_of(a), DType::kF32, shape), shape, scale, values);
}
Status SpectrumWorkspace::compute(const TensorView& b, const TensorView& a, LoraShape shape,
                                  double scale, std::vector<double>& values, bool transposed) {
  for (const TensorView* t : {&b, &a}) {
    if (!is_convertible_float(t->dtype)) {
      return not_supported("tensor '{}': dtype {} has no float64 spectrum", t->name,
                           dtype_name(t->dtype));
    }
  }
  const std::size_t b_count = b.data.size() / dtype_size(b.dtype);
  const std::size_t a_count = a.data.size() / dtype_size(a.dtype);
  if (b_count * dtype_size(b.dtype) != b.data.size() ||
      a_count * dtype_size(a.dtype) != a.data.size()) {
    return invalid_data("tensor '{}' or '{}' has a partial element", b.name, a.name);
  }
  LORANK_RETURN_IF_ERROR(validate(b_count, a_count, shape));
  return impl_->compute(b_source(b.data.data(), b.dtype, shape, transposed),
                        a_source(a.data.data(), a.dtype, shape, transposed), shape, scale, values);
}

SpectrumMethod SpectrumWorkspace::method() const { return impl_->method; }
std::size_t SpectrumWorkspace::householder_fallbacks() const { return impl_->fallbacks; }

std::size_t SpectrumWorkspace::bytes_reserved() const {
  const Impl& w = *impl_;
  const std::size_t doubles = w.rb.capacity() + w.ra.capacity() + w.core.capacity() +
                              w.sv.capacity() + w.work.capacity();
  return w.factor.bytes_reserved() + doubles * sizeof(double) +
         w.iwork.capacity() * sizeof(int);
}

namespace {

template <typename T>
Result<std::vector<double>> one_shot(std::span<const T> b, std::span<const T> a,
                                     LoraShape shape, double scale) {
  SpectrumWorkspace workspace;
  std::vector<double> values;
  LORANK_RETURN_IF_ERROR(workspace.compute(b, a, shape, scale, values));
  return values;
}

template <typename T>
std::vector<Result<std::vector<double>>> batch(std::span<const LoraFactorsView<T>> modules,
                                               const SpectrumBatchOptions& options) {
  const std::size_t n = modules.size();
  std::vector<Status> statuses(n);
  std::vector<std::vector<double>> values(n);
  // One workspace per pool thread; the pool hands modules out dynamically (their sizes
  // differ by 3x: 4096^2 vs 11008x4096).
  std::vector<SpectrumWorkspace> workspaces;
  workspaces.reserve(worker_count(options.threads, n));
  for (std::size_t w = worker_count(options.threads, n); w > 0; --w) {
    workspaces.emplace_back(options.method);
  }
  std::optional<linalg::SingleThreadedBlas> blas_section;
  if (workspaces.size() > 1 && options.single_threaded_blas) blas_section.emplace();
  parallel_for_workers(n, options.threads, [&](std::size_t worker, std::size_t i) {
    const LoraFactorsView<T>& m = modules[i];
    statuses[i] = workspaces[worker].compute(m.b, m.a, m.shape, m.scale, values[i]);
  });
  blas_section.reset();
  std::vector<Result<std::vector<double>>> results;
  results.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (statuses[i].ok()) {
      results.emplace_back(std::move(values[i]));
    } else {
      results.emplace_back(std::move(statuses[i]).with_context(fmt::format("module {}", i)));
    }
  }
  return results;
}

}  // namespace

Result<std::vector<double>> lora_singular_values(const double* b, std::size_t out, std::size_t r,
                                                 const double* a, std::size_t in, double scale) {
  const LoraShape shape{out, r, in};
  const std::optional<std::size_t> nb = checked_product(out, r);
  const std::optional<std::size_t> na = checked_product(r, in);
  if (!nb || !na) return invalid_data("LoRA shape {}x{}·{}x{} overflows", out, r, r, in);
  if ((b == nullptr && *nb != 0) || (a == nullptr && *na != 0)) {
    return invalid_argument("null B or A for a {}x{}·{}x{} LoRA module", out, r, r, in);
  }
  return one_shot<double>({b, *nb}, {a, *na}, shape, scale);
}
Result<std::vector<double>> lora_singular_values(std::span<const double> b,
                                                 std::span<const double> a, LoraShape shape,
                                                 double scale) {
  return one_shot(b, a, shape, scale);
}
Result<std::vector<double>> lora_singular_values(std::span<const float> b,
                                                 std::span<const float> a, LoraShape shape,
                                                 double scale) {
  return one_shot(b, a, shape, scale);
}

std::vector<Result<std::vector<double>>> lora_singular_values_batch(
    std::span<const LoraFactorsView<double>> modules, const SpectrumBatchOptions& options) {
  return batch(modules, options);
}
std::vector<Result<std::vector<double>>> lora_singular_values_batch(
    std::span<const LoraFactorsView<float>> modules, const SpectrumBatchOptions& options) {
  return batch(modules, options);
}

}  // namespace lorank
