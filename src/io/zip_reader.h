// A minimal, strict ZIP reader for PyTorch checkpoints (torch.save since 1.6 writes a ZIP
// archive of *stored*, uncompressed entries). Private to the library.
//
// It reads the end-of-central-directory record (and the ZIP64 one when present), the
// central directory, and cross-checks every local header. Entry data is returned as spans
// into the caller's bytes: nothing is copied or inflated. Compressed and encrypted entries
// and multi-disk archives are refused rather than half-supported.
#ifndef LORANK_IO_ZIP_READER_H_
#define LORANK_IO_ZIP_READER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lorank/status.h"

namespace lorank::io {

// The most entries an archive may list. A torch checkpoint has one entry per storage plus
// a few records; this bounds the memory a lying entry count can make us reserve.
inline constexpr uint64_t kZipMaxEntries = 1'000'000;

// One stored entry of an archive.
struct ZipEntry {
  std::string name;                  // as in the central directory (UTF-8 or CP437 bytes)
  uint32_t crc32 = 0;                // from the central directory
  uint64_t local_header_offset = 0;  // where the entry's local header starts
  uint64_t data_offset = 0;          // where its bytes start
  std::span<const std::byte> data;   // the bytes themselves (size = stored size)
};

class ZipReader {
 public:
  // Parses the archive held in `bytes`. Returns:
  //   kCorruption    no end-of-central-directory record, any offset or length outside the
  //                  file, a central entry that disagrees with its local header, duplicate
  //                  names, entries whose byte ranges overlap, stored size != size;
  //   kNotSupported  multi-disk archives, encrypted entries, any compression method other
  //                  than 0 (stored) -- the message names the entry and the method.
  // Messages are one line and do not name the file (the caller adds that).
  // Lifetime: the entries' data spans point into `bytes`, which must outlive their use.
  static Result<ZipReader> parse(std::span<const std::byte> bytes);

  // Move-only: by_name_ holds views into entries_' names, which a move keeps in place.
  ZipReader(ZipReader&&) noexcept = default;
  ZipReader& operator=(ZipReader&&) noexcept = default;
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  // The entries in central-directory order.
  const std::vector<ZipEntry>& entries() const { return entries_; }

  // The entry called `name`, or nullptr.
  const ZipEntry* find(std::string_view name) const;

  // Returns kCorruption naming the entry if the CRC-32 of its data differs from the one
  // the central directory records. Reads every byte of the entry.
  static Status check_crc32(const ZipEntry& entry);

 private:
  ZipReader() = default;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string_view, std::size_t> by_name_;  // views into entries_ names
};

// The CRC-32 (ISO-HDLC, as used by ZIP) of `bytes`.
uint32_t crc32_of(std::span<const std::byte> bytes);

}  // namespace lorank::io

#endif  // LORANK_IO_ZIP_READER_H_
