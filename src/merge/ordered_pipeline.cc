#include "merge/ordered_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace lorank::merge {

Status run_ordered_pipeline(
    std::size_t n, std::size_t workers,
    const std::function<Status(std::size_t, std::size_t, std::vector<std::byte>&)>& produce,
    const std::function<Status(std::size_t, const std::vector<std::byte>&)>& consume) {
  if (n == 0) return Status();
  workers = std::max<std::size_t>(1, std::min(workers, n));
  const std::size_t slots = 2 * workers;
  struct Slot {
    std::vector<std::byte> buffer;
    std::size_t item = 0;  // the item the buffer holds (valid when ready)
    bool ready = false;
    Status status;
  };
  std::vector<Slot> ring(slots);
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t next = 0;      // the next item a worker takes
  std::size_t consumed = 0;  // items handed to consume so far
  bool stop = false;

  auto work = [&](std::size_t w) {
    for (;;) {
      std::size_t item = 0;
      {
        std::unique_lock lock(mutex);
        if (stop || next >= n) return;
        item = next++;
        // Slot item % slots is free once the consumer is past item − slots.
        changed.wait(lock, [&] { return stop || item < consumed + slots; });
        if (stop) return;
      }
      Slot& slot = ring[item % slots];
      Status s = produce(w, item, slot.buffer);
      {
        const std::lock_guard lock(mutex);
        slot.item = item;
        slot.status = std::move(s);
        slot.ready = true;
      }
      changed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w) threads.emplace_back(work, w);

  Status result;
  for (std::size_t item = 0; item < n && result.ok(); ++item) {
    Slot& slot = ring[item % slots];
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return slot.ready && slot.item == item; });
    }
    result = slot.status.ok() ? consume(item, slot.buffer) : slot.status;
    {
      const std::lock_guard lock(mutex);
      slot.ready = false;
      ++consumed;
      if (!result.ok()) stop = true;
    }
    changed.notify_all();
  }
  for (std::thread& t : threads) t.join();
  return result;
}

}  // namespace lorank::merge
