// One naming scheme in every command (module_names.h): audit, resize and compare show the
// same display names, whole, in natural order; "By layer" keeps SD's down/mid/up blocks and
// T5's encoder/decoder apart. Run on real adapters from ../shared.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

using lorank::testing::run_lorank;
using lorank::testing::shared_path;

// The lines of `text` that start with `prefix`, in order.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    if (line.starts_with(prefix)) out.push_back(line);
    start = end + 1;
  }
  return out;
}

// The first word of every line starting with `prefix`.
std::vector<std::string> first_words(const std::string& text, const std::string& prefix) {
  std::vector<std::string> words;
  for (const std::string& line : lines_starting(text, prefix)) {
    const std::size_t begin = line.find_first_not_of(' ');
    words.push_back(line.substr(begin, line.find(' ', begin) - begin));
  }
  return words;
}

std::string audit_text(const std::string& adapter) {
  const auto r = run_lorank({"audit", shared_path("adapters/" + adapter).string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// The "By layer:" block of an audit table: its row keys.
std::vector<std::string> by_layer_keys(const std::string& table) {
  const std::size_t at = table.find("\nBy layer:\n");
  if (at == std::string::npos) return {};
  const std::size_t end = table.find("\n\n", at + 1);
  const std::string block = table.substr(at, end - at);
  std::vector<std::string> keys = first_words(block, "  ");
  keys.erase(keys.begin());  // the header, "layer"
  return keys;
}

TEST(NamingCli, ByLayerKeepsDownMidAndUpBlocksApartInOrder) {
  EXPECT_EQ(by_layer_keys(audit_text("sd15-unet-peft-r4")),
            (std::vector<std::string>{"down_blocks.0", "down_blocks.1", "down_blocks.2",
                                      "mid_block", "up_blocks.1", "up_blocks.2", "up_blocks.3"}));
  // kohya names: the same blocks, "lora_unet_unet_" dropped, the kohya word kept.
  EXPECT_EQ(by_layer_keys(audit_text("sd15-unet-kohyalike-r4")),
            (std::vector<std::string>{"down_blocks_0", "down_blocks_1", "down_blocks_2",
                                      "mid_block", "up_blocks_1", "up_blocks_2", "up_blocks_3"}));
}

TEST(NamingCli, ByLayerKeepsEncoderAndDecoderApartInNaturalOrder) {
  const std::vector<std::string> keys = by_layer_keys(audit_text("flant5base-medqa-r16"));
  std::vector<std::string> expected;
  for (const char* stack : {"decoder", "encoder"}) {
    for (int i = 0; i < 12; ++i) expected.push_back(std::string(stack) + ".block." + std::to_string(i));
  }
  EXPECT_EQ(keys, expected);
}

TEST(NamingCli, AuditTableShowsWholeNamesInNaturalOrder) {
  const std::string sd = audit_text("sd15-unet-peft-r4");
  EXPECT_EQ(sd.find("…"), std::string::npos) << "no name is cut";
  EXPECT_NE(sd.find("\nup_blocks.3.attentions.2.transformer_blocks.0.attn2.to_out.0  "),
            std::string::npos);
  EXPECT_NE(sd.find("\nmid_block.attentions.0.transformer_blocks.0.attn1.to_k  "), std::string::npos);
  // GPT-2: h.2 before h.10 (alphabetical order would put h.10 and h.11 after h.1).
  const std::vector<std::string> rows = first_words(audit_text("gpt2-seqcls-r8"), "h.");
  ASSERT_EQ(rows.size(), 36u);
  EXPECT_EQ(rows[3], "h.1.attn.c_attn");
  EXPECT_EQ(rows[6], "h.2.attn.c_attn");
  EXPECT_EQ(rows[33], "h.11.attn.c_attn");
}

TEST(NamingCli, CsvAndJsonKeepFullNamesInNaturalOrder) {
  const std::string adapter = shared_path("adapters/gpt2-seqcls-r8").string();
  const auto csv = run_lorank({"audit", "--csv", adapter});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const std::vector<std::string> rows = lines_starting(csv.out, "base_model.model.transformer.h.");
  ASSERT_EQ(rows.size(), 36u);
  EXPECT_TRUE(rows[6].starts_with("base_model.model.transformer.h.2.attn.c_attn,h.2.attn.c_attn,2,"))
      << rows[6];
  const auto json = run_lorank({"audit", "--json", adapter});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["modules"][6]["name"], "base_model.model.transformer.h.2.attn.c_attn");
  EXPECT_EQ(j["modules"][35]["name"], "base_model.model.transformer.h.11.mlp.c_proj");
}

TEST(NamingCli, ResizeAndCompareUseTheAuditsNames) {
  const std::string adapter = shared_path("adapters/gpt2-seqcls-r8").string();
  const std::vector<std::string> audit_rows = first_words(audit_text("gpt2-seqcls-r8"), "h.");
  lorank::testing::TempDir dir;
  const auto resize =
      run_lorank({"resize", adapter, "--rank", "4", "-o", (dir.path() / "out").string()});
  ASSERT_EQ(resize.exit_code, 0) << resize.err;
  EXPECT_EQ(first_words(resize.out, "h."), audit_rows);
  const auto json = run_lorank({"resize", adapter, "--rank", "4", "--json", "-o",
                                (dir.path() / "out2").string()});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["modules"][6]["name"], "base_model.model.transformer.h.2.attn.c_attn");
  const auto compare = run_lorank({"compare", adapter, adapter});
  ASSERT_EQ(compare.exit_code, 0) << compare.err;
  EXPECT_EQ(first_words(compare.out, "h."), audit_rows);
}

TEST(NamingCli, HtmlHeatmapRowsAreLayerGroupsInNaturalOrder) {
  lorank::testing::TempDir dir;
  const std::filesystem::path html = dir.path() / "sd.html";
  const auto r = run_lorank({"audit", shared_path("adapters/sd15-unet-peft-r4").string(),
                             "--html", html.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = lorank::testing::read_text_file(html);
  std::vector<std::string> rows;
  const std::string marker = "class=\"hr\" text-anchor=\"end\">";
  for (std::size_t at = page.find(marker); at != std::string::npos; at = page.find(marker, at + 1)) {
    const std::size_t begin = at + marker.size();
    rows.push_back(page.substr(begin, page.find('<', begin) - begin));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"down_blocks.0", "down_blocks.1", "down_blocks.2",
                                            "mid_block", "up_blocks.1", "up_blocks.2",
                                            "up_blocks.3"}));
}

}  // namespace
}  // namespace lorank
