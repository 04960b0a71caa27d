// Fuzzes the restricted pickle VM alone (raw pickle bytes, no ZIP around them).
#include <span>

#include "io/unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)lorank::io::unpickle(std::as_bytes(std::span<const std::uint8_t>(data, size)));
  return 0;
}
