// The inside of a Checkpoint: the open files and the tensor list built from them.
#ifndef LORANK_CHECKPOINT_STATE_H_
#define LORANK_CHECKPOINT_STATE_H_

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lorank/checkpoint.h"
#include "lorank/gguf.h"
#include "lorank/safetensors.h"
#include "lorank/torch_checkpoint.h"

namespace lorank {

struct Checkpoint::State {
  CheckpointFormat format = CheckpointFormat::kSafetensors;
  std::filesystem::path path;
  std::vector<std::filesystem::path> files;
  std::vector<CheckpointTensor> tensors;
  std::unordered_map<std::string_view, std::size_t> by_name;
  std::map<std::string, std::string> metadata;
  std::string index_metadata_json;
  // The open files the tensors' bytes live in (and their page releasers).
  std::vector<SafetensorsFile> safetensors;
  std::optional<GgufFile> gguf;
  std::optional<TorchCheckpoint> torch;

  void add(CheckpointTensor t) { tensors.push_back(std::move(t)); }
  // Builds by_name; a second tensor of one name is corruption naming both files.
  Status index_names() {
    by_name.reserve(tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const auto [it, inserted] = by_name.emplace(tensors[i].name, i);
      if (!inserted) {
        const CheckpointTensor& first = tensors[it->second];
        return corruption("checkpoint '{}': tensor '{}' is in both '{}' and '{}'", path.string(),
                          tensors[i].name, files[first.shard].filename().string(),
                          files[tensors[i].shard].filename().string());
      }
    }
    return Status();
  }
};

}  // namespace lorank

#endif  // LORANK_CHECKPOINT_STATE_H_
