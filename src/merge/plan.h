// What a merge writes: for every output tensor, where its bytes come from.
#ifndef LORANK_MERGE_PLAN_H_
#define LORANK_MERGE_PLAN_H_

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/checkpoint.h"
#include "lorank/merge.h"
#include "merge/update_rows_exact.h"

namespace lorank::merge {

// One output tensor.
struct TensorJob {
  enum class Kind { kCopy, kMerge, kReplace, kAdd };
  Kind kind = Kind::kCopy;
  const CheckpointTensor* base = nullptr;  // the base tensor (kCopy, kMerge, kReplace)
  const TensorView* source = nullptr;      // the adapter tensor (kReplace, kAdd)
  std::string name;
  Shape shape;
  DType dtype = DType::kF32;   // the output encoding (for kCopy: the base's, if it has one)
  std::size_t rows = 0;        // the merged matrix: rows × cols (kMerge)
  std::size_t cols = 0;
  // kMerge, in adapter order: computed in double (`updates`) or, as MergeCompute decides,
  // in float (`float_updates`); one of the two is empty.
  std::vector<LowRankUpdate<double>> updates;
  std::vector<LowRankUpdate<float>> float_updates;
  std::vector<double> dora_magnitude;   // kMerge with DoRA, else empty
  std::size_t shard = 0;                // output shard (= the base tensor's shard)
  uint64_t bytes() const;               // output size in bytes (kCopy: the stored size)
};

struct MergePlan {
  std::vector<TensorJob> jobs;  // base order, added tensors last
  std::vector<std::string> warnings;
  std::size_t merged = 0, replaced = 0, added = 0, copied = 0;
};

// Matches every module of every adapter to its base tensor, checks shapes, widens the
// factors and decides each output tensor's dtype. Errors as merge_adapters() documents.
Result<MergePlan> plan_merge(const Checkpoint& base, std::span<const Adapter> adapters,
                             const MergeOptions& options);

}  // namespace lorank::merge

#endif  // LORANK_MERGE_PLAN_H_
