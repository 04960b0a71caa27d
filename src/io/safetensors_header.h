// Parsing and validation of the safetensors JSON header (private to the library).
#ifndef LORANK_IO_SAFETENSORS_HEADER_H_
#define LORANK_IO_SAFETENSORS_HEADER_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank::io {

// One validated tensor entry; [begin, end) is relative to the data section.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // sorted by data offset; ties keep header order
  std::map<std::string, std::string> metadata;
};

// Parses `json` (the N header bytes, trailing spaces allowed) and checks every entry
// against a data section of `data_size` bytes: field presence and types, known dtype,
// dims, size = numel × itemsize, offsets in range, no overlap, no uncovered bytes, no
// duplicate keys at any level, __metadata__ string→string.
// Returns kCorruption (or kNotSupported for an unknown dtype); messages do not name the
// file, the caller adds it.
Result<SafetensorsHeader> parse_safetensors_header(std::string_view json, uint64_t data_size);

}  // namespace lorank::io

#endif  // LORANK_IO_SAFETENSORS_HEADER_H_
