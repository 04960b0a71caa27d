// MappedFile and AtomicFileWriter on POSIX (Linux): open/mmap, mkstemp/fsync/renameat2.
#include "io/file.h"

#include "io/temp_registry.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <utility>

namespace lorank::io {
namespace {

// Small appends (headers) are gathered; tensor data larger than this goes straight out.
constexpr std::size_t kWriteBufferBytes = std::size_t{1} << 20;


Status write_all(int fd, const std::byte* p, std::size_t n, const std::filesystem::path& target) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      const char* hint =
          (err == ENOSPC || err == EDQUOT || err == EFBIG) ? " (disk full or file size limit)" : "";
      return io_error("writing '{}': {}{}", target.string(), errno_text(err), hint);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return Status();
}

Status fsync_dir(const std::filesystem::path& dir, const std::filesystem::path& target) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    return io_error("syncing folder of '{}': {}", target.string(), errno_text(errno));
  }
  UniqueFd closer(dfd);
  if (::fsync(dfd) != 0 && errno != EINVAL) {  // EINVAL: the file system cannot sync folders
    return io_error("syncing folder of '{}': {}", target.string(), errno_text(errno));
  }
  return Status();
}

}  // namespace

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r may return a static string instead of filling buf.
  return std::string(::strerror_r(err, buf, sizeof(buf)));
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

// What a non-regular file is, for "'x' is a FIFO, not a regular file".
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

Result<OpenedFile> open_regular_file(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    // errno's own words name the cause: No such file or directory, Permission denied,
    // File name too long, Not a directory, Too many levels of symbolic links.
    if (err == ENOENT) return not_found("'{}': {}", path.string(), errno_text(err));
    return io_error("'{}': {}{}", path.string(), errno_text(err), err == ELOOP ? " (a symlink loop?)" : "");
  }
  OpenedFile file{UniqueFd(fd), 0};
  struct stat st;
  if (::fstat(fd, &st) != 0) return io_error("stat '{}': {}", path.string(), errno_text(errno));
  if (!S_ISREG(st.st_mode)) {
    const char* kind = file_kind(st.st_mode);
    if (std::strcmp(kind, "not a regular file") == 0) {
      return io_error("'{}' is not a regular file", path.string());
    }
    return io_error("'{}' is {}, not a regular file", path.string(), kind);
  }
  const int flags = ::fcntl(fd, F_GETFL);  // reads block normally from here on
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  file.size = static_cast<std::uint64_t>(st.st_size);
  return file;
}

Status append_tensor_data(AtomicFileWriter& writer, const TensorDataSource& source,
                          std::size_t index, std::string_view name,
                          std::span<const std::byte> data, uint64_t size) {
  if (!source) return writer.append(data);
  uint64_t got = 0;
  const ByteSink sink = [&](std::span<const std::byte> bytes) {
    got += bytes.size();
    if (got > size) {
      return internal_error("tensor '{}': its source gave more than its {} bytes", name, size);
    }
    return writer.append(bytes);
  };
  LORANK_RETURN_IF_ERROR(source(index, sink));
  if (got != size) {
    return internal_error("tensor '{}': its source gave {} of its {} bytes", name, got, size);
  }
  return Status();
}

Result<std::string> read_head(const OpenedFile& file, std::size_t n,
                              const std::filesystem::path& path) {
  std::string head(n, '\0');
  ssize_t got;
  do got = ::pread(file.fd.get(), head.data(), n, 0);
  while (got < 0 && errno == EINTR);
  if (got < 0) return io_error("cannot read '{}': {}", path.string(), errno_text(errno));
  head.resize(static_cast<std::size_t>(got));
  return head;
}

Result<std::string> read_small_text_file(const std::filesystem::path& path, uint64_t max_bytes,
                                         std::string_view what) {
  Result<OpenedFile> opened = open_regular_file(path);
  if (!opened) return Status(opened.error().code(), fmt::format("{} {}", what, opened.error().message()));
  // Refuse absurd sizes before allocating (hostile input, docs/security.md).
  if (opened->size > max_bytes) {
    return corruption("{} '{}': {} bytes is more than the {} allowed", what, path.string(),
                      opened->size, max_bytes);
  }
  std::string text(static_cast<std::size_t>(opened->size), '\0');
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(opened->fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("{} '{}': cannot read: {}", what, path.string(), errno_text(errno));
    if (n == 0) break;  // shrank while reading: use what is there
    done += static_cast<std::size_t>(n);
  }
  text.resize(done);
  return text;
}

unsigned process_umask() {
  static const unsigned mask = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Umask:", 0) == 0) return static_cast<unsigned>(std::strtoul(line.c_str() + 6, nullptr, 8) & 0777);
    }
    // No /proc: read it the only way POSIX offers, once, before any writer runs.
    const mode_t old = ::umask(022);
    ::umask(old);
    return static_cast<unsigned>(old);
  }();
  return mask;
}

std::string temp_name_template(const std::filesystem::path& target) {
  constexpr std::size_t kNameMax = NAME_MAX;  // 255 on Linux file systems
  constexpr std::string_view kSuffix = ".tmp-XXXXXX";
  std::string name = target.filename().string();
  const std::size_t room = kNameMax - 1 - kSuffix.size();  // 1 for the leading '.'
  if (name.size() > room) {
    std::size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name.resize(cut);
  }
  std::string out(".");  // built with append: GCC 12's -Wrestrict misfires on "." + string
  out.append(name).append(kSuffix);
  return out;
}

// ---------------------------------------------------------------- MappedFile

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
  LORANK_ASSIGN_OR_RETURN(OpenedFile opened, open_regular_file(path));
  // The mapping keeps the file alive without the descriptor, closed on return.
  MappedFile file;
  file.path_ = path;
  file.size_ = static_cast<std::size_t>(opened.size);
  if (file.size_ == 0) return file;  // mmap rejects length 0; an empty span is enough
  void* p = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, opened.fd.get(), 0);
  if (p == MAP_FAILED) return io_error("mapping '{}': {}", path.string(), errno_text(errno));
  file.data_ = static_cast<const std::byte*>(p);
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    path_ = std::move(other.path_);
  }
  return *this;
}

MappedFile::~MappedFile() { reset(); }

void MappedFile::release_pages(std::span<const std::byte> range) const {
  const auto base = reinterpret_cast<std::uintptr_t>(data_);
  const auto first = reinterpret_cast<std::uintptr_t>(range.data());
  if (range.empty() || first < base || first - base > size_ ||
      range.size() > size_ - (first - base)) {
    return;  // not (entirely) ours: never advise memory this object does not map
  }
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::uintptr_t begin = (first + page - 1) / page * page;
  const std::uintptr_t end = (first + range.size()) / page * page;
  if (begin < end) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void MappedFile::reset() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

// ---------------------------------------------------------- AtomicFileWriter

Result<AtomicFileWriter> AtomicFileWriter::create(const std::filesystem::path& target,
                                                  bool overwrite) {
  if (target.filename().empty()) {
    return invalid_argument("cannot write '{}': not a file name", target.string());
  }
  std::error_code ec;
  if (!overwrite &&
      std::filesystem::symlink_status(target, ec).type() != std::filesystem::file_type::not_found) {
    if (!ec) {
      return invalid_argument("refusing to overwrite existing '{}' (overwrite not requested)",
                              target.string());
    }
  }
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / temp_name_template(target)).string();
  // Created and tracked under the registry lock: after an interrupt's cleanup (which keeps
  // the lock) no new temp can appear.
  auto creating = lock_temps();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) {
    return io_error("creating a temporary file for '{}' in '{}': {}", target.string(), dir.string(),
                    errno_text(errno));
  }
  track_temp(tmpl);
  creating.unlock();
  AtomicFileWriter w;
  w.fd_ = fd;
  w.overwrite_ = overwrite;
  w.target_ = target;
  w.temp_path_ = tmpl;
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  // mkstemp makes the file 0600; an output gets what the user's umask allows.
  if (::fchmod(fd, static_cast<mode_t>(0666 & ~process_umask())) != 0) {
    return w.fail(io_error("setting mode of '{}': {}", tmpl, errno_text(errno)));
  }
  w.buffer_.reserve(kWriteBufferBytes);
  return w;
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      overwrite_(other.overwrite_),
      target_(std::move(other.target_)),
      temp_path_(std::exchange(other.temp_path_, {})),
      buffer_(std::move(other.buffer_)),
      written_(other.written_),
      writeback_started_(other.writeback_started_) {}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& other) noexcept {
  if (this != &other) {
    discard();
    fd_ = std::exchange(other.fd_, -1);
    overwrite_ = other.overwrite_;
    target_ = std::move(other.target_);
    temp_path_ = std::exchange(other.temp_path_, {});
    buffer_ = std::move(other.buffer_);
    written_ = other.written_;
    writeback_started_ = other.writeback_started_;
  }
  return *this;
}

AtomicFileWriter::~AtomicFileWriter() { discard(); }

void AtomicFileWriter::discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    untrack_temp(temp_path_);
  }
  temp_path_.clear();
  buffer_.clear();
}

Status AtomicFileWriter::fail(Status status) {
  discard();
  return status;
}

Status AtomicFileWriter::flush_buffer() {
  Status s = write_out(buffer_.data(), buffer_.size());
  buffer_.clear();
  return s;
}

Status AtomicFileWriter::write_out(const std::byte* data, std::size_t size) {
  LORANK_RETURN_IF_ERROR(write_all(fd_, data, size, target_));
  written_ += size;
  // Starts the disk writes of every finished 64 MiB without waiting for them, so that the
  // fsync in commit() finds little left to write (a 2.5 GB merge's fsync: 0.7 s -> ~0.1 s).
  // Advisory: a failure here shows again, and is reported, at the fsync.
  constexpr uint64_t kWritebackBytes = uint64_t{64} << 20;
  if (written_ - writeback_started_ >= kWritebackBytes) {
#ifdef __linux__
    ::sync_file_range(fd_, static_cast<off_t>(writeback_started_),
                      static_cast<off_t>(written_ - writeback_started_), SYNC_FILE_RANGE_WRITE);
#endif
    writeback_started_ = written_;
  }
  return Status();
}

Status AtomicFileWriter::append(std::span<const std::byte> bytes) {
  if (fd_ < 0) return invalid_argument("writing '{}': writer is closed", target_.string());
  // Small pieces gather in the buffer; large ones go straight to write() (no extra copy).
  const bool small = bytes.size() < kWriteBufferBytes / 2;
  if (small && buffer_.size() + bytes.size() <= kWriteBufferBytes) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return Status();
  }
  if (Status s = flush_buffer(); !s.ok()) return fail(std::move(s));
  if (small) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return Status();
  }
  if (Status s = write_out(bytes.data(), bytes.size()); !s.ok()) return fail(std::move(s));
  return Status();
}

Status AtomicFileWriter::commit(const BeforePublish& before_publish) {
  if (fd_ < 0) return invalid_argument("committing '{}': writer is closed", target_.string());
  if (Status s = flush_buffer(); !s.ok()) return fail(std::move(s));
  // fsync before rename: otherwise a crash can leave the new name on empty or partial data.
  if (::fsync(fd_) != 0) {
    return fail(io_error("syncing '{}': {}", target_.string(), errno_text(errno)));
  }
  if (::close(std::exchange(fd_, -1)) != 0) {
    return fail(io_error("closing '{}': {}", target_.string(), errno_text(errno)));
  }
  if (before_publish) {
    if (Status s = before_publish(temp_path_); !s.ok()) return fail(std::move(s));
  }
  auto published = lock_temps();  // an interrupt now waits until the name is settled
  int rc = 0;
  if (overwrite_) {
    rc = ::rename(temp_path_.c_str(), target_.c_str());
  } else {
    // RENAME_NOREPLACE closes the race with a target created after create().
    rc = ::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, target_.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
      // File systems without RENAME_NOREPLACE: link() also fails on an existing name.
      rc = ::link(temp_path_.c_str(), target_.c_str());
      if (rc == 0) ::unlink(temp_path_.c_str());
    }
  }
  if (rc != 0) {
    const int err = errno;
    if (err == EEXIST) {
      return fail(invalid_argument("refusing to overwrite existing '{}' (overwrite not requested)",
                                   target_.string()));
    }
    return fail(io_error("renaming '{}' to '{}': {}", temp_path_.string(), target_.string(),
                         errno_text(err)));
  }
  untrack_temp(temp_path_);
  temp_path_.clear();  // the name now belongs to the target
  published.unlock();
  std::filesystem::path dir = target_.parent_path();
  return fsync_dir(dir.empty() ? std::filesystem::path(".") : dir, target_);
}

}  // namespace lorank::io
