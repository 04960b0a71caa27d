// Checking and quoting untrusted text from files (tensor names, ZIP entries, pickle strings).
#ifndef LORANK_IO_TEXT_H_
#define LORANK_IO_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace lorank::io {

// Returns whether `s` is well-formed UTF-8: no overlongs, surrogates or code points past
// U+10FFFF (what JSON and Python's strict decoder require).
bool is_valid_utf8(std::string_view s);

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

#endif  // LORANK_IO_TEXT_H_
