#include <span>

#include "io/file.h"
#include "io/replaceable.h"
#include "lorank/files.h"

namespace lorank {

Status write_text_file(const std::filesystem::path& path, const std::string& text, bool overwrite,
                       const std::function<bool(std::span<const std::byte> head)>& replaceable,
                       const char* replaceable_what) {
  if (overwrite) {
    const io::LooksLike any = [](std::span<const std::byte>) { return true; };
    LORANK_RETURN_IF_ERROR(
        io::check_replaceable_file(path, replaceable ? replaceable : any, replaceable_what));
  }
  LORANK_ASSIGN_OR_RETURN(io::AtomicFileWriter w, io::AtomicFileWriter::create(path, overwrite));
  LORANK_RETURN_IF_ERROR(w.append(std::as_bytes(std::span<const char>(text.data(), text.size()))));
  return w.commit();
}

}  // namespace lorank
