// Files for the format readers and writers: a read-only memory map and an atomic writer.
// Private to the library (safetensors.cc, later gguf.cc); errors carry the path and the
// errno text.
#ifndef LORANK_IO_FILE_H_
#define LORANK_IO_FILE_H_

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "lorank/status.h"

namespace lorank::io {

// A whole file mapped read-only (MAP_PRIVATE). Move-only; unmaps on destruction.
// An empty file is valid and has empty bytes(). The mapping reflects the file as it is on
// disk: a file truncated by another process while mapped makes later reads fault (SIGBUS),
// as with every mmap-based reader.
class MappedFile {
 public:
  // Maps `path`. Returns kNotFound if it does not exist, kInvalidArgument if it is not a
  // regular file, kIOError for any other failure (message: path and errno text).
  static Result<MappedFile> open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // The file's bytes; valid while this object is alive (moves keep the address).
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

  // Drops the whole pages inside `range` from this process's resident set (madvise
  // MADV_DONTNEED). The mapping is read-only and private, so no page can hold a private
  // change: a later read faults the file's bytes back in. Bytes outside this mapping (heap
  // copies) and the partial pages at either end are left alone. Thread-safe.
  void release_pages(std::span<const std::byte> range) const;

 private:
  void reset();

  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::filesystem::path path_;
};

// Writes a file so that readers see either the old state or the complete new file:
// data goes to `.<name>.tmp-XXXXXX` (mkstemp) in the target's folder; commit() fsyncs it,
// renames it over the target and fsyncs the folder. The temp file is removed on every
// failure and when the writer is destroyed without a successful commit().
// The new file gets mode 0644. Not thread-safe; move-only.
class AtomicFileWriter {
 public:
  // Creates the temp file. Returns kInvalidArgument if `target` exists and !overwrite, and
  // kIOError when the folder is missing, not a folder, read-only or full.
  static Result<AtomicFileWriter> create(const std::filesystem::path& target, bool overwrite);

  AtomicFileWriter() = default;
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  // Appends bytes (buffered). Returns kIOError naming the target on failure (ENOSPC,
  // EFBIG, EIO, ...); the temp file is then already removed and the writer is dead.
  Status append(std::span<const std::byte> bytes);

  // Flushes, fsyncs, renames into place and fsyncs the folder. Without `overwrite`, the
  // rename refuses a target that appeared since create() (kInvalidArgument). On any
  // failure the temp file is removed. REQUIRES: called at most once.
  Status commit();

  // The temp file's path (empty once committed or failed); for tests.
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  Status flush_buffer();
  Status fail(Status status);  // removes the temp file, closes, returns `status`
  void discard();

  int fd_ = -1;
  bool overwrite_ = false;
  std::filesystem::path target_;
  std::filesystem::path temp_path_;
  std::vector<std::byte> buffer_;
};

// Returns strerror(err) as a string (thread-safe).
std::string errno_text(int err);

}  // namespace lorank::io

#endif  // LORANK_IO_FILE_H_
