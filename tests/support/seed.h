// Seeds for randomised tests: $LORANK_SEED if set (to replay a failure), else a fresh
// random seed. The seed is printed so that any failure can be reproduced.
#ifndef LORANK_TESTS_SUPPORT_SEED_H_
#define LORANK_TESTS_SUPPORT_SEED_H_

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

namespace lorank::testing {

inline uint64_t test_seed(const std::string& test_name) {
  uint64_t seed = 0;
  if (const char* env = std::getenv("LORANK_SEED"); env && *env) {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  }
  std::cout << "[ seed     ] " << test_name << ": LORANK_SEED=" << seed << "\n";
  return seed;
}

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_SEED_H_
