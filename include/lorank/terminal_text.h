// The one rule for printing untrusted text (tensor names, paths, file strings) to a
// terminal or a CSV file: nothing in the result can move the cursor, clear the screen,
// end the line or reorder what follows. docs/security.md documents the rule.
#ifndef LORANK_TERMINAL_TEXT_H_
#define LORANK_TERMINAL_TEXT_H_

#include <string>
#include <string_view>

namespace lorank {

// `text` with every byte a terminal could act on written out as an escape:
//   - C0 controls (U+0000–U+001F, newline and tab included) and DEL: `\xNN`;
//   - C1 controls (U+0080–U+009F), bidi embeddings, overrides, isolates and marks
//     (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and the line and paragraph
//     separators (U+2028, U+2029): `\uNNNN`;
//   - each byte that is not part of well-formed UTF-8: `\xNN`.
// Hex digits are lowercase. Everything else, backslashes included, is kept as it is, so
// the result is valid UTF-8 without control characters and escaping it again changes
// nothing (a rendered message may pass through twice without `\x0a` becoming `\\x0a`).
std::string escape_for_terminal(std::string_view text);

}  // namespace lorank

#endif  // LORANK_TERMINAL_TEXT_H_
