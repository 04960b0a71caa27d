// NumPy's PCG64 seeding and jump-ahead (numpy-rng.md §3.5, §3.8). The per-draw step
// and output live inline in random.h because the ziggurat calls them per value.
#include "lorank/random.h"

namespace lorank {

Pcg64::Pcg64(const SeedSequence& seq) {
  const std::vector<std::uint64_t> v = seq.generate_state_u64(4);
  // NumPy packs the first word of each pair as the HIGH half.
  const Uint128 init_state = make_uint128(v[0], v[1]);
  const Uint128 init_seq = make_uint128(v[2], v[3]);
  inc_ = (init_seq << 1) | 1u;  // the top bit of init_seq is dropped, as in NumPy
  state_ = 0;
  next64();  // PCG's srandom: step, add the initial state, step again
  state_ += init_state;
  next64();
}

Pcg64 Pcg64::from_state(Uint128 state, Uint128 inc) {
  Pcg64 g;
  g.state_ = state;
  g.inc_ = inc;
  return g;
}

void Pcg64::advance(Uint128 delta) {
  // Composes the affine map s -> M*s + inc with itself by repeated squaring.
  Uint128 acc_mult = 1;
  Uint128 acc_plus = 0;
  Uint128 cur_mult = kMultiplier;
  Uint128 cur_plus = inc_;
  while (delta > 0) {
    if (delta & 1u) {
      acc_mult *= cur_mult;
      acc_plus = acc_plus * cur_mult + cur_plus;
    }
    cur_plus = (cur_mult + 1) * cur_plus;
    cur_mult *= cur_mult;
    delta >>= 1;
  }
  state_ = acc_mult * state_ + acc_plus;
}

}  // namespace lorank
