// Reading PyTorch checkpoints (`adapter_model.bin`, `pytorch_model.bin`) written by
// torch.save since PyTorch 1.6, without executing any of their code.
//
// Layout: a ZIP archive of stored (uncompressed) entries under one top-level folder:
//   <prefix>/data.pkl       the pickled state dict (name -> tensor)
//   <prefix>/data/<key>     one raw little-endian storage per key, named by data.pkl
//   <prefix>/byteorder      "little" (absent in files from torch < 1.10: little assumed)
//   <prefix>/version        the archive format version (or <prefix>/.data/version)
// data.pkl is interpreted by a restricted unpickler that recognises a fixed allowlist of
// globals and calls none of them. See docs/formats.md ("PyTorch .bin").
#ifndef LORANK_TORCH_CHECKPOINT_H_
#define LORANK_TORCH_CHECKPOINT_H_

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank {

// Options for TorchCheckpoint::open().
struct TorchOpenOptions {
  // Check the CRC-32 of every archive entry the checkpoint uses. Reads all tensor bytes
  // once (about 1 s per GB); turn off for a metadata-only look at a huge file.
  bool verify_crc32 = true;
};

// An open, fully validated PyTorch checkpoint holding a flat state dict of tensors.
// Move-only. Thread-safe for concurrent const use.
class TorchCheckpoint {
 public:
  // Maps and validates `path`. Returns:
  //   kNotFound      the file does not exist;
  //   kIOError       it cannot be opened or mapped;
  //   kCorruption    malformed ZIP (see io/zip_reader.h), missing data.pkl or version,
  //                  malformed pickle (truncation, stack underflow, MARK mismatch, memo
  //                  misses, a resource limit), a state dict that is not name -> tensor,
  //                  duplicate names, a storage entry missing or of the wrong size, a
  //                  tensor reaching past its storage, CRC mismatch;
  //   kNotSupported  the legacy pre-1.6 (non-ZIP) format, compressed entries, byteorder
  //                  other than "little", an unknown version, an opcode outside the
  //                  supported subset, any global outside the allowlist (message
  //                  "forbidden global 'os.system' ..."), non-contiguous tensors whose
  //                  copies would exceed the file size.
  // Every message is one line: "pytorch file '<path>': <problem>".
  static Result<TorchCheckpoint> open(const std::filesystem::path& path,
                                      const TorchOpenOptions& options = {});

  TorchCheckpoint(TorchCheckpoint&&) noexcept;
  TorchCheckpoint& operator=(TorchCheckpoint&&) noexcept;
  ~TorchCheckpoint();

  // The tensors in state-dict (pickle insertion) order, with row-major shapes and
  // little-endian data. Contiguous tensors point into the file mapping (zero copy);
  // non-contiguous ones (e.g. a saved transpose) point to a contiguous copy owned by
  // this object. Lifetime: names and data are valid while this TorchCheckpoint is alive,
  // including after it is moved.
  std::span<const TensorView> tensors() const;

  // The tensor called `name`, or nullptr. Same lifetime as tensors().
  const TensorView* find(std::string_view name) const;

  // How many tensors were materialised as contiguous copies (0 for files torch.save
  // wrote from a state_dict of ordinary parameters).
  std::size_t copied_tensor_count() const;

  // The archive's top-level folder name (e.g. "adapter_model", "archive").
  std::string_view archive_prefix() const;

  // The path given to open().
  const std::filesystem::path& path() const;

  // Drops the whole pages of `bytes` that lie in the mapped file from the resident set
  // (see io::MappedFile::release_pages); anything else, e.g. a heap copy, is left alone.
  // For streaming readers that are done with a tensor. Thread-safe.
  void release_pages(std::span<const std::byte> bytes) const;

 private:
  struct State;
  explicit TorchCheckpoint(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace lorank

#endif  // LORANK_TORCH_CHECKPOINT_H_
