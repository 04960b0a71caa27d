#include "io/replaceable.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "io/file.h"
#include "core/text.h"

namespace lorank::io {
namespace {

namespace fs = std::filesystem;

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a regular file";
}

// lstat `target`: false with `st` untouched if nothing is there.
Result<bool> exists_at(const fs::path& target, struct stat& st) {
  if (::lstat(target.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return io_error("cannot replace '{}': {}", target.string(), errno_text(errno));
}

bool starts_with(std::span<const std::byte> head, std::string_view prefix) {
  return head.size() >= prefix.size() && std::memcmp(head.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

bool looks_like_safetensors(std::span<const std::byte> head) {
  if (head.size() < 9) return false;
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<std::uint8_t>(head[static_cast<std::size_t>(i)]);
  return n > 0 && static_cast<char>(head[8]) == '{';
}

bool looks_like_gguf(std::span<const std::byte> head) { return starts_with(head, "GGUF"); }

bool is_or_contains(const fs::path& dir, const fs::path& path) {
  std::error_code ec;
  const fs::path d = fs::weakly_canonical(dir, ec);
  if (ec) return false;
  const fs::path p = fs::weakly_canonical(path, ec);
  if (ec) return false;
  auto pi = p.begin();
  for (auto di = d.begin(); di != d.end(); ++di, ++pi) {
    if (di->empty()) continue;  // a trailing separator
    if (pi == p.end() || *di != *pi) return false;
  }
  return true;
}

Status check_not_input(std::span<const fs::path> inputs, const fs::path& out) {
  for (const fs::path& input : inputs) {
    if (is_or_contains(out, input)) {
      if (is_or_contains(input, out)) {
        return invalid_argument("refusing to write over the input '{}'", out.string());
      }
      return invalid_argument("refusing to write over the input: replacing '{}' would delete '{}'",
                              out.string(), input.string());
    }
  }
  return Status();
}

Status check_replaceable_file(const fs::path& target, const LooksLike& looks_like,
                              std::string_view what) {
  struct stat st;
  LORANK_ASSIGN_OR_RETURN(bool exists, exists_at(target, st));
  if (!exists) return Status();
  if (!S_ISREG(st.st_mode)) {
    return invalid_argument("refusing to replace '{}': it is {}, not {}", target.string(),
                            kind_of(st.st_mode), what);
  }
  LORANK_ASSIGN_OR_RETURN(OpenedFile file, open_regular_file(target));
  LORANK_ASSIGN_OR_RETURN(const std::string head, read_head(file, 16, target));
  if (!looks_like(std::as_bytes(std::span<const char>(head)))) {
    return invalid_argument("refusing to replace '{}': it is not {}, so lorank did not write it",
                            target.string(), what);
  }
  return Status();
}

Status check_replaceable_folder(const fs::path& target, std::span<const std::string_view> allowed) {
  struct stat st;
  LORANK_ASSIGN_OR_RETURN(bool exists, exists_at(target, st));
  if (!exists) return Status();
  if (!S_ISDIR(st.st_mode)) {
    return invalid_argument("refusing to replace '{}': it is {}, not an adapter folder",
                            target.string(), kind_of(st.st_mode));
  }
  std::vector<std::pair<std::string, bool>> entries;  // name, is a folder
  std::error_code ec;
  for (fs::directory_iterator it(target, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::file_status s = it->symlink_status(ec);
    if (ec) break;
    const std::string name = it->path().filename().string();
    const bool allowed_name = std::find(allowed.begin(), allowed.end(), name) != allowed.end();
    if (s.type() == fs::file_type::regular && allowed_name) continue;
    entries.emplace_back(name, s.type() == fs::file_type::directory);
  }
  if (ec) return io_error("cannot replace '{}': cannot list it: {}", target.string(), ec.message());
  if (entries.empty()) return Status();
  std::sort(entries.begin(), entries.end());
  const auto& [name, is_folder] = entries.front();
  return invalid_argument("refusing to replace '{}': it holds {}'{}', which lorank did not write",
                          target.string(), is_folder ? "the folder " : "", printable(name));
}

}  // namespace lorank::io
