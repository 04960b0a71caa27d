// NumPy-compatible random streams, bit-exact (see ../shared/specs/numpy-rng.md).
//
// LegacyNormal reproduces `np.random.seed(s); np.random.randn(...)` (MT19937 + polar
// Gaussian with its cached second value). DefaultRngNormal reproduces
// `np.random.default_rng(s).standard_normal(...)` (SeedSequence -> PCG64 -> ziggurat).
// Arrays are filled in C (row-major) order, as NumPy does.
//
// Bit-exactness holds only when src/random is compiled without FMA contraction and
// linked against glibc's libm (docs/random.md); the build enforces the former.
#ifndef LORANK_RANDOM_H_
#define LORANK_RANDOM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace lorank {

// 128-bit unsigned arithmetic (mod 2^128) for PCG64. `__extension__` keeps -Wpedantic
// quiet about the GCC/Clang builtin type.
__extension__ typedef unsigned __int128 Uint128;

// Builds a Uint128 from its high and low 64-bit halves (there are no 128-bit literals).
constexpr Uint128 make_uint128(std::uint64_t hi, std::uint64_t lo) {
  return (static_cast<Uint128>(hi) << 64) | lo;
}

// MT19937 seeded like `np.random.seed(s)` (init_genrand, not SeedSequence).
class Mt19937 {
 public:
  // Seeds with init_genrand(seed); the first draw regenerates the key.
  explicit Mt19937(std::uint32_t seed);
  // Returns the next tempered 32-bit output (NumPy's MT19937.random_raw).
  std::uint32_t next32();
  // Returns a 53-bit uniform double in [0, 1) from two words (NumPy's random_sample).
  double next_double();
  // The 624-word key and position, as `RandomState.get_state()` reports them.
  const std::array<std::uint32_t, 624>& key() const { return mt_; }
  int pos() const { return pos_; }

 private:
  void regenerate();
  std::array<std::uint32_t, 624> mt_{};
  int pos_ = 624;
};

// `np.random.seed(seed)` followed by `np.random.randn(...)` calls.
// Thread-compatible (one object per thread).
class LegacyNormal {
 public:
  // Equivalent to `np.random.seed(seed)`.
  explicit LegacyNormal(std::uint32_t seed) : mt_(seed) {}
  // Re-seeds like `np.random.seed(seed)`, which also drops any cached Gaussian.
  void seed(std::uint32_t seed);
  // Returns one standard normal (polar method; the pair's second value is cached and
  // returned by the next call, even across fill()/randn() calls).
  double next();
  // Like `randn(out.size())` written row-major into `out`.
  void fill(std::span<double> out);
  // Like `randn(n)`.
  std::vector<double> randn(std::size_t n);

 private:
  Mt19937 mt_;
  bool has_gauss_ = false;
  double gauss_ = 0.0;
};

// NumPy's SeedSequence without spawn keys: hashes entropy words into a 4-word pool and
// expands the pool into any number of state words. Immutable after construction.
class SeedSequence {
 public:
  // Words in the mixed pool (NumPy's pool_size).
  static constexpr std::size_t kPoolSize = 4;

  // Entropy = the words of `seed`, least significant first, no high zero words
  // (0 -> [0]); equals `np.random.SeedSequence(seed)`.
  explicit SeedSequence(std::uint64_t seed);
  // Entropy = `words` as given (least significant first), so an integer of any size
  // is passed as its minimal little-endian word list, e.g. 2^64+5 -> {5, 0, 1}.
  // Equals `np.random.SeedSequence(w0 + w1*2^32 + ...)` for minimal lists and
  // `np.random.SeedSequence([w0, w1, ...])` always. High zero words are harmless up to
  // 4 words (missing words are mixed in as 0) but change the pool beyond 4, so pass the
  // minimal list for integers. An empty list means the integer 0.
  explicit SeedSequence(std::vector<std::uint32_t> words);

  // The entropy words actually mixed in.
  const std::vector<std::uint32_t>& entropy() const { return entropy_; }
  // The mixed pool (`SeedSequence.pool`).
  const std::array<std::uint32_t, kPoolSize>& pool() const { return pool_; }
  // `generate_state(n, np.uint32)`; every call starts afresh (same n -> same words).
  std::vector<std::uint32_t> generate_state_u32(std::size_t n) const;
  // `generate_state(n, np.uint64)`: 2n u32 words paired little-endian.
  std::vector<std::uint64_t> generate_state_u64(std::size_t n) const;

 private:
  std::vector<std::uint32_t> entropy_;
  std::array<std::uint32_t, kPoolSize> pool_{};
};

// NumPy's PCG64 bit generator (128-bit LCG, XSL-RR 128/64 output).
// Thread-compatible.
class Pcg64 {
 public:
  // The LCG multiplier.
  static constexpr Uint128 kMultiplier = make_uint128(0x2360ED051FC65DA4ull, 0x4385DF649FCCF645ull);

  // Seeds like `np.random.PCG64(seed_sequence)`.
  explicit Pcg64(const SeedSequence& seq);
  // Seeds like `np.random.PCG64(seed)`.
  explicit Pcg64(std::uint64_t seed) : Pcg64(SeedSequence(seed)) {}
  // Restores a raw state, as `PCG64.state = {...}` does; `inc` must be odd.
  static Pcg64 from_state(Uint128 state, Uint128 inc);

  // Steps the LCG, then returns the output of the new state (`random_raw`).
  std::uint64_t next64() {
    state_ = state_ * kMultiplier + inc_;
    const auto hi = static_cast<std::uint64_t>(state_ >> 64);
    const auto lo = static_cast<std::uint64_t>(state_);
    const unsigned rot = static_cast<unsigned>(hi >> 58);
    const std::uint64_t x = hi ^ lo;
    return (x >> rot) | (x << ((64u - rot) & 63u));
  }
  // Returns the top 53 bits of one word times 2^-53, in [0, 1) (`Generator.random`).
  double next_double() { return static_cast<double>(next64() >> 11) * (1.0 / 9007199254740992.0); }
  // Jumps ahead by `delta` steps (mod 2^128) in O(log delta), like `PCG64.advance`.
  void advance(Uint128 delta);

  // The LCG state and increment, as `PCG64.state` reports them.
  Uint128 state() const { return state_; }
  Uint128 inc() const { return inc_; }

 private:
  Pcg64() = default;
  Uint128 state_ = 0;
  Uint128 inc_ = 1;
};

// `np.random.default_rng(seed).standard_normal(...)`: PCG64 + NumPy's 256-strip
// float64 ziggurat. Thread-compatible.
class DefaultRngNormal {
 public:
  // Equivalent to `np.random.default_rng(seed)`.
  explicit DefaultRngNormal(std::uint64_t seed) : bits_(seed) {}
  // Equivalent to `np.random.default_rng(np.random.PCG64(seq))`.
  explicit DefaultRngNormal(const SeedSequence& seq) : bits_(seq) {}
  // Returns one standard normal.
  double next();
  // Like `standard_normal(out.size())` written row-major into `out`.
  void fill(std::span<double> out);
  // Like `standard_normal(n)`.
  std::vector<double> standard_normal(std::size_t n);
  // The underlying bit generator (shared state: draws from it advance this stream).
  Pcg64& bit_generator() { return bits_; }

 private:
  Pcg64 bits_;
};

}  // namespace lorank

#endif  // LORANK_RANDOM_H_
