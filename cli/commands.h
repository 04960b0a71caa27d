// Subcommand registration for the lorank CLI. Each command lives in cli/cmd_<name>.cc:
// it declares its flags, calls one library function, and prints.
#ifndef LORANK_CLI_COMMANDS_H_
#define LORANK_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lorank/adapter.h"
#include "lorank/files.h"
#include "lorank/status.h"

namespace lorank::cli {

// Exit codes, documented in docs/cli.md and in every --help (kExitCodesHelp).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // bad data, or an operation that failed
inline constexpr int kExitUsage = 2;     // bad command line (kInvalidArgument)
inline constexpr int kExitInternal = 3;  // a bug in lorank (kInternal, an escaped exception)
inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 success; 1 bad data or a failed operation; 2 usage error (bad command line); "
    "3 internal error (a bug in lorank; please report it).";

class CommandRegistry {
 public:
  // `run` executes after parsing succeeded, if `sub` was the selected subcommand.
  void add(CLI::App* sub, std::function<int()> run) { commands_.emplace_back(sub, std::move(run)); }
  int run_selected(const CLI::App& app) const;

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands_;
};

// Prints `lorank: <kind>: <line>` to stderr for each line ("warning", "note"), escaped for
// the terminal.
void print_messages(const std::vector<std::string>& lines, std::string_view kind);

// An existing --html target that --overwrite may replace: an HTML page (lorank's reports
// start with <!DOCTYPE html>).
bool looks_like_html(std::span<const std::byte> head);

// Writes `adapter` to `out` (--overwrite as given) after `verify` (unless --no-verify, i.e.
// !verify_output) accepted the hidden temp output; kExitOk, or the failure reported.
int write_verified_adapter(const Adapter& adapter, const std::string& out, bool overwrite,
                           bool verify_output, BeforePublish verify);

// Prints `lorank: error: <message>` to stderr and returns kExitUsage.
int usage_error(std::string_view message);
// Prints `lorank: error: <status>` to stderr and returns its exit code: kExitUsage for
// kInvalidArgument (the caller's options), kExitInternal for kInternal (with a plea for a
// report, as report_internal_error() does), kExitFailure for everything else.
int report_failure(const Status& status);
// Prints `lorank: error: internal error: <what> (this is a bug in lorank; please report
// it)` to stderr and returns kExitInternal.
int report_internal_error(std::string_view what);

// "2,4,16" → {2, 4, 16}; kInvalidArgument naming `flag` for an item that is not a whole
// decimal number (spaces around items are allowed).
Result<std::vector<int>> parse_int_list(const std::string& text, std::string_view flag);
// "1,0.5,-1" → {1, 0.5, -1}: plain decimals only (no hex, inf or nan), as every number
// lorank reads; kInvalidArgument naming `flag` otherwise.
Result<std::vector<double>> parse_decimal_list(const std::string& text, std::string_view flag);

// Makes every integer and floating-point option of `app` and its subcommands accept plain
// decimal only: "16", "-3", "0.5", "1e-3". CLI11 alone would read "0x10" as 16, "010" as 8,
// "-1" as 2^64-1 for an unsigned flag, and "inf", "nan" or "0x1p4" as floats. A rejected value
// is a parse error: `--rank: expected a whole number in decimal, got '0x10'`, exit 2.
// Call once, after every command is registered.
void require_decimal_numbers(CLI::App& app);

// A one-line explanation of a command-line parsing failure, ending with a hint.
std::string describe_parse_error(const CLI::App& app, int argc, char** argv,
                                 const CLI::ParseError& error);

void register_demo(CLI::App& app, CommandRegistry& registry);
void register_audit(CLI::App& app, CommandRegistry& registry);
void register_experiment(CLI::App& app, CommandRegistry& registry);
void register_compare(CLI::App& app, CommandRegistry& registry);
void register_resize(CLI::App& app, CommandRegistry& registry);
void register_merge(CLI::App& app, CommandRegistry& registry);
void register_combine(CLI::App& app, CommandRegistry& registry);
void register_extract(CLI::App& app, CommandRegistry& registry);
void register_doctor(CLI::App& app, CommandRegistry& registry);

}  // namespace lorank::cli

#endif  // LORANK_CLI_COMMANDS_H_
