// NumPy's SeedSequence (numpy-rng.md §3.1-3.4): entropy words -> 4-word pool -> state.
// All arithmetic is on u32 with wrap-around, which is exactly what the spec requires.
#include <utility>

#include "lorank/random.h"

namespace lorank {
namespace {

constexpr std::uint32_t kInitA = 0x43B0D7E5u;
constexpr std::uint32_t kMultA = 0x931E8875u;
constexpr std::uint32_t kInitB = 0x8B51F9DDu;
constexpr std::uint32_t kMultB = 0x58F38DEDu;
constexpr std::uint32_t kMixMultL = 0xCA01F9DDu;
constexpr std::uint32_t kMixMultR = 0x4973F715u;
constexpr unsigned kXorShift = 16;

// The running hash constant is shared by every hashmix() of one mixing run, so it is
// state carried by this small helper rather than a free function.
class HashMixer {
 public:
  std::uint32_t operator()(std::uint32_t value) {
    value ^= hash_const_;
    hash_const_ *= kMultA;
    value *= hash_const_;
    value ^= value >> kXorShift;
    return value;
  }

 private:
  std::uint32_t hash_const_ = kInitA;
};

std::uint32_t mix(std::uint32_t x, std::uint32_t y) {
  std::uint32_t t = kMixMultL * x - kMixMultR * y;
  t ^= t >> kXorShift;
  return t;
}

std::vector<std::uint32_t> words_of(std::uint64_t seed) {
  const auto lo = static_cast<std::uint32_t>(seed);
  const auto hi = static_cast<std::uint32_t>(seed >> 32);
  // NumPy emits the minimal word list: 0 -> [0], 2^32 -> [0, 1].
  if (hi == 0) return {lo};
  return {lo, hi};
}

}  // namespace

SeedSequence::SeedSequence(std::uint64_t seed) : SeedSequence(words_of(seed)) {}

SeedSequence::SeedSequence(std::vector<std::uint32_t> words) : entropy_(std::move(words)) {
  if (entropy_.empty()) entropy_.push_back(0);  // the integer 0, as NumPy encodes it
  HashMixer hashmix;
  const std::size_t n = entropy_.size();
  for (std::size_t i = 0; i < kPoolSize; ++i) pool_[i] = hashmix(i < n ? entropy_[i] : 0u);
  // Order matters: pool[src] may already have been updated when it is read.
  for (std::size_t src = 0; src < kPoolSize; ++src) {
    for (std::size_t dst = 0; dst < kPoolSize; ++dst) {
      if (src != dst) pool_[dst] = mix(pool_[dst], hashmix(pool_[src]));
    }
  }
  for (std::size_t src = kPoolSize; src < n; ++src) {
    for (std::size_t dst = 0; dst < kPoolSize; ++dst) {
      pool_[dst] = mix(pool_[dst], hashmix(entropy_[src]));
    }
  }
}

std::vector<std::uint32_t> SeedSequence::generate_state_u32(std::size_t n) const {
  std::vector<std::uint32_t> out(n);
  std::uint32_t hash_const = kInitB;  // restarts on every call: the pool is never consumed
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t d = pool_[i % kPoolSize];
    d ^= hash_const;
    hash_const *= kMultB;
    d *= hash_const;
    d ^= d >> kXorShift;
    out[i] = d;
  }
  return out;
}

std::vector<std::uint64_t> SeedSequence::generate_state_u64(std::size_t n) const {
  const std::vector<std::uint32_t> words = generate_state_u32(2 * n);
  std::vector<std::uint64_t> out(n);
  for (std::size_t k = 0; k < n; ++k) {
    out[k] = words[2 * k] | (static_cast<std::uint64_t>(words[2 * k + 1]) << 32);
  }
  return out;
}

}  // namespace lorank
