// GgufValue: factories, accessors and the message text. Encoding and decoding live in
// gguf_codec.cc.
#include "lorank/gguf_value.h"

#include <fmt/format.h>

#include <bit>
#include <utility>

namespace lorank {

bool is_valid_gguf_type(uint32_t id) { return id <= static_cast<uint32_t>(GgufType::kF64); }

std::string gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::kU8:
      return "u8";
    case GgufType::kI8:
      return "i8";
    case GgufType::kU16:
      return "u16";
    case GgufType::kI16:
      return "i16";
    case GgufType::kU32:
      return "u32";
    case GgufType::kI32:
      return "i32";
    case GgufType::kF32:
      return "f32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kU64:
      return "u64";
    case GgufType::kI64:
      return "i64";
    case GgufType::kF64:
      return "f64";
  }
  return fmt::format("type {}", static_cast<uint32_t>(type));
}

std::size_t gguf_type_size(GgufType type) {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

GgufValue GgufValue::string(std::string s) {
  GgufValue out;
  out.type_ = GgufType::kString;
  out.bytes_ = std::move(s);
  return out;
}

GgufValue GgufValue::empty_array(GgufType element_type) {
  GgufValue out;
  out.type_ = GgufType::kArray;
  out.element_type_ = element_type;
  return out;
}

GgufValue GgufValue::string_array(std::span<const std::string> elements) {
  GgufValue out = empty_array(GgufType::kString);
  out.items_.reserve(elements.size());
  for (const std::string& s : elements) out.items_.push_back(string(s));
  return out;
}

Result<GgufValue> GgufValue::array(GgufType element_type, std::vector<GgufValue> items) {
  if (!is_valid_gguf_type(static_cast<uint32_t>(element_type))) {
    return invalid_argument("array element type {} is not a GGUF type",
                            static_cast<uint32_t>(element_type));
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].type_ != element_type) {
      return invalid_argument("array<{}> item {} is a {}", gguf_type_name(element_type), i,
                              gguf_type_name(items[i].type_));
    }
  }
  GgufValue out = empty_array(element_type);
  const std::size_t size = gguf_type_size(element_type);
  if (size == 0) {
    out.items_ = std::move(items);
    return out;
  }
  out.bytes_.resize(items.size() * size);
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (std::size_t b = 0; b < size; ++b) {
      out.bytes_[i * size + b] = static_cast<char>(items[i].bits_ >> (8 * b));
    }
  }
  return out;
}

Result<GgufValue> GgufValue::packed_array(GgufType element_type, std::span<const std::byte> bytes) {
  const std::size_t size = gguf_type_size(element_type);
  if (size == 0) {
    return invalid_argument("packed array of {}: only numeric and bool elements are packed",
                            gguf_type_name(element_type));
  }
  if (bytes.size() % size != 0) {
    return invalid_data("packed array of {}: {} bytes is not a multiple of {}",
                            gguf_type_name(element_type), bytes.size(), size);
  }
  if (element_type == GgufType::kBool) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (static_cast<uint8_t>(bytes[i]) > 1) {
        return invalid_data("packed array of bool: element {} is {}, not 0 or 1", i,
                                static_cast<uint8_t>(bytes[i]));
      }
    }
  }
  GgufValue out = empty_array(element_type);
  out.bytes_.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return out;
}

uint64_t GgufValue::array_size() const {
  const std::size_t size = gguf_type_size(element_type_);
  return size == 0 ? items_.size() : bytes_.size() / size;
}

GgufValue GgufValue::at(uint64_t i) const {
  const std::size_t size = gguf_type_size(element_type_);
  if (size == 0) return items_[i];
  GgufValue out;
  out.type_ = element_type_;
  for (std::size_t b = 0; b < size; ++b) {
    out.bits_ |= uint64_t{static_cast<unsigned char>(bytes_[i * size + b])} << (8 * b);
  }
  return out;
}

const std::string* GgufValue::string_value() const {
  return type_ == GgufType::kString ? &bytes_ : nullptr;
}

std::string GgufValue::to_string() const {
  switch (type_) {
    case GgufType::kString:
      return fmt::format("string \"{}\"", bytes_);
    case GgufType::kArray:
      return fmt::format("array<{}>[{}]", gguf_type_name(element_type_), array_size());
    case GgufType::kF32:
      return fmt::format("f32 {}", *get<float>());
    case GgufType::kF64:
      return fmt::format("f64 {}", *get<double>());
    case GgufType::kBool:
      return bits_ ? "bool true" : "bool false";
    case GgufType::kI8:
      return fmt::format("i8 {}", *get<int8_t>());
    case GgufType::kI16:
      return fmt::format("i16 {}", *get<int16_t>());
    case GgufType::kI32:
      return fmt::format("i32 {}", *get<int32_t>());
    case GgufType::kI64:
      return fmt::format("i64 {}", *get<int64_t>());
    default:
      return fmt::format("{} {}", gguf_type_name(type_), bits_);
  }
}

}  // namespace lorank
