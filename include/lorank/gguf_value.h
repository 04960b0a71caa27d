// The GGUF metadata value model: one typed value (scalar, string or typed array, arrays may
// nest) that keeps the exact stored bits, so that a value read from a file is written back
// bit-identically (float NaN payloads and -0.0 included). Included by lorank/gguf.h.
#ifndef LORANK_GGUF_VALUE_H_
#define LORANK_GGUF_VALUE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "lorank/status.h"

namespace lorank {

// GGUF value type ids, as stored on disk (u32). Bool is one byte (0 or 1); strings are a
// u64 byte length then the bytes (no NUL); arrays are an element type, a u64 count and the
// elements (an element of type kArray is itself a typed array).
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

// True for the 13 ids above.
bool is_valid_gguf_type(uint32_t id);
// "u8", "i8", ..., "f32", "bool", "string", "array", "u64", "i64", "f64"; "type <id>" for
// unknown ids.
std::string gguf_type_name(GgufType type);
// The stored size of one element: 1, 2, 4 or 8 bytes; 0 for kString and kArray.
std::size_t gguf_type_size(GgufType type);

namespace detail {
// The unsigned integer with the same size as T: holds T's bits.
template <typename T>
using BitsOf =
    std::conditional_t<sizeof(T) == 1, uint8_t,
                       std::conditional_t<sizeof(T) == 2, uint16_t,
                                          std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
template <typename T>
inline constexpr bool kIsGgufScalar =
    std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t> || std::is_same_v<T, uint16_t> ||
    std::is_same_v<T, int16_t> || std::is_same_v<T, uint32_t> || std::is_same_v<T, int32_t> ||
    std::is_same_v<T, float> || std::is_same_v<T, bool> || std::is_same_v<T, uint64_t> ||
    std::is_same_v<T, int64_t> || std::is_same_v<T, double>;
template <typename T>
constexpr GgufType gguf_type_of() {
  if constexpr (std::is_same_v<T, uint8_t>) return GgufType::kU8;
  if constexpr (std::is_same_v<T, int8_t>) return GgufType::kI8;
  if constexpr (std::is_same_v<T, uint16_t>) return GgufType::kU16;
  if constexpr (std::is_same_v<T, int16_t>) return GgufType::kI16;
  if constexpr (std::is_same_v<T, uint32_t>) return GgufType::kU32;
  if constexpr (std::is_same_v<T, int32_t>) return GgufType::kI32;
  if constexpr (std::is_same_v<T, float>) return GgufType::kF32;
  if constexpr (std::is_same_v<T, bool>) return GgufType::kBool;
  if constexpr (std::is_same_v<T, uint64_t>) return GgufType::kU64;
  if constexpr (std::is_same_v<T, int64_t>) return GgufType::kI64;
  return GgufType::kF64;
}
}  // namespace detail

// One GGUF value. Scalars keep their bits (float and double via bit_cast, so NaN payloads
// survive); numeric and bool arrays keep their elements packed little-endian, exactly as
// stored; string arrays and arrays of arrays keep one GgufValue per element.
// Equality (==) is bitwise: NaN equals the same NaN, 0.0 differs from -0.0.
class GgufValue {
 public:
  // A u8 zero; exists so that containers can default-construct.
  GgufValue() = default;

  // Scalar factories. Example: GgufValue::of(uint32_t{32}), GgufValue::of(1.0f).
  template <typename T>
  requires detail::kIsGgufScalar<T>
  static GgufValue of(T v) {
    GgufValue out;
    out.type_ = detail::gguf_type_of<T>();
    if constexpr (std::is_same_v<T, bool>) {
      out.bits_ = v ? 1 : 0;
    } else {
      out.bits_ = std::bit_cast<detail::BitsOf<T>>(v);
    }
    return out;
  }
  // A string value; the bytes are kept as given (GGUF says UTF-8; not checked).
  static GgufValue string(std::string s);

  // A numeric or bool array from typed elements. Example: GgufValue::array_of<float>(v).
  template <typename T>
  requires detail::kIsGgufScalar<T>
  static GgufValue array_of(std::span<const T> elements) {
    GgufValue out = empty_array(detail::gguf_type_of<T>());
    out.bytes_.resize(elements.size() * sizeof(T));
    for (std::size_t i = 0; i < elements.size(); ++i) {
      const GgufValue e = of<T>(elements[i]);
      for (std::size_t b = 0; b < sizeof(T); ++b) {
        out.bytes_[i * sizeof(T) + b] = static_cast<char>(e.bits_ >> (8 * b));
      }
    }
    return out;
  }
  // A string array.
  static GgufValue string_array(std::span<const std::string> elements);

  // An array of `element_type` built from `items`. Returns kInvalidArgument if an item's
  // type differs from `element_type`.
  static Result<GgufValue> array(GgufType element_type, std::vector<GgufValue> items);
  // A numeric or bool array from its little-endian stored bytes. Returns kInvalidArgument
  // if `element_type` is kString or kArray, kInvalidData if the size is not a multiple of
  // the element size or a bool byte is not 0 or 1.
  static Result<GgufValue> packed_array(GgufType element_type, std::span<const std::byte> bytes);

  GgufType type() const { return type_; }
  bool is_array() const { return type_ == GgufType::kArray; }
  // The element type. REQUIRES: is_array().
  GgufType element_type() const { return element_type_; }
  // The number of elements. REQUIRES: is_array().
  uint64_t array_size() const;
  // Element i, as a scalar, string or array value. REQUIRES: is_array(), i < array_size().
  GgufValue at(uint64_t i) const;
  // The packed little-endian elements of a numeric or bool array; empty for other values.
  std::span<const std::byte> packed() const { return std::as_bytes(std::span(bytes_)); }
  // The elements of a string array or an array of arrays; empty for other values.
  std::span<const GgufValue> items() const { return items_; }

  // The scalar as T if type() is exactly T's GGUF type (no conversions), else nullopt.
  template <typename T>
  requires detail::kIsGgufScalar<T> std::optional<T> get()
  const {
    if (type_ != detail::gguf_type_of<T>()) return std::nullopt;
    if constexpr (std::is_same_v<T, bool>) {
      return bits_ != 0;
    } else {
      return std::bit_cast<T>(static_cast<detail::BitsOf<T>>(bits_));
    }
  }
  // The text of a string value, else nullptr. Valid while this value is alive and unchanged.
  // (A pointer, not an optional<string_view>: `for (char c : *v.string_value())` must not
  // dangle.)
  const std::string* string_value() const;
  // The stored bits of a numeric or bool scalar, zero-extended; 0 for other values.
  uint64_t bits() const { return bits_; }

  // Short text for messages and dumps: `u32 32`, `f32 0.5`, `string "lora"`, `array<u8>[3]`.
  std::string to_string() const;

  friend bool operator==(const GgufValue&, const GgufValue&) = default;

 private:
  static GgufValue empty_array(GgufType element_type);

  GgufType type_ = GgufType::kU8;
  GgufType element_type_ = GgufType::kU8;  // arrays only
  uint64_t bits_ = 0;                      // numeric and bool scalars
  std::string bytes_;                      // string text, or a numeric array's packed bytes
  std::vector<GgufValue> items_;           // string arrays and arrays of arrays
};

static_assert(std::endian::native == std::endian::little, "lorank's GGUF code assumes a LE host");

// One metadata entry. GGUF keys are non-empty and unique within a file.
struct GgufKv {
  std::string key;
  GgufValue value;

  friend bool operator==(const GgufKv&, const GgufKv&) = default;
};

}  // namespace lorank

#endif  // LORANK_GGUF_VALUE_H_
