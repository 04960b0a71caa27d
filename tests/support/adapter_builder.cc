#include "support/adapter_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "lorank/safetensors.h"

namespace lorank::testing {

AdapterBuilder& AdapterBuilder::add(const std::string& name, std::vector<int64_t> shape,
                                    std::vector<double> values, DType dtype) {
  Entry e{name, dtype, Shape{std::move(shape)}, {}};
  const std::size_t n = static_cast<std::size_t>(e.shape.numel());
  if (values.empty()) {
    values.resize(n);
    const double salt = static_cast<double>(entries_.size() + 1);
    for (std::size_t i = 0; i < n; ++i) values[i] = std::sin(salt * 1.7 + 0.37 * static_cast<double>(i));
  }
  EXPECT_EQ(values.size(), n) << name;
  e.bytes.resize(n * dtype_size(dtype));
  if (is_convertible_float(dtype)) {
    EXPECT_TRUE(from_double(values, dtype, e.bytes).ok()) << name;
  }  // other dtypes: zero bytes of the right size
  entries_.push_back(std::move(e));
  return *this;
}

AdapterBuilder& AdapterBuilder::peft_pair(const std::string& prefix, int64_t out, int64_t r,
                                          int64_t in) {
  add(prefix + ".lora_A.weight", {r, in});
  return add(prefix + ".lora_B.weight", {out, r});
}

AdapterBuilder& AdapterBuilder::metadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
  return *this;
}

AdapterBuilder& AdapterBuilder::config(const std::string& json) {
  config_ = json;
  return *this;
}

std::filesystem::path AdapterBuilder::write(const std::filesystem::path& dir,
                                            const std::string& file_name) const {
  std::vector<TensorView> views;
  for (const Entry& e : entries_) views.push_back({e.name, e.dtype, e.shape, e.bytes});
  const std::filesystem::path path = dir / file_name;
  const Status s = write_safetensors(path, views, metadata_, SafetensorsWriteOptions{true});
  EXPECT_TRUE(s.ok()) << s.message();
  if (config_) std::ofstream(dir / "adapter_config.json") << *config_;
  return path;
}

}  // namespace lorank::testing
