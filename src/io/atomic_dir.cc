#include "io/atomic_dir.h"

#include "io/temp_registry.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

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
  // symlink_status: a dangling symlink is something at that name too.
  if (fs::symlink_status(target, ec).type() != fs::file_type::not_found && !ec && !overwrite) {
    return invalid_argument("refusing to overwrite existing '{}' (overwrite not requested)",
                            target.string());
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (parent / temp_name_template(target)).string();
  const auto creating = lock_temps();  // see AtomicFileWriter::create
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return io_error("creating a folder beside '{}': {}", target.string(), errno_text(errno));
  }
  track_temp(tmpl);
  // mkdtemp makes the folder 0700; an output gets what the user's umask allows.
  if (::chmod(tmpl.c_str(), static_cast<mode_t>(0777 & ~process_umask())) != 0) {
    const int err = errno;
    ::rmdir(tmpl.c_str());
    untrack_temp(tmpl);
    return io_error("setting mode of '{}': {}", tmpl, errno_text(err));
  }
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

// Removes the replaced folder, now at `old`: its files one by one, then the folder. Never
// recursive, so a subfolder that appeared after the caller's check survives.
Status remove_replaced(const fs::path& old, const fs::path& target) {
  std::error_code ec;
  for (fs::directory_iterator it(old, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) continue;  // is_directory follows symlinks; removing a link is fine
    fs::remove(it->path(), ec);
  }
  if (::rmdir(old.c_str()) != 0) {
    return io_error("replaced '{}', but its old contents are kept in '{}': {}", target.string(),
                    old.string(), errno_text(errno));
  }
  return Status();
}

Status AtomicDirectory::commit(const BeforePublish& before_publish) {
  LORANK_RETURN_IF_ERROR(fsync_path(temp_, target_));
  if (before_publish) LORANK_RETURN_IF_ERROR(before_publish(temp_));
  const fs::path parent = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  auto published = lock_temps();  // an interrupt now waits until the name is settled
  int rc = ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && errno == EEXIST && overwrite_) {
    // Swap the new folder in atomically, then remove the old one now sitting at temp_.
    rc = ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE);
    if (rc == 0) {
      const fs::path old = std::exchange(temp_, {});
      untrack_temp(old);  // the old folder: never removed recursively, not even on interrupt
      published.unlock();
      Status removed = remove_replaced(old, target_);
      LORANK_RETURN_IF_ERROR(fsync_path(parent, target_));
      return removed;
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
