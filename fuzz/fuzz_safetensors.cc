// Fuzzes the safetensors header and tensor table, then widens every tensor.
#include <vector>

#include "support.h"
#include "lorank/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lorank::fuzz::MemFile file(data, size);
  lorank::Result<lorank::SafetensorsFile> st = lorank::SafetensorsFile::open(file.path());
  if (!st) return 0;
  std::vector<double> buf;
  for (const lorank::TensorView& t : st->tensors()) {
    if (!lorank::is_convertible_float(t.dtype) || t.numel() > (1 << 20)) continue;
    buf.resize(static_cast<std::size_t>(t.numel()));
    (void)lorank::to_double(t, buf);
  }
  return 0;
}
