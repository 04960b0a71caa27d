#include "cli/commands.h"

#include <fmt/core.h>

#include <cstdio>

namespace lorank::cli {

int CommandRegistry::run_selected(const CLI::App& app) const {
  for (const auto& [sub, run] : commands_) {
    if (sub->parsed()) return run();
  }
  return usage_error("no command given (try --help)");
}

int usage_error(std::string_view message) {
  fmt::print(stderr, "lorank: error: {}\n", message);
  std::fflush(stderr);
  return kExitUsage;
}

int report_failure(const Status& status) {
  fmt::print(stderr, "lorank: error: {}\n", status.to_string());
  std::fflush(stderr);
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

}  // namespace lorank::cli
