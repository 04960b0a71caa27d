// write_gguf: validates everything first (so nothing is written for bad input), builds the
// header in memory, then streams header, tensor bytes and zero padding through the atomic
// writer. The layout is ggml's: infos in the given order, data packed in that order with
// every tensor (the last included) padded to the alignment.
#include <fmt/format.h>

#include <array>
#include <bit>
#include <string>
#include <unordered_set>

#include "io/file.h"
#include "io/gguf_codec.h"
#include "core/text.h"
#include "lorank/gguf.h"

namespace lorank {
namespace {

uint64_t pad_to(uint64_t n, uint64_t alignment) { return (alignment - n % alignment) % alignment; }

Result<uint32_t> check_kvs(std::span<const GgufKv> kvs) {
  if (kvs.size() > kGgufMaxKvs) {
    return invalid_data("{} KVs exceed the limit of {}", kvs.size(), kGgufMaxKvs);
  }
  uint32_t alignment = kGgufDefaultAlignment;
  std::unordered_set<std::string_view> keys;
  for (const GgufKv& kv : kvs) {
    if (kv.key.empty()) return invalid_data("empty key");
    if (kv.key.size() > kGgufMaxStringBytes)
      return invalid_data("key of {} bytes is too long", kv.key.size());
    if (!is_valid_utf8(kv.key)) return invalid_data("key '{}' is not valid UTF-8", kv.key);
    if (!keys.insert(kv.key).second) return invalid_data("duplicate key '{}'", kv.key);
    if (Status s = io::check_gguf_value_limits(kv.value); !s.ok()) {
      return s.with_context(fmt::format("key '{}'", kv.key));
    }
    if (kv.key == "general.alignment") {
      const auto a = kv.value.get<uint32_t>();
      if (!a || !std::has_single_bit(*a)) {
        return invalid_data("general.alignment must be a u32 power of two, got {}",
                                kv.value.to_string());
      }
      alignment = *a;
    }
  }
  return alignment;
}

// Checks `t` and returns its size in bytes; `streamed` tensors' data is not looked at.
Result<uint64_t> check_tensor(const GgufWriteTensor& t, bool streamed) {
  if (t.name.empty()) return invalid_data("a tensor has an empty name");
  if (!is_valid_utf8(t.name)) return invalid_data("tensor name '{}' is not valid UTF-8", t.name);
  if (t.name.size() > kGgufMaxTensorNameBytes) {
    return invalid_data("tensor name '{}' is {} bytes, over ggml's limit of {}", t.name,
                            t.name.size(), kGgufMaxTensorNameBytes);
  }
  if (t.ne.size() > kGgufMaxDims) {
    return invalid_data("tensor '{}' has {} dims, more than {}", t.name, t.ne.size(),
                            kGgufMaxDims);
  }
  const auto traits = ggml_type_traits(t.ggml_type);
  if (!traits) return invalid_data("tensor '{}' has unknown ggml type {}", t.name, t.ggml_type);
  uint64_t numel = 1;
  bool overflow = false, zero = false;
  for (uint64_t d : t.ne) {
    zero = zero || d == 0;
    overflow = overflow || d > uint64_t{INT64_MAX} || __builtin_mul_overflow(numel, d, &numel) ||
               numel > uint64_t{INT64_MAX};
  }
  if (zero) {
    numel = 0;
  } else if (overflow) {
    return invalid_data("tensor '{}' ne [{}] has more than 2^63-1 elements", t.name,
                            fmt::join(t.ne, ", "));
  }
  const uint64_t row = t.ne.empty() ? 1 : t.ne[0];
  if (row % traits->block_elements != 0) {
    return invalid_data("tensor '{}' of type {} has rows of {} elements, not a multiple of {}",
                            t.name, traits->name, row, traits->block_elements);
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel / traits->block_elements, uint64_t{traits->block_bytes},
                             &nbytes) ||
      (!streamed && nbytes != t.data.size())) {
    return invalid_data("tensor '{}': {} bytes of data, ne [{}] of {} needs {}", t.name,
                            t.data.size(), fmt::join(t.ne, ", "), traits->name, nbytes);
  }
  return nbytes;
}

Status write_zeros(io::AtomicFileWriter& w, uint64_t n) {
  static constexpr std::array<std::byte, 4096> kZeros{};
  while (n > 0) {
    const uint64_t chunk = std::min<uint64_t>(n, kZeros.size());
    LORANK_RETURN_IF_ERROR(w.append(std::span(kZeros).first(chunk)));
    n -= chunk;
  }
  return Status();
}

}  // namespace

Status write_gguf(const std::filesystem::path& path, std::span<const GgufKv> kvs,
                  std::span<const GgufWriteTensor> tensors, const GgufWriteOptions& options) {
  auto fail = [&path](const Status& s) {
    return Status(s.code(), fmt::format("writing gguf '{}': {}", path.string(), s.message()));
  };
  auto alignment = check_kvs(kvs);
  if (!alignment) return fail(alignment.error());
  if (tensors.size() > kGgufMaxTensors) {
    return fail(
        invalid_data("{} tensors exceed the limit of {}", tensors.size(), kGgufMaxTensors));
  }
  const bool streamed = static_cast<bool>(options.data_source);
  std::unordered_set<std::string_view> names;
  std::vector<uint64_t> sizes;
  sizes.reserve(tensors.size());
  for (const GgufWriteTensor& t : tensors) {
    auto size = check_tensor(t, streamed);
    if (!size) return fail(size.error());
    sizes.push_back(*size);
    if (!names.insert(t.name).second)
      return fail(invalid_data("duplicate tensor name '{}'", t.name));
  }

  std::string header = "GGUF";
  io::put_le<uint32_t>(header, kGgufVersion);
  io::put_le<uint64_t>(header, tensors.size());
  io::put_le<uint64_t>(header, kvs.size());
  for (const GgufKv& kv : kvs) {
    io::encode_gguf_string(kv.key, header);
    io::put_le<uint32_t>(header, static_cast<uint32_t>(kv.value.type()));
    io::encode_gguf_value(kv.value, header);
  }
  uint64_t offset = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const GgufWriteTensor& t = tensors[i];
    io::encode_gguf_string(t.name, header);
    io::put_le<uint32_t>(header, static_cast<uint32_t>(t.ne.size()));
    for (uint64_t d : t.ne) io::put_le<uint64_t>(header, d);
    io::put_le<uint32_t>(header, t.ggml_type);
    io::put_le<uint64_t>(header, offset);
    offset += sizes[i] + pad_to(sizes[i], *alignment);
  }
  // ggml pads the header even when there are no tensors; doing the same keeps files identical.
  header.append(pad_to(header.size(), *alignment), '\0');

  LORANK_ASSIGN_OR_RETURN(io::AtomicFileWriter writer,
                          io::AtomicFileWriter::create(path, options.overwrite));
  LORANK_RETURN_IF_ERROR(writer.append(std::as_bytes(std::span<const char>(header))));
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const GgufWriteTensor& t = tensors[i];
    LORANK_RETURN_IF_ERROR(
        io::append_tensor_data(writer, options.data_source, i, t.name, t.data, sizes[i]));
    LORANK_RETURN_IF_ERROR(write_zeros(writer, pad_to(sizes[i], *alignment)));
  }
  return writer.commit(options.before_publish);
}

Status write_gguf(const std::filesystem::path& path, std::span<const GgufKv> kvs,
                  std::span<const TensorView> tensors, const GgufWriteOptions& options) {
  std::vector<GgufWriteTensor> converted;
  converted.reserve(tensors.size());
  for (const TensorView& v : tensors) {
    auto t = GgufWriteTensor::from_view(v);
    if (!t) {
      return Status(t.error().code(),
                    fmt::format("writing gguf '{}': {}", path.string(), t.error().message()));
    }
    converted.push_back(std::move(t).value());
  }
  return write_gguf(path, kvs, std::span<const GgufWriteTensor>(converted), options);
}

}  // namespace lorank
