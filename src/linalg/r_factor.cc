#include "linalg/r_factor.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "linalg/lapack.h"

namespace lorank::linalg {
namespace {

// CholeskyQR2 accepts its result when the second Cholesky factor R2 (= the R of the first
// pass's Q1) is within this Frobenius distance of I, i.e. κ₂(Q1) ≤ 1.1/0.9. The second
// pass is then as accurate as Householder QR (Yamamoto et al., ETNA 44 (2015), Thm 3.3
// needs only κ₂(Q1) = O(1)). This a-posteriori test is tighter and cheaper than an
// a-priori bound on κ₂(F) ≲ 1/sqrt(mn·ε).
constexpr double kMaxSecondFactorDistance = 0.1;

std::size_t sz(int v) { return static_cast<std::size_t>(v); }

template <typename T>
bool is_nonfinite(T v) {
  if constexpr (sizeof(T) == 8) {
    constexpr std::uint64_t kExp = 0x7ff0000000000000ULL;
    return (std::bit_cast<std::uint64_t>(v) & kExp) == kExp;
  } else {
    constexpr std::uint32_t kExp = 0x7f800000U;
    return (std::bit_cast<std::uint32_t>(v) & kExp) == kExp;
  }
}

// Widens src into dst in the same order; returns false if any element is NaN/Inf. The
// exponent test is integer arithmetic, so the loop vectorises without -ffast-math.
template <typename T>
bool copy_checked(const T* src, std::size_t count, double* dst) {
  unsigned bad = 0;
  for (std::size_t i = 0; i < count; ++i) {
    bad |= static_cast<unsigned>(is_nonfinite(src[i]));
    dst[i] = static_cast<double>(src[i]);
  }
  return bad == 0;
}

// Row-major m×n src → column-major m×n dst, in row blocks so that reads and writes both
// stay in cache. Returns false on NaN/Inf.
template <typename T>
bool transpose_checked(const T* src, std::size_t m, std::size_t n, double* dst) {
  constexpr std::size_t kBlock = 64;
  unsigned bad = 0;
  for (std::size_t i0 = 0; i0 < m; i0 += kBlock) {
    const std::size_t i1 = std::min(m, i0 + kBlock);
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t i = i0; i < i1; ++i) {
        const T v = src[i * n + j];
        bad |= static_cast<unsigned>(is_nonfinite(v));
        dst[j * m + i] = static_cast<double>(v);
      }
    }
  }
  return bad == 0;
}

// Slow path, only after a failed check: names the first offending element.
template <typename T>
Status nonfinite_error(const T* f, std::size_t count, std::size_t row_length, const char* name) {
  for (std::size_t i = 0; i < count; ++i) {
    if (is_nonfinite(f[i])) {
      return numerical_error("{}[{}, {}] is {}: the spectrum is undefined", name,
                             i / row_length, i % row_length, static_cast<double>(f[i]));
    }
  }
  return internal_error("non-finite check of {} is inconsistent", name);
}

void zero_strict_lower(double* a, int n) {
  for (int j = 0; j < n; ++j) std::fill(a + sz(j) * sz(n) + sz(j) + 1, a + sz(j + 1) * sz(n), 0.0);
}

double distance_from_identity(const double* a, int n) {
  double sum = 0.0;
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i <= j; ++i) {
      const double d = a[sz(j) * sz(n) + sz(i)] - (i == j ? 1.0 : 0.0);
      sum += d * d;
    }
  }
  return std::sqrt(sum);
}

// Householder QR (dgeqrf) of the column-major copy in buf.x; R into r_out.
Status householder(int m, int n, RFactorBuffers& buf, double* r_out) {
  const int k = std::min(m, n);
  if (buf.tau.size() < sz(k)) buf.tau.resize(sz(k));
  LORANK_RETURN_IF_ERROR(geqrf(m, n, buf.x.data(), m, buf.tau.data(), buf.work));
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < k; ++i) {
      r_out[sz(j) * sz(k) + sz(i)] = i <= j ? buf.x[sz(j) * sz(m) + sz(i)] : 0.0;
    }
  }
  return Status();
}

// The Cholesky methods on the verbatim copy in buf.x (F or Fᵀ). Returns true with R in
// r_out, or false when F must go to Householder QR instead.
bool cholesky_qr(int m, int n, bool transposed, SpectrumMethod method, RFactorBuffers& buf,
                 double* r_out) {
  const int ldf = transposed ? n : m;
  const std::size_t nn = sz(n) * sz(n);
  if (buf.r1.size() < nn) buf.r1.resize(nn);
  if (buf.r2.size() < nn) buf.r2.resize(nn);
  gram_upper(m, n, buf.x.data(), ldf, transposed, buf.r1.data());
  // Finite input can still overflow the Gram matrix; dpotrf would then fail or mislead.
  for (int j = 0; j < n; ++j) {
    if (!std::isfinite(buf.r1[sz(j) * sz(n) + sz(j)])) return false;
  }
  if (!potrf_upper(n, buf.r1.data(), n).ok()) return false;  // singular or indefinite Gram
  zero_strict_lower(buf.r1.data(), n);
  if (method == SpectrumMethod::kCholeskyQr2) {
    solve_right_upper(m, n, buf.x.data(), ldf, transposed, buf.r1.data());  // Q1 = F·R1⁻¹
    gram_upper(m, n, buf.x.data(), ldf, transposed, buf.r2.data());
    if (!potrf_upper(n, buf.r2.data(), n).ok()) return false;
    zero_strict_lower(buf.r2.data(), n);
    if (!(distance_from_identity(buf.r2.data(), n) <= kMaxSecondFactorDistance)) return false;
    upper_times_upper(n, buf.r2.data(), buf.r1.data());  // R = R2·R1
  }
  std::copy_n(buf.r1.data(), nn, r_out);
  return true;
}

}  // namespace

template <typename T>
Status r_factor(const T* f, int m, int n, Layout layout, SpectrumMethod method,
                const char* name, RFactorBuffers& buf, double* r_out, bool* fell_back) {
  *fell_back = false;
  const std::size_t count = sz(m) * sz(n);
  const std::size_t row_length = layout == Layout::kRowMajor ? sz(n) : sz(m);
  if (buf.x.size() < count) buf.x.resize(count);
  // A wide F (m < n) has a singular Gram matrix: only Householder applies.
  if (method != SpectrumMethod::kHouseholderQr && m >= n) {
    if (!copy_checked(f, count, buf.x.data())) return nonfinite_error(f, count, row_length, name);
    if (cholesky_qr(m, n, layout == Layout::kRowMajor, method, buf, r_out)) return Status();
    *fell_back = true;
  }
  const bool finite = layout == Layout::kRowMajor
                          ? transpose_checked(f, sz(m), sz(n), buf.x.data())
                          : copy_checked(f, count, buf.x.data());
  if (!finite) return nonfinite_error(f, count, row_length, name);
  return householder(m, n, buf, r_out);
}

template Status r_factor<double>(const double*, int, int, Layout, SpectrumMethod, const char*,
                                 RFactorBuffers&, double*, bool*);
template Status r_factor<float>(const float*, int, int, Layout, SpectrumMethod, const char*,
                                RFactorBuffers&, double*, bool*);

}  // namespace lorank::linalg
