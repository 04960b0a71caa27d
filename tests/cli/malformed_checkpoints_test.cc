// The malformed-checkpoint corpus (tests/data/malformed-checkpoints, made by
// tools/make_malformed_corpus.py): every hostile base — a missing or truncated shard, a
// lying index, a duplicate tensor, a truncated quantised block — gives exactly one line
// `lorank: error: <path>…<expected>`, exit 1, and nothing at -o. The adapter
// (tests/data/tiny-adapter) fits the healthy base, so each error is the checkpoint's.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "support/corpus_expectations.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace lorank {
namespace {

namespace fs = std::filesystem;
using testing::run_lorank;
using testing::TempDir;

const fs::path kData = fs::path(LORANK_SOURCE_DIR) / "tests" / "data";
const fs::path kCheckpointCorpus = kData / "malformed-checkpoints";
const fs::path kAdapter = kData / "tiny-adapter";

std::map<std::string, std::string> checkpoint_expectations() { return testing::corpus_expectations(kCheckpointCorpus); }

// Exit 1, nothing on stdout, one `lorank: error:` line naming the case and its expectation.
void expect_one_line_error(const testing::CommandOutput& r, const std::string& name,
                           const std::string& want) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("lorank: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(name), std::string::npos) << "the error must name the file: " << r.err;
  EXPECT_NE(r.err.find(want), std::string::npos) << "expected '" << want << "' in: " << r.err;
}

TEST(MalformedCheckpoints, EveryCaseIsListedWithItsError) {
  std::set<std::string> present, listed;
  for (const auto& e : fs::directory_iterator(kCheckpointCorpus)) {
    if (e.path().filename() != "EXPECTED.tsv") present.insert(e.path().filename().string());
  }
  for (const auto& [name, _] : checkpoint_expectations()) listed.insert(name);
  EXPECT_EQ(present, listed) << "tests/data/malformed-checkpoints and EXPECTED.tsv disagree";
  EXPECT_GE(present.size(), 15u);
}

// The healthy base the cases break: the missing shard's index with the shard put back.
TEST(MalformedCheckpoints, TheHealthyBaseMerges) {
  TempDir dir;
  fs::copy(kCheckpointCorpus / "sharded-missing-shard", dir / "base");
  fs::copy_file(kCheckpointCorpus / "sharded-total-size-lies" / "model-00002-of-00002.safetensors",
                dir / "base" / "model-00002-of-00002.safetensors");
  const auto r = run_lorank({"merge", (dir / "base").string(), kAdapter.string(), "-o",
                             (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("merged 1 tensor(s)"), std::string::npos) << r.out;
}

TEST(MalformedCheckpoints, MergeGivesTheOneLineErrorAndWritesNothing) {
  TempDir tmp;
  for (const auto& [name, want] : checkpoint_expectations()) {
    SCOPED_TRACE(name);
    const auto r = run_lorank({"merge", (kCheckpointCorpus / name).string(), kAdapter.string(), "-o",
                               (tmp / "out").string()});
    expect_one_line_error(r, name, want);
    EXPECT_TRUE(fs::is_empty(tmp.path())) << "merge left something for " << name;
  }
}

// extract reads the same stores on either side: each case as the base and as the fine-tune
// against the healthy base gives the same one line (the case's file named), exit 1, nothing.
TEST(MalformedCheckpoints, ExtractGivesTheOneLineErrorOnEitherSideAndWritesNothing) {
  TempDir tmp;
  fs::copy(kCheckpointCorpus / "sharded-missing-shard", tmp / "healthy");
  fs::copy_file(kCheckpointCorpus / "sharded-total-size-lies" / "model-00002-of-00002.safetensors",
                tmp / "healthy" / "model-00002-of-00002.safetensors");
  const std::string healthy = (tmp / "healthy").string();
  for (const auto& [name, want] : checkpoint_expectations()) {
    for (const bool as_base : {true, false}) {
      SCOPED_TRACE(name + (as_base ? " as the base" : " as the fine-tune"));
      const std::string hostile = (kCheckpointCorpus / name).string();
      const auto r = run_lorank({"extract", as_base ? hostile : healthy, as_base ? healthy : hostile,
                                 "-o", (tmp / "out").string(), "--rank", "1"});
      expect_one_line_error(r, name, want);
      EXPECT_FALSE(fs::exists(tmp / "out")) << "extract left something for " << name;
    }
  }
}

}  // namespace
}  // namespace lorank
