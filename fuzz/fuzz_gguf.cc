// Fuzzes the GGUF reader (header, KVs, tensor infos, layout), the LoRA metadata and the
// conversion of every convertible tensor.
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
  }
  for (const lorank::GgufKv& kv : g->kvs()) (void)kv.value.to_string();
  return 0;
}
