// ZipReader: end-of-central-directory search, ZIP64, central directory, local headers.
// Layouts follow PKWARE's APPNOTE.TXT (sections 4.3.7 to 4.3.16, 4.5.3).
#include "io/zip_reader.h"

#include <algorithm>
#include <array>
#include <optional>

#include "core/text.h"

namespace lorank::io {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kEocdBytes = 22;
constexpr uint64_t kLocatorBytes = 20;
constexpr uint64_t kZip64EocdBytes = 56;
constexpr uint64_t kCentralBytes = 46;
constexpr uint64_t kLocalBytes = 30;
constexpr uint64_t kMaxCommentBytes = 0xffff;  // bounds the backward EOCD search
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kFlagEncrypted = 0x0001;
constexpr uint16_t kFlagDescriptor = 0x0008;

// Little-endian field reads; callers check bounds first.
uint64_t le(const std::byte* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint64_t>(p[i]);
  return v;
}

// What the central directory says about one entry, before the local header is read.
struct CentralRecord {
  std::string name;
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0;
  uint64_t size = 0;
  uint64_t local_offset = 0;
  bool zip64 = false;  // sizes came from a ZIP64 extra field
};

// Replaces the saturated (0xFFFFFFFF) fields of `r` with the values of the ZIP64 extra
// field in `extra`, which lists them in the order size, compressed size, offset.
Status apply_zip64_extra(std::span<const std::byte> extra, bool need_size, bool need_compressed,
                         bool need_offset, CentralRecord& r) {
  std::size_t i = 0;
  while (i + 4 <= extra.size()) {
    const auto id = static_cast<uint16_t>(le(&extra[i], 2));
    const auto len = static_cast<std::size_t>(le(&extra[i + 2], 2));
    if (i + 4 + len > extra.size()) break;
    if (id == kZip64ExtraId) {
      std::size_t at = i + 4;
      const std::size_t end = at + len;
      auto take = [&](uint64_t& field) {
        if (at + 8 > end) return false;
        field = le(&extra[at], 8);
        at += 8;
        return true;
      };
      if ((need_size && !take(r.size)) || (need_compressed && !take(r.compressed)) ||
          (need_offset && !take(r.local_offset))) {
        return corruption("entry '{}': ZIP64 extra field too short", printable(r.name));
      }
      r.zip64 = true;
      return Status();
    }
    i += 4 + len;
  }
  return corruption("entry '{}': sizes saturated but no ZIP64 extra field", printable(r.name));
}

}  // namespace

Result<ZipReader> ZipReader::parse(std::span<const std::byte> bytes) {
  const uint64_t n = bytes.size();
  const std::byte* b = bytes.data();
  if (n < kEocdBytes) {
    return corruption("{} bytes, too short for a ZIP end-of-central-directory record", n);
  }
  // The EOCD record ends the file, followed only by its comment; search backwards over at
  // most 64 KiB of comment and require the comment length to reach the end exactly.
  std::optional<uint64_t> eocd;
  const uint64_t lowest = n - kEocdBytes > kMaxCommentBytes ? n - kEocdBytes - kMaxCommentBytes : 0;
  for (uint64_t pos = n - kEocdBytes + 1; pos-- > lowest;) {
    if (le(b + pos, 4) == kEocdSig && pos + kEocdBytes + le(b + pos + 20, 2) == n) {
      eocd = pos;
      break;
    }
  }
  if (!eocd) return corruption("no ZIP end-of-central-directory record (not a ZIP archive?)");
  const std::byte* e = b + *eocd;
  uint64_t disk = le(e + 4, 2), cd_disk = le(e + 6, 2);
  uint64_t disk_entries = le(e + 8, 2), total_entries = le(e + 10, 2);
  uint64_t cd_size = le(e + 12, 4), cd_offset = le(e + 16, 4);
  uint64_t cd_limit = *eocd;  // the central directory must end before this

  // ZIP64: a locator right before the EOCD points at the ZIP64 EOCD record, whose fields
  // replace the 16/32-bit ones (torch always writes it, even for small files).
  if (*eocd >= kLocatorBytes && le(e - kLocatorBytes, 4) == kZip64LocatorSig) {
    const std::byte* loc = e - kLocatorBytes;
    const uint64_t z64 = le(loc + 8, 8);
    if (le(loc + 4, 4) != 0 || le(loc + 16, 4) != 1) {
      return not_supported("multi-disk ZIP archives are not supported");
    }
    if (z64 > *eocd - kLocatorBytes || *eocd - kLocatorBytes - z64 < kZip64EocdBytes) {
      return corruption("ZIP64 end-of-central-directory offset {} out of range", z64);
    }
    const std::byte* z = b + z64;
    if (le(z, 4) != kZip64EocdSig) {
      return corruption("no ZIP64 end-of-central-directory record at offset {}", z64);
    }
    disk = le(z + 16, 4);
    cd_disk = le(z + 20, 4);
    disk_entries = le(z + 24, 8);
    total_entries = le(z + 32, 8);
    cd_size = le(z + 40, 8);
    cd_offset = le(z + 48, 8);
    cd_limit = z64;
  }
  if (disk != 0 || cd_disk != 0 || disk_entries != total_entries) {
    return not_supported("multi-disk ZIP archives are not supported");
  }
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) {
    return corruption("central directory [{}, +{}) runs past its end at offset {}", cd_offset,
                      cd_size, cd_limit);
  }
  if (total_entries > kZipMaxEntries || total_entries > cd_size / kCentralBytes) {
    return corruption("{} entries cannot fit in a {}-byte central directory (limit {})",
                      total_entries, cd_size, kZipMaxEntries);
  }

  ZipReader reader;
  reader.entries_.reserve(total_entries);
  uint64_t at = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t k = 0; k < total_entries; ++k) {
    if (cd_end - at < kCentralBytes || le(b + at, 4) != kCentralSig) {
      return corruption("central directory entry {} at offset {} is missing or truncated", k, at);
    }
    const std::byte* c = b + at;
    const uint64_t name_len = le(c + 28, 2), extra_len = le(c + 30, 2), comment_len = le(c + 32, 2);
    if (cd_end - at - kCentralBytes < name_len + extra_len + comment_len) {
      return corruption("central directory entry {} at offset {} runs past the directory", k, at);
    }
    CentralRecord r;
    r.name.assign(reinterpret_cast<const char*>(c + kCentralBytes), name_len);
    r.flags = static_cast<uint16_t>(le(c + 8, 2));
    r.method = static_cast<uint16_t>(le(c + 10, 2));
    r.crc = static_cast<uint32_t>(le(c + 16, 4));
    r.compressed = le(c + 20, 4);
    r.size = le(c + 24, 4);
    r.local_offset = le(c + 42, 4);
    const bool sat_size = r.size == 0xffffffff, sat_comp = r.compressed == 0xffffffff;
    const bool sat_off = r.local_offset == 0xffffffff;
    if (sat_size || sat_comp || sat_off) {
      LORANK_RETURN_IF_ERROR(apply_zip64_extra({c + kCentralBytes + name_len, extra_len}, sat_size,
                                               sat_comp, sat_off, r));
    }
    at += kCentralBytes + name_len + extra_len + comment_len;

    if (r.flags & kFlagEncrypted)
      return not_supported("entry '{}' is encrypted", printable(r.name));
    if (r.method != 0) {
      return not_supported(
          "entry '{}' uses compression method {}; only stored (method 0) entries are supported",
          printable(r.name), r.method);
    }
    if (r.compressed != r.size) {
      return corruption("stored entry '{}' has compressed size {} != size {}", printable(r.name),
                        r.compressed, r.size);
    }
    // The local header repeats the name and method; its sizes may be zero when a data
    // descriptor follows the data (flag bit 3), which torch's writer always sets.
    if (r.local_offset > cd_offset || cd_offset - r.local_offset < kLocalBytes) {
      return corruption("entry '{}': local header offset {} out of range", printable(r.name),
                        r.local_offset);
    }
    const std::byte* l = b + r.local_offset;
    const uint64_t lname = le(l + 26, 2), lextra = le(l + 28, 2);
    const uint64_t data_offset = r.local_offset + kLocalBytes + lname + lextra;
    if (le(l, 4) != kLocalSig || data_offset > cd_offset) {
      return corruption("entry '{}': bad local header at offset {}", printable(r.name),
                        r.local_offset);
    }
    const std::string_view local_name(reinterpret_cast<const char*>(l + kLocalBytes), lname);
    if (local_name != r.name || le(l + 8, 2) != r.method) {
      return corruption("entry '{}': local header at offset {} disagrees (name '{}', method {})",
                        printable(r.name), r.local_offset, printable(local_name), le(l + 8, 2));
    }
    if (!(r.flags & kFlagDescriptor) && !r.zip64 &&
        (le(l + 14, 4) != r.crc || le(l + 18, 4) != r.compressed || le(l + 22, 4) != r.size)) {
      return corruption("entry '{}': local header CRC or sizes disagree with the central directory",
                        printable(r.name));
    }
    if (r.size > cd_offset - data_offset) {
      return corruption("entry '{}': {} bytes at offset {} run into the central directory at {}",
                        printable(r.name), r.size, data_offset, cd_offset);
    }
    ZipEntry entry;
    entry.name = std::move(r.name);
    entry.crc32 = r.crc;
    entry.local_header_offset = r.local_offset;
    entry.data_offset = data_offset;
    entry.data = bytes.subspan(data_offset, r.size);
    reader.entries_.push_back(std::move(entry));
  }
  if (at != cd_end) {
    return corruption("central directory has {} bytes after its {} entries", cd_end - at,
                      total_entries);
  }

  // No two entries may share bytes: sorted by local header, each entry's data must end
  // before the next local header starts (a data descriptor, if any, sits in between).
  std::vector<std::size_t> order(reader.entries_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return reader.entries_[x].local_header_offset < reader.entries_[y].local_header_offset;
  });
  for (std::size_t i = 1; i < order.size(); ++i) {
    const ZipEntry& prev = reader.entries_[order[i - 1]];
    const ZipEntry& next = reader.entries_[order[i]];
    if (prev.data_offset + prev.data.size() > next.local_header_offset) {
      return corruption("entries '{}' and '{}' overlap (bytes [{}, {}) and offset {})",
                        printable(prev.name), printable(next.name), prev.local_header_offset,
                        prev.data_offset + prev.data.size(), next.local_header_offset);
    }
  }
  for (std::size_t i = 0; i < reader.entries_.size(); ++i) {
    if (!reader.by_name_.emplace(reader.entries_[i].name, i).second) {
      return corruption("duplicate entry name '{}'", printable(reader.entries_[i].name));
    }
  }
  return reader;
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

uint32_t crc32_of(std::span<const std::byte> bytes) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xffffffffu;
  for (std::byte x : bytes) crc = table[(crc ^ static_cast<uint32_t>(x)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

Status ZipReader::check_crc32(const ZipEntry& entry) {
  const uint32_t actual = crc32_of(entry.data);
  if (actual != entry.crc32) {
    return corruption("entry '{}': CRC-32 {:08x} does not match the recorded {:08x}",
                      printable(entry.name), actual, entry.crc32);
  }
  return Status();
}

}  // namespace lorank::io
