// End-to-end runs of `lorank demo` and the CLI's conventions (exit codes, streams).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/run_command.h"

namespace lorank {
namespace {

using lorank::testing::run_lorank;

TEST(DemoCli, DefaultRunPrintsTheExplainersRows) {
  const auto r = run_lorank({"demo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  allocated r  |  final rel err  | top-8 singular values of trained B @ A\n"
                       "  --------------------------------------------------------------------------\n"
                       "            2  |         0.5758  | 37.828  33.113  0.000  0.000  0.000  0.000  0.000  0.000\n"
                       "            4  |         0.0097  | 37.828  33.113  25.829  24.209  0.000  0.000  0.000  0.000\n"
                       "           16  |         0.0069  | 37.828  33.113  25.829  24.209  0.145  0.138  0.134  0.129\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("noise floor"), std::string::npos);
  EXPECT_EQ(r.err, "");
}

TEST(DemoCli, JsonHasTheDocumentedFields) {
  const auto r = run_lorank({"demo", "--json", "--ranks", "2,4", "--steps", "500"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["params"]["dim"], 64);
  EXPECT_EQ(j["params"]["ranks"], (std::vector<int>{2, 4}));
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["rank"], 2);
  EXPECT_EQ(j["rows"][1]["singular_values"].size(), 4u);
  EXPECT_TRUE(j["rows"][0]["rel_err"].is_number());
  EXPECT_EQ(j["noise_floor"].size(), 64u);
}

TEST(DemoCli, BadFlagsGiveOneErrorLineAndExitTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"demo", "--ranks", "0"},        {"demo", "--ranks", "2,65"}, {"demo", "--ranks", "2,x"},
      {"demo", "--ranks", ""},         {"demo", "--steps", "0"},    {"demo", "--steps", "-3"},
      {"demo", "--lr", "0"},           {"demo", "--lr", "-0.1"},    {"demo", "--lr", "abc"},
      {"demo", "--steps", "1.5"},      {"demo", "--dim", "zero"},   {"demo", "--bogus"},
      {"demo", "--seed", "-1"},        {"demo", "--seed", "4294967296"},
      {"demo", "--true-rank", "100"},  {"demo", "--noise", "-1"},   {"nosuchcommand"},
      {},
  };
  for (const auto& args : bad) {
    const auto r = run_lorank(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("lorank: error: ", 0), 0u) << joined << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << joined << "\n" << r.err;
    EXPECT_EQ(r.out, "") << joined;
  }
}

TEST(DemoCli, HelpDocumentsEveryFlag) {
  const auto r = run_lorank({"demo", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  for (const char* flag : {"--dim", "--true-rank", "--ranks", "--steps", "--lr", "--noise",
                           "--seed", "--init-seed", "--threads", "--json"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST(Cli, VersionAndTopLevelHelp) {
  const auto v = run_lorank({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("lorank ", 0), 0u) << v.out;
  const auto h = run_lorank({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("demo"), std::string::npos);
}

}  // namespace
}  // namespace lorank
