// `lorank doctor` and the LORANK_KERNELS override, through the built binary.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "lorank/kernels.h"
#include "support/run_command.h"

namespace lorank {
namespace {

using testing::run_lorank;

// Sets LORANK_KERNELS for the child processes of one test.
class KernelsEnv {
 public:
  explicit KernelsEnv(const std::string& value) { setenv("LORANK_KERNELS", value.c_str(), 1); }
  ~KernelsEnv() { unsetenv("LORANK_KERNELS"); }
};

TEST(DoctorCli, PrintsCpuKernelsBlasAndWorkers) {
  const auto r = run_lorank({"doctor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* field : {"cpu:", "isa:", "kernel level:", "blas:", "workers:", "product_kernel.cc"}) {
    EXPECT_NE(r.out.find(field), std::string::npos) << field << "\n" << r.out;
  }
  const std::string level(kernel_level_name(cpu_kernel_level()));
  EXPECT_NE(r.out.find("kernel level: " + level), std::string::npos) << r.out;
}

TEST(DoctorCli, JsonNamesTheForcedLevel) {
  KernelsEnv env("generic");
  const auto r = run_lorank({"doctor", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"active_level\": \"generic\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"lorank_kernels_env\": \"generic\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"threads\":"), std::string::npos) << r.out;
}

TEST(DoctorCli, HelpNamesTheOverride) {
  const auto r = run_lorank({"doctor", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("LORANK_KERNELS"), std::string::npos) << r.out;
}

TEST(DoctorCli, UnknownLevelIsAUsageErrorExceptForDoctor) {
  KernelsEnv env("sse9");
  const auto demo = run_lorank({"demo", "--steps", "1"});
  EXPECT_EQ(demo.exit_code, 2);
  EXPECT_EQ(demo.err, "lorank: error: LORANK_KERNELS=sse9: expected generic, avx2 or avx512\n");
  EXPECT_EQ(demo.out, "");
  const auto doctor = run_lorank({"doctor"});
  EXPECT_EQ(doctor.exit_code, 0);
  EXPECT_EQ(doctor.err,
            "lorank: warning: LORANK_KERNELS=sse9: expected generic, avx2 or avx512 (ignored)\n");
}

// Sets LORANK_NUM_THREADS for the child processes of one test.
class ThreadsEnv {
 public:
  explicit ThreadsEnv(const std::string& value) { setenv("LORANK_NUM_THREADS", value.c_str(), 1); }
  ~ThreadsEnv() { unsetenv("LORANK_NUM_THREADS"); }
};

TEST(DoctorCli, ThreadCountFromTheEnvironment) {
  {
    ThreadsEnv env("1");
    const auto r = run_lorank({"doctor", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\"workers\": 1,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"lorank_num_threads_env\": \"1\""), std::string::npos) << r.out;
  }
  for (const char* bad : {"0", "abc", "1025", "-2", "2x"}) {
    ThreadsEnv env(bad);
    const auto demo = run_lorank({"demo", "--steps", "1"});
    EXPECT_EQ(demo.exit_code, 2) << bad;
    EXPECT_EQ(demo.err, std::string("lorank: error: LORANK_NUM_THREADS='") + bad +
                            "' is not a thread count (1 to 1024)\n");
    EXPECT_EQ(demo.out, "");
    const auto doctor = run_lorank({"doctor"});
    EXPECT_EQ(doctor.exit_code, 0) << bad;
    EXPECT_NE(doctor.out.find("is not a count"), std::string::npos) << doctor.out;
  }
}

// The demo's printed digits (default parameters) are the same under every variant the CPU
// can run: generic rounds differently from the FMA variants, but not in printed digits.
TEST(DoctorCli, DemoDigitsAreIdenticalUnderEveryKernelVariant) {
  std::string reference;
  for (KernelLevel level : kAllKernelLevels) {
    if (!cpu_supports(level)) continue;
    KernelsEnv env(std::string(kernel_level_name(level)));
    const auto r = run_lorank({"demo"});
    ASSERT_EQ(r.exit_code, 0) << kernel_level_name(level) << ": " << r.err;
    ASSERT_FALSE(r.out.empty());
    if (reference.empty()) {
      reference = r.out;
    } else {
      EXPECT_EQ(r.out, reference) << kernel_level_name(level);
    }
  }
}

}  // namespace
}  // namespace lorank
