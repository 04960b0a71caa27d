// A folder that appears whole or not at all: files are written into a hidden temp folder
// beside the target, which commit() fsyncs and renames into place.
#ifndef LORANK_IO_ATOMIC_DIR_H_
#define LORANK_IO_ATOMIC_DIR_H_

#include <filesystem>

#include "io/file.h"
#include "lorank/status.h"

namespace lorank::io {

class AtomicDirectory {
 public:
  // Creates `.<name>.tmp-XXXXXX` (temp_name_template) beside `target`, mode 0777 & ~umask.
  // kInvalidArgument if `target` exists and !overwrite; kIOError if the parent is missing or
  // not writable. Whether an existing target may be replaced at all is the caller's
  // question (write_adapter only replaces a folder holding nothing but adapter files).
  static Result<AtomicDirectory> create(const std::filesystem::path& target, bool overwrite);

  AtomicDirectory(AtomicDirectory&& other) noexcept;
  AtomicDirectory& operator=(AtomicDirectory&& other) noexcept;
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;
  ~AtomicDirectory();  // removes the temp folder unless committed

  // Where to write the folder's files until commit().
  const std::filesystem::path& temp_path() const { return temp_; }

  // fsyncs the temp folder, calls `before_publish` (if set) with its path, renames it to
  // the target and fsyncs the parent. An existing target is replaced only if `overwrite`:
  // it is swapped out atomically, then its files are removed one by one and the folder
  // itself with rmdir, never recursively; should it hold a subfolder (one created since the
  // caller checked it), it is kept under the hidden name and the error says where. On a
  // failure before the rename (including one from `before_publish`) the target is untouched
  // and the temp folder is removed.
  Status commit(const BeforePublish& before_publish = {});

 private:
  AtomicDirectory() = default;
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool overwrite_ = false;
};

}  // namespace lorank::io

#endif  // LORANK_IO_ATOMIC_DIR_H_
