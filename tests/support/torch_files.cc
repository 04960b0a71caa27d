#include "support/torch_files.h"

#include <map>
#include <span>

#include "io/zip_reader.h"

namespace lorank::testing {
namespace {

uint32_t crc_of(std::string_view data) {
  return io::crc32_of(std::as_bytes(std::span<const char>(data.data(), data.size())));
}

std::size_t itemsize(std::string_view storage_type) {
  if (storage_type == "DoubleStorage" || storage_type == "LongStorage") return 8;
  if (storage_type == "HalfStorage" || storage_type == "BFloat16Storage") return 2;
  if (storage_type == "ByteStorage" || storage_type == "BoolStorage") return 1;
  return 4;
}

}  // namespace

std::string le_bytes(uint64_t v, int n) {
  std::string s(static_cast<std::size_t>(n), '\0');
  for (int i = 0; i < n; ++i)
    s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

uint64_t ZipWriter::add(std::string_view name, std::string_view data, uint16_t method) {
  const uint64_t offset = bytes_.size();
  const uint32_t crc = crc_of(data);
  bytes_ += le_bytes(0x04034b50, 4) + le_bytes(20, 2) + le_bytes(0x0808, 2) + le_bytes(method, 2);
  bytes_ += le_bytes(0, 4) + le_bytes(0, 4) + le_bytes(0, 4) + le_bytes(0, 4);  // time, crc, sizes
  bytes_ += le_bytes(name.size(), 2) + le_bytes(0, 2);
  bytes_ += name;
  last_data_offset_ = bytes_.size();
  bytes_ += data;
  bytes_ += le_bytes(0x08074b50, 4) + le_bytes(crc, 4) + le_bytes(data.size(), 4) +
            le_bytes(data.size(), 4);
  central_.push_back({std::string(name), method, crc, data.size(), offset});
  return offset;
}

void ZipWriter::add_central_only(std::string_view name, uint64_t local_offset, uint64_t size,
                                 uint32_t crc) {
  central_.push_back({std::string(name), 0, crc, size, local_offset});
}

std::string ZipWriter::finish(bool zip64) {
  const uint64_t cd_offset = bytes_.size();
  for (const Central& c : central_) {
    bytes_ += le_bytes(0x02014b50, 4) + le_bytes(0x031e, 2) + le_bytes(20, 2) +
              le_bytes(0x0808, 2) + le_bytes(c.method, 2) + le_bytes(0, 4) + le_bytes(c.crc, 4) +
              le_bytes(c.size, 4) + le_bytes(c.size, 4) + le_bytes(c.name.size(), 2) +
              le_bytes(0, 2) + le_bytes(0, 2) + le_bytes(0, 2) + le_bytes(0, 2) + le_bytes(0, 4) +
              le_bytes(c.offset, 4) + c.name;
  }
  const uint64_t cd_size = bytes_.size() - cd_offset;
  if (zip64) {
    const uint64_t z64 = bytes_.size();
    bytes_ += le_bytes(0x06064b50, 4) + le_bytes(44, 8) + le_bytes(0x031e, 2) + le_bytes(45, 2) +
              le_bytes(0, 4) + le_bytes(0, 4) + le_bytes(central_.size(), 8) +
              le_bytes(central_.size(), 8) + le_bytes(cd_size, 8) + le_bytes(cd_offset, 8);
    bytes_ += le_bytes(0x07064b50, 4) + le_bytes(0, 4) + le_bytes(z64, 8) + le_bytes(1, 4);
  }
  bytes_ += le_bytes(0x06054b50, 4) + le_bytes(0, 2) + le_bytes(0, 2) +
            le_bytes(central_.size(), 2) + le_bytes(central_.size(), 2) + le_bytes(cd_size, 4) +
            le_bytes(cd_offset, 4) + le_bytes(0, 2);
  return bytes_;
}

PickleWriter& PickleWriter::raw(std::string_view bytes) {
  out_ += bytes;
  return *this;
}

PickleWriter& PickleWriter::proto(int p) {
  out_ += '\x80';  // appended char by char: "literal" + std::string trips GCC 12's -Wrestrict
  out_ += static_cast<char>(p);
  return *this;
}

PickleWriter& PickleWriter::str(std::string_view s) {
  return op('X').raw(le_bytes(s.size(), 4)).raw(s);
}

PickleWriter& PickleWriter::integer(int64_t v) {
  if (v >= 0 && v < 256) return op('K').raw(le_bytes(static_cast<uint64_t>(v), 1));
  if (v >= 0 && v < 65536) return op('M').raw(le_bytes(static_cast<uint64_t>(v), 2));
  return op('J').raw(le_bytes(static_cast<uint64_t>(v), 4));
}

PickleWriter& PickleWriter::global(std::string_view module, std::string_view name) {
  return op('c').raw(module).raw("\n").raw(name).raw("\n");
}

PickleWriter& PickleWriter::put(uint32_t index) {
  return index < 256 ? op('q').raw(le_bytes(index, 1)) : op('r').raw(le_bytes(index, 4));
}

PickleWriter& PickleWriter::get(uint32_t index) {
  return index < 256 ? op('h').raw(le_bytes(index, 1)) : op('j').raw(le_bytes(index, 4));
}

PickleWriter& PickleWriter::tensor(std::string_view storage_type, std::string_view key,
                                   int64_t numel, int64_t offset, const std::vector<int64_t>& size,
                                   const std::vector<int64_t>& stride) {
  global("torch._utils", "_rebuild_tensor_v2").op('(');
  op('(').str("storage").global("torch", storage_type).str(key).str("cpu").integer(numel).op('t');
  op('Q').integer(offset);
  op('(');
  for (int64_t d : size) integer(d);
  op('t').op('(');
  for (int64_t s : stride) integer(s);
  op('t');
  op('\x89').global("collections", "OrderedDict").op(')').op('R');
  return op('t').op('R');
}

std::string state_dict_pickle(const std::vector<TorchTensorSpec>& tensors) {
  PickleWriter w;
  w.proto(2).op('}').op('(');
  for (const TorchTensorSpec& t : tensors) {
    w.str(t.name).tensor(t.storage_type, t.key, t.numel, t.offset, t.size, t.stride);
  }
  return w.op('u').op('.').bytes();
}

std::string torch_zip(const std::string& pickle, const std::vector<TorchTensorSpec>& tensors,
                      std::string byteorder, std::string version) {
  ZipWriter zip;
  zip.add("archive/data.pkl", pickle);
  if (!byteorder.empty()) zip.add("archive/byteorder", byteorder);
  std::map<std::string, std::string> storages;
  for (const TorchTensorSpec& t : tensors) {
    std::string data(static_cast<std::size_t>(t.numel) * itemsize(t.storage_type), '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i);
    storages.emplace(t.key, data);
  }
  for (const auto& [key, data] : storages) zip.add("archive/data/" + key, data);
  if (!version.empty()) zip.add("archive/version", version);
  return zip.finish();
}

}  // namespace lorank::testing
