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

namespace {

// `v`, a rows×cols row-major matrix, becomes its transpose (cols×rows, row-major).
void transpose(std::vector<double>& v, std::size_t rows, std::size_t cols) {
  std::vector<double> t(v.size());
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) t[j * rows + i] = v[i * cols + j];
  }
  v.swap(t);
}

// Stored Aᵀ (in×r) and Bᵀ (r×out) into A r×in and B out×r.
void to_lorank_order(const LoraModule& m, Factor f, std::vector<double>& v) {
  if (!m.transposed) return;
  if (f == Factor::kA) {
    transpose(v, m.in, m.rank);
  } else {
    transpose(v, m.rank, m.out);
  }
}

}  // namespace

Status widen_factor(const LoraModule& m, Factor f, std::vector<double>& out) {
  const TensorView& t = f == Factor::kA ? m.A : m.B;
  out.resize(static_cast<std::size_t>(t.numel()));
  LORANK_RETURN_IF_ERROR(to_double(t, out));
  to_lorank_order(m, f, out);
  return Status();
}

Status widen_factor_finite(const Adapter& adapter, const LoraModule& m, Factor f,
                           std::vector<double>& out) {
  const TensorView& t = f == Factor::kA ? m.A : m.B;
  LORANK_RETURN_IF_ERROR(widen_finite(t, adapter, out));
  to_lorank_order(m, f, out);
  return Status();
}

void to_stored_order(const LoraModule& m, Factor f, std::vector<double>& values) {
  if (!m.transposed) return;
  // A is k×in, B out×k; k from the element count.
  if (f == Factor::kA) {
    transpose(values, m.in == 0 ? 0 : values.size() / m.in, m.in);
  } else {
    transpose(values, m.out, m.out == 0 ? 0 : values.size() / m.out);
  }
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
