// Library calls from several threads at once: the audit of a real adapter gives the same
// bits on every thread as alone, and OpenBLAS gets its own thread count back when the last
// single-threaded section in the process ends (the sections are counted, never nested
// save/restore pairs that could interleave). The CI's ThreadSanitizer job runs these.
#include <gtest/gtest.h>

#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include "linalg/lapack.h"
#include "lorank/adapter.h"
#include "lorank/audit.h"
#include "lorank/audit_report.h"
#include "support/shared_data.h"

namespace lorank {
namespace {

// Sets OpenBLAS to `n` threads for one test and back afterwards.
class BlasThreadCount {
 public:
  explicit BlasThreadCount(int n) : saved_(linalg::blas_threads()) { linalg::set_blas_threads(n); }
  ~BlasThreadCount() { linalg::set_blas_threads(saved_); }

 private:
  int saved_;
};

TEST(SingleThreadedBlas, OverlappingSectionsOnManyThreadsRestoreTheCount) {
  const BlasThreadCount two(2);
  ASSERT_EQ(linalg::blas_threads(), 2) << "this OpenBLAS cannot be set to 2 threads";
  constexpr int kThreads = 4;
  std::barrier all_inside(kThreads);
  std::vector<int> seen(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 20; ++round) {
          const linalg::SingleThreadedBlas section;
          if (round == 0) all_inside.arrive_and_wait();  // all four sections alive at once
          seen[t] = linalg::blas_threads();
        }
      });
    }
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(seen[t], 1) << "thread " << t;
  EXPECT_EQ(linalg::blas_threads(), 2);
}

TEST(Concurrency, AuditsFromFourThreadsEqualTheAuditAlone) {
  const BlasThreadCount two(2);
  Result<Adapter> adapter = open_adapter(testing::shared_path("adapters/distilgpt2-sft-r16"));
  ASSERT_TRUE(adapter) << adapter.status().message();
  Result<AuditReport> alone = run_audit(*adapter);
  ASSERT_TRUE(alone) << alone.status().message();
  const std::string expected = audit_json(*alone);

  constexpr int kThreads = 4;
  std::vector<std::string> got(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Each thread opens its own copy too: opening is part of the library call.
        Result<Adapter> mine = open_adapter(testing::shared_path("adapters/distilgpt2-sft-r16"));
        if (!mine) return;
        AuditOptions options;
        options.threads = 2;
        Result<AuditReport> r = run_audit(*mine, options);
        if (r) got[t] = audit_json(*r);
      });
    }
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(got[t], expected) << "thread " << t;
  EXPECT_EQ(linalg::blas_threads(), 2);
}

}  // namespace
}  // namespace lorank
