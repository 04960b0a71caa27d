#include "checkpoint/shard_index.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "io/json_text.h"

namespace lorank::checkpoint {
namespace {

using Json = nlohmann::json;

// A shard must be a file beside the index: anything else could read outside the model.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

Result<ShardIndex> parse_shard_index(const std::string& text, const std::filesystem::path& path) {
  auto fail = [&path](const std::string& problem) {
    return corruption("checkpoint index '{}': {}", path.string(), problem);
  };
  io::DuplicateKeyFinder finder;
  io::JsonDepthGuard guard;
  const Json root = Json::parse(
      text.begin(), text.end(),
      [&finder, &guard](int depth, nlohmann::detail::parse_event_t event, Json& parsed) {
        const bool keep = guard.keep(depth, event);
        return finder.on_event(event, parsed) && keep;
      },
      /*allow_exceptions=*/false);
  if (guard.too_deep()) return fail(io::json_too_deep_message());
  if (root.is_discarded()) return fail(fmt::format("not valid JSON ({} bytes)", text.size()));
  if (!root.is_object()) return fail(fmt::format("is {}, not a JSON object", io::describe_json(root)));
  if (const auto& dup = finder.duplicate()) {
    return fail(dup->top_level ? fmt::format("duplicate key '{}'", dup->key)
                : dup->top_key == "weight_map"
                    ? fmt::format("tensor '{}' is listed twice in weight_map", dup->key)
                    : fmt::format("'{}' has a duplicate key '{}'", dup->top_key, dup->key));
  }
  const auto map = root.find("weight_map");
  if (map == root.end()) return fail("no \"weight_map\"");
  if (!map->is_object()) {
    return fail(fmt::format("weight_map is {}, not an object", io::describe_json(*map)));
  }
  ShardIndex index;
  std::unordered_set<std::string> seen_shards;
  // Objects iterate sorted by tensor name; the shards are sorted by file name below, which
  // for transformers' model-00001-of-00003 names is their own order.
  for (const auto& [tensor, shard] : map->items()) {
    if (!shard.is_string()) {
      return fail(fmt::format("weight_map['{}'] is {}, not a file name", tensor,
                              io::describe_json(shard)));
    }
    const auto& file = shard.get_ref<const std::string&>();
    if (!is_plain_file_name(file)) {
      return fail(fmt::format("weight_map['{}'] names '{}', which is not a file beside the index",
                              tensor, file));
    }
    if (seen_shards.insert(file).second) index.shards.push_back(file);
    index.weight_map.emplace_back(tensor, file);
  }
  if (index.weight_map.empty()) return fail("weight_map is empty");
  std::sort(index.shards.begin(), index.shards.end());
  if (const auto meta = root.find("metadata"); meta != root.end() && !meta->is_null()) {
    if (!meta->is_object()) {
      return fail(fmt::format("metadata is {}, not an object", io::describe_json(*meta)));
    }
    index.metadata_json = io::dump_json(*meta);
    if (const auto total = meta->find("total_size"); total != meta->end()) {
      // transformers writes an integer; some tools write it as a float with no fraction.
      if (total->is_number_unsigned()) {
        index.total_size = total->get<uint64_t>();
      } else if (total->is_number_float() && total->get<double>() >= 0 &&
                 total->get<double>() < 1.8e19 &&
                 total->get<double>() == static_cast<double>(static_cast<uint64_t>(total->get<double>()))) {
        index.total_size = static_cast<uint64_t>(total->get<double>());
      } else {
        return fail(fmt::format("metadata.total_size is {}, not a byte count",
                                io::describe_json(*total)));
      }
    }
  }
  return index;
}

}  // namespace lorank::checkpoint
