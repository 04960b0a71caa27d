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

}  // namespace lorank

#endif  // LORANK_FILES_H_
