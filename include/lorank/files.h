// Small file helpers for reports and configs.
#ifndef LORANK_FILES_H_
#define LORANK_FILES_H_

#include <filesystem>
#include <string>

#include "lorank/status.h"

namespace lorank {

// Writes `text` to `path` atomically (temp file beside it, fsync, rename): readers see the
// old file or the whole new one. Without `overwrite`, an existing `path` is refused
// (kInvalidArgument). kIOError naming the path when the folder is missing, read-only or full.
Status write_text_file(const std::filesystem::path& path, const std::string& text,
                       bool overwrite);

// For a program's `main`: on SIGINT, SIGTERM or SIGHUP, the
// unfinished outputs of lorank's atomic writers (hidden temp files and folders) are
// removed and the process ends by that signal; a published output is never touched. Also
// ignores SIGXFSZ, so that a file-size limit is a write error naming the file.
void remove_unfinished_outputs_on_interrupt();

}  // namespace lorank

#endif  // LORANK_FILES_H_
