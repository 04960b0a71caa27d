// Building torch.save-style files byte by byte for the PyTorch reader tests: a ZIP writer
// that can also lie (wrong offsets, compressed methods, central-only records) and a pickle
// writer for hand-assembled opcode streams.
#ifndef LORANK_TESTS_SUPPORT_TORCH_FILES_H_
#define LORANK_TESTS_SUPPORT_TORCH_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lorank::testing {

std::string le_bytes(uint64_t v, int n);

// Writes entries the way torch's writer does (flag bit 3 with zero local sizes and a data
// descriptor, ZIP64 end records) unless told otherwise.
class ZipWriter {
 public:
  // Appends a local header and `data`; returns the local header offset.
  uint64_t add(std::string_view name, std::string_view data, uint16_t method = 0);
  // A central record with no local entry of its own (for overlap tests).
  void add_central_only(std::string_view name, uint64_t local_offset, uint64_t size, uint32_t crc);
  // Central directory and end records. `zip64` adds the ZIP64 record and locator.
  std::string finish(bool zip64 = true);
  // Offset where the data of the entry added last starts.
  uint64_t last_data_offset() const { return last_data_offset_; }

 private:
  struct Central {
    std::string name;
    uint16_t method;
    uint32_t crc;
    uint64_t size;
    uint64_t offset;
  };
  std::string bytes_;
  std::vector<Central> central_;
  uint64_t last_data_offset_ = 0;
};

// Appends pickle opcodes; every method returns *this.
class PickleWriter {
 public:
  PickleWriter& raw(std::string_view bytes);
  PickleWriter& op(char c) { return raw(std::string(1, c)); }
  PickleWriter& proto(int p);
  PickleWriter& str(std::string_view s);                                 // BINUNICODE
  PickleWriter& integer(int64_t v);                                      // BININT1/BININT2/BININT
  PickleWriter& global(std::string_view module, std::string_view name);  // GLOBAL
  PickleWriter& put(uint32_t index);                                     // BINPUT or LONG_BINPUT
  PickleWriter& get(uint32_t index);                                     // BINGET or LONG_BINGET
  // A whole _rebuild_tensor_v2(...) REDUCE for storage `key` of `storage_type`.
  PickleWriter& tensor(std::string_view storage_type, std::string_view key, int64_t numel,
                       int64_t offset, const std::vector<int64_t>& size,
                       const std::vector<int64_t>& stride);
  std::string bytes() const { return out_; }

 private:
  std::string out_;
};

// One tensor of a generated checkpoint.
struct TorchTensorSpec {
  std::string name;
  std::string storage_type = "FloatStorage";
  std::string key = "0";
  int64_t numel = 6;
  int64_t offset = 0;
  std::vector<int64_t> size = {2, 3};
  std::vector<int64_t> stride = {3, 1};
};

// data.pkl for {name: tensor, ...} as torch writes it (protocol 2, EMPTY_DICT + SETITEMS).
std::string state_dict_pickle(const std::vector<TorchTensorSpec>& tensors);

// A complete archive "archive/..." with `pickle` as data.pkl, byteorder, version and one
// storage per distinct key (numel × itemsize bytes, filled with 0, 1, 2, ...).
// `byteorder`/`version` empty means the record is left out.
std::string torch_zip(const std::string& pickle, const std::vector<TorchTensorSpec>& tensors,
                      std::string byteorder = "little", std::string version = "3\n");

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_TORCH_FILES_H_
