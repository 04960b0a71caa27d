// Writes a sample GGUF with every value type (nested arrays, empty and multi-byte strings,
// u64/i64 extremes, a non-default alignment, F32/F16/BF16/Q8_0 tensors of 1 to 4 dims) and
// a canonical text dump of what lorank reads back. tools/check_gguf_with_hf.sh sets
// LORANK_GGUF_EXPORT_DIR to keep both, parses the GGUF with @huggingface/gguf (an
// independent parser) and diffs the two dumps. Without the variable the files go to a
// temp dir, so CI still checks that the sample round-trips.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "lorank/gguf.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

// The dump format tools/gguf_hf_dump.mjs prints: every JS-number value as the hex bits of
// its double (exact for f32, f64 and ints up to 32 bits), u64/i64 in decimal (JS bigint),
// strings as the hex of their UTF-8 bytes.
std::string render(const GgufValue& v) {
  switch (v.type()) {
    case GgufType::kString: {
      std::string hex;
      for (char c : *v.string_value()) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
      return "s:" + hex;
    }
    case GgufType::kArray: {
      std::vector<std::string> parts;
      for (uint64_t i = 0; i < v.array_size(); ++i) parts.push_back(render(v.at(i)));
      return fmt::format("[{}]", fmt::join(parts, ","));
    }
    case GgufType::kBool:
      return *v.get<bool>() ? "true" : "false";
    case GgufType::kU64:
      return fmt::format("{}", *v.get<uint64_t>());
    case GgufType::kI64:
      return fmt::format("{}", *v.get<int64_t>());
    default:
      break;
  }
  double d = 0;
  switch (v.type()) {
    case GgufType::kU8:
      d = *v.get<uint8_t>();
      break;
    case GgufType::kI8:
      d = *v.get<int8_t>();
      break;
    case GgufType::kU16:
      d = *v.get<uint16_t>();
      break;
    case GgufType::kI16:
      d = *v.get<int16_t>();
      break;
    case GgufType::kU32:
      d = *v.get<uint32_t>();
      break;
    case GgufType::kI32:
      d = *v.get<int32_t>();
      break;
    case GgufType::kF32:
      d = *v.get<float>();
      break;
    default:
      d = *v.get<double>();
      break;
  }
  return fmt::format("{:#018x}", std::bit_cast<uint64_t>(d));
}

std::string dump(const GgufFile& f) {
  std::string out = fmt::format("version {}\ntensor_count {}\nkv_count {}\n", f.version(),
                                f.tensor_infos().size(), f.kvs().size());
  for (const GgufKv& kv : f.kvs()) {
    const std::string type = kv.value.is_array()
                                 ? fmt::format("array<{}>", gguf_type_name(kv.value.element_type()))
                                 : gguf_type_name(kv.value.type());
    out += fmt::format("kv {} {} {}\n", kv.key, type, render(kv.value));
  }
  for (const GgufTensorInfo& t : f.tensor_infos()) {
    out += fmt::format("tensor {} n_dims={} ne=[{}] type={} offset={}\n", t.name, t.ne.size(),
                       fmt::join(t.ne, ","), t.ggml_type, t.offset);
  }
  out += fmt::format("data_offset {}\n", f.data_offset());
  return out;
}

std::vector<GgufKv> sample_kvs() {
  auto arr = [](GgufType t, std::vector<GgufValue> items) {
    return GgufValue::array(t, std::move(items)).value();
  };
  const std::vector<std::string> tokens = {"",       "<s>",  "▁the",
                                           "日本語", "🦙", std::string("a\0b", 3)};
  const std::vector<float> floats = {0.5f, -0.0f, 1e-30f, std::numeric_limits<float>::max(),
                                     3.14159f};
  std::vector<GgufKv> kvs = {
      {"general.architecture", GgufValue::string("llama")},
      {"general.type", GgufValue::string("adapter")},
      {"adapter.type", GgufValue::string("lora")},
      {"adapter.lora.alpha", GgufValue::of(16.0f)},
      {"general.alignment", GgufValue::of(uint32_t{64})},
      {"t.u8", GgufValue::of(uint8_t{255})},
      {"t.i8", GgufValue::of(int8_t{-128})},
      {"t.u16", GgufValue::of(uint16_t{65535})},
      {"t.i16", GgufValue::of(int16_t{-32768})},
      {"t.u32", GgufValue::of(std::numeric_limits<uint32_t>::max())},
      {"t.i32", GgufValue::of(std::numeric_limits<int32_t>::min())},
      {"t.f32", GgufValue::of(-1.25e-7f)},
      {"t.bool", GgufValue::of(true)},
      {"t.string.empty", GgufValue::string("")},
      {"t.string.unicode", GgufValue::string("κόσμε 🦙 ünïcödé")},
      {"t.u64", GgufValue::of(std::numeric_limits<uint64_t>::max())},
      {"t.i64", GgufValue::of(std::numeric_limits<int64_t>::min())},
      {"t.f64", GgufValue::of(0.1)},
      {"t.arr.f32", GgufValue::array_of<float>(floats)},
      {"t.arr.str", GgufValue::string_array(tokens)},
      {"t.arr.bool", arr(GgufType::kBool, {GgufValue::of(true), GgufValue::of(false)})},
      {"t.arr.i64",
       arr(GgufType::kI64, {GgufValue::of(int64_t{-1}), GgufValue::of(int64_t{1} << 62)})},
      {"t.arr.empty", arr(GgufType::kU32, {})},
      {"t.arr.nested",
       arr(GgufType::kArray,
           {arr(GgufType::kI32, {GgufValue::of(1), GgufValue::of(-2)}),
            arr(GgufType::kString, {GgufValue::string("x")}),
            arr(GgufType::kArray, {arr(GgufType::kU8, {GgufValue::of(uint8_t{7})})})})},
  };
  return kvs;
}

TEST(GgufHfExport, SampleFileAndDump) {
  lorank::testing::TempDir tmp;
  const char* env = std::getenv("LORANK_GGUF_EXPORT_DIR");
  const std::filesystem::path dir = env && *env ? std::filesystem::path(env) : tmp.path();
  std::vector<std::vector<std::byte>> data;
  std::vector<GgufWriteTensor> tensors;
  auto add = [&](std::string_view name, uint32_t type, std::vector<uint64_t> ne,
                 std::size_t bytes) {
    data.emplace_back(bytes);
    for (std::size_t i = 0; i < bytes; ++i) data.back()[i] = static_cast<std::byte>(i * 7 + 3);
    tensors.push_back({name, type, std::move(ne), data.back()});
  };
  add("blk.0.attn_q.weight.lora_a", kGgmlF32, {64, 4}, 64 * 4 * 4);
  add("blk.0.attn_q.weight.lora_b", kGgmlF32, {4, 96}, 4 * 96 * 4);
  add("blk.0.ffn_up.weight.lora_a", kGgmlF16, {64, 4}, 64 * 4 * 2);
  add("blk.0.ffn_up.weight.lora_b", kGgmlBF16, {4, 3}, 4 * 3 * 2);
  add("t.q8_0", kGgmlQ8_0, {64, 2}, 4 * 34);
  add("t.3d", kGgmlF32, {2, 3, 5}, 2 * 3 * 5 * 4);
  add("t.4d", kGgmlF16, {1, 2, 3, 4}, 24 * 2);
  const auto path = dir / "sample.gguf";
  ASSERT_TRUE(
      write_gguf(path, sample_kvs(), std::span<const GgufWriteTensor>(tensors), {.overwrite = true})
          .ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  const std::string text = dump(*f);
  EXPECT_NE(text.find("kv t.arr.nested array<array> "
                      "[[0x3ff0000000000000,0xc000000000000000],[s:78],[[0x401c000000000000]]]"),
            std::string::npos)
      << text;
  EXPECT_EQ(f->alignment(), 64u);
  std::ofstream(dir / "lorank_dump.txt", std::ios::binary | std::ios::trunc) << text;
}

}  // namespace
}  // namespace lorank
