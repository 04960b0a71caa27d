// GgufFile::open: maps the file and validates it in one pass through a bounded cursor
// (header, KVs, alignment, tensor infos), then checks the data layout. Every count is
// checked against its cap and the bytes left before anything is reserved.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <numeric>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "io/byte_cursor.h"
#include "io/file.h"
#include "io/gguf_codec.h"
#include "lorank/gguf.h"

namespace lorank {

namespace {

// What one pass over the file produces.
struct Parsed {
  uint32_t version = 0;
  uint32_t alignment = kGgufDefaultAlignment;
  uint64_t data_offset = 0;
  std::vector<GgufKv> kvs;
  std::vector<GgufTensorInfo> infos;
};

constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;          // key length, 1-byte key, type, u8
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset

Status truncated(const io::ByteCursor& c, uint64_t need, std::string_view what) {
  return corruption("truncated: {} needs {} bytes at offset {}, only {} remain", what, need,
                    c.offset(), c.remaining());
}

Status read_header(io::ByteCursor& c, uint32_t& version, uint64_t& n_tensors, uint64_t& n_kv) {
  std::string_view magic;
  if (!c.read_text(4, magic)) {
    return corruption("file is {} bytes, too short for the 4-byte magic", c.size());
  }
  if (magic != "GGUF") {
    std::string shown;
    for (char ch : magic) shown += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
    return corruption("bad magic '{}', expected 'GGUF'", shown);
  }
  if (!c.read(version)) return truncated(c, 4, "version");
  if (version == 0) return corruption("bad version 0");
  if ((version & 0xffffu) == 0) {
    return not_supported("version {:#010x} looks byte-swapped: big-endian GGUF is not supported",
                         version);
  }
  if (version == 1) return not_supported("GGUF version 1 is not supported (only 2 and 3)");
  if (version > kGgufVersion) {
    return not_supported("GGUF version {} is newer than the supported version {}", version,
                         kGgufVersion);
  }
  if (!c.read(n_tensors)) return truncated(c, 8, "tensor count");
  if (!c.read(n_kv)) return truncated(c, 8, "KV count");
  if (n_tensors > kGgufMaxTensors) {
    return corruption("tensor count {} exceeds the limit of {}", n_tensors, kGgufMaxTensors);
  }
  if (n_kv > kGgufMaxKvs)
    return corruption("KV count {} exceeds the limit of {}", n_kv, kGgufMaxKvs);
  // Both counts are ≤ 2^20 now, so the sum cannot wrap.
  const uint64_t min_bytes = n_kv * kMinKvBytes + n_tensors * kMinTensorInfoBytes;
  if (min_bytes > c.remaining()) {
    return corruption("{} KVs and {} tensor infos need at least {} bytes, only {} remain", n_kv,
                      n_tensors, min_bytes, c.remaining());
  }
  return Status();
}

Status read_kvs(io::ByteCursor& c, uint64_t n_kv, std::vector<GgufKv>& kvs) {
  std::unordered_set<std::string_view> seen;
  kvs.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    auto key = io::decode_gguf_string(c, "key");
    if (!key) return key.error().with_context(fmt::format("kv {}", i));
    if (key->empty()) return corruption("kv {}: empty key at offset {}", i, c.offset() - 8);
    if (!seen.insert(*key).second) return corruption("kv {}: duplicate key '{}'", i, *key);
    uint32_t type = 0;
    if (!c.read(type)) return truncated(c, 4, fmt::format("kv {} ('{}') value type", i, *key));
    auto value = io::decode_gguf_value(c, type, 1);
    if (!value) return value.error().with_context(fmt::format("kv {} ('{}')", i, *key));
    kvs.push_back(GgufKv{std::string(*key), std::move(value).value()});
  }
  return Status();
}

Result<uint32_t> alignment_of(const std::vector<GgufKv>& kvs) {
  for (const GgufKv& kv : kvs) {
    if (kv.key != "general.alignment") continue;
    const auto a = kv.value.get<uint32_t>();
    if (!a) {
      return corruption("general.alignment is a {}, must be u32", gguf_type_name(kv.value.type()));
    }
    if (!std::has_single_bit(*a))
      return corruption("general.alignment {} is not a power of two", *a);
    return *a;
  }
  return kGgufDefaultAlignment;
}

// Reads one tensor info and computes its shape and byte size.
Status read_tensor_info(io::ByteCursor& c, uint64_t i, GgufTensorInfo& t, uint64_t& nbytes) {
  LORANK_ASSIGN_OR_RETURN(std::string_view name, io::decode_gguf_string(c, "tensor name"));
  if (name.empty()) return corruption("tensor {} has an empty name", i);
  if (name.size() > kGgufMaxTensorNameBytes) {
    return corruption("tensor {} name '{}' is {} bytes, over ggml's limit of {}", i, name,
                      name.size(), kGgufMaxTensorNameBytes);
  }
  t.name = std::string(name);
  uint32_t n_dims = 0;
  if (!c.read(n_dims)) return truncated(c, 4, fmt::format("tensor '{}' n_dims", name));
  if (n_dims > kGgufMaxDims) {
    return corruption("tensor '{}' has {} dims, more than {}", name, n_dims, kGgufMaxDims);
  }
  t.ne.resize(n_dims);
  uint64_t numel = 1;
  bool overflow = false;
  for (uint64_t& d : t.ne) {
    if (!c.read(d)) return truncated(c, 8, fmt::format("tensor '{}' dims", name));
    if (d > uint64_t{INT64_MAX}) return corruption("tensor '{}' has a dim {} >= 2^63", name, d);
    overflow = overflow || __builtin_mul_overflow(numel, d, &numel) || numel > uint64_t{INT64_MAX};
  }
  // ggml allows zero dims (an empty tensor); a zero makes any product of the others harmless.
  if (std::find(t.ne.begin(), t.ne.end(), 0) != t.ne.end()) {
    numel = 0;
  } else if (overflow) {
    return corruption("tensor '{}' ne [{}] has more than 2^63-1 elements", name,
                      fmt::join(t.ne, ", "));
  }
  if (!c.read(t.ggml_type)) return truncated(c, 4, fmt::format("tensor '{}' type", name));
  const auto traits = ggml_type_traits(t.ggml_type);
  if (!traits) {
    return not_supported("tensor '{}' has unknown ggml type {}", name, t.ggml_type);
  }
  const uint64_t row = n_dims == 0 ? 1 : t.ne[0];
  if (row % traits->block_elements != 0) {
    return corruption("tensor '{}' of type {} has rows of {} elements, not a multiple of {}", name,
                      traits->name, row, traits->block_elements);
  }
  if (__builtin_mul_overflow(numel / traits->block_elements, uint64_t{traits->block_bytes},
                             &nbytes)) {
    return corruption("tensor '{}' byte size overflows", name);
  }
  if (!c.read(t.offset)) return truncated(c, 8, fmt::format("tensor '{}' offset", name));
  t.shape.dims.assign(t.ne.rbegin(), t.ne.rend());  // ggml is fastest-first; Shape is not
  return Status();
}

// Every tensor is aligned, inside the data section, and no two non-empty ones overlap.
Status check_layout(std::vector<GgufTensorInfo>& infos, const std::vector<uint64_t>& nbytes,
                    std::span<const std::byte> data, uint32_t alignment) {
  for (std::size_t i = 0; i < infos.size(); ++i) {
    GgufTensorInfo& t = infos[i];
    if (t.offset % alignment != 0) {
      return corruption("tensor '{}' offset {} is not a multiple of the alignment {}", t.name,
                        t.offset, alignment);
    }
    if (t.offset > data.size() || nbytes[i] > data.size() - t.offset) {
      return corruption("tensor '{}' bytes [{}, {}) end past the {}-byte data section (truncated?)",
                        t.name, t.offset, t.offset + nbytes[i], data.size());
    }
    t.data = data.subspan(t.offset, nbytes[i]);
  }
  std::vector<std::size_t> order(infos.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return infos[a].offset < infos[b].offset; });
  const GgufTensorInfo* last = nullptr;  // the non-empty tensor that ends furthest
  for (std::size_t i : order) {
    if (nbytes[i] == 0) continue;
    const GgufTensorInfo& t = infos[i];
    if (last != nullptr && t.offset < last->offset + last->data.size()) {
      return corruption("tensor '{}' [{}, {}) overlaps tensor '{}' [{}, {})", t.name, t.offset,
                        t.offset + nbytes[i], last->name, last->offset,
                        last->offset + last->data.size());
    }
    last = &t;
  }
  return Status();
}

Status parse(io::ByteCursor& c, std::span<const std::byte> bytes, Parsed& s) {
  uint64_t n_tensors = 0, n_kv = 0;
  LORANK_RETURN_IF_ERROR(read_header(c, s.version, n_tensors, n_kv));
  LORANK_RETURN_IF_ERROR(read_kvs(c, n_kv, s.kvs));
  LORANK_ASSIGN_OR_RETURN(s.alignment, alignment_of(s.kvs));
  s.infos.resize(n_tensors);
  std::vector<uint64_t> nbytes(n_tensors);
  std::unordered_set<std::string_view> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    LORANK_RETURN_IF_ERROR(read_tensor_info(c, i, s.infos[i], nbytes[i]));
    if (!names.insert(s.infos[i].name).second) {
      return corruption("duplicate tensor name '{}' (tensor {})", s.infos[i].name, i);
    }
  }
  const uint64_t end = c.offset();
  const uint64_t padded = end + (s.alignment - end % s.alignment) % s.alignment;
  if (padded > c.size() && n_tensors > 0) {
    return corruption("truncated: the data section would start at offset {}, past the {}-byte file",
                      padded, c.size());
  }
  s.data_offset = std::min(padded, c.size());
  return check_layout(s.infos, nbytes, bytes.subspan(s.data_offset), s.alignment);
}

}  // namespace

struct GgufFile::State {
  io::MappedFile file;
  Parsed p;
  // Built once the vectors are final: the views point into their strings.
  std::unordered_map<std::string_view, std::size_t> kv_index;
  std::unordered_map<std::string_view, std::size_t> tensor_index;
};

Result<GgufFile> GgufFile::open(const std::filesystem::path& path) {
  auto state = std::make_unique<State>();
  LORANK_ASSIGN_OR_RETURN(state->file, io::MappedFile::open(path));
  io::ByteCursor cursor(state->file.bytes());
  if (Status s = parse(cursor, state->file.bytes(), state->p); !s.ok()) {
    return Status(s.code(), fmt::format("gguf file '{}': {}", path.string(), s.message()));
  }
  for (std::size_t i = 0; i < state->p.kvs.size(); ++i) {
    state->kv_index.emplace(state->p.kvs[i].key, i);
  }
  for (std::size_t i = 0; i < state->p.infos.size(); ++i) {
    state->tensor_index.emplace(state->p.infos[i].name, i);
  }
  return GgufFile(std::move(state));
}

GgufFile::GgufFile(std::unique_ptr<State> state) : state_(std::move(state)) {}
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

std::span<const GgufKv> GgufFile::kvs() const { return state_->p.kvs; }
const GgufValue* GgufFile::find_kv(std::string_view key) const {
  const auto it = state_->kv_index.find(key);
  return it == state_->kv_index.end() ? nullptr : &state_->p.kvs[it->second].value;
}
std::span<const GgufTensorInfo> GgufFile::tensor_infos() const { return state_->p.infos; }
const GgufTensorInfo* GgufFile::find_tensor_info(std::string_view name) const {
  const auto it = state_->tensor_index.find(name);
  return it == state_->tensor_index.end() ? nullptr : &state_->p.infos[it->second];
}

Result<TensorView> GgufFile::tensor(std::string_view name) const {
  const GgufTensorInfo* t = find_tensor_info(name);
  if (t == nullptr) return not_found("gguf file '{}': no tensor '{}'", path().string(), name);
  const auto dtype = t->dtype();
  if (!dtype) {
    const auto traits = ggml_type_traits(t->ggml_type);
    return not_supported("gguf file '{}': tensor '{}' has ggml type {} ({}), which has no dtype",
                         path().string(), name, traits->name, t->ggml_type);
  }
  return TensorView{t->name, *dtype, t->shape, t->data};
}

Result<std::vector<TensorView>> GgufFile::tensors() const {
  std::vector<TensorView> out;
  out.reserve(state_->p.infos.size());
  for (const GgufTensorInfo& t : state_->p.infos) {
    LORANK_ASSIGN_OR_RETURN(TensorView v, tensor(t.name));
    out.push_back(std::move(v));
  }
  return out;
}

uint32_t GgufFile::version() const { return state_->p.version; }
uint32_t GgufFile::alignment() const { return state_->p.alignment; }
uint64_t GgufFile::data_offset() const { return state_->p.data_offset; }
uint64_t GgufFile::file_size() const { return state_->file.size(); }
const std::filesystem::path& GgufFile::path() const { return state_->file.path(); }

void GgufFile::release_pages(std::span<const std::byte> bytes) const {
  state_->file.release_pages(bytes);
}

}  // namespace lorank
