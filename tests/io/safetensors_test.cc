// Safetensors writer/reader round trips and API behaviour (order, lookup, lifetime,
// atomic overwrite rules, writer argument checks).
#include "lorank/safetensors.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "support/seed.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using lorank::testing::TempDir;

constexpr DType kAllDTypes[] = {DType::kF64,    DType::kF32,    DType::kF16, DType::kBF16,
                                DType::kF8E4M3, DType::kF8E5M2, DType::kI64, DType::kI32,
                                DType::kI16,    DType::kI8,     DType::kU64, DType::kU32,
                                DType::kU16,    DType::kU8,     DType::kBool};

struct OwnedTensor {
  std::string name;
  DType dtype;
  Shape shape;
  std::vector<std::byte> data;
  TensorView view() const { return TensorView{name, dtype, shape, data}; }
};

std::vector<OwnedTensor> random_tensors(std::mt19937_64& rng) {
  std::vector<OwnedTensor> out;
  std::uniform_int_distribution<int> rank(0, 3), dim(0, 9), byte(0, 255);
  int i = 0;
  for (int round = 0; round < 3; ++round) {
    for (DType d : kAllDTypes) {
      OwnedTensor t{fmt::format("t{}.{}", i++, dtype_name(d)), d, {}, {}};
      const int r = rank(rng);
      for (int k = 0; k < r; ++k) t.shape.dims.push_back(dim(rng));
      t.data.resize(static_cast<std::size_t>(t.shape.numel()) * dtype_size(d));
      for (std::byte& b : t.data) b = static_cast<std::byte>(byte(rng));
      out.push_back(std::move(t));
    }
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

TEST(Safetensors, RandomRoundTripEveryDType) {
  const uint64_t seed = testing::test_seed("Safetensors.RandomRoundTripEveryDType");
  SCOPED_TRACE(::testing::Message() << "LORANK_SEED=" << seed);
  std::mt19937_64 rng(seed);
  TempDir dir;
  for (int trial = 0; trial < 5; ++trial) {
    const std::vector<OwnedTensor> tensors = random_tensors(rng);
    std::vector<TensorView> views;
    for (const auto& t : tensors) views.push_back(t.view());
    const std::map<std::string, std::string> metadata = {
        {"format", "pt"}, {"trial", std::to_string(trial)}, {"quote\"\n\u00e9", "v\\"}};
    const auto path = dir / ("rt" + std::to_string(trial) + ".safetensors");
    ASSERT_TRUE(write_safetensors(path, views, metadata).ok());

    auto f = SafetensorsFile::open(path);
    ASSERT_TRUE(f.has_value()) << f.error().to_string();
    EXPECT_EQ(f->metadata(), metadata);
    EXPECT_EQ(f->header_size() % 8, 0u);  // the data section starts 8-byte aligned
    ASSERT_EQ(f->tensors().size(), tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const TensorView& got = f->tensors()[i];
      // Zero-size tensors share offsets, so only non-empty ones must keep write order.
      const TensorView* by_name = f->find(tensors[i].name);
      ASSERT_NE(by_name, nullptr) << tensors[i].name;
      EXPECT_EQ(by_name->dtype, tensors[i].dtype);
      EXPECT_EQ(by_name->shape, tensors[i].shape);
      ASSERT_EQ(by_name->data.size(), tensors[i].data.size());
      EXPECT_TRUE(std::equal(by_name->data.begin(), by_name->data.end(), tensors[i].data.begin()));
      if (i > 0) {
        EXPECT_LE(f->tensors()[i - 1].data.data(), got.data.data());  // file order
      }
    }
  }
}

TEST(Safetensors, KeepsFileOrderAndViewsSurviveMove) {
  TempDir dir;
  const std::vector<std::byte> a(8, std::byte{1}), b(4, std::byte{2}), c(2, std::byte{3});
  const std::vector<TensorView> views = {{"zeta", DType::kF32, Shape{{2}}, a},
                                         {"alpha", DType::kF32, Shape{}, b},
                                         {"mid", DType::kBF16, Shape{{1, 1}}, c}};
  const auto path = dir / "order.safetensors";
  ASSERT_TRUE(write_safetensors(path, views, {}).ok());
  auto opened = SafetensorsFile::open(path);
  ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
  SafetensorsFile f = std::move(opened).value();  // views must stay valid across moves
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "zeta");
  EXPECT_EQ(f.tensors()[1].name, "alpha");
  EXPECT_EQ(f.tensors()[1].numel(), 1);
  EXPECT_EQ(f.tensors()[2].name, "mid");
  EXPECT_EQ(f.find("alpha")->data[0], std::byte{2});
  EXPECT_EQ(f.find("missing"), nullptr);
  EXPECT_TRUE(f.metadata().empty());
  EXPECT_EQ(f.file_size(), 8 + f.header_size() + 14);
}

TEST(Safetensors, WriterRefusesOverwriteUnlessAsked) {
  TempDir dir;
  const std::vector<std::byte> a(4);
  const std::vector<TensorView> views = {{"a", DType::kF32, Shape{{1}}, a}};
  const auto path = dir / "w.safetensors";
  ASSERT_TRUE(write_safetensors(path, views, {{"v", "1"}}).ok());
  const Status again = write_safetensors(path, views, {{"v", "2"}});
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(again.message().find("refusing to overwrite"), std::string::npos) << again.message();
  EXPECT_EQ(SafetensorsFile::open(path)->metadata().at("v"), "1");
  ASSERT_TRUE(write_safetensors(path, views, {{"v", "3"}}, {.overwrite = true}).ok());
  EXPECT_EQ(SafetensorsFile::open(path)->metadata().at("v"), "3");
  EXPECT_EQ(dir.entries(), std::set<std::string>{"w.safetensors"});
}

TEST(Safetensors, WriterRejectsBadArgumentsWithoutCreatingFiles) {
  TempDir dir;
  const std::vector<std::byte> four(4);
  struct Bad {
    std::vector<TensorView> views;
    std::map<std::string, std::string> metadata;
    const char* message_part;
  };
  const std::vector<Bad> cases = {
      {{{"a", DType::kF32, Shape{{2}}, four}}, {}, "4 bytes of data, shape [2] of F32 needs 8"},
      {{{"a", DType::kF32, Shape{{1}}, four}, {"a", DType::kF32, Shape{{1}}, four}},
       {},
       "duplicate tensor name 'a'"},
      {{{"__metadata__", DType::kF32, Shape{{1}}, four}}, {}, "reserved"},
      {{{"bad\xff", DType::kF32, Shape{{1}}, four}}, {}, "not valid UTF-8"},
      {{{"a", DType::kF32, Shape{{-1}}, four}}, {}, "negative dim"},
      {{}, {{"k", "\xc0\x80"}}, "metadata entry 'k' is not valid UTF-8"},
  };
  for (const Bad& c : cases) {
    const Status s = write_safetensors(dir / "bad.safetensors", c.views, c.metadata);
    EXPECT_EQ(s.code(), StatusCode::kInvalidData) << c.message_part;
    EXPECT_NE(s.message().find(c.message_part), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("bad.safetensors"), std::string::npos) << s.message();
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Safetensors, WriterReportsUnwritableFolder) {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  const Status s = write_safetensors(dir / "file" / "out.safetensors", {}, {});
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("out.safetensors"), std::string::npos) << s.message();
  EXPECT_EQ(dir.entries(), std::set<std::string>{"file"});
}

}  // namespace
}  // namespace lorank
