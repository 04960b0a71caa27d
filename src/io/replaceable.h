// What `--overwrite` may replace: only what looks like lorank's own output, so that a slip
// such as `-o ~/models --overwrite` is refused instead of deleting a folder of user files.
#ifndef LORANK_IO_REPLACEABLE_H_
#define LORANK_IO_REPLACEABLE_H_

#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>
#include <string_view>

#include "lorank/status.h"

namespace lorank::io {

// Judges a file by its first bytes (up to 16; fewer if the file is shorter).
using LooksLike = std::function<bool(std::span<const std::byte> head)>;

// OK if nothing is at `target`, or it is a regular file (not a symlink) whose first bytes
// pass `looks_like`. Otherwise kInvalidArgument (the refusal follows from the user's
// -o/--overwrite) naming what is there: "refusing to replace 'x': it is a directory, not
// <what>" or "...: it is not <what>, so lorank did not write it". kIOError if it cannot be
// read. `what` reads like "a safetensors file".
Status check_replaceable_file(const std::filesystem::path& target, const LooksLike& looks_like,
                              std::string_view what);

// OK if nothing is at `target`, or it is a folder (not a symlink) holding only regular files
// named in `allowed` and no subfolder (an empty folder is fine). Otherwise kInvalidArgument
// naming the first entry (by name) that lorank did not write: "refusing to replace 'victim':
// it holds 'thesis.txt', which lorank did not write" ("the folder 'deeper'" for folders).
Status check_replaceable_folder(const std::filesystem::path& target,
                                std::span<const std::string_view> allowed);

// `dir` is `path` or one of its ancestors (resolved through symlinks and "..").
bool is_or_contains(const std::filesystem::path& dir, const std::filesystem::path& path);

// kInvalidArgument if writing (or replacing) `out` could destroy one of `inputs`: `out` is
// an input, or a folder holding one. "refusing to write over the input 'x'" or "refusing to
// write over the input: replacing 'out' would delete 'x'".
Status check_not_input(std::span<const std::filesystem::path> inputs,
                       const std::filesystem::path& out);

// First-bytes tests for the formats lorank writes.
bool looks_like_safetensors(std::span<const std::byte> head);  // u64 header size, then '{'
bool looks_like_gguf(std::span<const std::byte> head);         // the "GGUF" magic

}  // namespace lorank::io

#endif  // LORANK_IO_REPLACEABLE_H_
