// The CLI's shared helpers without a process: the exit code of every Status code (exit 3,
// an internal error, has no command line that reaches it on purpose), and the
// decimal-only number rule every integer and float flag goes through.
#include "cli/commands.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lorank::cli {
namespace {

int exit_code_of(const Status& s, std::string* err) {
  ::testing::internal::CaptureStderr();
  const int code = report_failure(s);
  *err = ::testing::internal::GetCapturedStderr();
  return code;
}

TEST(ExitCodes, EachStatusCodeHasOneMeaning) {
  std::string err;
  EXPECT_EQ(exit_code_of(invalid_argument("--tau must be in (0, 1], got 2"), &err), kExitUsage);
  EXPECT_EQ(err, "lorank: error: --tau must be in (0, 1], got 2\n");
  EXPECT_EQ(exit_code_of(invalid_data("module 'q': B has 3 columns"), &err), kExitFailure);
  EXPECT_EQ(err, "lorank: error: module 'q': B has 3 columns\n");
  for (const Status& s : {corruption("x"), not_found("x"), not_supported("x"), io_error("x"),
                          numerical_error("x")}) {
    EXPECT_EQ(exit_code_of(s, &err), kExitFailure) << status_code_name(s.code());
    EXPECT_EQ(err, "lorank: error: x\n");
  }
}

TEST(ExitCodes, InternalErrorIsThreeAndAsksForAReport) {
  std::string err;
  EXPECT_EQ(exit_code_of(internal_error("verify 'o': 3 modules written, 4 expected"), &err), 3);
  EXPECT_EQ(err, "lorank: error: internal error: verify 'o': 3 modules written, 4 expected "
                 "(this is a bug in lorank; please report it)\n");
  // main()'s catch-all for an exception that escaped a command.
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(report_internal_error("std::bad_alloc"), kExitInternal);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "lorank: error: internal error: std::bad_alloc (this is a bug in lorank; please "
            "report it)\n");
}

// Parses `value` as the only option of a one-flag app of type T, through the same rule as
// the real commands; the error text or "" and the parsed value.
template <typename T>
std::pair<std::string, T> parse_flag(const std::string& value) {
  CLI::App app;
  T out{};
  app.add_option("--n", out);
  require_decimal_numbers(app);
  std::vector<std::string> args{"lorank", "--n", value};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return {e.what(), T{}};
  }
  return {"", out};
}

TEST(DecimalNumbers, IntegersAreDecimalOnly) {
  EXPECT_EQ(parse_flag<int>("16"), (std::pair<std::string, int>{"", 16}));
  EXPECT_EQ(parse_flag<int>("-3"), (std::pair<std::string, int>{"", -3}));
  // CLI11 alone reads a leading 0 as octal: 010 would be 8.
  EXPECT_EQ(parse_flag<int>("010"), (std::pair<std::string, int>{"", 10}));
  EXPECT_EQ(parse_flag<int>("0"), (std::pair<std::string, int>{"", 0}));
  EXPECT_EQ(parse_flag<std::optional<int>>("0x10").first,
            "--n: expected a whole number in decimal, got '0x10'");
  for (const char* bad : {"0x10", "0b101", "1e3", "1.0", " 5", "5 ", "+5", "1_000", "", "-", "0X1F"}) {
    EXPECT_EQ(parse_flag<int>(bad).first,
              std::string("--n: expected a whole number in decimal, got '") + bad + "'")
        << bad;
  }
}

TEST(DecimalNumbers, UnsignedRefusesASign) {
  EXPECT_EQ(parse_flag<unsigned>("4"), (std::pair<std::string, unsigned>{"", 4u}));
  EXPECT_EQ(parse_flag<std::uint64_t>("0007").second, 7u);
  // strtoull would turn -1 into 2^64-1.
  EXPECT_EQ(parse_flag<std::uint64_t>("-1").first,
            "--n: expected a whole number >= 0 in decimal, got '-1'");
  EXPECT_EQ(parse_flag<unsigned>("0x2").first,
            "--n: expected a whole number >= 0 in decimal, got '0x2'");
}

TEST(DecimalNumbers, FloatsAreDecimalOrExponentOnly) {
  for (const char* good : {"0.5", "-0.5", ".5", "5.", "1e-3", "1E+3", "2", "007.5"}) {
    EXPECT_EQ(parse_flag<double>(good).first, "") << good;
  }
  EXPECT_DOUBLE_EQ(parse_flag<double>("1e-3").second, 1e-3);
  EXPECT_DOUBLE_EQ(parse_flag<std::optional<double>>("010").second.value_or(0), 10.0);
  for (const char* bad : {"inf", "-inf", "nan", "NaN", "infinity", "0x1p4", "0x10", "1e", "e5",
                          ".", "1.2.3", "1e3.5", "1,5", "+1.5", ""}) {
    EXPECT_EQ(parse_flag<double>(bad).first,
              std::string("--n: expected a decimal number (like 0.5 or 1e-3), got '") + bad + "'")
        << bad;
  }
}

TEST(DecimalNumbers, ListsAreCheckedItemByItem) {
  CLI::App app;
  std::vector<double> lrs;
  app.add_option("--lrs", lrs)->delimiter(',');
  require_decimal_numbers(app);
  std::vector<std::string> args{"lorank", "--lrs", "0.1,0x1p-3"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  EXPECT_THROW(app.parse(static_cast<int>(argv.size()), argv.data()), CLI::ValidationError);
}

}  // namespace
}  // namespace lorank::cli
