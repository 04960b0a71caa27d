// Running independent jobs on lorank's one thread pool.
//
// Every parallel loop in the library runs here: one process-wide pool of worker threads,
// started on first use and grown to the largest count ever asked for. The calling thread
// always takes part, and a loop never waits for a worker to become free: when the pool is
// busy (another thread's loop, or a loop nested inside a job), the caller simply does more
// of the jobs itself. So concurrent and nested calls are safe and cannot deadlock, and the
// result of a loop never depends on how many workers helped.
#ifndef LORANK_PARALLEL_H_
#define LORANK_PARALLEL_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

namespace lorank {

// The default thread count (what a `threads` of 0 means): LORANK_NUM_THREADS when it is set
// to a valid count (1..1024), else one per core. Read once, at the first call.
unsigned default_threads();

// Parses a LORANK_NUM_THREADS value: a count in 1..1024, or nothing when `text` is not one
// (the CLI turns that into a usage error; the library falls back to one per core).
std::optional<unsigned> parse_thread_count(std::string_view text);

// The thread count to use for `jobs` independent jobs when the caller asked for
// `requested` (0 = default_threads()): never more threads than jobs, at least 1.
std::size_t worker_count(unsigned requested, std::size_t jobs);

// Calls job(i) once for every i in [0, n), on up to worker_count(threads, n) threads (the
// calling thread is one of them). Jobs are handed out in index order as threads become free,
// so put the most expensive first. Returns when all jobs are done. If a job throws, no
// further jobs start, and the first exception is rethrown once the running ones have ended.
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& job);

// As above, calling job(worker, i) with worker in [0, worker_count(threads, n)) naming the
// thread slot that runs it (unique among the threads of this call), so that jobs can reuse
// per-thread state (workspaces that only grow) without locks: allocate
// worker_count(threads, n) of them and index by `worker`.
void parallel_for_workers(std::size_t n, unsigned threads,
                          const std::function<void(std::size_t worker, std::size_t i)>& job);

}  // namespace lorank

#endif  // LORANK_PARALLEL_H_
