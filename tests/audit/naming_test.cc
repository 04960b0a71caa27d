// short_names, layer_index and module_type on names from every real adapter and kohya/GGUF.
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

TEST(ModuleNames, ShortNamesDropPrefixes) {
  EXPECT_EQ(short_names({"base_model.model.transformer.h.0.attn.c_attn",
                         "base_model.model.transformer.h.1.attn.c_attn"}),
            (std::vector<std::string>{"h.0.attn.c_attn", "h.1.attn.c_attn"}));
  // "model." is short, and "model.layers." would leave a bare number: kept.
  EXPECT_EQ(short_names({"base_model.model.model.layers.0.self_attn.q_proj",
                         "base_model.model.model.layers.1.self_attn.q_proj"}),
            (std::vector<std::string>{"model.layers.0.self_attn.q_proj",
                                      "model.layers.1.self_attn.q_proj"}));
  EXPECT_EQ(short_names({"lora_unet_unet_down_blocks_0_attn1_to_k",
                         "lora_unet_unet_up_blocks_0_attn1_to_k"}),
            (std::vector<std::string>{"down_blocks_0_attn1_to_k", "up_blocks_0_attn1_to_k"}));
  // One name is a prefix of another: nothing common to cut at a separator.
  EXPECT_EQ(
      short_names({"base_model.model.classifier", "base_model.model.classifier.modules_to_save"}),
      (std::vector<std::string>{"classifier", "classifier.modules_to_save"}));
  EXPECT_EQ(short_names({"base_model.model.x.q"}), (std::vector<std::string>{"x.q"}));
  EXPECT_TRUE(short_names({}).empty());
}

TEST(ModuleNames, ShortNamesNeverMergeTwoModules) {
  // Stripping base_model.model. from one name would make it equal to the other.
  const std::vector<std::string> names = {"base_model.model.a.q", "a.q"};
  EXPECT_EQ(short_names(names), names);
}

TEST(ModuleNames, RealAdaptersGetUniqueShortNamesAndLayers) {
  namespace fs = std::filesystem;
  int adapters = 0;
  for (const auto& e : fs::directory_iterator(testing::shared_path("adapters"))) {
    const fs::path ref = e.path() / "reference_spectrum.json";
    if (!fs::exists(ref)) continue;
    ++adapters;
    const nlohmann::json j = nlohmann::json::parse(testing::read_text_file(ref));
    std::vector<std::string> names;
    for (const auto& m : j["modules"]) names.push_back(m["module"]);
    const std::vector<std::string> shorts = short_names(names);
    ASSERT_EQ(shorts.size(), names.size());
    EXPECT_EQ(std::set<std::string>(shorts.begin(), shorts.end()).size(), names.size()) << e.path();
    for (std::size_t i = 0; i < names.size(); ++i) {
      EXPECT_FALSE(shorts[i].empty());
      EXPECT_TRUE(names[i].ends_with(shorts[i])) << names[i] << " -> " << shorts[i];
      EXPECT_EQ(shorts[i].find("base_model.model."), std::string::npos);
      EXPECT_FALSE(module_type(names[i]).empty());
      // Every real adapter but the nested classifier has numbered layers.
      if (e.path().filename() != "distilbert-nestedcls-r8") {
        EXPECT_GE(layer_index(names[i]), 0) << names[i];
      }
    }
  }
  EXPECT_EQ(adapters, 14);
}

}  // namespace
}  // namespace lorank
