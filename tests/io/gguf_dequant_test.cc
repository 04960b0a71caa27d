// GGUF dequantization to float32 against gguf-py's reference values, bit for bit: every tensor
// of ../shared/models/stories260K-quant (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) and
// ../shared/models/kquants (Q2_K..Q6_K) equals model.dequant.safetensors beside it. Also: row
// ranges give the same bits as the whole tensor, the widening to double, NaN bits, and the
// one-line errors.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "lorank/gguf.h"
#include "lorank/safetensors.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using lorank::testing::shared_path;
using lorank::testing::TempDir;

GgufFile open_gguf(const std::filesystem::path& path) {
  auto f = GgufFile::open(path);
  EXPECT_TRUE(f.has_value()) << f.status().to_string();
  if (!f) std::abort();  // nothing below can run without the file
  return std::move(f).value();
}

uint64_t row_len(const GgufTensorInfo& info) { return info.ne.empty() ? 1 : info.ne[0]; }

std::vector<float> dequantize_all(const GgufTensorInfo& info) {
  std::vector<float> out(static_cast<std::size_t>(info.shape.numel()));
  const Status s = gguf_dequantize_rows(info, 0, out);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

std::vector<uint32_t> bits_of(std::span<const float> xs) {
  std::vector<uint32_t> bits(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) bits[i] = std::bit_cast<uint32_t>(xs[i]);
  return bits;
}

// Counts the elements whose bits differ and describes the first, or "" if none.
std::string first_mismatch(std::span<const uint32_t> got, std::span<const uint32_t> want,
                           std::size_t* mismatches) {
  std::string first;
  *mismatches = 0;
  for (std::size_t i = 0; i < got.size() && i < want.size(); ++i) {
    if (got[i] == want[i]) continue;
    if ((*mismatches)++ == 0) {
      first = "element " + std::to_string(i) + ": got " + std::to_string(std::bit_cast<float>(got[i])) +
              " (bits " + std::to_string(got[i]) + "), want " +
              std::to_string(std::bit_cast<float>(want[i])) + " (bits " + std::to_string(want[i]) +
              ")";
    }
  }
  return first;
}

// `info` dequantizes to exactly the F32 bits of the reference tensor of the same name.
void expect_matches(const GgufTensorInfo& info, const SafetensorsFile& ref) {
  const TensorView* want = ref.find(info.name);
  ASSERT_NE(want, nullptr);
  ASSERT_EQ(want->dtype, DType::kF32);
  ASSERT_EQ(want->shape, info.shape);
  std::vector<uint32_t> want_bits(static_cast<std::size_t>(want->numel()));
  std::memcpy(want_bits.data(), want->data.data(), want->data.size());
  const std::vector<uint32_t> got_bits = bits_of(dequantize_all(info));
  std::size_t mismatches = 0;
  const std::string first = first_mismatch(got_bits, want_bits, &mismatches);
  EXPECT_EQ(mismatches, 0u) << mismatches << " of " << got_bits.size()
                            << " values differ; first: " << first;
}

// Every tensor of <dir>/model.gguf matches <dir>/model.dequant.safetensors; returns the
// ggml types seen.
std::set<uint32_t> expect_matches_reference(const std::string& dir) {
  const GgufFile gguf = open_gguf(shared_path(dir + "/model.gguf"));
  auto ref = SafetensorsFile::open(shared_path(dir + "/model.dequant.safetensors"));
  EXPECT_TRUE(ref.has_value()) << ref.status().to_string();
  if (!ref) return {};
  EXPECT_EQ(ref->tensors().size(), gguf.tensor_infos().size());
  std::set<uint32_t> types;
  for (const GgufTensorInfo& info : gguf.tensor_infos()) {
    SCOPED_TRACE(dir + ": " + info.name + " (" + std::string(ggml_type_traits(info.ggml_type)->name) +
                 ")");
    types.insert(info.ggml_type);
    expect_matches(info, *ref);
  }
  return types;
}

TEST(GgufDequant, Stories260KQuantEqualsGgufPyBitForBit) {
  const std::set<uint32_t> types = expect_matches_reference("models/stories260K-quant");
  // The fixture must still hold every non-K type, or this test would prove less than it says.
  EXPECT_EQ(types, (std::set<uint32_t>{kGgmlF32, kGgmlF16, kGgmlBF16, kGgmlQ4_0, kGgmlQ4_1,
                                       kGgmlQ5_0, kGgmlQ5_1, kGgmlQ8_0}));
}

TEST(GgufDequant, KQuantsEqualGgufPyBitForBit) {
  const std::set<uint32_t> types = expect_matches_reference("models/kquants");
  EXPECT_EQ(types, (std::set<uint32_t>{kGgmlF32, kGgmlQ2_K, kGgmlQ3_K, kGgmlQ4_K, kGgmlQ5_K,
                                       kGgmlQ6_K}));
}

// Row ranges are slices of the whole: one row at a time, and a middle range.
TEST(GgufDequant, RowRangesGiveTheSameBitsAsTheWholeTensor) {
  for (const char* dir : {"models/stories260K-quant", "models/kquants"}) {
    const GgufFile gguf = open_gguf(shared_path(std::string(dir) + "/model.gguf"));
    for (const GgufTensorInfo& info : gguf.tensor_infos()) {
      SCOPED_TRACE(std::string(dir) + ": " + info.name);
      const std::vector<uint32_t> whole = bits_of(dequantize_all(info));
      const uint64_t len = row_len(info), n_rows = whole.size() / len;
      std::vector<float> row(len);
      for (uint64_t r = 0; r < n_rows; ++r) {
        ASSERT_TRUE(gguf_dequantize_rows(info, r, row).ok());
        const std::vector<uint32_t> got = bits_of(row);
        ASSERT_TRUE(std::equal(got.begin(), got.end(), whole.begin() + r * len)) << "row " << r;
      }
      const uint64_t begin = n_rows / 3, count = n_rows - 2 * begin;  // at least 1 row
      std::vector<float> middle(count * len);
      ASSERT_TRUE(gguf_dequantize_rows(info, begin, middle).ok());
      const std::vector<uint32_t> got = bits_of(middle);
      EXPECT_TRUE(std::equal(got.begin(), got.end(), whole.begin() + begin * len));
    }
  }
}

// gguf_tensor_to_double is the float32 dequantization widened: checked on every quantised
// tensor (token_embd's 32768 values cross the 8192-value chunks) ...
TEST(GgufDequant, ToDoubleWidensTheDequantization) {
  for (const char* dir : {"models/stories260K-quant", "models/kquants"}) {
    const GgufFile gguf = open_gguf(shared_path(std::string(dir) + "/model.gguf"));
    for (const GgufTensorInfo& info : gguf.tensor_infos()) {
      SCOPED_TRACE(std::string(dir) + ": " + info.name);
      const std::vector<float> f = dequantize_all(info);
      std::vector<double> d(f.size());
      ASSERT_TRUE(gguf_tensor_to_double(info, d).ok());
      for (std::size_t i = 0; i < f.size(); ++i) ASSERT_EQ(d[i], static_cast<double>(f[i])) << i;
    }
  }
}

// ... and a real F16 model dequantizes to the exact values to_double gives.
TEST(GgufDequant, RealF16ModelEqualsExactWidening) {
  const GgufFile gguf =
      open_gguf(shared_path("models/llama2-tiny-random/llama-2-tiny-random.gguf"));
  int f16_tensors = 0;
  for (const GgufTensorInfo& info : gguf.tensor_infos()) {
    SCOPED_TRACE(info.name);
    if (info.ggml_type == kGgmlF16) ++f16_tensors;
    const std::vector<float> f = dequantize_all(info);
    std::vector<double> want(f.size());
    ASSERT_TRUE(to_double(*gguf.tensor(info.name), want).ok());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < f.size(); ++i) differ += static_cast<double>(f[i]) != want[i];
    EXPECT_EQ(differ, 0u);
  }
  EXPECT_EQ(f16_tensors, 9);
}

// F16/BF16/F32 keep every bit, signalling NaN payloads included; F64 rounds to nearest.
TEST(GgufDequant, FloatTypesKeepTheirBits) {
  TempDir dir;
  const uint16_t f16[] = {0x7c01, 0xfe00, 0x0001, 0x8400, 0x7bff, 0x7c00};
  const uint16_t bf16[] = {0x7f81, 0xffc1, 0x0001, 0x3f80};
  const uint32_t f32[] = {0x7f800001u, 0x00000001u, 0x80000000u};
  const double f64[] = {0.1, 1e300, -1e-300, 1.0 + 0x1p-24};  // last: a tie, rounds to even 1
  const GgufWriteTensor ts[] = {
      {"f16", kGgmlF16, {6}, std::as_bytes(std::span(f16))},
      {"bf16", kGgmlBF16, {4}, std::as_bytes(std::span(bf16))},
      {"f32", kGgmlF32, {3}, std::as_bytes(std::span(f32))},
      {"f64", kGgmlF64, {4}, std::as_bytes(std::span(f64))}};
  ASSERT_TRUE(write_gguf(dir / "f.gguf", {}, std::span<const GgufWriteTensor>(ts)).ok());
  const GgufFile g = open_gguf(dir / "f.gguf");
  EXPECT_EQ(bits_of(dequantize_all(*g.find_tensor_info("f16"))),
            (std::vector<uint32_t>{0x7f802000u, 0xffc00000u, 0x33800000u, 0xb8800000u,
                                   0x477fe000u, 0x7f800000u}));
  EXPECT_EQ(bits_of(dequantize_all(*g.find_tensor_info("bf16"))),
            (std::vector<uint32_t>{0x7f810000u, 0xffc10000u, 0x00010000u, 0x3f800000u}));
  EXPECT_EQ(bits_of(dequantize_all(*g.find_tensor_info("f32"))),
            (std::vector<uint32_t>(std::begin(f32), std::end(f32))));
  const float want_f64[] = {0.1f, std::numeric_limits<float>::infinity(), -0.0f, 1.0f};
  EXPECT_EQ(bits_of(dequantize_all(*g.find_tensor_info("f64"))), bits_of(want_f64));
}

TEST(GgufDequant, DequantizableTypes) {
  const std::set<uint32_t> yes = {kGgmlF32,  kGgmlF16,  kGgmlBF16, kGgmlF64,  kGgmlQ4_0,
                                  kGgmlQ4_1, kGgmlQ5_0, kGgmlQ5_1, kGgmlQ8_0, kGgmlQ2_K,
                                  kGgmlQ3_K, kGgmlQ4_K, kGgmlQ5_K, kGgmlQ6_K};
  for (uint32_t id = 0; id < 64; ++id) EXPECT_EQ(ggml_type_dequantizable(id), yes.contains(id)) << id;
  EXPECT_FALSE(ggml_type_dequantizable(0xffffffffu));
}

void expect_error(const Status& s, StatusCode code, const std::string& message) {
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_EQ(s.message(), message);
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
}

TEST(GgufDequant, UnsupportedTypeIsOneLineNamingTensorAndType) {
  TempDir dir;
  const std::vector<std::byte> block(66, std::byte{0x11});  // one IQ2_XXS block of 256
  const GgufWriteTensor ts[] = {{"blk.0.iq", 16, {256}, block}};
  ASSERT_TRUE(write_gguf(dir / "iq.gguf", {}, std::span<const GgufWriteTensor>(ts)).ok());
  const GgufFile g = open_gguf(dir / "iq.gguf");
  const GgufTensorInfo& info = *g.find_tensor_info("blk.0.iq");
  const std::string message =
      "tensor 'blk.0.iq': ggml type IQ2_XXS (16) cannot be dequantized (lorank reads F32, F16, "
      "BF16, F64, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)";
  std::vector<float> out(256);
  expect_error(gguf_dequantize_rows(info, 0, out), StatusCode::kNotSupported, message);
  std::vector<double> wide(256);
  expect_error(gguf_tensor_to_double(info, wide), StatusCode::kNotSupported, message);
}

TEST(GgufDequant, BadRowRangesAreInvalidArguments) {
  const GgufFile g = open_gguf(shared_path("models/kquants/model.gguf"));
  const GgufTensorInfo& info = *g.find_tensor_info("blk.0.attn_q.weight");  // Q2_K [256, 4]
  std::vector<float> out(100);
  expect_error(gguf_dequantize_rows(info, 0, out), StatusCode::kInvalidArgument,
               "tensor 'blk.0.attn_q.weight': an output of 100 floats is not a whole number of "
               "rows of 256");
  out.resize(512);
  expect_error(gguf_dequantize_rows(info, 3, out), StatusCode::kInvalidArgument,
               "tensor 'blk.0.attn_q.weight': 2 rows from row 3 run past its 4 rows");
  expect_error(gguf_dequantize_rows(info, uint64_t{1} << 63, out), StatusCode::kInvalidArgument,
               "tensor 'blk.0.attn_q.weight': 2 rows from row 9223372036854775808 run past its 4 "
               "rows");
  expect_error(gguf_dequantize_rows(info, 5, {}), StatusCode::kInvalidArgument,
               "tensor 'blk.0.attn_q.weight': 0 rows from row 5 run past its 4 rows");
  EXPECT_TRUE(gguf_dequantize_rows(info, 4, {}).ok());  // an empty range at the end
  EXPECT_TRUE(gguf_dequantize_rows(info, 2, out).ok());  // the last two rows
  // A hand-made info whose bytes are too short is refused, never read past.
  GgufTensorInfo lying = info;
  lying.data = info.data.first(84);
  expect_error(gguf_dequantize_rows(lying, 0, out), StatusCode::kInvalidArgument,
               "tensor 'blk.0.attn_q.weight': 84 data bytes do not match type Q2_K and ne[0] = 256");
}

}  // namespace
}  // namespace lorank
