// Which instruction-set variant of lorank's hot kernels runs, and what the machine is.
//
// The portable build compiles each hot kernel (src/*/*_kernel.cc) three times: for
// baseline x86-64 ("generic", SSE2), for x86-64-v3 ("avx2": AVX2 + FMA) and for x86-64-v4
// ("avx512": AVX-512 F/BW/CD/DQ/VL). The first kernel call picks the best variant the CPU
// supports, or the one the environment variable LORANK_KERNELS names
// (generic | avx2 | avx512), so that a user on an AVX-512 machine can reproduce an AVX2
// user's numbers. docs/kernels.md says which variant may differ from which in its bits.
#ifndef LORANK_KERNELS_H_
#define LORANK_KERNELS_H_

#include <string>
#include <string_view>
#include <vector>

#include "lorank/status.h"

namespace lorank {

enum class KernelLevel { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };
inline constexpr KernelLevel kAllKernelLevels[] = {KernelLevel::kGeneric, KernelLevel::kAvx2,
                                                   KernelLevel::kAvx512};

// "generic", "avx2", "avx512": the names LORANK_KERNELS accepts.
std::string_view kernel_level_name(KernelLevel level);

// The highest level this CPU (and its operating system's register saving) supports.
KernelLevel cpu_kernel_level();
inline bool cpu_supports(KernelLevel level) { return level <= cpu_kernel_level(); }

// The level every dispatched kernel uses in this process, decided once: LORANK_KERNELS if
// it names a level the CPU supports, else cpu_kernel_level(). Never a level the CPU lacks.
KernelLevel active_kernel_level();

// OK when LORANK_KERNELS is unset or empty, or names a supported level. Otherwise
// kInvalidArgument saying why (unknown name, or a level this CPU lacks): the kernels then
// run at cpu_kernel_level(), and the CLI refuses to start (exit 2).
Status kernel_override_status();

// Runs `f` with the dispatched kernels forced to `level` (for tests and benchmarks that
// compare variants in one process); REQUIRES cpu_supports(level). Not thread-safe with
// concurrent kernel calls.
class ScopedKernelLevel {
 public:
  explicit ScopedKernelLevel(KernelLevel level);
  ~ScopedKernelLevel();
  ScopedKernelLevel(const ScopedKernelLevel&) = delete;
  ScopedKernelLevel& operator=(const ScopedKernelLevel&) = delete;

 private:
  KernelLevel saved_;
};

// What `lorank doctor` prints.
struct KernelChoice {
  std::string kernel;   // e.g. "fit/factor products (linalg/product_kernel.cc)"
  std::string variant;  // e.g. "avx512"
};
struct RuntimeReport {
  std::string cpu_model;                  // the CPUID brand string, "unknown" if absent
  std::vector<std::string> isa;           // detected features that matter to lorank
  KernelLevel cpu_level;                  // best supported
  KernelLevel active_level;               // in use (after LORANK_KERNELS)
  std::string kernels_env;                // LORANK_KERNELS as set ("" if unset)
  std::vector<KernelChoice> kernels;      // every dispatched kernel and its variant
  std::string blas_config;                // openblas_get_config()
  int blas_threads = 1;                   // OpenBLAS's current thread count
  unsigned workers = 1;                   // lorank's default pool size (default_threads())
  std::string threads_env;                // LORANK_NUM_THREADS as set ("" if unset)
};
RuntimeReport runtime_report();

}  // namespace lorank

#endif  // LORANK_KERNELS_H_
