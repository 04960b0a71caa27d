#include "io/atomic_dir.h"

#include "io/temp_registry.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>

#include "io/file.h"

namespace lorank::io {
namespace {

namespace fs = std::filesystem;

Status fsync_path(const fs::path& dir, const fs::path& target) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("syncing folder '{}': {}", target.string(), errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) return io_error("syncing folder '{}': {}", target.string(), errno_text(err));
  return Status();
}

}  // namespace

Result<AtomicDirectory> AtomicDirectory::create(const fs::path& target, bool overwrite) {
  std::error_code ec;
  if (fs::exists(target, ec) && !overwrite) {
    return invalid_argument("refusing to overwrite existing '{}' (overwrite not requested)",
                            target.string());
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string name = ".";  // built by appends: GCC 12 warns falsely on "." + string + "..."
  name += target.filename().string();
  name += ".tmp-XXXXXX";
  std::string tmpl = (parent / name).string();
  const auto creating = lock_temps();  // see AtomicFileWriter::create
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return io_error("creating a folder beside '{}': {}", target.string(), errno_text(errno));
  }
  track_temp(tmpl);
  AtomicDirectory d;
  d.target_ = target;
  d.temp_ = tmpl;
  d.overwrite_ = overwrite;
  return d;
}

AtomicDirectory::AtomicDirectory(AtomicDirectory&& o) noexcept
    : target_(std::move(o.target_)), temp_(std::exchange(o.temp_, {})), overwrite_(o.overwrite_) {}

AtomicDirectory& AtomicDirectory::operator=(AtomicDirectory&& o) noexcept {
  if (this != &o) {
    std::error_code ec;
    if (!temp_.empty()) fs::remove_all(temp_, ec), untrack_temp(temp_);
    target_ = std::move(o.target_);
    temp_ = std::exchange(o.temp_, {});
    overwrite_ = o.overwrite_;
  }
  return *this;
}

AtomicDirectory::~AtomicDirectory() {
  std::error_code ec;
  if (!temp_.empty()) fs::remove_all(temp_, ec), untrack_temp(temp_);
}

Status AtomicDirectory::commit() {
  LORANK_RETURN_IF_ERROR(fsync_path(temp_, target_));
  const fs::path parent = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  auto published = lock_temps();  // an interrupt now waits until the name is settled
  int rc = ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && errno == EEXIST && overwrite_) {
    // Swap the new folder in atomically, then remove the old one now sitting at temp_.
    rc = ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE);
    if (rc == 0) {
      std::error_code ec;
      fs::remove_all(temp_, ec);  // the old folder
      untrack_temp(temp_);
      temp_.clear();
      published.unlock();
      return fsync_path(parent, target_);
    }
  }
  if (rc != 0) {
    const int err = errno;
    if (err == EEXIST || err == ENOTEMPTY) {
      return invalid_argument("refusing to overwrite existing '{}' (overwrite not requested)",
                              target_.string());
    }
    return io_error("renaming into '{}': {}", target_.string(), errno_text(err));
  }
  untrack_temp(temp_);
  temp_.clear();
  published.unlock();
  return fsync_path(parent, target_);
}

}  // namespace lorank::io
