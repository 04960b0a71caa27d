// lorank's thread pool: every job once, worker slots unique while they run, nested and
// concurrent loops complete (the caller never waits for a free worker), exceptions reach
// the caller, and LORANK_NUM_THREADS values are parsed strictly.
#include "lorank/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace lorank {
namespace {

TEST(ParallelFor, RunsEveryJobExactlyOnce) {
  for (const std::size_t n : {0u, 1u, 2u, 7u, 100u, 1000u}) {
    for (const unsigned threads : {1u, 2u, 3u, 8u}) {
      std::vector<std::atomic<int>> hits(n);
      parallel_for(n, threads, [&](std::size_t i) { hits[i].fetch_add(1); });
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << n << " jobs, job " << i;
    }
  }
}

TEST(ParallelFor, WorkerSlotsAreInRangeAndNeverShared) {
  const std::size_t n = 2000;
  const unsigned threads = 4;
  const std::size_t slots = worker_count(threads, n);
  std::vector<std::atomic<int>> busy(slots);
  std::atomic<int> overlaps{0}, out_of_range{0};
  parallel_for_workers(n, threads, [&](std::size_t worker, std::size_t) {
    if (worker >= slots) {
      out_of_range.fetch_add(1);
      return;
    }
    if (busy[worker].fetch_add(1) != 0) overlaps.fetch_add(1);
    volatile double x = 0;
    for (int k = 0; k < 200; ++k) x = x + k;
    busy[worker].fetch_sub(1);
  });
  EXPECT_EQ(out_of_range.load(), 0);
  EXPECT_EQ(overlaps.load(), 0);
}

TEST(ParallelFor, NestedLoopsComplete) {
  std::atomic<std::size_t> total{0};
  parallel_for(8, 4, [&](std::size_t) {
    parallel_for(8, 4, [&](std::size_t) {
      parallel_for(4, 4, [&](std::size_t) { total.fetch_add(1); });
    });
  });
  EXPECT_EQ(total.load(), 8u * 8u * 4u);
}

TEST(ParallelFor, ConcurrentCallersEachGetTheirOwnResults) {
  constexpr int kCallers = 4;
  std::vector<std::size_t> sums(kCallers);
  {
    std::vector<std::jthread> callers;
    for (int c = 0; c < kCallers; ++c) {
      callers.emplace_back([&, c] {
        for (int round = 0; round < 50; ++round) {
          std::vector<std::size_t> v(500);
          parallel_for(v.size(), 3, [&](std::size_t i) { v[i] = i * (c + 1); });
          std::size_t s = 0;
          for (std::size_t x : v) s += x;
          sums[c] = s;
        }
      });
    }
  }
  for (int c = 0; c < kCallers; ++c) EXPECT_EQ(sums[c], 499u * 500u / 2u * (c + 1)) << c;
}

TEST(ParallelFor, AJobsExceptionReachesTheCallerAndThePoolStaysUsable) {
  EXPECT_THROW(parallel_for(100, 4,
                            [](std::size_t i) {
                              if (i == 5) throw std::runtime_error("job 5");
                            }),
               std::runtime_error);
  std::atomic<int> count{0};
  parallel_for(100, 4, [&](std::size_t) { count.fetch_add(1); });
  EXPECT_EQ(count.load(), 100);
}

TEST(WorkerCount, NeverMoreThreadsThanJobsAndAtLeastOne) {
  EXPECT_EQ(worker_count(8, 3), 3u);
  EXPECT_EQ(worker_count(2, 100), 2u);
  EXPECT_EQ(worker_count(4, 0), 1u);
  EXPECT_EQ(worker_count(0, 1u << 20), default_threads());
  EXPECT_GE(default_threads(), 1u);
}

TEST(ParseThreadCount, AcceptsOnlyCountsFromOneTo1024) {
  EXPECT_EQ(parse_thread_count("1"), 1u);
  EXPECT_EQ(parse_thread_count("16"), 16u);
  EXPECT_EQ(parse_thread_count("1024"), 1024u);
  for (const char* bad : {"", "0", "-2", "1025", "4x", " 4", "four", "99999999999999999999"}) {
    EXPECT_FALSE(parse_thread_count(bad).has_value()) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace lorank
