// Running independent jobs on a few threads.
#ifndef LORANK_PARALLEL_H_
#define LORANK_PARALLEL_H_

#include <cstddef>
#include <functional>

namespace lorank {

// The thread count to use for `jobs` independent jobs when the caller asked for
// `requested` (0 = one per core): never more threads than jobs, at least 1.
std::size_t worker_count(unsigned requested, std::size_t jobs);

// Calls job(i) once for every i in [0, n), on worker_count(threads, n) threads (the calling
// thread is one of them). Jobs are handed out in index order as workers become free, so
// put the most expensive first. `job` must not throw. Returns when all jobs are done.
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& job);

// As above, calling job(worker, i) with worker in [0, worker_count(threads, n)) naming the
// thread that runs it, so that jobs can reuse per-thread state (workspaces that only grow)
// without locks: allocate worker_count(threads, n) of them and index by `worker`.
void parallel_for_workers(std::size_t n, unsigned threads,
                          const std::function<void(std::size_t worker, std::size_t i)>& job);

}  // namespace lorank

#endif  // LORANK_PARALLEL_H_
