// `lorank extract` end to end: a merge round trip on the real stories260K LoRA, the tiny
// GPT-2's two checkpoints (Conv1D layout) and planted spectra against a dense NumPy oracle
// (tests/extract/extract_oracle.py), and hostile pairs with their exact messages.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/run_command.h"
#include "support/shared_data.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::run_command;
using testing::run_lorank;
using testing::shared_path;
using testing::TempDir;

const std::string kOracle = std::string(LORANK_SOURCE_DIR) + "/tests/extract/extract_oracle.py";

json run_json(const std::vector<std::string>& args) {
  const auto r = run_lorank(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out, nullptr, false);
}

// Writes `text` to `path` (the oracle reads the report from a file).
void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// Extracts with `flags` as F64 and runs the dense oracle on the result; returns its stdout.
// `oracle_base` (default: `base`) is what the oracle reads the base from (it reads
// safetensors only).
std::string extract_and_check(const TempDir& dir, const fs::path& base, const fs::path& tuned,
                              const std::string& tag, const std::vector<std::string>& flags,
                              const std::string& rule, const std::string& tolerance = "1e-3",
                              const fs::path& oracle_base = {}) {
  const fs::path out = dir.path() / ("out-" + tag);
  std::vector<std::string> args = {"extract", base.string(), tuned.string(), "-o", out.string(),
                                   "--dtype", "F64", "--json", "--tolerance", tolerance};
  args.insert(args.end(), flags.begin(), flags.end());
  const auto r = run_lorank(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const fs::path report = dir.path() / ("report-" + tag + ".json");
  write_text(report, r.out);
  const auto o = run_command({"/usr/bin/python3", kOracle, "check",
                              (oracle_base.empty() ? base : oracle_base).string(), tuned.string(),
                              out.string(), report.string(), tolerance, rule});
  EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("ok: "), std::string::npos) << o.out;
  return o.out;
}

// By name without PEFT's "base_model.model." (mlx_lm names the module path itself).
std::map<std::string, json> by_name(const json& list, const std::string& key) {
  std::map<std::string, json> out;
  for (const json& m : list) {
    std::string name = m[key];
    if (name.rfind("base_model.model.", 0) == 0) name = name.substr(17);
    out[name] = m;
  }
  return out;
}

// `a` and `b` hold the same weights up to the F32 rounding of W + B·A: extract finds
// nothing, or differences of relative size ≤ 1e-6.
void expect_same_model(const TempDir& dir, const fs::path& a, const fs::path& b) {
  const auto again = run_lorank({"extract", a.string(), b.string(), "-o", (dir.path() / "again").string(),
                                 "--rank", "1", "--json", "--embeddings"});
  if (again.exit_code == 0) {
    const json report = json::parse(again.out);  // named: a temporary would die before the loop
    for (const json& x : report["matrices"]) {
      EXPECT_LE(x["relative_change"].get<double>(), 1e-6) << x["tensor"];
    }
    fs::remove_all(dir.path() / "again");
  } else {
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("no 2-D weight differs"), std::string::npos) << again.err;
  }
}

// merge(real r = 8 LoRA into stories260K, F32) then extract: each module's spectrum comes
// back within the F32 rounding of the merged weights. ΔW' = round32(W + ΔW) − W = ΔW + E
// with |E_ij| ≤ 2⁻²⁴·|W + ΔW|_ij, so ‖E‖_F ≤ u·(‖W‖_F + ‖ΔW‖_F), and by Weyl every σ_i
// moves by at most ‖E‖₂ ≤ ‖E‖_F; ΔW has rank 8, so the rank-8 error is at most ‖E‖_F too.
void expect_round_trip(const fs::path& base, const fs::path& lora, const std::string& merged_name,
                       const std::vector<std::string>& format, std::size_t identical) {
  TempDir dir;
  const fs::path merged = dir.path() / merged_name;
  const auto m = run_lorank({"merge", base.string(), lora.string(), "-o", merged.string(), "--dtype", "F32"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const json original = run_json({"audit", lora.string(), "--json"});
  const auto want = by_name(original["modules"], "name");
  ASSERT_EQ(want.size(), 35u);
  const double u = std::ldexp(1.0, -24);
  for (const std::vector<std::string>& rule :
       {std::vector<std::string>{"--rank", "8"}, {"--threshold", "1e-4"}, {"--energy", "0.999999"}}) {
    SCOPED_TRACE(rule[0]);
    const bool gguf = !format.empty() && format.back() == "gguf";
    const fs::path out = dir.path() / ("extracted" + rule[0] + (gguf ? ".gguf" : ""));
    std::vector<std::string> args = {"extract", base.string(), merged.string(), "-o", out.string(),
                                     "--tolerance", "1e-8", "--json"};
    args.insert(args.end(), rule.begin(), rule.end());
    args.insert(args.end(), format.begin(), format.end());
    const json report = run_json(args);
    ASSERT_EQ(report["matrices"].size(), 35u);
    EXPECT_EQ(report["summary"]["identical"], identical);  // the norms and the embedding
    for (const auto& [module, x] : by_name(report["matrices"], "module")) {
      SCOPED_TRACE(module);
      ASSERT_TRUE(want.count(module));
      const json& w = want.at(module)["singular_values"];
      ASSERT_EQ(x["rank"], 8);
      const double floor = u * (x["weight_norm"].get<double>() + x["delta_norm"].get<double>());
      for (std::size_t i = 0; i < 8; ++i) {
        const double s = w[i], got = x["singular_values"][i];
        EXPECT_NEAR(got, s, floor + 1e-8 * s) << "sigma_" << i + 1;
      }
      EXPECT_LE(x["error"].get<double>(), floor);  // the rounding floor
      EXPECT_GT(x["error"].get<double>(), 0.0);
      EXPECT_TRUE(x["error_direct"]);
      EXPECT_LE(x["optimum_lower"].get<double>(), x["error"].get<double>());
    }
    // The audit of the extracted adapter recommends the original's ranks.
    const json audit = run_json({"audit", out.string(), "--json"});
    const auto got = by_name(audit["modules"], "name");
    ASSERT_EQ(got.size(), want.size());
    for (const auto& [name, module] : want) {
      ASSERT_TRUE(got.count(name)) << name;
      EXPECT_EQ(got.at(name)["recommended_rank"], module["recommended_rank"]) << name;
    }
  }
}

TEST(Extract, MergeRoundTripGivesBackTheAdaptersSpectrumAndRanks) {
  expect_round_trip(shared_path("models/stories260K/model.safetensors"),
                    shared_path("models/stories260K-lora-r8"), "merged.safetensors", {}, 12);
}

// The same through GGUF on both sides: the quantised stories260K (W dequantised as ggml
// does), its GGUF LoRA merged in F32, extracted as a llama.cpp adapter (tensor names kept).
TEST(Extract, GgufMergeRoundTripWritesALlamaCppAdapter) {
  expect_round_trip(shared_path("models/stories260K-quant/model.gguf"),
                    shared_path("models/stories260K-lora-gguf/adapter.gguf"), "merged.gguf",
                    {"--format", "gguf"}, 12);
}

// mlx_lm output: lora_a = Aᵀ, lora_b = Bᵀ under the module paths, and a config that makes
// mlx_lm build those layers (num_layers = the model's 5 blocks, the 7 keys, scale 1).
TEST(Extract, MlxMergeRoundTripWritesAnMlxLmAdapter) {
  expect_round_trip(shared_path("models/stories260K/model.safetensors"),
                    shared_path("models/stories260K-lora-r8"), "merged.safetensors", {"--format", "mlx"}, 12);
  TempDir dir;
  const fs::path out = dir.path() / "mlx";
  ASSERT_EQ(run_lorank({"extract", shared_path("models/stories260K/model.safetensors").string(),
                        shared_path("models/stories260K/model.safetensors").string(), "-o", out.string(),
                        "--rank", "2", "--format", "mlx"}).exit_code, 1);  // nothing differs
  const fs::path merged = dir.path() / "merged.safetensors";
  ASSERT_EQ(run_lorank({"merge", shared_path("models/stories260K/model.safetensors").string(),
                        shared_path("models/stories260K-lora-r8").string(), "-o", merged.string()}).exit_code, 0);
  ASSERT_EQ(run_lorank({"extract", shared_path("models/stories260K/model.safetensors").string(),
                        merged.string(), "-o", out.string(), "--rank", "3", "--format", "mlx",
                        "--exclude", "mlp"}).exit_code, 0);
  const json config = json::parse(testing::read_text_file(out / "adapter_config.json"));
  EXPECT_EQ(config["fine_tune_type"], "lora");
  EXPECT_EQ(config["num_layers"], 5);
  EXPECT_EQ(config["lora_parameters"]["rank"], 3);
  EXPECT_EQ(config["lora_parameters"]["scale"], 1.0);
  EXPECT_EQ(config["lora_parameters"]["keys"],
            json::parse(R"(["self_attn.k_proj","self_attn.o_proj","self_attn.q_proj","self_attn.v_proj"])"));
  // lorank merge reads the mlx adapter back as the same ΔW (not ΔWᵀ: q_proj and o_proj are
  // square, so only the values tell): merging it gives the first merge back.
  const fs::path full = dir.path() / "mlx8";
  ASSERT_EQ(run_lorank({"extract", shared_path("models/stories260K/model.safetensors").string(),
                        merged.string(), "-o", full.string(), "--rank", "8", "--format", "mlx",
                        "--dtype", "F64"}).exit_code, 0);
  const fs::path merged2 = dir.path() / "merged2.safetensors";
  ASSERT_EQ(run_lorank({"merge", shared_path("models/stories260K/model.safetensors").string(),
                        full.string(), "-o", merged2.string()}).exit_code, 0);
  expect_same_model(dir, merged, merged2);
  // GPT-2's h.N blocks are not mlx_lm's layers.N: refused, nothing written.
  const auto r = run_lorank({"extract", shared_path("models/tinygpt2-steps/step1.safetensors").string(),
                             shared_path("models/tinygpt2-steps/step200.safetensors").string(), "-o",
                             (dir.path() / "gpt2").string(), "--rank", "2", "--format", "mlx"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "lorank: error: --format mlx: tensor 'transformer.h.0.attn.c_attn.weight' is not in a "
                   "'layers.N.' block (mlx_lm adds LoRA layers per transformer block); use --include or "
                   "--format peft\n");
  EXPECT_FALSE(fs::exists(dir.path() / "gpt2"));
}

// GPT-2 Conv1D ([in, out] storage): ΔW extracted as stored, applied transposed through
// fan_in_fan_out; the oracle checks σ, Eckart–Young optimality and the rule on every matrix.
TEST(Extract, TinyGpt2StepsMatchTheDenseOracle) {
  TempDir dir;
  const fs::path step1 = shared_path("models/tinygpt2-steps/step1.safetensors");
  const fs::path step200 = shared_path("models/tinygpt2-steps/step200.safetensors");
  extract_and_check(dir, step1, step200, "rank4", {"--rank", "4"}, "fixed:4");
  extract_and_check(dir, step1, step200, "energy", {"--energy", "0.9"}, "energy:0.9");
  extract_and_check(dir, step1, step200, "threshold", {"--threshold", "0.1"}, "threshold:0.1");
  // Embeddings (wte, wpe: ΔW = (B·A)ᵀ) with a cap, and the 1-D tensors kept whole.
  const std::string out = extract_and_check(dir, step1, step200, "embeddings",
                                            {"--energy", "0.99", "--max-rank", "6", "--embeddings",
                                             "--keep-full"}, "");
  EXPECT_NE(out.find("transformer.wte.weight"), std::string::npos) << out;
  const json config = json::parse(testing::read_text_file(dir.path() / "out-embeddings" / "adapter_config.json"));
  EXPECT_TRUE(config["fan_in_fan_out"]);
  const json report = json::parse(testing::read_text_file(dir.path() / "report-embeddings.json"));
  std::size_t kept = 0;
  for (const json& m : report["matrices"]) {
    EXPECT_LE(m["rank"].get<int>(), 6);
    const std::string name = m["tensor"];
    EXPECT_EQ(m["transposed"].get<bool>(), name.find(".c_") != std::string::npos || m["embedding"].get<bool>()) << name;
  }
  for (const json& d : report["not_extracted"]) kept += d["kept"].get<bool>() ? 1 : 0;
  EXPECT_EQ(kept, 18u);  // biases and layer norms
  // lorank merge of the full-rank extraction into step1 gives step200 back (to F32 rounding
  // of the F64 factors' product): the orientation is the one merge reads.
  const fs::path full = dir.path() / "full";
  ASSERT_EQ(run_lorank({"extract", step1.string(), step200.string(), "-o", full.string(), "--rank", "64",
                        "--dtype", "F64", "--embeddings", "--keep-full"}).exit_code, 0);
  const fs::path merged = dir.path() / "merged.safetensors";
  const auto m = run_lorank({"merge", step1.string(), full.string(), "-o", merged.string()});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  expect_same_model(dir, step200, merged);  // measured: bit for bit
}

// --html: one self-contained page beside the adapter, never over an input, replaced only
// with --overwrite.
TEST(Extract, HtmlReportIsWrittenWithTheAdapter) {
  TempDir dir;
  const std::string step1 = shared_path("models/tinygpt2-steps/step1.safetensors").string();
  const std::string step200 = shared_path("models/tinygpt2-steps/step200.safetensors").string();
  const fs::path html = dir.path() / "report.html";
  auto run = [&](const std::string& out, const std::string& page, bool overwrite) {
    std::vector<std::string> args = {"extract", step1, step200, "-o", out, "--energy", "0.9", "--html", page};
    if (overwrite) args.push_back("--overwrite");
    return run_lorank(args);
  };
  ASSERT_EQ(run((dir.path() / "a").string(), html.string(), false).exit_code, 0);
  const std::string page = testing::read_text_file(html);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("transformer.h.1.mlp.c_proj.weight"), std::string::npos);
  EXPECT_NE(page.find("Intrinsic rank: under energy:0.9"), std::string::npos);
  EXPECT_EQ(page.find("nan"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  const auto again = run((dir.path() / "b").string(), html.string(), false);  // exists
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_FALSE(fs::exists(dir.path() / "b"));
  EXPECT_EQ(run((dir.path() / "a").string(), html.string(), true).exit_code, 0);
  const auto input = run((dir.path() / "c").string(), step200, false);
  EXPECT_EQ(input.exit_code, 2);
  EXPECT_EQ(input.err, "lorank: error: refusing to write over the input '" + step200 + "'\n");
  EXPECT_FALSE(fs::exists(dir.path() / "c"));
}

// config.json decides GPT-2's Conv1D layout; one that cannot be read (a FIFO, which must
// not block, or not JSON) is ignored with a warning, and the layout is then the stored one.
TEST(Extract, AnUnreadableModelConfigIsIgnoredWithAWarning) {
  TempDir dir;
  for (const std::string name : {"step1.safetensors", "step200.safetensors"}) {
    fs::copy_file(shared_path("models/tinygpt2-steps/" + name), dir.path() / name);
  }
  const fs::path config = dir.path() / "config.json";
  for (const bool fifo : {true, false}) {
    SCOPED_TRACE(fifo ? "fifo" : "not json");
    fs::remove(config);
    if (fifo) {
      ASSERT_EQ(::mkfifo(config.c_str(), 0600), 0);
    } else {
      write_text(config, "{\"model_type\": ");
    }
    const fs::path out = dir.path() / (fifo ? "out-fifo" : "out-text");
    const auto r = run_lorank({"extract", (dir.path() / "step1.safetensors").string(),
                               (dir.path() / "step200.safetensors").string(), "-o", out.string(),
                               "--rank", "2", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "lorank: warning: '" + config.string() + "' is not a readable JSON object: ignored "
                     "(GPT-2 Conv1D layers are recognised by its model_type)\n");
    const json report = json::parse(r.out);  // named: a temporary would die before the loop
    for (const json& m : report["matrices"]) EXPECT_FALSE(m["transposed"]);
  }
}

// --include / --exclude are regex searches; what they drop is listed as excluded with ‖Δ‖.
TEST(Extract, IncludeAndExcludeSelectTensorsByRegexSearch) {
  TempDir dir;
  const json report = run_json({"extract", shared_path("models/tinygpt2-steps/step1.safetensors").string(),
                                shared_path("models/tinygpt2-steps/step200.safetensors").string(), "-o",
                                (dir.path() / "out").string(), "--rank", "2", "--json", "--include",
                                R"(h\.0\.)", "--exclude", "c_proj"});
  std::vector<std::string> extracted, excluded;
  for (const json& m : report["matrices"]) extracted.push_back(m["tensor"]);
  for (const json& d : report["not_extracted"]) {
    if (d["reason"] == "excluded") excluded.push_back(d["name"]);
    EXPECT_GT(d["delta_norm"].get<double>(), 0.0);
  }
  EXPECT_EQ(extracted, (std::vector<std::string>{"transformer.h.0.attn.c_attn.weight",
                                                 "transformer.h.0.mlp.c_fc.weight"}));
  EXPECT_EQ(excluded, (std::vector<std::string>{
                          "transformer.h.0.attn.c_proj.weight", "transformer.h.0.mlp.c_proj.weight",
                          "transformer.h.1.attn.c_attn.weight", "transformer.h.1.attn.c_proj.weight",
                          "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.weight",
                          "transformer.wpe.weight", "transformer.wte.weight"}));  // not included either
}

// Mixed stores: a sharded BF16 base against the F32 model it was rounded from. ΔW is the
// BF16 rounding (full rank, a flat spectrum: the slow case for Krylov).
TEST(Extract, ShardedBf16BaseAgainstF32MatchesTheDenseOracle) {
  TempDir dir;
  extract_and_check(dir, shared_path("models/stories260K-sharded"),
                    shared_path("models/stories260K/model.safetensors"), "sharded", {"--rank", "4"},
                    "fixed:4");
}

// A PyTorch .bin base (the 2-D tensors of step1, by the torch fixture's writer) against the
// safetensors fine-tune: the same oracle numbers; the 1-D tensors only the fine-tune has
// are warnings.
TEST(Extract, PytorchBinBaseMatchesTheDenseOracle) {
  TempDir dir;
  const fs::path step1 = shared_path("models/tinygpt2-steps/step1.safetensors");
  const fs::path bin = dir.path() / "step1.bin";
  const auto w = run_command({"/usr/bin/python3", kOracle, "torch-bin", step1.string(), bin.string()});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  extract_and_check(dir, bin, shared_path("models/tinygpt2-steps/step200.safetensors"), "bin",
                    {"--threshold", "0.1"}, "threshold:0.1", "1e-3", step1);
}

// Planted spectra where a svd_lowrank(q = k + 10, niter = 2)-style method is far off.
TEST(Extract, PlantedSpectraAreCertifiedWhereRandomizedSvdIsNot) {
  TempDir dir;
  for (const std::string kind : {"powerlaw", "lowrank"}) {
    SCOPED_TRACE(kind);
    const fs::path pair = dir.path() / kind;
    const auto p = run_command({"/usr/bin/python3", kOracle, "planted", pair.string(), kind, "1024", "768", "3"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    // The peer's error at k = 32 exceeds lorank's tolerance tenfold.
    std::istringstream lines(p.out);
    std::string word, name;
    double peer = 0.0;
    while (lines >> word >> name >> peer) EXPECT_GT(peer, 1e-2) << name;
    const fs::path base = pair / "base.safetensors", tuned = pair / "tuned.safetensors";
    extract_and_check(dir, base, tuned, kind + "-rank", {"--rank", "32"}, "fixed:32");
    extract_and_check(dir, base, tuned, kind + "-energy", {"--energy", "0.5"}, "energy:0.5");
    extract_and_check(dir, base, tuned, kind + "-threshold", {"--threshold", "0.2"}, "threshold:0.2");
    extract_and_check(dir, base, tuned, kind + "-tight", {"--rank", "16"}, "fixed:16", "1e-6");
  }
}

// Hostile pairs: one line each, the documented exit code, nothing written.
TEST(Extract, HostilePairsFailWithOneLineAndWriteNothing) {
  TempDir dir;
  const auto h = run_command({"/usr/bin/python3", kOracle, "hostile", dir.path().string()});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  const std::string base = (dir.path() / "base.safetensors").string();
  const fs::path out = dir.path() / "out";
  auto file = [&](const std::string& n) { return (dir.path() / (n + ".safetensors")).string(); };
  struct Case {
    std::string tuned, out;
    std::vector<std::string> extra;
    int code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {file("shape"), out.string(), {}, 1,
       "lorank: error: tensor 'a.weight': the base '" + base + "' has shape [4, 3], the fine-tune '" +
           file("shape") + "' has [3, 4]\n"},
      {file("nan"), out.string(), {}, 1,
       "lorank: error: tensor 'a.weight' of '" + file("nan") + "' holds NaN or Inf (row 2)\n"},
      {file("same"), out.string(), {}, 1,
       "lorank: error: '" + base + "' and '" + file("same") +
           "': no 2-D weight differs (identical: 2, not extracted: 0), nothing to extract\n"},
      {file("missing"), base, {}, 2, "lorank: error: refusing to write over the input '" + base + "'\n"},
      {file("missing"), file("missing"), {}, 2,
       "lorank: error: refusing to write over the input '" + file("missing") + "'\n"},
      {file("missing"), out.string(), {"--sv-fro", "0.9"}, 2,
       "lorank: error: extract chooses ranks by --rank, --energy or --threshold, not kohya-fro:0.9\n"},
      {file("missing"), out.string(), {"--include", "("}, 2,
       "lorank: error: --include '(' is not a valid regular expression\n"},
      {file("missing"), out.string(), {"--tolerance", "0"}, 2,
       "lorank: error: --tolerance must be in (0, 0.5), got 0\n"},
      {file("missing"), out.string(), {"--format", "gguf"}, 2,
       "lorank: error: --format gguf: neither '" + base + "' nor '" + file("missing") +
           "' is a GGUF model with a general.architecture (llama.cpp matches an adapter by it and "
           "by GGUF tensor names)\n"},
      {file("missing"), out.string(), {"--exclude", std::string(1025, 'x')}, 2,
       "lorank: error: --exclude is 1025 characters long: at most 1024\n"},
      {file("missing"), out.string(), {"--format", "kohya"}, 2,
       "lorank: error: --format must be peft, gguf or mlx, got 'kohya'\n"},
      {file("missing"), out.string(), {"--format", "mlx", "--keep-full"}, 2,
       "lorank: error: --format mlx: its adapters hold linear modules only (no --embeddings or "
       "--keep-full)\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    std::vector<std::string> args = {"extract", base, c.tuned, "-o", c.out};
    if (c.extra.empty() || c.extra[0] != "--sv-fro") args.insert(args.end(), {"--rank", "2"});
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    const auto before = fs::file_size(base);
    const auto r = run_lorank(args);
    EXPECT_EQ(r.exit_code, c.code);
    EXPECT_EQ(r.err, c.message);
    EXPECT_FALSE(fs::exists(out));
    EXPECT_EQ(fs::file_size(base), before);
  }
  // A tensor only in the base is a warning: the rest is extracted.
  const auto r = run_lorank({"extract", base, file("missing"), "-o", out.string(), "--rank", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "lorank: warning: tensor 'b.weight' is in the base '" + base +
                       "' but not in the fine-tune '" + file("missing") + "': skipped\n");
  EXPECT_TRUE(fs::exists(out / "adapter_model.safetensors"));
}

}  // namespace
}  // namespace lorank
