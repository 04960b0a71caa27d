// Fuzzes the base-checkpoint layer. The first byte picks the input's role:
//   even → the text of a model.safetensors.index.json (parse_shard_index);
//   odd  → one checkpoint file (safetensors, GGUF model or PyTorch .bin, by content),
//          opened and every readable tensor widened or dequantised row block by row block.
#include <algorithm>
#include <string>
#include <vector>

#include "checkpoint/shard_index.h"
#include "lorank/checkpoint.h"
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    (void)lorank::checkpoint::parse_shard_index(text, "fuzz.index.json");
    return 0;
  }
  const lorank::fuzz::MemFile file(data + 1, size - 1);
  lorank::Result<lorank::Checkpoint> c = lorank::Checkpoint::open(file.path());
  if (!c) return 0;
  std::vector<double> rows;
  for (const lorank::CheckpointTensor& t : c->tensors()) {
    const uint64_t cols = t.row_length(), row_count = t.row_count();
    if (!t.has_values() || cols == 0 || cols > (1u << 20)) continue;  // bounded memory per input
    const uint64_t block = std::max<uint64_t>(1, (1u << 16) / cols);
    for (uint64_t r = 0; r < row_count; r += block) {
      rows.resize(std::min(block, row_count - r) * cols);
      if (!c->read_rows(t, r, rows).ok()) break;
    }
  }
  return 0;
}
