// Building small adapter files for tests: tensors from doubles, written as safetensors,
// with an optional adapter_config.json beside them.
#ifndef LORANK_TESTS_SUPPORT_ADAPTER_BUILDER_H_
#define LORANK_TESTS_SUPPORT_ADAPTER_BUILDER_H_

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lorank/tensor.h"

namespace lorank::testing {

class AdapterBuilder {
 public:
  // Adds a tensor with the given shape; values default to a deterministic pattern
  // (seeded by the tensor's position) when `values` is empty.
  AdapterBuilder& add(const std::string& name, std::vector<int64_t> shape,
                      std::vector<double> values = {}, DType dtype = DType::kF32);
  // A PEFT pair `<prefix>.lora_A.weight` (r×in) and `<prefix>.lora_B.weight` (out×r).
  AdapterBuilder& peft_pair(const std::string& prefix, int64_t out, int64_t r, int64_t in);
  AdapterBuilder& metadata(const std::string& key, const std::string& value);
  AdapterBuilder& config(const std::string& json);

  // Writes `dir/file_name` (+ `dir/adapter_config.json` if a config was given) and returns
  // the weights path. Fails the test on error.
  std::filesystem::path write(const std::filesystem::path& dir,
                              const std::string& file_name = "adapter_model.safetensors") const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    std::vector<std::byte> bytes;
  };
  std::deque<Entry> entries_;
  std::map<std::string, std::string> metadata_;
  std::optional<std::string> config_;
};

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_ADAPTER_BUILDER_H_
