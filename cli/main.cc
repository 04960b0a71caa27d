// The `lorank` command: parses the command line, dispatches to one subcommand, and owns
// exit codes and streams (results on stdout, diagnostics on stderr). Exit codes:
//   0 success, 1 bad data or a failed operation, 2 usage error, 3 internal error (a bug).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <exception>

#include "cli/commands.h"
#include "lorank/files.h"
#include "lorank/kernels.h"
#include "lorank/parallel.h"
#include "lorank/version.h"

namespace {

// Every result goes to stdout: a full disk or a closed pipe there must not look like
// success. One check after the command (and after CLI11's --help/--version, which print
// through std::cout, synced with stdout): flush, the stream's error flag, and fclose.
int check_stdout(int code) {
  errno = 0;
  int err = std::fflush(stdout) != 0 ? errno : 0;
  const bool failed_before = std::ferror(stdout) != 0;
  if (std::fclose(stdout) != 0 && err == 0) err = errno;
  if (err == 0 && !failed_before) return code;
  // An earlier failed write set the flag; its errno is gone, and ENOSPC is by far the most
  // likely (a pipe's EPIPE ends the process by SIGPIPE first).
  std::fprintf(stderr, "lorank: error: error writing to stdout: %s\n",
               std::strerror(err != 0 ? err : ENOSPC));
  return code == 0 ? 1 : code;
}

int run_lorank(int argc, char** argv);

}  // namespace

int main(int argc, char** argv) { return check_stdout(run_lorank(argc, argv)); }

namespace {

int run_lorank(int argc, char** argv) {
  lorank::remove_unfinished_outputs_on_interrupt();
  CLI::App app{"lorank: audit, resize, merge, combine, extract and experiment with LoRA adapters", "lorank"};
  app.set_version_flag("--version", std::string("lorank ") + LORANK_VERSION_STRING);
  app.require_subcommand(1);
  app.footer(lorank::cli::kExitCodesHelp);  // before the subcommands: they inherit it
  lorank::cli::CommandRegistry registry;
  lorank::cli::register_demo(app, registry);
  lorank::cli::register_audit(app, registry);
  lorank::cli::register_experiment(app, registry);
  lorank::cli::register_compare(app, registry);
  lorank::cli::register_resize(app, registry);
  lorank::cli::register_merge(app, registry);
  lorank::cli::register_combine(app, registry);
  lorank::cli::register_extract(app, registry);
  lorank::cli::register_doctor(app, registry);
  lorank::cli::require_decimal_numbers(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return lorank::cli::usage_error(lorank::cli::describe_parse_error(app, argc, argv, e));
  }
  // A LORANK_KERNELS the CPU cannot honour would silently give other numbers than asked
  // for; doctor reports it instead of refusing.
  if (const lorank::Status s = lorank::kernel_override_status(); !s.ok() && !app.got_subcommand("doctor")) {
    return lorank::cli::usage_error(s.message());
  }
  // The library ignores an unusable LORANK_NUM_THREADS (one thread per core); the command
  // refuses it, so that a typo is not silently a different thread count.
  if (const char* env = std::getenv("LORANK_NUM_THREADS");
      env != nullptr && !lorank::parse_thread_count(env) && !app.got_subcommand("doctor")) {
    return lorank::cli::usage_error(fmt::format(
        "LORANK_NUM_THREADS='{}' is not a thread count (1 to 1024)", env));
  }
  try {
    return registry.run_selected(app);
  } catch (const std::exception& e) {
    // Safety net only: library code reports failures as Status values.
    return lorank::cli::report_internal_error(e.what());
  } catch (...) {
    return lorank::cli::report_internal_error("an exception that is not a std::exception");
  }
}

}  // namespace
