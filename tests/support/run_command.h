// Running a program from a test and capturing its exit code, stdout and stderr.
#ifndef LORANK_TESTS_SUPPORT_RUN_COMMAND_H_
#define LORANK_TESTS_SUPPORT_RUN_COMMAND_H_

#include <string>
#include <vector>

namespace lorank::testing {

struct CommandOutput {
  int exit_code = -1;  // -1 if the program could not run or died from a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with argv, no shell, stdin from /dev/null.
CommandOutput run_command(const std::vector<std::string>& argv);

// run_command({LORANK_CLI_PATH, args...}).
CommandOutput run_lorank(const std::vector<std::string>& args);

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_RUN_COMMAND_H_
