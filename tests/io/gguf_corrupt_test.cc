// Handcrafted corrupt GGUF files: each must fail with a specific code and a one-line
// message that names the file and the problem; every truncation of a valid file fails.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "lorank/gguf.h"
#include "support/seed.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using lorank::testing::TempDir;

// Little-endian byte builder for handcrafted files.
struct Bytes {
  std::string s;
  Bytes& u8(uint8_t v) {
    s.push_back(static_cast<char>(v));
    return *this;
  }
  Bytes& u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes& u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes& str(const std::string& t) {
    u64(t.size());
    s += t;
    return *this;
  }
  Bytes& zeros(std::size_t n) {
    s.append(n, '\0');
    return *this;
  }
  Bytes& pad(std::size_t a) { return zeros((a - s.size() % a) % a); }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    s += "GGUF";
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  Bytes& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  Bytes& info(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) u64(d);
    return u32(type).u64(offset);
  }
};

// A valid file: one KV, two F32 tensors of 4 elements (16 bytes each, padded to 32).
std::string valid_file() {
  return Bytes{}
      .header(2, 1)
      .kv_u32("general.alignment", 32)
      .info("a", {4}, 0, 0)
      .info("b", {2, 2}, 0, 32)
      .pad(32)
      .zeros(16)
      .pad(32)
      .zeros(16)
      .pad(32)
      .s;
}

struct CorruptCase {
  const char* label;
  std::string bytes;
  StatusCode code;
  const char* message_part;
};

std::vector<CorruptCase> corrupt_cases() {
  const auto C = StatusCode::kCorruption, NS = StatusCode::kNotSupported;
  const std::string big(100, '\0');
  auto nested = [](int levels) {  // `levels` arrays nested, the innermost empty u8
    Bytes b = Bytes{}.header(0, 1).str("deep").u32(9);
    for (int i = 1; i < levels; ++i) b.u32(9).u64(1);
    return b.u32(0).u64(0).s;
  };
  return {
      {"empty", "", C, "file is 0 bytes, too short for the 4-byte magic"},
      {"three bytes", "GGU", C, "file is 3 bytes, too short"},
      {"bad magic", "GGML" + big, C, "bad magic 'GGML', expected 'GGUF'"},
      {"binary magic",
       std::string("\x7f"
                   "ELF") +
           big,
       C, "bad magic '?ELF'"},
      {"version 0", Bytes{}.header(0, 0, 0).s, C, "bad version 0"},
      {"version 1", Bytes{}.header(0, 0, 1).s, NS, "GGUF version 1 is not supported"},
      {"version 4", Bytes{}.header(0, 0, 4).s, NS,
       "GGUF version 4 is newer than the supported version 3"},
      {"big-endian", Bytes{}.header(0, 0, 0x03000000).s, NS, "byte-swapped: big-endian GGUF"},
      {"cut after magic", "GGUF", C, "truncated: version needs 4 bytes at offset 4, only 0 remain"},
      {"cut after version", Bytes{}.header(0, 0).s.substr(0, 8), C,
       "truncated: tensor count needs 8"},
      {"cut after tensor count", Bytes{}.header(0, 0).s.substr(0, 16), C,
       "truncated: KV count needs 8"},
      {"cut before kvs", Bytes{}.header(0, 1).s, C,
       "1 KVs and 0 tensor infos need at least 14 bytes, only 0 remain"},
      {"cut before infos", Bytes{}.header(1, 0).s, C,
       "0 KVs and 1 tensor infos need at least 24 bytes"},
      {"tensor count 2^60", Bytes{}.header(uint64_t{1} << 60, 0).zeros(76).s, C,
       "tensor count 1152921504606846976 exceeds the limit of 1048576"},
      {"kv count 2^60", Bytes{}.header(0, uint64_t{1} << 60).zeros(76).s, C,
       "KV count 1152921504606846976 exceeds the limit of 1048576"},
      {"tensor count at cap", Bytes{}.header(1 << 20, 0).zeros(76).s, C,
       "need at least 25165824 bytes, only 76 remain"},
      {"key past eof", Bytes{}.header(0, 1).u64(1000).zeros(20).s, C,
       "kv 0: key length 1000 at offset 24 exceeds the 20 bytes remaining"},
      {"key over cap", Bytes{}.header(0, 1).u64(uint64_t{1} << 40).zeros(20).s, C,
       "key length 1099511627776 at offset 24 exceeds the limit of 1073741824 bytes"},
      {"empty key", Bytes{}.header(0, 1).str("").u32(0).u8(0).zeros(8).s, C,
       "kv 0: empty key at offset 24"},
      {"duplicate key", Bytes{}.header(0, 2).kv_u32("k", 1).kv_u32("k", 2).s, C,
       "kv 1: duplicate key 'k'"},
      {"cut in value", Bytes{}.header(0, 1).str("k").u32(4).u8(1).zeros(4).s.substr(0, 40), C,
       "kv 0 ('k'): truncated: u32 value needs 4 bytes at offset 37"},
      {"bad value type", Bytes{}.header(0, 1).str("k").u32(13).u32(0).s, C,
       "kv 0 ('k'): bad value type 13"},
      {"string past eof", Bytes{}.header(0, 1).str("k").u32(8).u64(50).zeros(4).s, C,
       "kv 0 ('k'): string length 50 at offset 37 exceeds the 4 bytes remaining"},
      {"bool 2", Bytes{}.header(0, 1).str("k").u32(7).u8(2).s, C,
       "kv 0 ('k'): bool byte at offset 37 is 2, not 0 or 1"},
      {"array elem type", Bytes{}.header(0, 1).str("k").u32(9).u32(13).u64(0).s, C,
       "bad array element type 13 at offset 37"},
      {"array len over cap (len x 8 wraps)",
       Bytes{}.header(0, 1).str("k").u32(9).u32(10).u64((uint64_t{1} << 61) + 1).s, C,
       "array of 2305843009213693953 u64 elements at offset 41 exceeds the limit of 1073741824"},
      {"array len past eof", Bytes{}.header(0, 1).str("k").u32(9).u32(10).u64(1 << 30).zeros(16).s,
       C,
       "array of 1073741824 u64 elements at offset 41 needs at least 8589934592 bytes, only 16 "
       "remain"},
      {"string array past eof", Bytes{}.header(0, 1).str("k").u32(9).u32(8).u64(3).str("x").s, C,
       "array of 3 string elements at offset 41 needs at least 24 bytes, only 9 remain"},
      {"bool array 5", Bytes{}.header(0, 1).str("k").u32(9).u32(7).u64(2).u8(1).u8(5).s, C,
       "bool array element 1 at offset 50 is 5"},
      {"nesting 8 is fine but 9 is too deep", nested(9), C, "arrays nested deeper than 8 levels"},
      {"alignment 0", Bytes{}.header(0, 1).kv_u32("general.alignment", 0).s, C,
       "general.alignment 0 is not a power of two"},
      {"alignment 3", Bytes{}.header(0, 1).kv_u32("general.alignment", 3).s, C,
       "general.alignment 3 is not a power of two"},
      {"alignment u64", Bytes{}.header(0, 1).str("general.alignment").u32(10).u64(32).s, C,
       "general.alignment is a u64, must be u32"},
      {"empty tensor name", Bytes{}.header(1, 0).info("", {4}, 0, 0).pad(32).zeros(16).s, C,
       "tensor 0 has an empty name"},
      {"tensor name 64 bytes",
       Bytes{}.header(1, 0).info(std::string(64, 'n'), {4}, 0, 0).pad(32).zeros(16).s, C,
       "is 64 bytes, over ggml's limit of 63"},
      {"tensor name past eof", Bytes{}.header(1, 0).u64(500).zeros(20).s, C,
       "tensor name length 500 at offset 24 exceeds"},
      {"n_dims 5", Bytes{}.header(1, 0).info("t", {1, 1, 1, 1, 1}, 0, 0).pad(32).zeros(4).s, C,
       "tensor 't' has 5 dims, more than 4"},
      {"dim 2^63", Bytes{}.header(1, 0).info("t", {uint64_t{1} << 63}, 0, 0).pad(32).s, C,
       "has a dim 9223372036854775808 >= 2^63"},
      {"dims overflow",
       Bytes{}.header(1, 0).info("t", {uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0).pad(32).s, C,
       "tensor 't' ne [4294967296, 4294967296] has more than 2^63-1 elements"},
      {"bytes overflow", Bytes{}.header(1, 0).info("t", {uint64_t{1} << 62}, 28, 0).pad(32).s, C,
       "tensor 't' byte size overflows"},
      {"unknown ggml type", Bytes{}.header(1, 0).info("t", {4}, 99, 0).pad(32).zeros(16).s, NS,
       "tensor 't' has unknown ggml type 99"},
      {"removed ggml type", Bytes{}.header(1, 0).info("t", {4}, 4, 0).pad(32).zeros(16).s, NS,
       "unknown ggml type 4"},
      {"block multiple", Bytes{}.header(1, 0).info("t", {16}, 8, 0).pad(32).zeros(32).s, C,
       "tensor 't' of type Q8_0 has rows of 16 elements, not a multiple of 32"},
      {"duplicate tensor",
       Bytes{}.header(2, 0).info("t", {4}, 0, 0).info("t", {4}, 0, 32).pad(32).zeros(48).s, C,
       "duplicate tensor name 't' (tensor 1)"},
      {"data start past eof", Bytes{}.header(1, 0).info("t", {0}, 0, 0).s, C,
       "truncated: the data section would start at offset 64, past the 57-byte file"},
      {"misaligned offset", Bytes{}.header(1, 0).info("t", {4}, 0, 4).pad(32).zeros(32).s, C,
       "tensor 't' offset 4 is not a multiple of the alignment 32"},
      {"data past eof", Bytes{}.header(1, 0).info("t", {4}, 0, 0).pad(32).zeros(15).s, C,
       "tensor 't' bytes [0, 16) end past the 15-byte data section (truncated?)"},
      {"offset past eof",
       Bytes{}.header(1, 0).info("t", {4}, 0, uint64_t{1} << 63).pad(32).zeros(16).s, C,
       "bytes [9223372036854775808, 9223372036854775824) end past"},
      {"overlap",
       Bytes{}.header(2, 0).info("a", {16}, 0, 0).info("b", {4}, 0, 32).pad(32).zeros(64).s, C,
       "tensor 'b' [32, 48) overlaps tensor 'a' [0, 64)"},
      {"same offset",
       Bytes{}.header(2, 0).info("a", {4}, 0, 0).info("b", {4}, 0, 0).pad(32).zeros(16).s, C,
       "tensor 'b' [0, 16) overlaps tensor 'a' [0, 16)"},
  };
}

TEST(GgufCorrupt, EachCaseFailsWithCodeAndOneLineMessage) {
  TempDir dir;
  const auto path = dir / "bad.gguf";
  for (const CorruptCase& c : corrupt_cases()) {
    SCOPED_TRACE(c.label);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << c.bytes;
    const auto f = GgufFile::open(path);
    ASSERT_FALSE(f.has_value());
    const Status& s = f.error();
    EXPECT_EQ(s.code(), c.code) << s.message();
    EXPECT_NE(s.message().find(c.message_part), std::string::npos) << s.message();
    EXPECT_EQ(s.message().rfind("gguf file '" + path.string() + "': ", 0), 0u) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
}

TEST(GgufCorrupt, ValidBaselineAndEightLevelsOfNestingOpen) {
  TempDir dir;
  std::ofstream(dir / "ok.gguf", std::ios::binary) << valid_file();
  auto f = GgufFile::open(dir / "ok.gguf");
  ASSERT_TRUE(f.has_value()) << f.error().to_string();
  EXPECT_EQ(f->tensor("b")->shape, Shape({{2, 2}}));
  Bytes b = Bytes{}.header(0, 1).str("deep").u32(9);
  for (int i = 1; i < 8; ++i) b.u32(9).u64(1);
  std::ofstream(dir / "deep.gguf", std::ios::binary) << b.u32(0).u64(0).s;
  EXPECT_TRUE(GgufFile::open(dir / "deep.gguf").has_value());
  // Zero-size tensors (ggml allows ne = 0) may share an offset with anything.
  std::ofstream(dir / "zero.gguf", std::ios::binary)
      << Bytes{}.header(2, 0).info("e", {0, 3}, 0, 0).info("a", {4}, 0, 0).pad(32).zeros(16).s;
  auto z = GgufFile::open(dir / "zero.gguf");
  ASSERT_TRUE(z.has_value()) << z.error().to_string();
  EXPECT_EQ(z->tensor("e")->shape, Shape({{3, 0}}));
  // An empty tensor whose other dims alone would overflow int64 (found by fuzz_gguf): the
  // reader accepts it and its element count is 0, computed without overflow.
  const uint64_t big = uint64_t{1} << 40;
  std::ofstream(dir / "zero-big.gguf", std::ios::binary)
      << Bytes{}.header(1, 0).info("e", {big, big, 0}, 0, 0).pad(32).s;
  auto zb = GgufFile::open(dir / "zero-big.gguf");
  ASSERT_TRUE(zb.has_value()) << zb.error().to_string();
  EXPECT_EQ(zb->tensor("e")->shape.numel(), 0);
}

// Every prefix of a valid file that cuts into its header or tensor bytes is rejected as
// corruption; only the trailing padding after the last tensor may be missing.
TEST(GgufCorrupt, EveryTruncationFails) {
  TempDir dir;
  const std::string full = valid_file();
  const auto path = dir / "cut.gguf";
  const std::size_t last_tensor_end = full.size() - 16;  // 16 bytes of padding at the end
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << full.substr(0, n);
    const auto f = GgufFile::open(path);
    if (n >= last_tensor_end) {
      EXPECT_TRUE(f.has_value()) << n;
      continue;
    }
    ASSERT_FALSE(f.has_value()) << "prefix of " << n << " bytes opened";
    EXPECT_EQ(f.error().code(), StatusCode::kCorruption) << n << ": " << f.error().message();
    EXPECT_EQ(f.error().message().find('\n'), std::string::npos);
  }
}

// Random byte flips in a file with KVs of several types and tensors: open() either succeeds
// or fails with kCorruption / kNotSupported, never crashes (run under ASan+UBSan too).
TEST(GgufCorrupt, RandomMutationsFailCleanly) {
  const uint64_t seed = testing::test_seed("GgufCorrupt.RandomMutationsFailCleanly");
  std::mt19937_64 rng(seed);
  const std::string base = Bytes{}
                               .header(2, 3)
                               .kv_u32("general.alignment", 32)
                               .str("s")
                               .u32(8)
                               .str("text")
                               .str("a")
                               .u32(9)
                               .u32(9)
                               .u64(2)
                               .u32(8)
                               .u64(1)
                               .str("x")
                               .u32(6)
                               .u64(1)
                               .u32(0)
                               .info("a", {4}, 0, 0)
                               .info("b", {32}, 8, 32)
                               .pad(32)
                               .zeros(16)
                               .pad(32)
                               .zeros(34)
                               .pad(32)
                               .s;
  TempDir dir;
  const auto path = dir / "m.gguf";
  std::ofstream(path, std::ios::binary) << base;
  ASSERT_TRUE(GgufFile::open(path).has_value());
  for (int trial = 0; trial < 400; ++trial) {
    std::string bytes = base;
    const int flips = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int i = 0; i < flips; ++i) {
      const std::size_t at = std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(rng);
      bytes[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    const auto f = GgufFile::open(path);
    if (f.has_value()) continue;
    const StatusCode code = f.error().code();
    EXPECT_TRUE(code == StatusCode::kCorruption || code == StatusCode::kNotSupported)
        << "LORANK_SEED=" << seed << " trial " << trial << ": " << f.error().to_string();
  }
}

}  // namespace
}  // namespace lorank
