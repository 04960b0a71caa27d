// The safetensors header: JSON parsing without exceptions, duplicate-key detection, and
// the structural checks that make every later data access in-bounds.
#include "io/safetensors_header.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "io/json_text.h"

namespace lorank::io {
namespace {

// Plain json (std::map objects): ordered_json inserts by linear search, which makes a
// hostile header with a million keys quadratic. Header order is recorded by the callback.
using Json = nlohmann::json;

constexpr std::string_view kMetadataKey = "__metadata__";

// The JSON value's kind with its article, for "… is <kind>, not …" messages.
std::string json_type(const Json& j) {
  if (j.is_number_unsigned()) return "an unsigned integer";
  if (j.is_number_integer()) return "a negative integer";
  const std::string_view name = j.type_name();
  return std::string(name.find_first_of("aeiou") == 0 ? "an " : "a ").append(name);
}

Result<std::map<std::string, std::string>> parse_metadata(const Json& j) {
  std::map<std::string, std::string> out;
  if (j.is_null()) return out;  // the reference reader treats null as "no metadata"
  if (!j.is_object()) return corruption("__metadata__ is {}, not an object", json_type(j));
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      return corruption("__metadata__ value for '{}' is {}, not a string", key, json_type(value));
    }
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

Result<uint64_t> parse_u64(const Json& j, std::string_view name, std::string_view what) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer())
    return corruption("tensor '{}': {} is negative ({})", name, what, j.get<int64_t>());
  if (j.is_number_float())
    return corruption("tensor '{}': {} is not an integer ({})", name, what, io::describe_json(j));
  return corruption("tensor '{}': {} is {}, not an integer", name, what, json_type(j));
}

Result<SafetensorsEntry> parse_entry(const std::string& name, const Json& j, uint64_t data_size) {
  if (!j.is_object())
    return corruption("tensor '{}': entry is {}, not an object", name, json_type(j));
  for (const auto& [key, value] : j.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      return corruption("tensor '{}': unexpected field '{}'", name, key);
    }
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!j.contains(field)) return corruption("tensor '{}': missing field '{}'", name, field);
  }
  const Json& dtype = j["dtype"];
  const Json& shape = j["shape"];
  const Json& offsets = j["data_offsets"];
  if (!dtype.is_string())
    return corruption("tensor '{}': dtype is {}, not a string", name, json_type(dtype));
  if (!shape.is_array())
    return corruption("tensor '{}': shape is {}, not an array", name, json_type(shape));
  if (!offsets.is_array() || offsets.size() != 2) {
    return corruption("tensor '{}': data_offsets must be an array of 2 integers, got {}", name,
                      describe_json(offsets));
  }
  SafetensorsEntry e;
  e.name = name;
  const auto& dtype_text = dtype.get_ref<const std::string&>();
  const std::optional<DType> parsed = parse_dtype(dtype_text);
  if (!parsed) return not_supported("tensor '{}': unsupported dtype '{}'", name, dtype_text);
  e.dtype = *parsed;

  uint64_t nbytes = dtype_size(e.dtype);
  e.shape.dims.reserve(shape.size());
  for (const Json& d : shape) {
    LORANK_ASSIGN_OR_RETURN(const uint64_t dim, parse_u64(d, name, "a shape dim"));
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(nbytes, dim, &nbytes)) {
      return corruption("tensor '{}': shape overflows 64-bit size at dim {} of {} ({})", name,
                        e.shape.dims.size(), shape.size(), dim);
    }
    e.shape.dims.push_back(static_cast<int64_t>(dim));
  }
  LORANK_ASSIGN_OR_RETURN(e.begin, parse_u64(offsets[0], name, "data_offsets[0]"));
  LORANK_ASSIGN_OR_RETURN(e.end, parse_u64(offsets[1], name, "data_offsets[1]"));
  if (e.begin > e.end) {
    return corruption("tensor '{}': data_offsets [{}, {}] begin after end", name, e.begin, e.end);
  }
  if (e.end > data_size) {
    return corruption("tensor '{}': data_offsets [{}, {}] past the end of the {}-byte data section",
                      name, e.begin, e.end, data_size);
  }
  if (e.end - e.begin != nbytes) {
    return corruption(
        "tensor '{}': data_offsets [{}, {}] hold {} bytes but shape {} of {} needs {}", name,
        e.begin, e.end, e.end - e.begin, e.shape.to_string(), dtype_name(e.dtype), nbytes);
  }
  return e;
}

// Requires the tensors to tile the data section exactly, as the reference reader does:
// overlaps would alias two tensors, holes and trailing bytes hide unaccounted data.
Status check_coverage(std::vector<SafetensorsEntry>& entries, uint64_t data_size) {
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& e : entries) {
    if (e.begin < covered) {
      return corruption("tensor '{}' [{}, {}] overlaps tensor '{}' [{}, {}]", e.name, e.begin,
                        e.end, previous->name, previous->begin, previous->end);
    }
    if (e.begin > covered) {
      return corruption("data bytes [{}, {}) before tensor '{}' are not covered by any tensor",
                        covered, e.begin, e.name);
    }
    covered = e.end;
    previous = &e;
  }
  if (covered != data_size) {
    return corruption("data bytes [{}, {}) after the last tensor are not covered by any tensor",
                      covered, data_size);
  }
  return Status();
}

}  // namespace

Result<SafetensorsHeader> parse_safetensors_header(std::string_view json, uint64_t data_size) {
  // nlohmann's lexer stops at a NUL byte as if the input ended there, which would leave
  // whatever follows unvalidated; JSON never contains a raw NUL.
  if (const auto nul = json.find('\0'); nul != std::string_view::npos) {
    return corruption("header is not valid JSON (NUL byte at header offset {})", nul);
  }
  DuplicateKeyFinder finder;
  JsonDepthGuard guard;
  const Json root = Json::parse(
      json.begin(), json.end(),
      [&finder, &guard](int depth, nlohmann::detail::parse_event_t event, Json& parsed) {
        const bool keep = guard.keep(depth, event);
        return finder.on_event(event, parsed) && keep;
      },
      /*allow_exceptions=*/false);
  // First: a refused level leaves the finder's bookkeeping unbalanced.
  if (guard.too_deep()) return corruption("header: {}", json_too_deep_message());
  if (root.is_discarded()) return corruption("header is not valid JSON ({} bytes)", json.size());
  if (!root.is_object()) return corruption("header is {}, not a JSON object", json_type(root));
  if (const auto& dup = finder.duplicate()) {
    return dup->top_level ? corruption("header has a duplicate tensor name '{}'", dup->key)
                          : corruption("header: entry '{}' has a duplicate key '{}'", dup->top_key,
                                       dup->key);
  }

  SafetensorsHeader header;
  header.entries.reserve(root.size());
  for (const auto& [key, value] : root.items()) {
    if (key == kMetadataKey) {
      LORANK_ASSIGN_OR_RETURN(header.metadata, parse_metadata(value));
      continue;
    }
    LORANK_ASSIGN_OR_RETURN(SafetensorsEntry e, parse_entry(key, value, data_size));
    header.entries.push_back(std::move(e));
  }
  // Header order first; check_coverage's stable sort by offset then keeps it for ties.
  std::sort(header.entries.begin(), header.entries.end(), [&finder](const auto& a, const auto& b) {
    return finder.position(a.name) < finder.position(b.name);
  });
  LORANK_RETURN_IF_ERROR(check_coverage(header.entries, data_size));
  return header;
}

}  // namespace lorank::io
