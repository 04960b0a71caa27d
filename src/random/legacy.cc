// MT19937 and NumPy's legacy polar Gaussian (numpy-rng.md §2). Compiled with
// -ffp-contract=off: `x1*x1 + x2*x2` must be two rounded products and a rounded sum.
#include <cmath>

#include "lorank/random.h"

namespace lorank {

Mt19937::Mt19937(std::uint32_t seed) {
  mt_[0] = seed;
  for (std::uint32_t i = 1; i < 624; ++i) {
    mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + i;
  }
  pos_ = 624;
}

void Mt19937::regenerate() {
  constexpr std::uint32_t kMatrixA = 0x9908B0DFu, kUpper = 0x80000000u, kLower = 0x7FFFFFFFu;
  for (int i = 0; i < 624; ++i) {
    const std::uint32_t y = (mt_[i] & kUpper) | (mt_[(i + 1) % 624] & kLower);
    mt_[i] = mt_[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? kMatrixA : 0u);
  }
  pos_ = 0;
}

std::uint32_t Mt19937::next32() {
  if (pos_ == 624) regenerate();
  std::uint32_t y = mt_[pos_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9D2C5680u;
  y ^= (y << 15) & 0xEFC60000u;
  y ^= y >> 18;
  return y;
}

double Mt19937::next_double() {
  const std::uint32_t a = next32() >> 5;  // drawn first: the high 27 bits
  const std::uint32_t b = next32() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

void LegacyNormal::seed(std::uint32_t seed) {
  // NumPy's seed() rebuilds the bit generator and clears the Gaussian cache with it.
  mt_ = Mt19937(seed);
  has_gauss_ = false;
  gauss_ = 0.0;
}

double LegacyNormal::next() {
  if (has_gauss_) {
    has_gauss_ = false;
    const double cached = gauss_;
    gauss_ = 0.0;
    return cached;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * mt_.next_double() - 1.0;
    x2 = 2.0 * mt_.next_double() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * std::log(r2) / r2);
  gauss_ = f * x1;
  has_gauss_ = true;
  return f * x2;
}

void LegacyNormal::fill(std::span<double> out) {
  for (double& v : out) v = next();
}

std::vector<double> LegacyNormal::randn(std::size_t n) {
  std::vector<double> out(n);
  fill(out);
  return out;
}

}  // namespace lorank
