#include "support.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace lorank::fuzz {

MemFile::MemFile(const std::uint8_t* data, std::size_t size) {
  fd_ = ::memfd_create("lorank-fuzz", MFD_CLOEXEC);
  if (fd_ < 0) std::abort();
  std::size_t done = 0;
  while (done < size) {
    const ssize_t w = ::write(fd_, data + done, size - done);
    if (w <= 0) std::abort();
    done += static_cast<std::size_t>(w);
  }
  path_ = "/proc/self/fd/" + std::to_string(fd_);
}

MemFile::~MemFile() { ::close(fd_); }

}  // namespace lorank::fuzz
