#include <span>

#include "io/file.h"
#include "lorank/files.h"

namespace lorank {

Status write_text_file(const std::filesystem::path& path, const std::string& text, bool overwrite) {
  LORANK_ASSIGN_OR_RETURN(io::AtomicFileWriter w, io::AtomicFileWriter::create(path, overwrite));
  LORANK_RETURN_IF_ERROR(w.append(std::as_bytes(std::span<const char>(text.data(), text.size()))));
  return w.commit();
}

}  // namespace lorank
