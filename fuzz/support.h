// Shared by the fuzz targets: the readers take paths, so each input is written to an
// in-memory file (memfd) and opened through /proc/self/fd.
#ifndef LORANK_FUZZ_SUPPORT_H_
#define LORANK_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace lorank::fuzz {

// An anonymous in-memory file holding `data`; path() names it. Aborts if the kernel
// refuses (a harness failure, not a finding).
class MemFile {
 public:
  MemFile(const std::uint8_t* data, std::size_t size);
  ~MemFile();
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace lorank::fuzz

#endif  // LORANK_FUZZ_SUPPORT_H_
