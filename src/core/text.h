// Checking and quoting untrusted text from files (tensor names, ZIP entries, pickle strings).
// In core/ because Status escapes every message (status.cc) and every layer quotes names.
#ifndef LORANK_CORE_TEXT_H_
#define LORANK_CORE_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "lorank/terminal_text.h"

namespace lorank {

// Returns whether `s` is well-formed UTF-8: no overlongs, surrogates or code points past
// U+10FFFF (what JSON and Python's strict decoder require).
bool is_valid_utf8(std::string_view s);

// The length of the well-formed UTF-8 sequence starting at s[i], or 0 if the byte there
// does not start one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

// `s` cut to `max_bytes` (at a character boundary, marked with "...") and escaped by
// escape_for_terminal, for quoting untrusted text inside a one-line message: a hostile name
// can neither break the line nor bloat it.
std::string printable(std::string_view s, std::size_t max_bytes = 200);

}  // namespace lorank

#endif  // LORANK_CORE_TEXT_H_
