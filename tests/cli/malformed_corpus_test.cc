// The malformed-input corpus (tests/data/malformed, made by tools/make_malformed_corpus.py):
// every hostile file or folder gives exactly one line `lorank: error: <path>…<expected>`,
// exit 1 and no output, from `audit` and from `resize` (which writes nothing). Every bug
// found in a reader becomes one more case here.
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

const fs::path kCorpus = fs::path(LORANK_SOURCE_DIR) / "tests" / "data" / "malformed";

std::map<std::string, std::string> expectations() { return testing::corpus_expectations(kCorpus); }

TEST(MalformedCorpus, EveryCaseIsListedWithItsError) {
  const auto expected = expectations();
  std::set<std::string> present;
  for (const auto& e : fs::directory_iterator(kCorpus)) {
    const std::string name = e.path().filename().string();
    if (name != "EXPECTED.tsv") present.insert(name);
  }
  std::set<std::string> listed;
  for (const auto& [name, _] : expected) listed.insert(name);
  EXPECT_EQ(present, listed) << "tests/data/malformed and EXPECTED.tsv disagree";
  EXPECT_GE(present.size(), 30u);
}

TEST(MalformedCorpus, AuditAndResizeGiveTheOneLineError) {
  lorank::testing::TempDir tmp;
  for (const auto& [name, want] : expectations()) {
    SCOPED_TRACE(name);
    const std::string path = (kCorpus / name).string();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"audit", path},
          std::vector<std::string>{"resize", path, "-o", (tmp / "out").string(), "--rank", "1"}}) {
      const auto r = lorank::testing::run_lorank(args);
      EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.err;
      EXPECT_EQ(r.out, "") << args[0];
      EXPECT_EQ(r.err.rfind("lorank: error: ", 0), 0u) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_NE(r.err.find(name), std::string::npos) << "the error must name the file: " << r.err;
      EXPECT_NE(r.err.find(want), std::string::npos) << "expected '" << want << "' in: " << r.err;
    }
    EXPECT_TRUE(fs::is_empty(tmp.path())) << "resize wrote something for " << name;
  }
}

}  // namespace
}  // namespace lorank
