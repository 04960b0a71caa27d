// The globals allowlist and the models of torch's rebuild functions and storages.
#include "io/unpickler_torch.h"

#include <array>
#include <utility>

#include "core/text.h"

namespace lorank::io::pickle_torch {
namespace {

struct Named {
  std::string_view name;
  std::string_view qualified;  // "torch.<name>", kept as the global's text
  DType dtype;
};

// torch.<T>Storage classes named in persistent ids. torch 2.x still writes these legacy
// typed names (and UntypedStorage for byte storages).
constexpr std::array<Named, 11> kStorageTypes = {{
    {"DoubleStorage", "torch.DoubleStorage", DType::kF64},
    {"FloatStorage", "torch.FloatStorage", DType::kF32},
    {"HalfStorage", "torch.HalfStorage", DType::kF16},
    {"BFloat16Storage", "torch.BFloat16Storage", DType::kBF16},
    {"LongStorage", "torch.LongStorage", DType::kI64},
    {"IntStorage", "torch.IntStorage", DType::kI32},
    {"ShortStorage", "torch.ShortStorage", DType::kI16},
    {"CharStorage", "torch.CharStorage", DType::kI8},
    {"ByteStorage", "torch.ByteStorage", DType::kU8},
    {"BoolStorage", "torch.BoolStorage", DType::kBool},
    {"UntypedStorage", "torch.UntypedStorage", DType::kU8},
}};

// torch dtype objects; inert values (newer formats may carry them in metadata).
constexpr std::array<Named, 16> kDtypes = {{
    {"float64", "torch.float64", DType::kF64},
    {"double", "torch.double", DType::kF64},
    {"float32", "torch.float32", DType::kF32},
    {"float", "torch.float", DType::kF32},
    {"float16", "torch.float16", DType::kF16},
    {"half", "torch.half", DType::kF16},
    {"bfloat16", "torch.bfloat16", DType::kBF16},
    {"int64", "torch.int64", DType::kI64},
    {"long", "torch.long", DType::kI64},
    {"int32", "torch.int32", DType::kI32},
    {"int", "torch.int", DType::kI32},
    {"int16", "torch.int16", DType::kI16},
    {"short", "torch.short", DType::kI16},
    {"int8", "torch.int8", DType::kI8},
    {"uint8", "torch.uint8", DType::kU8},
    {"bool", "torch.bool", DType::kBool},
}};

const PickleObject& item(const PickleValue& v, PickleId tuple, std::size_t i) {
  return v.objects[v.objects[tuple].items[i]];
}

Result<int64_t> non_negative_int(const PickleObject& o, std::string_view what) {
  if (o.kind != PickleKind::kInt) {
    return corruption("{} is a {}, not an int", what, pickle_kind_name(o.kind));
  }
  if (o.integer < 0) return corruption("{} is negative ({})", what, o.integer);
  return o.integer;
}

Result<std::vector<int64_t>> int_tuple(const PickleValue& v, const PickleObject& o,
                                       std::string_view what) {
  if (o.kind != PickleKind::kTuple) {
    return corruption("{} is a {}, not a tuple", what, pickle_kind_name(o.kind));
  }
  std::vector<int64_t> out;
  out.reserve(o.items.size());
  for (PickleId id : o.items) {
    LORANK_ASSIGN_OR_RETURN(int64_t x, non_negative_int(v.objects[id], what));
    out.push_back(x);
  }
  return out;
}

}  // namespace

std::optional<PickleObject> resolve_global(std::string_view module, std::string_view name) {
  PickleObject g;
  g.kind = PickleKind::kGlobal;
  if (module == "collections" && name == "OrderedDict") {
    g.global = PickleGlobal::kOrderedDict;
    g.text = "collections.OrderedDict";
    return g;
  }
  if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
    g.global = PickleGlobal::kRebuildTensorV2;
    g.text = "torch._utils._rebuild_tensor_v2";
    return g;
  }
  if (module == "torch._utils" && name == "_rebuild_parameter") {
    g.global = PickleGlobal::kRebuildParameter;
    g.text = "torch._utils._rebuild_parameter";
    return g;
  }
  if (module != "torch") return std::nullopt;
  for (const Named& s : kStorageTypes) {
    if (name == s.name) {
      g.global = PickleGlobal::kStorageType;
      g.dtype = s.dtype;
      g.text = s.qualified;
      return g;
    }
  }
  for (const Named& d : kDtypes) {
    if (name == d.name) {
      g.global = PickleGlobal::kDtype;
      g.dtype = d.dtype;
      g.text = d.qualified;
      return g;
    }
  }
  return std::nullopt;
}

Status check_ordered_dict_args(const PickleValue& v, PickleId args) {
  if (!v.objects[args].items.empty()) {
    return not_supported("OrderedDict with {} constructor arguments (expected none)",
                         v.objects[args].items.size());
  }
  return Status();
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
//                    backward_hooks[, metadata]).
Result<PickleObject> make_tensor(PickleValue& v, PickleId args) {
  const std::size_t n = v.objects[args].items.size();
  if (n != 6 && n != 7) {
    return corruption("_rebuild_tensor_v2 takes 6 or 7 arguments, got {}", n);
  }
  const PickleObject& storage = item(v, args, 0);
  if (storage.kind != PickleKind::kStorage) {
    return corruption("_rebuild_tensor_v2 storage is a {}, not a persistent storage",
                      pickle_kind_name(storage.kind));
  }
  PickleTensor t;
  t.storage = static_cast<std::size_t>(storage.integer);
  LORANK_ASSIGN_OR_RETURN(t.storage_offset,
                          non_negative_int(item(v, args, 1), "_rebuild_tensor_v2 storage_offset"));
  LORANK_ASSIGN_OR_RETURN(t.size, int_tuple(v, item(v, args, 2), "_rebuild_tensor_v2 size"));
  LORANK_ASSIGN_OR_RETURN(t.stride, int_tuple(v, item(v, args, 3), "_rebuild_tensor_v2 stride"));
  if (t.size.size() != t.stride.size()) {
    return corruption("_rebuild_tensor_v2 size has {} dims but stride has {}", t.size.size(),
                      t.stride.size());
  }
  if (item(v, args, 4).kind != PickleKind::kBool) {
    return corruption("_rebuild_tensor_v2 requires_grad is a {}, not a bool",
                      pickle_kind_name(item(v, args, 4).kind));
  }
  // backward_hooks: an (empty) OrderedDict; real hooks would need forbidden globals.
  if (item(v, args, 5).kind != PickleKind::kDict ||
      (n == 7 && item(v, args, 6).kind != PickleKind::kDict)) {
    return corruption("_rebuild_tensor_v2 backward_hooks/metadata must be dicts");
  }
  PickleObject o;
  o.kind = PickleKind::kTensor;
  o.integer = static_cast<int64_t>(v.tensors.size());
  v.tensors.push_back(std::move(t));
  return o;
}

// _rebuild_parameter(data, requires_grad, backward_hooks): the parameter is its data.
Result<PickleId> parameter_data(const PickleValue& v, PickleId args) {
  const PickleObject& a = v.objects[args];
  if (a.items.size() != 3 || v.objects[a.items[0]].kind != PickleKind::kTensor) {
    return corruption("_rebuild_parameter expects (tensor, requires_grad, hooks)");
  }
  return a.items[0];
}

Result<PickleObject> make_storage(PickleValue& v, PickleId pid) {
  const PickleObject& p = v.objects[pid];
  if (p.kind != PickleKind::kTuple || p.items.size() != 5 ||
      item(v, pid, 0).kind != PickleKind::kString || item(v, pid, 0).text != "storage") {
    return corruption("persistent id is not a ('storage', type, key, location, numel) tuple");
  }
  const PickleObject& type = item(v, pid, 1);
  if (type.kind != PickleKind::kGlobal || type.global != PickleGlobal::kStorageType) {
    return corruption("persistent id storage type is not a torch storage class");
  }
  if (item(v, pid, 2).kind != PickleKind::kString || item(v, pid, 3).kind != PickleKind::kString) {
    return corruption("persistent id key and location must be strings");
  }
  PickleStorage s;
  s.key = item(v, pid, 2).text;
  s.dtype = type.dtype;
  s.location = item(v, pid, 3).text;
  LORANK_ASSIGN_OR_RETURN(s.numel, non_negative_int(item(v, pid, 4), "persistent id numel"));
  PickleObject o;
  o.kind = PickleKind::kStorage;
  // Tensors that view one storage name the same key; keep one record per key.
  const auto [it, inserted] = v.storage_by_key.emplace(s.key, v.storages.size());
  if (!inserted) {
    const PickleStorage& seen = v.storages[it->second];
    if (seen.dtype != s.dtype || seen.numel != s.numel) {
      return corruption("storage '{}' is named twice with different types or sizes",
                        printable(s.key, 64));
    }
    o.integer = static_cast<int64_t>(it->second);
    return o;
  }
  o.integer = static_cast<int64_t>(v.storages.size());
  v.storages.push_back(s);
  return o;
}

Status build(const PickleValue& v, PickleId target, PickleId state) {
  const PickleObject& t = v.objects[target];
  const PickleKind s = v.objects[state].kind;
  if (t.kind != PickleKind::kDict || !t.ordered) {
    return not_supported("BUILD on a {} is not supported", pickle_kind_name(t.kind));
  }
  if (s != PickleKind::kDict && s != PickleKind::kNone) {
    return corruption("BUILD state for an OrderedDict is a {}", pickle_kind_name(s));
  }
  return Status();
}

}  // namespace lorank::io::pickle_torch
