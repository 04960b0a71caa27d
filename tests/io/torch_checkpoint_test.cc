// TorchCheckpoint on real and generated files: names, dtypes, shapes and bytes must match
// an independent Python reader (tests/io/torch_oracle.py: pickle with inert stand-ins,
// zipfile and NumPy as_strided), and contiguous tensors must be zero-copy.
#include "lorank/torch_checkpoint.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/sha256.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"
#include "support/torch_files.h"

namespace lorank {
namespace {

using testing::TempDir;

std::string run(const std::string& cmd) {
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  EXPECT_EQ(::pclose(pipe), 0) << "failed: " << cmd;
  return out;
}

std::string oracle(const std::filesystem::path& file) {
  return run("/usr/bin/python3 " LORANK_SOURCE_DIR "/tests/io/torch_oracle.py '" + file.string() +
             "'");
}

std::string python_hex(double v) {
  if (v == 0) return std::signbit(v) ? "-0x0.0p+0" : "0x0.0p+0";
  int exp = 0;
  const double m = std::frexp(std::abs(v), &exp);
  const auto mant = static_cast<uint64_t>(std::ldexp(m * 2 - 1, 52));
  return fmt::format("{}0x1.{:013x}p{:+d}", v < 0 ? "-" : "", mant, exp - 1);
}

// Our side of the oracle's listing.
std::string listing(const TorchCheckpoint& ckpt) {
  std::string out;
  for (const TensorView& t : ckpt.tensors()) {
    testing::Sha256 sha;
    sha.update({reinterpret_cast<const uint8_t*>(t.data.data()), t.data.size()});
    double first = 0;
    if (t.numel() > 0 && t.dtype != DType::kBF16) {
      std::vector<double> values(static_cast<std::size_t>(t.numel()));
      EXPECT_TRUE(to_double(t, values).ok());
      first = values[0];
    }
    out += fmt::format("{}\t{}\t{}\t{}\t{}\n", t.name, dtype_name(t.dtype),
                       fmt::join(t.shape.dims, ","), sha.finish_hex(), python_hex(first));
  }
  return out;
}

TEST(TorchCheckpointReal, Gpt2GreatBinMatchesTheOracle) {
  const auto path = testing::shared_path("adapters/gpt2-great-bin-r8/adapter_model.bin");
  auto ckpt = TorchCheckpoint::open(path);
  ASSERT_TRUE(ckpt.has_value()) << ckpt.error().to_string();
  EXPECT_EQ(ckpt->tensors().size(), 24u);
  EXPECT_EQ(ckpt->archive_prefix(), "adapter_model");
  EXPECT_EQ(ckpt->copied_tensor_count(), 0u);
  EXPECT_EQ(listing(*ckpt), oracle(path));

  const TensorView* a = ckpt->find("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight");
  const TensorView* b = ckpt->find("base_model.model.transformer.h.11.attn.c_attn.lora_B.weight");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->shape, (Shape{{8, 768}}));
  EXPECT_EQ(b->shape, (Shape{{2304, 8}}));
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_EQ(ckpt->find("nope"), nullptr);

  // Zero copy: every view lies inside the mapped file, at the storage's data offset.
  const std::string bytes = testing::read_text_file(path);
  ASSERT_EQ(a->data.size(), 8u * 768 * 4);
  // The first tensor's storage is data/0, whose bytes start at offset 3584 in this file.
  EXPECT_EQ(std::memcmp(a->data.data(), bytes.data() + 3584, a->data.size()), 0);

  // Moving the checkpoint keeps views valid.
  TorchCheckpoint moved = std::move(ckpt).value();
  EXPECT_EQ(moved.find("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight")->data.data(),
            a->data.data());
}

TEST(TorchCheckpointReal, CrcCheckCanBeSkipped) {
  const auto path = testing::shared_path("adapters/gpt2-great-bin-r8/adapter_model.bin");
  auto ckpt = TorchCheckpoint::open(path, TorchOpenOptions{.verify_crc32 = false});
  ASSERT_TRUE(ckpt.has_value()) << ckpt.error().to_string();
  EXPECT_EQ(ckpt->tensors().size(), 24u);
}

// Python's own pickler at protocols 2, 4 and 5 (GLOBAL vs STACK_GLOBAL, MEMOIZE, FRAME,
// SHORT_BINUNICODE), zipfile's layout, F16/BF16, a transposed view, a storage offset,
// a Parameter, a scalar, an empty tensor and OrderedDict + BUILD(_metadata).
TEST(TorchCheckpointGenerated, PythonPicklerFixturesMatchTheOracle) {
  TempDir dir;
  for (int protocol : {2, 4, 5}) {
    SCOPED_TRACE(protocol);
    const auto path = dir / fmt::format("fixture{}.bin", protocol);
    run(fmt::format("/usr/bin/python3 " LORANK_SOURCE_DIR "/tests/io/torch_fixture.py '{}' {}",
                    path.string(), protocol));
    auto ckpt = TorchCheckpoint::open(path);
    ASSERT_TRUE(ckpt.has_value()) << ckpt.error().to_string();
    EXPECT_EQ(ckpt->tensors().size(), 7u);
    EXPECT_EQ(ckpt->copied_tensor_count(), 2u);  // m.weight_t and m.slice are strided
    EXPECT_EQ(listing(*ckpt), oracle(path));
    const TensorView* t = ckpt->find("m.weight_t");
    ASSERT_NE(t, nullptr);
    std::vector<double> v(12);
    ASSERT_TRUE(to_double(*t, v).ok());
    // weight[i][j] = (4i + j) * 0.5 - 2; weight_t[j][i] = weight[i][j].
    EXPECT_EQ(v[1], (4 * 1 + 0) * 0.5 - 2);
    EXPECT_EQ(v[3], (4 * 0 + 1) * 0.5 - 2);
    EXPECT_EQ(ckpt->find("scalar")->shape, Shape{});
    EXPECT_TRUE(ckpt->find("empty")->data.empty());
  }
}

TEST(TorchCheckpointGenerated, SharedStorageAndOffsetsAreZeroCopyViews) {
  TempDir dir;
  const std::vector<testing::TorchTensorSpec> specs = {
      {.name = "a", .key = "7", .numel = 10, .offset = 0, .size = {2, 2}, .stride = {2, 1}},
      {.name = "b", .key = "7", .numel = 10, .offset = 4, .size = {6}, .stride = {1}},
      {.name = "c",
       .storage_type = "DoubleStorage",
       .key = "x_1",
       .numel = 3,
       .size = {3, 1},
       .stride = {1, 5}},  // size-1 dims may have any stride and still be contiguous
  };
  const auto path = dir / "shared.bin";
  std::ofstream(path, std::ios::binary)
      << testing::torch_zip(testing::state_dict_pickle(specs), specs);
  auto ckpt = TorchCheckpoint::open(path);
  ASSERT_TRUE(ckpt.has_value()) << ckpt.error().to_string();
  EXPECT_EQ(ckpt->copied_tensor_count(), 0u);
  const TensorView* a = ckpt->find("a");
  const TensorView* b = ckpt->find("b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(b->data.data(), a->data.data() + 16);
  EXPECT_EQ(b->data.size(), 24u);
  EXPECT_EQ(static_cast<int>(b->data[0]), 16);  // storage bytes are 0, 1, 2, ...
  EXPECT_EQ(ckpt->find("c")->dtype, DType::kF64);
  EXPECT_EQ(listing(*ckpt), oracle(path));
}

TEST(TorchCheckpointGenerated, EmptyStateDictAndMissingByteorderAreAccepted) {
  TempDir dir;
  const auto path = dir / "empty.bin";
  std::ofstream(path, std::ios::binary) << testing::torch_zip(testing::state_dict_pickle({}), {},
                                                              /*byteorder=*/"");
  auto ckpt = TorchCheckpoint::open(path);
  ASSERT_TRUE(ckpt.has_value()) << ckpt.error().to_string();
  EXPECT_TRUE(ckpt->tensors().empty());
}

}  // namespace
}  // namespace lorank
