#include "io/text.h"

#include <cstdint>

namespace lorank::io {

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 1;
    std::uint32_t cp = c;
    if (c >= 0x80) {
      if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f;
      } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f;
      } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07;
      } else {
        return false;
      }
      if (s.size() - i < len) return false;
      for (std::size_t k = 1; k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xc0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3f);
      }
      if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
          (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return false;
      }
    }
    i += len;
  }
  return true;
}

}  // namespace lorank::io
