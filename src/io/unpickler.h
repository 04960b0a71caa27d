// A restricted pickle VM for torch.save state dicts. Private to the library.
//
// Python's pickle runs code: GLOBAL names any importable callable and REDUCE calls it, so
// loading an untrusted .bin with pickle.load can run `os.system`. This VM never calls
// anything. It interprets the small opcode subset that torch.save (protocols 2-5) emits
// for a state dict and builds a plain value tree; the few globals it accepts are
// recognised by name and *modelled* (an OrderedDict becomes a dict, _rebuild_tensor_v2
// becomes a tensor record). Every other opcode or global is an error naming it and the
// byte offset. See docs/formats.md ("PyTorch .bin") for the opcode list and allowlist.
//
// Resource limits (all checked before allocating): at most kPickleMaxObjects values,
// kPickleMaxContainerItems references held by tuples/lists/dicts, kPickleMaxStack stack
// entries, kPickleMaxMarks open MARKs, memo indices below kPickleMaxObjects, and string
// lengths no larger than the bytes left. Strings are views into the input (no copies).
// Each opcode does O(1) work plus the items it consumes, so time is linear in the input.
// Nothing walks the tree recursively, so deep nesting or cycles (via the memo) cannot
// overflow the C++ stack.
#ifndef LORANK_IO_UNPICKLER_H_
#define LORANK_IO_UNPICKLER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank::io {

inline constexpr std::size_t kPickleMaxObjects = 2'000'000;
inline constexpr std::size_t kPickleMaxContainerItems = 8'000'000;
inline constexpr std::size_t kPickleMaxStack = 100'000;
inline constexpr std::size_t kPickleMaxMarks = 1'000;
inline constexpr std::size_t kPickleMaxGlobalNameBytes = 256;  // per GLOBAL line

// The allowlisted globals and what they are modelled as.
enum class PickleGlobal : uint8_t {
  kOrderedDict,       // collections.OrderedDict: REDUCE with () makes an empty dict
  kRebuildTensorV2,   // torch._utils._rebuild_tensor_v2: REDUCE makes a kTensor
  kRebuildParameter,  // torch._utils._rebuild_parameter: REDUCE returns its tensor argument
  kStorageType,       // torch.<T>Storage: only inside a persistent id; `dtype` says T
  kDtype,             // torch.float32 etc.: an inert value
};

enum class PickleKind : uint8_t {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kTuple,
  kList,
  kDict,  // items = key0, value0, key1, value1, ... in insertion order
  kGlobal,
  kStorage,  // a persistent-id storage reference; see PickleStorage
  kTensor,   // a rebuilt tensor; see PickleTensor
};

using PickleId = uint32_t;

struct PickleObject {
  PickleKind kind = PickleKind::kNone;
  PickleGlobal global = PickleGlobal::kDtype;  // kGlobal only
  DType dtype = DType::kF32;                   // kGlobal (storage type / dtype) only
  bool ordered = false;                        // kDict made by OrderedDict()
  int64_t integer = 0;                         // kBool (0/1), kInt; kStorage/kTensor: index
  double real = 0;                             // kFloat
  std::string_view text;                       // kString; kGlobal: "module.name"
  std::vector<PickleId> items;                 // kTuple, kList, kDict
};

// A storage named by BINPERSID ('storage', torch.<T>Storage, key, location, numel).
struct PickleStorage {
  std::string_view key;  // the record name under <prefix>/data/
  DType dtype = DType::kF32;
  int64_t numel = 0;          // elements of dtype
  std::string_view location;  // e.g. "cpu", "cuda:0"; informational
};

// The arguments of torch._utils._rebuild_tensor_v2, validated for type and sign.
struct PickleTensor {
  std::size_t storage = 0;     // index into PickleValue::storages
  int64_t storage_offset = 0;  // in elements
  std::vector<int64_t> size;
  std::vector<int64_t> stride;  // in elements, same length as size
};

// The value tree of one pickle. Ids index `objects`.
struct PickleValue {
  std::vector<PickleObject> objects;
  std::vector<PickleStorage> storages;
  std::vector<PickleTensor> tensors;
  std::unordered_map<std::string_view, std::size_t> storage_by_key;  // into storages
  PickleId root = 0;
};

// Runs the restricted VM over `bytes` up to STOP. Returns:
//   kCorruption    truncation, stack underflow, MARK mismatch, memo misses, wrong argument
//                  types, bad UTF-8, bytes after STOP, a limit above exceeded;
//   kNotSupported  an opcode outside the subset, a global outside the allowlist
//                  ("forbidden global 'os.system'"), integers wider than 64 bits.
// Messages are one line, start with "pickle byte <offset>: " and do not name the file.
// Lifetime: string views in the result point into `bytes`.
Result<PickleValue> unpickle(std::span<const std::byte> bytes);

// The name of `kind` for messages ("dict", "tensor", ...).
std::string_view pickle_kind_name(PickleKind kind);

}  // namespace lorank::io

#endif  // LORANK_IO_UNPICKLER_H_
