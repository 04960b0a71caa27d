// The index of a sharded safetensors model (transformers' model.safetensors.index.json):
// {"metadata": {"total_size": <bytes>, ...}, "weight_map": {"<tensor>": "<shard file>"}}.
#ifndef LORANK_CHECKPOINT_SHARD_INDEX_H_
#define LORANK_CHECKPOINT_SHARD_INDEX_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lorank/status.h"

namespace lorank::checkpoint {

struct ShardIndex {
  // tensor name → shard file name, in the index's order.
  std::vector<std::pair<std::string, std::string>> weight_map;
  // The distinct shard file names, sorted.
  std::vector<std::string> shards;
  std::optional<uint64_t> total_size;  // metadata.total_size, if present
  std::string metadata_json;           // the "metadata" object as read ("" if absent)
};

// Parses and checks an index's text: a JSON object with a "weight_map" object of strings
// (no duplicate tensor names; shard names are plain file names: no '/', not "." or "..",
// not empty), an optional "metadata" object whose "total_size" is a non-negative integer.
// Messages (kCorruption) are one line naming `path`.
Result<ShardIndex> parse_shard_index(const std::string& text, const std::filesystem::path& path);

}  // namespace lorank::checkpoint

#endif  // LORANK_CHECKPOINT_SHARD_INDEX_H_
