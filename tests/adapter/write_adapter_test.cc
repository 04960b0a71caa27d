// write_adapter: read → write reproduces every real safetensors adapter byte for byte, and
// the writer refuses to overwrite its input or an existing output.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lorank/adapter.h"
#include "support/adapter_builder.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::read_text_file;
using lorank::testing::shared_path;
using lorank::testing::TempDir;

class RoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTrip, WeightsAndConfigAreByteIdentical) {
  const fs::path dir = shared_path("adapters/" + GetParam());
  Result<Adapter> a = open_adapter(dir);
  ASSERT_TRUE(a) << a.error().message();
  TempDir tmp;
  const fs::path out = tmp / (a->format == AdapterFormat::kPeft ? "out" : "out.safetensors");
  const Status s = write_adapter(*a, out);
  ASSERT_TRUE(s.ok()) << s.message();
  const fs::path weights = a->format == AdapterFormat::kPeft ? out / "adapter_model.safetensors" : out;
  EXPECT_EQ(read_text_file(weights), read_text_file(a->weights_path));
  if (a->config_path) {
    EXPECT_EQ(read_text_file(out / "adapter_config.json"), read_text_file(*a->config_path));
  }
  Result<Adapter> b = open_adapter(out);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->modules.size(), a->modules.size());
  EXPECT_EQ(b->passthrough.size(), a->passthrough.size());
  EXPECT_EQ(tmp.entries().size(), 1u) << "temp files left behind";
}

INSTANTIATE_TEST_SUITE_P(Shared, RoundTrip,
                         ::testing::Values("distilbert-nestedcls-r8", "opt125m-bf16-r16",
                                           "opencalm1b-f16-r1", "sd15-unet-kohyalike-r4",
                                           "sd15-unet-peft-r4", "qwen25-05b-r6"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(WriteAdapter, RefusesInputAndExistingOutput) {
  TempDir tmp;
  lorank::testing::AdapterBuilder().peft_pair("base_model.model.q", 8, 4, 8).config(R"({"r": 4})").write(tmp.path());
  Result<Adapter> a = open_adapter(tmp.path());
  ASSERT_TRUE(a);
  EXPECT_EQ(write_adapter(*a, tmp.path()).code(), StatusCode::kInvalidArgument);
  fs::create_directory(tmp / "exists");
  const Status s = write_adapter(*a, tmp / "exists");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("refusing to overwrite"), std::string::npos);
  EXPECT_TRUE(write_adapter(*a, tmp / "exists", AdapterWriteOptions{true}).ok());
  EXPECT_TRUE(fs::exists(tmp / "exists" / "adapter_model.safetensors"));
  // Nothing but the input's two files and the output folder.
  EXPECT_EQ(tmp.entries().size(), 3u);
}

}  // namespace
}  // namespace lorank
