// MappedFile and AtomicFileWriter, including failure paths (no temp file may survive).
#include "io/file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace lorank::io {
namespace {

using lorank::testing::TempDir;

std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s));
}

void write_plain(const std::filesystem::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

// "'path'", built by appends: GCC 12's -Wrestrict misfires on "'" + std::string.
std::string quoted(const std::filesystem::path& p) {
  std::string out("'");
  return out.append(p.string()).append("'");
}

std::string read_plain(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(MappedFile, MapsContentAndSurvivesMove) {
  TempDir dir;
  write_plain(dir / "a.bin", "hello mmap");
  auto f = MappedFile::open(dir / "a.bin");
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  const std::byte* address = f->bytes().data();
  MappedFile moved = std::move(f).value();
  EXPECT_EQ(moved.bytes().data(), address);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(moved.bytes().data()), moved.size()),
            "hello mmap");
}

TEST(MappedFile, EmptyFileIsValid) {
  TempDir dir;
  write_plain(dir / "empty", "");
  auto f = MappedFile::open(dir / "empty");
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  EXPECT_EQ(f->size(), 0u);
  EXPECT_TRUE(f->bytes().empty());
}

TEST(MappedFile, ErrorsNameThePath) {
  TempDir dir;
  auto missing = MappedFile::open(dir / "nope.bin");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.error().message().find("nope.bin"), std::string::npos);
  EXPECT_NE(missing.error().message().find("No such file"), std::string::npos);

  auto folder = MappedFile::open(dir.path());
  ASSERT_FALSE(folder.has_value());
  EXPECT_EQ(folder.error().code(), StatusCode::kIOError);  // bad data, not a bad flag: exit 1
  EXPECT_EQ(folder.error().message(), quoted(dir.path()) + " is a directory, not a regular file");

  write_plain(dir / "file", "x");
  auto not_dir = MappedFile::open(dir / "file" / "child");
  ASSERT_FALSE(not_dir.has_value());
  EXPECT_EQ(not_dir.error().code(), StatusCode::kIOError);
  EXPECT_NE(not_dir.error().message().find("Not a directory"), std::string::npos);
}

// Resident pages of this process (/proc/self/statm, second field).
long resident_pages() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident;
}

TEST(MappedFile, ReleasePagesDropsResidencyAndKeepsContent) {
  TempDir dir;
  const long page = ::sysconf(_SC_PAGESIZE);
  std::string content(static_cast<std::size_t>(512 * page), '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + i / 4096);
  write_plain(dir / "big.bin", content);
  auto f = MappedFile::open(dir / "big.bin");
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  const std::span<const std::byte> bytes = f->bytes();
  unsigned sum = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 64) sum += static_cast<unsigned>(bytes[i]);
  const long before = resident_pages();
  // An unaligned interior: only the whole pages inside it may go.
  f->release_pages(bytes.subspan(100, bytes.size() - 200));
  const long after = resident_pages();
  EXPECT_LT(after, before - 256) << "sum " << sum;
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), content);
  // Memory outside the mapping (a heap copy, a span reaching past the end) is left alone.
  std::vector<std::byte> heap(bytes.begin(), bytes.end());
  f->release_pages(heap);
  f->release_pages(std::span<const std::byte>(bytes.data() + page, bytes.size()));
  EXPECT_TRUE(std::equal(heap.begin(), heap.end(), bytes.begin()));
}

TEST(AtomicFileWriter, WritesCommitsAndLeavesNoTemp) {
  TempDir dir;
  auto w = AtomicFileWriter::create(dir / "out.bin", false);
  ASSERT_TRUE(w.has_value()) << w.error().to_string();
  const std::string temp_name = w->temp_path().filename().string();
  EXPECT_EQ(temp_name.rfind(".out.bin.tmp-", 0), 0u) << temp_name;
  EXPECT_EQ(dir.entries(), std::set<std::string>{temp_name});
  const std::string big(3 << 20, 'z');  // larger than the internal buffer
  ASSERT_TRUE(w->append(as_bytes("head:")).ok());
  ASSERT_TRUE(w->append(as_bytes(big)).ok());
  ASSERT_TRUE(w->append(as_bytes(":tail")).ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "out.bin"));  // invisible until commit
  ASSERT_TRUE(w->commit().ok());
  EXPECT_EQ(read_plain(dir / "out.bin"), "head:" + big + ":tail");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"out.bin"});
}

TEST(AtomicFileWriter, RefusesExistingTargetUnlessOverwrite) {
  TempDir dir;
  write_plain(dir / "keep", "old");
  auto refused = AtomicFileWriter::create(dir / "keep", false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("keep"), std::string::npos);
  EXPECT_EQ(read_plain(dir / "keep"), "old");

  auto w = AtomicFileWriter::create(dir / "keep", true);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->append(as_bytes("new")).ok());
  ASSERT_TRUE(w->commit().ok());
  EXPECT_EQ(read_plain(dir / "keep"), "new");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"keep"});
}

TEST(AtomicFileWriter, TargetAppearingBeforeCommitIsNotClobbered) {
  TempDir dir;
  auto w = AtomicFileWriter::create(dir / "race", false);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->append(as_bytes("mine")).ok());
  write_plain(dir / "race", "theirs");
  const Status s = w->commit();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
  EXPECT_EQ(read_plain(dir / "race"), "theirs");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"race"});
}

TEST(AtomicFileWriter, AbandonedWriterRemovesTemp) {
  TempDir dir;
  {
    auto w = AtomicFileWriter::create(dir / "gone", false);
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(w->append(as_bytes("partial")).ok());
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(AtomicFileWriter, ParentIsAFileIsAClearIOError) {
  TempDir dir;
  write_plain(dir / "plain", "x");
  auto w = AtomicFileWriter::create(dir / "plain" / "out.bin", false);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code(), StatusCode::kIOError);
  EXPECT_NE(w.error().message().find("out.bin"), std::string::npos) << w.error().message();
  EXPECT_NE(w.error().message().find("Not a directory"), std::string::npos);
  EXPECT_EQ(dir.entries(), std::set<std::string>{"plain"});
}

// Disk full, simulated with RLIMIT_FSIZE in a child process (the limit and SIGXFSZ
// handling must not leak into the test binary). The child reports through its exit code.
TEST(AtomicFileWriter, DiskFullFailsCleanly) {
  TempDir dir;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of being killed
    const rlimit limit{64 * 1024, 64 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(10);
    auto w = AtomicFileWriter::create(dir / "full.bin", false);
    if (!w.has_value()) ::_exit(11);
    const std::string chunk(256 * 1024, 'q');
    Status s;
    for (int i = 0; i < 16 && s.ok(); ++i) s = w->append(as_bytes(chunk));
    if (s.ok()) s = w->commit();
    if (s.code() != StatusCode::kIOError) ::_exit(12);
    if (s.message().find("full.bin") == std::string::npos) ::_exit(13);
    if (s.message().find("disk full") == std::string::npos) ::_exit(14);
    if (!dir.entries().empty()) ::_exit(15);  // neither temp nor target may remain
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the _exit codes in the child above";
  EXPECT_TRUE(dir.entries().empty());
}

// A FIFO would block a plain open() until a writer comes; it must be refused at once.
TEST(OpenRegularFile, FifoIsRefusedWithoutBlocking) {
  TempDir dir;
  const auto fifo = dir / "x.safetensors";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(10);  // a hang ends the child by SIGALRM
    auto f = MappedFile::open(fifo);
    const bool ok = !f && f.error().code() == StatusCode::kIOError &&
                    f.error().message() == quoted(fifo) + " is a FIFO, not a regular file";
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "the open blocked (killed by signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(OpenRegularFile, SymlinkLoopAndDevicesNameTheCause) {
  TempDir dir;
  const auto loop = dir / "loop";
  std::filesystem::create_symlink("loop", loop);
  auto l = open_regular_file(loop);
  ASSERT_FALSE(l.has_value());
  EXPECT_EQ(l.error().code(), StatusCode::kIOError);
  EXPECT_EQ(l.error().message(), quoted(loop) + ": Too many levels of symbolic links (a symlink loop?)");
  auto zero = open_regular_file("/dev/zero");
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().message(), "'/dev/zero' is a device, not a regular file");
  auto ok = open_regular_file("/proc/self/status");  // regular, size 0 in stat: still opens
  EXPECT_TRUE(ok.has_value());
}

TEST(TempNames, StayWithinNameMax) {
  EXPECT_EQ(temp_name_template("dir/out.bin"), ".out.bin.tmp-XXXXXX");
  for (std::size_t n : {243u, 244u, 250u, 255u}) {
    const std::string t = temp_name_template(std::string(n, 'a'));
    EXPECT_LE(t.size(), 255u) << n;
    EXPECT_EQ(t.rfind(".aaaa", 0), 0u) << t;
    EXPECT_EQ(t.substr(t.size() - 11), ".tmp-XXXXXX");
  }
  EXPECT_EQ(temp_name_template(std::string(243, 'a')).size(), 255u);
  // A cut never splits a UTF-8 character: 'é' is 2 bytes, the room is 243.
  std::string accents;
  for (int i = 0; i < 125; ++i) accents += "\xc3\xa9";
  const std::string t = temp_name_template(accents);
  EXPECT_EQ(t.size(), 1 + 242 + 11u);
}

TEST(AtomicFileWriter, FailedCheckBeforePublishLeavesNothing) {
  TempDir dir;
  write_plain(dir / "out.bin", "old");
  auto w = AtomicFileWriter::create(dir / "out.bin", true);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->append(as_bytes("new")).ok());
  std::string seen;
  const Status s = w->commit([&](const std::filesystem::path& temp) {
    seen = read_plain(temp);  // complete and readable at its temp name
    return io_error("check failed");
  });
  EXPECT_EQ(s.message(), "check failed");
  EXPECT_EQ(seen, "new");
  EXPECT_EQ(read_plain(dir / "out.bin"), "old");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"out.bin"});
}

TEST(AtomicFileWriter, ModeFollowsTheUmask) {
  TempDir dir;
  auto w = AtomicFileWriter::create(dir / "out.bin", false);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->commit().ok());
  struct stat st;
  ASSERT_EQ(::stat((dir / "out.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u & ~process_umask());
  const mode_t now = ::umask(0);  // single-threaded test: safe to read this way
  ::umask(now);
  EXPECT_EQ(process_umask(), static_cast<unsigned>(now));
}

}  // namespace
}  // namespace lorank::io
