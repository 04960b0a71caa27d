// lorank/kernels.h's runtime_report(): what `lorank doctor` prints. Here (not in core/)
// because it asks OpenBLAS for its configuration.
#include <cblas.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "linalg/lapack.h"
#include "lorank/kernels.h"
#include "lorank/parallel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace lorank {
namespace {

// The CPUID brand string (leaves 0x80000002..4), e.g. "AMD EPYC 9R14 96-Core Processor".
std::string cpu_brand() {
  std::string brand;
#if defined(__x86_64__) || defined(__i386__)
  unsigned regs[12] = {};
  if (static_cast<unsigned>(__get_cpuid_max(0x80000000u, nullptr)) >= 0x80000004u) {
    for (unsigned leaf = 0; leaf < 3; ++leaf) {
      __get_cpuid(0x80000002u + leaf, &regs[4 * leaf], &regs[4 * leaf + 1], &regs[4 * leaf + 2],
                  &regs[4 * leaf + 3]);
    }
    char text[sizeof regs + 1] = {};
    std::memcpy(text, regs, sizeof regs);
    brand = text;
  }
#endif
  const auto first = brand.find_first_not_of(' ');
  if (first == std::string::npos) return "unknown";
  brand = brand.substr(first, brand.find_last_not_of(' ') - first + 1);
  return brand;
}

std::vector<std::string> isa_features() {
  std::vector<std::string> found;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define LORANK_FEATURE(name) \
  if (__builtin_cpu_supports(name)) found.emplace_back(name);
  LORANK_FEATURE("sse2")
  LORANK_FEATURE("sse4.2")
  LORANK_FEATURE("avx")
  LORANK_FEATURE("avx2")
  LORANK_FEATURE("fma")
  {  // clang 14 does not name f16c in __builtin_cpu_supports: CPUID leaf 1, ECX bit 29.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0) found.emplace_back("f16c");
  }
  LORANK_FEATURE("avx512f")
  LORANK_FEATURE("avx512dq")
  LORANK_FEATURE("avx512bw")
  LORANK_FEATURE("avx512vl")
  LORANK_FEATURE("avx512bf16")
#undef LORANK_FEATURE
#endif
  return found;
}

}  // namespace

RuntimeReport runtime_report() {
  RuntimeReport r;
  r.cpu_model = cpu_brand();
  r.isa = isa_features();
  r.cpu_level = cpu_kernel_level();
  r.active_level = active_kernel_level();
  if (const char* env = std::getenv("LORANK_KERNELS")) r.kernels_env = env;
  const std::string variant(kernel_level_name(r.active_level));
  r.kernels = {
      {"fit step and factor products (linalg/product_kernel.cc)", variant},
      {"Gram matrices and CholeskyQR2 solve (linalg/product_kernel.cc)", variant},
      {"factor widening BF16/F16/F32 -> F64 (linalg/widen_kernel.cc)", variant},
      {"tensor conversion to and from F64 (core/convert_kernel.cc)", variant},
      {"merge update W + s*B*A (merge/update_rows_exact.cc)", variant},
      {"Cholesky, Householder QR, r x r SVD", "OpenBLAS/LAPACK"},
  };
  r.blas_config = openblas_get_config();
  r.blas_threads = linalg::blas_threads();
  r.workers = default_threads();
  if (const char* env = std::getenv("LORANK_NUM_THREADS")) r.threads_env = env;
  return r;
}

}  // namespace lorank
