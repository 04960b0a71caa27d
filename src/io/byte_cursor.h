// A bounded little-endian reader over a byte span (the GGUF parser's only way to read).
// Every read checks the bytes remaining first and fails without moving; nothing here
// allocates, so callers can validate a length before they reserve anything for it.
#ifndef LORANK_IO_BYTE_CURSOR_H_
#define LORANK_IO_BYTE_CURSOR_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace lorank::io {

class ByteCursor {
 public:
  explicit ByteCursor(std::span<const std::byte> bytes) : bytes_(bytes) {}

  // The position from the start of the span, and the bytes after it.
  uint64_t offset() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  uint64_t size() const { return bytes_.size(); }

  // Reads an unsigned little-endian integer of T's size. Returns false (position unchanged)
  // if fewer than sizeof(T) bytes remain.
  template <typename T>
  requires std::is_unsigned_v<T>
  bool read(T& out) {
    if (remaining() < sizeof(T)) return false;
    uint64_t v = 0;
    for (std::size_t i = sizeof(T); i-- > 0;)
      v = (v << 8) | static_cast<uint64_t>(bytes_[pos_ + i]);
    pos_ += sizeof(T);
    out = static_cast<T>(v);
    return true;
  }

  // Borrows the next `n` bytes. Returns false (position unchanged) if fewer remain.
  bool read_span(uint64_t n, std::span<const std::byte>& out) {
    if (remaining() < n) return false;
    out = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool read_text(uint64_t n, std::string_view& out) {
    std::span<const std::byte> s;
    if (!read_span(n, s)) return false;
    out = std::string_view(reinterpret_cast<const char*>(s.data()), s.size());
    return true;
  }

  // Moves to absolute position `pos`. Returns false (unchanged) if pos > size().
  bool seek(uint64_t pos) {
    if (pos > bytes_.size()) return false;
    pos_ = pos;
    return true;
  }

 private:
  std::span<const std::byte> bytes_;
  uint64_t pos_ = 0;
};

}  // namespace lorank::io

#endif  // LORANK_IO_BYTE_CURSOR_H_
