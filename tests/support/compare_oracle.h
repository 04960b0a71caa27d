// Helpers for the compare tests: random LoRA factors, writing them as PEFT adapters, and
// the dense NumPy oracle (tests/compare/compare_oracle.py).
#ifndef LORANK_TESTS_SUPPORT_COMPARE_ORACLE_H_
#define LORANK_TESTS_SUPPORT_COMPARE_ORACLE_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lorank/compare.h"

namespace lorank::testing {

// One module's factors, row-major: B out×r, A r×in.
struct Factors {
  std::size_t out = 0, r = 0, in = 0;
  std::vector<double> B, A;
};

// N(0, 1) factors from std::mt19937_64(seed), rounded to float so that the float32 file
// and the oracle see the same numbers.
Factors random_factors(std::size_t out, std::size_t r, std::size_t in, std::uint64_t seed);

// Writes a PEFT adapter folder `dir` (created) with modules "base_model.model.<name>" of
// rank r and the config {"r": r, "lora_alpha": alpha}. REQUIRES every module has rank r.
void write_peft(const std::filesystem::path& dir,
                const std::vector<std::pair<std::string, Factors>>& modules, std::size_t r,
                double alpha);

struct OracleResult {
  std::size_t rank_a = 0, rank_b = 0;
  std::vector<std::vector<double>> phi;
};

// Runs the dense NumPy oracle on s_a·B_a·A_a vs s_b·B_b·A_b. Fails the test (fatally for
// the caller via HasFatalFailure) when python3/NumPy is missing.
OracleResult numpy_oracle(const Factors& a, double scale_a, const Factors& b, double scale_b,
                          CompareSide side, const std::filesystem::path& scratch);

}  // namespace lorank::testing

#endif  // LORANK_TESTS_SUPPORT_COMPARE_ORACLE_H_
