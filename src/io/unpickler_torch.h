// The torch-specific half of the restricted unpickler: the globals allowlist and the
// models of the allowlisted callables (REDUCE), persistent ids (BINPERSID) and BUILD.
// Private to unpickler.cc; each function returns a Status whose message lacks the
// "pickle byte N: " prefix (the VM adds it).
#ifndef LORANK_IO_UNPICKLER_TORCH_H_
#define LORANK_IO_UNPICKLER_TORCH_H_

#include <optional>
#include <string_view>

#include "io/unpickler.h"

namespace lorank::io::pickle_torch {

// The allowlisted global `module.name` as a kGlobal object, or std::nullopt if it is not
// on the allowlist.
std::optional<PickleObject> resolve_global(std::string_view module, std::string_view name);

// Applies `callable` (a kGlobal) to `args` (a kTuple) and returns the id of the result,
// appending new objects to `v` through `add`. Returns kNotSupported for a global that is
// not callable here and kCorruption for wrong argument types or counts.
// `Add` is called as add(PickleObject) -> Result<PickleId> and enforces the object limit.
template <typename Add>
Result<PickleId> reduce(PickleValue& v, PickleId callable, PickleId args, Add&& add);

// Models BINPERSID: `pid` must be ('storage', torch.<T>Storage, key, location, numel).
// Repeated keys must agree on dtype and numel and share one PickleStorage.
Result<PickleObject> make_storage(PickleValue& v, PickleId pid);

// Models BUILD: only an OrderedDict accepts a state (a dict or None), which is ignored:
// torch uses it for `_metadata`, which carries no tensor data.
Status build(const PickleValue& v, PickleId target, PickleId state);

// Non-template helpers behind reduce().
Result<PickleObject> make_tensor(PickleValue& v, PickleId args);
Result<PickleId> parameter_data(const PickleValue& v, PickleId args);
Status check_ordered_dict_args(const PickleValue& v, PickleId args);

template <typename Add>
Result<PickleId> reduce(PickleValue& v, PickleId callable, PickleId args, Add&& add) {
  const PickleObject& c = v.objects[callable];
  if (c.kind != PickleKind::kGlobal) {
    return corruption("REDUCE callable is a {}, not a global", pickle_kind_name(c.kind));
  }
  if (v.objects[args].kind != PickleKind::kTuple) {
    return corruption("REDUCE arguments are a {}, not a tuple",
                      pickle_kind_name(v.objects[args].kind));
  }
  switch (c.global) {
    case PickleGlobal::kOrderedDict: {
      LORANK_RETURN_IF_ERROR(check_ordered_dict_args(v, args));
      PickleObject d;
      d.kind = PickleKind::kDict;
      d.ordered = true;
      return add(std::move(d));
    }
    case PickleGlobal::kRebuildTensorV2: {
      LORANK_ASSIGN_OR_RETURN(PickleObject t, make_tensor(v, args));
      return add(std::move(t));
    }
    case PickleGlobal::kRebuildParameter:
      return parameter_data(v, args);
    default:
      return not_supported("global '{}' is not callable", c.text);  // allowlisted: printable
  }
}

}  // namespace lorank::io::pickle_torch

#endif  // LORANK_IO_UNPICKLER_TORCH_H_
