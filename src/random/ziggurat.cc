// NumPy's float64 ziggurat standard normal on PCG64 (numpy-rng.md §4.2).
// Compiled with -ffp-contract=off: the wedge test `(f0 - f1) * u + f1` must round the
// product and the sum separately, and glibc's log1p/exp must be the ones called.
#include <cmath>

#include "lorank/random.h"
#include "random/ziggurat_tables.h"

namespace lorank {
namespace {

using random_internal::kZigguratFi;
using random_internal::kZigguratInvR;
using random_internal::kZigguratKi;
using random_internal::kZigguratR;
using random_internal::kZigguratWi;

constexpr std::uint64_t kMantissaMask = 0x000FFFFFFFFFFFFFull;

// The rare paths (about 1.5% of draws) stay out of line so the fast path stays small.
[[gnu::noinline]] double sample_tail(Pcg64& bits, std::uint64_t rabs) {
  for (;;) {
    const double xx = -kZigguratInvR * std::log1p(-bits.next_double());
    const double yy = -std::log1p(-bits.next_double());
    if (yy + yy > xx * xx) {
      // NumPy takes the tail's sign from bit 8 of the magnitude, not from the sign bit.
      return ((rabs >> 8) & 1u) ? -(kZigguratR + xx) : kZigguratR + xx;
    }
  }
}

}  // namespace

double DefaultRngNormal::next() {
  for (;;) {
    const std::uint64_t w = bits_.next64();
    const unsigned idx = static_cast<unsigned>(w & 0xFFu);
    const std::uint64_t sign = (w >> 8) & 1u;
    const std::uint64_t rabs = (w >> 9) & kMantissaMask;      // bits 61-63 are unused
    double x = static_cast<double>(rabs) * kZigguratWi[idx];  // exact conversion
    if (sign) x = -x;
    if (rabs < kZigguratKi[idx]) return x;  // fast path: inside the strip's rectangle
    if (idx == 0) return sample_tail(bits_, rabs);
    const double u = bits_.next_double();
    if ((kZigguratFi[idx - 1] - kZigguratFi[idx]) * u + kZigguratFi[idx] < std::exp(-0.5 * x * x)) {
      return x;  // wedge accepted
    }
    // Wedge rejected: start over with a fresh 64-bit word.
  }
}

void DefaultRngNormal::fill(std::span<double> out) {
  for (double& v : out) v = next();
}

std::vector<double> DefaultRngNormal::standard_normal(std::size_t n) {
  std::vector<double> out(n);
  fill(out);
  return out;
}

}  // namespace lorank
