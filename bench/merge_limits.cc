// The machine limits the merge benchmark is read against (bench/merge_vs_peers.py --limits
// builds and runs this; not part of the CMake build):
//   1. the register-only peak of separate double multiplies and adds (no FMA: the merge's
//      arithmetic rounds each product and sum), one thread, 8-wide vectors;
//   2. memcpy bandwidth, one thread, 1 GiB buffers (read + write bytes per second).
// Build: g++ -O3 -march=native -ffp-contract=off -std=c++20 merge_limits.cc -o merge_limits
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

using Vec = double __attribute__((vector_size(64)));

static double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int main() {
  // 12 independent chains acc[c] = acc[c] + a[c]·b: 12 multiplies and 12 adds of 8 doubles
  // per iteration, everything in registers (12 + 12 + 1 of the 32 vector registers).
  constexpr int kChains = 12;
  Vec acc[kChains], a[kChains];
  Vec b = Vec{} + 0.9999999;
  for (int c = 0; c < kChains; ++c) {
    acc[c] = Vec{} + c;
    a[c] = Vec{} + (1.0 + c * 1e-7);
  }
  const long iters = 50'000'000;
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < iters; ++i) {
    asm("" : "+v"(b));  // b "changes": the products are recomputed every iteration
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = acc[c] + a[c] * b;
  }
  const double t = seconds_since(t0);
  double sink = 0;
  for (int c = 0; c < kChains; ++c) sink += acc[c][0];
  std::printf("mul+add peak (no FMA), one thread: %.1f GFLOP/s (%g)\n",
              2.0 * 8 * kChains * iters / t / 1e9, sink);

  const std::size_t bytes = std::size_t{1} << 30;
  std::vector<char> from(bytes, 1), to(bytes, 2);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    t0 = std::chrono::steady_clock::now();
    std::memcpy(to.data(), from.data(), bytes);
    best = std::max(best, 2.0 * bytes / seconds_since(t0) / 1e9);
  }
  std::printf("memcpy, one thread: %.1f GB/s moved (read + write), best of 5 (%d)\n", best, to[12345]);
}
