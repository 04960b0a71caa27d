// Subcommand registration for the lorank CLI. Each command lives in cli/cmd_<name>.cc:
// it declares its flags, calls one library function, and prints.
#ifndef LORANK_CLI_COMMANDS_H_
#define LORANK_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lorank/status.h"

namespace lorank::cli {

// Exit codes, documented in docs/cli.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

class CommandRegistry {
 public:
  // `run` executes after parsing succeeded, if `sub` was the selected subcommand.
  void add(CLI::App* sub, std::function<int()> run) { commands_.emplace_back(sub, std::move(run)); }
  int run_selected(const CLI::App& app) const;

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands_;
};

// Prints `lorank: error: <message>` to stderr and returns kExitUsage.
int usage_error(std::string_view message);
// Prints `lorank: error: <status>` to stderr and returns kExitFailure (or kExitUsage for
// kInvalidArgument, which only the command line can cause at this level).
int report_failure(const Status& status);

// "2,4,16" → {2, 4, 16}; kInvalidArgument naming `flag` for an item that is not a whole
// decimal number (spaces around items are allowed).
Result<std::vector<int>> parse_int_list(const std::string& text, std::string_view flag);

// A one-line explanation of a command-line parsing failure, ending with a hint.
std::string describe_parse_error(const CLI::App& app, int argc, char** argv,
                                 const CLI::ParseError& error);

void register_demo(CLI::App& app, CommandRegistry& registry);
void register_audit(CLI::App& app, CommandRegistry& registry);
void register_experiment(CLI::App& app, CommandRegistry& registry);
void register_compare(CLI::App& app, CommandRegistry& registry);
void register_resize(CLI::App& app, CommandRegistry& registry);

}  // namespace lorank::cli

#endif  // LORANK_CLI_COMMANDS_H_
