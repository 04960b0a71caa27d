// Reading and writing GGUF v3 files (llama.cpp's format, used for LoRA adapters).
//
// Layout (all integers little-endian; see docs/formats.md for every check and limit):
//   "GGUF"       magic, 4 bytes
//   u32          version (3; 2 is read too, it is the same layout)
//   u64 u64      tensor count, KV count
//   KV × n       u64 key length, key bytes, u32 value type, value (lorank/gguf_value.h)
//   info × n     u64 name length, name, u32 n_dims (≤ 4), u64 ne[n_dims] (fastest-first),
//                u32 ggml type, u64 offset (relative to the data section, aligned)
//   padding      zeros up to a multiple of ALIGNMENT = general.alignment (u32, default 32)
//   data         tensor bytes; each tensor starts at an aligned offset
// Shapes: ggml lists ne fastest-first; lorank's Shape is row-major slowest-first, so a
// GGUF lora_a with ne = [in, r] is exposed as Shape{{r, in}} (the reverse of ne).
#ifndef LORANK_GGUF_H_
#define LORANK_GGUF_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lorank/gguf_value.h"
#include "lorank/files.h"
#include "lorank/status.h"
#include "lorank/tensor.h"

namespace lorank {

// Limits the reader enforces before it allocates or reads anything; a file beyond them is
// kCorruption. The writer refuses (kInvalidData) what the reader would refuse.
inline constexpr uint64_t kGgufMaxTensors = uint64_t{1} << 20;
inline constexpr uint64_t kGgufMaxKvs = uint64_t{1} << 20;
inline constexpr uint64_t kGgufMaxStringBytes = uint64_t{1} << 30;    // ggml's cap
inline constexpr uint64_t kGgufMaxArrayElements = uint64_t{1} << 30;  // ggml's cap
inline constexpr int kGgufMaxArrayDepth = 8;                // an array of arrays has depth 2
inline constexpr uint32_t kGgufMaxDims = 4;                 // GGML_MAX_DIMS
inline constexpr std::size_t kGgufMaxTensorNameBytes = 63;  // ggml: name + NUL ≤ 64
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr uint32_t kGgufVersion = 3;

// ggml tensor type ids that lorank names. Every id known to ggml (0..42 minus the removed
// ones) has a known block size, so any such tensor can be validated, described and copied
// unchanged; only the types below convert to values.
inline constexpr uint32_t kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ8_0 = 8, kGgmlI8 = 24, kGgmlI16 = 25,
                          kGgmlI32 = 26, kGgmlI64 = 27, kGgmlF64 = 28, kGgmlBF16 = 30;
// The quantised types that gguf_dequantize_rows() converts (Q8_0 is above).
inline constexpr uint32_t kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ5_0 = 6, kGgmlQ5_1 = 7,
                          kGgmlQ2_K = 10, kGgmlQ3_K = 11, kGgmlQ4_K = 12, kGgmlQ5_K = 13,
                          kGgmlQ6_K = 14;

// The size of one ggml block in elements and in bytes (F32: 1 and 4; Q8_0: 32 and 34).
struct GgmlTypeTraits {
  std::string_view name;  // "F32", "Q8_0", "Q4_K", ...
  uint32_t block_elements = 0;
  uint32_t block_bytes = 0;
};
// The traits of ggml type `id`, or nullopt for ids ggml does not define (or removed).
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id);
// The ggml type with the same element encoding as `dtype` (F32, F16, BF16, F64, I8..I64),
// or nullopt (ggml has no unsigned, bool or F8 types).
std::optional<uint32_t> ggml_type_for(DType dtype);
// The DType matching ggml type `id`, or nullopt (quantised and unknown types).
std::optional<DType> dtype_for_ggml_type(uint32_t id);

// One tensor as described by the file. Lifetime: `data` points into the GgufFile's
// mapping and is valid while that GgufFile is alive.
struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  // as stored: n_dims entries, fastest-first
  uint32_t ggml_type = kGgmlF32;
  uint64_t offset = 0;              // relative to the data section; a multiple of the alignment
  Shape shape;                      // row-major (slowest-first): ne reversed, computed once
  std::span<const std::byte> data;  // exactly the tensor's bytes

  // The DType if the ggml type maps to one (see dtype_for_ggml_type), else nullopt.
  std::optional<DType> dtype() const { return dtype_for_ggml_type(ggml_type); }
};

// An open, fully validated GGUF file; tensor data stays memory-mapped (zero copy).
// Move-only. Thread-safe for concurrent const use.
class GgufFile {
 public:
  // Maps and validates `path` (header, every KV, every tensor info and the data layout).
  // Returns:
  //   kNotFound      the file does not exist;
  //   kIOError       it cannot be opened or mapped (errno text in the message);
  //   kNotSupported  GGUF version 1, a version > 3 (or a byte-swapped, big-endian file), or
  //                  a tensor whose ggml type id lorank does not know (its size is unknown);
  //   kCorruption    anything malformed: bad magic, truncation, counts or lengths past
  //                  the limits above or past the end of the file, bad value types, empty
  //                  or duplicate keys, bool bytes other than 0/1, bad general.alignment,
  //                  duplicate or over-long tensor names, n_dims > 4, dims ≥ 2^63 or whose
  //                  product overflows, rows not a multiple of the block size, misaligned
  //                  offsets, tensor bytes past the end of the file, overlapping tensors.
  // Every message is one line: `gguf file '<path>': <problem>`.
  static Result<GgufFile> open(const std::filesystem::path& path);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  // The metadata in file order. Valid while this GgufFile is alive (moves included).
  std::span<const GgufKv> kvs() const;
  // The value stored under `key`, or nullptr. Same lifetime as kvs().
  const GgufValue* find_kv(std::string_view key) const;

  // The tensor infos in header order (not necessarily data order). Same lifetime as kvs().
  std::span<const GgufTensorInfo> tensor_infos() const;
  // The info of the tensor called `name`, or nullptr.
  const GgufTensorInfo* find_tensor_info(std::string_view name) const;

  // The tensor called `name` as a TensorView (row-major shape, DType, zero-copy data).
  // Returns kNotFound if there is no such tensor and kNotSupported, naming the tensor and
  // its ggml type, if that type has no DType (quantised types: use the raw `data` of
  // find_tensor_info() to copy them, or gguf_dequantize_rows() / gguf_tensor_to_double()
  // to get their values).
  // Lifetime: the view borrows from this GgufFile.
  Result<TensorView> tensor(std::string_view name) const;
  // Views of every tensor, in header order; fails like tensor() on the first that has no
  // DType.
  Result<std::vector<TensorView>> tensors() const;

  uint32_t version() const;
  // The alignment in bytes (general.alignment, or 32).
  uint32_t alignment() const;
  // The file offset where the data section starts (a multiple of alignment()).
  uint64_t data_offset() const;
  uint64_t file_size() const;
  const std::filesystem::path& path() const;

  // Drops the whole pages of `bytes` that lie in the mapped file from the resident set
  // (see io::MappedFile::release_pages); anything else, e.g. a heap copy, is left alone.
  // For streaming readers that are done with a tensor. Thread-safe.
  void release_pages(std::span<const std::byte> bytes) const;

 private:
  struct State;
  explicit GgufFile(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// True if gguf_dequantize_rows() can convert ggml type `id`: F32, F16, BF16, F64, Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
bool ggml_type_dequantizable(uint32_t id);
// Dequantizes `out.size() / row_len` whole rows of `info`, starting at row `row_begin`, to
// float32, where row_len = ne[0] (1 for a 0-d tensor) and rows are numbered in storage order
// (row i covers elements [i*row_len, (i+1)*row_len) in row-major order). Results are bit-identical
// to ggml's dequantize_row_* and to gguf-py's quants.dequantize (F64 is rounded to nearest F32).
// Returns kNotSupported naming the tensor and its type name for other types, kInvalidArgument
// if out.size() is not a multiple of row_len or the rows run past the tensor.
// REQUIRES: info comes from a GgufFile (validated). Thread-safe (pure function).
// F16, BF16 and F32 elements keep their exact bits (NaN payloads too); an F64 NaN comes back
// quiet. Formulas and how exactness is tested: docs/formats.md.
Status gguf_dequantize_rows(const GgufTensorInfo& info, uint64_t row_begin, std::span<float> out);

// Widens a tensor's elements to double, in row-major order: F32/F16/BF16/F64 exactly (as
// to_double), the quantised types of ggml_type_dequantizable() as gguf_dequantize_rows()
// gives them (float32 values, widened exactly).
// Returns kNotSupported naming the tensor for other ggml types and kInvalidArgument if
// out.size() is not the element count. REQUIRES: info comes from a GgufFile (validated).
Status gguf_tensor_to_double(const GgufTensorInfo& info, std::span<double> out);

// The llama.cpp LoRA adapter metadata (src/llama-adapter.cpp reads the same keys).
struct GgufLoraMetadata {
  std::string architecture;    // general.architecture; empty if absent
  std::optional<float> alpha;  // adapter.lora.alpha; nullopt if absent or 0 (llama.cpp
                               // then applies the user scale without alpha/r)
};
// Checks that `file` is a LoRA adapter (general.type == "adapter", adapter.type == "lora")
// and reads its metadata. Returns kNotSupported naming the file if either key is
// missing or holds another string, and kCorruption if general.type, adapter.type,
// general.architecture (strings) or adapter.lora.alpha (f32) has the wrong value type.
// Tensor naming (not checked here): `<base>.lora_a` has ne = [in, r], so Shape {r, in};
// `<base>.lora_b` has ne = [r, out], so Shape {out, r}; see docs/formats.md.
Result<GgufLoraMetadata> gguf_lora_metadata(const GgufFile& file);

// A tensor to write. `ne` is fastest-first, as stored; the data is the stored bytes.
struct GgufWriteTensor {
  std::string_view name;
  uint32_t ggml_type = kGgmlF32;
  std::vector<uint64_t> ne;
  std::span<const std::byte> data;

  // From a TensorView: ne is the reversed row-major shape, the type from ggml_type_for().
  // Returns kNotSupported for a DType ggml has no type for, kInvalidData for a negative dim.
  static Result<GgufWriteTensor> from_view(const TensorView& view);
  // Passthrough of a tensor read from a GgufFile (any ggml type, bytes unchanged).
  static GgufWriteTensor from_info(const GgufTensorInfo& info);
};

// Options for write_gguf().
struct GgufWriteOptions {
  // Replace an existing file at the target path; otherwise kInvalidArgument, file untouched.
  bool overwrite = false;
  // Checks the complete temp file before it is renamed into place (lorank/files.h).
  BeforePublish before_publish = {};
  // When set, the tensors' `data` is not read (it may be empty): each tensor's size comes
  // from its type and ne and its bytes from this source (lorank/files.h).
  TensorDataSource data_source = {};
};

// Writes a GGUF v3 file atomically (temp file, fsync, rename; see io::AtomicFileWriter):
// the KVs in the given order, the tensor infos in the given order, zero padding to the
// alignment (general.alignment if `kvs` has it, else 32), then each tensor's bytes at the
// next aligned offset, each followed by zero padding (as ggml's writer does). Reading the
// result and writing it again with the same order gives the same bytes.
// Returns kInvalidData, before anything is written, for: empty or duplicate keys, a
// general.alignment that is not a u32 power of two, values past the limits above, empty,
// over-long or duplicate tensor names, more than 4 dims, dims ≥ 2^63 or overflowing, an
// unknown ggml type, a row not a multiple of the block size, data whose size is not the
// size the type and ne imply, or an existing target without options.overwrite.
// kIOError when the OS fails (the message names the path).
// REQUIRES: every tensor's data stays valid during the call.
Status write_gguf(const std::filesystem::path& path, std::span<const GgufKv> kvs,
                  std::span<const GgufWriteTensor> tensors, const GgufWriteOptions& options = {});

// Convenience: write_gguf() with each view converted by GgufWriteTensor::from_view().
Status write_gguf(const std::filesystem::path& path, std::span<const GgufKv> kvs,
                  std::span<const TensorView> tensors, const GgufWriteOptions& options = {});

}  // namespace lorank

#endif  // LORANK_GGUF_H_
