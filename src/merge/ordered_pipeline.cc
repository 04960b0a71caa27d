#include "merge/ordered_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "lorank/parallel.h"

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
  std::size_t next = 0;      // the next item nobody has taken yet
  std::size_t consumed = 0;  // items handed to consume so far
  bool stop = false;
  Status result;

  auto publish = [&](Slot& slot, std::size_t item, Status s) {
    {
      const std::lock_guard lock(mutex);
      slot.item = item;
      slot.status = std::move(s);
      slot.ready = true;
    }
    changed.notify_all();
  };
  auto producer = [&](std::size_t w) {
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
      publish(slot, item, produce(w, item, slot.buffer));
    }
  };
  // The consumer also produces: when the item it needs next is still untaken (the pool's
  // workers are busy elsewhere, or there are none), it computes it itself. So the run
  // finishes even if no producer job ever starts, which is what lets it live on the shared
  // pool instead of threads of its own.
  auto consumer = [&](std::size_t w) {
    for (std::size_t item = 0; item < n && result.ok(); ++item) {
      Slot& slot = ring[item % slots];
      bool mine = false;
      {
        std::unique_lock lock(mutex);
        if (next == item) {
          next = item + 1;
          mine = true;
        } else {
          changed.wait(lock, [&] { return slot.ready && slot.item == item; });
        }
      }
      if (mine) publish(slot, item, produce(w, item, slot.buffer));
      result = slot.status.ok() ? consume(item, slot.buffer) : slot.status;
      {
        const std::lock_guard lock(mutex);
        slot.ready = false;
        ++consumed;
        if (!result.ok()) stop = true;
      }
      changed.notify_all();
    }
    {
      const std::lock_guard lock(mutex);
      stop = true;  // producers that wait for ring space leave
    }
    changed.notify_all();
  };
  parallel_for_workers(workers + 1, static_cast<unsigned>(workers + 1), [&](std::size_t w, std::size_t job) {
    if (job == 0) {
      consumer(w);
    } else {
      producer(w);
    }
  });
  return result;
}

}  // namespace lorank::merge
