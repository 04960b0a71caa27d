#include "lorank/parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace lorank {

std::size_t worker_count(unsigned requested, std::size_t jobs) {
  // Asked once: glibc answers hardware_concurrency() by opening and reading
  // /sys/devices/system/cpu/online, which cost the merge 2,000 syscalls (0.3 s).
  static const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t want = requested ? requested : cores;
  return std::max<std::size_t>(1, std::min(want, jobs));
}

void parallel_for_workers(std::size_t n, unsigned threads,
                          const std::function<void(std::size_t, std::size_t)>& job) {
  std::atomic<std::size_t> next{0};
  auto worker = [&](std::size_t w) {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) job(w, i);
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < worker_count(threads, n); ++t) pool.emplace_back(worker, t);
  worker(0);
  for (std::thread& t : pool) t.join();
}

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& job) {
  parallel_for_workers(n, threads, [&](std::size_t, std::size_t i) { job(i); });
}

}  // namespace lorank
