// display_names, natural order, layer_group, layer_index and module_type on names from every real adapter and kohya/GGUF.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lorank/module_names.h"
#include "support/shared_data.h"

namespace lorank {
namespace {

struct NameCase {
  std::string name;
  int layer;
  std::string type;
};

TEST(ModuleNames, LayerAndTypeOfEveryRealNamingScheme) {
  const std::vector<NameCase> cases = {
      {"base_model.model.distilbert.transformer.layer.3.attention.q_lin", 3, "attention.q_lin"},
      {"base_model.model.classifier.modules_to_save", -1, "classifier.modules_to_save"},
      {"base_model.model.transformer.h.5.attn.c_attn", 5, "attn.c_attn"},
      {"base_model.model.transformer.h.11.mlp.c_proj", 11, "mlp.c_proj"},
      {"base_model.model.decoder.block.7.layer.1.EncDecAttention.q", 7, "EncDecAttention.q"},
      {"base_model.model.encoder.block.10.layer.0.SelfAttention.q", 10, "SelfAttention.q"},
      {"base_model.model.model.layers.17.self_attn.k_proj", 17, "self_attn.k_proj"},
      {"base_model.model.gpt_neox.layers.9.attention.query_key_value", 9,
       "attention.query_key_value"},
      {"base_model.model.model.decoder.layers.0.self_attn.v_proj", 0, "self_attn.v_proj"},
      {"base_model.model.text_model.encoder.layers.4.self_attn.q_proj", 4, "self_attn.q_proj"},
      {"base_model.model.down_blocks.2.attentions.1.transformer_blocks.0.attn2.to_v", 2,
       "attn2.to_v"},
      {"base_model.model.up_blocks.3.attentions.0.transformer_blocks.0.attn1.to_out.0", 3,
       "attn1.to_out.0"},
      {"base_model.model.mid_block.attentions.0.transformer_blocks.0.attn1.to_q", 0, "attn1.to_q"},
      {"lora_unet_unet_down_blocks_0_attentions_1_transformer_blocks_0_attn1_to_k", 0,
       "attn1_to_k"},
      {"lora_unet_up_blocks_1_attentions_2_transformer_blocks_0_attn1_to_out_0", 1,
       "attn1_to_out_0"},
      {"lora_te_text_model_encoder_layers_11_self_attn_q_proj", 11, "self_attn_q_proj"},
      {"blk.12.attn_q.weight", 12, "attn_q"},
      {"token_embd.weight", -1, "token_embd"},
      {"encoder.0.fc", 0, "fc"},
  };
  for (const NameCase& c : cases) {
    EXPECT_EQ(layer_index(c.name), c.layer) << c.name;
    EXPECT_EQ(module_type(c.name), c.type) << c.name;
  }
}

TEST(ModuleNames, DisplayNamesDropSharedLeadingSegments) {
  // GPT-2: "transformer." is shared; "h" stays with its number.
  EXPECT_EQ(display_names({"base_model.model.transformer.h.0.attn.c_attn",
                           "base_model.model.transformer.h.1.attn.c_attn"}),
            (std::vector<std::string>{"h.0.attn.c_attn", "h.1.attn.c_attn"}));
  // Llama: "model.layers." is shared, but a name never starts with a bare number.
  EXPECT_EQ(display_names({"base_model.model.model.layers.0.self_attn.q_proj",
                           "base_model.model.model.layers.1.self_attn.q_proj"}),
            (std::vector<std::string>{"layers.0.self_attn.q_proj", "layers.1.self_attn.q_proj"}));
  // kohya: cut at '_', keeping down/up with their word ("down_blocks_0", not "blocks_0").
  EXPECT_EQ(display_names({"lora_unet_unet_down_blocks_0_attn1_to_k",
                           "lora_unet_unet_up_blocks_0_attn1_to_k"}),
            (std::vector<std::string>{"down_blocks_0_attn1_to_k", "up_blocks_0_attn1_to_k"}));
  EXPECT_EQ(display_names({"lora_unet_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k",
                           "lora_unet_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_k"}),
            (std::vector<std::string>{"down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k",
                                      "down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_k"}));
  // kohya SDXL: the two text encoders and the UNet stay apart.
  EXPECT_EQ(display_names({"lora_te1_text_model_encoder_layers_0_self_attn_q_proj",
                           "lora_te2_text_model_encoder_layers_0_self_attn_q_proj",
                           "lora_unet_down_blocks_1_attentions_0_proj_in"}),
            (std::vector<std::string>{"te1_text_model_encoder_layers_0_self_attn_q_proj",
                                      "te2_text_model_encoder_layers_0_self_attn_q_proj",
                                      "unet_down_blocks_1_attentions_0_proj_in"}));
  // T5: encoder and decoder are the first segment, never dropped.
  EXPECT_EQ(display_names({"base_model.model.encoder.block.3.layer.0.SelfAttention.q",
                           "base_model.model.decoder.block.3.layer.0.SelfAttention.q"}),
            (std::vector<std::string>{"encoder.block.3.layer.0.SelfAttention.q",
                                      "decoder.block.3.layer.0.SelfAttention.q"}));
  // SD (PEFT): down/mid/up stay whole, even in names of 60+ characters.
  EXPECT_EQ(display_names({"base_model.model.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k",
                           "base_model.model.mid_block.attentions.0.transformer_blocks.0.attn1.to_k",
                           "base_model.model.up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_out.0"}),
            (std::vector<std::string>{"down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k",
                                      "mid_block.attentions.0.transformer_blocks.0.attn1.to_k",
                                      "up_blocks.1.attentions.2.transformer_blocks.0.attn2.to_out.0"}));
  // Same type in one block: the shared "down_blocks.1.attentions.0..." up to the number goes.
  EXPECT_EQ(display_names({"down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k",
                           "down_blocks.1.attentions.1.transformer_blocks.0.attn1.to_k"}),
            (std::vector<std::string>{"attentions.0.transformer_blocks.0.attn1.to_k",
                                      "attentions.1.transformer_blocks.0.attn1.to_k"}));
  // GGUF: "blk" is shared but names its number; nothing to drop.
  EXPECT_EQ(display_names({"blk.0.attn_q.weight", "blk.10.attn_q.weight"}),
            (std::vector<std::string>{"blk.0.attn_q.weight", "blk.10.attn_q.weight"}));
  // One name is a prefix of another: every name keeps at least one segment.
  EXPECT_EQ(display_names({"base_model.model.classifier",
                           "base_model.model.classifier.modules_to_save"}),
            (std::vector<std::string>{"classifier", "classifier.modules_to_save"}));
  EXPECT_EQ(display_names({"a.b.c", "a.b.d"}), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(display_names({"base_model.model.x.q"}), (std::vector<std::string>{"x.q"}));
  EXPECT_TRUE(display_names({}).empty());
}

TEST(ModuleNames, DisplayNamesNeverMergeTwoModules) {
  // Stripping base_model.model. from one name would make it equal to the other.
  const std::vector<std::string> names = {"base_model.model.a.q", "a.q"};
  EXPECT_EQ(display_names(names), names);
  // Duplicates in the input stay (and stay full): nothing can tell them apart.
  const std::vector<std::string> twice = {"base_model.model.h.0.q", "base_model.model.h.0.q"};
  EXPECT_EQ(display_names(twice), twice);
  // An empty name would become "" relative to nothing: shown in full.
  EXPECT_EQ(display_names({"", "x.q"}), (std::vector<std::string>{"", "x.q"}));
}

TEST(ModuleNames, NaturalOrderComparesDigitRunsAsNumbers) {
  EXPECT_TRUE(natural_less("h.2", "h.10"));
  EXPECT_FALSE(natural_less("h.10", "h.2"));
  EXPECT_TRUE(natural_less("blk.9.attn_q", "blk.10.attn_q"));
  EXPECT_TRUE(natural_less("layers.1.mlp", "layers.1.self_attn"));
  EXPECT_TRUE(natural_less("h.1", "h.1.attn"));  // a prefix first
  EXPECT_FALSE(natural_less("h.1", "h.1"));      // irreflexive
  // Runs longer than any integer type still compare by value; leading zeros tie on value
  // and the shorter run goes first, so the order stays strict.
  EXPECT_TRUE(natural_less("x.99", "x.123456789012345678901234567890"));
  EXPECT_TRUE(natural_less("x.7", "x.007"));
  EXPECT_TRUE(natural_less("x.007", "x.8"));
  const std::vector<std::string> shuffled = {"h.10.mlp", "h.2.attn", "h.1.mlp", "h.0.attn",
                                             "h.11.attn", "h.1.attn", "h.2.mlp", "h.0.mlp"};
  std::vector<std::string> sorted;
  for (std::size_t i : natural_order(shuffled)) sorted.push_back(shuffled[i]);
  EXPECT_EQ(sorted, (std::vector<std::string>{"h.0.attn", "h.0.mlp", "h.1.attn", "h.1.mlp",
                                              "h.2.attn", "h.2.mlp", "h.10.mlp", "h.11.attn"}));
  // Stable: equal names keep their order.
  EXPECT_EQ(natural_order({"b", "a", "b", "a"}), (std::vector<std::size_t>{1, 3, 0, 2}));
}

TEST(ModuleNames, LayerGroupKeepsBlocksApart) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"base_model.model.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k", "down_blocks.1"},
      {"base_model.model.up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k", "up_blocks.1"},
      {"base_model.model.mid_block.attentions.0.transformer_blocks.0.attn1.to_q", "mid_block"},
      {"base_model.model.encoder.block.3.layer.0.SelfAttention.q", "encoder.block.3"},
      {"base_model.model.decoder.block.3.layer.1.EncDecAttention.q", "decoder.block.3"},
      {"base_model.model.model.layers.17.self_attn.k_proj", "model.layers.17"},
      {"base_model.model.transformer.h.5.attn.c_attn", "transformer.h.5"},
      {"base_model.model.distilbert.transformer.layer.3.attention.q_lin", "distilbert.transformer.layer.3"},
      {"base_model.model.text_model.encoder.layers.4.self_attn.q_proj", "text_model.encoder.layers.4"},
      {"lora_unet_unet_down_blocks_0_attentions_1_transformer_blocks_0_attn1_to_k", "lora_unet_unet_down_blocks_0"},
      {"lora_unet_up_blocks_0_attentions_1_transformer_blocks_0_attn1_to_k", "lora_unet_up_blocks_0"},
      {"lora_unet_mid_block_attentions_0_proj_in", "lora_unet_mid_block"},
      {"lora_te1_text_model_encoder_layers_3_self_attn_q_proj", "lora_te1_text_model_encoder_layers_3"},
      {"lora_te2_text_model_encoder_layers_3_self_attn_q_proj", "lora_te2_text_model_encoder_layers_3"},
      {"blk.12.attn_q.weight", "blk.12"},
      {"encoder.0.fc", "encoder.0"},
      {"token_embd.weight", ""},
      {"base_model.model.classifier", ""},
  };
  for (const auto& [name, group] : cases) EXPECT_EQ(layer_group(name), group) << name;
}

// The names of one real adapter, as its reference file lists them.
std::vector<std::string> reference_names(const std::filesystem::path& folder) {
  const nlohmann::json j =
      nlohmann::json::parse(testing::read_text_file(folder / "reference_spectrum.json"));
  std::vector<std::string> names;
  for (const auto& m : j["modules"]) names.push_back(m["module"]);
  return names;
}

std::set<std::string> layer_groups(const std::vector<std::string>& names) {
  std::set<std::string> groups;
  for (const std::string& n : names) groups.insert(layer_group(n));
  return groups;
}

TEST(ModuleNames, RealAdaptersGetUniqueDisplayNamesCutAtSegments) {
  namespace fs = std::filesystem;
  int adapters = 0;
  for (const auto& e : fs::directory_iterator(testing::shared_path("adapters"))) {
    if (!fs::exists(e.path() / "reference_spectrum.json")) continue;
    ++adapters;
    const std::vector<std::string> names = reference_names(e.path());
    const std::vector<std::string> shown = display_names(names);
    ASSERT_EQ(shown.size(), names.size());
    EXPECT_EQ(std::set<std::string>(shown.begin(), shown.end()).size(), names.size()) << e.path();
    for (std::size_t i = 0; i < names.size(); ++i) {
      // A whole tail of the name: it starts right after a separator, never inside a segment.
      ASSERT_FALSE(shown[i].empty());
      ASSERT_LT(shown[i].size(), names[i].size()) << names[i];
      const char before = names[i][names[i].size() - shown[i].size() - 1];
      EXPECT_TRUE(names[i].ends_with(shown[i]) && (before == '.' || before == '_'))
          << names[i] << " -> " << shown[i];
      EXPECT_FALSE(shown[i][0] >= '0' && shown[i][0] <= '9') << shown[i];
      EXPECT_FALSE(module_type(names[i]).empty());
      // Every real adapter but the nested classifier has numbered layers.
      if (e.path().filename() != "distilbert-nestedcls-r8") {
        EXPECT_GE(layer_index(names[i]), 0) << names[i];
        EXPECT_FALSE(layer_group(names[i]).empty()) << names[i];
      }
    }
  }
  EXPECT_EQ(adapters, 14);
}

TEST(ModuleNames, RealAdaptersKeepDownMidUpAndEncoderDecoderApart) {
  const std::filesystem::path adapters = testing::shared_path("adapters");
  // SD 1.5 UNet: attention LoRA in down_blocks 0-2, the mid block and up_blocks 1-3.
  const std::set<std::string> sd = {"down_blocks.0", "down_blocks.1", "down_blocks.2", "mid_block",
                                    "up_blocks.1",   "up_blocks.2",   "up_blocks.3"};
  EXPECT_EQ(layer_groups(reference_names(adapters / "sd15-unet-peft-r4")), sd);
  std::set<std::string> kohya;
  for (const std::string& g : sd) {
    std::string k = "lora_unet_unet_" + g;
    std::replace(k.begin(), k.end(), '.', '_');
    kohya.insert(k);
  }
  EXPECT_EQ(layer_groups(reference_names(adapters / "sd15-unet-kohyalike-r4")), kohya);
  // Flan-T5 base: 12 encoder and 12 decoder blocks, 24 groups, not 12.
  const std::set<std::string> t5 = layer_groups(reference_names(adapters / "flant5base-medqa-r16"));
  EXPECT_EQ(t5.size(), 24u);
  EXPECT_TRUE(t5.contains("encoder.block.3") && t5.contains("decoder.block.3"));
  // GPT-2 and Qwen: one group per layer.
  EXPECT_EQ(layer_groups(reference_names(adapters / "gpt2-seqcls-r8")).size(), 12u);
  EXPECT_TRUE(layer_groups(reference_names(adapters / "qwen25-05b-r6")).contains("model.layers.23"));
}

}  // namespace
}  // namespace lorank
