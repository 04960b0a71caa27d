// Reading and writing safetensors files.
//
// Layout (all integers little-endian):
//   u64        N, the header length in bytes
//   N bytes    UTF-8 JSON object, possibly padded with trailing spaces:
//              {"__metadata__": {"k": "v", ...},               (optional, string→string)
//               "<tensor name>": {"dtype": "F32", "shape": [r, in],
//                                 "data_offsets": [begin, end]}, ...}
//   ...        the data section; offsets are relative to its start, tensors are row-major
// The reader validates the whole header before any tensor byte is touched; see
// docs/formats.md for the full list of checks and limits.
#ifndef LORANK_SAFETENSORS_H_
#define LORANK_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lorank/files.h"
#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank {

// The largest header the reader accepts, in bytes. The same cap as the reference
// implementation: a larger "header length" is treated as corruption rather than allocated.
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// An open, fully validated safetensors file. The data stays memory-mapped (zero copy).
// Move-only. Thread-safe for concurrent const use.
class SafetensorsFile {
 public:
  // Maps and validates `path`. Returns:
  //   kNotFound      the file does not exist;
  //   kIOError       it cannot be opened or mapped (errno text in the message);
  //   kCorruption    the file is malformed (shorter than 8 bytes, header length out of
  //                  range, invalid JSON, wrong field types, bad shapes or offsets,
  //                  overlapping tensors, bytes not covered by any tensor, duplicate keys,
  //                  __metadata__ not string→string);
  //   kNotSupported  a dtype lorank does not know.
  // Every message names the file and the problem in one line.
  static Result<SafetensorsFile> open(const std::filesystem::path& path);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  // All tensors in file order (ascending data offset; ties keep header order).
  // Lifetime: the views (names and data) are valid while this SafetensorsFile is alive,
  // including after it is moved.
  std::span<const TensorView> tensors() const;

  // The tensor called `name`, or nullptr. Same lifetime as tensors().
  const TensorView* find(std::string_view name) const;

  // The `__metadata__` map (empty if the header has none).
  const std::map<std::string, std::string>& metadata() const;

  // The path given to open().
  const std::filesystem::path& path() const;

  // The size of the JSON header in bytes (N, padding included).
  uint64_t header_size() const;
  // The size of the whole file in bytes (8 + N + data section).
  uint64_t file_size() const;

  // Drops the whole pages of `bytes` that lie in the mapped file from the resident set
  // (see io::MappedFile::release_pages); anything else, e.g. a heap copy, is left alone.
  // For streaming readers that are done with a tensor. Thread-safe.
  void release_pages(std::span<const std::byte> bytes) const;

 private:
  struct State;
  explicit SafetensorsFile(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Options for write_safetensors().
struct SafetensorsWriteOptions {
  // Replace an existing file at the target path. Without it, writing to an existing path
  // fails with kInvalidArgument and leaves that file untouched.
  bool overwrite = false;
  // Checks the complete temp file before it is renamed into place (lorank/files.h).
  BeforePublish before_publish = {};
  // When set, the tensors' `data` is not read (it may be empty): each tensor's size comes
  // from its shape and dtype and its bytes from this source (lorank/files.h).
  TensorDataSource data_source = {};
};

// Writes `tensors` and `metadata` to `path` atomically: either the complete new file
// appears under `path` or nothing changes (a temp file in the same folder is renamed into
// place after fsync). Data is laid out in the order of `tensors`, without gaps; the JSON
// header lists `__metadata__` (if non-empty) and then the tensors in that order, and is
// padded with spaces so the data section starts at an 8-byte aligned offset.
// Returns kInvalidData for duplicate or reserved ("__metadata__") names, names or
// metadata that are not valid UTF-8, a data size that does not match shape × dtype size,
// or negative dims; kInvalidArgument for an existing target without options.overwrite; kIOError when the OS
// fails (the message names the path; disk full and read-only are reported as such).
// REQUIRES: each tensor's data is valid for the duration of the call.
Status write_safetensors(const std::filesystem::path& path, std::span<const TensorView> tensors,
                         const std::map<std::string, std::string>& metadata,
                         const SafetensorsWriteOptions& options = {});

}  // namespace lorank

#endif  // LORANK_SAFETENSORS_H_
