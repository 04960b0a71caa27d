// Issue 11, items 1, 4 and 5: no untrusted byte reaches the terminal raw (tables, CSV,
// error lines), no untrusted value is printed whole, and --json never throws on bad UTF-8.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/adapter_builder.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using lorank::testing::AdapterBuilder;
using lorank::testing::run_lorank;
using lorank::testing::TempDir;

// A name that, printed raw, forges an error line and clears the screen.
const std::string kForged = "x\nlorank: error: FORGED\x1b[2J";
const std::string kForgedEscaped = "x\\x0alorank: error: FORGED\\x1b[2J";

void expect_no_raw_control_bytes(const std::string& text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    ASSERT_TRUE(c == '\n' || (u >= 0x20 && u != 0x7f)) << "raw byte " << int(u) << " in:\n" << text;
  }
  EXPECT_EQ(text.find("\nlorank: error: FORGED"), std::string::npos) << text;
}

fs::path forged_adapter(const fs::path& dir) {
  return AdapterBuilder()
      .peft_pair("base_model.model." + kForged, 6, 2, 5)
      .peft_pair("base_model.model.ok", 6, 2, 5)
      .write(dir);
}

TEST(TerminalText, AuditTableShowsAForgedNameAsOneEscapedLine) {
  TempDir tmp;
  const auto r = run_lorank({"audit", forged_adapter(tmp.path()).string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_no_raw_control_bytes(r.out);
  EXPECT_NE(r.out.find(kForgedEscaped), std::string::npos) << r.out;
}

TEST(TerminalText, AuditCsvRowHoldsTheEscapedName) {
  TempDir tmp;
  const auto r = run_lorank({"audit", "--csv", forged_adapter(tmp.path()).string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_no_raw_control_bytes(r.out);
  EXPECT_NE(r.out.find("\nbase_model.model." + kForgedEscaped + ","), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << "header and two rows:\n" << r.out;
}

TEST(TerminalText, ResizeAndCompareTablesEscapeTheName) {
  TempDir tmp;
  const std::string a = forged_adapter(tmp.path()).string();
  const auto resize = run_lorank({"resize", a, "-o", (tmp / "out").string(), "--rank", "1", "--dry-run"});
  ASSERT_EQ(resize.exit_code, 0) << resize.err;
  expect_no_raw_control_bytes(resize.out);
  expect_no_raw_control_bytes(resize.err);
  EXPECT_NE(resize.out.find(kForgedEscaped), std::string::npos) << resize.out;
  const auto compare = run_lorank({"compare", a, a});
  ASSERT_EQ(compare.exit_code, 0) << compare.err;
  expect_no_raw_control_bytes(compare.out);
  EXPECT_NE(compare.out.find(kForgedEscaped), std::string::npos) << compare.out;
}

TEST(TerminalText, ErrorLineEscapesAForgedTensorName) {
  TempDir tmp;
  // JSON escapes decode to the raw newline and ESC in the tensor name.
  const std::string header = R"({"x\nlorank: error: FORGED\u001b[2J":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}})";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header + std::string(4, '\0');
  const fs::path path = tmp / "forged.safetensors";
  std::ofstream(path, std::ios::binary) << bytes;
  const auto r = run_lorank({"audit", path.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_no_raw_control_bytes(r.err);
  const std::string tail = "tensor '" + kForgedEscaped + "': unsupported dtype 'F17'\n";
  ASSERT_GE(r.err.size(), tail.size()) << r.err;
  EXPECT_EQ(r.err.substr(r.err.size() - tail.size()), tail) << r.err;
}

// The crash of issue 11: one field nested 100,000 levels (200 KB) in a real config.
TEST(TerminalText, ConfigNestedAHundredThousandLevelsIsOneLineError) {
  TempDir tmp;
  const std::string config = R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "x": )" +
                             std::string(100000, '[') + std::string(100000, ']') + "}";
  const fs::path weights = AdapterBuilder().peft_pair("base_model.model.q", 4, 2, 3).config(config).write(tmp.path());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"audit", weights.parent_path().string()},
        std::vector<std::string>{"audit", "--csv", weights.parent_path().string()},
        std::vector<std::string>{"resize", weights.parent_path().string(), "-o", (tmp / "out").string(), "--rank", "1"}}) {
    const auto r = run_lorank(args);
    EXPECT_EQ(r.exit_code, 1) << args[0];
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "lorank: error: adapter config '" + (tmp / "adapter_config.json").string() +
                         "': JSON nested deeper than 64 levels\n");
  }
  EXPECT_FALSE(fs::exists(tmp / "out"));
}

// At the cap an unknown field is carried into the suggested config, compact, so the
// output stays about as large as the input.
TEST(TerminalText, UnknownFieldAtTheCapIsCarriedCompactly) {
  TempDir tmp;
  const std::string nested = std::string(63, '[') + "1" + std::string(63, ']');
  const std::string config = R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "x": )" + nested + "}";
  const fs::path weights = AdapterBuilder().peft_pair("base_model.model.q", 4, 2, 3).config(config).write(tmp.path());
  const auto r = run_lorank({"audit", weights.parent_path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Level 1 (the array) is pretty, level 2 and below compact.
  const std::string inner = std::string(62, '[') + "1" + std::string(62, ']');
  EXPECT_NE(r.out.find("  \"x\": [\n    " + inner + "\n  ],\n"), std::string::npos) << r.out;
  EXPECT_LT(r.out.size(), 4000u);
}

// A non-UTF-8 path (bytes, as Linux allows): --json must not end in type_error.316.
TEST(TerminalText, JsonOnANonUtf8PathReplacesTheBadByte) {
  TempDir tmp;
  const fs::path dir = tmp / "bad\xff" "name";
  fs::create_directories(dir);
  const fs::path weights = AdapterBuilder().peft_pair("base_model.model.q", 4, 2, 3).write(dir);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"audit", "--json", weights.string()},
        std::vector<std::string>{"compare", "--json", weights.string(), weights.string()}}) {
    const auto r = run_lorank(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);  // valid UTF-8, valid JSON
    EXPECT_NE(r.out.find("bad\xef\xbf\xbdname"), std::string::npos) << r.out.substr(0, 300);
  }
  const auto table = run_lorank({"audit", weights.string()});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("bad\\xffname"), std::string::npos) << table.out.substr(0, 300);
}

}  // namespace
}  // namespace lorank
