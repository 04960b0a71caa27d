// Small file helpers for reports and configs.
#ifndef LORANK_FILES_H_
#define LORANK_FILES_H_

#include <filesystem>
#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "lorank/status.h"

namespace lorank {

// Called by lorank's writers with the path of a complete, fsynced, hidden temp output (a
// file, or a folder for PEFT) just before it is renamed into place. An error cancels
// publishing: the temp is removed, nothing appears at (or changes at) the target, and the
// writer returns that error. This is how `resize` verifies what it wrote before anyone can
// see it.
using BeforePublish = std::function<Status(const std::filesystem::path& temp)>;

// Appends bytes to an output being written; returns the writer's error (disk full, ...).
using ByteSink = std::function<Status(std::span<const std::byte> bytes)>;
// Streams the bytes of tensor `index` (in the order the writer was given the tensors) into
// `sink`, in as many pieces as it likes. Lets a writer produce a file larger than memory:
// merge computes each tensor while it is written. The writer checks that exactly the
// tensor's size arrived and fails (kInternal, nothing published) otherwise.
using TensorDataSource = std::function<Status(std::size_t index, const ByteSink& sink)>;

// Writes `text` to `path` atomically (temp file beside it, fsync, rename): readers see the
// old file or the whole new one. Without `overwrite`, an existing `path` is refused
// (kInvalidArgument). With it, an existing `path` is replaced only if it is a regular file
// passing `replaceable` (given its first up to 16 bytes; none = any regular file), else
// kInvalidArgument naming what is there (`replaceable_what` reads like "an HTML report").
// kIOError naming the path when the folder is missing, read-only or full. The file gets
// mode 0666 & ~umask.
Status write_text_file(const std::filesystem::path& path, const std::string& text,
                       bool overwrite,
                       const std::function<bool(std::span<const std::byte> head)>& replaceable = {},
                       const char* replaceable_what = "a regular file");

// For a program's `main`: on SIGINT, SIGTERM or SIGHUP, the
// unfinished outputs of lorank's atomic writers (hidden temp files and folders) are
// removed and the process ends by that signal; a published output is never touched. Also
// ignores SIGXFSZ, so that a file-size limit is a write error naming the file.
void remove_unfinished_outputs_on_interrupt();

}  // namespace lorank

#endif  // LORANK_FILES_H_
