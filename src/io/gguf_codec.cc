// GGUF value decoding and encoding. Lengths are validated before any reserve(): a count
// must fit both its cap and the bytes left (at the smallest possible element size), so a
// hostile count fails in O(1) and memory stays proportional to the file size.
#include "io/gguf_codec.h"

#include <utility>
#include <vector>

#include "core/text.h"
#include "lorank/gguf.h"

namespace lorank::io {
namespace {

// The fewest bytes one array element of `type` can occupy: a string is at least its u64
// length, an array at least its u32 element type and u64 count.
uint64_t min_element_bytes(GgufType type) {
  if (type == GgufType::kString) return 8;
  if (type == GgufType::kArray) return 12;
  return gguf_type_size(type);
}

Status truncated(const ByteCursor& c, uint64_t need, std::string_view what) {
  return corruption("truncated: {} needs {} bytes at offset {}, only {} remain", what, need,
                    c.offset(), c.remaining());
}

Result<GgufValue> decode_scalar(ByteCursor& c, GgufType type) {
  uint64_t bits = 0;
  bool ok = false;
  switch (gguf_type_size(type)) {
    case 1: {
      uint8_t v;
      ok = c.read(v);
      bits = v;
      break;
    }
    case 2: {
      uint16_t v;
      ok = c.read(v);
      bits = v;
      break;
    }
    case 4: {
      uint32_t v;
      ok = c.read(v);
      bits = v;
      break;
    }
    default: {
      ok = c.read(bits);
      break;
    }
  }
  if (!ok) return truncated(c, gguf_type_size(type), gguf_type_name(type) + " value");
  switch (type) {
    case GgufType::kU8:
      return GgufValue::of(static_cast<uint8_t>(bits));
    case GgufType::kI8:
      return GgufValue::of(static_cast<int8_t>(bits));
    case GgufType::kU16:
      return GgufValue::of(static_cast<uint16_t>(bits));
    case GgufType::kI16:
      return GgufValue::of(static_cast<int16_t>(bits));
    case GgufType::kU32:
      return GgufValue::of(static_cast<uint32_t>(bits));
    case GgufType::kI32:
      return GgufValue::of(static_cast<int32_t>(bits));
    case GgufType::kF32:
      return GgufValue::of(std::bit_cast<float>(static_cast<uint32_t>(bits)));
    case GgufType::kU64:
      return GgufValue::of(bits);
    case GgufType::kI64:
      return GgufValue::of(static_cast<int64_t>(bits));
    case GgufType::kF64:
      return GgufValue::of(std::bit_cast<double>(bits));
    default:
      break;
  }
  // kBool: ggml reads any non-zero byte as true; a strict reader that must write values
  // back bit-identically keeps only 0 and 1.
  if (bits > 1) return corruption("bool byte at offset {} is {}, not 0 or 1", c.offset() - 1, bits);
  return GgufValue::of(bits == 1);
}

Result<GgufValue> decode_array(ByteCursor& c, int depth) {
  if (depth > kGgufMaxArrayDepth) {
    return corruption("arrays nested deeper than {} levels at offset {}", kGgufMaxArrayDepth,
                      c.offset());
  }
  uint32_t type_id = 0;
  uint64_t n = 0;
  if (!c.read(type_id)) return truncated(c, 4, "array element type");
  if (!is_valid_gguf_type(type_id)) {
    return corruption("bad array element type {} at offset {}", type_id, c.offset() - 4);
  }
  if (!c.read(n)) return truncated(c, 8, "array length");
  const auto type = static_cast<GgufType>(type_id);
  const uint64_t min_bytes = min_element_bytes(type);
  if (n > kGgufMaxArrayElements) {
    return corruption("array of {} {} elements at offset {} exceeds the limit of {}", n,
                      gguf_type_name(type), c.offset() - 8, kGgufMaxArrayElements);
  }
  // Division instead of n * min_bytes: the product could wrap.
  if (n > c.remaining() / min_bytes) {
    return corruption(
        "array of {} {} elements at offset {} needs at least {} bytes, only {} remain", n,
        gguf_type_name(type), c.offset() - 8, n * min_bytes, c.remaining());
  }
  if (gguf_type_size(type) != 0) {
    std::span<const std::byte> bytes;
    c.read_span(n * min_bytes, bytes);  // cannot fail: checked above
    if (type == GgufType::kBool) {
      for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (static_cast<uint8_t>(bytes[i]) > 1) {
          return corruption("bool array element {} at offset {} is {}, not 0 or 1", i,
                            c.offset() - bytes.size() + i, static_cast<uint8_t>(bytes[i]));
        }
      }
    }
    return GgufValue::packed_array(type, bytes);
  }
  std::vector<GgufValue> items;
  items.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    LORANK_ASSIGN_OR_RETURN(GgufValue item, decode_gguf_value(c, type_id, depth + 1));
    items.push_back(std::move(item));
  }
  return GgufValue::array(type, std::move(items));
}

}  // namespace

Result<std::string_view> decode_gguf_string(ByteCursor& c, std::string_view what) {
  uint64_t n = 0;
  if (!c.read(n)) return truncated(c, 8, fmt::format("{} length", what));
  if (n > kGgufMaxStringBytes) {
    return corruption("{} length {} at offset {} exceeds the limit of {} bytes", what, n,
                      c.offset() - 8, kGgufMaxStringBytes);
  }
  std::string_view text;
  if (!c.read_text(n, text)) {
    return corruption("{} length {} at offset {} exceeds the {} bytes remaining", what, n,
                      c.offset() - 8, c.remaining());
  }
  // GGUF strings are UTF-8 by the spec; checked here so that no later message, table or
  // JSON report meets bytes it cannot show.
  if (!is_valid_utf8(text)) {
    return corruption("GGUF {} at offset {} is not valid UTF-8", what, c.offset() - 8 - n);
  }
  return text;
}

Result<GgufValue> decode_gguf_value(ByteCursor& c, uint32_t type_id, int depth) {
  if (!is_valid_gguf_type(type_id)) {
    return corruption("bad value type {} before offset {}", type_id, c.offset());
  }
  const auto type = static_cast<GgufType>(type_id);
  if (type == GgufType::kArray) return decode_array(c, depth);
  if (type == GgufType::kString) {
    LORANK_ASSIGN_OR_RETURN(std::string_view s, decode_gguf_string(c, "string"));
    return GgufValue::string(std::string(s));
  }
  return decode_scalar(c, type);
}

void encode_gguf_string(std::string_view s, std::string& out) {
  put_le<uint64_t>(out, s.size());
  out.append(s);
}

void encode_gguf_value(const GgufValue& value, std::string& out) {
  if (value.type() == GgufType::kString) {
    encode_gguf_string(*value.string_value(), out);
  } else if (value.is_array()) {
    put_le<uint32_t>(out, static_cast<uint32_t>(value.element_type()));
    put_le<uint64_t>(out, value.array_size());
    const auto packed = value.packed();
    out.append(reinterpret_cast<const char*>(packed.data()), packed.size());
    for (const GgufValue& item : value.items()) encode_gguf_value(item, out);
  } else {
    const std::size_t size = gguf_type_size(value.type());
    for (std::size_t i = 0; i < size; ++i)
      out.push_back(static_cast<char>(value.bits() >> (8 * i)));
  }
}

Status check_gguf_value_limits(const GgufValue& value, int depth) {
  if (value.type() == GgufType::kString && value.string_value()->size() > kGgufMaxStringBytes) {
    return invalid_data("string of {} bytes exceeds the limit of {}",
                            value.string_value()->size(), kGgufMaxStringBytes);
  }
  if (value.type() == GgufType::kString && !is_valid_utf8(*value.string_value())) {
    return invalid_argument("string is not valid UTF-8 (the reader would refuse it)");
  }
  if (!value.is_array()) return Status();
  if (depth > kGgufMaxArrayDepth) {
    return invalid_data("arrays nested deeper than {} levels", kGgufMaxArrayDepth);
  }
  if (value.array_size() > kGgufMaxArrayElements) {
    return invalid_data("array of {} elements exceeds the limit of {}", value.array_size(),
                            kGgufMaxArrayElements);
  }
  for (const GgufValue& item : value.items()) {
    LORANK_RETURN_IF_ERROR(check_gguf_value_limits(item, depth + 1));
  }
  return Status();
}

}  // namespace lorank::io
