// run_ordered_pipeline: items consumed in index order whatever order workers finish in,
// every item exactly once, errors stop the run at the first failing item.
#include "merge/ordered_pipeline.h"

#include "lorank/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace lorank::merge {
namespace {

std::vector<std::byte> encode(std::size_t item) {
  std::vector<std::byte> b(sizeof item);
  std::memcpy(b.data(), &item, sizeof item);
  return b;
}

std::size_t decode(const std::vector<std::byte>& b) {
  std::size_t item = 0;
  std::memcpy(&item, b.data(), sizeof item);
  return item;
}

TEST(OrderedPipeline, ConsumesEveryItemOnceInOrder) {
  for (std::size_t workers : {1u, 2u, 3u, 8u}) {
    for (std::size_t n : {0u, 1u, 5u, 100u}) {
      SCOPED_TRACE(::testing::Message() << workers << " workers, " << n << " items");
      std::atomic<std::size_t> produced{0};
      std::vector<std::size_t> seen;
      const Status s = run_ordered_pipeline(
          n, workers,
          [&](std::size_t, std::size_t item, std::vector<std::byte>& buffer) {
            // Later items finish first now and then: order must come from the pipeline.
            if (item % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
            buffer = encode(item);
            ++produced;
            return Status();
          },
          [&](std::size_t item, const std::vector<std::byte>& buffer) {
            EXPECT_EQ(decode(buffer), item);
            seen.push_back(item);
            return Status();
          });
      EXPECT_TRUE(s.ok()) << s.to_string();
      EXPECT_EQ(produced.load(), n);
      ASSERT_EQ(seen.size(), n);
      for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], i);
    }
  }
}

TEST(OrderedPipeline, TheFirstErrorStopsTheRun) {
  std::vector<std::size_t> seen;
  const Status produced_error = run_ordered_pipeline(
      50, 2,
      [](std::size_t, std::size_t item, std::vector<std::byte>& buffer) {
        buffer = encode(item);
        return item == 7 ? invalid_data("item {} failed", item) : Status();
      },
      [&](std::size_t item, const std::vector<std::byte>&) {
        seen.push_back(item);
        return Status();
      });
  EXPECT_EQ(produced_error.message(), "item 7 failed");
  EXPECT_EQ(seen.size(), 7u);  // 0..6, never an item after the failure
  seen.clear();
  const Status consumed_error = run_ordered_pipeline(
      50, 3, [](std::size_t, std::size_t, std::vector<std::byte>&) { return Status(); },
      [&](std::size_t item, const std::vector<std::byte>&) {
        seen.push_back(item);
        return item == 4 ? io_error("disk full at {}", item) : Status();
      });
  EXPECT_EQ(consumed_error.message(), "disk full at 4");
  EXPECT_EQ(seen.size(), 5u);
}

// Pipelines run on the shared pool: nested inside a parallel loop that holds every worker,
// they still finish (the consumer computes what no producer took), in order.
TEST(OrderedPipeline, FinishesWhenThePoolIsBusy) {
  std::atomic<std::size_t> complete{0};
  parallel_for(4, 2, [&](std::size_t) {
    std::vector<std::size_t> seen;
    const Status s = run_ordered_pipeline(
        40, 3,
        [](std::size_t worker, std::size_t item, std::vector<std::byte>& buffer) {
          EXPECT_LE(worker, 3u);
          buffer = encode(item);
          return Status();
        },
        [&](std::size_t item, const std::vector<std::byte>& buffer) {
          EXPECT_EQ(decode(buffer), item);
          seen.push_back(item);
          return Status();
        });
    EXPECT_TRUE(s.ok());
    if (seen.size() == 40u) ++complete;
  });
  EXPECT_EQ(complete.load(), 4u);
}

}  // namespace
}  // namespace lorank::merge
