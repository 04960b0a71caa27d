// SafetensorsFile (mmap + validated header, zero-copy views) and write_safetensors.
#include "lorank/safetensors.h"

#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/text.h"
#include "io/file.h"
#include "io/safetensors_header.h"

namespace lorank {

struct SafetensorsFile::State {
  io::MappedFile file;
  uint64_t header_size = 0;
  io::SafetensorsHeader header;  // owns the names the views point into
  std::vector<TensorView> views;
  std::unordered_map<std::string_view, std::size_t> by_name;
};

namespace {


constexpr uint64_t kLengthFieldBytes = 8;

uint64_t load_u64_le(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint64_t>(p[i]);
  return v;
}

// The bytes tensor `t` takes: its data's size, or shape x dtype when streamed.
uint64_t stored_size(const TensorView& t, bool streamed) {
  return streamed ? static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype) : t.data.size();
}

Status check_for_write(std::span<const TensorView> tensors,
                       const std::map<std::string, std::string>& metadata, bool streamed) {
  std::unordered_set<std::string_view> names;
  for (const TensorView& t : tensors) {
    if (t.name == "__metadata__") return invalid_data("tensor name '__metadata__' is reserved");
    if (!is_valid_utf8(t.name))
      return invalid_data("tensor name '{}' is not valid UTF-8", t.name);
    if (!names.insert(t.name).second) return invalid_data("duplicate tensor name '{}'", t.name);
    uint64_t nbytes = dtype_size(t.dtype);
    for (int64_t d : t.shape.dims) {
      if (d < 0)
        return invalid_data("tensor '{}': negative dim in shape {}", t.name,
                                t.shape.to_string());
      if (__builtin_mul_overflow(nbytes, static_cast<uint64_t>(d), &nbytes)) {
        return invalid_data("tensor '{}': shape {} overflows", t.name, t.shape.to_string());
      }
    }
    if (!streamed && nbytes != t.data.size()) {
      return invalid_data("tensor '{}': {} bytes of data, shape {} of {} needs {}", t.name,
                              t.data.size(), t.shape.to_string(), dtype_name(t.dtype), nbytes);
    }
  }
  for (const auto& [key, value] : metadata) {
    if (!is_valid_utf8(key) || !is_valid_utf8(value)) {
      return invalid_data("metadata entry '{}' is not valid UTF-8", key);
    }
  }
  return Status();
}

// The header text, built by hand in one pass: nlohmann's ordered_json would find each key
// by linear search (quadratic in the tensor count). Strings are escaped by nlohmann's
// dump(), which cannot throw because check_for_write() accepted only valid UTF-8.
std::string header_json(std::span<const TensorView> tensors,
                        const std::map<std::string, std::string>& metadata, bool streamed) {
  auto quoted = [](std::string_view s) { return nlohmann::json(s).dump(); };
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : metadata) {
      if (!first) json += ',';
      first = false;
      json += quoted(key);
      json += ':';
      json += quoted(value);
    }
    json += '}';
  }
  uint64_t offset = 0;
  for (const TensorView& t : tensors) {
    if (json.size() > 1) json += ',';
    const uint64_t end = offset + stored_size(t, streamed);
    json += quoted(t.name);
    json += fmt::format(":{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                        dtype_name(t.dtype), fmt::join(t.shape.dims, ","), offset, end);
    offset = end;
  }
  json += '}';
  return json;
}

}  // namespace

Result<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  auto fail = [&path](const Status& s) {
    return Status(s.code(), fmt::format("safetensors file '{}': {}", path.string(), s.message()));
  };
  auto state = std::make_unique<State>();
  LORANK_ASSIGN_OR_RETURN(state->file, io::MappedFile::open(path));
  const std::span<const std::byte> bytes = state->file.bytes();
  if (bytes.size() < kLengthFieldBytes) {
    return fail(
        corruption("file is {} bytes, shorter than the 8-byte header length", bytes.size()));
  }
  const uint64_t n = load_u64_le(bytes.data());
  const uint64_t after_length = bytes.size() - kLengthFieldBytes;
  if (n > kSafetensorsMaxHeaderBytes) {
    return fail(
        corruption("header length {} exceeds the {}-byte limit", n, kSafetensorsMaxHeaderBytes));
  }
  if (n > after_length) {
    return fail(
        corruption("header length {} exceeds the {} bytes after the length field (truncated?)", n,
                   after_length));
  }
  state->header_size = n;
  const auto* json_begin = reinterpret_cast<const char*>(bytes.data() + kLengthFieldBytes);
  auto header = io::parse_safetensors_header(std::string_view(json_begin, n), after_length - n);
  if (!header) return fail(header.error());
  state->header = std::move(header).value();

  const std::byte* data = bytes.data() + kLengthFieldBytes + n;
  state->views.reserve(state->header.entries.size());
  for (const io::SafetensorsEntry& e : state->header.entries) {
    state->by_name.emplace(e.name, state->views.size());
    state->views.push_back(TensorView{e.name, e.dtype, e.shape,
                                      std::span<const std::byte>(data + e.begin, e.end - e.begin)});
  }
  return SafetensorsFile(std::move(state));
}

SafetensorsFile::SafetensorsFile(std::unique_ptr<State> state) : state_(std::move(state)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

std::span<const TensorView> SafetensorsFile::tensors() const { return state_->views; }

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = state_->by_name.find(name);
  return it == state_->by_name.end() ? nullptr : &state_->views[it->second];
}

const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
  return state_->header.metadata;
}

const std::filesystem::path& SafetensorsFile::path() const { return state_->file.path(); }
uint64_t SafetensorsFile::header_size() const { return state_->header_size; }
uint64_t SafetensorsFile::file_size() const { return state_->file.size(); }

Status write_safetensors(const std::filesystem::path& path, std::span<const TensorView> tensors,
                         const std::map<std::string, std::string>& metadata,
                         const SafetensorsWriteOptions& options) {
  auto fail = [&path](const Status& s) {
    return Status(s.code(),
                  fmt::format("writing safetensors '{}': {}", path.string(), s.message()));
  };
  const bool streamed = static_cast<bool>(options.data_source);
  if (Status s = check_for_write(tensors, metadata, streamed); !s.ok()) return fail(s);

  std::string json = header_json(tensors, metadata, streamed);
  // Space padding to a multiple of 8 puts the data section on an 8-byte boundary, so
  // readers can use aligned loads; JSON ignores trailing whitespace.
  json.append((8 - json.size() % 8) % 8, ' ');
  if (json.size() > kSafetensorsMaxHeaderBytes) {
    return fail(invalid_data("header of {} bytes exceeds the {}-byte limit", json.size(),
                                 kSafetensorsMaxHeaderBytes));
  }

  LORANK_ASSIGN_OR_RETURN(io::AtomicFileWriter writer,
                          io::AtomicFileWriter::create(path, options.overwrite));
  std::array<std::byte, 8> length;
  for (int i = 0; i < 8; ++i) length[i] = static_cast<std::byte>((json.size() >> (8 * i)) & 0xff);
  LORANK_RETURN_IF_ERROR(writer.append(length));
  LORANK_RETURN_IF_ERROR(writer.append(std::as_bytes(std::span<const char>(json))));
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorView& t = tensors[i];
    LORANK_RETURN_IF_ERROR(io::append_tensor_data(writer, options.data_source, i, t.name, t.data,
                                                  stored_size(t, streamed)));
  }
  return writer.commit(options.before_publish);
}

void SafetensorsFile::release_pages(std::span<const std::byte> bytes) const {
  state_->file.release_pages(bytes);
}

}  // namespace lorank
