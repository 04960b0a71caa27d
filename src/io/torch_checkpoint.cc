// TorchCheckpoint: ZIP layout checks, the restricted unpickler's state dict, and tensor
// views (zero copy when contiguous, a bounded copy otherwise).
#include "lorank/torch_checkpoint.h"

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include "io/file.h"
#include "core/text.h"
#include "io/unpickler.h"
#include "io/zip_reader.h"

namespace lorank {

struct TorchCheckpoint::State {
  io::MappedFile file;
  std::string prefix;
  std::vector<TensorView> views;  // names point into the mapping (the pickle's strings)
  std::unordered_map<std::string_view, std::size_t> by_name;
  std::vector<std::vector<std::byte>> copies;  // contiguous copies of strided tensors
};

namespace {

// The archive format versions torch's own reader accepts.
constexpr int64_t kMinVersion = 1;
constexpr int64_t kMaxVersion = 10;

// Finds the single "<prefix>/data.pkl" and checks every entry lives under "<prefix>/".
Result<std::string> find_prefix(const io::ZipReader& zip) {
  std::string prefix;
  for (const io::ZipEntry& e : zip.entries()) {
    const std::size_t slash = e.name.find('/');
    if (slash == std::string::npos || slash == 0 || e.name.substr(slash) != "/data.pkl") continue;
    if (!prefix.empty()) {
      return corruption("two pickles, '{}/data.pkl' and '{}'", printable(prefix),
                        printable(e.name));
    }
    prefix = e.name.substr(0, slash);
  }
  if (prefix.empty()) return corruption("no '<prefix>/data.pkl' entry (not a torch.save archive?)");
  for (const io::ZipEntry& e : zip.entries()) {
    if (e.name.size() <= prefix.size() || e.name.compare(0, prefix.size(), prefix) != 0 ||
        e.name[prefix.size()] != '/') {
      return corruption("entry '{}' is outside the archive folder '{}'", printable(e.name),
                        printable(prefix));
    }
  }
  return prefix;
}

std::string_view text_of(const io::ZipEntry& e) {
  return {reinterpret_cast<const char*>(e.data.data()), e.data.size()};
}

Status check_byteorder_and_version(const io::ZipReader& zip, const std::string& prefix) {
  // Files from torch < 1.10 have no byteorder record; they were written little-endian.
  if (const io::ZipEntry* b = zip.find(prefix + "/byteorder")) {
    const std::string_view order = text_of(*b);
    if (order == "big") return not_supported("byteorder 'big': only little-endian files are read");
    if (order != "little")
      return corruption("byteorder record is '{}', not 'little'", printable(order, 16));
  }
  const io::ZipEntry* v = zip.find(prefix + "/version");
  if (v == nullptr) v = zip.find(prefix + "/.data/version");
  if (v == nullptr) return corruption("no '{}/version' record", prefix);
  std::string_view text = text_of(*v);
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  int64_t version = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || version > kMaxVersion) {
      return corruption("version record '{}' is not a small decimal number",
                        printable(text_of(*v), 16));
    }
    version = version * 10 + (c - '0');
  }
  if (text.empty()) return corruption("version record is empty");
  if (version < kMinVersion || version > kMaxVersion) {
    return not_supported("archive format version {} (supported {}-{})", version, kMinVersion,
                         kMaxVersion);
  }
  return Status();
}

// Storage keys are decimal numbers in torch's writer; anything that could escape the
// data/ folder or name another record is refused.
bool is_plain_key(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key) {
    const bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Returns the element count of `size`, or an error if it overflows int64.
Result<int64_t> checked_numel(const std::vector<int64_t>& size) {
  int64_t n = 1;
  for (int64_t d : size) {
    if (__builtin_mul_overflow(n, d, &n)) return corruption("shape overflows 64 bits");
  }
  return n;
}

bool is_row_major(const io::PickleTensor& t) {
  int64_t expected = 1;
  for (std::size_t i = t.size.size(); i-- > 0;) {
    // torch ignores the stride of a size-1 dim when deciding contiguity.
    if (t.size[i] != 1 && t.stride[i] != expected) return false;
    expected *= t.size[i];
  }
  return true;
}

// Gathers the strided tensor `t` from `storage` into a new row-major buffer.
std::vector<std::byte> gather(const io::PickleTensor& t, std::span<const std::byte> storage,
                              std::size_t elem, int64_t numel) {
  std::vector<std::byte> out(static_cast<std::size_t>(numel) * elem);
  std::vector<int64_t> index(t.size.size(), 0);
  int64_t src = t.storage_offset;
  for (int64_t k = 0; k < numel; ++k) {
    std::copy_n(storage.data() + src * static_cast<int64_t>(elem), elem,
                out.data() + k * static_cast<int64_t>(elem));
    for (std::size_t d = index.size(); d-- > 0;) {  // odometer, last dim fastest
      src += t.stride[d];
      if (++index[d] < t.size[d]) break;
      src -= t.stride[d] * t.size[d];
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace

Result<TorchCheckpoint> TorchCheckpoint::open(const std::filesystem::path& path,
                                              const TorchOpenOptions& options) {
  auto fail = [&path](const Status& s) {
    return Status(s.code(), fmt::format("pytorch file '{}': {}", path.string(), s.message()));
  };
  auto state = std::make_unique<State>();
  LORANK_ASSIGN_OR_RETURN(state->file, io::MappedFile::open(path));
  const std::span<const std::byte> bytes = state->file.bytes();
  // Before 1.6, torch.save wrote bare concatenated pickles starting with PROTO 2.
  if (bytes.size() >= 2 && bytes[0] == std::byte{0x80} && bytes[1] <= std::byte{5}) {
    return fail(not_supported(
        "legacy (pre-1.6, non-ZIP) torch.save format is not supported; re-save it with a newer "
        "torch or convert it to safetensors"));
  }
  auto zip = io::ZipReader::parse(bytes);
  if (!zip) return fail(zip.error());
  auto prefix = find_prefix(*zip);
  if (!prefix) return fail(prefix.error());
  state->prefix = std::move(prefix).value();
  if (Status s = check_byteorder_and_version(*zip, state->prefix); !s.ok()) return fail(s);
  for (const io::ZipEntry& e : zip->entries()) {
    if (!options.verify_crc32 && e.name != state->prefix + "/data.pkl") continue;
    if (Status s = io::ZipReader::check_crc32(e); !s.ok()) return fail(s);
  }

  auto value = io::unpickle(zip->find(state->prefix + "/data.pkl")->data);
  if (!value) return fail(value.error().with_context("data.pkl"));
  const io::PickleValue& v = *value;
  const io::PickleObject& root = v.objects[v.root];
  if (root.kind != io::PickleKind::kDict) {
    return fail(
        not_supported("data.pkl holds a {}, not a state dict", io::pickle_kind_name(root.kind)));
  }
  // Copies of strided tensors may total at most the file size, so a tiny file cannot ask
  // for a huge allocation (a stride-0 "expanded" tensor would otherwise do that).
  uint64_t copy_budget = bytes.size();
  state->views.reserve(root.items.size() / 2);
  for (std::size_t i = 0; i < root.items.size(); i += 2) {
    const io::PickleObject& key = v.objects[root.items[i]];
    const io::PickleObject& val = v.objects[root.items[i + 1]];
    if (key.kind != io::PickleKind::kString) {
      return fail(
          not_supported("state dict key is a {}, not a string", io::pickle_kind_name(key.kind)));
    }
    if (val.kind != io::PickleKind::kTensor) {
      return fail(not_supported("state dict value '{}' is a {}, not a tensor",
                                printable(key.text), io::pickle_kind_name(val.kind)));
    }
    const io::PickleTensor& t = v.tensors[static_cast<std::size_t>(val.integer)];
    const io::PickleStorage& s = v.storages[t.storage];
    auto where = [&](const Status& st) {
      return fail(
          Status(st.code(), fmt::format("tensor '{}': {}", printable(key.text), st.message())));
    };
    if (!is_plain_key(s.key)) {
      return where(corruption("storage key '{}' is not alphanumeric", printable(s.key, 64)));
    }
    const io::ZipEntry* entry = zip->find(state->prefix + "/data/" + std::string(s.key));
    if (entry == nullptr) {
      return where(corruption("no entry '{}/data/{}' for its storage", state->prefix, s.key));
    }
    const std::size_t elem = dtype_size(s.dtype);
    if (static_cast<uint64_t>(s.numel) > entry->data.size() / elem ||
        static_cast<uint64_t>(s.numel) * elem != entry->data.size()) {
      return where(corruption("storage '{}' holds {} {} elements but its entry has {} bytes", s.key,
                              s.numel, dtype_name(s.dtype), entry->data.size()));
    }
    auto numel = checked_numel(t.size);
    if (!numel) return where(numel.error());
    // The highest element touched is offset + sum((size - 1) * stride); it must lie in the
    // storage. Sizes and strides are non-negative (the unpickler checked).
    int64_t last = t.storage_offset;
    bool overflow = false;
    for (std::size_t d = 0; d < t.size.size() && *numel > 0; ++d) {
      int64_t span = 0;
      overflow |= __builtin_mul_overflow(t.size[d] - 1, t.stride[d], &span);
      overflow |= __builtin_add_overflow(last, span, &last);
    }
    const bool empty = *numel == 0;
    if (overflow || (empty ? last > s.numel : last >= s.numel)) {
      return where(corruption(
          "shape {} stride [{}] offset {} reaches past storage '{}' of {} "
          "elements",
          Shape{t.size}.to_string(), fmt::join(t.stride, ", "), t.storage_offset, s.key, s.numel));
    }
    TensorView view{key.text, s.dtype, Shape{t.size}, {}};
    const auto n = static_cast<uint64_t>(*numel);
    if (empty) {
      view.data = entry->data.subspan(0, 0);
    } else if (is_row_major(t)) {
      view.data = entry->data.subspan(static_cast<std::size_t>(t.storage_offset) * elem, n * elem);
    } else {
      if (n > copy_budget / elem) {
        return where(
            not_supported("non-contiguous tensor of {} bytes exceeds the copy budget "
                          "({} bytes, the file size)",
                          n * elem, copy_budget));
      }
      copy_budget -= n * elem;
      state->copies.push_back(gather(t, entry->data, elem, *numel));
      view.data = state->copies.back();
    }
    if (!state->by_name.emplace(view.name, state->views.size()).second) {
      return fail(corruption("duplicate tensor name '{}'", printable(key.text)));
    }
    state->views.push_back(std::move(view));
  }
  return TorchCheckpoint(std::move(state));
}

TorchCheckpoint::TorchCheckpoint(std::unique_ptr<State> state) : state_(std::move(state)) {}
TorchCheckpoint::TorchCheckpoint(TorchCheckpoint&&) noexcept = default;
TorchCheckpoint& TorchCheckpoint::operator=(TorchCheckpoint&&) noexcept = default;
TorchCheckpoint::~TorchCheckpoint() = default;

std::span<const TensorView> TorchCheckpoint::tensors() const { return state_->views; }

const TensorView* TorchCheckpoint::find(std::string_view name) const {
  const auto it = state_->by_name.find(name);
  return it == state_->by_name.end() ? nullptr : &state_->views[it->second];
}

std::size_t TorchCheckpoint::copied_tensor_count() const { return state_->copies.size(); }
std::string_view TorchCheckpoint::archive_prefix() const { return state_->prefix; }
const std::filesystem::path& TorchCheckpoint::path() const { return state_->file.path(); }

void TorchCheckpoint::release_pages(std::span<const std::byte> bytes) const {
  state_->file.release_pages(bytes);
}

}  // namespace lorank
