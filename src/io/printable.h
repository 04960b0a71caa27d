// Quoting untrusted names (ZIP entries, pickle strings) inside one-line error messages.
#ifndef LORANK_IO_PRINTABLE_H_
#define LORANK_IO_PRINTABLE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace lorank::io {

// `s` with control bytes (< 0x20, 0x7f) replaced by '?' and cut to `max_bytes` (marked
// with "..."), so that a hostile name cannot break a message across lines or bloat it.
inline std::string printable(std::string_view s, std::size_t max_bytes = 200) {
  std::string out(s.substr(0, max_bytes));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (s.size() > max_bytes) out += "...";
  return out;
}

}  // namespace lorank::io

#endif  // LORANK_IO_PRINTABLE_H_
