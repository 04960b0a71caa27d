#include "support/shared_data.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lorank::testing {

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("LORANK_SHARED_DIR"); env && *env) return env;
  return LORANK_SHARED_DIR;
}

std::filesystem::path shared_path(const std::string& relative) {
  std::filesystem::path p = shared_dir() / relative;
  if (!std::filesystem::exists(p)) {
    ADD_FAILURE() << "required test data is missing: " << p
                  << " (the shared/ folder must sit beside the checkout, or set LORANK_SHARED_DIR)";
    std::abort();  // fail loudly: never let a test pass or skip without its oracle
  }
  return p;
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace lorank::testing
