// Base-model checkpoints: one read-only, format-neutral store of named tensors.
//
// A Checkpoint is what `merge` and `audit --base` read W from. It opens, by content:
//   - a safetensors file;
//   - a sharded safetensors model: a folder holding model.safetensors.index.json, or that
//     index file itself (every shard is opened and cross-checked against the index);
//   - a GGUF model (general.type "model" or absent), quantised tensors included;
//   - a PyTorch state dict (.bin / .pt, through the restricted unpickler).
// A folder is looked into for those names in that order. Tensor bytes stay memory-mapped
// (zero copy); a streaming reader releases each tensor's pages when it is done with it.
// See docs/formats.md ("Checkpoints").
#ifndef LORANK_CHECKPOINT_H_
#define LORANK_CHECKPOINT_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lorank/gguf_value.h"
#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank {

enum class CheckpointFormat { kSafetensors, kShardedSafetensors, kGguf, kPytorch };
// "safetensors", "sharded safetensors", "gguf", "pytorch"
std::string_view checkpoint_format_name(CheckpointFormat format);

// The file name transformers gives the index of a sharded safetensors model.
inline constexpr std::string_view kSafetensorsIndexName = "model.safetensors.index.json";

// One tensor of a checkpoint. Lifetime: valid while its Checkpoint is alive (moves too).
struct CheckpointTensor {
  std::string name;
  Shape shape;                      // row-major; rows are the last dim (GGUF's ne[0])
  std::optional<DType> dtype;       // nullopt for quantised GGUF types
  std::string type_name;            // "BF16", "Q4_K", ...: what the file calls the encoding
  uint32_t ggml_type = 0;           // GGUF only: the ggml type id (0 elsewhere)
  std::span<const std::byte> data;  // exactly the tensor's stored bytes
  std::size_t shard = 0;            // index into Checkpoint::files()

  // True if read_rows() can turn it into values (floats and the dequantisable GGUF types).
  bool has_values() const;
  // Elements per row: the last dim (1 for a 0-d tensor).
  uint64_t row_length() const;
  // Number of rows: numel / row_length (0 for an empty tensor).
  uint64_t row_count() const;
};

// What a path is expected to hold. Adapters are tensor stores too: open_adapter reads its
// weights file through a Checkpoint, so every file lorank reads has one opening path.
enum class CheckpointRole {
  kModel,        // a base model: a file or folder as above; a GGUF must be a model
  kAdapterFile,  // one adapter weights file (the adapter layer finds it in its folder and
                 // checks its GGUF LoRA metadata); errors name it as an "adapter file"
};

class GgufFile;

// An open, validated checkpoint. Move-only; thread-safe for concurrent const use.
class Checkpoint {
 public:
  // Opens `path` (a file or a folder, see above). Errors are one line naming the file:
  //   kNotFound      nothing at `path`, a folder without a checkpoint, a missing shard;
  //   kCorruption    a malformed file, or an index that lies: a shard listed that lacks
  //                  the tensor, a tensor in a shard that the index does not list, a
  //                  tensor in two shards, a total_size that is not the tensors' bytes,
  //                  a shard name that leaves the folder;
  //   kNotSupported  a GGUF adapter (not a model), or a format lorank does not read;
  //   kIOError       the OS refused (FIFOs, permissions, ...).
  // The content decides the format; a .gguf/.bin/.pt/.pth name whose bytes lack that
  // format's magic is kCorruption saying so.
  static Result<Checkpoint> open(const std::filesystem::path& path,
                                 CheckpointRole role = CheckpointRole::kModel);

  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;
  ~Checkpoint();

  CheckpointFormat format() const;
  // The path given to open().
  const std::filesystem::path& path() const;
  // The files read: the one file, or every shard in index order (first appearance).
  std::span<const std::filesystem::path> files() const;
  // Every tensor: file order within each file, files in files() order.
  std::span<const CheckpointTensor> tensors() const;
  // The tensor called `name`, or nullptr.
  const CheckpointTensor* find(std::string_view name) const;
  // Total stored bytes of all tensors.
  uint64_t tensor_bytes() const;

  // safetensors `__metadata__` (of the first file; empty for GGUF and PyTorch).
  const std::map<std::string, std::string>& metadata() const;
  // GGUF: every key-value in file order (empty otherwise).
  std::span<const GgufKv> gguf_kvs() const;
  // GGUF: general.alignment (32 when absent); 0 for the other formats.
  uint32_t gguf_alignment() const;
  // Sharded safetensors: the index's "metadata" object as read (JSON text), else empty.
  const std::string& index_metadata_json() const;

  // Converts rows [row_begin, row_begin + out.size() / row_length) of `tensor` to double:
  // floats exactly, GGUF quantised types bit-exactly as ggml dequantises them (to float32,
  // then widened). kNotSupported naming the tensor for types without values;
  // kInvalidArgument if out.size() is not a whole number of rows inside the tensor.
  Status read_rows(const CheckpointTensor& tensor, uint64_t row_begin, std::span<double> out) const;
  // The same rows as float: exact for every type but F64, which is kNotSupported.
  Status read_rows(const CheckpointTensor& tensor, uint64_t row_begin, std::span<float> out) const;

  // GGUF: the open file (KVs, tensor infos); nullptr for the other formats.
  const GgufFile* gguf_file() const;

  // Drops the whole pages of `bytes` that lie in one of the checkpoint's mapped files from
  // the resident set; bytes elsewhere (heap copies) are left alone.
  void release_pages(std::span<const std::byte> bytes) const;

  // Drops `tensor`'s whole pages from the resident set (they are re-read if touched).
  void release_pages(const CheckpointTensor& tensor) const;

  struct State;  // opaque: defined and filled by the readers in src/checkpoint/

 private:
  template <typename T>
  Status read_rows_as(const CheckpointTensor& tensor, uint64_t row_begin, std::span<T> out) const;
  explicit Checkpoint(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace lorank

#endif  // LORANK_CHECKPOINT_H_
