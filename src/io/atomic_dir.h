// A folder that appears whole or not at all: files are written into a hidden temp folder
// beside the target, which commit() fsyncs and renames into place.
#ifndef LORANK_IO_ATOMIC_DIR_H_
#define LORANK_IO_ATOMIC_DIR_H_

#include <filesystem>

#include "lorank/status.h"

namespace lorank::io {

class AtomicDirectory {
 public:
  // Creates `.<name>.tmp-XXXXXX` beside `target`. kInvalidArgument if `target` exists and
  // !overwrite; kIOError if the parent is missing or not writable.
  static Result<AtomicDirectory> create(const std::filesystem::path& target, bool overwrite);

  AtomicDirectory(AtomicDirectory&& other) noexcept;
  AtomicDirectory& operator=(AtomicDirectory&& other) noexcept;
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;
  ~AtomicDirectory();  // removes the temp folder unless committed

  // Where to write the folder's files until commit().
  const std::filesystem::path& temp_path() const { return temp_; }

  // fsyncs the temp folder, renames it to the target (replacing an existing target only if
  // `overwrite`: the old folder is swapped out and removed), fsyncs the parent.
  Status commit();

 private:
  AtomicDirectory() = default;
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool overwrite_ = false;
};

}  // namespace lorank::io

#endif  // LORANK_IO_ATOMIC_DIR_H_
