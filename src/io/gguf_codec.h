// The GGUF value encoding shared by the reader and the writer: bounded decoding (every
// length checked against the bytes remaining and the limits before anything is reserved),
// encoding, and the writer-side limit check.
#ifndef LORANK_IO_GGUF_CODEC_H_
#define LORANK_IO_GGUF_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "io/byte_cursor.h"
#include "lorank/gguf_value.h"
#include "lorank/status.h"

namespace lorank::io {

// Reads a u64 length and that many bytes (capped at kGgufMaxStringBytes). The view borrows
// from the cursor's span. `what` names the string in messages ("key", "tensor name").
// Returns kCorruption (message with the offset) on truncation or a length past the cap.
Result<std::string_view> decode_gguf_string(ByteCursor& cursor, std::string_view what);

// Reads one value of type `type_id` (not yet validated). `depth` is the array nesting
// level the value would have (1 for a KV's own value). Returns kCorruption for unknown
// types, truncation, counts past the limits or the bytes remaining, bool bytes other than
// 0/1, and arrays nested deeper than kGgufMaxArrayDepth.
Result<GgufValue> decode_gguf_value(ByteCursor& cursor, uint32_t type_id, int depth);

// Appends the little-endian bytes of `v`.
template <typename T>
void put_le(std::string& out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>(uint64_t{v} >> (8 * i)));
}
// Appends a u64 length and the bytes.
void encode_gguf_string(std::string_view s, std::string& out);
// Appends the encoding of `value` without its own type tag (a KV writes the tag first).
void encode_gguf_value(const GgufValue& value, std::string& out);

// Checks `value` against the limits the reader enforces (string bytes, array elements,
// nesting depth), so the writer never produces a file lorank would refuse.
// Returns kInvalidArgument naming the problem.
Status check_gguf_value_limits(const GgufValue& value, int depth = 1);

}  // namespace lorank::io

#endif  // LORANK_IO_GGUF_CODEC_H_
