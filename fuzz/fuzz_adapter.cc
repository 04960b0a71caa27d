// Fuzzes the whole audit and resize paths on one weights file: container detection,
// reading, factor pairing (PEFT, kohya, GGUF key schemes), scales, every module's spectrum,
// and the truncation that `lorank resize` writes (without the file I/O).
#include "support.h"
#include "lorank/adapter.h"
#include "lorank/resize.h"
#include "lorank/spectra.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lorank::fuzz::MemFile file(data, size);
  lorank::Result<lorank::Adapter> a = lorank::open_adapter(file.path());
  if (!a) return 0;
  std::size_t work = 0;  // keep each run fast: skip adapters with huge factors
  for (const lorank::LoraModule& m : a->modules) work += m.rank * (m.out + m.in);
  if (work > (1u << 22)) return 0;
  lorank::SpectraOptions options;
  options.threads = 1;
  if (!lorank::module_spectra(*a, options)) return 0;
  // The rule and the output dtype from the input's first byte, so both routes of the
  // truncation (streamed and explicit Q) and every conversion are reached.
  lorank::ResizeOptions resize;
  resize.threads = 1;
  const std::uint8_t choice = size > 0 ? data[0] : 0;
  resize.rule = *lorank::RankRule::parse(choice & 1 ? "energy:0.9" : "fixed:1000000");
  resize.sigma_in_b = (choice & 2) != 0;
  if (choice & 4) resize.dtype = (choice & 8) ? lorank::DType::kBF16 : lorank::DType::kF64;
  (void)lorank::resize_adapter(*a, resize);
  return 0;
}
