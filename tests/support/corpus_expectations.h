// A malformed-input corpus's EXPECTED.tsv: case name → the part of its one-line error a
// user must see ('#' lines are comments). Shared by the adapter and checkpoint corpora.
#ifndef LORANK_TESTS_SUPPORT_CORPUS_EXPECTATIONS_H_
#define LORANK_TESTS_SUPPORT_CORPUS_EXPECTATIONS_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace lorank::testing {

inline std::map<std::string, std::string> corpus_expectations(const std::filesystem::path& corpus) {
  std::map<std::string, std::string> out;
  std::ifstream in(corpus / "EXPECTED.tsv");
  EXPECT_TRUE(in) << "missing " << (corpus / "EXPECTED.tsv");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t tab = line.find('\t');
    EXPECT_NE(tab, std::string::npos) << "EXPECTED.tsv line without a tab: " << line;
    if (tab != std::string::npos) out[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return out;
}

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_CORPUS_EXPECTATIONS_H_
