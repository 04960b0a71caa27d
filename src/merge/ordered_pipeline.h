// Items produced in parallel and consumed in order: up to `workers` producers on lorank's
// thread pool (include/lorank/parallel.h) compute items 0..n-1 into a ring of 2·workers
// buffers while one consumer hands them, in index order, to `consume`, and computes an item
// itself whenever no producer has taken it yet. A producer waits only when the consumer is
// a full ring behind, so producing and consuming overlap.
#ifndef LORANK_MERGE_ORDERED_PIPELINE_H_
#define LORANK_MERGE_ORDERED_PIPELINE_H_

#include <cstddef>
#include <functional>
#include <vector>

#include "lorank/status.h"

namespace lorank::merge {

// produce(worker, item, buffer) fills `buffer` (reused; any size) for `item`, with `worker`
// in [0, workers] (workers + 1 slots: the producers' and the consumer's) naming the thread,
// for per-thread scratch; consume(item, buffer) is called for items 0, 1, …, n−1 in order,
// never two at once.
// The first error (by item order, or the consumer's) is returned; after an error no new
// item is started and no later item is consumed.
Status run_ordered_pipeline(
    std::size_t n, std::size_t workers,
    const std::function<Status(std::size_t worker, std::size_t item, std::vector<std::byte>& buffer)>& produce,
    const std::function<Status(std::size_t item, const std::vector<std::byte>& buffer)>& consume);

}  // namespace lorank::merge

#endif  // LORANK_MERGE_ORDERED_PIPELINE_H_
