// Fuzzes the PyTorch checkpoint path: ZIP directory, the restricted unpickler and the
// tensor records (the input is a whole .bin file).
#include "lorank/torch_checkpoint.h"
#include "support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lorank::fuzz::MemFile file(data, size);
  lorank::TorchOpenOptions options;
  options.verify_crc32 = false;  // let mutations reach the pickle instead of failing the CRC
  lorank::Result<lorank::TorchCheckpoint> c = lorank::TorchCheckpoint::open(file.path(), options);
  (void)c;
  return 0;
}
