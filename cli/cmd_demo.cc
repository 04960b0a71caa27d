// `lorank demo`: placeholder until the fit engine lands (issue 2).
#include "cli/commands.h"

namespace lorank::cli {

void register_demo(CLI::App& app, CommandRegistry& registry) {
  CLI::App* sub = app.add_subcommand("demo", "Reproduce the explainer's rank demo");
  registry.add(sub, [] { return report_failure(internal_error("demo: not implemented yet")); });
}

}  // namespace lorank::cli
