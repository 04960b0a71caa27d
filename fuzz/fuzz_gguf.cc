// Fuzzes the GGUF reader (header, KVs, tensor infos, layout), the LoRA metadata and the
// conversion of every convertible tensor (to double, and float32 rows).
#include <vector>

#include "lorank/gguf.h"
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lorank::fuzz::MemFile file(data, size);
  lorank::Result<lorank::GgufFile> g = lorank::GgufFile::open(file.path());
  if (!g) return 0;
  (void)lorank::gguf_lora_metadata(*g);
  std::vector<double> buf;
  for (const lorank::GgufTensorInfo& info : g->tensor_infos()) {
    const auto n = info.shape.numel();
    if (n > (1 << 20)) continue;
    buf.resize(static_cast<std::size_t>(n));
    (void)lorank::gguf_tensor_to_double(info, buf);
    // The float32 row API on the last row (and an out-of-range start, which must fail).
    const uint64_t row_len = info.ne.empty() ? 1 : info.ne[0];
    if (row_len == 0 || static_cast<uint64_t>(n) < row_len) continue;
    std::vector<float> row(row_len);
    (void)lorank::gguf_dequantize_rows(info, static_cast<uint64_t>(n) / row_len - 1, row);
    (void)lorank::gguf_dequantize_rows(info, static_cast<uint64_t>(n) / row_len, row);
  }
  for (const lorank::GgufKv& kv : g->kvs()) (void)kv.value.to_string();
  return 0;
}
