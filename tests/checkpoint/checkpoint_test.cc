// The checkpoint layer on the real base models of shared/models and on lying shards.
#include "lorank/checkpoint.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "lorank/safetensors.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using testing::shared_path;
using testing::TempDir;

std::vector<double> all_values(const Checkpoint& c, const CheckpointTensor& t) {
  std::vector<double> v(static_cast<std::size_t>(t.shape.numel()));
  const Status s = c.read_rows(t, 0, v);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return v;
}

TEST(Checkpoint, OpensTheF32ModelFileAndFolder) {
  for (const fs::path& p : {shared_path("models/stories260K/model.safetensors"),
                            shared_path("models/stories260K")}) {
    auto c = Checkpoint::open(p);
    ASSERT_TRUE(c.has_value()) << c.error().to_string();
    EXPECT_EQ(c->format(), CheckpointFormat::kSafetensors);
    EXPECT_EQ(c->tensors().size(), 47u);
    const CheckpointTensor* q = c->find("model.layers.3.self_attn.q_proj.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->shape, Shape({{64, 64}}));
    EXPECT_EQ(q->type_name, "F32");
    EXPECT_EQ(q->row_length(), 64u);
    EXPECT_EQ(q->row_count(), 64u);
    EXPECT_EQ(c->find("model.layers.1.mlp.down_proj.weight")->shape, Shape({{64, 172}}));
    EXPECT_EQ(c->tensor_bytes(), 1044992u - 8u - SafetensorsFile::open(c->files()[0])->header_size());
  }
}

// The sharded BF16 copy holds the F32 values rounded to nearest even: each value read
// from the shards is the F32 value narrowed once.
TEST(Checkpoint, ShardedModelMatchesTheSingleFileRounded) {
  auto single = Checkpoint::open(shared_path("models/stories260K"));
  ASSERT_TRUE(single.has_value()) << single.error().to_string();
  for (const fs::path& p : {shared_path("models/stories260K-sharded"),
                            shared_path("models/stories260K-sharded/model.safetensors.index.json")}) {
    auto sharded = Checkpoint::open(p);
    ASSERT_TRUE(sharded.has_value()) << sharded.error().to_string();
    EXPECT_EQ(sharded->format(), CheckpointFormat::kShardedSafetensors);
    ASSERT_EQ(sharded->files().size(), 3u);
    EXPECT_EQ(sharded->files()[0].filename(), "model-00001-of-00003.safetensors");
    EXPECT_EQ(sharded->tensors().size(), 47u);
    EXPECT_EQ(sharded->tensor_bytes(), 520064u);
    EXPECT_NE(sharded->index_metadata_json().find("520064"), std::string::npos);
    // Layer 1 is split across shards 0 and 1.
    EXPECT_EQ(sharded->find("model.layers.1.self_attn.o_proj.weight")->shard, 0u);
    EXPECT_EQ(sharded->find("model.layers.1.mlp.up_proj.weight")->shard, 1u);
    for (const CheckpointTensor& t : sharded->tensors()) {
      SCOPED_TRACE(t.name);
      EXPECT_EQ(t.type_name, "BF16");
      const std::vector<double> bf16 = all_values(*sharded, t);
      const std::vector<double> f32 = all_values(*single, *single->find(t.name));
      ASSERT_EQ(bf16.size(), f32.size());
      std::vector<std::byte> narrowed(f32.size() * 2);
      ASSERT_TRUE(from_double(f32, DType::kBF16, narrowed).ok());
      EXPECT_EQ(0, std::memcmp(narrowed.data(), t.data.data(), narrowed.size()));
    }
  }
}

TEST(Checkpoint, ReadRowsGivesTheSameValuesAsTheWholeTensor) {
  auto c = Checkpoint::open(shared_path("models/stories260K-sharded"));
  ASSERT_TRUE(c.has_value());
  const CheckpointTensor& t = *c->find("model.layers.2.mlp.gate_proj.weight");  // [172, 64]
  const std::vector<double> whole = all_values(*c, t);
  std::vector<double> rows(3 * 64);
  ASSERT_TRUE(c->read_rows(t, 100, rows).ok());
  EXPECT_TRUE(std::equal(rows.begin(), rows.end(), whole.begin() + 100 * 64));
  std::vector<double> past(2 * 64), ragged(65);
  EXPECT_EQ(c->read_rows(t, 171, past).message(),
            "tensor 'model.layers.2.mlp.gate_proj.weight': 128 values from row 171 are not whole "
            "rows of its shape [172, 64]");
  EXPECT_EQ(c->read_rows(t, 0, ragged).code(), StatusCode::kInvalidArgument);
}

TEST(Checkpoint, OpensGgufModelsAndRefusesAdapters) {
  auto tiny = Checkpoint::open(shared_path("models/llama2-tiny-random/llama-2-tiny-random.gguf"));
  ASSERT_TRUE(tiny.has_value()) << tiny.error().to_string();  // no general.type: a model
  EXPECT_EQ(tiny->format(), CheckpointFormat::kGguf);
  EXPECT_EQ(tiny->tensors().size(), 12u);
  EXPECT_EQ(tiny->find("token_embd.weight")->shape, Shape({{32000, 8}}));
  EXPECT_EQ(tiny->gguf_alignment(), 32u);
  EXPECT_FALSE(tiny->gguf_kvs().empty());
  auto quant = Checkpoint::open(shared_path("models/stories260K-quant/model.gguf"));
  ASSERT_TRUE(quant.has_value()) << quant.error().to_string();
  EXPECT_EQ(quant->find("blk.0.attn_q.weight")->type_name, "Q4_0");
  EXPECT_FALSE(quant->find("blk.0.attn_q.weight")->dtype.has_value());
  const fs::path adapter = shared_path("models/stories260K-lora-gguf/adapter.gguf");
  auto refused = Checkpoint::open(adapter);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kNotSupported);
  EXPECT_EQ(refused.error().message(),
            "gguf file '" + adapter.string() + "': general.type is \"adapter\", not a model");
}

// A copy of the sharded model in a temp folder, with `edit` applied to the index text.
fs::path sharded_copy(const TempDir& dir, const std::string& from, const std::string& to) {
  const fs::path src = shared_path("models/stories260K-sharded");
  for (const auto& e : fs::directory_iterator(src)) fs::copy_file(e.path(), dir / e.path().filename());
  const fs::path index = dir / "model.safetensors.index.json";
  std::ifstream in(index);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (!from.empty()) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  }
  fs::permissions(index, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(index, std::ios::trunc) << text;
  return index;
}

struct LyingIndex {
  const char* label;
  std::string from, to;
  StatusCode code;
  std::string message;  // after "checkpoint index '<path>': "
};

TEST(Checkpoint, EveryLyingIndexIsOneClearError) {
  const std::string l0 = "\"model.layers.0.mlp.down_proj.weight\": \"model-00001-of-00003.safetensors\"";
  const std::vector<LyingIndex> cases = {
      {"missing shard", "model-00003-of-00003.safetensors", "model-00004-of-00004.safetensors",
       StatusCode::kNotFound, "shard 'model-00004-of-00004.safetensors' is missing"},
      {"wrong shard", l0, "\"model.layers.0.mlp.down_proj.weight\": \"model-00002-of-00003.safetensors\"",
       StatusCode::kCorruption,
       "tensor 'model.layers.0.mlp.down_proj.weight' is listed in shard "
       "'model-00002-of-00003.safetensors' but is in 'model-00001-of-00003.safetensors'"},
      {"listed twice", l0, l0 + ",\n    " + l0, StatusCode::kCorruption,
       "tensor 'model.layers.0.mlp.down_proj.weight' is listed twice in weight_map"},
      {"not listed", l0 + ",", "", StatusCode::kCorruption,
       "tensor 'model.layers.0.mlp.down_proj.weight' in shard "
       "'model-00001-of-00003.safetensors' is not in the weight_map"},
      {"phantom tensor", l0, l0 + ",\n    \"ghost.weight\": \"model-00001-of-00003.safetensors\"",
       StatusCode::kCorruption,
       "tensor 'ghost.weight' is listed in shard 'model-00001-of-00003.safetensors', which does "
       "not hold it"},
      {"total_size", "520064", "520066", StatusCode::kCorruption,
       "metadata.total_size is 520066 but the shards' tensors hold 520064 bytes"},
      {"escape", l0, "\"model.layers.0.mlp.down_proj.weight\": \"../stories260K/model.safetensors\"",
       StatusCode::kCorruption,
       "weight_map['model.layers.0.mlp.down_proj.weight'] names '../stories260K/model.safetensors', "
       "which is not a file beside the index"},
      {"not a string", l0, "\"model.layers.0.mlp.down_proj.weight\": 3", StatusCode::kCorruption,
       "weight_map['model.layers.0.mlp.down_proj.weight'] is 3, not a file name"},
      {"no weight_map", "weight_map", "weights", StatusCode::kCorruption, "no \"weight_map\""},
      {"bad json", "{", "[", StatusCode::kCorruption, "not valid JSON (3871 bytes)"},
  };
  for (const LyingIndex& c : cases) {
    SCOPED_TRACE(c.label);
    TempDir dir;
    const fs::path index = sharded_copy(dir, c.from, c.to);
    auto opened = Checkpoint::open(dir.path());
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error().code(), c.code);
    EXPECT_EQ(opened.error().message(), "checkpoint index '" + index.string() + "': " + c.message);
  }
}

TEST(Checkpoint, ATensorInTwoShardsAndATruncatedShardAreRefused) {
  {
    TempDir dir;
    const std::string l0 = "\"model.norm.weight\": \"model-00003-of-00003.safetensors\"";
    sharded_copy(dir, l0, l0 + ",\n    \"extra.weight\": \"extra.safetensors\"");
    const std::vector<float> values(64, 1.0f);
    const auto bytes = std::as_bytes(std::span<const float>(values));
    const std::vector<TensorView> extra = {{"extra.weight", DType::kF32, Shape{{64}}, bytes},
                                           {"model.norm.weight", DType::kF32, Shape{{64}}, bytes}};
    ASSERT_TRUE(write_safetensors(dir / "extra.safetensors", extra, {}).ok());
    auto twice = Checkpoint::open(dir.path());
    ASSERT_FALSE(twice.has_value());
    EXPECT_EQ(twice.error().message(),
              "checkpoint '" + dir.path().string() +
                  "': tensor 'model.norm.weight' is in both 'extra.safetensors' and "
                  "'model-00003-of-00003.safetensors'");
  }
  TempDir dir;
  sharded_copy(dir, "", "");
  // Shard 3 truncated: the safetensors reader names it.
  fs::resize_file(dir / "model-00003-of-00003.safetensors", 1000);
  auto cut = Checkpoint::open(dir.path());
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().code(), StatusCode::kCorruption);
  EXPECT_NE(cut.error().message().find("model-00003-of-00003.safetensors"), std::string::npos)
      << cut.error().message();
}

TEST(Checkpoint, FoldersWithoutACheckpointSayWhatWasLookedFor) {
  TempDir dir;
  auto none = Checkpoint::open(dir.path());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(none.error().message(),
            "checkpoint folder '" + dir.path().string() +
                "' holds none of model.safetensors.index.json, model.safetensors, "
                "pytorch_model.bin or a .gguf file");
  auto missing = Checkpoint::open(dir / "nothing.safetensors");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lorank
