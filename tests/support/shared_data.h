// Locating ../shared (fixtures and real adapters) from tests. Tests that need it fail
// loudly, never skip, when it is missing.
#ifndef LORANK_TESTS_SUPPORT_SHARED_DATA_H_
#define LORANK_TESTS_SUPPORT_SHARED_DATA_H_

#include <filesystem>
#include <string>

namespace lorank::testing {

// The shared/ folder: $LORANK_SHARED_DIR if set, else the path CMake was configured with.
std::filesystem::path shared_dir();

// shared_dir() / relative, after asserting it exists (a fatal gtest failure otherwise,
// with a message naming the missing path).
std::filesystem::path shared_path(const std::string& relative);

// Reads a whole text file; fails the test if it cannot.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_SHARED_DATA_H_
