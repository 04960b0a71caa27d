// Handcrafted corrupt safetensors files: each must fail with a specific code and a
// message that names the file and the problem.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lorank/safetensors.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using lorank::testing::TempDir;

std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A file with the given header text and `data_bytes` zero bytes of data.
std::string file_with(const std::string& header, std::size_t data_bytes) {
  return u64_le(header.size()) + header + std::string(data_bytes, '\0');
}

struct HeaderCorruptCase {
  const char* label;
  std::string bytes;
  StatusCode code;
  const char* message_part;
};

const std::string kF32x2 = R"("dtype":"F32","shape":[2])";

std::vector<HeaderCorruptCase> header_corrupt_cases() {
  const auto C = StatusCode::kCorruption;
  return {
      {"empty file", "", C, "0 bytes, shorter than the 8-byte header length"},
      {"seven bytes", std::string(7, '\0'), C, "7 bytes, shorter than"},
      {"length past end", u64_le(100) + "{}", C, "header length 100 exceeds the 2 bytes"},
      {"length over cap", u64_le(200'000'000) + "{}", C, "exceeds the 100000000-byte limit"},
      {"length all ones", u64_le(~uint64_t{0}) + "{}", C, "exceeds the 100000000-byte limit"},
      {"zero-length header", u64_le(0), C, "not valid JSON"},
      {"not json", file_with("{nope", 0), C, "not valid JSON"},
      {"truncated json", file_with(R"({"a":{"dtype":"F32")", 0), C, "not valid JSON"},
      {"invalid utf-8", file_with("{\"\xff\":{}}", 0), C, "not valid JSON"},
      {"nul padding", file_with(std::string("{}") + '\0', 0), C, "NUL byte at header offset 2"},
      {"text after nul", file_with(std::string("{}") + '\0' + "junk", 0), C, "not valid JSON"},
      {"top-level array", file_with("[1,2]", 0), C, "header is an array, not a JSON object"},
      {"entry not object", file_with(R"({"a":5})", 0), C,
       "tensor 'a': entry is an unsigned integer"},
      {"missing dtype", file_with(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8), C,
       "tensor 'a': missing field 'dtype'"},
      {"missing shape", file_with(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8), C,
       "tensor 'a': missing field 'shape'"},
      {"missing offsets", file_with(R"({"a":{)" + kF32x2 + "}}", 8), C,
       "tensor 'a': missing field 'data_offsets'"},
      {"unexpected field",
       file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[0,8],"strides":[1]}})", 8), C,
       "tensor 'a': unexpected field 'strides'"},
      {"dtype not string", file_with(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8), C,
       "dtype is an unsigned integer, not a string"},
      {"shape not array", file_with(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8),
       C, "shape is an unsigned integer, not an array"},
      {"offsets one value", file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[8]}})", 8), C,
       "data_offsets must be an array of 2 integers, got an array of 1 element"},
      {"offsets strings", file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":["0","8"]}})", 8), C,
       "data_offsets[0] is a string, not an integer"},
      {"negative offset", file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[-8,0]}})", 8), C,
       "data_offsets[0] is negative (-8)"},
      {"unknown dtype", file_with(R"({"a":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}})", 8),
       StatusCode::kNotSupported, "tensor 'a': unsupported dtype 'F17'"},
      {"negative dim", file_with(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
       C, "a shape dim is negative (-2)"},
      {"fractional dim",
       file_with(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8), C,
       "a shape dim is not an integer (2.5)"},
      {"float-typed dim",
       file_with(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8), C,
       "a shape dim is not an integer (2.0)"},
      {"string dim", file_with(R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8), C,
       "a shape dim is a string"},
      {"shape overflow",
       file_with(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                 8),
       C, "shape overflows 64-bit size at dim 1 of 2 (4294967296)"},
      {"size mismatch",
       file_with(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 20), C,
       "tensor 'a': data_offsets [0, 20] hold 20 bytes but shape [2, 3] of F32 needs 24"},
      {"begin after end", file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[8,0]}})", 8), C,
       "data_offsets [8, 0] begin after end"},
      {"offsets past data", file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[8,16]}})", 8), C,
       "data_offsets [8, 16] past the end of the 8-byte data section"},
      {"overlap",
       file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]},"b":{)" + kF32x2 +
                     R"(,"data_offsets":[4,12]}})",
                 12),
       C, "tensor 'b' [4, 12] overlaps tensor 'a' [0, 8]"},
      {"identical offsets",
       file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]},"b":{)" + kF32x2 +
                     R"(,"data_offsets":[0,8]}})",
                 8),
       C, "overlaps"},
      {"hole between",
       file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]},"b":{)" + kF32x2 +
                     R"(,"data_offsets":[12,20]}})",
                 20),
       C, "data bytes [8, 12) before tensor 'b' are not covered by any tensor"},
      {"hole at start", file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[4,12]}})", 12), C,
       "data bytes [0, 4) before tensor 'a'"},
      {"trailing bytes", file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]}})", 9), C,
       "data bytes [8, 9) after the last tensor are not covered"},
      {"data but no tensors", file_with("{}", 4), C, "data bytes [0, 4) after the last tensor"},
      {"duplicate name",
       file_with(R"({"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]},"a":{)" + kF32x2 +
                     R"(,"data_offsets":[8,16]}})",
                 16),
       C, "duplicate tensor name 'a'"},
      {"duplicate field",
       file_with(R"({"a":{"dtype":"F16","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), C,
       "entry 'a' has a duplicate key 'dtype'"},
      {"duplicate metadata key", file_with(R"({"__metadata__":{"k":"1","k":"2"}})", 0), C,
       "entry '__metadata__' has a duplicate key 'k'"},
      {"metadata array", file_with(R"({"__metadata__":["x"]})", 0), C,
       "__metadata__ is an array, not an object"},
      {"metadata number value", file_with(R"({"__metadata__":{"format":1}})", 0), C,
       "__metadata__ value for 'format' is an unsigned integer, not a string"},
      {"metadata nested", file_with(R"({"__metadata__":{"a":{"b":"c"}}})", 0), C,
       "__metadata__ value for 'a' is an object, not a string"},
      // 65 levels (the top-level object and 64 arrays): one past io::kMaxJsonDepth.
      {"nested too deep",
       file_with(R"({"__metadata__":)" + std::string(64, '[') + std::string(64, ']') + "}", 0), C,
       "header: JSON nested deeper than 64 levels"},
      // 64 levels parse; the value is then refused for its type.
      {"nested at the limit",
       file_with(R"({"__metadata__":)" + std::string(63, '[') + std::string(63, ']') + "}", 0), C,
       "__metadata__ is an array, not an object"},
  };
}

TEST(SafetensorsCorrupt, EveryCaseFailsWithItsCodeAndMessage) {
  TempDir dir;
  int index = 0;
  for (const HeaderCorruptCase& c : header_corrupt_cases()) {
    SCOPED_TRACE(c.label);
    const auto path = dir / ("case" + std::to_string(index++) + ".safetensors");
    std::ofstream(path, std::ios::binary) << c.bytes;
    auto f = SafetensorsFile::open(path);
    ASSERT_FALSE(f.has_value());
    const std::string& message = f.error().message();
    EXPECT_EQ(f.error().code(), c.code) << message;
    EXPECT_NE(message.find(c.message_part), std::string::npos) << message;
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(SafetensorsCorrupt, TruncatedRealFile) {
  const auto real = testing::shared_path("adapters/qwen25-05b-r6/adapter_model.safetensors");
  const std::string bytes = testing::read_text_file(real);
  TempDir dir;
  struct Cut {
    std::size_t size;
    const char* message_part;
  };
  for (const Cut& cut :
       {Cut{bytes.size() - 1, "past the end of the"}, Cut{bytes.size() / 2, "past the end of the"},
        Cut{200, "exceeds the 192 bytes after the length field (truncated?)"},
        Cut{5, "shorter than the 8-byte"}}) {
    SCOPED_TRACE(cut.size);
    const auto path = dir / "cut.safetensors";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, cut.size);
    auto f = SafetensorsFile::open(path);
    ASSERT_FALSE(f.has_value());
    EXPECT_EQ(f.error().code(), StatusCode::kCorruption);
    EXPECT_NE(f.error().message().find(cut.message_part), std::string::npos) << f.error().message();
  }
}

TEST(SafetensorsCorrupt, MissingFileIsNotFound) {
  TempDir dir;
  auto f = SafetensorsFile::open(dir / "absent.safetensors");
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kNotFound);
  EXPECT_NE(f.error().message().find("absent.safetensors"), std::string::npos);
}

TEST(SafetensorsCorrupt, AcceptsSpacePaddingNullMetadataAndEmptyHeader) {
  TempDir dir;
  const std::vector<std::string> valid = {
      file_with("{}", 0),
      file_with("{}" + std::string(30, ' '), 0),
      file_with(R"({"__metadata__":null,"a":{)" + kF32x2 + R"(,"data_offsets":[0,8]}}     )", 8),
      // Zero-size tensors may share the offset of the next tensor.
      file_with(R"({"z":{"dtype":"F16","shape":[0,4],"data_offsets":[0,0]},"a":{)" + kF32x2 +
                    R"(,"data_offsets":[0,8]}})",
                8),
  };
  for (const std::string& bytes : valid) {
    const auto path = dir / "ok.safetensors";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    auto f = SafetensorsFile::open(path);
    EXPECT_TRUE(f.has_value()) << f.error().to_string();
  }
}

}  // namespace
}  // namespace lorank
