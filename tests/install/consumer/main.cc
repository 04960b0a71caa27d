// Calls the installed library: a spectrum with a known answer, an error reported as a
// Status, and the version the headers were installed with. Exit 0 only if all agree.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "lorank/spectrum.h"
#include "lorank/status.h"
#include "lorank/version.h"

int main() {
  if (std::strcmp(LORANK_VERSION_STRING, LORANK_EXPECTED_VERSION) != 0) {
    std::fprintf(stderr, "consumer: headers say lorank %s, expected %s\n", LORANK_VERSION_STRING,
                 LORANK_EXPECTED_VERSION);
    return 1;
  }
  // B (3×2) has orthogonal columns of norm √2 and A (2×4) orthogonal rows of norms 1 and 2,
  // so σ(0.5·B·A) = 0.5·√2·{2, 1} = {√2, √2/2}.
  const std::vector<double> b = {1, 1,   //
                                 1, -1,  //
                                 0, 0};
  const std::vector<double> a = {1, 0, 0, 0,  //
                                 0, 0, 2, 0};
  auto values = lorank::lora_singular_values(b, a, lorank::LoraShape{3, 2, 4}, 0.5);
  if (!values) {
    std::fprintf(stderr, "consumer: %s\n", values.error().to_string().c_str());
    return 1;
  }
  const double expected[] = {std::sqrt(2.0), std::sqrt(2.0) / 2};
  if (values->size() != 2 || std::fabs((*values)[0] - expected[0]) > 1e-14 ||
      std::fabs((*values)[1] - expected[1]) > 1e-14) {
    std::fprintf(stderr, "consumer: wrong spectrum (%zu values)\n", values->size());
    return 1;
  }
  // A shape that does not match the data is a Status, not a crash.
  auto bad = lorank::lora_singular_values(b, a, lorank::LoraShape{3, 3, 4}, 1.0);
  if (bad || bad.error().code() != lorank::StatusCode::kInvalidData) {
    std::fprintf(stderr, "consumer: a mismatched shape was not reported as invalid data\n");
    return 1;
  }
  std::printf("consumer: lorank %s, spectrum %.17g %.17g, mismatched shape: %s\n",
              LORANK_VERSION_STRING, (*values)[0], (*values)[1], bad.error().message().c_str());
  return 0;
}
