// NumPy-compatible random streams, bit-exact (see ../shared/specs/numpy-rng.md).
//
// LegacyNormal reproduces `np.random.seed(s); np.random.randn(...)` (MT19937 + polar
// Gaussian with its cached second value). DefaultRngNormal reproduces
// `np.random.default_rng(s).standard_normal(...)` (SeedSequence -> PCG64 -> ziggurat).
// Arrays are filled in C (row-major) order, as NumPy does.
#ifndef LORANK_RANDOM_H_
#define LORANK_RANDOM_H_

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace lorank {

// MT19937 seeded like `np.random.seed(s)` (init_genrand, not SeedSequence).
class Mt19937 {
 public:
  explicit Mt19937(std::uint32_t seed);
  std::uint32_t next32();       // tempered 32-bit output
  double next_double();         // 53-bit uniform in [0, 1), NumPy's random_sample

 private:
  void regenerate();
  std::array<std::uint32_t, 624> mt_{};
  int pos_ = 624;
};

// `np.random.seed(seed)` followed by `np.random.randn(...)` calls.
// Thread-compatible (one object per thread).
class LegacyNormal {
 public:
  explicit LegacyNormal(std::uint32_t seed) : mt_(seed) {}
  double next();  // one standard normal (polar method; second value cached)
  void fill(std::span<double> out);  // like randn(out.size()), row-major
  std::vector<double> randn(std::size_t n);

 private:
  Mt19937 mt_;
  bool has_gauss_ = false;
  double gauss_ = 0.0;
};

}  // namespace lorank

#endif  // LORANK_RANDOM_H_
