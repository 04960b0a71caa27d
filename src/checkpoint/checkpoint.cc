// Opening a checkpoint: format detection by content, one reader per format, and the
// cross-checks between a sharded model's index and its shards.
#include "lorank/checkpoint.h"

#include <fmt/format.h>

#include <numeric>
#include <unordered_map>
#include <utility>
#include <variant>

#include "checkpoint/shard_index.h"
#include "checkpoint/state.h"
#include "io/file.h"
#include "lorank/gguf.h"
#include "lorank/safetensors.h"
#include "lorank/torch_checkpoint.h"

namespace lorank {

namespace fs = std::filesystem;

namespace {

// An index lists names and file names only: a few hundred bytes per tensor.
constexpr uint64_t kMaxIndexBytes = 64 << 20;

// What a folder may hold, in the order it is looked for.
constexpr std::string_view kSingleSafetensorsName = "model.safetensors";
constexpr std::string_view kPytorchName = "pytorch_model.bin";

enum class FileKind { kSafetensors, kIndex, kGguf, kPytorch };

std::string_view noun(CheckpointRole role) {
  return role == CheckpointRole::kModel ? "checkpoint file" : "adapter file";
}

// Up to 4 bytes as text: printable ASCII kept, others as \xNN.
std::string printable_bytes(std::string_view bytes) {
  std::string out = "'";
  for (unsigned char c : bytes.substr(0, 4)) {
    out += c >= 0x20 && c < 0x7f && c != '\'' ? std::string(1, static_cast<char>(c))
                                              : fmt::format("\\x{:02x}", c);
  }
  return out + "'";
}

Result<FileKind> sniff(const fs::path& file, CheckpointRole role) {
  // Opened without blocking: a FIFO named x.safetensors is refused here, not waited on.
  Result<io::OpenedFile> opened = io::open_regular_file(file);
  if (!opened) return Status(opened.error().code(), fmt::format("{} {}", noun(role), opened.error().message()));
  LORANK_ASSIGN_OR_RETURN(const std::string head, io::read_head(*opened, 9, file));
  if (head.starts_with("GGUF")) return FileKind::kGguf;
  if (head.starts_with("PK\x03\x04")) return FileKind::kPytorch;
  // The name is only a hint, for the error: content decides the format.
  const std::string ext = file.extension().string();
  if (ext == ".gguf" || ext == ".bin" || ext == ".pt" || ext == ".pth") {
    return corruption("{} '{}': does not start with the {} magic (first bytes {})", noun(role),
                      file.string(), ext == ".gguf" ? "'GGUF'" : "ZIP 'PK\\x03\\x04'",
                      printable_bytes(head));
  }
  if (role == CheckpointRole::kAdapterFile) return FileKind::kSafetensors;
  // safetensors: an 8-byte header length (its top bytes 0 for any real header), then '{'.
  // Checked first, since the length's low byte may itself be '{'.
  if (head.size() == 9 && head[8] == '{' && head.substr(5, 3) == std::string(3, '\0')) {
    return FileKind::kSafetensors;
  }
  // An index is JSON text: '{' (or, broken, '[') after optional whitespace.
  const std::size_t first = head.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (head[first] == '{' || head[first] == '[')) {
    return FileKind::kIndex;
  }
  return FileKind::kSafetensors;  // its reader explains what is wrong if it is not one
}

}  // namespace

std::string_view checkpoint_format_name(CheckpointFormat format) {
  switch (format) {
    case CheckpointFormat::kSafetensors:
      return "safetensors";
    case CheckpointFormat::kShardedSafetensors:
      return "sharded safetensors";
    case CheckpointFormat::kGguf:
      return "gguf";
    case CheckpointFormat::kPytorch:
      return "pytorch";
  }
  return "unknown";
}

bool CheckpointTensor::has_values() const {
  return dtype ? is_convertible_float(*dtype) : ggml_type_dequantizable(ggml_type);
}

uint64_t CheckpointTensor::row_length() const {
  return shape.dims.empty() ? 1 : static_cast<uint64_t>(shape.dims.back());
}

uint64_t CheckpointTensor::row_count() const {
  const uint64_t len = row_length();
  return len == 0 ? 0 : static_cast<uint64_t>(shape.numel()) / len;
}

namespace {

CheckpointTensor from_view(const TensorView& v, std::size_t shard) {
  return CheckpointTensor{std::string(v.name), v.shape, v.dtype, std::string(dtype_name(v.dtype)),
                          0, v.data, shard};
}

Status add_safetensors(Checkpoint::State& s, const fs::path& file) {
  LORANK_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open(file));
  const std::size_t shard = s.files.size();
  s.files.push_back(file);
  for (const TensorView& v : f.tensors()) s.add(from_view(v, shard));
  if (shard == 0) s.metadata = f.metadata();
  s.safetensors.push_back(std::move(f));
  return Status();
}

Status add_gguf(Checkpoint::State& s, const fs::path& file, CheckpointRole role) {
  LORANK_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(file));
  const GgufValue* type = role == CheckpointRole::kModel ? f.find_kv("general.type") : nullptr;
  if (type != nullptr) {
    const auto text = type->string_value();
    if (!text) {
      return corruption("gguf file '{}': general.type is a {}, not a string", file.string(),
                        gguf_type_name(type->type()));
    }
    if (*text != "model") {
      return not_supported("gguf file '{}': general.type is \"{}\", not a model", file.string(),
                           *text);
    }
  }
  s.files.push_back(file);
  for (const GgufTensorInfo& info : f.tensor_infos()) {
    const auto traits = ggml_type_traits(info.ggml_type);
    s.add(CheckpointTensor{info.name, info.shape, info.dtype(),
                           std::string(traits ? traits->name : "?"), info.ggml_type, info.data, 0});
  }
  s.gguf = std::move(f);
  return Status();
}

Status add_pytorch(Checkpoint::State& s, const fs::path& file) {
  LORANK_ASSIGN_OR_RETURN(TorchCheckpoint f, TorchCheckpoint::open(file));
  s.files.push_back(file);
  for (const TensorView& v : f.tensors()) s.add(from_view(v, 0));
  s.torch = std::move(f);
  return Status();
}

// Opens every shard the index names and checks that index and shards tell one story.
Status add_sharded(Checkpoint::State& s, const fs::path& index_path) {
  LORANK_ASSIGN_OR_RETURN(const std::string text,
                          io::read_small_text_file(index_path, kMaxIndexBytes, "checkpoint index"));
  LORANK_ASSIGN_OR_RETURN(checkpoint::ShardIndex index,
                          checkpoint::parse_shard_index(text, index_path));
  auto fail = [&index_path](const std::string& problem) {
    return corruption("checkpoint index '{}': {}", index_path.string(), problem);
  };
  const fs::path folder = index_path.parent_path();
  for (const std::string& shard : index.shards) {
    Status opened = add_safetensors(s, folder / shard);
    if (opened.code() == StatusCode::kNotFound) {
      return not_found("checkpoint index '{}': shard '{}' is missing", index_path.string(), shard);
    }
    LORANK_RETURN_IF_ERROR(opened);
  }
  LORANK_RETURN_IF_ERROR(s.index_names());
  std::unordered_map<std::string_view, std::string_view> listed;
  for (const auto& [tensor, shard] : index.weight_map) {
    listed.emplace(tensor, shard);
    const auto it = s.by_name.find(tensor);
    if (it == s.by_name.end()) {
      return fail(fmt::format("tensor '{}' is listed in shard '{}', which does not hold it", tensor,
                              shard));
    }
    const std::string actual = s.files[s.tensors[it->second].shard].filename().string();
    if (actual != shard) {
      return fail(fmt::format("tensor '{}' is listed in shard '{}' but is in '{}'", tensor, shard,
                              actual));
    }
  }
  uint64_t bytes = 0;
  for (const CheckpointTensor& t : s.tensors) {
    if (!listed.contains(t.name)) {
      return fail(fmt::format("tensor '{}' in shard '{}' is not in the weight_map", t.name,
                              s.files[t.shard].filename().string()));
    }
    bytes += t.data.size();
  }
  if (index.total_size && *index.total_size != bytes) {
    return fail(fmt::format("metadata.total_size is {} but the shards' tensors hold {} bytes",
                            *index.total_size, bytes));
  }
  s.index_metadata_json = std::move(index.metadata_json);
  return Status();
}

// The checkpoint file inside a folder, or kNotFound saying what was looked for.
Result<fs::path> file_in_folder(const fs::path& folder) {
  for (std::string_view name : {kSafetensorsIndexName, kSingleSafetensorsName, kPytorchName}) {
    std::error_code ec;
    if (fs::exists(folder / name, ec)) return folder / name;
  }
  std::vector<fs::path> ggufs;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".gguf") ggufs.push_back(it->path());
  }
  if (ggufs.size() == 1) return ggufs.front();
  if (ggufs.size() > 1) {
    return invalid_argument("checkpoint folder '{}' holds {} .gguf files: name the one to use",
                            folder.string(), ggufs.size());
  }
  return not_found("checkpoint folder '{}' holds none of {}, {}, {} or a .gguf file",
                   folder.string(), kSafetensorsIndexName, kSingleSafetensorsName, kPytorchName);
}

}  // namespace

Result<Checkpoint> Checkpoint::open(const fs::path& path, CheckpointRole role) {
  auto state = std::make_unique<State>();
  state->path = path;
  std::error_code ec;
  if (role == CheckpointRole::kModel &&
      fs::symlink_status(path, ec).type() == fs::file_type::not_found) {
    return not_found("checkpoint '{}': no such file or folder", path.string());
  }
  fs::path file = path;
  if (role == CheckpointRole::kModel && fs::is_directory(path, ec)) {
    LORANK_ASSIGN_OR_RETURN(file, file_in_folder(path));
  }
  LORANK_ASSIGN_OR_RETURN(const FileKind kind, sniff(file, role));
  switch (kind) {
    case FileKind::kSafetensors:
      state->format = CheckpointFormat::kSafetensors;
      LORANK_RETURN_IF_ERROR(add_safetensors(*state, file));
      break;
    case FileKind::kIndex:
      state->format = CheckpointFormat::kShardedSafetensors;
      LORANK_RETURN_IF_ERROR(add_sharded(*state, file));
      break;
    case FileKind::kGguf:
      state->format = CheckpointFormat::kGguf;
      LORANK_RETURN_IF_ERROR(add_gguf(*state, file, role));
      break;
    case FileKind::kPytorch:
      state->format = CheckpointFormat::kPytorch;
      LORANK_RETURN_IF_ERROR(add_pytorch(*state, file));
      break;
  }
  if (state->by_name.empty()) LORANK_RETURN_IF_ERROR(state->index_names());
  return Checkpoint(std::move(state));
}

Checkpoint::Checkpoint(std::unique_ptr<State> state) : state_(std::move(state)) {}
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

CheckpointFormat Checkpoint::format() const { return state_->format; }
const fs::path& Checkpoint::path() const { return state_->path; }
std::span<const fs::path> Checkpoint::files() const { return state_->files; }
std::span<const CheckpointTensor> Checkpoint::tensors() const { return state_->tensors; }

const CheckpointTensor* Checkpoint::find(std::string_view name) const {
  const auto it = state_->by_name.find(name);
  return it == state_->by_name.end() ? nullptr : &state_->tensors[it->second];
}

uint64_t Checkpoint::tensor_bytes() const {
  return std::accumulate(state_->tensors.begin(), state_->tensors.end(), uint64_t{0},
                         [](uint64_t n, const CheckpointTensor& t) { return n + t.data.size(); });
}

const std::map<std::string, std::string>& Checkpoint::metadata() const { return state_->metadata; }

std::span<const GgufKv> Checkpoint::gguf_kvs() const {
  return state_->gguf ? state_->gguf->kvs() : std::span<const GgufKv>();
}

uint32_t Checkpoint::gguf_alignment() const { return state_->gguf ? state_->gguf->alignment() : 0; }

const std::string& Checkpoint::index_metadata_json() const { return state_->index_metadata_json; }

const GgufFile* Checkpoint::gguf_file() const { return state_->gguf ? &*state_->gguf : nullptr; }

void Checkpoint::release_pages(std::span<const std::byte> bytes) const {
  if (state_->gguf) state_->gguf->release_pages(bytes);
  if (state_->torch) state_->torch->release_pages(bytes);
  for (const SafetensorsFile& f : state_->safetensors) f.release_pages(bytes);
}

void Checkpoint::release_pages(const CheckpointTensor& tensor) const {
  if (state_->gguf) {
    state_->gguf->release_pages(tensor.data);
  } else if (state_->torch) {
    state_->torch->release_pages(tensor.data);
  } else if (tensor.shard < state_->safetensors.size()) {
    state_->safetensors[tensor.shard].release_pages(tensor.data);
  }
}

}  // namespace lorank
