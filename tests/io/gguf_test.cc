// GGUF writer/reader round trips (random KVs of every type, random F32/F16/BF16 tensors,
// byte-identical rewrites), shape order, lookups, passthrough and writer argument checks.
#include "lorank/gguf.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support/seed.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using lorank::testing::TempDir;

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

GgufFile open_ok(const std::filesystem::path& p) {
  auto f = GgufFile::open(p);
  EXPECT_TRUE(f.has_value()) << f.error().to_string();
  return std::move(f).value();
}

// Random values of every GGUF type; strings include empty ones, NULs and multi-byte UTF-8,
// floats include NaN payloads, -0.0 and infinities (bit patterns drawn uniformly).
class ValueGen {
 public:
  explicit ValueGen(uint64_t seed) : rng_(seed) {}

  std::string text() {
    static const std::vector<std::string> kPieces = {
        "", "a", "lora", "é", "ü", "日本", "🦙", std::string(1, '\0'), " ", "\n", "κόσμε"};
    std::string s;
    const int n = pick(0, 5);
    for (int i = 0; i < n; ++i) s += kPieces[pick(0, static_cast<int>(kPieces.size()) - 1)];
    return s;
  }

  GgufValue scalar(GgufType t) {
    const uint64_t bits = rng_();
    switch (t) {
      case GgufType::kU8:
        return GgufValue::of(static_cast<uint8_t>(bits));
      case GgufType::kI8:
        return GgufValue::of(static_cast<int8_t>(bits));
      case GgufType::kU16:
        return GgufValue::of(static_cast<uint16_t>(bits));
      case GgufType::kI16:
        return GgufValue::of(static_cast<int16_t>(bits));
      case GgufType::kU32:
        return GgufValue::of(static_cast<uint32_t>(bits));
      case GgufType::kI32:
        return GgufValue::of(static_cast<int32_t>(bits));
      case GgufType::kF32:
        return GgufValue::of(std::bit_cast<float>(static_cast<uint32_t>(bits)));
      case GgufType::kBool:
        return GgufValue::of((bits & 1) != 0);
      case GgufType::kU64:
        return GgufValue::of(bits);
      case GgufType::kI64:
        return GgufValue::of(static_cast<int64_t>(bits));
      case GgufType::kF64:
        return GgufValue::of(std::bit_cast<double>(bits));
      default:
        return GgufValue::string(text());
    }
  }

  GgufValue value(int depth) {
    const auto t = static_cast<GgufType>(pick(0, 12));
    if (t != GgufType::kArray) return scalar(t);
    auto elem = static_cast<GgufType>(pick(0, 12));
    if (depth >= 4 && elem == GgufType::kArray) elem = GgufType::kString;
    std::vector<GgufValue> items;
    const int n = pick(0, 6);
    for (int i = 0; i < n; ++i)
      items.push_back(elem == GgufType::kArray ? value_of_array(depth + 1) : scalar(elem));
    return GgufValue::array(elem, std::move(items)).value();
  }

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::mt19937_64& rng() { return rng_; }

 private:
  GgufValue value_of_array(int depth) {
    GgufValue v = value(depth);
    while (!v.is_array()) v = value(depth);
    return v;
  }
  std::mt19937_64 rng_;
};

struct OwnedTensor {
  std::string name;
  DType dtype;
  Shape shape;
  std::vector<std::byte> data;
  TensorView view() const { return TensorView{name, dtype, shape, data}; }
};

std::vector<OwnedTensor> random_tensors(ValueGen& gen) {
  std::vector<OwnedTensor> out;
  const DType kTypes[] = {DType::kF32, DType::kF16, DType::kBF16};
  const int n = gen.pick(0, 8);
  for (int i = 0; i < n; ++i) {
    OwnedTensor t{fmt::format("blk.{}.t{}", i, gen.pick(0, 99)), kTypes[gen.pick(0, 2)], {}, {}};
    const int rank = gen.pick(0, 4);
    for (int k = 0; k < rank; ++k) t.shape.dims.push_back(gen.pick(0, 7));
    t.data.resize(static_cast<std::size_t>(t.shape.numel()) * dtype_size(t.dtype));
    for (std::byte& b : t.data) b = static_cast<std::byte>(gen.pick(0, 255));
    out.push_back(std::move(t));
  }
  return out;
}

TEST(Gguf, RandomRoundTripIsBitAndByteIdentical) {
  const uint64_t seed = testing::test_seed("Gguf.RandomRoundTripIsBitAndByteIdentical");
  SCOPED_TRACE(::testing::Message() << "LORANK_SEED=" << seed);
  ValueGen gen(seed);
  TempDir dir;
  for (int trial = 0; trial < 40; ++trial) {
    SCOPED_TRACE(trial);
    std::vector<GgufKv> kvs;
    const int n_kv = gen.pick(0, 20);
    for (int i = 0; i < n_kv; ++i)
      kvs.push_back({fmt::format("key.{}.{}", i, gen.text()), gen.value(1)});
    if (gen.pick(0, 2) == 0) {
      const uint32_t alignments[] = {1, 8, 32, 64, 4096};
      kvs.insert(kvs.begin() + gen.pick(0, n_kv),
                 {"general.alignment", GgufValue::of(alignments[gen.pick(0, 4)])});
    }
    const std::vector<OwnedTensor> tensors = random_tensors(gen);
    std::vector<TensorView> views;
    for (const OwnedTensor& t : tensors) views.push_back(t.view());

    const auto a = dir / "a.gguf", b = dir / "b.gguf";
    ASSERT_TRUE(write_gguf(a, kvs, views, {.overwrite = true}).ok());
    const GgufFile f = open_ok(a);
    ASSERT_EQ(f.kvs().size(), kvs.size());
    for (std::size_t i = 0; i < kvs.size(); ++i) EXPECT_EQ(f.kvs()[i], kvs[i]) << kvs[i].key;
    ASSERT_EQ(f.tensor_infos().size(), tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      auto v = f.tensor(tensors[i].name);
      ASSERT_TRUE(v.has_value()) << v.error().to_string();
      EXPECT_EQ(v->dtype, tensors[i].dtype);
      EXPECT_EQ(v->shape, tensors[i].shape);
      EXPECT_TRUE(std::equal(v->data.begin(), v->data.end(), tensors[i].data.begin(),
                             tensors[i].data.end()));
      EXPECT_EQ(f.tensor_infos()[i].offset % f.alignment(), 0u);
    }
    EXPECT_EQ(f.data_offset() % f.alignment(), 0u);
    EXPECT_EQ(f.file_size() % f.alignment(), 0u);  // every tensor is padded, as ggml does

    std::vector<GgufWriteTensor> again;
    for (const GgufTensorInfo& t : f.tensor_infos()) again.push_back(GgufWriteTensor::from_info(t));
    ASSERT_TRUE(
        write_gguf(b, f.kvs(), std::span<const GgufWriteTensor>(again), {.overwrite = true}).ok());
    ASSERT_EQ(read_bytes(a), read_bytes(b));
  }
}

TEST(Gguf, ShapesAreReversedNe) {
  TempDir dir;
  std::vector<float> a(8 * 16), b(32 * 8);
  const TensorView views[] = {
      {"blk.0.attn_q.weight.lora_a", DType::kF32, Shape{{8, 16}}, std::as_bytes(std::span(a))},
      {"blk.0.attn_q.weight.lora_b", DType::kF32, Shape{{32, 8}}, std::as_bytes(std::span(b))}};
  ASSERT_TRUE(write_gguf(dir / "x.gguf", {}, views).ok());
  const GgufFile f = open_ok(dir / "x.gguf");
  EXPECT_EQ(f.tensor_infos()[0].ne, (std::vector<uint64_t>{16, 8}));  // [in, r]
  EXPECT_EQ(f.tensor_infos()[1].ne, (std::vector<uint64_t>{8, 32}));  // [r, out]
  EXPECT_EQ(f.tensor_infos()[0].shape, Shape({{8, 16}}));
  EXPECT_EQ(f.find_tensor_info("blk.0.attn_q.weight.lora_b")->shape, Shape({{32, 8}}));
  EXPECT_EQ(f.tensor("nope").error().code(), StatusCode::kNotFound);
}

TEST(Gguf, ValueAccessors) {
  EXPECT_EQ(GgufValue::of(uint32_t{7}).get<uint32_t>(), 7u);
  EXPECT_FALSE(GgufValue::of(uint32_t{7}).get<int32_t>().has_value());
  EXPECT_EQ(GgufValue::of(-2.5f).get<float>(), -2.5f);
  EXPECT_NE(GgufValue::of(0.0), GgufValue::of(-0.0));  // bitwise equality
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(GgufValue::of(nan), GgufValue::of(nan));
  const std::vector<int16_t> xs = {1, -2, 300};
  const GgufValue arr = GgufValue::array_of<int16_t>(xs);
  EXPECT_EQ(arr.array_size(), 3u);
  EXPECT_EQ(arr.at(1).get<int16_t>(), -2);
  EXPECT_EQ(arr.to_string(), "array<i16>[3]");
  EXPECT_EQ(GgufValue::string("lora").to_string(), "string \"lora\"");
  EXPECT_EQ(GgufValue::array(GgufType::kU8, {GgufValue::of(int8_t{1})}).error().code(),
            StatusCode::kInvalidArgument);
  const std::byte two[] = {std::byte{2}};
  EXPECT_FALSE(GgufValue::packed_array(GgufType::kBool, two).has_value());
  EXPECT_FALSE(GgufValue::packed_array(GgufType::kString, two).has_value());
}

TEST(Gguf, QuantisedTensorsPassThroughAndDequantise) {
  TempDir dir;
  // One Q8_0 block row of 32: d = 0.5 (F16 0x3800), q = -16..15.
  std::vector<std::byte> q8(34);
  q8[0] = std::byte{0x00};
  q8[1] = std::byte{0x38};
  for (int i = 0; i < 32; ++i) q8[2 + i] = static_cast<std::byte>(static_cast<int8_t>(i - 16));
  std::vector<std::byte> q4k(144 * 2, std::byte{0x5a});  // two Q4_K blocks, opaque to us
  const GgufWriteTensor ts[] = {{"q8", kGgmlQ8_0, {32}, q8}, {"q4k", 12, {256, 2}, q4k}};
  ASSERT_TRUE(write_gguf(dir / "q.gguf", {}, std::span<const GgufWriteTensor>(ts)).ok());
  const GgufFile f = open_ok(dir / "q.gguf");
  std::vector<double> out(32);
  ASSERT_TRUE(gguf_tensor_to_double(*f.find_tensor_info("q8"), out).ok());
  for (int i = 0; i < 32; ++i) EXPECT_EQ(out[i], 0.5 * (i - 16));
  const Status s = f.tensor("q4k").status();
  EXPECT_EQ(s.code(), StatusCode::kNotSupported);
  EXPECT_NE(s.message().find("tensor 'q4k' has ggml type Q4_K (12)"), std::string::npos)
      << s.message();
  // Q4_K has no DType view, but it dequantizes (bit-exactness: gguf_dequant_test.cc).
  std::vector<double> out2(512);
  EXPECT_TRUE(gguf_tensor_to_double(*f.find_tensor_info("q4k"), out2).ok());
  EXPECT_EQ(f.tensors().status().code(), StatusCode::kNotSupported);
  // Raw passthrough keeps the type and bytes.
  const GgufWriteTensor copy[] = {GgufWriteTensor::from_info(*f.find_tensor_info("q4k"))};
  ASSERT_TRUE(write_gguf(dir / "c.gguf", {}, std::span<const GgufWriteTensor>(copy)).ok());
  const GgufFile g = open_ok(dir / "c.gguf");
  EXPECT_EQ(g.tensor_infos()[0].ggml_type, 12u);
  EXPECT_TRUE(std::ranges::equal(g.tensor_infos()[0].data, q4k));
}

TEST(Gguf, WriterRejectsBadInputWithoutWriting) {
  TempDir dir;
  std::vector<float> x(4);
  const auto bytes = std::as_bytes(std::span(x));
  auto write = [&](std::vector<GgufKv> kvs, std::vector<GgufWriteTensor> ts) {
    return write_gguf(dir / "w.gguf", kvs, std::span<const GgufWriteTensor>(ts));
  };
  struct Case {
    const char* label;
    Status status;
    const char* part;
  };
  const std::string long_name(64, 'n');
  const Case cases[] = {
      {"empty key", write({{"", GgufValue::of(uint8_t{1})}}, {}), "empty key"},
      {"dup key", write({{"k", GgufValue::of(uint8_t{1})}, {"k", GgufValue::of(uint8_t{2})}}, {}),
       "duplicate key 'k'"},
      {"alignment type", write({{"general.alignment", GgufValue::of(uint64_t{32})}}, {}),
       "general.alignment must be a u32 power of two, got u64 32"},
      {"alignment 0", write({{"general.alignment", GgufValue::of(uint32_t{0})}}, {}), "got u32 0"},
      {"alignment 3", write({{"general.alignment", GgufValue::of(uint32_t{3})}}, {}), "got u32 3"},
      {"dup tensor", write({}, {{"t", kGgmlF32, {4}, bytes}, {"t", kGgmlF32, {4}, bytes}}),
       "duplicate tensor name 't'"},
      {"empty name", write({}, {{"", kGgmlF32, {4}, bytes}}), "empty name"},
      {"long name", write({}, {{long_name, kGgmlF32, {4}, bytes}}), "over ggml's limit of 63"},
      {"5 dims", write({}, {{"t", kGgmlF32, {4, 1, 1, 1, 1}, bytes}}), "5 dims, more than 4"},
      {"size", write({}, {{"t", kGgmlF32, {3}, bytes}}),
       "16 bytes of data, ne [3] of F32 needs 12"},
      {"type", write({}, {{"t", 4, {4}, bytes}}), "unknown ggml type 4"},
      {"block", write({}, {{"t", kGgmlQ8_0, {16}, bytes}}), "not a multiple of 32"},
      {"overflow", write({}, {{"t", kGgmlF32, {uint64_t{1} << 40, uint64_t{1} << 40}, bytes}}),
       "more than 2^63-1 elements"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), StatusCode::kInvalidData) << c.label;
    EXPECT_NE(c.status.message().find(c.part), std::string::npos)
        << c.label << ": " << c.status.message();
    EXPECT_NE(c.status.message().find("writing gguf '"), std::string::npos) << c.label;
  }
  EXPECT_TRUE(dir.entries().empty());
  const TensorView u8{"u", DType::kU8, Shape{{4}}, std::as_bytes(std::span(x)).first(4)};
  EXPECT_EQ(write_gguf(dir / "w.gguf", {}, std::span(&u8, 1)).code(), StatusCode::kNotSupported);
}

TEST(Gguf, WriterRefusesToOverwriteUnlessAsked) {
  TempDir dir;
  const auto p = dir / "x.gguf";
  const GgufKv kv[] = {{"general.name", GgufValue::string("one")}};
  ASSERT_TRUE(write_gguf(p, kv, std::span<const TensorView>()).ok());
  const std::string before = read_bytes(p);
  const GgufKv kv2[] = {{"general.name", GgufValue::string("two")}};
  EXPECT_EQ(write_gguf(p, kv2, std::span<const TensorView>()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(read_bytes(p), before);
  ASSERT_TRUE(write_gguf(p, kv2, std::span<const TensorView>(), {.overwrite = true}).ok());
  EXPECT_EQ(*open_ok(p).find_kv("general.name")->string_value(), "two");
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(Gguf, ViewsSurviveMove) {
  TempDir dir;
  std::vector<float> x = {1, 2, 3};
  const TensorView v{"t", DType::kF32, Shape{{3}}, std::as_bytes(std::span(x))};
  const GgufKv kv[] = {{"k", GgufValue::string("a long string value, not in SSO storage")}};
  ASSERT_TRUE(write_gguf(dir / "m.gguf", kv, std::span(&v, 1)).ok());
  GgufFile f = open_ok(dir / "m.gguf");
  const TensorView before = f.tensor("t").value();
  GgufFile g = std::move(f);
  EXPECT_EQ(g.tensor("t")->data.data(), before.data.data());
  EXPECT_EQ(g.find_kv("k")->string_value()->size(), 39u);
  std::vector<double> out(3);
  ASSERT_TRUE(to_double(*g.tensor("t"), out).ok());
  EXPECT_EQ(out, (std::vector<double>{1, 2, 3}));
}

}  // namespace
}  // namespace lorank
