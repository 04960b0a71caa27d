// write_adapter: an Adapter back to its own format, tensors in the input's order.
#include <deque>
#include <map>

#include "adapter/gguf_layout.h"
#include "io/atomic_dir.h"
#include "io/file.h"
#include "io/replaceable.h"
#include "lorank/adapter.h"
#include "lorank/files.h"
#include "lorank/gguf.h"
#include "lorank/safetensors.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;

// The tensors to write: the input's order, each name resolved to its current view (a
// module's factors may have been replaced since reading), then anything new. GGUF's
// flipped token-embedding A goes back to llama.cpp's layout, its bytes in `scratch`.
std::vector<TensorView> tensors_to_write(const Adapter& a, std::deque<std::vector<std::byte>>& scratch) {
  std::map<std::string_view, TensorView> current;
  std::vector<std::string_view> extra;
  auto put = [&](const TensorView& t) {
    if (current.emplace(t.name, t).second) extra.push_back(t.name);
  };
  for (const LoraModule& m : a.modules) {
    put(m.A);
    put(m.B);
    if (m.magnitude) put(*m.magnitude);
    if (m.alpha_tensor) put(*m.alpha_tensor);
  }
  for (const TensorView& t : a.passthrough) put(t);
  std::vector<TensorView> out;
  std::map<std::string_view, bool> written;
  for (const TensorView& t : a.tensors) {
    auto it = current.find(t.name);
    if (it == current.end()) continue;  // dropped since reading
    out.push_back(it->second);
    written[t.name] = true;
  }
  for (std::string_view name : extra) {
    if (!written.count(name)) out.push_back(current.at(name));
  }
  if (a.format == AdapterFormat::kGguf) {
    for (TensorView& t : out) {
      if (adapter::is_flipped_gguf_a(t.name) && t.shape.rank() == 2 && is_convertible_float(t.dtype)) {
        t = adapter::transposed(t, scratch.emplace_back());
      }
    }
  }
  return out;
}

// Refuses to let --overwrite replace anything lorank did not write (see AdapterWriteOptions).
Status check_replaceable(AdapterFormat format, const fs::path& out) {
  switch (format) {
    case AdapterFormat::kPeft: return io::check_replaceable_folder(out, kAdapterFolderFiles);
    case AdapterFormat::kKohya:
      return io::check_replaceable_file(out, io::looks_like_safetensors, "a safetensors file");
    case AdapterFormat::kGguf: return io::check_replaceable_file(out, io::looks_like_gguf, "a GGUF file");
    case AdapterFormat::kMlx: return io::check_replaceable_folder(out, kMlxFolderFiles);
  }
  return Status();
}

// An error while filling or checking the hidden temp output, worded with the name the user gave.
Status in_user_terms(Status s, const fs::path& temp, const fs::path& out) {
  std::string message = s.message();
  const std::string from = temp.string(), to = out.string();
  for (std::size_t at; (at = message.find(from)) != std::string::npos;) message.replace(at, from.size(), to);
  return Status(s.code(), std::move(message));
}

// PEFT's and mlx_lm's layout: a folder `out` holding the weights file `weights_name` and,
// when there is one, the config text.
Status write_folder(const fs::path& out, std::string_view weights_name, const std::string* config,
                    const std::vector<TensorView>& tensors,
                    const std::map<std::string, std::string>& metadata, bool overwrite,
                    const BeforePublish& before_publish) {
  LORANK_ASSIGN_OR_RETURN(io::AtomicDirectory dir, io::AtomicDirectory::create(out, overwrite));
  Status s = write_safetensors(dir.temp_path() / weights_name, tensors, metadata,
                               SafetensorsWriteOptions{false});
  if (s.ok() && config) s = write_text_file(dir.temp_path() / "adapter_config.json", *config, false);
  return s.ok() ? dir.commit(before_publish) : in_user_terms(std::move(s), dir.temp_path(), out);
}

}  // namespace

Status check_not_input(const Adapter& a, const fs::path& out) {
  std::vector<fs::path> inputs{a.weights_path};
  if (a.config_path) inputs.push_back(*a.config_path);
  return io::check_not_input(inputs, out);
}

Status write_adapter(const Adapter& a, const fs::path& out, const AdapterWriteOptions& options) {
  LORANK_RETURN_IF_ERROR(check_not_input(a, out));
  if (options.overwrite) LORANK_RETURN_IF_ERROR(check_replaceable(a.format, out));
  // The hook sees the temp path; its errors are reworded to name `out`.
  BeforePublish before_publish;
  if (options.before_publish) {
    before_publish = [&](const fs::path& temp) {
      Status s = options.before_publish(temp);
      return s.ok() ? s : in_user_terms(std::move(s), temp, out);
    };
  }
  std::deque<std::vector<std::byte>> scratch;
  const std::vector<TensorView> tensors = tensors_to_write(a, scratch);
  switch (a.format) {
    case AdapterFormat::kPeft:
      return write_folder(out, "adapter_model.safetensors", a.peft ? &a.peft->raw_json : nullptr,
                          tensors, a.metadata, options.overwrite, before_publish);
    case AdapterFormat::kMlx:  // the names mlx_lm's load_adapters opens
      return write_folder(out, "adapters.safetensors", a.mlx ? &a.mlx->raw_json : nullptr,
                          tensors, a.metadata, options.overwrite, before_publish);
    case AdapterFormat::kKohya:
      return write_safetensors(out, tensors, a.metadata,
                               SafetensorsWriteOptions{options.overwrite, before_publish});
    case AdapterFormat::kGguf:
      return write_gguf(out, a.gguf_kvs, std::span<const TensorView>(tensors),
                        GgufWriteOptions{options.overwrite, before_publish});
  }
  return internal_error("unknown adapter format");
}

}  // namespace lorank
