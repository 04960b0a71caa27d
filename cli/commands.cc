#include "cli/commands.h"
#include "lorank/terminal_text.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace lorank::cli {

int CommandRegistry::run_selected(const CLI::App& app) const {
  for (const auto& [sub, run] : commands_) {
    if (sub->parsed()) return run();
  }
  return usage_error("no command given (try --help)");
}

Result<std::vector<int>> parse_int_list(const std::string& text, std::string_view flag) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find(',', pos), text.size());
    std::string item = text.substr(pos, end - pos);
    const std::size_t first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    int value = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      return invalid_argument("{}: '{}' is not a whole number (expected a list like 2,4,16)", flag,
                              item);
    }
    out.push_back(value);
    pos = end + 1;
  }
  return out;
}

std::string describe_parse_error(const CLI::App& app, int argc, char** argv,
                                 const CLI::ParseError& error) {
  // CLI11 says "A subcommand is required" for a misspelt command too: name it instead.
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    known = known || (argc >= 2 && sub->get_name() == argv[1]);
  }
  if (argc >= 2 && argv[1][0] != '-' && !known) {
    return fmt::format("unknown command '{}' (try 'lorank --help')", argv[1]);
  }
  return fmt::format("{} (try 'lorank{} --help')", error.what(),
                     argc >= 2 && argv[1][0] != '-' ? std::string(" ") + argv[1] : "");
}

int usage_error(std::string_view message) {
  fmt::print(stderr, "lorank: error: {}\n", escape_for_terminal(message));
  std::fflush(stderr);
  return kExitUsage;
}

int report_failure(const Status& status) {
  fmt::print(stderr, "lorank: error: {}\n", escape_for_terminal(status.to_string()));
  std::fflush(stderr);
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

}  // namespace lorank::cli
