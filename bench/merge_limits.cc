// The machine limits the merge benchmark is read against (bench/merge_vs_peers.py --limits
// builds and runs this; not part of the CMake build):
//   1. the register-only peak of separate double multiplies and adds (no FMA: the merge's
//      arithmetic rounds each product and sum), one thread, 8-wide vectors;
//   2. memcpy bandwidth, one thread, 1 GiB buffers (read + write bytes per second).
// Build: g++ -O2 -march=native -ffp-contract=off -std=c++20 merge_limits.cc -o merge_limits
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

using Vec = double __attribute__((vector_size(64)));

static double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int main() {
  // 16 independent chains acc = acc + x·y (as the merge kernel's 4×4 tile of vectors).
  constexpr int kChains = 16;
  Vec acc[kChains];
  Vec x = Vec{} + 1.0000001, y = Vec{} + 0.9999999;
  for (int c = 0; c < kChains; ++c) acc[c] = Vec{} + c;
  const long iters = 200'000'000 / kChains;
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < iters; ++i) {
    for (int c = 0; c < kChains; ++c) acc[c] = acc[c] + x * y;
    asm("" : "+v"(x), "+v"(y));  // keeps x·y from being hoisted out of the loop
  }
  const double t = seconds_since(t0);
  double sink = 0;
  for (int c = 0; c < kChains; ++c) sink += acc[c][0];
  std::printf("mul+add peak (no FMA), one thread: %.1f GFLOP/s (%g)\n",
              2.0 * 8 * kChains * iters / t / 1e9, sink);

  const std::size_t bytes = std::size_t{1} << 30;
  std::vector<char> a(bytes, 1), b(bytes, 2);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    t0 = std::chrono::steady_clock::now();
    std::memcpy(b.data(), a.data(), bytes);
    best = std::max(best, 2.0 * bytes / seconds_since(t0) / 1e9);
  }
  std::printf("memcpy, one thread: %.1f GB/s moved (read + write), best of 5 (%d)\n", best, b[12345]);
}
