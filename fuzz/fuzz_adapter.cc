// Fuzzes the whole audit path on one weights file: container detection, reading, factor
// pairing (PEFT, kohya, GGUF key schemes), scales and every module's spectrum.
#include "support.h"
#include "lorank/adapter.h"
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
  (void)lorank::module_spectra(*a, options);
  return 0;
}
