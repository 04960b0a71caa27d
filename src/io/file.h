// Files for the format readers and writers: a read-only memory map and an atomic writer.
// Private to the library (safetensors.cc, later gguf.cc); errors carry the path and the
// errno text.
#ifndef LORANK_IO_FILE_H_
#define LORANK_IO_FILE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "lorank/files.h"
#include "lorank/status.h"

namespace lorank::io {

// A file descriptor, closed on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  int release() { int fd = fd_; fd_ = -1; return fd; }

 private:
  int fd_ = -1;
};

// A regular file opened for reading, and its size when opened.
struct OpenedFile {
  UniqueFd fd;
  std::uint64_t size = 0;
};

// Opens `path` read-only without ever blocking, and only if it is a regular file: the open
// uses O_NONBLOCK (cleared afterwards), so a FIFO or a device named like an adapter is
// refused at once instead of waiting for a writer. Errors are one line naming the path:
// kNotFound if nothing is there; kIOError for anything else, worded by cause: "'x' is a
// FIFO, not a regular file" (also directory, device, socket), a symlink loop, a name too
// long, permission denied, or the errno text.
Result<OpenedFile> open_regular_file(const std::filesystem::path& path);

// Up to the first `n` bytes of an opened file (fewer if it is shorter), for sniffing
// formats by their magic. kIOError "cannot read '<path>': <errno text>".
Result<std::string> read_head(const OpenedFile& file, std::size_t n,
                              const std::filesystem::path& path);

// Reads a small text file (a config, an index) whole, opened by open_regular_file (so it
// never blocks). `what` starts every message ("adapter config", "checkpoint index"):
// the open errors prefixed with it, kCorruption if the file is larger than `max_bytes`
// (refused before reading), kIOError for a failed read. A file that shrinks while being
// read yields what was there.
Result<std::string> read_small_text_file(const std::filesystem::path& path, uint64_t max_bytes,
                                         std::string_view what);

// The process's file mode creation mask, read once (from /proc/self/status, or with umask()
// on the first call when /proc is missing) and cached: calling umask() twice on every
// write would race with other threads. New outputs get 0666 (files) or 0777 (folders)
// minus this mask, as `touch` and `mkdir` would create them.
unsigned process_umask();

// The hidden temp name for `target` in its folder: `.<name>.tmp-XXXXXX` (a mkstemp/mkdtemp
// template), with <name> cut (at a UTF-8 character boundary) so that the whole stays within
// NAME_MAX (255 bytes): any legal output name gets a legal temp name. The random suffix
// keeps it unique; the name's start keeps it recognisable.
std::string temp_name_template(const std::filesystem::path& target);

// See lorank/files.h: checks a complete temp output before commit() publishes it.
using BeforePublish = lorank::BeforePublish;

// A whole file mapped read-only (MAP_PRIVATE). Move-only; unmaps on destruction.
// An empty file is valid and has empty bytes(). The mapping reflects the file as it is on
// disk: a file truncated by another process while mapped makes later reads fault (SIGBUS),
// as with every mmap-based reader.
class MappedFile {
 public:
  // Maps `path`, opened by open_regular_file (never blocks; its errors: kNotFound if
  // nothing is there, kIOError for a FIFO, directory, device, symlink loop, ... and every
  // other failure; message: path and cause).
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
// The new file gets mode 0666 & ~umask (process_umask()), as a shell redirection would
// create it. Not thread-safe; move-only.
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

  // Flushes, fsyncs and closes the temp file, calls `before_publish` (if set) with its
  // path, then renames it into place and fsyncs the folder. Without `overwrite`, the rename
  // refuses a target that appeared since create() (kInvalidArgument). On any failure,
  // including one returned by `before_publish`, the temp file is removed and the target is
  // untouched. REQUIRES: called at most once.
  Status commit(const BeforePublish& before_publish = {});

  // The temp file's path (empty once committed or failed); for tests.
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  Status flush_buffer();
  Status write_out(const std::byte* data, std::size_t size);
  Status fail(Status status);  // removes the temp file, closes, returns `status`
  void discard();

  int fd_ = -1;
  bool overwrite_ = false;
  std::filesystem::path target_;
  std::filesystem::path temp_path_;
  std::vector<std::byte> buffer_;
  uint64_t written_ = 0;            // bytes handed to write()
  uint64_t writeback_started_ = 0;  // bytes whose writeback was started (see write_out)
};

// Appends the bytes of tensor `index` (`name`, `size` bytes) to `writer`: `data` itself, or,
// when `source` is set, what the source streams, which must be exactly `size` bytes
// (kInternal naming the tensor otherwise: a writer bug, never a user's).
Status append_tensor_data(AtomicFileWriter& writer, const TensorDataSource& source,
                          std::size_t index, std::string_view name,
                          std::span<const std::byte> data, uint64_t size);

// Returns strerror(err) as a string (thread-safe).
std::string errno_text(int err);

}  // namespace lorank::io

#endif  // LORANK_IO_FILE_H_
