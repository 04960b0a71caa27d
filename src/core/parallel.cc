// lorank's one thread pool (include/lorank/parallel.h).
//
// A loop offers `slots` helper places; idle workers claim them. The caller runs slot 0 and,
// when it has no jobs left, closes the offer and waits only for the helpers that did join,
// which are already draining the same job counter and so finish. No thread ever waits for
// a worker to *start*, which is what makes nested and concurrent loops deadlock-free.
#include "lorank/parallel.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace lorank {
namespace {

constexpr unsigned kMaxThreads = 1024;

using Job = std::function<void(std::size_t, std::size_t)>;

struct Loop {
  std::size_t n = 0;
  const Job* job = nullptr;
  std::size_t slots = 0;    // helper places offered
  std::size_t claimed = 0;  // helper places taken (pool mutex)
  std::size_t running = 0;  // helpers inside the loop (pool mutex)
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;  // the first exception a job threw (pool mutex)
  std::condition_variable helpers_done;
};

class Pool {
 public:
  void run(Loop& loop) {
    {
      const std::lock_guard lock(mutex_);
      start_workers(loop.slots);
      open_.push_back(&loop);
    }
    wake_.notify_all();
    drain(loop, 0);
    std::unique_lock lock(mutex_);
    // Close the offer: a worker that has not claimed a place yet never will.
    if (const auto it = std::find(open_.begin(), open_.end(), &loop); it != open_.end()) {
      open_.erase(it);
    }
    loop.helpers_done.wait(lock, [&] { return loop.running == 0; });
    if (loop.failure) std::rethrow_exception(loop.failure);
  }

 private:
  void drain(Loop& loop, std::size_t slot) {
    try {
      for (std::size_t i; (i = loop.next.fetch_add(1, std::memory_order_relaxed)) < loop.n;) {
        (*loop.job)(slot, i);
      }
    } catch (...) {
      loop.next.store(loop.n, std::memory_order_relaxed);  // hand out nothing more
      const std::lock_guard lock(mutex_);
      if (!loop.failure) loop.failure = std::current_exception();
    }
  }

  // Grows the pool to `count` workers (mutex held). Workers are detached and live until the
  // process ends, so there is no shutdown order to get wrong at exit.
  void start_workers(std::size_t count) {
    count = std::min<std::size_t>(count, kMaxThreads - 1);
    for (; workers_ < count; ++workers_) std::thread([this] { work(); }).detach();
  }

  [[noreturn]] void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return !open_.empty(); });
      Loop& loop = *open_.front();
      const std::size_t slot = ++loop.claimed;
      if (slot == loop.slots) open_.pop_front();
      ++loop.running;
      lock.unlock();
      drain(loop, slot);
      lock.lock();
      // Notified with the mutex held: once it is released the caller may return and `loop`
      // (on its stack) is gone.
      if (--loop.running == 0) loop.helpers_done.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Loop*> open_;  // loops with unclaimed helper places
  std::size_t workers_ = 0;
};

std::atomic<Pool*> g_pool{nullptr};

Pool& pool() {
  static const bool once = [] {
    g_pool.store(new Pool);
    // A forked child has none of the parent's workers and maybe a locked mutex: it starts a
    // fresh pool (the old one is abandoned, not destroyed).
    pthread_atfork(nullptr, nullptr, [] { g_pool.store(new Pool); });
    return true;
  }();
  (void)once;
  return *g_pool.load();
}

}  // namespace

std::optional<unsigned> parse_thread_count(std::string_view text) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 1 || value > kMaxThreads) return std::nullopt;
  return value;
}

unsigned default_threads() {
  // Asked once: glibc answers hardware_concurrency() by opening and reading
  // /sys/devices/system/cpu/online, which cost the merge 2,000 syscalls (0.3 s).
  static const unsigned threads = [] {
    if (const char* env = std::getenv("LORANK_NUM_THREADS")) {
      if (const std::optional<unsigned> n = parse_thread_count(env)) return *n;
    }
    return std::max(1u, std::thread::hardware_concurrency());
  }();
  return threads;
}

std::size_t worker_count(unsigned requested, std::size_t jobs) {
  const std::size_t want = std::min(requested ? requested : default_threads(), kMaxThreads);
  return std::max<std::size_t>(1, std::min(want, jobs));
}

void parallel_for_workers(std::size_t n, unsigned threads, const Job& job) {
  const std::size_t helpers = worker_count(threads, n) - 1;
  if (helpers == 0) {
    for (std::size_t i = 0; i < n; ++i) job(0, i);
    return;
  }
  Loop loop;
  loop.n = n;
  loop.job = &job;
  loop.slots = helpers;
  pool().run(loop);
}

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& job) {
  parallel_for_workers(n, threads, [&](std::size_t, std::size_t i) { job(i); });
}

}  // namespace lorank
